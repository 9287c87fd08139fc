import Foundation
import HTTPTransport
import IPAMCore
import Inventory
import NetworkMath
import StrictJSON
import TestSupport
import Testing
import VendorDomain
import VendorHTTP

/// The pools page over HTTP: the numbers of `GET /api/pools` and `GET /api/usage`, for every role that can read,
/// nothing without a session, and the pools' free-text values escaped.
@Suite("Console pools page over HTTP")
struct ConsolePoolsTests {
    /// Characters a template must escape; owners, labels, tags and allow-lists are free text in POOLS_CONFIG.
    static let hostile = "<script>alert(1)</script>&'"
    static let escaped = "&lt;script&gt;alert(1)&lt;/script&gt;&amp;&#39;"
    static let pools = #"""
        [ { "name": "team-a", "cidr": "10.64.128.0/17", "owner": "\#(hostile)", "labels": { "\#(hostile)": "\#(hostile)" },
            "rules": { "minPrefixLength": 24, "maxPrefixLength": 26, "defaultPrefixLength": 24, "allowedRequesters": ["alice", "\#(hostile)"] },
            "quota": { "maxLeasesPerRequester": 10 } },
          { "name": "team-a-ci", "parent": "team-a", "cidr": "10.64.192.0/18", "stock": { "26": 2 },
            "rules": { "requiredTags": ["\#(hostile)"] }, "quota": { "maxAddressesPerRequester": 256 } } ]
        """#
    static let keys = APIKeys(reader: "auditor=reader-key-1", lease: "alice=alice-key-1", admin: "ops=ops-key-1")
    static let environment = [
        "CONSOLE_SESSION_SECRET": "console-pools-secret-0123456789abcdefgh", "POOLS_CONFIG": pools,
    ]
    static let scope = Scope(subscriptionId: SampleConfiguration.subscription, region: "eastus")

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

    /// The page's section for one area (from its `data-area` to the next section's start).
    static func section(_ html: String, area: String) -> String {
        guard let start = html.range(of: "data-area=\"\(area)\"") else { return "" }
        let rest = html[start.upperBound...]
        return String(rest[..<(rest.range(of: "</section>")?.lowerBound ?? rest.endIndex)])
    }

    static func number(_ value: JSONValue?) -> Double? {
        if case .number(let text)? = value { return Double(text) }
        return nil
    }

    @Test(
        "every number of GET /api/pools and the forecast of GET /api/usage, per area, for a reader and an admin; no session: sign in"
    )
    func numbersEqualTheAPIs() async throws {
        let time = ManualTime(start: Date(timeIntervalSince1970: 1_900_000_000))
        try await VendorHarness.withVendor(
            environment: Self.environment, roleKeys: Self.keys, time: time.source
        ) { url, table, _ in
            for session in ["p-1", "p-2"] {
                let made = try await HTTPCalls.send(
                    "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"\#(session)","pool":"team-a"}"#,
                    headers: ["x-functions-key": "alice-key-1"])
                #expect(made.status == 200 || made.status == 201, "\(made.text)")
            }
            // Ten days of hourly samples of team-a: its unused space falls by 100 addresses an hour.
            let inventory = Inventory(table: table, actor: "manager-test")
            for hour in 0...240 {
                var sample = UsageSample(at: time.now.addingTimeInterval(-Double(240 - hour) * 3_600))
                sample.free = UInt128(50_000 - hour * 100)
                sample.leased = UInt128(hour * 100)
                sample.leases = hour
                try await inventory.recordUsage(
                    [AreaSample(pool: "team-a", version: .v4, sample: sample)], in: Self.scope)
            }

            // No session: the page sends the browser to sign in, and says nothing.
            let anonymous = try await HTTPCalls.send("GET", url + "/console/pools")
            #expect(anonymous.status == 303 && anonymous.headers["Location"] == "/console/signin")
            #expect(!anonymous.text.contains("team-a"))

            let api = try await HTTPCalls.send("GET", url + "/api/pools", headers: ["x-functions-key": "reader-key-1"])
            let reports = try #require(api.json?["pools"]?.arrayValue, "\(api.text)")
            #expect(reports.count == 4, "each scope's own space (eastus, westeurope), team-a, team-a-ci")
            for key in ["reader-key-1", "ops-key-1"] {
                let cookie = try #require(try await Self.signIn(url, key: key))
                let page = try await HTTPCalls.send("GET", url + "/console/pools", headers: ["Cookie": cookie])
                #expect(page.status == 200, "\(page.text.prefix(400))")
                #expect(page.headers["Content-Security-Policy"]?.contains("default-src 'none'") == true)
                // No script but the console's own (a hostile value's never becomes one).
                #expect(
                    page.text.components(separatedBy: "<script").count == 2
                        && page.text.contains(#"<script src="/console/assets/console.js" defer></script>"#),
                    "no script but the console's own, not even a hostile one")
                #expect(page.text.contains(#"<a href="/console/pools" aria-current="page">Pools</a>"#))
                let html = page.text
                for report in reports {
                    let area = report["pool"]?.stringValue ?? (report["scope"]?.stringValue ?? "")
                    let part = Self.section(html, area: area)
                    #expect(!part.isEmpty, "\(area) has its section")
                    for (name, member) in [
                        ("Free IPv4 addresses", "freeAddresses"), ("Free IPv6 addresses", "freeAddressesV6"),
                    ] {
                        guard case .number(let value)? = report[member] else {
                            Issue.record("\(member) of \(area)")
                            continue
                        }
                        #expect(part.contains("<th scope=\"row\">\(name)</th><td>\(value)</td>"), "\(area) \(name)")
                    }
                    if case .number(let largest)? = report["largestFreePrefixLength"] {
                        #expect(part.contains("<th scope=\"row\">Largest free IPv4 block</th><td>/\(largest)</td>"))
                    }
                    for usage in report["usage"]?.arrayValue ?? [] {
                        guard case .number(let leases)? = usage["leases"],
                            case .number(let addresses)? = usage["addresses"]
                        else { continue }
                        let requester = usage["requester"]?.stringValue ?? ""
                        #expect(
                            part.contains("<tr><td>\(requester)</td><td>\(leases)</td><td>\(addresses)</td></tr>"),
                            "\(area): \(requester)")
                    }
                    for size in report["sizes"]?.arrayValue ?? [] {
                        guard case .number(let length)? = size["prefixLength"],
                            case .number(let available)? = size["available"]
                        else { continue }
                        let label = size["ipVersion"]?.stringValue == "v4" ? "/\(length)" : "IPv6 /\(length)"
                        let target =
                            (report["stock"]?[size["ipVersion"]?.stringValue == "v4" ? length : "v6/\(length)"])
                            .flatMap { if case .number(let n) = $0 { n } else { nil } } ?? "none"
                        #expect(
                            part.contains("<tr><td>\(label)</td><td>\(target)</td><td>\(available)</td>"),
                            "\(area) \(label)")
                    }
                }
                // The pools' own values: team-a's alice holds 2 leases of /24 (512 addresses) against a quota of 10.
                let teamA = Self.section(html, area: "team-a")
                #expect(teamA.contains("<tr><td>alice</td><td>2</td><td>512</td></tr>"), "\(teamA)")
                #expect(teamA.contains("<th scope=\"row\">Leases per requester</th><td>10</td>"))
                #expect(teamA.contains("<th scope=\"row\">Addresses per requester</th><td>no limit</td>"))
                #expect(teamA.contains("<th scope=\"row\">Shortest prefix length</th><td>/24</td>"))
                // team-a-ci's stock target of two /26 blocks, none carved yet.
                let ci = Self.section(html, area: "team-a-ci")
                #expect(ci.contains("<tr><td>/26</td><td>2</td><td>0</td>"), "\(ci)")
                #expect(ci.contains("<th scope=\"row\">Parent pool</th><td>team-a</td>"))
                #expect(html.contains("› team-a › team-a-ci</a>"), "the hierarchy shows the child under its parent")

                // The forecast is GET /api/usage's.
                let usage = try await HTTPCalls.send(
                    "GET", url + "/api/usage?pool=team-a", headers: ["x-functions-key": "reader-key-1"])
                let week = try #require(usage.json?["forecast"]?["unusedAddresses"]?["last7Days"], "\(usage.text)")
                #expect(week["status"]?.stringValue == "runs-out")
                let days = try #require(Self.number(week["daysLeft"]))
                let rate = try #require(Self.number(week["ratePerDay"]))
                let runsOut = try #require(week["runsOutAt"]?.stringValue)
                let row =
                    "<tr><td>Unused IPv4 addresses</td><td>last 7 days</td><td>runs-out</td><td>\(String(format: "%.1f", days))</td>"
                    + "<td>\(ISO8601.format(try #require(ISO8601.parse(runsOut))))</td><td>\(String(format: "%.1f", rate))</td>"
                #expect(teamA.contains(row), "\(row)\n\(teamA)")
            }
        }
    }

    @Test("owners, labels, required tags and allow-lists are escaped wherever the page shows them")
    func hostileValuesAreEscaped() async throws {
        try await VendorHarness.withVendor(environment: Self.environment, roleKeys: Self.keys) { url, _, _ in
            let cookie = try #require(try await Self.signIn(url, key: "reader-key-1"))
            let page = try await HTTPCalls.send("GET", url + "/console/pools", headers: ["Cookie": cookie])
            #expect(page.status == 200)
            #expect(!page.text.contains(Self.hostile) && !page.text.contains("<script>"))
            let teamA = Self.section(page.text, area: "team-a")
            #expect(teamA.contains("<th scope=\"row\">Owner</th><td>\(Self.escaped)</td>"))
            #expect(teamA.contains("<td>\(Self.escaped)=\(Self.escaped)</td>"), "the label")
            #expect(teamA.contains("<td>alice, \(Self.escaped)</td>"), "the allow-list")
            #expect(Self.section(page.text, area: "team-a-ci").contains("<td>\(Self.escaped)</td>"), "the tag")
            // in the hierarchy table too
            #expect(page.text.contains("<td>10.64.128.0/17</td><td></td><td>\(Self.escaped)</td></tr>"))
        }
    }
}
