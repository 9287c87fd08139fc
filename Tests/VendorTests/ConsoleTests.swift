import AzureTables
import Foundation
import HTTPTransport
import Inventory
import TestSupport
import Testing
import VendorConsole
import VendorDomain
import VendorHTTP

/// The console over plain HTTP (the browser tests are in Tests/conformance/test_console.py): sessions,
/// forged and tampered cookies, and the Manager's status and drift on their pages.
@Suite("Console over HTTP")
struct ConsoleTests {
    static let keys = APIKeys(reader: "auditor=reader-key-1", lease: nil, admin: "operator=admin-key-1")
    static let secret = ["CONSOLE_SESSION_SECRET": "console-test-secret-0123456789abcdefgh"]

    /// Signs in with `key` as a browser would; the session cookie.
    static func signIn(_ url: String, key: String) async throws -> String? {
        let page = try await HTTPCalls.send("GET", url + "/console/signin")
        let csrf = page.text.firstMatch(of: /name="csrf" value="([^"]+)"/).map { String($0.1) } ?? ""
        let signInCookie = page.headers["Set-Cookie"]?.split(separator: ";").first.map(String.init) ?? ""
        let answer = try await HTTPCalls.send(
            "POST", url + "/console/signin", body: "csrf=\(csrf)&key=\(key)", headers: ["Cookie": signInCookie],
            contentType: "application/x-www-form-urlencoded")
        return answer.headers.fields.first {
            $0.name.lowercased() == "set-cookie" && $0.value.hasPrefix("ipam_console=")
        }?.value.split(separator: ";").first.map(String.init)
    }

    @Test(
        "the Manager's last status and drift report are shown; a tampered or foreign session is no session; the sign-in form's own token is required"
    )
    func managerStatusAndSessions() async throws {
        try await VendorHarness.withVendor(environment: Self.secret, roleKeys: Self.keys) { url, table, _ in
            let inventory = Inventory(table: table, actor: "manager-test")
            let dashboardBefore = try await HTTPCalls.send(
                "GET", url + "/console",
                headers: ["Cookie": try #require(try await Self.signIn(url, key: "reader-key-1"))])
            #expect(dashboardBefore.text.contains("has not reported a run yet"))
            try await inventory.recordManagerStatus(
                runAt: Date(), complete: true, heartbeat: 86400,
                drift: [
                    ManagerStatus.Finding(
                        kind: "occupied", scope: "s_eastus", cidr: "10.64.250.0/24", detail: "used by vnet-x")
                ], problems: [])
            let cookie = try #require(try await Self.signIn(url, key: "reader-key-1"))
            let dashboard = try await HTTPCalls.send("GET", url + "/console", headers: ["Cookie": cookie])
            #expect(
                dashboard.text.contains("Last complete Sync") && dashboard.text.contains("1 drift findings"),
                "\(dashboard.text.prefix(300))")
            let drift = try await HTTPCalls.send("GET", url + "/console/drift", headers: ["Cookie": cookie])
            #expect(
                drift.status == 200 && drift.text.contains("10.64.250.0/24") && drift.text.contains("used by vnet-x"))

            // A tampered cookie, one signed with another secret, or a well-signed one naming no stored session is no session.
            let value = String(cookie.dropFirst("ipam_console=".count))
            let tampered = "ipam_console=" + String(value.first == "A" ? "B" : "A") + value.dropFirst()
            #expect(try await HTTPCalls.send("GET", url + "/console", headers: ["Cookie": tampered]).status == 303)
            let foreign = ConsoleSessions(secret: "some-other-secret-0123456789abcdefghij").newSession().cookie
            #expect(
                try await HTTPCalls.send("GET", url + "/console", headers: ["Cookie": "ipam_console=\(foreign)"]).status
                    == 303)
            let unstored = ConsoleSessions(secret: Self.secret["CONSOLE_SESSION_SECRET"]!).newSession().cookie
            #expect(
                try await HTTPCalls.send("GET", url + "/console", headers: ["Cookie": "ipam_console=\(unstored)"])
                    .status == 303)
            // Signing in without the form's own token (a site posting a key behind the browser's back) is refused.
            let blind = try await HTTPCalls.send(
                "POST", url + "/console/signin", body: "key=admin-key-1",
                contentType: "application/x-www-form-urlencoded")
            #expect(blind.status == 403 && !blind.headers.fields.contains { $0.value.hasPrefix("ipam_console=") })
            // The console is not an API: its paths need no key, and the API's need one.
            #expect(try await HTTPCalls.send("GET", url + "/console/signin").status == 200)
            #expect(
                try await HTTPCalls.send("GET", url + "/api/leases", headers: ["Cookie": cookie]).status == 401,
                "a console session is no API key")
        }
    }

    @Test("a dual-stack lease shows both blocks: once in the leases table, on its page, and in the CSV")
    func dualStackLease() async throws {
        var environment = Self.secret
        environment["SUPERNETS_CONFIG"] =
            #"[{"subscriptionId":"\#(SampleConfiguration.subscription)","regions":[{"region":"eastus","supernets":["10.64.0.0/16","fd00:64::/44"]}]}]"#
        try await VendorHarness.withVendor(
            environment: environment,
            roleKeys: APIKeys(reader: "auditor=reader-key-1", lease: nil, admin: "operator=admin-key-1")
        ) { url, _, _ in
            let made = try await HTTPCalls.send(
                "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"console-ds","dualStack":true}"#,
                headers: ["x-functions-key": "admin-key-1"])
            let (v4, v6, id) = (
                try #require(made.string("cidr"), "\(made.text)"), try #require(made.string("cidrV6")),
                try #require(made.string("leaseId"))
            )
            let cookie = try #require(try await Self.signIn(url, key: "reader-key-1"))
            let leases = try await HTTPCalls.send("GET", url + "/console/leases", headers: ["Cookie": cookie])
            #expect(
                leases.text.contains(#"data-cidr="\#(v4)""#) && leases.text.contains(v6)
                    && leases.text.components(separatedBy: "href=\"/console/leases/\(id)\"").count == 2,
                "one row, both blocks")
            let page = try await HTTPCalls.send("GET", url + "/console/leases/\(id)", headers: ["Cookie": cookie])
            #expect(page.text.contains("IPv6 CIDR") && page.text.contains(v6))
            let csv = try await HTTPCalls.send("GET", url + "/console/leases.csv", headers: ["Cookie": cookie])
            #expect(
                csv.text.hasPrefix("cidr,state,leaseId") && csv.text.contains("\(v4),leased,\(id)")
                    && csv.text.contains(",\(v6),,\(v4.split(separator: "/")[1]),{}\r\n"),
                "the IPv6 block, no pool, the IPv4 block's length, no tags: \(csv.text)")
        }
    }

    @Test("without CONSOLE_SESSION_SECRET the console is off")
    func off() async throws {
        try await VendorHarness.withVendor(roleKeys: Self.keys) { url, _, _ in
            let answer = try await HTTPCalls.send("GET", url + "/console")
            #expect(answer.status == 404 && answer.text.contains("CONSOLE_SESSION_SECRET"))
        }
    }
}
