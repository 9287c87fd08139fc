import Foundation
package import Hummingbird
package import IPAMCore
import Inventory
package import Logging
package import ServerLimits
import VendorConsole
package import VendorDomain
package import VendorHTTP

/// Everything `vendor` serves, built from the environment (read once, through `Bootstrap`): the ipam settings
/// (docs/Configuration.md) plus the Vendor's own (`VendorSettings`) and the HTTP server limits; the service over
/// its storage, and the router over the service. The executable keeps its arguments and the server's lifecycle.
package struct VendorComposition: Sendable {
    package let configuration: IPAMConfiguration
    package let settings: VendorSettings
    package let service: VendorService
    /// Bearer tokens as callers, when `AUTH_JWT_ISSUER` is set.
    package let tokens: TokenAuthentication?
    package let metrics: VendorMetrics
    package let logger: Logger
    /// Timeouts and the connection cap of the Vendor's HTTP server.
    package let httpLimits: HTTPServerLimits
    /// Where the table lives, for the start-up line.
    package let tableEndpoint: String
    /// What the executable should tell its operator at start-up (standard error), e.g. a lowered connection cap.
    package let notices: [String]

    /// Reads every setting (all problems at once), then opens storage (its tables created when missing).
    /// - Parameter insecureNoAuth: `--insecure-no-auth`: serve without caller authentication.
    /// - Throws: `StartFailure` (exit 2 with every problem with the settings; exit 1 when storage is not usable).
    package static func load(
        logLevel: String, insecureNoAuth: Bool, environment: [String: String] = Bootstrap.processEnvironment()
    ) async throws(StartFailure) -> VendorComposition {
        var problems: [String] = []
        var bootstrap: Bootstrap? = nil
        do { bootstrap = try Bootstrap(environment: environment) } catch { problems += error.lines }
        var settings: VendorSettings? = nil
        do { settings = try VendorSettings.load(environment: environment, insecureNoAuth: insecureNoAuth) } catch {
            problems += error.lines
        }
        var httpLimits = HTTPServerLimits.defaults
        var limitsNotice: String? = nil
        do { (httpLimits, limitsNotice) = try HTTPServerLimits.forServerProcess(environment: environment) } catch {
            problems += error.lines
        }
        guard problems.isEmpty, let bootstrap, let settings else { throw .configuration("vendor", problems) }
        let level = Logger.Level(rawValue: logLevel) ?? .info
        let tokens = settings.tokens.map { tokens in
            var tokenLogger = Logger(label: "ipam.token")
            tokenLogger.logLevel = level
            let verifier = bootstrap.tokenVerifier(
                issuer: tokens.issuer, audience: tokens.audience, failureMemory: tokens.failureMemory,
                logger: tokenLogger)
            return TokenAuthentication(verifier: verifier, roleMap: tokens.roleMap)
        }
        var logger = Logger(label: "ipam.vendor")
        logger.logLevel = level
        let notices = limitsNotice.map { ["vendor: \($0)"] } ?? []
        let metrics = VendorMetrics()
        let inventory: Inventory
        do {
            inventory = try await bootstrap.inventory(
                for: .vendor, logger: logger,
                onStorageAttempt: { metrics.recordStorageAttempt($0) },
                onClaimRound: { metrics.recordClaimTransaction(members: $0) },
                onStorageEntities: { metrics.recordStorageEntities($0) })
        } catch {
            throw .storage("vendor", bootstrap, error, after: notices)
        }
        let service = VendorService(
            configuration: bootstrap.configuration, inventory: inventory,
            redactor: PrincipalRedactor(salt: settings.auditSalt), logger: logger, metrics: metrics,
            redactActors: settings.redactActors, sessionCacheEntries: settings.sessionCacheEntries)
        return VendorComposition(
            configuration: bootstrap.configuration, settings: settings, service: service, tokens: tokens,
            metrics: metrics, logger: logger, httpLimits: httpLimits, tableEndpoint: bootstrap.tableEndpoint,
            notices: notices)
    }

    /// The Vendor's router: the API (and the console when `CONSOLE_SESSION_SECRET` is set), its callers
    /// authenticated with the configured keys and tokens unless `--insecure-no-auth`; `/readyz` asks storage.
    package func router() -> Router<VendorRequestContext> {
        let inventory = service.inventory
        return VendorRouter.build(
            service: service, keys: settings.insecureNoAuth ? nil : settings.keys,
            tokens: settings.insecureNoAuth ? nil : tokens,
            adding: [ConsoleRegistrar(service: service, sessions: settings.console)], logger: logger
        ) {
            await inventory.unreachableReason()
        }
    }

    /// The port to listen on: the Functions host's (`FUNCTIONS_CUSTOMHANDLER_PORT`) when it set one, else `port`.
    package func listenPort(_ port: Int) -> Int { settings.functionsPort ?? port }
}
