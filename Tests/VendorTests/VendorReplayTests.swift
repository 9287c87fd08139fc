import AzureTables
import Foundation
import HTTPTransport
import IPAMCore
import Inventory
import TestSupport
import Testing

/// Replays (the same SessionId and body again, as Terraform's http data source sends on every plan,
/// apply and refresh) are answered from the session: no stock block, no stock read, no carve, and a
/// write only when the lease is due for renewal.
@Suite("Replays")
struct VendorReplayTests {
    static func metric(_ url: String, _ name: String) async throws -> Double {
        let text = try await HTTPCalls.send("GET", url + "/metrics").text
        return text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap {
            Double($0.split(separator: " ").last ?? "")
        } ?? 0
    }

    @Test("on the Vendor that served it: one point read, nothing written, no stock read or carve")
    func warmReplay() async throws {
        try await VendorHarness.withVendor { url, table, _ in
            let body = #"{"SessionId":"warm-1","prefixLength":24}"#
            let first = try await HTTPCalls.send("POST", url + "/api/getNewNetwork", body: body)
            #expect(first.status == 201)
            let rows = try await table.queryAll().count
            let carves = try await Self.metric(url, "ipam_vendor_carves_total")
            let reads = try await Self.metric(url, "ipam_vendor_stock_reads_total")
            for _ in 0..<20 {
                let again = try await HTTPCalls.send("POST", url + "/api/getNewNetwork", body: body)
                #expect(
                    again.status == 200 && again.string("leaseId") == first.string("leaseId")
                        && again.string("cidr") == first.string("cidr"))
                #expect(again.headers["x-ipam-storage-calls"] == "1", "one point read of the network row")
                #expect(again.headers["x-ipam-claim-attempts"] == "0")
            }
            #expect(
                try await table.queryAll().count == rows, "no event, no row: a replay that is not due writes nothing")
            #expect(try await Self.metric(url, "ipam_vendor_carves_total") == carves)
            #expect(try await Self.metric(url, "ipam_vendor_stock_reads_total") == reads)
        }
    }

    @Test("renewed only once less than half the lifetime is left; revived during quarantine")
    func renewalAtHalfLife() async throws {
        let time = ManualTime()
        try await VendorHarness.withVendor(environment: ["LEASE_DURATION_HOURS": "4"], time: time.source) {
            url, table, configuration in
            let body = #"{"SessionId":"half-1"}"#
            let first = try await HTTPCalls.send("POST", url + "/api/getNewNetwork", body: body)
            #expect(first.status == 201)
            func events() async throws -> Int {
                try await table.queryAll(filter: "RowKey ge 'event_' and RowKey lt 'event`'").count
            }
            let before = try await events()
            time.advance(by: .seconds(2 * 3600 - 60)) // just under half of 4 h gone
            let early = try await HTTPCalls.send("POST", url + "/api/getNewNetwork", body: body)
            #expect(
                early.status == 200 && early.string("expiresAt") == first.string("expiresAt"),
                "not due: nothing written")
            #expect(try await events() == before)
            time.advance(by: .seconds(120)) // now more than half gone
            let due = try await HTTPCalls.send("POST", url + "/api/getNewNetwork", body: body)
            #expect(due.status == 200)
            #expect(
                try #require(due.string("expiresAt")) > (try #require(first.string("expiresAt"))),
                "renewed to now + 4 h")
            #expect(try await events() == before + 1, "one renew event")
            let renewedAt = due.string("expiresAt")
            let quiet = try await HTTPCalls.send("POST", url + "/api/getNewNetwork", body: body)
            let afterQuiet = try await events()
            #expect(
                quiet.string("expiresAt") == renewedAt && afterQuiet == before + 1,
                "the next replay finds it fresh again")
            // Released (quarantined): a replay revives it.
            let released = try await HTTPCalls.send(
                "POST", url + "/api/releaseNetwork", body: #"{"SessionId":"half-1"}"#)
            #expect(released.string("state") == "quarantined")
            let revived = try await HTTPCalls.send("POST", url + "/api/getNewNetwork", body: body)
            #expect(
                revived.status == 200 && revived.string("state") == "leased"
                    && revived.string("leaseId") == first.string("leaseId"))
            _ = configuration
        }
    }

    @Test(
        "on a Vendor that never saw the session: at most two point reads and no stock read while it has no stock at hand; a claim that finds the session taken gives its block back"
    )
    func coldReplay() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let storage = try await stack.startStorage()
        let environment = SampleConfiguration.environment(
            table: TestStorage.uniqueName("cold"), connectionString: storage)
        let a = try await stack.startVendor(environment: environment)
        let b = try await stack.startVendor(environment: environment)
        // A serves the session; B has never seen it and holds no stock: it reads the session before any stock read.
        let body = #"{"SessionId":"cold-1"}"#
        let first = try await HTTPCalls.send("POST", a + "/api/getNewNetwork", body: body)
        #expect(first.status == 201)
        let cold = try await HTTPCalls.send("POST", b + "/api/getNewNetwork", body: body)
        #expect(cold.status == 200 && cold.string("leaseId") == first.string("leaseId"))
        #expect(cold.headers["x-ipam-storage-calls"] == "2" && cold.headers["x-ipam-claim-attempts"] == "0")
        #expect(try await Self.metric(b, "ipam_vendor_stock_reads_total") == 0)
        #expect(try await Self.metric(b, "ipam_vendor_carves_total") == 0)
        // B now has stock at hand (it serves a new session); A serves another session B has never seen.
        #expect(
            try await HTTPCalls.send("POST", b + "/api/getNewNetwork", body: #"{"SessionId":"cold-2"}"#).status == 201)
        let reads = try await Self.metric(b, "ipam_vendor_stock_reads_total")
        let carves = try await Self.metric(b, "ipam_vendor_carves_total")
        let second = try await HTTPCalls.send("POST", a + "/api/getNewNetwork", body: #"{"SessionId":"cold-3"}"#)
        #expect(second.status == 201)
        // B's claim for cold-3 fails on the session row (the block goes back to B's cache), then the session
        // and network rows answer it; had B's cached stock aged out meanwhile, it reads the session first
        // instead. Either way nothing is read from stock or carved.
        let replay = try await HTTPCalls.send("POST", b + "/api/getNewNetwork", body: #"{"SessionId":"cold-3"}"#)
        #expect(replay.status == 200 && replay.string("leaseId") == second.string("leaseId"))
        let cost = (replay.headers["x-ipam-claim-attempts"] ?? "", replay.headers["x-ipam-storage-calls"] ?? "")
        #expect(cost == ("1", "3") || cost == ("0", "2"), "\(cost)")
        #expect(try await Self.metric(b, "ipam_vendor_stock_reads_total") == reads)
        #expect(try await Self.metric(b, "ipam_vendor_carves_total") == carves)
        #expect(
            try await HTTPCalls.send("POST", b + "/api/getNewNetwork", body: #"{"SessionId":"cold-4"}"#).status == 201)
        let table = try TableServiceClient(connectionString: storage, transport: TestStorage.transport).table(
            environment["IPAM_TABLE_NAME"]!)
        let problems = InvariantChecker.violations(in: try await table.queryAll())
        #expect(problems.isEmpty, "\(problems)")
    }
}
