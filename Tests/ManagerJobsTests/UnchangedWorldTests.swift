import AzureTables
import Foundation
import IPAMCore
import Inventory
import ManagerJobs
import NetworkMath
import TestSupport
import Testing

/// A whole `ManagerRun.run()` over a world that did not change writes nothing, counted at storage: the goal
/// `scripts/bench manager` measures (docs/Performance.md), over every kind of write a run makes at once.
@Suite("Unchanged world")
struct UnchangedWorldTests {
    /// Every entity of the table by partition and row, with its ETag (what a write changes).
    static func snapshot(_ world: TerraformGapTests.World) async throws -> [String: String] {
        var rows: [String: String] = [:]
        for entity in try await world.table.queryAll() {
            rows["\(entity.partitionKey) \(entity.rowKey)"] = entity.etag ?? ""
        }
        return rows
    }

    /// The rows added, changed or deleted between two snapshots, named (for a failure's message).
    static func difference(_ before: [String: String], _ after: [String: String]) -> [String] {
        Set(before.keys).union(after.keys).sorted().filter { before[$0] != after[$0] }
    }

    @Test(
        "the second run over an unchanged world writes nothing: a deployed lease, a VNet over stock, VNets over space no row covers (more than the drift report's 200 findings), a VNet outside the space, in an excluded range, usage, status and compliance"
    )
    func secondRunWritesNothing() async throws {
        try await TerraformGapTests.withWorld { world in
            let scope = world.scope
            _ = try await world.deployedLeases("unchanged", count: 2)
            // Stock a VNet then lands on (the benchmark's shape): its row changes to occupied.
            let stock = try (10...13).map { try IPPrefix(parsing: "10.64.\($0).0/24") }
            _ = try await world.manager.inventory.addStock(stock, in: scope, now: Date(), detail: "test")
            await world.deploy("vnet-on-stock", ["10.64.10.0/24"])
            // Space no row covers: recorded as new occupied rows (32 to a transaction), 210 findings.
            for index in 0..<210 {
                await world.deploy(
                    "vnet-free\(index)", ["10.64.\(32 + index / 16).\((index % 16) * 16)/28"])
            }
            await world.deploy("vnet-outside", ["100.64.0.0/27"])
            await world.deploy("vnet-excluded", ["10.64.0.0/27"])

            let start = Date()
            let first = try await world.manager.run(now: start)
            #expect(first.complete && first.conflicts == 0, "\(first.problems)")
            // 210 VNets and the one in the excluded range (its space held like any VNet's).
            #expect(first.actions["occupy-new"] == 211, "\(first.actions)")
            #expect(first.usage.transactions > 0 && first.networkStatuses.written > 0)
            // The status is stored even with more findings than fit it (the first ones, DriftCount all of them).
            let status = try #require(try await world.manager.inventory.managerStatus(), "the run's status written")
            #expect(abs(status.runAt.timeIntervalSince(start)) < 0.01 && status.complete)
            #expect(status.drift.count > 100 && status.drift.count <= 200, "\(status.drift.count)")
            #expect(status.drift.first?.cidr == "10.64.0.0/27", "in address order")
            let recorded = try #require(try await world.row("10.64.32.0/28"))
            #expect(
                recorded.state == .occupied
                    && recorded.lastSeenAt.map { abs($0.timeIntervalSince(start)) < 0.01 } == true,
                "a row recorded occupied is seen in the listing it was recorded from")

            for (label, seconds) in [("a minute later", 60.0), ("two minutes later", 120.0)] {
                let before = try await Self.snapshot(world)
                let writes = world.writes.value
                let again = try await world.manager.run(now: start.addingTimeInterval(seconds))
                let changed = Self.difference(before, try await Self.snapshot(world))
                #expect(
                    world.writes.value == writes && changed.isEmpty,
                    "\(label): \(world.writes.value - writes) writes, rows written: \(changed.prefix(10)) (\(changed.count)); actions \(again.actions)"
                )
                #expect(again.actions.isEmpty && again.transactions == 0 && again.usage.transactions == 0)
                #expect(again.networkStatuses == NetworkStatusWrites(), "\(again.networkStatuses)")
            }
        }
    }
}
