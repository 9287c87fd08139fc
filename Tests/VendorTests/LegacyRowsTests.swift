import AzureTables
import Foundation
import HTTPTransport
import IPAMCore
import Inventory
import StrictJSON
import TestSupport
import Testing
import VendorDomain
import VendorHTTP

/// Rows written before sessions recorded their owner and before quotas counted principals keep working: a
/// session row without `OwnerKey` is bound by its lease's owner, and a counter keyed by a requester in clear
/// keeps counting the leases charged to it until they end.
@Suite("Rows from before principals carried their kind")
struct LegacyRowsTests {
    static let partition = "\(SampleConfiguration.subscription)_eastus"

    static func call(_ method: String, _ url: String, key: String, _ body: String? = nil) async throws -> HTTPAnswer {
        try await HTTPCalls.send(method, url, body: body, headers: ["x-functions-key": key], timeout: .seconds(60))
    }

    @Test(
        "a session row without OwnerKey, read by a Vendor that never saw it: another caller is refused by the lease's owner, the owner is answered"
    )
    func sessionWithoutOwner() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let storage = try await stack.startStorage()
        var environment = SampleConfiguration.environment(
            table: TestStorage.uniqueName("legacy"), connectionString: storage)
        environment["VENDOR_API_KEYS"] = "alice=alice-key-1,bob=bob-key-1"
        let a = try await stack.startVendor(environment: environment)
        let created = try await Self.call(
            "POST", a + "/api/getNewNetwork", key: "alice-key-1", #"{"SessionId":"old-1"}"#)
        let leaseId = try #require(created.string("leaseId"), "\(created.text)")
        // The session row as a Vendor of before wrote it: no OwnerKey.
        let table = try TableServiceClient(connectionString: storage, transport: TestStorage.transport).table(
            environment["IPAM_TABLE_NAME"]!)
        var session = try #require(try await table.get(partitionKey: Self.partition, rowKey: RowKeys.session("old-1")))
        #expect(
            session["OwnerKey"]?.stringValue
                == PrincipalRedactor(salt: SampleConfiguration.auditSalt).principal("alice").key,
            "new rows record their owner")
        session.properties.removeValue(forKey: "OwnerKey")
        _ = try await table.replace(session, ifMatch: .any)

        let b = try await stack.startVendor(environment: environment)
        for (method, path, body) in [
            ("POST", "/api/getNewNetwork", #"{"SessionId":"old-1"}"#),
            ("POST", "/api/releaseNetwork", #"{"SessionId":"old-1"}"#),
            ("GET", "/api/sessions/old-1", nil),
        ] {
            let refused = try await Self.call(method, b + path, key: "bob-key-1", body)
            #expect(
                refused.status == 409 && refused.code == "SessionOwnedByAnother" && !refused.text.contains(leaseId),
                "\(path): \(refused.text)")
        }
        let replay = try await Self.call(
            "POST", b + "/api/getNewNetwork", key: "alice-key-1", #"{"SessionId":"old-1"}"#)
        #expect(replay.status == 200 && replay.string("leaseId") == leaseId, "\(replay.text)")
    }

    @Test(
        "a quota counter keyed by a requester in clear: the lease charged to it takes it back when released, and the partition stays true"
    )
    func counterFromBefore() async throws {
        let pools = #"[ { "name": "team-a", "cidr": "10.64.128.0/17", "quota": { "maxLeasesPerRequester": 5 } } ]"#
        try await VendorHarness.withVendor(
            environment: ["POOLS_CONFIG": pools], roleKeys: APIKeys(reader: nil, lease: "alice=alice-key-1", admin: nil)
        ) { url, table, _ in
            let created = try await Self.call(
                "POST", url + "/api/getNewNetwork", key: "alice-key-1", #"{"SessionId":"old-q","pool":"team-a"}"#)
            #expect(created.status == 201, "\(created.text)")
            // Rewrite the counter and the lease's QuotaKeys as a Vendor of before wrote them.
            let rows = try await table.queryAll(filter: "PartitionKey eq '\(Self.partition)'")
            let counter = try #require(rows.first { $0.rowKey.hasPrefix(RowKeys.usagePrefix) })
            var lease = try #require(
                rows.first { $0.rowKey.hasPrefix(RowKeys.networkPrefix) && $0["SessionId"]?.stringValue == "old-q" })
            let legacyKey = RowKeys.legacyUsage(pool: "team-a", requester: "alice")
            try await table.delete(partitionKey: Self.partition, rowKey: counter.rowKey)
            _ = try await table.insert(
                TableEntity(
                    partitionKey: Self.partition, rowKey: legacyKey,
                    properties: [
                        "Pool": .string("team-a"), "Requester": .string("alice"), "Leases": .int64(1),
                        "Addresses": counter["Addresses"]!,
                    ]))
            lease.properties["QuotaKeys"] = .string(legacyKey)
            _ = try await table.replace(lease, ifMatch: .any)
            #expect(
                InvariantChecker.violations(in: try await table.queryAll(filter: "PartitionKey eq '\(Self.partition)'"))
                    .isEmpty)

            let listed = try await Self.call("GET", url + "/api/pools", key: "alice-key-1")
            let usage =
                (listed.json?["pools"]?.arrayValue ?? []).first { $0["pool"]?.stringValue == "team-a" }?["usage"]?
                .arrayValue ?? []
            #expect(
                usage.map { $0["requester"]?.stringValue } == ["alice"] && usage.first?["leases"] == .number("1"),
                "\(listed.text)")
            let released = try await Self.call(
                "POST", url + "/api/releaseNetwork", key: "alice-key-1", #"{"SessionId":"old-q"}"#)
            #expect(released.string("state") == "quarantined", "\(released.text)")
            let after = try await table.queryAll(filter: "PartitionKey eq '\(Self.partition)'")
            #expect(
                after.first { $0.rowKey == legacyKey }?["Leases"]?.int64Value == 0
                    && after.first { $0.rowKey == legacyKey }?["Requester"]?.stringValue == "alice")
            let problems = InvariantChecker.violations(in: after)
            #expect(problems.isEmpty, "\(problems)")
        }
    }
}
