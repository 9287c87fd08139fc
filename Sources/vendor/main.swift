import ArgumentParser
import AzureCore
import AzureTables
import Foundation
import HTTPTransport
import Hummingbird
import IPAMCore
import Inventory
import Logging
import VendorService

/// `vendor`: the stateless HTTP service that leases network blocks.
@main
struct VendorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "vendor", abstract: "ipam Vendor: leases network blocks over HTTP.",
                                                    subcommands: [Serve.self], defaultSubcommand: Serve.self)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve POST /api/getNewNetwork and the lease API.",
        discussion: """
        Configuration comes from the environment (see docs/Configuration.md): AzureWebJobsStorage, SUPERNETS_CONFIG, \
        SCOPE_CONFIG_MANIFEST, CIDR_SIZE_MIN/MAX/DEFAULT, LEASE_DURATION_HOURS, IPAM_TABLE_NAME, VENDOR_API_KEYS, \
        IPAM_STORAGE_TIMEOUT_MS. \
        Under the Azure Functions host, FUNCTIONS_CUSTOMHANDLER_PORT overrides --port.
        """)

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks one and prints it).") var port = 7071
    @Flag(help: "Serve without caller authentication (local development only).") var insecureNoAuth = false
    @Option(help: "Log level.") var logLevel = "info"

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let configuration: IPAMConfiguration
        do { configuration = try IPAMConfiguration.load(environment: environment) } catch {
            FileHandle.standardError.write(Data(("vendor: invalid configuration:\n" + error.lines.map { "  " + $0 }.joined(separator: "\n") + "\n").utf8))
            throw ExitCode(2)
        }
        let keys = APIKeys(environmentValue: environment["VENDOR_API_KEYS"])
        if keys.isEmpty && !insecureNoAuth {
            FileHandle.standardError.write(Data("vendor: VENDOR_API_KEYS is empty; set keys or pass --insecure-no-auth for local use\n".utf8))
            throw ExitCode(2)
        }
        var logger = Logger(label: "ipam.vendor")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let connection: StorageConnectionString
        do { connection = try StorageConnectionString(parsing: configuration.storageConnectionString) } catch {
            FileHandle.standardError.write(Data("vendor: invalid configuration:\n  AzureWebJobsStorage: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let timeoutMs = environment["IPAM_STORAGE_TIMEOUT_MS"].flatMap(Int.init) ?? 10_000
        let transport = CurlTransport(configuration: .init(connectTimeout: .seconds(5), requestTimeout: .milliseconds(Int64(max(100, timeoutMs)))))
        let credential = connection.accountKey == nil ? DefaultAzureCredential.fromEnvironment(environment, transport: transport) : nil
        let metrics = VendorMetrics()
        let service = try TableServiceClient(connectionString: connection, transport: transport, credential: credential,
                                             retryPolicy: RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(50), maxDelay: .seconds(2), deadline: .seconds(10)),
                                             logger: logger, onAttempt: { metrics.recordStorageAttempt($0) })
        let pid = ProcessInfo.processInfo.processIdentifier
        let inventory = Inventory(table: service.table(configuration.tableName), actor: "vendor@\(ProcessInfo.processInfo.hostName):\(pid)")
        try await inventory.ensureTable()
        let vendor = VendorService(configuration: configuration, inventory: inventory, logger: logger, metrics: metrics)
        let router = VendorRouter.build(service: vendor, keys: insecureNoAuth ? nil : keys, logger: logger) {
            do {
                _ = try await service.table(configuration.tableName).get(partitionKey: "probe", rowKey: "probe")
                return nil
            } catch {
                return "storage: \(error)"
            }
        }
        let listenPort = environment["FUNCTIONS_CUSTOMHANDLER_PORT"].flatMap(Int.init) ?? port
        let host = self.host
        let auth = insecureNoAuth ? "DISABLED (--insecure-no-auth)" : "\(keys.isEmpty ? 0 : 1)+ API key(s)"
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: listenPort), serverName: nil),
                              onServerRunning: { channel in
                                  let bound = channel.localAddress?.port ?? listenPort
                                  print("vendor listening on http://\(host):\(bound) (table \(configuration.tableName) at \(connection.tableEndpoint); auth \(auth))")
                                  print("port: \(bound)")
                                  fflush(nil)
                              }, logger: logger)
        try await app.runService()
    }
}
