import ArgumentParser
import Foundation
import Hummingbird
import IPAMBootstrap
import IPAMCore
import Logging
import MCP
import MCPServer
import ServerLimits
import VendorClient

/// `ipam-mcp`: ipam's tools for MCP clients (agents), over stdio (the default) or Streamable HTTP (`serve`).
@main
struct IPAMMCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ipam-mcp", abstract: "ipam's MCP server: lease networks from agents.",
        discussion:
            "The Vendor is --vendor-url or IPAM_VENDOR_URL. Over stdio the Vendor API key comes from IPAM_API_KEY; over HTTP each request's bearer key is passed through.",
        subcommands: [Stdio.self, Serve.self], defaultSubcommand: Stdio.self)
}

/// What this executable builds from the environment (read once), through the composition root.
let caller = VendorCaller()

/// Logs go to standard error only: standard output carries nothing but the protocol.
func stderrLogger(_ label: String, level: String) -> Logger {
    var logger = Logger(label: label, factory: { StreamLogHandler.standardError(label: $0) })
    logger.logLevel = Logger.Level(rawValue: level) ?? .info
    return logger
}

struct Stdio: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stdio", abstract: "Serve MCP over standard input and output (the default).")
    @Option(help: "The Vendor's base URL (default: IPAM_VENDOR_URL, else http://127.0.0.1:7071).") var vendorURL:
        String?
    @Option(help: "Log level (logs go to standard error).") var logLevel = "warning"

    func run() async throws {
        let logger = stderrLogger("ipam.mcp", level: logLevel)
        let client = caller.client(vendorURL: vendorURL, withKey: true)
        let server = await IPAMMCPServer.make { _ in client }
        try await server.start(transport: StdioTransport(logger: logger))
        logger.info("serving MCP over stdio", metadata: ["vendor": .string(client.baseURL)])
        await server.waitUntilCompleted()
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve MCP over Streamable HTTP at /mcp.")
    @Option(help: "The Vendor's base URL (default: IPAM_VENDOR_URL, else http://127.0.0.1:7071).") var vendorURL:
        String?
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks one and prints it).") var port = 7080
    @Option(
        name: .customLong("allow-origin"),
        help: "An Origin allowed to call (repeatable); requests with any other Origin get 403.") var allowedOrigins:
        [String] = []
    @Option(help: "Sessions open at once, in total (an initialize beyond it gets 503).") var maxSessions =
        MCPHTTPSessions.Limits().maxSessions
    @Option(help: "Sessions open at once per key or token (an initialize beyond it gets 429).")
    var maxSessionsPerCaller = MCPHTTPSessions.Limits().maxSessionsPerCaller
    @Option(help: "A session unused this many seconds is closed.") var sessionIdleSeconds = Int(
        MCPHTTPSessions.Limits().idleTimeout.components.seconds)
    @Option(help: "Log level (logs go to standard error).") var logLevel = "info"

    func validate() throws {
        guard maxSessions >= 1, maxSessionsPerCaller >= 1 else {
            throw ValidationError("--max-sessions and --max-sessions-per-caller must be at least 1")
        }
        guard sessionIdleSeconds >= 1 else { throw ValidationError("--session-idle-seconds must be at least 1") }
    }

    func run() async throws {
        guard let limits = caller.serverLimits(program: "ipam-mcp")
        else { throw ExitCode(2) }
        let logger = stderrLogger("ipam.mcp", level: logLevel)
        let vendor = caller.client(vendorURL: vendorURL, withKey: false)
        let sessionLimits = MCPHTTPSessions.Limits(
            maxSessions: maxSessions, maxSessionsPerCaller: maxSessionsPerCaller,
            idleTimeout: .seconds(sessionIdleSeconds))
        let sessions = MCPHTTPSessions(
            vendor: vendor, allowedOrigins: Set(allowedOrigins), logger: logger, limits: sessionLimits)
        let router = Router()
        router.add(middleware: AnswerHeadersMiddleware())
        router.get("/healthz") { _, _ in Response(status: .ok) }
        sessions.addRoutes(to: router)
        let host = self.host
        let port = self.port
        let app = Application(
            router: router, server: .http1(limits: limits, logger: logger),
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                print("ipam-mcp listening on http://\(host):\(bound)/mcp (Vendor \(vendor.baseURL); \(limits))")
                print("port: \(bound)")
                fflush(nil)
            }, logger: logger)
        try await app.runService()
    }
}
