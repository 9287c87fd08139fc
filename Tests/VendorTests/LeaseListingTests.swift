import AzureTables
import Foundation
import IPAMCore
import Inventory
import NetworkMath
import StrictJSON
import TestSupport
import Testing

@Suite("Lease listing and DELETE")
struct LeaseListingTests {
    static func lease(_ url: String, _ session: String, _ extra: String = "") async throws -> HTTPAnswer {
        let answer = try await HTTPCalls.send(
            "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"\#(session)"\#(extra)}"#)
        #expect(answer.status == 201, "\(answer.text)")
        return answer
    }

    @Test(
        "by lease id: a lease whose id names its block (read at that block) is found in either case; a made-up id naming a block another lease holds is neither found nor released"
    )
    func leaseIdNamingItsBlock() async throws {
        try await VendorHarness.withVendor { url, _, _ in
            let lease = try await Self.lease(url, "named-1")
            let id = try #require(lease.string("leaseId"))
            let cidr = try #require(lease.string("cidr"))
            #expect(LeaseIdentity.block(named: id)?.description == cidr)
            for asked in [id, id.uppercased()] {
                let found = try await HTTPCalls.send("GET", url + "/api/leases/\(asked)")
                #expect(
                    found.status == 200 && found.string("leaseId") == id && found.string("cidr") == cidr,
                    "\(found.text)")
            }
            // The same block and layout, other random bits: no lease has this id.
            let madeUp = madeUpLeaseId(sameBlockAs: id)
            #expect(LeaseIdentity.block(named: madeUp)?.description == cidr)
            let missing = try await HTTPCalls.send("GET", url + "/api/leases/\(madeUp)")
            #expect(missing.status == 404 && missing.code == "LeaseNotFound", "\(missing.text)")
            let release = try await HTTPCalls.send("DELETE", url + "/api/leases/\(madeUp)")
            #expect(release.status == 404 && release.code == "LeaseNotFound", "\(release.text)")
            let still = try await HTTPCalls.send("GET", url + "/api/leases/\(id)")
            #expect(still.string("state") == "leased", "the real lease is untouched: \(still.text)")
        }
    }

    @Test(
        "filters by scope, state, requester and containment; pages in address order per scope with an opaque continuation; bad queries are refused"
    )
    func listing() async throws {
        try await VendorHarness.withVendor { url, _, _ in
            var east: [String] = []
            for index in 0..<7 {
                east.append(
                    try #require(
                        try await Self.lease(url, "east-\(index)", #","requester":"\#(index % 2 == 0 ? "ci" : "dev")""#)
                            .string("cidr")))
            }
            let west = try #require(try await Self.lease(url, "west-0", #","region":"westeurope""#).string("cidr"))
            _ = try await HTTPCalls.send("POST", url + "/api/releaseNetwork", body: #"{"SessionId":"east-3"}"#)

            // All of them, two at a time: every lease once, in address order within each scope.
            var seen: [(String, String)] = []
            var continuation: String? = nil
            var pages = 0
            repeat {
                let query = "/api/leases?limit=2" + (continuation.map { "&continuation=\($0)" } ?? "")
                let page = try await HTTPCalls.send("GET", url + query)
                #expect(page.status == 200, "\(page.text)")
                let items = page.json?["leases"]?.arrayValue ?? []
                #expect(items.count <= 2)
                seen += items.map { ($0["scope"]?.stringValue ?? "", $0["cidr"]?.stringValue ?? "") }
                continuation = page.json?["continuation"]?.stringValue
                pages += 1
            } while continuation != nil && pages < 20
            #expect(seen.count == 8 && Set(seen.map(\.1)) == Set(east + [west]))
            let eastOrder = seen.filter { $0.0.hasSuffix("_eastus") }.map { try! IPPrefix(parsing: $0.1) }
            #expect(eastOrder == eastOrder.sorted(), "address order within a scope")

            let held = try await HTTPCalls.send("GET", url + "/api/leases?region=eastus&state=leased&state=anchored")
            #expect(held.json?["leases"]?.arrayValue?.count == 6, "the released one is quarantined")
            let quarantined = try await HTTPCalls.send("GET", url + "/api/leases?state=quarantined")
            #expect(quarantined.json?["leases"]?.arrayValue?.map { $0["cidr"]?.stringValue } == [east[3]])
            let ci = try await HTTPCalls.send("GET", url + "/api/leases?requester=ci")
            #expect(ci.json?["leases"]?.arrayValue?.count == 4)
            let tagged = try await Self.lease(url, "tagged-1", #","tags":{"env":"dev","team":"a"}"#)
            _ = try await Self.lease(url, "tagged-2", #","tags":{"env":"prod"}"#)
            #expect(
                try await HTTPCalls.send("GET", url + "/api/leases?tag=env").json?["leases"]?.arrayValue?.count == 2)
            let dev = try await HTTPCalls.send("GET", url + "/api/leases?tag=env%3Ddev&limit=1")
            #expect(
                dev.json?["leases"]?.arrayValue?.map { $0["cidr"]?.stringValue } == [tagged.string("cidr")],
                "\(dev.text)")
            #expect(
                try await HTTPCalls.send("GET", url + "/api/leases?tag=team%3Db").json?["leases"]?.arrayValue?.isEmpty
                    == true)
            #expect(try await HTTPCalls.send("GET", url + "/api/leases?tag=").code == "InvalidQuery")
            let first = try IPPrefix(parsing: east[0])
            let within = try await HTTPCalls.send(
                "GET", url + "/api/leases?within=\(first.description.replacingOccurrences(of: "/", with: "%2F"))")
            #expect(within.json?["leases"]?.arrayValue?.map { $0["cidr"]?.stringValue } == [east[0]])
            let westOnly = try await HTTPCalls.send(
                "GET", url + "/api/leases?scope=\(SampleConfiguration.subscription)_westeurope")
            #expect(westOnly.json?["leases"]?.arrayValue?.map { $0["cidr"]?.stringValue } == [west])

            for (query, code) in [
                ("limit=0", "InvalidQuery"), ("limit=1001", "InvalidQuery"), ("state=nope", "InvalidQuery"),
                ("within=10.1.2.3%2F33", "InvalidQuery"), ("within=", "InvalidQuery"),
                ("bogus=1", "InvalidQuery"), ("continuation=xyz", "InvalidContinuation"),
                ("region=mars", "UnknownScope"),
            ] {
                let answer = try await HTTPCalls.send("GET", url + "/api/leases?" + query)
                #expect(answer.code == code, "\(query): \(answer.text)")
                #expect(answer.status == (code == "UnknownScope" ? 404 : 400))
            }
        }
    }

    @Test(
        "DELETE releases once and answers the final state every time; even after the block went back to stock; 404 only for an id never seen"
    )
    func deleteIsIdempotent() async throws {
        try await VendorHarness.withVendor { url, table, configuration in
            let lease = try await Self.lease(url, "del-1")
            let id = try #require(lease.string("leaseId"))
            let first = try await HTTPCalls.send("DELETE", url + "/api/leases/\(id)")
            #expect(first.status == 200 && first.string("state") == "quarantined", "\(first.text)")
            let eventFilter = "RowKey ge 'event_' and RowKey lt 'event`'"
            let count = try await table.queryAll(filter: eventFilter).count
            let again = try await HTTPCalls.send("DELETE", url + "/api/leases/\(id)")
            #expect(
                again.status == 200 && again.string("state") == "quarantined"
                    && again.string("cidr") == lease.string("cidr"))
            let after = try await table.queryAll(filter: eventFilter).count
            #expect(after == count, "a repeat writes nothing")

            // The quarantine ends (as the Manager does it): the row no longer carries the lease, its events do.
            let inventory = Inventory(table: table, actor: "test")
            let scope = configuration.defaultScope
            let row = try #require(try await inventory.network(leaseId: id, in: scope))
            let available = NetworkRow.available(row.prefix)
            let applied = await inventory.apply(
                [
                    RowChange(
                        before: row, after: available, action: .returnToStock, detail: "test",
                        deleteSession: row.sessionId)
                ], in: scope, now: Date())
            #expect(applied.applied[.returnToStock] == 1)
            let later = try await HTTPCalls.send("DELETE", url + "/api/leases/\(id)")
            #expect(
                later.status == 200 && later.string("leaseId") == id && later.string("cidr") == lease.string("cidr"),
                "\(later.text)")

            let never = try await HTTPCalls.send("DELETE", url + "/api/leases/\(UUID().uuidString.lowercased())")
            #expect(never.status == 404 && never.code == "LeaseNotFound")
            #expect(try await HTTPCalls.send("DELETE", url + "/api/leases/not-a-uuid").code == "InvalidLeaseId")
        }
    }
}
