import Foundation
import IPAMCore
import Inventory
import ManagerJobs
import NetworkMath
import ResourceGraph
import ResourceGraphEmulator
import Synchronization
import TestSupport
import Testing

/// A run lists once and plans each scope once: that one plan makes the changes and the drift report, so the
/// report a run stores can never tell something the run did not do.
@Suite("One plan per run")
struct OnePlanPerRunTests {
    /// The plans a run made, in order, with their scopes.
    final class PlanLog: Sendable {
        private let plans = Mutex<[(scope: Scope, plan: Reconciliation.Plan)]>([])
        var all: [(scope: Scope, plan: Reconciliation.Plan)] { plans.withLock { $0 } }
        func add(_ scope: Scope, _ plan: Reconciliation.Plan) { plans.withLock { $0.append((scope, plan)) } }
    }

    /// `manager` with its planner counted: `Reconciliation.plan`, every plan logged.
    static func counted(_ manager: ManagerRun, _ log: PlanLog) -> ManagerRun {
        ManagerRun(
            configuration: manager.configuration, settings: manager.settings, inventory: manager.inventory,
            discovery: manager.discovery, logger: manager.logger
        ) { scope, space, rows, vnets, complete, now, settings in
            let plan = Reconciliation.plan(
                scope: scope, space: space, rows: rows, vnets: vnets, complete: complete.own,
                spaceComplete: complete.space, now: now, settings: settings)
            log.add(scope, plan)
            return plan
        }
    }

    @Test(
        "one listing and one plan per scope per run; the stored drift report is the applied plans' own, even for a VNet of the lease's outside the scope that the run does not see"
    )
    func onePlanServesBoth() async throws {
        try await TerraformGapTests.withWorld(environment: DriftedSpaceTests.smallScope) { world in
            let drifted = try #require(try await world.lease("one-plan-drifted").string("leaseId"))
            let elsewhere = try await world.lease("one-plan-elsewhere")
            let elsewhereLease = try #require(elsewhere.string("leaseId"))
            let elsewhereCIDR = try #require(elsewhere.string("cidr"))
            _ = try await world.lease("one-plan-stale")
            let free = try await DriftedSpaceTests.uncovered(world)
            try #require(free.count >= 2, "\(free)")
            // Terraform deploys one lease with another prefix (drift), another in a region and space this scope
            // does not list (the run does not see it: the lease stays leased), and an unmanaged VNet.
            await world.deploy("vnet-drifted", [free[0].description], lease: drifted)
            await world.graph.upsert(
                VirtualNetwork(
                    id:
                        "/subscriptions/\(SampleConfiguration.subscription)/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet-far",
                    name: "vnet-far", subscriptionId: SampleConfiguration.subscription, resourceGroup: "rg",
                    location: "westeurope", tags: [LeaseTag.name: elsewhereLease],
                    addressPrefixes: ["192.168.7.0/24"]))
            await world.deploy("vnet-unmanaged", [free[1].description])
            let log = PlanLog()
            let manager = Self.counted(world.manager, log)
            let listingsBefore = await world.graph.queries
            // Past the lease's duration (one hour) but within the reap grace (60 s): a stale lease, not reaped.
            let now = Date().addingTimeInterval(3600 + 30)
            let report = try await manager.run(now: now)
            #expect(report.complete)
            let pages = await world.graph.queries - listingsBefore
            let listing = await world.manager.discovery.discover(world.configuration.scopes.keys.sorted())
            #expect(pages == listing.pages, "one listing per run: \(pages) pages for \(listing.pages)")
            #expect(log.all.map(\.scope) == world.configuration.scopes.keys.sorted(), "one plan per scope")

            let status = try #require(try await world.manager.inventory.managerStatus())
            let expected = DriftReport(
                plans: Dictionary(uniqueKeysWithValues: log.all.map { ($0.scope, $0.plan) }), complete: true)
            #expect(status.drift.map(\.kind) == expected.items.map(\.kind))
            #expect(status.drift.map(\.cidr) == expected.items.map(\.cidr))
            #expect(status.drift.map(\.detail) == expected.items.map(\.detail))
            // Every prefix mismatch the report tells is one the run found: the far VNet is none.
            #expect(
                status.drift.filter { $0.kind == "prefix-mismatch" }.map(\.detail) == report.drift, "\(status.drift)")
            #expect(report.drift.count == 1 && report.drift[0].contains(drifted))
            #expect(!status.drift.contains { $0.detail.contains("vnet-far") }, "\(status.drift)")
            #expect(
                status.drift.contains { $0.kind == "occupied" && $0.cidr == free[1].description }, "\(status.drift)")
            #expect(
                status.drift.contains { $0.kind == "stale-lease" && $0.detail.contains("within the reap grace") },
                "\(status.drift)")
            let far = try #require(try await world.row(elsewhereCIDR))
            #expect(far.state == .leased, "the run does not see the far VNet")
        }
    }

    @Test("the outlook: rows as the plan leaves them, each with the next run's decision over the same listing")
    func outlook() throws {
        typealias Decisions = ReconciliationDecisionTests
        let gone = Decisions.anchored("10.64.2.0/24", lease: "lease-2", to: "/subscriptions/s/vnet-gone")
        let occupied = Decisions.occupied("10.64.3.0/24", by: "/subscriptions/s/vnet-was-here")
        let unmanaged = Decisions.vnet("unmanaged", ["10.64.4.0/24"], lease: nil)
        let plan = DriftedSpaceTests.plan([gone, occupied], [unmanaged])
        // This run marks both missing once; the next one marks the lease missing again and frees the block.
        #expect(
            plan.decisions.map(\.decision) == [
                .missing(since: Decisions.now, count: 1), .missing(since: Decisions.now, count: 1),
            ])
        #expect(plan.outlook.map(\.row.prefix.description) == ["10.64.2.0/24", "10.64.3.0/24", "10.64.4.0/24"])
        #expect(
            plan.outlook.map(\.decision) == [
                .missing(since: Decisions.now, count: 2), .free(vnet: "/subscriptions/s/vnet-was-here"),
                .unchanged(seen: true),
            ])
        // The same plan's report tells it: the lease's VNet missing, the block next freed, the new block occupied.
        let report = DriftReport(plans: [DriftedSpaceTests.scope: plan], complete: true)
        #expect(report.items.map(\.kind) == ["vnet-missing", "occupied", "occupied"])
        #expect(report.items[0].detail.hasSuffix("next run: missing"), "\(report.items[0])")
        #expect(report.items[1].detail.hasSuffix("next run: free"), "\(report.items[1])")
    }
}
