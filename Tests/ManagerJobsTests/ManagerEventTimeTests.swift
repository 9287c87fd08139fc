import AzureTables
import Foundation
import IPAMCore
import Inventory
import Logging
import ManagerJobs
import NetworkMath
import Synchronization
import TestSupport
import Testing

/// A Manager run decides at its start and writes over its whole length. Its events used to carry its start time, so
/// a run longer than the webhook dispatcher's settle delay wrote events whose keys the dispatcher's cursor had
/// already passed: never delivered. Time is injected (`ManualTime`): the Sync "takes" longer than the settle delay
/// by moving the clock while it lists, and a dispatcher pass runs in the middle of it, as the Manager's own
/// dispatcher service or another Manager's would.
@Suite("A Manager run's event times", .serialized)
struct ManagerEventTimeTests {
    static let quiet = Logger(label: "event-times", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A listing that takes its time: `during` runs before it answers (the test moves the clock and dispatches).
    final class SlowDiscovery: NetworkDiscovery {
        let provider = Cloud.azure
        let scopes: Set<Scope>
        let networks: [DiscoveredNetwork]
        let during: @Sendable () async throws -> Void
        private let failure = Mutex<String?>(nil)

        init(scopes: Set<Scope>, networks: [DiscoveredNetwork], during: @escaping @Sendable () async throws -> Void) {
            self.scopes = scopes
            self.networks = networks
            self.during = during
        }

        var problem: String? { failure.withLock { $0 } }
        func lists(_ scope: Scope) -> Bool { scopes.contains(scope) }

        func discover(_ scopes: [Scope]) async -> DiscoveryListing {
            do { try await during() } catch { failure.withLock { $0 = "\(error)" } }
            return DiscoveryListing(networks: networks, pages: 1)
        }
    }

    static func vnet(_ name: String, _ prefixes: [String]) -> DiscoveredNetwork {
        DiscoveredNetwork(
            provider: .azure, account: SampleConfiguration.subscription, region: "eastus",
            id:
                "/subscriptions/\(SampleConfiguration.subscription)/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/\(name)",
            prefixes: prefixes)
    }

    @Test(
        "a run whose Sync lasts longer than the settle delay, while the dispatcher's cursor passes the run's start: every event the run writes (changes through group commit, recorded space, replenished stock) is stamped after the Sync and delivered, once each, in order"
    )
    func longRunDelivered() async throws {
        let connection = try await TestStorage.connectionString()
        let tableName = TestStorage.uniqueName("evtime")
        let environment = SampleConfiguration.environment(
            table: tableName, connectionString: connection, stock: #"{"24":4}"#)
        let configuration = try IPAMConfiguration.load(environment: environment)
        let scope = configuration.defaultScope
        #expect(scope == WebhookCursorFaultTests.scope)
        let service = try await TestStorage.service()
        try await service.createTable(tableName)
        let table = service.table(tableName)
        let inventory = Inventory(table: table, actor: "manager-test")
        let time = ManualTime(start: Date().addingTimeInterval(-3600))
        let settle = WebhookSettings().settle
        let receiver = WebhookCursorFaultTests.Sink()
        let dispatcher = WebhookCursorFaultTests.dispatcher(table, actor: "dispatcher-a", time: time, sink: receiver)

        _ = await dispatcher.runOnce() // the cursor starts here
        let seeded = ["10.64.8.0/24", "10.64.9.0/24", "10.64.10.0/24", "10.64.11.0/24"].map {
            try! IPPrefix(parsing: $0)
        }
        _ = try await inventory.addStock(seeded, in: scope, now: time.now, detail: "seeded")
        time.advance(by: .seconds(settle + 1))
        #expect(await dispatcher.runOnce().delivered == 1, "the seeded stock's event")

        // While the Manager lists: a Vendor's lease event 10 s into the run, delivered by a pass past the settle delay.
        let vendorEvent = Mutex<String?>(nil)
        let runStart = time.now
        let discovery = SlowDiscovery(
            scopes: Set(configuration.scopes.keys),
            networks: [Self.vnet("unmanaged", ["10.64.8.0/23"]), Self.vnet("elsewhere", ["10.64.40.0/24"])]
        ) {
            time.advance(by: .seconds(10))
            let id = try await WebhookCursorFaultTests.commit("10.64.50.0/24", at: time.now, to: table)
            vendorEvent.withLock { $0 = id }
            time.advance(by: .seconds(settle + 5))
            _ = await dispatcher.runOnce()
        }
        let manager = ManagerRun(
            configuration: configuration, settings: ManagerSettings(), inventory: inventory, discovery: [discovery],
            logger: Self.quiet, time: time.source)
        let report = try await manager.run(now: runStart)
        #expect(discovery.problem == nil)
        let syncEnd = runStart.addingTimeInterval(10 + settle + 5)
        #expect(report.actions["occupy"] == 2, "both stocked /24s under the unmanaged VNet: \(report.actions)")
        #expect(report.actions["occupy-new"] == 1, "the space no row covered: \(report.actions)")
        #expect(report.replenish.stocked["\(scope.partitionKey)/24"] == 2, "the stock made whole again")
        let vendor = try #require(vendorEvent.withLock { $0 })
        #expect(receiver.received.last == vendor, "the cursor passed the run's start while it listed")

        // Every event after the Vendor's is the run's: stamped when its transaction was built, after the Sync.
        let written = try await inventory.events(
            in: scope, after: vendor, until: time.now.addingTimeInterval(3600), limit: 1000)
        #expect(
            written.map(\.action.rawValue).sorted() == ["occupy", "occupy", "occupy", "stock"],
            "two occupy changes, the recorded space, the new stock")
        for event in written {
            let at = try #require(event.id.flatMap(RowKeys.eventTime(ofKey:)))
            // (The key keeps nanoseconds through a Double: a microsecond's leeway.)
            #expect(
                at > syncEnd.addingTimeInterval(-1e-6), "\(event.action.rawValue) at \(at), the Sync ended \(syncEnd)")
        }

        time.advance(by: .seconds(settle + 1))
        for _ in 0..<3 { _ = await dispatcher.runOnce() }
        let all = try await inventory.events(
            in: scope, after: "event`", until: time.now.addingTimeInterval(3600), limit: 1000)
        #expect(all.count == written.count + 2)
        #expect(receiver.received == all.compactMap(\.id), "every event, the run's too, once each, oldest first")
    }
}
