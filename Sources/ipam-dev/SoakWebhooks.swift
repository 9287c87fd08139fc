import Foundation
import HTTPTransport
import IPAMCore
import Logging
import Synchronization
import TableEmulator

/// The soak's webhook receiver, in this process: verifies each delivery's signature and counts deliveries per
/// event id (a redelivery carries the same id), answering 204 to every verified one.
final class SoakWebhookSink: Sendable {
    let secret: String
    private let state = Mutex<(counts: [String: Int], refused: Int)>(([:], 0))

    init(secret: String) { self.secret = secret }

    /// Verified deliveries per event id.
    var counts: [String: Int] { state.withLock { $0.counts } }
    /// Deliveries refused for a bad signature or timestamp.
    var refused: Int { state.withLock { $0.refused } }

    func receive(_ request: EmulatorRequest) -> EmulatorResponse {
        let verdict = WebhookSignature.verdict(
            request.headers[WebhookSignature.header] ?? "", body: request.body, secret: secret, now: Date(),
            tolerance: WebhookSignature.defaultTolerance)
        guard verdict == .valid, let id = request.headers["ipam-event-id"], !id.isEmpty else {
            state.withLock { $0.refused += 1 }
            return EmulatorResponse(status: 401, headers: [:], body: [])
        }
        state.withLock { $0.counts[id, default: 0] += 1 }
        return EmulatorResponse(status: 204, headers: [:], body: [])
    }

    /// Serves on an ephemeral port of 127.0.0.1 for the rest of the process; returns the port.
    func start() async throws -> Int {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let logger = Logger(label: "soak-webhooks", factory: { _ in SwiftLogNoOpLogHandler() })
        Task.detached { [self] in
            do {
                try await TableEmulatorServer.serve(
                    host: "127.0.0.1", port: 0, logger: logger, handle: { self.receive($0) },
                    onReady: { continuation.yield($0) })
            } catch {
                continuation.finish()
            }
        }
        for await port in ports { return port }
        throw SoakProcess.Failure(description: "the webhook receiver did not start")
    }
}
