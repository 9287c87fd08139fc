import AzureTables
import Foundation
import IPAMCore
import Inventory
import ManagerJobs
import NetworkMath
import Synchronization
import TestSupport
import Testing

/// A cloud's discovery played by the test: the networks it lists, and the scopes it cannot list whole.
final class ScriptedDiscovery: NetworkDiscovery {
    let provider: Cloud
    private let scopes: Set<Scope>
    private let state = Mutex<(networks: [DiscoveredNetwork], failing: Set<Scope>, asked: [[Scope]])>(([], [], []))

    init(provider: Cloud, scopes: Set<Scope>) {
        self.provider = provider
        self.scopes = scopes
    }

    func lists(_ scope: Scope) -> Bool { scopes.contains(scope) }

    func set(_ networks: [DiscoveredNetwork]) { state.withLock { $0.networks = networks } }
    func fail(_ scopes: Set<Scope>) { state.withLock { $0.failing = scopes } }
    var asked: [[Scope]] { state.withLock { $0.asked } }

    func discover(_ scopes: [Scope]) async -> DiscoveryListing {
        let (networks, failing) = state.withLock { state in
            state.asked.append(scopes)
            return (state.networks, state.failing)
        }
        var listing = DiscoveryListing(pages: scopes.count)
        for scope in scopes {
            if failing.contains(scope) {
                listing.markIncomplete(
                    [scope],
                    because: "\(provider.rawValue) account \(scope.account) region \(scope.region): AuthFailure")
                continue
            }
            listing.networks += networks.filter { $0.account == scope.account && $0.region == scope.region }
        }
        return listing
    }
}

@Suite("Network discovery: providers, completeness per scope")
struct NetworkDiscoveryTests {
    typealias Decisions = ReconciliationDecisionTests
    static let east = Scope(subscriptionId: SampleConfiguration.subscription, region: "eastus")
    static let west = Scope(subscriptionId: SampleConfiguration.subscription, region: "westeurope")

    @Test("each scope is listed by the first provider that lists it; a scope no provider lists is incomplete, named")
    func scopesGoToTheirProvider() async {
        let first = ScriptedDiscovery(provider: .aws, scopes: [Self.east])
        let second = ScriptedDiscovery(provider: .azure, scopes: [Self.east, Self.west])
        let other = Scope(subscriptionId: "22222222-2222-2222-2222-222222222222", region: "eastus")
        first.set([
            DiscoveredNetwork(
                provider: .aws, account: Self.east.account, region: "eastus", id: "vpc-1",
                prefixes: ["10.64.1.0/24", "2600:1f18::/56"])
        ])
        let providers: [any NetworkDiscovery] = [first, second]
        let listing = await providers.discover([other, Self.west, Self.east])
        #expect(first.asked == [[Self.east]])
        #expect(second.asked == [[Self.west]], "a scope is listed once, by the first provider that lists it")
        #expect(listing.networks.map(\.id) == ["vpc-1"])
        #expect(listing.networks.first?.prefixes == ["10.64.1.0/24", "2600:1f18::/56"])
        #expect(listing.isComplete(Self.east) && listing.isComplete(Self.west))
        #expect(!listing.isComplete(other) && !listing.isComplete)
        #expect(listing.problems == ["scope \(other): no discovery is configured for its cloud"])
        // No provider at all: every scope incomplete, nothing listed.
        let none = await ([] as [any NetworkDiscovery]).discover([Self.east])
        #expect(!none.isComplete(Self.east) && none.networks.isEmpty)
    }

    @Test(
        "another scope's incomplete listing: an anchored lease whose network is gone is still counted missing, but an unmanaged network's block is not (it may be listed there), unless the scope is isolated"
    )
    func spaceCompleteness() {
        let gone = Decisions.anchored("10.64.2.0/24", lease: "lease-2", to: "/subscriptions/s/vnet-gone")
        let occupied = Decisions.occupied("10.64.3.0/24", by: "vpc-0abc")
        var listing = DiscoveryListing()
        listing.markIncomplete([Self.west], because: "aws account x region y: OptInRequired")
        let shared = Reconciliation.Completeness(DriftedSpaceTests.scope, isolated: false, in: listing)
        let isolated = Reconciliation.Completeness(DriftedSpaceTests.scope, isolated: true, in: listing)
        #expect(shared == Reconciliation.Completeness(own: true, space: false))
        #expect(isolated == Reconciliation.Completeness(own: true, space: true))
        let plan = Reconciliation.plan(
            scope: DriftedSpaceTests.scope, space: DriftedSpaceTests.space,
            rows: [gone, occupied].map(Decisions.stored), vnets: [], complete: shared.own, spaceComplete: shared.space,
            now: Decisions.now, settings: Decisions.settings)
        #expect(plan.decisions.map(\.decision) == [.missing(since: Decisions.now, count: 1), .unchanged(seen: false)])
        let alone = Reconciliation.plan(
            scope: DriftedSpaceTests.scope, space: DriftedSpaceTests.space,
            rows: [gone, occupied].map(Decisions.stored), vnets: [], complete: isolated.own,
            spaceComplete: isolated.space, now: Decisions.now, settings: Decisions.settings)
        #expect(
            alone.decisions.map(\.decision) == [
                .missing(since: Decisions.now, count: 1), .missing(since: Decisions.now, count: 1),
            ])
        // A let-go lease past its quarantine goes back to stock only when every listing is whole.
        let quarantined = Decisions.row("10.64.4.0/24", .leased, lease: "lease-4").quarantined(at: Decisions.now)!
        let held = Reconciliation.decide(
            quarantined,
            Reconciliation.Observation(
                vnets: [], complete: true, spaceComplete: false, now: Decisions.now.addingTimeInterval(86_400 * 30),
                settings: Decisions.settings))
        #expect(held == .unchanged(seen: false))
        let returned = Reconciliation.decide(
            quarantined,
            Reconciliation.Observation(
                vnets: [], complete: true, spaceComplete: true, now: Decisions.now.addingTimeInterval(86_400 * 30),
                settings: Decisions.settings))
        #expect(returned == .returnToStock)
    }

    @Test(
        "one run covers both providers; one provider failing makes only its own scope incomplete (named in the report): its anchored lease stays, the other scope's is released after two complete Syncs and the grace"
    )
    func oneCloudFails() async throws {
        try await TerraformGapTests.withWorld { world in
            // A second discovery of the same cloud standing for another one: failing, it takes only its scope.
            let scripted = ScriptedDiscovery(provider: .azure, scopes: [Self.west])
            let manager = ManagerRun(
                configuration: world.manager.configuration, settings: world.manager.settings,
                inventory: world.manager.inventory, discovery: [scripted] + world.manager.discovery,
                logger: world.manager.logger)
            let east = try await world.lease("both-east")
            let eastCIDR = try #require(east.string("cidr"))
            let west = try await world.lease(
                "both-west", #"{"SessionId":"both-west","region":"westeurope","prefixLength":24}"#)
            let westCIDR = try #require(west.string("cidr"))
            let westLease = try #require(west.string("leaseId"))
            await world.deploy("vnet-east", [eastCIDR], lease: east.string("leaseId"))
            scripted.set([
                DiscoveredNetwork(
                    provider: .azure, account: Self.west.account, region: "westeurope", id: "vpc-0west",
                    prefixes: [westCIDR], tags: [LeaseTag.name: westLease])
            ])
            func westRow() async throws -> NetworkRow? {
                try await world.table.get(
                    partitionKey: Self.west.partitionKey, rowKey: RowKeys.network(try IPPrefix(parsing: westCIDR))
                ).flatMap(NetworkRow.init(entity:))
            }
            let start = Date()
            let first = try await manager.run(now: start)
            #expect(first.complete && first.incompleteScopes.isEmpty, "\(first.problems)")
            #expect(try await world.row(eastCIDR)?.state == .anchored)
            #expect(try await westRow()?.state == .anchored)
            #expect(try await westRow()?.resourceId == "vpc-0west")

            // Both networks are destroyed; the second provider cannot list its scope.
            await world.destroy("vnet-east")
            scripted.set([])
            scripted.fail([Self.west])
            let grace = world.manager.settings.releaseGrace
            for (step, offset) in [(1, 10.0), (2, 10 + grace + 1)] {
                let report = try await manager.run(now: start.addingTimeInterval(offset))
                #expect(!report.complete && report.incompleteScopes == [Self.west], "run \(step)")
                #expect(
                    report.problems.contains { $0.contains("region westeurope: AuthFailure") }, "\(report.problems)")
                let row = try await westRow()
                #expect(row?.state == .anchored && row?.missingCount == 0, "run \(step)")
            }
            #expect(try await world.row(eastCIDR)?.state == .quarantined, "the complete scope's lease is released")

            // The provider answers again, without the network: two complete Syncs and the grace release it too.
            scripted.fail([])
            _ = try await manager.run(now: start.addingTimeInterval(20 + grace))
            let missing = try await westRow()
            #expect(missing?.state == .anchored && missing?.missingCount == 1)
            let last = try await manager.run(now: start.addingTimeInterval(30 + 2 * grace))
            #expect(last.complete)
            #expect(try await westRow()?.state == .quarantined)
        }
    }
}
