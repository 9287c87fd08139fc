import AzureTables
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

/// Host-IP leases inside a network lease, over HTTP: allocation, stability, LIFO reuse, members and
/// roles, redacted audit, exhaustion, the lease's end.
@Suite("Host-IP leases")
struct HostIPTests {
    static let keys = APIKeys(
        reader: "auditor=reader-secret-1", lease: "alice=alice-secret-1,bob=bob-secret-1,carol=carol-secret-1",
        admin: "operator=admin-secret-1")
    static func key(_ who: String) -> HTTPHeaderList { ["x-functions-key": "\(who)-secret-1"] }
    static let adminKey: HTTPHeaderList = ["x-functions-key": "admin-secret-1"]

    static func call(_ method: String, _ url: String, as who: String, _ body: String? = nil) async throws -> HTTPAnswer
    {
        try await HTTPCalls.send(
            method, url, body: body,
            headers: who == "operator" ? adminKey : who == "auditor" ? ["x-functions-key": "reader-secret-1"] : key(who)
        )
    }

    static func inventory(_ table: TableClient) -> Inventory { Inventory(table: table, actor: "test") }

    @Test(
        "owner, members and admins: stable addresses, the reserved five skipped, LIFO reuse, roles enforced, audit redacted, the lease's end"
    )
    func lifecycle() async throws {
        try await VendorHarness.withVendor(roleKeys: Self.keys) { url, table, _ in
            let network = try await Self.call(
                "POST", url + "/api/getNewNetwork", as: "alice",
                #"{"SessionId":"hosts-1","prefixLength":24,"subnets":[{"name":"app","prefixLength":26},{"name":"db","prefixLength":28}]}"#
            )
            #expect(network.status == 201, "\(network.text)")
            let leaseId = try #require(network.string("leaseId"))
            let subnets = network.json?["subnets"]?.arrayValue ?? []
            let app = try IPPrefix(
                parsing: try #require(subnets.first { $0["name"]?.stringValue == "app" }?["cidr"]?.stringValue))
            let db = try IPPrefix(
                parsing: try #require(subnets.first { $0["name"]?.stringValue == "db" }?["cidr"]?.stringValue))
            let ips = url + "/api/leases/\(leaseId)/ips"
            let members = url + "/api/leases/\(leaseId)/members"
            func at(_ subnet: IPPrefix, _ offset: Int) -> String {
                HostAddresses(subnet: subnet).address(at: offset).description
            }

            // The owner's first address: offset 4 of the first subnet (0–3 are Azure's); stable on retry.
            let first = try await Self.call("POST", ips, as: "alice")
            #expect(first.status == 201, "\(first.text)")
            #expect(
                first.string("ip") == at(app, 4) && first.string("principal") == "alice"
                    && first.string("subnet") == "app")
            let again = try await Self.call("POST", ips, as: "alice", "{}")
            #expect(again.status == 200 && again.string("ip") == at(app, 4), "\(again.text)")

            // Not a member yet.
            let stranger = try await Self.call("POST", ips, as: "bob")
            #expect(stranger.status == 403 && stranger.code == "NotAuthorized", "\(stranger.text)")
            #expect(try await Self.call("GET", ips, as: "bob").code == "NotAuthorized")
            #expect(
                try await Self.call("PUT", members + "/carol", as: "bob", #"{"role":"member"}"#).code == "NotAuthorized"
            )

            // The owner adds bob; bob gets an address in the db subnet.
            let added = try await Self.call("PUT", members + "/bob", as: "alice", #"{"role":"member"}"#)
            #expect(added.status == 201 && added.string("role") == "member", "\(added.text)")
            #expect(try await Self.call("PUT", members + "/bob", as: "alice", #"{"role":"member"}"#).status == 200)
            let bobs = try await Self.call("POST", ips, as: "bob", #"{"subnet":"db"}"#)
            #expect(
                bobs.status == 201 && bobs.string("ip") == at(db, 4) && bobs.string("subnetCidr") == db.description,
                "\(bobs.text)")
            #expect(try await Self.call("POST", ips, as: "bob", #"{"subnet":"app"}"#).code == "PrincipalHasIP")
            #expect(try await Self.call("POST", ips, as: "bob", #"{"subnet":"nope"}"#).code == "UnknownSubnet")
            #expect(
                try await Self.call("POST", ips, as: "bob", #"{"principal":"vm-1"}"#).code == "NotAuthorized",
                "a member names only itself")

            // The owner gets addresses for VMs (they become members); releasing one and asking again reuses it (LIFO).
            let vm1 = try await Self.call("POST", ips, as: "alice", #"{"principal":"vm-1"}"#)
            #expect(vm1.status == 201 && vm1.string("ip") == at(app, 5), "\(vm1.text)")
            let vm2 = try await Self.call("POST", ips, as: "alice", #"{"principal":"vm-2"}"#)
            #expect(vm2.string("ip") == at(app, 6))
            #expect(
                try await Self.call("GET", ips + "/vm-1", as: "bob").string("ip") == at(app, 5),
                "members look at each other's addresses")
            #expect(try await Self.call("DELETE", ips + "/vm-1", as: "bob").code == "NotAuthorized")
            let released = try await Self.call("DELETE", ips + "/vm-1", as: "alice")
            #expect(
                released.status == 200 && released.json?["released"] == .bool(true)
                    && released.string("ip") == at(app, 5), "\(released.text)")
            let repeated = try await Self.call("DELETE", ips + "/vm-1", as: "alice")
            #expect(
                repeated.status == 200 && repeated.json?["released"] == .bool(false),
                "releasing what is not held does nothing")
            #expect(try await Self.call("DELETE", ips + "/vm-2", as: "alice").status == 200)
            let vm3 = try await Self.call("POST", ips, as: "alice", #"{"principal":"vm-3"}"#)
            #expect(vm3.string("ip") == at(app, 6), "the last released (vm-2's) comes back first")
            let vm4 = try await Self.call("POST", ips, as: "alice", #"{"principal":"vm-4"}"#)
            #expect(vm4.string("ip") == at(app, 5))
            #expect(try await Self.call("GET", ips + "/vm-1", as: "alice").code == "HostIPNotFound")

            // An admin member releases anyone's (the audit records for whom); nobody removes the owner.
            #expect(try await Self.call("PUT", members + "/bob", as: "alice", #"{"role":"admin"}"#).status == 200)
            #expect(try await Self.call("DELETE", ips + "/vm-3", as: "bob").json?["released"] == .bool(true))
            #expect(try await Self.call("DELETE", members + "/alice", as: "bob").code == "OwnerUnchangeable")
            #expect(
                try await Self.call("PUT", members + "/alice", as: "bob", #"{"role":"member"}"#).code
                    == "OwnerUnchangeable")
            #expect(
                try await Self.call("PUT", members + "/carol", as: "bob", #"{"role":"owner"}"#).code == "InvalidField")

            // The API's admin role acts as an admin member; the reader role is no member.
            let listing = try await Self.call("GET", ips, as: "operator")
            #expect(listing.status == 200, "\(listing.text)")
            #expect(
                Set(listing.json?["ips"]?.arrayValue?.compactMap { $0["principal"]?.stringValue } ?? []) == [
                    "alice", "bob", "vm-4",
                ])
            #expect(try await Self.call("GET", ips, as: "auditor").code == "NotAuthorized")
            #expect(
                try await Self.call("POST", ips, as: "auditor").code == "Forbidden",
                "the reader role never changes anything")
            let roster = try await Self.call("GET", members, as: "bob")
            #expect(roster.json?["members"]?.arrayValue?.first?["principal"]?.stringValue == "alice")
            #expect(roster.json?["members"]?.arrayValue?.first?["role"]?.stringValue == "owner")

            // Removing a member releases its address with it.
            let removed = try await Self.call("DELETE", members + "/bob", as: "alice")
            #expect(removed.json?["removed"] == .bool(true), "\(removed.text)")
            #expect(try await Self.call("DELETE", members + "/bob", as: "alice").json?["removed"] == .bool(false))
            #expect(try await Self.call("GET", ips + "/bob", as: "alice").code == "HostIPNotFound")
            #expect(try await Self.call("POST", ips, as: "bob").code == "NotAuthorized")

            // Bad input.
            #expect(
                try await Self.call("POST", url + "/api/leases/not-a-lease/ips", as: "alice").code == "InvalidLeaseId")
            #expect(
                try await Self.call("POST", url + "/api/leases/\(UUID().uuidString)/ips", as: "alice").code
                    == "LeaseNotFound")
            #expect(try await Self.call("POST", ips, as: "alice", #"{"principal":"a b"}"#).code == "InvalidPrincipal")
            #expect(try await Self.call("POST", ips, as: "alice", #"{"principal":7}"#).code == "InvalidField")
            #expect(try await Self.call("POST", ips, as: "alice", #"{"bogus":1}"#).code == "UnknownField")

            // The invariants hold, and the audit trail names nobody in clear.
            let inventory = Self.inventory(table)
            #expect(try await inventory.hostIPViolations(leaseId: leaseId) == [])
            let partition = try await table.queryAll(filter: "PartitionKey eq 'ips_\(leaseId)'")
            let text = partition.flatMap { $0.properties.values.compactMap(\.stringValue) }.joined(separator: "\n")
            for name in ["alice", "bob", "vm-1", "vm-3"] { #expect(!text.contains(name), "\(name) is stored in clear") }
            let redactor = PrincipalRedactor(salt: SampleConfiguration.auditSalt)
            let events = try await inventory.hostIPEvents(leaseId: leaseId)
            let adminRelease = try #require(
                events.first { $0.action == "ip-released" && $0.principal == redactor.principal("vm-3").key })
            #expect(
                adminRelease.actor == redactor.principal("bob").key
                    && adminRelease.releasedFor == redactor.principal("vm-3").key)
            #expect(
                events.filter { $0.action == "ip-allocated" }.count == 6,
                "one event per address handed out, none for replays")

            // The network lease ends: every host-IP call answers 410.
            #expect(
                try await Self.call("POST", url + "/api/releaseNetwork", as: "alice", #"{"SessionId":"hosts-1"}"#)
                    .status == 200)
            let after = try await Self.call("POST", ips, as: "alice", #"{"principal":"vm-9"}"#)
            #expect(after.status == 410 && after.code == "LeaseEnded", "\(after.text)")
            #expect(try await Self.call("GET", members, as: "alice").status == 410)
        }
    }

    @Test(
        "a /28 holds exactly 11 host addresses, however many ask at once; a lease without a layout uses its whole block"
    )
    func exhaustion() async throws {
        try await VendorHarness.withVendor(roleKeys: Self.keys) { url, table, _ in
            let network = try await Self.call(
                "POST", url + "/api/getNewNetwork", as: "alice", #"{"SessionId":"small","prefixLength":28}"#)
            let leaseId = try #require(network.string("leaseId"))
            let block = try IPPrefix(parsing: try #require(network.string("cidr")))
            let answers = try await withThrowingTaskGroup(of: HTTPAnswer.self) { group in
                for index in 0..<24 {
                    group.addTask {
                        try await Self.call(
                            "POST", url + "/api/leases/\(leaseId)/ips", as: "alice", #"{"principal":"vm-\#(index)"}"#)
                    }
                }
                return try await group.reduce(into: [HTTPAnswer]()) { $0.append($1) }
            }
            let granted = answers.filter { $0.status == 201 }
            #expect(granted.count == 11, "\(answers.map(\.status))")
            #expect(answers.filter { $0.code == "IPExhausted" }.count == 13)
            let expected = Set((4...14).map { HostAddresses(subnet: block).address(at: $0).description })
            #expect(
                Set(granted.compactMap { $0.string("ip") }) == expected,
                "offsets 4–14: not the network address, .1–.3 or the broadcast")
            #expect(granted.allSatisfy { $0.json?["subnet"] == .null && $0.string("subnetCidr") == block.description })
            // One goes back; exactly one more fits.
            let holder = try #require(granted.first?.string("principal"))
            #expect(
                try await Self.call("DELETE", url + "/api/leases/\(leaseId)/ips/\(holder)", as: "alice").status == 200)
            #expect(
                try await Self.call("POST", url + "/api/leases/\(leaseId)/ips", as: "alice", #"{"principal":"late-1"}"#)
                    .status == 201)
            #expect(
                try await Self.call("POST", url + "/api/leases/\(leaseId)/ips", as: "alice", #"{"principal":"late-2"}"#)
                    .code == "IPExhausted")
            #expect(try await Self.inventory(table).hostIPViolations(leaseId: leaseId) == [])
        }
    }

    @Test("a lease is released or renewed by its owner or an admin; another lease key is refused")
    func ownersRelease() async throws {
        try await VendorHarness.withVendor(roleKeys: Self.keys) { url, _, _ in
            let network = try await Self.call(
                "POST", url + "/api/getNewNetwork", as: "alice", #"{"SessionId":"owned-1"}"#)
            let id = try #require(network.string("leaseId"))
            for (method, path, body) in [
                ("POST", "/api/releaseNetwork", #"{"leaseId":"\#(id)"}"#),
                ("POST", "/api/renewLease", #"{"leaseId":"\#(id)"}"#), ("DELETE", "/api/leases/\(id)", nil),
            ] {
                let refused = try await Self.call(method, url + path, as: "bob", body)
                #expect(refused.status == 403 && refused.code == "NotAuthorized", "\(method) \(path): \(refused.text)")
            }
            #expect(
                try await Self.call("POST", url + "/api/renewLease", as: "alice", #"{"leaseId":"\#(id)"}"#).status
                    == 200)
            let released = try await Self.call("DELETE", url + "/api/leases/\(id)", as: "operator")
            #expect(
                released.status == 200 && released.string("state") == "quarantined",
                "an admin releases anyone's: \(released.text)")
        }
    }
}
