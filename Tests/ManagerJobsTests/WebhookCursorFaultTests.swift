import AzureCore
import AzureTables
import FaultProxy
import Foundation
import IPAMCore
import Inventory
import Logging
import ManagerJobs
import Synchronization
import TableEmulator
import TestSupport
import Testing

/// The webhook dispatcher's cursor writes through a fault proxy in front of a real table emulator, with its clock
/// injected: each fault is armed by the delivery just before the write it hits, so every step is deterministic.
/// The chaos soak's findings (docs/Performance.md): an event delivered three times when its cursor write was refused
/// twice in a row, and an event never delivered because its write committed after the settle time.
@Suite("Webhook cursor faults", .serialized)
struct WebhookCursorFaultTests {
    static let scope = Scope(subscriptionId: SampleConfiguration.subscription, region: "eastus")
    static let webhook = Webhook(
        name: "ops", url: "http://127.0.0.1:9/hook", secret: "whsec-0123456789abcdef", events: ["*"])

    /// What the receiver got (event ids in arrival order), answering 204 to each; `arm` is told each delivery
    /// and how many times that event has come, before the answer (so a fault it sets hits the next cursor write).
    final class Sink: Sendable {
        private let ids = Mutex<[String]>([])
        let arm: @Sendable (_ id: String, _ time: Int) -> Void

        init(arm: @escaping @Sendable (String, Int) -> Void = { _, _ in }) { self.arm = arm }

        var received: [String] { ids.withLock { $0 } }

        func send(_ headers: [(name: String, value: String)]) -> Int {
            let id = headers.first { $0.name == "ipam-event-id" }?.value ?? ""
            let times = ids.withLock { list in
                list.append(id)
                return list.filter { $0 == id }.count
            }
            arm(id, times)
            return 204
        }
    }

    /// One test's setup: a fresh table, a fault proxy in front of it, and the time the dispatchers read, an hour
    /// back at first.
    struct Rig: Sendable {
        /// The table written directly: where events are committed and the cursor read back.
        let table: TableClient
        let proxy: FaultProxy
        /// The table through the proxy, without retries: where the dispatchers write their cursors.
        let through: TableClient
        let start: Date
        let time: ManualTime

        /// A receiver that, at each delivery, arms the proxy with what `faults` gives for that event and the
        /// number of times it has come (no fault at all unless it says so).
        func sink(arming faults: @escaping @Sendable (_ id: String, _ times: Int) -> FaultProxy.Faults) -> Sink {
            Sink { id, times in proxy.faults = faults(id, times) }
        }

        /// The scope's dispatcher of `webhook` as `actor`, writing its cursor through the proxy and posting to `sink`.
        func dispatcher(_ actor: String, sink: Sink) -> WebhookDispatcher {
            WebhookCursorFaultTests.dispatcher(through, actor: actor, time: time, sink: sink)
        }

        /// Runs `dispatcher` once with the proxy's faults cleared first (a delivery may arm them again).
        func runUnfaulted(_ dispatcher: WebhookDispatcher) async -> WebhookDispatcher.Report {
            proxy.faults = FaultProxy.Faults()
            return await dispatcher.runOnce()
        }

        /// Stores an event keyed at `at` now, directly; its id.
        func commit(_ cidr: String, at: Date) async throws -> String {
            try await WebhookCursorFaultTests.commit(cidr, at: at, to: table)
        }
    }

    /// Runs `body` with a fresh `Rig`: a new table in the tests' emulator and a fault proxy in front of it.
    static func withRig(_ body: (Rig) async throws -> Void) async throws {
        try await FaultProxiedTable.with("hookfault") { tables in
            let start = Date().addingTimeInterval(-3600)
            try await body(
                Rig(
                    table: tables.direct, proxy: tables.proxy, through: tables.through, start: start,
                    time: ManualTime(start: start)))
        }
    }

    static func dispatcher(_ table: TableClient, actor: String, time: ManualTime, sink: Sink)
        -> WebhookDispatcher
    {
        WebhookDispatcher(
            webhooks: [webhook], scopes: [scope], inventory: Inventory(table: table, actor: actor),
            settings: WebhookSettings(),
            logger: Logger(label: "webhook-faults", factory: { _ in SwiftLogNoOpLogHandler() }),
            now: { time.now }, send: { _, headers, _ in sink.send(headers) })
    }

    /// Ids known to a test and to the closures it hands out.
    final class IDs: Sendable {
        private let ids = Mutex<[String]>([])
        var all: [String] { ids.withLock { $0 } }
        func append(_ id: String) { ids.withLock { $0.append(id) } }
    }

    /// An event of the scope keyed at `at`, as a change's transaction writes it (not yet stored).
    static func event(_ cidr: String, at: Date) -> TableEntity {
        AuditEvent(
            action: .known(.lease), actor: "test", cidr: cidr, leaseId: "", sessionId: "",
            before: .known(.available), after: .known(.leased)
        ).entity(partitionKey: scope.partitionKey, at: at)
    }

    /// Stores an event keyed at `at` now; its id.
    static func commit(_ cidr: String, at: Date, to table: TableClient) async throws -> String {
        let entity = event(cidr, at: at)
        _ = try await table.insert(entity)
        return entity.rowKey
    }

    @Test(
        "a cursor write that fails after the receiver's 2xx (refused 412 as in the soak's storm, answered 500 after it was applied, refused 503) never sends that event again: each delivered once, in order, and the cursor counts each once"
    )
    func failedCursorWritesSendNothingTwice() async throws {
        try await Self.withRig { rig in
            let (start, time, proxy) = (rig.start, rig.time, rig.proxy)
            let ids = IDs()
            let receiver = rig.sink { id, count in
                let known = ids.all
                var faults = FaultProxy.Faults()
                // Each of the first two sends of the first event arms a refusal of the write after it: the soak's
                // three deliveries, when each failed cursor write cost a POST.
                if id == known.first, count <= 2 {
                    faults.preconditionStorm = 1
                } else if known.count > 1, id == known[1] {
                    faults.errorAfterForward = 1 // written, answered 500: the outcome unknown
                } else if known.count > 2, id == known[2] {
                    faults.serverBusy = 1 // refused, nothing written
                }
                return faults
            }
            let dispatcher = rig.dispatcher("dispatcher-a", sink: receiver)
            _ = await dispatcher.runOnce() // the cursor starts here
            for index in 0..<5 {
                let at = start.addingTimeInterval(Double(index + 1))
                let id = try await rig.commit("10.0.\(index).0/24", at: at)
                ids.append(id)
            }
            let expected = ids.all
            time.set(start.addingTimeInterval(60)) // every event older than the settle time
            for _ in 0..<8 {
                _ = await rig.runUnfaulted(dispatcher)
            }
            #expect(proxy.counts["preconditionStorm"] == 1, "\(proxy.counts)")
            #expect(proxy.counts["errorAfterForward"] == 1, "\(proxy.counts)")
            #expect((proxy.counts["serverBusy"] ?? 0) >= 1, "\(proxy.counts)")
            #expect(receiver.received == expected, "each once, in order")
            let cursor = try await Inventory(table: rig.table, actor: "test").webhookCursor("ops", in: Self.scope)
            #expect(cursor?.lastEvent == expected.last)
            #expect(cursor?.delivered == expected.count)
            #expect(cursor?.holder == nil, "the hold given back")
        }
    }

    @Test(
        "a holder that lost its hold: the next holder sends its event again (at least once), and the first goes on after the cursor without sending it again"
    )
    func takeoverSendsAgain() async throws {
        try await Self.withRig { rig in
            let (start, time) = (rig.start, rig.time)
            let ids = IDs()
            let receiver = rig.sink { id, _ in
                var faults = FaultProxy.Faults()
                if id == ids.all.first { faults.preconditionStorm = 1 } // the write after the first send refused
                return faults
            }
            let other = Sink()
            let first = rig.dispatcher("dispatcher-a", sink: receiver)
            let second = rig.dispatcher("dispatcher-b", sink: other)
            _ = await first.runOnce()
            let early = try await rig.commit("10.1.0.0/24", at: start.addingTimeInterval(1))
            ids.append(early)
            let next = try await rig.commit("10.1.1.0/24", at: start.addingTimeInterval(2))
            time.set(start.addingTimeInterval(60))
            #expect(await rig.runUnfaulted(first).delivered == 1, "sent, its cursor write refused")
            #expect(await rig.runUnfaulted(second).skipped == 1, "the first still holds the cursor")
            time.advance(by: .seconds(WebhookSettings().hold + 1))
            #expect(await rig.runUnfaulted(second).delivered == 2, "the hold ran out: the second sends both")
            let later = try await rig.commit(
                "10.1.2.0/24", at: time.now.addingTimeInterval(-WebhookSettings().settle - 1))
            #expect(await rig.runUnfaulted(first).delivered == 1)
            #expect(receiver.received == [early, later], "the first sent the early event once and the later one")
            #expect(other.received == [early, next], "the second sent again the event whose hold it took over")
            let cursor = try await Inventory(table: rig.table, actor: "test").webhookCursor("ops", in: Self.scope)
            #expect(cursor?.lastEvent == later)
            #expect(cursor?.delivered == 3)
        }
    }

    @Test(
        "an event whose write commits later than the settle time after its key is passed by the cursor and never delivered; one that commits within it is delivered in order"
    )
    func settleBoundsLateCommits() async throws {
        try await Self.withRig { rig in
            let (table, start, time) = (rig.table, rig.start, rig.time)
            let receiver = Sink()
            let dispatcher = rig.dispatcher("dispatcher-a", sink: receiver)
            let settle = WebhookSettings().settle
            _ = await dispatcher.runOnce()
            // Keyed at +5 s, committed only after a newer event was delivered: 6 s past the settle time.
            let late = Self.event("10.2.0.0/24", at: start.addingTimeInterval(5))
            let newer = try await rig.commit("10.2.1.0/24", at: start.addingTimeInterval(10))
            time.set(start.addingTimeInterval(10 + settle + 1))
            _ = await dispatcher.runOnce()
            #expect(receiver.received == [newer])
            _ = try await table.insert(late)
            // Keyed at `within`, committed 1 s short of the settle time later, after a newer event: delivered first.
            let within = time.now.addingTimeInterval(5)
            let pending = Self.event("10.2.2.0/24", at: within)
            let after = try await rig.commit("10.2.3.0/24", at: within.addingTimeInterval(1))
            time.set(within.addingTimeInterval(settle - 1))
            _ = await dispatcher.runOnce() // neither is older than the settle time yet
            #expect(receiver.received == [newer])
            _ = try await table.insert(pending)
            time.set(within.addingTimeInterval(settle + 2))
            _ = await dispatcher.runOnce()
            #expect(receiver.received == [newer, pending.rowKey, after], "the late one never")
            #expect(!receiver.received.contains(late.rowKey))
        }
    }
}
