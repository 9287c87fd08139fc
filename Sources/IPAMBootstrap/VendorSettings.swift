import Foundation
package import IPAMCore
import TokenAuth
package import VendorConsole
import VendorDomain
package import VendorHTTP

/// The Vendor's own settings (docs/Configuration.md), beside the ipam settings `Bootstrap` reads: who may call
/// it (`VENDOR_*_KEYS`, `AUTH_JWT_*`), how callers are named in the audit trail (`AUDIT_*`), the console's
/// sessions (`CONSOLE_*`) and the Functions host's port. Parsed from the environment here alone, every problem
/// named at once.
package struct VendorSettings: Sendable {
    /// `VENDOR_READER_KEYS`, `VENDOR_API_KEYS` (the lease role) and `VENDOR_ADMIN_KEYS`.
    package var keys: APIKeys
    /// Bearer tokens (`AUTH_JWT_*`): nil without `AUTH_JWT_ISSUER`.
    package var tokens: Tokens?
    /// `AUDIT_SALT`, or `insecureLocalSalt` when authentication is off and none is set.
    package var auditSalt: String
    /// `AUDIT_REDACT_ACTORS`: audit events and log lines name callers by their keyed hash.
    package var redactActors: Bool
    /// The console's session keys and settings (`CONSOLE_*`): nil without `CONSOLE_SESSION_SECRET` (the console
    /// is off).
    package var console: ConsoleSessions?
    /// `FUNCTIONS_CUSTOMHANDLER_PORT`, set by the Azure Functions host (a value that is not a number is ignored).
    package var functionsPort: Int?
    /// `--insecure-no-auth`: every caller is `anonymous` with `admin` (local development only).
    package var insecureNoAuth: Bool
    /// `VENDOR_SESSION_CACHE_ENTRIES`: how many sessions the Vendor keeps in memory for replays.
    package var sessionCacheEntries: Int = SessionCache.defaultCapacity

    /// Which bearer tokens are callers (`AUTH_JWT_*`).
    package struct Tokens: Sendable, Equatable {
        /// `AUTH_JWT_ISSUER`.
        package var issuer: String
        /// `AUTH_JWT_AUDIENCE`: the Application ID URI or client id tokens are issued for.
        package var audience: String
        /// `AUTH_JWT_ROLE_MAP`: app role → ipam role (`TokenAuthentication.defaultRoleMap` when unset).
        package var roleMap: [String: Role]
        /// `AUTH_JWT_FAILURE_SECONDS`: how long a failed read of the issuer is remembered.
        package var failureMemory: Duration
    }

    /// The salt of a Vendor started with `--insecure-no-auth` and no `AUDIT_SALT`: every such Vendor shares it,
    /// so it is for local use only.
    package static let insecureLocalSalt = "ipam-insecure-local-salt"

    /// Reads every setting of the Vendor's own.
    /// - Parameter insecureNoAuth: `--insecure-no-auth` was given: no key or issuer is needed, and without
    ///   `AUDIT_SALT` the local salt is used.
    /// - Throws: every problem, one line each, naming its setting.
    package static func load(environment: [String: String], insecureNoAuth: Bool) throws(IPAMConfiguration.Problems)
        -> VendorSettings
    {
        var problems: [String] = []
        let keys = APIKeys(
            reader: environment[setting: .vendorReaderKeys], lease: environment[setting: .vendorAPIKeys],
            admin: environment[setting: .vendorAdminKeys])
        var tokens: Tokens? = nil
        let issuer = environment[setting: .authJWTIssuer]
        if let issuer {
            var valid = true
            let audience = environment[setting: .authJWTAudience]
            if audience == nil {
                valid = false
                problems.append(
                    "AUTH_JWT_ISSUER is set, so AUTH_JWT_AUDIENCE must be too (the Application ID URI or client id tokens are issued for)"
                )
            }
            var roleMap = TokenAuthentication.defaultRoleMap
            if let text = environment[setting: .authJWTRoleMap] {
                do { roleMap = try TokenAuthentication.roleMap(parsing: text) } catch {
                    valid = false
                    problems.append("AUTH_JWT_ROLE_MAP \(error.message)")
                }
            }
            var failureMemory = BearerTokenVerifier.defaultFailureMemory
            if let text = environment[setting: .authJWTFailureSeconds] {
                if let seconds = Double(text), seconds.isFinite, seconds >= 0, seconds <= 3600 {
                    failureMemory = .milliseconds(Int64(seconds * 1000))
                } else {
                    valid = false
                    problems.append("AUTH_JWT_FAILURE_SECONDS=\(text): must be a number of seconds from 0 to 3600")
                }
            }
            if valid, let audience {
                tokens = Tokens(issuer: issuer, audience: audience, roleMap: roleMap, failureMemory: failureMemory)
            }
        }
        if keys.isEmpty && issuer == nil && !insecureNoAuth {
            problems.append(
                "VENDOR_API_KEYS, VENDOR_ADMIN_KEYS and VENDOR_READER_KEYS are empty and AUTH_JWT_ISSUER is not set; set keys or an issuer, or pass --insecure-no-auth for local use"
            )
        }
        var salt = insecureLocalSalt
        let configuredSalt = environment[setting: .auditSalt]
        if let configuredSalt, configuredSalt.count >= PrincipalRedactor.minimumSaltLength {
            salt = configuredSalt
        } else if !(insecureNoAuth && configuredSalt == nil) {
            problems.append(
                "AUDIT_SALT must be set to a secret of at least \(PrincipalRedactor.minimumSaltLength) characters, the same for every Vendor of the table (it keys and seals the principals storage keeps)"
            )
        }
        var redactActors = false
        switch environment[setting: .auditRedactActors]?.lowercased() {
        case nil, "false", "0", "no": redactActors = false
        case "true", "1", "yes": redactActors = true
        case let other?: problems.append("AUDIT_REDACT_ACTORS=\(other): use true or false")
        }
        var sessionCacheEntries = SessionCache.defaultCapacity
        if let text = environment[setting: .vendorSessionCacheEntries] {
            if let entries = Int(text), (1...SessionCache.maximumCapacity).contains(entries) {
                sessionCacheEntries = entries
            } else {
                problems.append(
                    "VENDOR_SESSION_CACHE_ENTRIES=\(text): must be a whole number from 1 to \(SessionCache.maximumCapacity)"
                )
            }
        }
        var console: ConsoleSessions? = nil
        do { console = try ConsoleSessions.load { environment[setting: $0] } } catch { problems.append(error.message) }
        guard problems.isEmpty else { throw IPAMConfiguration.Problems(lines: problems) }
        return VendorSettings(
            keys: keys, tokens: tokens, auditSalt: salt, redactActors: redactActors, console: console,
            functionsPort: environment[setting: .functionsPort].flatMap(Int.init), insecureNoAuth: insecureNoAuth,
            sessionCacheEntries: sessionCacheEntries)
    }

    /// How callers are authenticated, for the start-up line.
    package var authenticationSummary: String {
        insecureNoAuth
            ? "DISABLED (--insecure-no-auth)"
            : "\(keys.isEmpty ? 0 : 1)+ API key(s)" + (tokens.map { ", bearer tokens of \($0.issuer)" } ?? "")
    }
}
