import ArgumentParser
import Foundation
import IPAMCore
import Logging
import ServerLimits
import StrictJSON
import TableEmulator

/// `ipam-dev webhook-receiver`: a local receiver for `WEBHOOKS_CONFIG` (the demo's): checks each delivery's
/// `ipam-signature` and prints one line per event.
struct WebhookReceiver: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "webhook-receiver",
                                                    abstract: "Receive webhook deliveries locally: verify each signature, print a line per event, answer 204 (401 when the signature is wrong).")
    @Option(help: "Port (0 picks one and prints it as 'port: N').") var port = 0
    @Option(help: "The webhook's secret.") var secret: String

    func run() async throws {
        let secret = self.secret
        guard let limits = HTTPServerLimits.forServerProcess(environment: ProcessInfo.processInfo.environment, program: "ipam-dev webhook-receiver") else {
            throw ExitCode(2)
        }
        let logger = Logger(label: "webhook-receiver", factory: { _ in SwiftLogNoOpLogHandler() })
        try await TableEmulatorServer.serve(host: "127.0.0.1", port: port, logger: logger, gracefulShutdown: true, limits: limits, handle: { request in
            let signed = WebhookSignature.verify(request.headers[WebhookSignature.header] ?? "", body: request.body, secret: secret)
            let event = (try? JSONValue.parse(request.body)) ?? .null
            func text(_ key: String) -> String { event[key]?.stringValue ?? "-" }
            print("\(signed ? "verified" : "BAD SIGNATURE") \(text("type")) \(text("cidr")) lease \(text("leaseId")) by \(text("actor")) at \(text("at")) id \(text("id"))")
            fflush(nil)
            return EmulatorResponse(status: signed ? 204 : 401, headers: [:], body: [])
        }, onReady: { bound in
            print("port: \(bound)")
            fflush(nil)
        })
    }
}
