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

/// A SessionId belongs to the principal that created it: another caller that sends it (a replay, a different
/// body, a renewal, a release, a look-up, after a release) is refused with 409 `SessionOwnedByAnother` and
/// nothing of the lease is answered or changed. Admins reach other callers' leases by lease id.
@Suite("Session ownership")
struct SessionOwnershipTests {
    static let keys = APIKeys(
        reader: "auditor=reader-key-1", lease: "alice=alice-key-1,bob=bob-key-1",
        admin: "operator=admin-key-1,root=root-key-1")
    static let keyEnvironment = [
        "VENDOR_READER_KEYS": "auditor=reader-key-1", "VENDOR_API_KEYS": "alice=alice-key-1,bob=bob-key-1",
        "VENDOR_ADMIN_KEYS": "operator=admin-key-1",
    ]

    static func headers(_ who: String) -> HTTPHeaderList {
        ["x-functions-key": who == "operator" ? "admin-key-1" : who == "auditor" ? "reader-key-1" : "\(who)-key-1"]
    }

    static func call(_ method: String, _ url: String, as who: String, _ body: String? = nil) async throws -> HTTPAnswer
    {
        try await HTTPCalls.send(method, url, body: body, headers: headers(who), timeout: .seconds(60))
    }

    /// The refusal: 409 `SessionOwnedByAnother` on the SessionId, and nothing of the lease in it.
    static func expectRefused(_ answer: HTTPAnswer, leaseId: String, cidr: String, _ what: String) {
        #expect(
            answer.status == 409 && answer.code == "SessionOwnedByAnother" && answer.string("field") == "SessionId",
            "\(what): \(answer.status) \(answer.text)")
        #expect(
            !answer.text.contains(leaseId) && !answer.text.contains(cidr),
            "\(what) must not reveal the lease: \(answer.text)")
    }

    static func events(_ table: TableClient, lease: String) async throws -> [TableEntity] {
        try await table.queryAll().filter {
            $0.rowKey.hasPrefix(RowKeys.eventPrefix) && $0["LeaseId"]?.stringValue == lease
        }
    }

    @Test(
        "another caller's replay, different body, renewal, release and look-up by SessionId are refused; the owner's still work; an admin acts by lease id"
    )
    func anotherCallersSession() async throws {
        try await VendorHarness.withVendor(roleKeys: Self.keys) { url, table, _ in
            let body = #"{"SessionId":"own-1","prefixLength":24,"tags":{"env":"dev"}}"#
            let created = try await Self.call("POST", url + "/api/getNewNetwork", as: "alice", body)
            #expect(created.status == 201, "\(created.text)")
            let leaseId = try #require(created.string("leaseId"))
            let cidr = try #require(created.string("cidr"))
            let before = try await table.queryAll()

            Self.expectRefused(
                try await Self.call("POST", url + "/api/getNewNetwork", as: "bob", body), leaseId: leaseId, cidr: cidr,
                "bob's replay")
            Self.expectRefused(
                try await Self.call(
                    "POST", url + "/api/getNewNetwork", as: "bob", #"{"SessionId":"own-1","prefixLength":26}"#),
                leaseId: leaseId, cidr: cidr, "bob's different body (not SessionConflict, which names the lease)")
            Self.expectRefused(
                try await Self.call("POST", url + "/api/renewLease", as: "bob", #"{"SessionId":"own-1"}"#),
                leaseId: leaseId, cidr: cidr, "bob's renewal")
            Self.expectRefused(
                try await Self.call("POST", url + "/api/releaseNetwork", as: "bob", #"{"SessionId":"own-1"}"#),
                leaseId: leaseId, cidr: cidr, "bob's release")
            Self.expectRefused(
                try await Self.call("GET", url + "/api/sessions/own-1", as: "bob"), leaseId: leaseId, cidr: cidr,
                "bob's look-up")
            Self.expectRefused(
                try await Self.call("GET", url + "/api/sessions/own-1", as: "auditor"), leaseId: leaseId, cidr: cidr,
                "a reader's look-up")
            // A SessionId is its creator's whatever the role: an admin names another's lease by its id.
            Self.expectRefused(
                try await Self.call("POST", url + "/api/releaseNetwork", as: "operator", #"{"SessionId":"own-1"}"#),
                leaseId: leaseId, cidr: cidr, "an admin's release by SessionId")
            let after = try await table.queryAll()
            #expect(
                after.map(\.rowKey) == before.map(\.rowKey) && after.map(\.etag) == before.map(\.etag),
                "a refusal writes nothing")

            // The owner's calls work as before.
            let replay = try await Self.call("POST", url + "/api/getNewNetwork", as: "alice", body)
            #expect(replay.status == 200 && replay.string("leaseId") == leaseId, "\(replay.text)")
            #expect(try await Self.call("GET", url + "/api/sessions/own-1", as: "alice").string("leaseId") == leaseId)
            #expect(
                try await Self.call("POST", url + "/api/renewLease", as: "alice", #"{"SessionId":"own-1"}"#).status
                    == 200)
            // Readers still look at the lease by its id.
            #expect(try await Self.call("GET", url + "/api/leases/\(leaseId)", as: "auditor").string("cidr") == cidr)
            let released = try await Self.call(
                "POST", url + "/api/releaseNetwork", as: "operator", #"{"leaseId":"\#(leaseId)"}"#)
            #expect(
                released.status == 200 && released.string("state") == "quarantined",
                "an admin releases another's lease by its id: \(released.text)")
        }
    }

    @Test(
        "after the owner released it, another caller's replay does not revive it (no revive event, still quarantined); the owner's replay does"
    )
    func noReviveByAnother() async throws {
        try await VendorHarness.withVendor(roleKeys: Self.keys) { url, table, _ in
            let body = #"{"SessionId":"own-2"}"#
            let created = try await Self.call("POST", url + "/api/getNewNetwork", as: "alice", body)
            let leaseId = try #require(created.string("leaseId"), "\(created.text)")
            let cidr = try #require(created.string("cidr"))
            #expect(
                try await Self.call("POST", url + "/api/releaseNetwork", as: "alice", body).string("state")
                    == "quarantined")

            Self.expectRefused(
                try await Self.call("POST", url + "/api/getNewNetwork", as: "bob", body), leaseId: leaseId, cidr: cidr,
                "bob's replay after the release")
            Self.expectRefused(
                try await Self.call("POST", url + "/api/getNewNetwork", as: "operator", body), leaseId: leaseId,
                cidr: cidr, "an admin's replay after the release")
            #expect(
                try await Self.call("GET", url + "/api/leases/\(leaseId)", as: "auditor").string("state")
                    == "quarantined")
            #expect(
                try await Self.events(table, lease: leaseId).allSatisfy { $0["Action"]?.stringValue != "revive" },
                "nobody revived it")

            let revived = try await Self.call("POST", url + "/api/getNewNetwork", as: "alice", body)
            #expect(
                revived.status == 200 && revived.string("state") == "leased" && revived.string("leaseId") == leaseId,
                "\(revived.text)")
            let revive = try await Self.events(table, lease: leaseId).filter { $0["Action"]?.stringValue == "revive" }
            #expect(
                revive.map { $0["Actor"]?.stringValue } == ["alice"],
                "revived by its owner: \(revive.map(\.properties))")
        }
    }

    @Test(
        "dual-stack: another caller's replay, renewal and release of the pair's SessionId are refused; both rows stay as they were"
    )
    func dualStack() async throws {
        let supernets =
            #"[{"subscriptionId":"\#(SampleConfiguration.subscription)","regions":[{"region":"eastus","supernets":["10.64.0.0/16","fd00:64::/48"]}]}]"#
        try await VendorHarness.withVendor(environment: ["SUPERNETS_CONFIG": supernets], roleKeys: Self.keys) {
            url, table, _ in
            let body = #"{"SessionId":"own-ds","dualStack":true,"subnets":[{"name":"app","prefixLength":26}]}"#
            let created = try await Self.call("POST", url + "/api/getNewNetwork", as: "alice", body)
            #expect(created.status == 201 && created.string("cidrV6") != nil, "\(created.text)")
            let leaseId = try #require(created.string("leaseId"))
            let cidr = try #require(created.string("cidr"))
            let rows = {
                try await table.queryAll().filter {
                    $0.rowKey.hasPrefix(RowKeys.networkPrefix) && $0["LeaseId"]?.stringValue == leaseId
                }
            }
            let before = try await rows()
            #expect(before.count == 2)
            Self.expectRefused(
                try await Self.call("POST", url + "/api/getNewNetwork", as: "bob", body), leaseId: leaseId, cidr: cidr,
                "bob's dual-stack replay")
            Self.expectRefused(
                try await Self.call("POST", url + "/api/renewLease", as: "bob", #"{"SessionId":"own-ds"}"#),
                leaseId: leaseId, cidr: cidr, "bob's renewal")
            Self.expectRefused(
                try await Self.call("POST", url + "/api/releaseNetwork", as: "bob", #"{"SessionId":"own-ds"}"#),
                leaseId: leaseId, cidr: cidr, "bob's release")
            #expect(try await rows().map(\.etag) == before.map(\.etag), "neither row changed")
            #expect(
                try await Self.call("POST", url + "/api/getNewNetwork", as: "alice", body).string("leaseId") == leaseId)
        }
    }

    @Test(
        "a SessionId with a leaseId: a malformed one is 400 InvalidLeaseId, another lease's is 404, and neither releases or renews anything"
    )
    func sessionWithLeaseId() async throws {
        try await VendorHarness.withVendor(roleKeys: Self.keys) { url, table, _ in
            let mine = try await Self.call("POST", url + "/api/getNewNetwork", as: "alice", #"{"SessionId":"pair-1"}"#)
            let other = try await Self.call("POST", url + "/api/getNewNetwork", as: "alice", #"{"SessionId":"pair-2"}"#)
            #expect(mine.status == 201 && other.status == 201)
            let mineId = try #require(mine.string("leaseId"))
            let otherId = try #require(other.string("leaseId"))
            let before = try await table.queryAll()
            for route in ["/api/releaseNetwork", "/api/renewLease"] {
                for malformed in ["", "nope", "\(mineId)x"] {
                    let answer = try await Self.call(
                        "POST", url + route, as: "alice", #"{"SessionId":"pair-1","leaseId":"\#(malformed)"}"#)
                    #expect(
                        answer.status == 400 && answer.code == "InvalidLeaseId" && answer.string("field") == "leaseId",
                        "\(route) \(malformed): \(answer.status) \(answer.text)")
                }
                let mismatched = try await Self.call(
                    "POST", url + route, as: "alice", #"{"SessionId":"pair-1","leaseId":"\#(otherId)"}"#)
                #expect(mismatched.status == 404, "\(route): \(mismatched.status) \(mismatched.text)")
                #expect(!mismatched.text.contains(mineId))
            }
            let after = try await table.queryAll()
            #expect(after.map(\.etag) == before.map(\.etag), "nothing written")
            // Both naming the same lease work.
            let both = try await Self.call(
                "POST", url + "/api/releaseNetwork", as: "alice",
                #"{"SessionId":"pair-1","leaseId":"\#(mineId.uppercased())"}"#)
            #expect(both.status == 200 && both.string("state") == "quarantined", "\(both.text)")
        }
    }

    @Test("adoption by SessionId: another admin's replay of the adoption is refused")
    func adoption() async throws {
        try await VendorHarness.withVendor(roleKeys: Self.keys) { url, _, _ in
            let body = #"{"SessionId":"own-adopt","cidr":"10.64.220.0/23"}"#
            let adopted = try await HTTPCalls.send(
                "POST", url + "/api/adoptNetwork", body: body, headers: Self.headers("operator"))
            #expect(adopted.status == 201, "\(adopted.text)")
            let leaseId = try #require(adopted.string("leaseId"))
            let other = try await HTTPCalls.send(
                "POST", url + "/api/adoptNetwork", body: body, headers: ["x-functions-key": "root-key-1"])
            Self.expectRefused(other, leaseId: leaseId, cidr: "10.64.220.0/23", "another admin's adoption replay")
            #expect(
                try await HTTPCalls.send(
                    "POST", url + "/api/adoptNetwork", body: body, headers: Self.headers("operator")
                ).status == 200)
        }
    }

    @Test(
        "across Vendor processes: a Vendor that remembers the session and one that reads it from storage both refuse another caller"
    )
    func acrossProcesses() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let storage = try await stack.startStorage()
        var environment = SampleConfiguration.environment(
            table: TestStorage.uniqueName("own"), connectionString: storage)
        environment.merge(Self.keyEnvironment) { _, new in new }
        let a = try await stack.startVendor(environment: environment)
        let b = try await stack.startVendor(environment: environment)
        let body = #"{"SessionId":"own-3"}"#
        let created = try await Self.call("POST", a + "/api/getNewNetwork", as: "alice", body)
        let leaseId = try #require(created.string("leaseId"), "\(created.text)")
        let cidr = try #require(created.string("cidr"))
        Self.expectRefused(
            try await Self.call("POST", a + "/api/getNewNetwork", as: "bob", body), leaseId: leaseId, cidr: cidr,
            "on the Vendor that remembers it")
        Self.expectRefused(
            try await Self.call("POST", b + "/api/getNewNetwork", as: "bob", body), leaseId: leaseId, cidr: cidr,
            "on a Vendor that reads it")
        // B now has stock at hand: bob's claim of a SessionId alice just took fails on the session row, then is refused.
        #expect(
            try await Self.call("POST", b + "/api/getNewNetwork", as: "bob", #"{"SessionId":"own-4"}"#).status == 201)
        let second = try await Self.call("POST", a + "/api/getNewNetwork", as: "alice", #"{"SessionId":"own-5"}"#)
        let secondId = try #require(second.string("leaseId"))
        let secondCidr = try #require(second.string("cidr"))
        Self.expectRefused(
            try await Self.call("POST", b + "/api/getNewNetwork", as: "bob", #"{"SessionId":"own-5"}"#),
            leaseId: secondId, cidr: secondCidr, "a claim that finds the session taken")
        #expect(
            try await Self.call("POST", b + "/api/getNewNetwork", as: "alice", body).string("leaseId") == leaseId,
            "the owner on the other Vendor")
        let table = try TableServiceClient(connectionString: storage, transport: TestStorage.transport).table(
            environment["IPAM_TABLE_NAME"]!)
        let problems = InvariantChecker.violations(in: try await table.queryAll())
        #expect(problems.isEmpty, "\(problems)")
    }
}
