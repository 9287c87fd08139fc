import ArgumentParser
import Foundation
import HTTPTransport
import IPAMCore
import Logging
import ServerLimits
import StrictJSON
import Synchronization
import TableEmulator

/// `ipam-dev webhook-receiver`: a local receiver for `WEBHOOKS_CONFIG` (the demo's): checks each delivery's
/// `ipam-signature` and its timestamp, drops redeliveries of an event id it already handled, and prints one
/// line per delivery.
struct WebhookReceiver: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook-receiver",
        abstract:
            "Receive webhook deliveries locally: verify each signature and timestamp, drop duplicate event ids, print a line per delivery.",
        discussion: """
            Answers 204 to a new event, 200 to a duplicate (the same ipam-event-id again: acknowledged, not handled twice), \
            401 to a bad signature or a timestamp more than --tolerance-seconds from this machine's clock.
            """)
    @Option(help: "Port (0 picks one and prints it as 'port: N').") var port = 0
    @Option(help: "The webhook's secret.") var secret: String
    @Option(help: "How far a delivery's signed timestamp may be from now, either way, in seconds.")
    var toleranceSeconds = Int(WebhookSignature.defaultTolerance)
    @Option(help: "How many recent event ids to remember for dropping duplicates (the oldest are forgotten first).")
    var remember = 10_000

    func validate() throws {
        guard toleranceSeconds >= 0 else { throw ValidationError("--tolerance-seconds must not be negative") }
        guard remember > 0 else { throw ValidationError("--remember must be at least 1") }
    }

    func run() async throws {
        guard
            let limits = HTTPServerLimits.forServerProcess(
                environment: ProcessInfo.processInfo.environment, program: "ipam-dev webhook-receiver")
        else {
            throw ExitCode(2)
        }
        let inbox = WebhookInbox(secret: secret, tolerance: TimeInterval(toleranceSeconds), remember: remember)
        let logger = Logger(label: "webhook-receiver", factory: { _ in SwiftLogNoOpLogHandler() })
        try await TableEmulatorServer.serve(
            host: "127.0.0.1", port: port, logger: logger, gracefulShutdown: true, limits: limits,
            handle: { request in
                let (status, line) = inbox.receive(
                    body: request.body, signature: request.headers[WebhookSignature.header],
                    eventId: request.headers["ipam-event-id"], now: Date())
                print(line)
                fflush(nil)
                return EmulatorResponse(status: status, headers: [:], body: [])
            },
            onReady: { bound in
                print("port: \(bound)")
                fflush(nil)
            })
    }
}

/// What the receiver does with one delivery: the status it answers and the line it prints.
final class WebhookInbox: Sendable {
    let secret: String
    let tolerance: TimeInterval
    private let seen: Mutex<RecentEventIDs>

    init(secret: String, tolerance: TimeInterval, remember: Int) {
        self.secret = secret
        self.tolerance = tolerance
        seen = Mutex(RecentEventIDs(capacity: remember))
    }

    /// Only a verified delivery's id is remembered: an unsigned request cannot mark an id as seen. The id is the
    /// body's `id`, which the signature covers (the `ipam-event-id` header only when the body has none): a replay
    /// with another header is still the same event.
    func receive(body: [UInt8], signature: String?, eventId header: String?, now: Date) -> (status: Int, line: String) {
        let event = (try? JSONValue.parse(body)) ?? .null
        func text(_ key: String) -> String { event[key]?.stringValue ?? "-" }
        let id = event["id"]?.stringValue ?? header ?? ""
        let summary =
            "\(text("type")) \(text("cidr")) lease \(text("leaseId")) by \(text("actor")) at \(text("at")) id \(id.isEmpty ? "-" : id)"
        switch WebhookSignature.verdict(signature ?? "", body: body, secret: secret, now: now, tolerance: tolerance) {
        case .badSignature: return (401, "BAD SIGNATURE \(summary)")
        case .staleTimestamp: return (401, "STALE TIMESTAMP \(summary)")
        case .valid:
            guard id.isEmpty || seen.withLock({ $0.insert(id) }) else { return (200, "duplicate dropped \(summary)") }
            return (204, "verified \(summary)")
        }
    }
}
