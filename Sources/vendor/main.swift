import ArgumentParser
import Foundation
import Hummingbird
import IPAMBootstrap
import IPAMCore
import ServerLimits
import VendorConsole
import VendorDomain
import VendorHTTP

/// `vendor`: the stateless HTTP service that leases network blocks.
@main
struct VendorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vendor", abstract: "ipam Vendor: leases network blocks over HTTP.",
        subcommands: [Serve.self], defaultSubcommand: Serve.self)
}

/// What `vendor` serves is built by the composition root (`IPAMBootstrap`'s `VendorComposition`); this executable
/// keeps its arguments and the server's lifecycle.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve POST /api/getNewNetwork and the lease API.",
        discussion: """
            Configuration comes from the environment (see docs/Configuration.md): AzureWebJobsStorage, SUPERNETS_CONFIG, \
            SCOPE_CONFIG_MANIFEST, CIDR_SIZE_MIN/MAX/DEFAULT, LEASE_DURATION_HOURS, IPAM_TABLE_NAME, VENDOR_API_KEYS, VENDOR_ADMIN_KEYS, VENDOR_READER_KEYS, AUTH_JWT_ISSUER, AUTH_JWT_AUDIENCE, AUTH_JWT_ROLE_MAP, AUDIT_SALT, \
            IPAM_STORAGE_TIMEOUT_MS, IPAM_HTTP_MAX_CONNECTIONS, IPAM_HTTP_IDLE/HEADER/BODY_TIMEOUT_SECONDS. \
            Under the Azure Functions host, FUNCTIONS_CUSTOMHANDLER_PORT overrides --port.
            """)

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks one and prints it).") var port = 7071
    @Flag(help: "Serve without caller authentication (local development only).") var insecureNoAuth = false
    @Option(help: "Log level.") var logLevel = "info"

    func run() async throws {
        let vendor: VendorComposition
        do {
            vendor = try await VendorComposition.load(
                logLevel: logLevel, insecureNoAuth: insecureNoAuth, environment: Bootstrap.processEnvironment())
        } catch {
            FileHandle.standardError.write(Data(error.message.utf8))
            throw ExitCode(error.exitCode)
        }
        for notice in vendor.notices { FileHandle.standardError.write(Data((notice + "\n").utf8)) }
        let limits = vendor.httpLimits
        let metrics = vendor.metrics
        let listenPort = vendor.listenPort(port)
        let host = self.host
        let auth = vendor.settings.authenticationSummary
        let endpoint = vendor.tableEndpoint
        let tableName = vendor.configuration.tableName
        let consoleOn = vendor.settings.console != nil
        let consolePlainHTTP = vendor.settings.console?.plainHTTP == true
        let app = Application(
            router: vendor.router(),
            server: .http1(
                limits: limits, logger: vendor.logger, onClose: { metrics.recordConnectionClosed(reason: $0.rawValue) }),
            configuration: .init(address: .hostname(host, port: listenPort), serverName: nil),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? listenPort
                print("vendor listening on http://\(host):\(bound) (table \(tableName) at \(endpoint); auth \(auth))")
                print("connections: \(limits)")
                if consoleOn {
                    print(
                        "console: http://\(host):\(bound)/console"
                            + (consolePlainHTTP ? " (CONSOLE_PLAIN_HTTP: cookies not Secure, local use only)" : ""))
                }
                print("port: \(bound)")
                fflush(nil)
            }, logger: vendor.logger)
        try await app.runService()
    }
}
