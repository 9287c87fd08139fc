import AzureTables
import Foundation
import IPAMCore
import Inventory
import ManagerJobs
import NetworkMath
import TestSupport
import Testing

/// The Manager and pools: Replenish keeps each pool's stock; a reaped lease gives its quota back in the same
/// transaction; a block whose quarantine ends goes back to its own pool's stock.
@Suite("Pools and the Manager")
struct PoolManagerTests {
    static let pools = #"""
        [ { "name": "team-a", "cidr": "10.64.128.0/17", "quota": { "maxLeasesPerRequester": 2 }, "stock": { "24": 3 } },
          { "name": "team-a-ci", "parent": "team-a", "cidr": "10.64.192.0/18", "stock": { "26": 5 } } ]
        """#

    static func lease(_ world: TerraformGapTests.World, _ session: String, pool: String = "team-a") async throws
        -> HTTPAnswer
    {
        try await HTTPCalls.send(
            "POST", world.vendorURL + "/api/getNewNetwork",
            body: #"{"SessionId":"\#(session)","requester":"alice","pool":"\#(pool)"}"#)
    }

    static func stock(_ world: TerraformGapTests.World, pool: String?, length: Int) async throws -> [IPPrefix] {
        try await world.manager.inventory.availableCandidates(
            in: world.scope, length: length, version: .v4, pool: pool, limit: 100
        ).map(\.prefix)
    }

    /// The caller's counter in team-a (the Vendor runs without keys: every lease is the one caller's, `anonymous`).
    static func counter(_ world: TerraformGapTests.World) async throws -> Int? {
        let rows = try await world.manager.inventory.usageRows(in: world.scope).filter { $0.pool == "team-a" }
        #expect(rows.count <= 1, "one caller, one counter: \(rows)")
        return rows.first?.leases
    }

    @Test(
        "Replenish meets each pool's targets inside its own space; reaping gives the quota back; quarantine over → the block is in its pool's stock again"
    )
    func replenishReapAndReturn() async throws {
        try await TerraformGapTests.withWorld(environment: ["POOLS_CONFIG": Self.pools]) { world in
            let start = Date()
            _ = try await world.manager.run(now: start)
            let teamA = try IPPrefix(parsing: "10.64.128.0/17")
            let ci = try IPPrefix(parsing: "10.64.192.0/18")
            let poolStock = try await Self.stock(world, pool: "team-a", length: 24)
            let ciStock = try await Self.stock(world, pool: "team-a-ci", length: 26)
            let scopeStock = try await Self.stock(world, pool: nil, length: 24)
            #expect(
                poolStock.count == 3 && poolStock.allSatisfy { teamA.contains($0) && !ci.contains($0) }, "\(poolStock)")
            #expect(ciStock.count == 5 && ciStock.allSatisfy { ci.contains($0) }, "\(ciStock)")
            #expect(scopeStock.count == 2 && scopeStock.allSatisfy { !teamA.overlaps($0) }, "\(scopeStock)")
            try await world.invariants()

            let first = try await Self.lease(world, "p-1")
            let second = try await Self.lease(world, "p-2")
            #expect(first.status == 201 && second.status == 201, "\(first.text) \(second.text)")
            #expect(try await Self.lease(world, "p-3").code == "QuotaExceeded")
            #expect(try await Self.counter(world) == 2)

            // Never deployed: reaped after the hour and the grace; the counter goes down with it.
            _ = try await world.manager.run(now: start.addingTimeInterval(3600 + 120))
            #expect(try await world.row(try #require(first.string("cidr")))?.state == .quarantined)
            #expect(try await Self.counter(world) == 0)
            try await world.invariants()
            let third = try await Self.lease(world, "p-3")
            #expect(third.status == 201, "the quota is free again: \(third.text)")

            // A replay of a reaped lease revives it, counted like a new one: one fits (the counter was 1).
            let revived = try await Self.lease(world, "p-1")
            #expect(revived.status == 200 && revived.string("state") == "leased", "\(revived.text)")
            #expect(try await Self.lease(world, "p-2").code == "QuotaExceeded", "a revive past the quota is refused")
            #expect(try await Self.counter(world) == 2)
            try await world.invariants()

            // p-2's quarantine ends: its block goes back to team-a's stock, not the scope's.
            let block = try IPPrefix(parsing: try #require(second.string("cidr")))
            _ = try await world.manager.run(now: start.addingTimeInterval(3600 + 120 + 700))
            let row = try #require(try await world.row(block.description))
            #expect(row.state == .available && row.pool == "team-a", "\(row)")
            #expect(try await Self.stock(world, pool: "team-a", length: 24).contains(block))
            try await world.invariants()
        }
    }
}
