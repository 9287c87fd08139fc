import AzureTables
import FaultProxy
import Foundation
import HTTPTransport
import IPAMCore
import Inventory
import NetworkMath
import StrictJSON
import TestSupport
import Testing
import VendorDomain
import VendorHTTP

/// Pools over HTTP: rules refuse with their codes, each pool vends only its own space, quotas hold exactly
/// under concurrency and faults across Vendor processes, and the table's counters stay true.
@Suite("Pools, rules and quotas", .serialized)
struct PoolTests {
    static let pools = #"""
        [ { "name": "team-a", "cidr": "10.64.128.0/17", "owner": "team-a", "labels": { "cost-center": "42" },
            "rules": { "minPrefixLength": 24, "maxPrefixLength": 26, "defaultPrefixLength": 24, "requiredTags": ["env"], "allowedRequesters": ["alice", "bob", "ci"] },
            "quota": { "maxLeasesPerRequester": 10 } },
          { "name": "team-a-ci", "parent": "team-a", "cidr": "10.64.192.0/18", "stock": { "26": 8 }, "quota": { "maxAddressesPerRequester": 256 } } ]
        """#
    static let partition = "\(SampleConfiguration.subscription)_eastus"
    /// Real, distinct callers: allow-lists and quotas apply to the authenticated caller, never to the body's `requester`.
    static let callers = ["alice", "bob", "carol", "ci", "mallory"]
    static let keys = APIKeys(
        reader: nil, lease: callers.map { "\($0)=\($0)-key-1" }.joined(separator: ","), admin: "ops=ops-key-1")
    static let keyEnvironment = [
        "VENDOR_API_KEYS": callers.map { "\($0)=\($0)-key-1" }.joined(separator: ","),
        "VENDOR_ADMIN_KEYS": "ops=ops-key-1",
    ]
    static let admin: HTTPHeaderList = ["x-functions-key": "ops-key-1"]

    /// A lease request by `caller` (its own key), with `requester` as the body's label when given.
    static func lease(
        _ url: String, _ session: String, pool: String? = "team-a", as caller: String = "alice",
        requester: String? = nil,
        extra: String = #","tags":{"env":"dev"}"#
    ) async throws -> HTTPAnswer {
        let poolField = pool.map { #","pool":"\#($0)""# } ?? ""
        let requesterField = requester.map { #","requester":"\#($0)""# } ?? ""
        return try await HTTPCalls.send(
            "POST", url + "/api/getNewNetwork",
            body: #"{"SessionId":"\#(session)"\#(requesterField)\#(poolField)\#(extra)}"#,
            headers: ["x-functions-key": "\(caller)-key-1"], timeout: .seconds(60))
    }

    static func invariants(_ table: TableClient) async throws -> [TableEntity] {
        let rows = try await table.queryAll(filter: "PartitionKey eq '\(partition)'")
        let problems = InvariantChecker.violations(in: rows)
        #expect(problems.isEmpty, "\(problems.prefix(20).joined(separator: "\n"))")
        return rows
    }

    @Test(
        "rules refuse with their codes; each pool vends from its own space (children carved out), the scope from outside its pools; addresses and leases count up the hierarchy; GET /api/pools shows it all"
    )
    func rulesAndSpaces() async throws {
        try await VendorHarness.withVendor(environment: ["POOLS_CONFIG": Self.pools], roleKeys: Self.keys) {
            url, table, _ in
            let noTag = try await Self.lease(url, "r-1", extra: "")
            #expect(
                noTag.status == 422 && noTag.code == "TagRequired" && noTag.string("field") == "tags.env",
                "\(noTag.text)")
            let stranger = try await Self.lease(url, "r-2", as: "mallory")
            #expect(stranger.status == 403 && stranger.code == "RequesterNotAllowed", "\(stranger.text)")
            let tooSmall = try await Self.lease(url, "r-3", extra: #","tags":{"env":"dev"},"prefixLength":27"#)
            #expect(
                tooSmall.status == 400 && tooSmall.code == "InvalidPrefixLength"
                    && tooSmall.text.contains("between 24 and 26 in pool 'team-a'"), "\(tooSmall.text)")
            #expect(try await Self.lease(url, "r-4", pool: "team-b").code == "UnknownPool")
            #expect(
                try await Self.lease(url, "r-5", extra: #","tags":{"env":"dev"},"region":"westeurope""#).code
                    == "UnknownPool")

            let teamA = try IPPrefix(parsing: "10.64.128.0/17")
            let ci = try IPPrefix(parsing: "10.64.192.0/18")
            let first = try await Self.lease(url, "a-1")
            let block = try IPPrefix(parsing: try #require(first.string("cidr"), "\(first.text)"))
            #expect(
                first.status == 201 && block.length == 24 && teamA.contains(block) && !ci.contains(block),
                "the pool's default size, outside its child")
            #expect(try await Self.lease(url, "a-1").status == 200, "a replay is answered, not checked again")
            var ciBlocks: [IPPrefix] = []
            for index in 0..<4 {
                let answer = try await Self.lease(
                    url, "ci-\(index)", pool: "team-a-ci", as: "ci", extra: #","tags":{"env":"ci"},"prefixLength":26"#)
                ciBlocks.append(try IPPrefix(parsing: try #require(answer.string("cidr"), "\(answer.text)")))
            }
            #expect(ciBlocks.allSatisfy { ci.contains($0) })
            let over = try await Self.lease(
                url, "ci-4", pool: "team-a-ci", as: "ci", extra: #","tags":{"env":"ci"},"prefixLength":26"#)
            #expect(
                over.status == 409 && over.code == "QuotaExceeded"
                    && over.json?["details"]?["limit"]?.stringValue == "256"
                    && over.json?["details"]?["current"]?.stringValue == "256"
                    && over.json?["details"]?["quota"]?.stringValue == "maxAddressesPerRequester", "\(over.text)")
            for index in 0..<6 {
                let answer = try await Self.lease(url, "plain-\(index)", pool: nil, extra: "")
                let plain = try IPPrefix(parsing: try #require(answer.string("cidr"), "\(answer.text)"))
                #expect(!teamA.overlaps(plain), "\(plain): a request without a pool never lands in one")
            }

            let listed = try await HTTPCalls.send("GET", url + "/api/pools", headers: ["x-functions-key": "bob-key-1"])
            let areas = listed.json?["pools"]?.arrayValue ?? []
            let parent = try #require(areas.first { $0["pool"]?.stringValue == "team-a" }, "\(listed.text)")
            #expect(
                parent["cidr"]?.stringValue == "10.64.128.0/17" && parent["labels"]?["cost-center"]?.stringValue == "42"
            )
            #expect(
                parent["rules"]?["requiredTags"]?.arrayValue == [.string("env")]
                    && parent["quota"]?["maxLeasesPerRequester"]?.stringValue == nil)
            let usage = Dictionary(
                uniqueKeysWithValues: (parent["usage"]?.arrayValue ?? []).map {
                    ($0["requester"]?.stringValue ?? "", $0["leases"])
                })
            #expect(
                usage["alice"] == .number("1") && usage["ci"] == .number("4"),
                "a child's leases count in its parent's quota: \(parent)")
            let child = try #require(areas.first { $0["pool"]?.stringValue == "team-a-ci" })
            #expect(
                child["parent"]?.stringValue == "team-a" && child["rules"]?["minPrefixLength"] == .number("24")
                    && child["stock"]?["26"] == .number("8"))
            #expect(areas.first { $0["pool"] == .null }?["scope"]?.stringValue == Self.partition)

            // A reservation by size in a pool is taken from the pool's own space; a range outside the pool is refused.
            let held = try await HTTPCalls.send(
                "POST", url + "/api/reservations",
                body: #"{"pool":"team-a","prefixLength":25,"owner":"ops","reason":"pool reservation"}"#,
                headers: Self.admin)
            let heldBlock = try IPPrefix(parsing: try #require(held.string("cidr"), "\(held.text)"))
            #expect(held.status == 201 && teamA.contains(heldBlock) && !ci.contains(heldBlock), "\(held.text)")
            let outside = try await HTTPCalls.send(
                "POST", url + "/api/reservations",
                body: #"{"pool":"team-a","cidr":"10.65.0.0/24","owner":"ops","reason":"outside"}"#, headers: Self.admin)
            #expect(outside.status == 422 && outside.code == "OutsideSupernets", "\(outside.text)")
            let plainHeld = try await HTTPCalls.send(
                "POST", url + "/api/reservations", body: #"{"prefixLength":25,"owner":"ops","reason":"no pool"}"#,
                headers: Self.admin)
            #expect(
                !teamA.overlaps(try IPPrefix(parsing: try #require(plainHeld.string("cidr")))),
                "a size-only reservation without a pool stays outside the pools")
            _ = try await Self.invariants(table)
            _ = table
        }
    }

    static let spoofPools = #"""
        [ { "name": "carol-only", "cidr": "10.64.128.0/18", "rules": { "allowedRequesters": ["carol"] } },
          { "name": "capped", "cidr": "10.64.192.0/18", "quota": { "maxLeasesPerRequester": 2 } } ]
        """#

    @Test(
        "the body's requester is a label: naming an allowed requester does not pass an allow-list, and varying it does not walk around a quota"
    )
    func requesterSpoofing() async throws {
        try await VendorHarness.withVendor(environment: ["POOLS_CONFIG": Self.spoofPools], roleKeys: Self.keys) {
            url, table, _ in
            let spoofed = try await Self.lease(
                url, "sp-1", pool: "carol-only", as: "alice", requester: "carol", extra: "")
            #expect(
                spoofed.status == 403 && spoofed.code == "RequesterNotAllowed"
                    && spoofed.json?["details"]?["caller"]?.stringValue == "alice", "\(spoofed.text)")
            let carol = try await Self.lease(
                url, "sp-2", pool: "carol-only", as: "carol", requester: "someone-else", extra: "")
            #expect(
                carol.status == 201 && carol.string("requester") == nil,
                "the allowed caller, whatever label it sends: \(carol.text)")
            let carolId = try #require(carol.string("leaseId"))
            let shown = try await HTTPCalls.send(
                "GET", url + "/api/leases/\(carolId)", headers: ["x-functions-key": "carol-key-1"])
            #expect(shown.string("requester") == "someone-else", "the label is kept for listings: \(shown.text)")

            var answers: [HTTPAnswer] = []
            for index in 0..<4 {
                answers.append(
                    try await Self.lease(
                        url, "cap-\(index)", pool: "capped", as: "alice", requester: "label-\(index)", extra: ""))
            }
            #expect(answers.map(\.status) == [201, 201, 409, 409], "\(answers.map(\.text))")
            #expect(
                answers[2].code == "QuotaExceeded" && answers[2].json?["details"]?["current"]?.stringValue == "2",
                "\(answers[2].text)")
            #expect(
                try await Self.lease(url, "cap-bob", pool: "capped", as: "bob", requester: "label-0", extra: "").status
                    == 201, "bob's quota is his own")
            let rows = try await Self.invariants(table)
            let counters = rows.filter {
                $0.rowKey.hasPrefix(RowKeys.usagePrefix) && $0["Pool"]?.stringValue == "capped"
            }.compactMap { $0["Leases"]?.int64Value }
            #expect(counters.sorted() == [1, 2], "one counter per caller: \(counters)")
        }
    }

    @Test(
        "with AUDIT_REDACT_ACTORS no row names a caller in clear (usage rows, lease rows), GET /api/pools shows holders by their keys, and no log line names one"
    )
    func redactedUsage() async throws {
        let logs = LogCapture()
        try await VendorHarness.withVendor(
            environment: ["POOLS_CONFIG": Self.spoofPools], roleKeys: Self.keys, logger: logs.logger(),
            redactActors: true
        ) { url, table, _ in
            for index in 0..<2 {
                #expect(try await Self.lease(url, "red-\(index)", pool: "capped", as: "alice", extra: "").status == 201)
            }
            #expect(try await Self.lease(url, "red-2", pool: "capped", as: "bob", extra: "").status == 201)
            let rows = try await Self.invariants(table)
            let redactor = PrincipalRedactor(salt: SampleConfiguration.auditSalt)
            for row in rows {
                for (name, value) in row.properties {
                    let text = value.stringValue ?? ""
                    if ["Owner", "Holder"].contains(name) {
                        // base64 may spell anything: opened, not searched
                        #expect(redactor.open(text) != nil, "\(row.rowKey).\(name) is sealed")
                    } else {
                        #expect(
                            !text.contains("alice") && !text.contains("bob"),
                            "\(row.rowKey).\(name) names a caller in clear: \(text)")
                    }
                }
            }
            #expect(rows.contains { $0["Holder"] != nil }, "usage rows keep their holder sealed")
            let listed = try await HTTPCalls.send(
                "GET", url + "/api/pools", headers: ["x-functions-key": "carol-key-1"])
            let capped = try #require(
                (listed.json?["pools"]?.arrayValue ?? []).first { $0["pool"]?.stringValue == "capped" },
                "\(listed.text)")
            let usage = Dictionary(
                uniqueKeysWithValues: (capped["usage"]?.arrayValue ?? []).map {
                    ($0["requester"]?.stringValue ?? "", $0["leases"])
                })
            #expect(
                usage == [redactor.principal("alice").key: .number("2"), redactor.principal("bob").key: .number("1")],
                "\(capped)")
            #expect(!listed.text.contains("alice") && !listed.text.contains("bob"), "\(listed.text)")
            let named = logs.captured.filter { line in
                ([line.message] + line.metadata.values).contains { $0.contains("alice") || $0.contains("bob") }
            }
            #expect(
                !logs.captured.isEmpty && named.isEmpty, "log lines name a caller: \(named.prefix(3).map(\.metadata))")
        }
    }

    @Test(
        "64 concurrent requests of one caller (one key) through 3 Vendor processes, with throttling, 412 storms and 500s after the write: exactly 10 leases (the quota), 54 QuotaExceeded; a release lets exactly one more through; the counters stay true"
    )
    func quotaUnderConcurrencyAndFaults() async throws {
        try await LoadTests.exclusive {
            let stack = ProcessStack()
            defer { stack.stopAll() }
            let storage = try await stack.startStorage()
            let (proxy, proxied) = try await stack.proxy(storage)
            let tableName = TestStorage.uniqueName("quota")
            var environment = SampleConfiguration.environment(table: tableName, connectionString: proxied)
            environment["POOLS_CONFIG"] = Self.pools
            environment["IPAM_STORAGE_TIMEOUT_MS"] = "1500"
            environment.merge(Self.keyEnvironment) { _, new in new }
            let vendors = try await stack.startVendors(3, environment: environment)
            let table = try TableServiceClient(connectionString: storage, transport: TestStorage.transport).table(
                tableName)
            proxy.faults = .mixed

            /// Asks until the answer is final (a lease, or a refusal): 503s (storage did not confirm) are retried with the same SessionId.
            @Sendable func settle(_ session: String, start: Int) async -> HTTPAnswer? {
                for attempt in 0..<20 {
                    guard let answer = try? await Self.lease(vendors[(start + attempt) % vendors.count], session) else {
                        continue
                    }
                    if answer.status != 503 { return answer }
                }
                return nil
            }
            let first = await withTaskGroup(of: (String, HTTPAnswer?).self) { group in
                for index in 0..<64 { group.addTask { ("q-\(index)", await settle("q-\(index)", start: index)) } }
                return await group.reduce(into: [(String, HTTPAnswer?)]()) { $0.append($1) }
            }
            let leased = first.filter { [200, 201].contains($0.1?.status ?? 0) }
            let refused = first.filter { $0.1?.code == "QuotaExceeded" }
            #expect(
                leased.count == 10,
                "\(leased.count) leases: \(first.compactMap { $0.1.map { "\($0.status) \($0.code ?? "")" } }.prefix(12))"
            )
            #expect(
                refused.count == 54,
                "\(first.filter { $0.1?.status != 201 && $0.1?.code != "QuotaExceeded" }.map { "\($0.0): \($0.1?.text ?? "no answer")" }.prefix(5))"
            )
            #expect(
                refused.allSatisfy {
                    $0.1?.json?["details"]?["limit"]?.stringValue == "10"
                        && $0.1?.json?["details"]?["current"]?.stringValue == "10"
                })

            // One back; then 8 more at once: exactly one gets through.
            let released = try #require(leased.first?.0)
            var gone: HTTPAnswer? = nil
            for attempt in 0..<20 where gone?.status != 200 {
                gone = try? await HTTPCalls.send(
                    "POST", vendors[attempt % 3] + "/api/releaseNetwork", body: #"{"SessionId":"\#(released)"}"#,
                    headers: ["x-functions-key": "alice-key-1"])
                if gone?.code == "AlreadyReleased" { break }
            }
            #expect(gone?.status == 200 || gone?.code == "AlreadyReleased", "\(gone?.text ?? "")")
            let second = await withTaskGroup(of: (String, HTTPAnswer?).self) { group in
                for index in 0..<8 { group.addTask { ("more-\(index)", await settle("more-\(index)", start: index)) } }
                return await group.reduce(into: [(String, HTTPAnswer?)]()) { $0.append($1) }
            }
            #expect(
                second.filter { [200, 201].contains($0.1?.status ?? 0) }.count == 1,
                "\(second.map { "\($0.1?.status ?? 0) \($0.1?.code ?? "")" })")
            #expect(second.filter { $0.1?.code == "QuotaExceeded" }.count == 7)

            proxy.faults = FaultProxy.Faults()
            let rows = try await Self.invariants(table)
            let counter = rows.compactMap {
                $0.rowKey.hasPrefix(RowKeys.usagePrefix) && $0["Pool"]?.stringValue == "team-a"
                    ? $0["Leases"]?.int64Value : nil
            }
            #expect(counter == [10], "alice's counter in team-a: \(counter)")
            print("quota under faults: proxy \(proxy.counts)")
        }
    }
}
