import AzureCore
import Foundation
import IPAMBootstrap
import IPAMCore
import TestSupport
import Testing
import TokenAuth
import VendorConsole
import VendorDomain
import VendorHTTP

/// The Vendor's own settings, parsed in one place (`VendorSettings`): each variable valid, invalid and missing,
/// and every problem named at once.
@Suite("Vendor settings")
struct VendorSettingsTests {
    static let salt = "a-salt-of-at-least-16"
    static let issuer = "https://login.microsoftonline.com/t/v2.0"
    static let secret = "a-console-secret-of-at-least-32-characters"

    /// Settings a Vendor starts with: one lease key and a salt.
    static let base = ["VENDOR_API_KEYS": "k", "AUDIT_SALT": salt]

    static func load(_ environment: [String: String], insecure: Bool = false) throws(IPAMConfiguration.Problems)
        -> VendorSettings
    {
        try VendorSettings.load(environment: environment, insecureNoAuth: insecure)
    }

    /// The problems `environment` has (none: an empty list).
    static func problems(_ environment: [String: String], insecure: Bool = false) -> [String] {
        do {
            _ = try load(environment, insecure: insecure)
            return []
        } catch { return error.lines }
    }

    static func with(_ overrides: [String: String]) -> [String: String] {
        base.merging(overrides) { _, new in new }
    }

    @Test("the three key settings give their roles; names and unnamed keys as APIKeys reads them")
    func keys() throws {
        let settings = try Self.load([
            "VENDOR_READER_KEYS": "looker=r1", "VENDOR_API_KEYS": "l1, builder=l2", "VENDOR_ADMIN_KEYS": "a1",
            "AUDIT_SALT": Self.salt,
        ])
        #expect(settings.keys.authenticate("r1")?.role == .reader)
        #expect(settings.keys.authenticate("r1")?.caller == "looker")
        #expect(settings.keys.authenticate("l1")?.role == .lease)
        #expect(settings.keys.authenticate("l2")?.caller == "builder")
        #expect(settings.keys.authenticate("a1")?.role == .admin)
        #expect(settings.keys.authenticate("builder=l2") == nil)
        #expect(settings.authenticationSummary == "1+ API key(s)")
    }

    @Test("no keys and no issuer: refused, naming the key settings, unless --insecure-no-auth")
    func noKeys() throws {
        for empty in [[:], ["VENDOR_API_KEYS": ""], ["VENDOR_API_KEYS": " , ,", "VENDOR_ADMIN_KEYS": ""]] {
            let problems = Self.problems(empty.merging(["AUDIT_SALT": Self.salt]) { _, new in new })
            #expect(problems.count == 1 && problems[0].hasPrefix("VENDOR_API_KEYS, VENDOR_ADMIN_KEYS"), "\(problems)")
        }
        let insecure = try Self.load([:], insecure: true)
        #expect(insecure.keys.isEmpty && insecure.insecureNoAuth)
        #expect(insecure.authenticationSummary == "DISABLED (--insecure-no-auth)")
        // An issuer alone is enough.
        let tokensOnly = try Self.load([
            "AUTH_JWT_ISSUER": Self.issuer, "AUTH_JWT_AUDIENCE": "api://ipam", "AUDIT_SALT": Self.salt,
        ])
        #expect(tokensOnly.keys.isEmpty)
        #expect(tokensOnly.authenticationSummary == "0+ API key(s), bearer tokens of \(Self.issuer)")
    }

    @Test("AUTH_JWT_*: an issuer with its audience, the default role map and failure memory when unset")
    func tokensValid() throws {
        #expect(try Self.load(Self.base).tokens == nil)
        // Without an issuer the other token settings are not read, as before.
        #expect(
            try Self.load(Self.with(["AUTH_JWT_ROLE_MAP": "nonsense", "AUTH_JWT_FAILURE_SECONDS": "x"])).tokens == nil)
        let defaults = try #require(
            try Self.load(Self.with(["AUTH_JWT_ISSUER": Self.issuer, "AUTH_JWT_AUDIENCE": "api://ipam"])).tokens)
        #expect(defaults.issuer == Self.issuer && defaults.audience == "api://ipam")
        #expect(defaults.roleMap == TokenAuthentication.defaultRoleMap)
        #expect(defaults.failureMemory == BearerTokenVerifier.defaultFailureMemory)
        let chosen = try #require(
            try Self.load(
                Self.with([
                    "AUTH_JWT_ISSUER": Self.issuer, "AUTH_JWT_AUDIENCE": "api://ipam",
                    "AUTH_JWT_ROLE_MAP": #"{"Ops": "admin", "Viewers": "reader"}"#, "AUTH_JWT_FAILURE_SECONDS": "2.5",
                ])
            ).tokens)
        #expect(chosen.roleMap == ["Ops": .admin, "Viewers": .reader])
        #expect(chosen.failureMemory == .milliseconds(2500))
        for bound in ["0", "3600"] {
            #expect(
                try Self.load(
                    Self.with([
                        "AUTH_JWT_ISSUER": Self.issuer, "AUTH_JWT_AUDIENCE": "a", "AUTH_JWT_FAILURE_SECONDS": bound,
                    ])
                ).tokens?.failureMemory == .seconds(Int64(bound)!))
        }
    }

    @Test("AUTH_JWT_*: an issuer without audience, a bad role map, a bad failure memory: each named")
    func tokensInvalid() {
        let issuer = Self.with(["AUTH_JWT_ISSUER": Self.issuer])
        #expect(
            Self.problems(issuer) == [
                "AUTH_JWT_ISSUER is set, so AUTH_JWT_AUDIENCE must be too (the Application ID URI or client id tokens are issued for)"
            ])
        let withAudience = issuer.merging(["AUTH_JWT_AUDIENCE": "api://ipam"]) { _, new in new }
        for map in [#"{"IPAM.Admin": "root"}"#, "[]", "{}", "not json", #"{"A": 1}"#] {
            let problems = Self.problems(withAudience.merging(["AUTH_JWT_ROLE_MAP": map]) { _, new in new })
            #expect(problems.count == 1 && problems[0].hasPrefix("AUTH_JWT_ROLE_MAP "), "\(map): \(problems)")
        }
        #expect(
            Self.problems(withAudience.merging(["AUTH_JWT_ROLE_MAP": #"{"IPAM.Admin": "root"}"#]) { _, new in new })
                == [#"AUTH_JWT_ROLE_MAP 'IPAM.Admin' maps to "root"; use reader, lease or admin"#])
        for seconds in ["-1", "3601", "x", "nan", "inf", "1e9"] {
            #expect(
                Self.problems(withAudience.merging(["AUTH_JWT_FAILURE_SECONDS": seconds]) { _, new in new }) == [
                    "AUTH_JWT_FAILURE_SECONDS=\(seconds): must be a number of seconds from 0 to 3600"
                ])
        }
        // All three at once, and no complaint about keys: the issuer is set.
        let all = Self.problems([
            "AUTH_JWT_ISSUER": Self.issuer, "AUTH_JWT_ROLE_MAP": "[]", "AUTH_JWT_FAILURE_SECONDS": "-5",
            "AUDIT_SALT": Self.salt,
        ])
        #expect(all.count == 3, "\(all)")
        #expect(all.contains { $0.hasPrefix("AUTH_JWT_ISSUER is set") })
        #expect(all.contains { $0.hasPrefix("AUTH_JWT_ROLE_MAP ") })
        #expect(all.contains { $0.hasPrefix("AUTH_JWT_FAILURE_SECONDS=-5") })
    }

    @Test("AUDIT_SALT: kept when long enough; short or missing refused, missing allowed only with --insecure-no-auth")
    func auditSalt() throws {
        #expect(try Self.load(Self.base).auditSalt == Self.salt)
        let exact = String(repeating: "s", count: PrincipalRedactor.minimumSaltLength)
        #expect(try Self.load(Self.with(["AUDIT_SALT": exact])).auditSalt == exact)
        let refusal =
            "AUDIT_SALT must be set to a secret of at least \(PrincipalRedactor.minimumSaltLength) characters, the same for every Vendor of the table (it keys and seals the principals storage keeps)"
        for salt in [String(exact.dropLast()), "short"] {
            #expect(Self.problems(Self.with(["AUDIT_SALT": salt])) == [refusal])
            #expect(Self.problems(Self.with(["AUDIT_SALT": salt]), insecure: true) == [refusal])
        }
        for missing in [["VENDOR_API_KEYS": "k"], ["VENDOR_API_KEYS": "k", "AUDIT_SALT": ""]] {
            #expect(Self.problems(missing) == [refusal])
            #expect(try Self.load(missing, insecure: true).auditSalt == VendorSettings.insecureLocalSalt)
        }
    }

    @Test("AUDIT_REDACT_ACTORS: true/1/yes and false/0/no in any case, unset is false, anything else named")
    func redactActors() throws {
        #expect(try Self.load(Self.base).redactActors == false)
        for yes in ["true", "TRUE", "1", "yes", "Yes"] {
            #expect(try Self.load(Self.with(["AUDIT_REDACT_ACTORS": yes])).redactActors == true)
        }
        for no in ["false", "False", "0", "no", ""] {
            #expect(try Self.load(Self.with(["AUDIT_REDACT_ACTORS": no])).redactActors == false)
        }
        for other in ["maybe", "2", "on"] {
            #expect(
                Self.problems(Self.with(["AUDIT_REDACT_ACTORS": other]))
                    == ["AUDIT_REDACT_ACTORS=\(other): use true or false"])
        }
    }

    @Test("CONSOLE_*: off without a secret; secret, idle timeout and plain http checked and named")
    func console() throws {
        #expect(try Self.load(Self.base).console == nil)
        #expect(try Self.load(Self.with(["CONSOLE_IDLE_SECONDS": "0"])).console == nil, "read only with a secret")
        let on = try #require(try Self.load(Self.with(["CONSOLE_SESSION_SECRET": Self.secret])).console)
        #expect(on.idleTimeout == ConsoleSession.defaultIdleTimeout && on.plainHTTP == false)
        let chosen = try #require(
            try Self.load(
                Self.with([
                    "CONSOLE_SESSION_SECRET": Self.secret, "CONSOLE_IDLE_SECONDS": "60", "CONSOLE_PLAIN_HTTP": "true",
                ])
            ).console)
        #expect(chosen.idleTimeout == 60 && chosen.plainHTTP)
        #expect(
            Self.problems(Self.with(["CONSOLE_SESSION_SECRET": String(Self.secret.prefix(31))])) == [
                "CONSOLE_SESSION_SECRET must have at least 32 characters"
            ])
        for idle in ["59", "28801", "ten", "90.5"] {
            #expect(
                Self.problems(Self.with(["CONSOLE_SESSION_SECRET": Self.secret, "CONSOLE_IDLE_SECONDS": idle])) == [
                    "CONSOLE_IDLE_SECONDS=\(idle): a whole number of seconds from 60 to 28800"
                ])
        }
        #expect(
            Self.problems(Self.with(["CONSOLE_SESSION_SECRET": Self.secret, "CONSOLE_PLAIN_HTTP": "maybe"])) == [
                "CONSOLE_PLAIN_HTTP=maybe: use true or false"
            ])
    }

    @Test("FUNCTIONS_CUSTOMHANDLER_PORT: the Functions host's port overrides --port; a value that is no number is not")
    func functionsPort() throws {
        #expect(try Self.load(Self.base).functionsPort == nil)
        #expect(try Self.load(Self.with(["FUNCTIONS_CUSTOMHANDLER_PORT": "7072"])).functionsPort == 7072)
        #expect(try Self.load(Self.with(["FUNCTIONS_CUSTOMHANDLER_PORT": "x"])).functionsPort == nil)
        #expect(try Self.load(Self.with(["FUNCTIONS_CUSTOMHANDLER_PORT": ""])).functionsPort == nil)
    }

    @Test(
        "VENDOR_SESSION_CACHE_ENTRIES: how many sessions are kept for replays; a value that is no count from 1 up is a problem"
    )
    func sessionCacheEntries() throws {
        #expect(try Self.load(Self.base).sessionCacheEntries == SessionCache.defaultCapacity)
        #expect(try Self.load(Self.with(["VENDOR_SESSION_CACHE_ENTRIES": "2000"])).sessionCacheEntries == 2000)
        for bad in ["0", "-5", "x", "1.5", "10000001"] {
            #expect(
                Self.problems(Self.with(["VENDOR_SESSION_CACHE_ENTRIES": bad])) == [
                    "VENDOR_SESSION_CACHE_ENTRIES=\(bad): must be a whole number from 1 to 10000000"
                ])
        }
    }

    @Test("every problem is named at once, one line each")
    func everyProblemAtOnce() {
        let problems = Self.problems([
            "AUDIT_SALT": "short", "AUDIT_REDACT_ACTORS": "perhaps", "CONSOLE_SESSION_SECRET": "short",
        ])
        #expect(problems.count == 4, "\(problems)")
        for start in ["VENDOR_API_KEYS, ", "AUDIT_SALT must", "AUDIT_REDACT_ACTORS=perhaps", "CONSOLE_SESSION_SECRET"] {
            #expect(problems.contains { $0.hasPrefix(start) }, "\(start): \(problems)")
        }
    }
}

/// The composition root builds what `vendor` serves: every problem with the settings at once (exit 2) before
/// storage is touched, storage that is not usable exit 1.
@Suite("Vendor composition")
struct VendorCompositionTests {
    /// Storage nobody listens on: a failure to reach it would be exit 1.
    static let unreachable =
        "DefaultEndpointsProtocol=http;AccountName=x;AccountKey=eA==;TableEndpoint=http://127.0.0.1:1/x"

    static func environment() -> [String: String] {
        var environment = SampleConfiguration.environment(table: "composition", connectionString: .development)
        environment[Setting.storage.rawValue] = unreachable
        environment[Setting.storageTimeoutMs.rawValue] = "500"
        environment[Setting.vendorAPIKeys.rawValue] = "k"
        return environment
    }

    @Test("the ipam settings, the Vendor's and the HTTP limits: every problem at once, exit 2, nothing opened")
    func everyProblemAtOnce() async {
        var environment = Self.environment()
        environment[Setting.cidrSizeMin.rawValue] = "x"
        environment[Setting.auditSalt.rawValue] = "short"
        environment[Setting.consolePlainHTTP.rawValue] = "maybe"
        environment[Setting.consoleSessionSecret.rawValue] = VendorSettingsTests.secret
        environment[Setting.httpIdleTimeout.rawValue] = "-1"
        do {
            _ = try await VendorComposition.load(logLevel: "error", insecureNoAuth: false, environment: environment)
            Issue.record("a composition with invalid settings")
        } catch {
            #expect(error.exitCode == 2)
            #expect(error.message.hasPrefix("vendor: invalid configuration:\n"), "\(error.message)")
            for setting in [
                "CIDR_SIZE_MIN=x", "AUDIT_SALT must", "CONSOLE_PLAIN_HTTP=maybe", "IPAM_HTTP_IDLE_TIMEOUT_SECONDS",
            ] {
                #expect(error.message.contains("\n  \(setting)"), "\(setting): \(error.message)")
            }
            #expect(!error.message.contains("not usable"), "storage is not touched: \(error.message)")
        }
    }

    @Test("storage that is not usable is exit 1, naming the endpoint")
    func storageNotUsable() async {
        do {
            _ = try await VendorComposition.load(
                logLevel: "error", insecureNoAuth: false, environment: Self.environment())
            Issue.record("storage nobody listens on was usable")
        } catch {
            #expect(error.exitCode == 1)
            #expect(error.message.contains("vendor: storage at http://127.0.0.1:1/x is not usable"), "\(error.message)")
        }
    }

    @Test(
        "the composition serves what its settings say: keys unless --insecure-no-auth, the Functions port, the session cache"
    )
    func composed() async throws {
        var environment = SampleConfiguration.environment(
            table: TestStorage.uniqueName("comp"), connectionString: try await TestStorage.connectionString())
        environment[Setting.vendorAPIKeys.rawValue] = "k"
        environment[Setting.functionsPort.rawValue] = "7090"
        environment[Setting.vendorSessionCacheEntries.rawValue] = "2000"
        let vendor = try await VendorComposition.load(
            logLevel: "error", insecureNoAuth: false, environment: environment)
        #expect(vendor.listenPort(7071) == 7090)
        #expect(vendor.settings.keys.authenticate("k")?.role == .lease)
        #expect(vendor.tokens == nil)
        #expect(vendor.service.sessions.capacity == 2000)
        #expect(
            vendor.service.redactor.principal("x").key
                == PrincipalRedactor(salt: SampleConfiguration.auditSalt).principal("x").key)
        environment[Setting.functionsPort.rawValue] = nil
        let open = try await VendorComposition.load(logLevel: "error", insecureNoAuth: true, environment: environment)
        #expect(open.listenPort(7071) == 7071)
        #expect(open.settings.authenticationSummary == "DISABLED (--insecure-no-auth)")
        environment[Setting.vendorSessionCacheEntries.rawValue] = nil
        let defaults = try await VendorComposition.load(
            logLevel: "error", insecureNoAuth: true, environment: environment)
        #expect(defaults.service.sessions.capacity == SessionCache.defaultCapacity)
    }
}
