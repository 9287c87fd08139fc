import Foundation
import HTTPTransport
import IPAMCore
import TestSupport
import Testing
import VendorHTTP

/// The console's tables over HTTP against storage: the pool filter and sorted pages of the leases table, its CSV in
/// the table's order, hostile queries refused, the lease page's host addresses and members by role, the audit
/// log's time window and scope.
@Suite("Console tables over HTTP")
struct ConsoleTablesHTTPTests {
    static let keys = APIKeys(reader: "auditor=reader-key-1", lease: "alice=alice-key-1", admin: "ops=ops-key-1")
    static let environment = [
        "CONSOLE_SESSION_SECRET": "console-tables-secret-0123456789abcdefgh",
        "POOLS_CONFIG": #"[{"name":"team-a","cidr":"10.64.128.0/17"},{"name":"team-b","cidr":"10.64.64.0/18"}]"#,
    ]

    static func lease(_ url: String, _ body: String) async throws -> HTTPAnswer {
        let session = "t-" + UUID().uuidString.lowercased()
        let answer = try await HTTPCalls.send(
            "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"\#(session)",\#(body)}"#,
            headers: ["x-functions-key": "alice-key-1"])
        #expect(answer.status == 200 || answer.status == 201, "\(answer.text)")
        return answer
    }

    static func page(_ url: String, _ path: String, _ cookie: String) async throws -> HTTPAnswer {
        try await HTTPCalls.send("GET", url + path, headers: ["Cookie": cookie])
    }

    @Test(
        "the pool filter narrows to one pool's leases; each sorted page is ordered, and its CSV is the same rows in the same order"
    )
    func poolFilterSortAndCSV() async throws {
        try await VendorHarness.withVendor(environment: Self.environment, roleKeys: Self.keys) { url, _, _ in
            var made: [String: String] = [:]
            for (requester, pool, length) in [
                ("bravo", "team-a", 24), ("Alpha", "team-a", 26), ("charlie", "team-b", 25), ("delta", nil, 24),
            ] as [(String, String?, Int)] {
                let answer = try await Self.lease(
                    url,
                    #""requester":"\#(requester)","prefixLength":\#(length)"#
                        + (pool.map { #","pool":"\#($0)""# } ?? ""))
                let cidr: String = try #require(answer.string("cidr"))
                made[requester] = cidr
            }
            let cookie = try #require(try await ConsoleTests.signIn(url, key: "reader-key-1"))
            let teamA = try await Self.page(url, "/console/leases?pool=team-a", cookie)
            #expect(Set(ConsoleAWSTests.rows(teamA.text)) == [made["bravo"]!, made["Alpha"]!], "\(teamA.text)")
            #expect(teamA.text.contains(#"<option value="team-a" selected>team-a</option>"#))
            // Sorted by requester: case-insensitively, both ways; the CSV link and the CSV follow.
            let ascending = try await Self.page(url, "/console/leases?sort=requester", cookie)
            #expect(
                ConsoleAWSTests.rows(ascending.text) == ["Alpha", "bravo", "charlie", "delta"].map { made[$0]! },
                "\(ascending.text)")
            #expect(ascending.text.contains(#"data-sort="requester" aria-sort="ascending""#))
            let descending = try await Self.page(url, "/console/leases?sort=requester&order=desc", cookie)
            let order = ["delta", "charlie", "bravo", "Alpha"].map { made[$0]! }
            #expect(ConsoleAWSTests.rows(descending.text) == order)
            let link = try #require(descending.text.firstMatch(of: /href="\/console\/leases.csv\?([^"]*)"/)?.1)
            #expect(link == "sort=requester&amp;order=desc")
            let csv = try await Self.page(url, "/console/leases.csv?sort=requester&order=desc", cookie)
            let cidrs = csv.text.split(separator: "\r\n").dropFirst().map { String($0.split(separator: ",")[0]) }
            #expect(cidrs == order, "\(csv.text)")
            // By size, as numbers; within the pool filter.
            let sizes = try await Self.page(url, "/console/leases?pool=team-a&sort=size&order=desc", cookie)
            #expect(ConsoleAWSTests.rows(sizes.text) == [made["Alpha"]!, made["bravo"]!])
            // Paging a sorted table by offset: past the end an empty page, never an error.
            let beyond = try await Self.page(url, "/console/leases?sort=cidr&offset=4", cookie)
            #expect(beyond.status == 200 && ConsoleAWSTests.rows(beyond.text).isEmpty)
            #expect(beyond.text.contains(#"id="previous-page""#) && beyond.text.contains(#"id="first-page""#))
            // Hostile values: a 400 page naming the parameter, escaped, no rows of anything.
            for (query, said) in [
                ("sort=%3Cscript%3E", "&lt;script&gt;&#39; is not a column to sort by"),
                ("order=up", "&#39;order&#39; is asc or desc"),
                ("offset=-5", "&#39;offset&#39; must be a whole number from 0 to 5000"),
                ("offset=184467440737095516160", "&#39;offset&#39; must be a whole number"),
                ("pool=%3Cscript%3E", "no pool &#39;&lt;script&gt;&#39; is configured"),
                ("tag=%3Dx", "&#39;tag&#39; is KEY or KEY=VALUE"),
            ] {
                let refused = try await Self.page(url, "/console/leases?" + query, cookie)
                #expect(refused.status == 400 && refused.text.contains(said), "\(query): \(refused.text)")
                #expect(!refused.text.contains("<script>") && ConsoleAWSTests.rows(refused.text).isEmpty)
                let refusedCSV = try await Self.page(url, "/console/leases.csv?" + query, cookie)
                #expect(refusedCSV.status == 400, "\(query): the CSV refuses it too")
            }
        }
    }

    @Test(
        "the lease page: history for every reader; host addresses and members to the owner and admins, others told why")
    func leasePageDetails() async throws {
        try await VendorHarness.withVendor(environment: Self.environment, roleKeys: Self.keys) { url, _, _ in
            let made = try await Self.lease(url, #""requester":"hosts""#)
            let id = try #require(made.string("leaseId"))
            let cidr = try #require(made.string("cidr"))
            let ip = try await HTTPCalls.send(
                "POST", url + "/api/leases/\(id)/ips", headers: ["x-functions-key": "alice-key-1"])
            let address = try #require(ip.string("ip"), "\(ip.text)")
            for (key, sees) in [("alice-key-1", true), ("ops-key-1", true), ("reader-key-1", false)] {
                let cookie = try #require(try await ConsoleTests.signIn(url, key: key))
                let page = try await Self.page(url, "/console/leases/\(id)", cookie)
                #expect(
                    page.status == 200
                        && page.text.contains(
                            #"<tr data-cidr="\#(cidr)"><td>\#(cidr)</td><td>lease</td><td class="state">leased</td>"#),
                    "\(key)")
                #expect(page.text.contains(#"id="host-addresses""#) == sees, "\(key)")
                #expect(page.text.contains(#"<tr data-ip="\#(address)">"#) == sees, "\(key)")
                #expect(page.text.contains("<td>alice</td><td>owner</td>") == sees, "\(key)")
                #expect(page.text.contains(#"id="hosts-note""#) != sees, "\(key)")
            }
        }
    }

    @Test("the audit log: a time window and a scope narrow the events; an inverted window is refused")
    func auditWindow() async throws {
        try await VendorHarness.withVendor(environment: Self.environment, roleKeys: Self.keys) { url, _, _ in
            let made = try await Self.lease(url, #""requester":"audit""#)
            let id = try #require(made.string("leaseId"))
            let cookie = try #require(try await ConsoleTests.signIn(url, key: "reader-key-1"))
            let now = Date()
            let before = String(ISO8601.format(now.addingTimeInterval(-86_400)).prefix(16))
            let after = String(ISO8601.format(now.addingTimeInterval(86_400)).prefix(16))
            let within = try await Self.page(
                url, "/console/audit?since=\(before)&until=\(after)&leaseId=\(id)", cookie)
            #expect(within.status == 200 && within.text.contains(#"<a href="/console/leases/\#(id)">"#))
            #expect(within.text.contains(#"value="\#(before):00""#), "the field shows the window")
            let earlier = try await Self.page(url, "/console/audit?until=\(before)&leaseId=\(id)", cookie)
            #expect(earlier.text.contains("No events match.") && !earlier.text.contains(id + "</a>"))
            let elsewhere = try await Self.page(
                url, "/console/audit?scope=\(SampleConfiguration.subscription)_westeurope&leaseId=\(id)", cookie)
            #expect(elsewhere.text.contains("No events match."))
            let inverted = try await Self.page(url, "/console/audit?since=\(after)&until=\(before)", cookie)
            #expect(inverted.status == 400 && inverted.text.contains("&#39;until&#39; is before &#39;since&#39;"))
        }
    }
}
