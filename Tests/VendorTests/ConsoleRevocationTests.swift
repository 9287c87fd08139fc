import AzureCore
import AzureTables
import Crypto
import FaultProxy
import Foundation
import HTTPTransport
import IPAMCore
import Inventory
import StrictJSON
import TestSupport
import Testing
import TokenAuth
import VendorConsole
import VendorDomain
import VendorHTTP

/// Console sessions are revocable: a sign-out ends them on every Vendor of the table, they end when unused for
/// `CONSOLE_IDLE_SECONDS`, and each request asks again which role the key or token has in the configuration
/// the Vendor runs with now. Tried as an attacker holding an old cookie and its CSRF token would.
@Suite("Console sessions are revocable")
struct ConsoleRevocationTests {
    static let secret = "console-revocation-secret-0123456789abcdef"
    static let adminKey = "admin-key-rev-1"

    /// A browser's session: its cookie (`ipam_console=…`) and the CSRF token its pages carry.
    struct Browser {
        let cookie: String
        let csrf: String
    }

    /// Signs in with `key` as a browser would, then reads a page for the session's CSRF token.
    static func signIn(_ url: String, key: String) async throws -> Browser {
        let cookie = try #require(try await ConsoleTests.signIn(url, key: key), "signed in with \(key)")
        let page = try await HTTPCalls.send("GET", url + "/console/reservations", headers: ["Cookie": cookie])
        let csrf = try #require(
            page.text.firstMatch(of: /name="csrf" value="([^"]+)"/).map { String($0.1) },
            "\(page.status) \(page.text.prefix(300))")
        return Browser(cookie: cookie, csrf: csrf)
    }

    static func post(_ url: String, _ path: String, _ browser: Browser, fields: String = "") async throws -> HTTPAnswer
    {
        try await HTTPCalls.send(
            "POST", url + path, body: "csrf=\(browser.csrf)" + (fields.isEmpty ? "" : "&" + fields),
            headers: ["Cookie": browser.cookie],
            contentType: "application/x-www-form-urlencoded")
    }

    static func reserve(_ url: String, _ browser: Browser, cidr: String) async throws -> HTTPAnswer {
        try await post(
            url, "/console/reservations", browser,
            fields: "cidr=\(cidr.replacingOccurrences(of: "/", with: "%2F"))&owner=ops&reason=revocation-test")
    }

    /// Who the page says is signed in (`operator (admin)`), nil when it sent the browser to sign in.
    static func who(_ url: String, _ browser: Browser, path: String = "/console/reservations") async throws -> String? {
        let page = try await HTTPCalls.send("GET", url + path, headers: ["Cookie": browser.cookie])
        guard page.status == 200 else { return nil }
        return page.text.firstMatch(of: /<span id="who">([^<]*)</).map { String($0.1) }
    }

    static func reservations(_ url: String, key: String) async throws -> [String] {
        let listed = try await HTTPCalls.send("GET", url + "/api/reservations", headers: ["x-functions-key": key])
        return listed.json?["reservations"]?.arrayValue?.compactMap { $0["cidr"]?.stringValue } ?? []
    }

    /// Two (or more) `vendor` processes over one table, as a deployment runs them.
    static func vendorEnvironment(_ storage: StorageConnectionString, table: String, keys: [String: String]) -> [String:
        String]
    {
        var environment = SampleConfiguration.environment(table: table, connectionString: storage)
        environment["CONSOLE_SESSION_SECRET"] = secret
        environment.merge(keys) { _, new in new }
        return environment
    }

    @Test(
        "after a sign-out, the old cookie and its CSRF token show nothing and reserve nothing, on this Vendor and on a second one sharing the table"
    )
    func signOutEndsTheSessionEverywhere() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let storage = try await stack.startStorage()
        let environment = Self.vendorEnvironment(
            storage, table: TestStorage.uniqueName("consolerev"),
            keys: ["VENDOR_ADMIN_KEYS": "operator=\(Self.adminKey)"])
        let first = try await stack.startVendor(environment: environment)
        let second = try await stack.startVendor(environment: environment)

        let browser = try await Self.signIn(first, key: Self.adminKey)
        #expect(
            try await Self.who(second, browser) == "operator (admin)",
            "a session made on one Vendor is valid on the other")
        #expect(
            try await Self.reserve(second, browser, cidr: "10.64.200.0/24").status == 303,
            "the CSRF token works on both before the sign-out")

        let signedOut = try await Self.post(first, "/console/signout", browser)
        #expect(signedOut.status == 303 && signedOut.headers["Location"] == "/console/signin?signedout=1")
        for url in [first, second] {
            #expect(try await Self.who(url, browser) == nil, "\(url): the old cookie opens no page")
            let replayed = try await Self.reserve(url, browser, cidr: "10.64.201.0/24")
            #expect(replayed.status == 403, "\(url): the old cookie and CSRF token reserve nothing: \(replayed.status)")
            #expect(try await Self.post(url, "/console/signout", browser).status == 403, "nothing left to sign out")
        }
        let held = try await Self.reservations(second, key: Self.adminKey)
        #expect(held.contains("10.64.200.0/24") && !held.contains("10.64.201.0/24"), "\(held)")
        // A sign-out deletes the session's row.
        let table = try TableServiceClient(connectionString: storage, transport: TestStorage.transport).table(
            environment["IPAM_TABLE_NAME"]!)
        #expect(try await table.queryAll(filter: "PartitionKey eq 'console'").isEmpty)
    }

    @Test(
        "with storage failing, the console fails closed: no page, no reservation, no sign-out claimed; the session works again once storage is back"
    )
    func storageDownFailsClosed() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let storage = try await stack.startStorage()
        let (proxy, proxied) = try await stack.proxy(storage)
        var environment = Self.vendorEnvironment(
            proxied, table: TestStorage.uniqueName("consoledown"),
            keys: ["VENDOR_ADMIN_KEYS": "operator=\(Self.adminKey)"])
        environment["IPAM_STORAGE_TIMEOUT_MS"] = "2000"
        let url = try await stack.startVendor(environment: environment)
        let browser = try await Self.signIn(url, key: Self.adminKey)

        var down = FaultProxy.Faults()
        down.throttle = 1.0 // every storage call answered 429 or 503
        proxy.faults = down
        let page = try await HTTPCalls.send("GET", url + "/console/reservations", headers: ["Cookie": browser.cookie])
        #expect(page.status == 503 && !page.text.contains(#"id="who""#), "\(page.status)")
        #expect(try await Self.reserve(url, browser, cidr: "10.64.230.0/24").status == 503)
        let signOut = try await Self.post(url, "/console/signout", browser)
        #expect(
            signOut.status == 503 && signOut.headers["Location"] == nil,
            "a sign-out storage did not confirm is not reported as done")

        proxy.faults = FaultProxy.Faults()
        #expect(try await Self.who(url, browser) == "operator (admin)")
        #expect(!(try await Self.reservations(url, key: Self.adminKey)).contains("10.64.230.0/24"))
    }

    @Test(
        "a Vendor restarted with the admin key moved to the reader keys shows the old cookie as a reader and refuses its reservations; one without the key ends the session for all"
    )
    func restartWithoutTheKey() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let storage = try await stack.startStorage()
        let table = TestStorage.uniqueName("consolerole")
        let before = try await stack.startVendor(
            environment: Self.vendorEnvironment(
                storage, table: table, keys: ["VENDOR_ADMIN_KEYS": "operator=\(Self.adminKey)"]))
        let browser = try await Self.signIn(before, key: Self.adminKey)
        #expect(try await Self.who(before, browser) == "operator (admin)")

        // The operator's key is now a reader's (the restart: another process with the new configuration, same table and secret).
        let demoted = try await stack.startVendor(
            environment: Self.vendorEnvironment(
                storage, table: table,
                keys: [
                    "VENDOR_READER_KEYS": "operator=\(Self.adminKey)", "VENDOR_ADMIN_KEYS": "other=admin-key-rev-2",
                ]))
        #expect(
            try await Self.who(demoted, browser) == "operator (reader)",
            "the role is the key's role now, not the one at sign-in")
        let page = try await HTTPCalls.send(
            "GET", demoted + "/console/reservations", headers: ["Cookie": browser.cookie])
        #expect(!page.text.contains(#"id="reserve-form""#), "no reserve form for a reader")
        let refused = try await Self.reserve(demoted, browser, cidr: "10.64.202.0/24")
        #expect(refused.status == 403 && refused.text.contains("admin role"), "\(refused.status)")
        let held = try await Self.reservations(demoted, key: "admin-key-rev-2")
        #expect(!held.contains("10.64.202.0/24"), "nothing was reserved: \(held)")

        // The key removed altogether: the session ends, and with it on every Vendor (the row is gone).
        let removed = try await stack.startVendor(
            environment: Self.vendorEnvironment(
                storage, table: table, keys: ["VENDOR_ADMIN_KEYS": "other=admin-key-rev-2"]))
        #expect(try await Self.who(removed, browser) == nil)
        #expect(try await Self.reserve(removed, browser, cidr: "10.64.203.0/24").status == 403)
        #expect(try await Self.who(before, browser) == nil, "revoked for all Vendors of the table")
    }

    @Test(
        "a session unused for CONSOLE_IDLE_SECONDS ends (on the injected clock); use keeps it alive, but never past 8 hours"
    )
    func idleExpiry() async throws {
        let time = ManualTime(start: Date(timeIntervalSince1970: 1_900_000_000))
        let keys = APIKeys(reader: nil, lease: nil, admin: "operator=\(Self.adminKey)")
        try await VendorHarness.withVendor(
            environment: ["CONSOLE_SESSION_SECRET": Self.secret, "CONSOLE_IDLE_SECONDS": "600"], roleKeys: keys,
            time: time.source
        ) { url, _, _ in
            let browser = try await Self.signIn(url, key: Self.adminKey)
            time.advance(by: .seconds(590))
            #expect(try await Self.who(url, browser) == "operator (admin)", "590 s unused: still on")
            time.advance(by: .seconds(590))
            #expect(try await Self.who(url, browser) == "operator (admin)", "its use 590 s ago counts")
            time.advance(by: .seconds(601))
            #expect(try await Self.who(url, browser) == nil, "601 s unused: ended")
            #expect(try await Self.reserve(url, browser, cidr: "10.64.210.0/24").status == 403)

            // Busy all day: a page every 5 minutes still ends 8 hours after sign-in.
            let busy = try await Self.signIn(url, key: Self.adminKey)
            var pages = 0
            while try await Self.who(url, busy) != nil {
                pages += 1
                time.advance(by: .seconds(300))
                if pages > 200 { break }
            }
            #expect(pages == 96, "8 hours of pages every 5 minutes, then the session ends (\(pages))")
        }
    }

    @Test(
        "sessions that ended without a sign-out (idle, or past their end) are deleted at later sign-ins; live ones are kept"
    )
    func endedSessionsArePurged() async throws {
        let time = ManualTime(start: Date(timeIntervalSince1970: 1_900_000_000))
        let keys = APIKeys(reader: "auditor=reader-key-rev", lease: nil, admin: "operator=\(Self.adminKey)")
        try await VendorHarness.withVendor(
            environment: ["CONSOLE_SESSION_SECRET": Self.secret, "CONSOLE_IDLE_SECONDS": "600"], roleKeys: keys,
            time: time.source
        ) { url, table, _ in
            _ = try await Self.signIn(url, key: Self.adminKey) // left idle
            time.advance(by: .seconds(300))
            let live = try await Self.signIn(url, key: "reader-key-rev")
            time.advance(by: .seconds(400)) // the first idle for 700 s, the second for 400 s
            #expect(try await table.queryAll(filter: "PartitionKey eq 'console'").count == 2)
            let third = try await Self.signIn(url, key: Self.adminKey)
            let rows = try await table.queryAll(filter: "PartitionKey eq 'console'")
            #expect(
                rows.count == 2, "the idle one was deleted, the live one and the new one kept: \(rows.map(\.rowKey))")
            #expect(try await Self.who(url, live) == "auditor (reader)")
            #expect(try await Self.who(url, third) == "operator (admin)")
        }
    }

    @Test("the session's row holds neither the key, its digest nor the caller's name; the cookie holds no role")
    func nothingInClear() async throws {
        let keys = APIKeys(reader: nil, lease: nil, admin: "operator=\(Self.adminKey)")
        try await VendorHarness.withVendor(environment: ["CONSOLE_SESSION_SECRET": Self.secret], roleKeys: keys) {
            url, table, _ in
            let browser = try await Self.signIn(url, key: Self.adminKey)
            let rows = try await table.queryAll(filter: "PartitionKey eq 'console'")
            #expect(rows.count == 1)
            let stored = rows.map { row in
                row.properties.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + " " + row.rowKey
            }.joined()
            let digest = ASCIIFormat.hex(SHA256.hash(data: Data(Self.adminKey.utf8)))
            for secret in [Self.adminKey, digest, "operator", "admin"] {
                #expect(!stored.lowercased().contains(secret), "the row shows \(secret)")
                #expect(!browser.cookie.lowercased().contains(secret), "the cookie shows \(secret)")
            }
        }
    }

    @Test("console cookies are Secure unless CONSOLE_PLAIN_HTTP=true, whatever the request says about its scheme")
    func secureCookies() async throws {
        let keys = APIKeys(reader: nil, lease: nil, admin: "operator=\(Self.adminKey)")
        for (plain, headers) in [
            (false, [:]), (false, ["X-Forwarded-Proto": "http"]), (true, ["X-Forwarded-Proto": "https"]), (true, [:]),
        ] as [(Bool, HTTPHeaderList)] {
            var environment = ["CONSOLE_SESSION_SECRET": Self.secret]
            if plain { environment["CONSOLE_PLAIN_HTTP"] = "true" }
            try await VendorHarness.withVendor(environment: environment, roleKeys: keys) { url, _, _ in
                let form = try await HTTPCalls.send("GET", url + "/console/signin", headers: headers)
                let signInCookie = try #require(form.headers["Set-Cookie"])
                #expect(signInCookie.contains("; Secure") == !plain, "\(signInCookie)")
                let csrf = form.text.firstMatch(of: /name="csrf" value="([^"]+)"/).map { String($0.1) } ?? ""
                var all = headers
                all["Cookie"] = String(signInCookie.split(separator: ";")[0])
                let answer = try await HTTPCalls.send(
                    "POST", url + "/console/signin", body: "csrf=\(csrf)&key=\(Self.adminKey)", headers: all,
                    contentType: "application/x-www-form-urlencoded")
                let session = try #require(
                    answer.headers.fields.first {
                        $0.name.lowercased() == "set-cookie" && $0.value.hasPrefix("ipam_console=")
                    }?.value)
                #expect(
                    session.contains("; Secure") == !plain && session.contains("HttpOnly")
                        && session.contains("SameSite=Strict"), "\(session)")
            }
        }
    }

    @Test("console settings: CONSOLE_IDLE_SECONDS and CONSOLE_PLAIN_HTTP are checked")
    func settings() throws {
        func load(_ values: [String: String]) throws -> ConsoleSessions? {
            try ConsoleSessions.load { values[setting: $0] }
        }
        #expect(try load([:]) == nil, "no secret: no console")
        let defaults = try #require(try load(["CONSOLE_SESSION_SECRET": Self.secret]))
        #expect(defaults.idleTimeout == 1800 && !defaults.plainHTTP)
        let set = try #require(
            try load([
                "CONSOLE_SESSION_SECRET": Self.secret, "CONSOLE_IDLE_SECONDS": "900", "CONSOLE_PLAIN_HTTP": "true",
            ]))
        #expect(set.idleTimeout == 900 && set.plainHTTP)
        for bad in [
            ["CONSOLE_IDLE_SECONDS": "0"], ["CONSOLE_IDLE_SECONDS": "ten"], ["CONSOLE_IDLE_SECONDS": "99999"],
            ["CONSOLE_PLAIN_HTTP": "maybe"],
            ["CONSOLE_SESSION_SECRET": "short"],
        ] {
            #expect(throws: ConsoleSessions.SettingError.self, "\(bad)") {
                try load(["CONSOLE_SESSION_SECRET": Self.secret].merging(bad) { _, new in new })
            }
        }
    }

    @Test(
        "a token's session: its role follows the role map the Vendor runs with now; it ends with the token, or when the issuer is no longer trusted"
    )
    func tokenSessions() async throws {
        let issuer = try FakeIssuer()
        try await TestServers.withFakeServer({ issuer.handle($0) }) { port in
            issuer.setBase("http://127.0.0.1:\(port)/tenant-1/v2.0")
            func tokens(_ map: [String: Role] = TokenAuthentication.defaultRoleMap) -> TokenAuthentication {
                TokenAuthentication(
                    verifier: BearerTokenVerifier(
                        issuer: issuer.issuer, audience: TokenAuthTests.audience, transport: TestStorage.transport,
                        metadataURL: "http://127.0.0.1:\(port)/.well-known/openid-configuration"), roleMap: map)
            }
            let table = TestStorage.uniqueName("consoletok")
            let environment = ["CONSOLE_SESSION_SECRET": Self.secret, "IPAM_TABLE_NAME": table]
            let token = try issuer.token(
                issuer.claims(subject: "ops-sub", roles: ["IPAM.Admin"], audience: TokenAuthTests.audience))
            let browser = try await VendorHarness.withVendor(
                environment: environment, keys: ["plain-key"], tokens: tokens()
            ) { url, _, _ in
                let browser = try await Self.signIn(url, key: token)
                // The caller is the token's principal (its subject, or a name made from issuer and subject).
                #expect(try await Self.who(url, browser)?.hasSuffix("ops-sub (admin)") == true)
                return browser
            }
            // Restarted with IPAM.Admin mapped to reader: the session is a reader's.
            try await VendorHarness.withVendor(
                environment: environment, keys: ["plain-key"], tokens: tokens(["IPAM.Admin": .reader])
            ) { url, _, _ in
                let who = try await Self.who(url, browser)
                #expect(who?.hasSuffix("ops-sub (reader)") == true, "\(who ?? "no session")")
                let refused = try await Self.reserve(url, browser, cidr: "10.64.220.0/24")
                #expect(refused.status == 403)
            }
            // Busy until the token's own expiry (an hour after it was issued): the session ends with the token.
            // the token's own seconds
            let issued = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
            let time = ManualTime(start: issued)
            let hourLong = try issuer.token(
                issuer.claims(subject: "ops-sub", roles: ["IPAM.Admin"], audience: TokenAuthTests.audience, now: issued)
            )
            try await VendorHarness.withVendor(
                environment: environment, keys: ["plain-key"], tokens: tokens(), time: time.source
            ) { url, _, _ in
                let fresh = try await Self.signIn(url, key: hourLong)
                var pages = 0
                while try await Self.who(url, fresh) != nil, pages < 100 {
                    pages += 1
                    time.advance(by: .seconds(300))
                }
                #expect(pages == 12, "a page every 5 minutes for the token's hour, then no session (\(pages))")
            }
            // Restarted without the issuer: the session ends.
            try await VendorHarness.withVendor(environment: environment, keys: ["plain-key"]) { url, _, _ in
                let who = try await Self.who(url, browser)
                #expect(who == nil)
            }
        }
    }
}
