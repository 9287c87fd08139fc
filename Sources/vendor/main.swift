import ArgumentParser
import Foundation
import Hummingbird
import IPAMBootstrap
import IPAMCore
import Inventory
import Logging
import ServerLimits
import TokenAuth
import VendorDomain
import VendorHTTP

/// `vendor`: the stateless HTTP service that leases network blocks.
@main
struct VendorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vendor", abstract: "ipam Vendor: leases network blocks over HTTP.",
        subcommands: [Serve.self], defaultSubcommand: Serve.self)
}

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
        let bootstrap: Bootstrap
        do { bootstrap = try Bootstrap() } catch {
            FileHandle.standardError.write(
                Data(
                    ("vendor: invalid configuration:\n" + error.lines.map { "  " + $0 }.joined(separator: "\n") + "\n")
                        .utf8))
            throw ExitCode(2)
        }
        guard let limits = HTTPServerLimits.forServerProcess(environment: bootstrap.environment, program: "vendor")
        else { throw ExitCode(2) }
        let configuration = bootstrap.configuration
        let keys = APIKeys(
            reader: bootstrap[.vendorReaderKeys], lease: bootstrap[.vendorAPIKeys], admin: bootstrap[.vendorAdminKeys])
        var tokens: TokenAuthentication? = nil
        if let issuer = bootstrap[.authJWTIssuer] {
            guard let audience = bootstrap[.authJWTAudience] else {
                FileHandle.standardError.write(
                    Data(
                        "vendor: AUTH_JWT_ISSUER is set, so AUTH_JWT_AUDIENCE must be too (the Application ID URI or client id tokens are issued for)\n"
                            .utf8))
                throw ExitCode(2)
            }
            var roleMap = TokenAuthentication.defaultRoleMap
            if let text = bootstrap[.authJWTRoleMap] {
                do { roleMap = try TokenAuthentication.roleMap(parsing: text) } catch {
                    FileHandle.standardError.write(Data("vendor: AUTH_JWT_ROLE_MAP \(error.message)\n".utf8))
                    throw ExitCode(2)
                }
            }
            var failureMemory = BearerTokenVerifier.defaultFailureMemory
            if let text = bootstrap[.authJWTFailureSeconds] {
                guard let seconds = Double(text), seconds.isFinite, seconds >= 0, seconds <= 3600 else {
                    FileHandle.standardError.write(
                        Data(
                            "vendor: AUTH_JWT_FAILURE_SECONDS=\(text): must be a number of seconds from 0 to 3600\n"
                                .utf8))
                    throw ExitCode(2)
                }
                failureMemory = .milliseconds(Int64(seconds * 1000))
            }
            var tokenLogger = Logger(label: "ipam.token")
            tokenLogger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
            let verifier = bootstrap.tokenVerifier(
                issuer: issuer, audience: audience, failureMemory: failureMemory, logger: tokenLogger)
            tokens = TokenAuthentication(verifier: verifier, roleMap: roleMap)
        }
        if keys.isEmpty && tokens == nil && !insecureNoAuth {
            FileHandle.standardError.write(
                Data(
                    "vendor: VENDOR_API_KEYS, VENDOR_ADMIN_KEYS and VENDOR_READER_KEYS are empty and AUTH_JWT_ISSUER is not set; set keys or an issuer, or pass --insecure-no-auth for local use\n"
                        .utf8))
            throw ExitCode(2)
        }
        let salt: String
        if let configured = bootstrap[.auditSalt], configured.count >= PrincipalRedactor.minimumSaltLength {
            salt = configured
        } else if insecureNoAuth && bootstrap[.auditSalt] == nil {
            salt = "ipam-insecure-local-salt" // local use only: every such Vendor shares it
        } else {
            FileHandle.standardError.write(
                Data(
                    "vendor: AUDIT_SALT must be set to a secret of at least \(PrincipalRedactor.minimumSaltLength) characters, the same for every Vendor of the table (it keys and seals the principals storage keeps)\n"
                        .utf8))
            throw ExitCode(2)
        }
        var logger = Logger(label: "ipam.vendor")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let metrics = VendorMetrics()
        let inventory: Inventory
        do {
            inventory = try await bootstrap.inventory(
                for: .vendor, logger: logger,
                onStorageAttempt: { metrics.recordStorageAttempt($0) },
                onClaimRound: { metrics.recordClaimTransaction(members: $0) })
        } catch {
            FileHandle.standardError.write(
                Data("vendor: storage at \(bootstrap.tableEndpoint) is not usable: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let redactActors: Bool
        switch bootstrap[.auditRedactActors]?.lowercased() {
        case nil, "false", "0", "no": redactActors = false
        case "true", "1", "yes": redactActors = true
        case let other?:
            FileHandle.standardError.write(Data("vendor: AUDIT_REDACT_ACTORS=\(other): use true or false\n".utf8))
            throw ExitCode(2)
        }
        let vendor = VendorService(
            configuration: configuration, inventory: inventory, redactor: PrincipalRedactor(salt: salt), logger: logger,
            metrics: metrics,
            redactActors: redactActors)
        let console: ConsoleSessions?
        do { console = try ConsoleSessions.load { bootstrap[$0] } } catch {
            FileHandle.standardError.write(Data("vendor: \(error.message)\n".utf8))
            throw ExitCode(2)
        }
        let consoleOn = console != nil
        let consolePlainHTTP = console?.plainHTTP == true
        let router = VendorRouter.build(
            service: vendor, keys: insecureNoAuth ? nil : keys, tokens: insecureNoAuth ? nil : tokens, console: console,
            logger: logger
        ) {
            await inventory.unreachableReason()
        }
        let listenPort = bootstrap[.functionsPort].flatMap(Int.init) ?? port
        let host = self.host
        let auth =
            insecureNoAuth
            ? "DISABLED (--insecure-no-auth)"
            : "\(keys.isEmpty ? 0 : 1)+ API key(s)" + (tokens.map { ", bearer tokens of \($0.verifier.issuer)" } ?? "")
        let endpoint = bootstrap.tableEndpoint
        let app = Application(
            router: router,
            server: .http1(
                limits: limits, logger: logger, onClose: { metrics.recordConnectionClosed(reason: $0.rawValue) }),
            configuration: .init(address: .hostname(host, port: listenPort), serverName: nil),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? listenPort
                print(
                    "vendor listening on http://\(host):\(bound) (table \(configuration.tableName) at \(endpoint); auth \(auth))"
                )
                print("connections: \(limits)")
                if consoleOn {
                    print(
                        "console: http://\(host):\(bound)/console"
                            + (consolePlainHTTP ? " (CONSOLE_PLAIN_HTTP: cookies not Secure, local use only)" : ""))
                }
                print("port: \(bound)")
                fflush(nil)
            }, logger: logger)
        try await app.runService()
    }
}
