import AzureTables
import Foundation
import HTTPTransport
import IPAMBootstrap
import IPAMCore
import Inventory
import Logging
import ManagerJobs
import StrictJSON
import Synchronization
import TableEmulator
import TestSupport
import Testing

/// A webhook receiver: records every POST (in arrival order) and answers as told.
final class Receiver: Sendable {
    struct Delivery: Sendable {
        let id: String
        let type: String
        let at: String
        let signed: Bool
        let accepted: Bool
        /// The raw body and its `ipam-signature` header, as they arrived.
        let body: [UInt8]
        let signature: String
    }
    private let state = Mutex<(deliveries: [Delivery], down: Bool, refused: Set<String>, delayMs: Int)>(
        ([], false, [], 0))
    let secret: String
    /// The receiver's clock, which signatures' timestamps are checked against (the dispatcher's, in tests that move it).
    let now: @Sendable () -> Date

    init(secret: String, now: @escaping @Sendable () -> Date = { Date() }) {
        self.secret = secret
        self.now = now
    }

    var down: Bool {
        get { state.withLock { $0.down } }
        set { state.withLock { $0.down = newValue } }
    }
    /// Event types answered 500 for ever (to be dead-lettered).
    func refuse(_ type: String) { state.withLock { _ = $0.refused.insert(type) } }
    func delay(ms: Int) { state.withLock { $0.delayMs = ms } }
    var deliveries: [Delivery] { state.withLock { $0.deliveries } }
    /// Ids of the deliveries it accepted (2xx), in arrival order.
    var accepted: [String] { deliveries.filter(\.accepted).map(\.id) }

    func handle(_ request: EmulatorRequest) async -> EmulatorResponse {
        let body = (try? JSONValue.parse(request.body)) ?? .null
        let id = body["id"]?.stringValue ?? ""
        let type = body["type"]?.stringValue ?? ""
        let signature = request.headers[WebhookSignature.header] ?? ""
        let signed =
            WebhookSignature.verify(signature, body: request.body, secret: secret, now: now())
            && request.headers["ipam-event-id"] == id
        let (down, refused, delay) = state.withLock { ($0.down, $0.refused.contains(type), $0.delayMs) }
        if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
        let accepted = !down && !refused
        state.withLock {
            $0.deliveries.append(
                Delivery(
                    id: id, type: type, at: body["at"]?.stringValue ?? "", signed: signed, accepted: accepted,
                    body: request.body, signature: signature))
        }
        return EmulatorResponse(status: accepted ? 204 : (down ? 503 : 500), headers: [:], body: [])
    }
}

/// Webhooks: at least once, in order per scope, signed; a receiver that is down gets everything afterwards;
/// dead letters after the attempts; two dispatchers never send an event twice; a dispatcher killed mid-delivery
/// loses nothing.
@Suite("Webhooks", .serialized)
struct WebhookTests {
    static let secret = "whsec-0123456789abcdef"
    static let scope = Scope(subscriptionId: SampleConfiguration.subscription, region: "eastus")

    static func config(port: Int, events: String = #"["leased","released","reserved"]"#) -> String {
        #"[{"name":"ops","url":"http://127.0.0.1:\#(port)/hook","secret":"\#(secret)","events":\#(events)}]"#
    }

    /// The ids of the events a webhook for `types` should get, oldest first.
    static func expected(_ table: TableClient, types: Set<String>) async throws -> [String] {
        let inventory = Inventory(table: table, actor: "test")
        return try await inventory.events(
            in: scope, after: "event`", until: Date().addingTimeInterval(3600), limit: 10_000
        )
        .filter { types.contains(WebhookEvent.type(of: $0.action.rawValue)) }.compactMap(\.id)
    }

    static func dispatcher(
        _ table: TableClient, _ webhooks: [Webhook], actor: String, time: ManualTime,
        settings: WebhookSettings = WebhookSettings()
    ) -> WebhookDispatcher {
        let transport = TestStorage.transport
        return WebhookDispatcher(
            webhooks: webhooks, scopes: [scope], inventory: Inventory(table: table, actor: actor), settings: settings,
            logger: Logger(label: "webhooks-test", factory: { _ in SwiftLogNoOpLogHandler() }), now: { time.now },
            send: Bootstrap.webhookSender(transport: transport))
    }

    @Test(
        "receiver down: retried with backoff, then everything delivered in order, signed, once each; an event it always refuses is dead-lettered and the rest go on; GET /api/webhooks/ops/deliveries shows both"
    )
    func downThenUpAndDeadLetters() async throws {
        let time = ManualTime(start: Date().addingTimeInterval(-120))
        let receiver = Receiver(secret: Self.secret, now: { time.now })
        try await TestServers.withFakeServer({ await receiver.handle($0) }) { port in
            try await VendorHarness.withVendor(environment: ["WEBHOOKS_CONFIG": Self.config(port: port)]) {
                url, table, configuration in
                let dispatcher = Self.dispatcher(table, configuration.webhooks, actor: "dispatcher-a", time: time)
                _ = await dispatcher.runOnce() // the cursor starts here
                for index in 0..<10 {
                    _ = try await HTTPCalls.send(
                        "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"wh-\#(index)","prefixLength":24}"#)
                }
                for index in 0..<3 {
                    _ = try await HTTPCalls.send(
                        "POST", url + "/api/releaseNetwork", body: #"{"SessionId":"wh-\#(index)"}"#)
                }
                time.set(Date().addingTimeInterval(60)) // past the settle delay

                receiver.down = true
                for _ in 0..<3 {
                    let pass = await dispatcher.runOnce()
                    #expect(
                        pass.delivered == 0 && pass.failed == 1,
                        "one attempt at the oldest event, then it waits: \(pass)")
                    #expect(await dispatcher.runOnce().skipped == 1, "backing off")
                    time.advance(by: .seconds(300))
                }
                receiver.down = false
                for _ in 0..<5 { _ = await dispatcher.runOnce() }
                let expected = try await Self.expected(table, types: ["leased", "released", "reserved"])
                #expect(expected.count == 13)
                #expect(receiver.accepted == expected, "in order, each once")
                #expect(receiver.deliveries.allSatisfy { $0.signed })
                #expect(
                    receiver.deliveries.filter { !$0.accepted }.count == 3
                        && Set(receiver.deliveries.filter { !$0.accepted }.map(\.id)) == [expected[0]])

                // A reservation the receiver always refuses: dead-lettered after the attempts; the lease after it still arrives.
                receiver.refuse("reserved")
                _ = try await HTTPCalls.send(
                    "POST", url + "/api/reservations",
                    body: #"{"cidr":"10.64.250.0/24","owner":"ops","reason":"dead letter"}"#)
                _ = try await HTTPCalls.send(
                    "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"wh-after","prefixLength":24}"#)
                time.set(Date().addingTimeInterval(60))
                var dead = 0
                for _ in 0..<12 {
                    dead += await dispatcher.runOnce().deadLettered
                    time.advance(by: .seconds(301))
                }
                #expect(dead == 1)
                let all = try await Self.expected(table, types: ["leased", "released", "reserved"])
                #expect(
                    receiver.accepted
                        == all.filter { id in !receiver.deliveries.contains { $0.id == id && $0.type == "reserved" } },
                    "everything but the dead letter, in order")
                #expect(receiver.deliveries.filter { $0.type == "reserved" }.count == WebhookSettings().maxAttempts)

                let shown = try await HTTPCalls.send("GET", url + "/api/webhooks/ops/deliveries")
                #expect(shown.status == 200 && shown.json?["deadLetters"]?.arrayValue?.count == 1, "\(shown.text)")
                #expect(
                    shown.json?["deadLetters"]?.arrayValue?.first?["type"]?.stringValue == "reserved"
                        && shown.json?["deadLetters"]?.arrayValue?.first?["body"]?["cidr"]?.stringValue
                            == "10.64.250.0/24"
                )
                let cursor = shown.json?["cursors"]?.arrayValue?.first
                #expect(
                    cursor?["delivered"] == .number("14") && cursor?["deadLettered"] == .number("1")
                        && cursor?["attempts"] == .number("0"), "\(cursor ?? .null)")
                #expect(try await HTTPCalls.send("GET", url + "/api/webhooks/nobody/deliveries").code == "NotFound")
            }
        }
    }

    @Test("two dispatchers passing over the same trail at once: every event delivered, none twice")
    func twoDispatchers() async throws {
        let receiver = Receiver(secret: Self.secret)
        receiver.delay(ms: 3)
        try await TestServers.withFakeServer({ await receiver.handle($0) }) { port in
            try await VendorHarness.withVendor(environment: [
                "WEBHOOKS_CONFIG": Self.config(port: port, events: #"["*"]"#)
            ]) { url, table, configuration in
                let time = ManualTime(start: Date().addingTimeInterval(-120))
                let first = Self.dispatcher(table, configuration.webhooks, actor: "dispatcher-a", time: time)
                let second = Self.dispatcher(table, configuration.webhooks, actor: "dispatcher-b", time: time)
                _ = await first.runOnce()
                for index in 0..<30 {
                    _ = try await HTTPCalls.send(
                        "POST", url + "/api/getNewNetwork",
                        body: #"{"SessionId":"two-\#(index)","prefixLength":\#(index % 2 == 0 ? 24 : 26)}"#)
                }
                time.set(Date().addingTimeInterval(60))
                await withTaskGroup(of: Void.self) { group in
                    for dispatcher in [first, second] {
                        group.addTask { for _ in 0..<20 { _ = await dispatcher.runOnce() } }
                    }
                }
                let expected = try await Self.expected(table, types: WebhookEvent.all)
                #expect(expected.count >= 30)
                #expect(
                    receiver.accepted == expected,
                    "all, in order, none twice (\(receiver.accepted.count) sent for \(expected.count))")
            }
        }
    }

    @Test(
        "manager dispatch SIGKILLed in the middle of a delivery: a second one delivers the rest after the hold runs out; nothing lost, a duplicate carries the same id"
    )
    func killedMidDelivery() async throws {
        let receiver = Receiver(secret: Self.secret)
        receiver.delay(ms: 150)
        try await TestServers.withFakeServer({ await receiver.handle($0) }) { port in
            let stack = ProcessStack()
            defer { stack.stopAll() }
            let storage = try await stack.startStorage()
            let tableName = TestStorage.uniqueName("hooks")
            var environment = try await stack.managerEnvironment(table: tableName, storage: storage)
            environment["WEBHOOKS_CONFIG"] = Self.config(port: port, events: #"["leased"]"#)
            environment["WEBHOOK_SETTLE_SECONDS"] = "0.5"
            environment["WEBHOOK_POLL_SECONDS"] = "0.2"
            environment["WEBHOOK_HOLD_SECONDS"] = "2"
            let table = try TableServiceClient(connectionString: storage, transport: TestStorage.transport).table(
                tableName)
            let vendor = try await stack.startVendor(environment: environment)
            let dispatcher = try stack.start(
                "manager", arguments: ["dispatch", "--log-level", "error"], environment: environment)
            let inventory = Inventory(table: table, actor: "test")
            for _ in 0..<200 where try await inventory.webhookCursor("ops", in: Self.scope) == nil {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(
                try await inventory.webhookCursor("ops", in: Self.scope) != nil, "the dispatcher started its cursor")
            for index in 0..<12 {
                _ = try await HTTPCalls.send(
                    "POST", vendor + "/api/getNewNetwork", body: #"{"SessionId":"kill-\#(index)","prefixLength":24}"#)
            }
            for _ in 0..<400 where receiver.deliveries.count < 4 { try await Task.sleep(for: .milliseconds(25)) }
            kill(dispatcher.processIdentifier, SIGKILL) // most likely while a POST waits for its answer
            dispatcher.waitUntilExit()
            let before = receiver.deliveries.count
            #expect(before >= 4 && before < 12, "killed mid-way (\(before) of 12 sent)")
            _ = try stack.start("manager", arguments: ["dispatch", "--log-level", "error"], environment: environment)
            let expected = try await Self.expected(table, types: ["leased"])
            #expect(expected.count == 12)
            for _ in 0..<600 where !Set(expected).isSubset(of: Set(receiver.accepted)) {
                try await Task.sleep(for: .milliseconds(50))
            }
            let accepted = receiver.accepted
            #expect(Set(accepted) == Set(expected), "nothing lost")
            #expect(
                accepted.count - Set(accepted).count <= 1,
                "at most the event in flight came twice: \(accepted.count) for \(Set(accepted).count)")
            var seen = Set<String>()
            let firstTimes = accepted.filter { seen.insert($0).inserted }
            #expect(firstTimes == expected, "in order")
        }
    }
}
