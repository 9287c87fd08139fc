import AzureTables
import Foundation
import IPAMCore
import Inventory
import Logging
import ManagerJobs
import NetworkMath
import TestSupport
import Testing

/// Low-space alerts: one `space-low` event per crossing and one `space-recovered` when it ends, never repeated
/// while the state holds, by a second Manager, by a restarted one, or by two racing.
@Suite("Low-space alerts")
struct SpaceAlertTests {
    static let pools = #"[{"name":"team","cidr":"10.64.128.0/24","alerts":{"minFreeBlocks":{"26":3}}}]"#

    static func events(_ world: TerraformGapTests.World, _ action: String) async throws -> [TableEntity] {
        try await world.table.queryAll(
            filter:
                "PartitionKey eq '\(world.scope.partitionKey)' and RowKey ge 'event_' and RowKey lt 'event`' and Action eq '\(action)'"
        )
    }

    @Test(
        "a pool crossing its threshold writes space-low once (not again while low, nor by a restarted or racing Manager); recovering writes space-recovered once"
    )
    func edgeTriggered() async throws {
        try await TerraformGapTests.withWorld(environment: ["POOLS_CONFIG": Self.pools]) { world in
            let start = Date()
            let quiet = try await world.manager.run(now: start)
            #expect(quiet.spaceAlerts == SpaceAlerts.Report(), "4 free /26 blocks: not low")
            for session in ["team-a", "team-b"] {
                let lease = try await world.lease(
                    session, #"{"SessionId":"\#(session)","pool":"team","prefixLength":26}"#)
                #expect(lease.status == 201, "\(lease.text)")
            }
            let low = try await world.manager.run(now: start.addingTimeInterval(600))
            #expect(low.spaceAlerts.low == 1 && low.actions["space-low"] == 1)
            let stillLow = try await world.manager.run(now: start.addingTimeInterval(1_200))
            #expect(stillLow.spaceAlerts == SpaceAlerts.Report(), "no event while it stays low")
            // A restarted Manager (a new process: nothing remembered) sees the same state: no event either.
            let restarted = ManagerRun(
                configuration: world.manager.configuration, settings: world.manager.settings,
                inventory: world.manager.inventory, discovery: world.manager.discovery, logger: world.manager.logger)
            #expect(try await restarted.run(now: start.addingTimeInterval(1_800)).spaceAlerts == SpaceAlerts.Report())
            var events = try await Self.events(world, "space-low")
            #expect(events.count == 1)
            #expect(events.first?["Cidr"]?.stringValue == "10.64.128.0/24")
            #expect(events.first?["Detail"]?.stringValue?.contains("2 free /26 blocks (below 3)") == true, "\(events)")

            // Both leases released and their quarantine over: back in stock, the pool recovers.
            for session in ["team-a", "team-b"] {
                let released = try await HTTPCalls.send(
                    "POST", world.vendorURL + "/api/releaseNetwork", body: #"{"SessionId":"\#(session)"}"#)
                #expect(released.status == 200, "\(released.text)")
            }
            let recovered = try await world.manager.run(now: Date().addingTimeInterval(3_600))
            #expect(recovered.spaceAlerts.recovered == 1, "\(recovered.actions)")
            #expect(try await Self.events(world, "space-recovered").count == 1)
            events = try await Self.events(world, "space-low")
            #expect(events.count == 1)
            try await world.invariants()
        }
    }

    @Test("two Managers racing over the same crossing write one event: the state row's ETag decides")
    func racingManagers() async throws {
        try await TerraformGapTests.withWorld(environment: ["POOLS_CONFIG": Self.pools]) { world in
            for session in ["race-a", "race-b"] {
                let lease = try await world.lease(
                    session, #"{"SessionId":"\#(session)","pool":"team","prefixLength":26}"#)
                #expect(lease.status == 201, "\(lease.text)")
            }
            // Measure without alerts (a configuration without thresholds), then let two Managers judge it at once.
            let rows = try await world.manager.inventory.networks(in: world.scope).map(\.value)
            let usage = await UsageSampling(
                configuration: world.configuration, inventory: world.manager.inventory, history: UsageHistory(),
                logger: world.manager.logger
            ).run(rows: [world.scope: rows], now: Date())
            let logger = Logger(label: "race", factory: { _ in SwiftLogNoOpLogHandler() })
            for round in 0..<5 {
                let first = SpaceAlerts(
                    configuration: world.configuration, inventory: world.manager.inventory, logger: logger)
                let second = SpaceAlerts(
                    configuration: world.configuration, inventory: world.manager.inventory, logger: logger)
                async let a = first.run(usage, now: Date())
                async let b = second.run(usage, now: Date())
                let (one, two) = await (a, b)
                #expect(one.low + two.low == (round == 0 ? 1 : 0), "round \(round): \(one) \(two)")
            }
            #expect(try await Self.events(world, "space-low").count == 1)
        }
    }
}
