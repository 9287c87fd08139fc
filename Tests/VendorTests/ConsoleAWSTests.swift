import Foundation
import HTTPTransport
import IPAMCore
import Inventory
import NetworkMath
import StrictJSON
import TestSupport
import Testing
import VendorHTTP

/// The console of a Vendor with an Azure and an AWS scope over HTTP: every page that shows or takes a scope
/// names the AWS one `aws/{account}/{region}` (its links, filters and forms carrying its partition key, which
/// round-trips), a VPC where Azure has a VNet, the Azure scope as before; and the areas the Manager found low
/// on space, on the dashboard, the space page and the audit page.
@Suite("Console with an AWS scope", .serialized)
struct ConsoleAWSTests {
    static let account = AWSScopeTests.account
    static let awsKey = AWSScopeTests.awsPartition
    static let awsName = "aws/\(account)/us-east-1"
    static let azureKey = AWSScopeTests.azurePartition
    static let aws = Scope(awsAccountId: account, region: "us-east-1")
    static let azure = Scope(subscriptionId: AWSScopeTests.subscription, region: "eastus")

    static var environment: [String: String] {
        var environment = AWSScopeTests.environment
        environment.merge(ConsoleTests.secret) { _, new in new }
        // The AWS pool and the Azure scope's own space have low-space thresholds; the Azure pool has none.
        environment["POOLS_CONFIG"] = #"""
            [{"name":"aws-team","accountId":"\#(account)","region":"us-east-1","cidr":"10.64.128.0/17","alerts":{"minFreePercent":50}},
             {"name":"az-team","subscriptionId":"\#(AWSScopeTests.subscription)","region":"eastus","cidr":"10.64.128.0/17"}]
            """#
        environment["SCOPE_CONFIG_MANIFEST"] = #"""
            {"defaultScope":{"subscriptionId":"\#(AWSScopeTests.subscription)","region":"eastus"},
             "scopes":[{"subscriptionId":"\#(AWSScopeTests.subscription)","region":"eastus","alerts":{"minFreeBlocks":{"24":4}}},
                       {"cloud":"aws","accountId":"\#(account)","region":"us-east-1","stock":{"24":2}}]}
            """#
        return environment
    }

    static func page(_ url: String, _ path: String, _ cookie: String) async throws -> HTTPAnswer {
        try await HTTPCalls.send("GET", url + path, headers: ["Cookie": cookie])
    }

    /// The `data-cidr` of each row of the leases table on a page.
    static func rows(_ html: String) -> [String] {
        html.matches(of: /<tr data-cidr="([^"]+)">/).map { String($0.1) }
    }

    @Test(
        "leases, filters, CSV, a lease's page, the space page, reservations, drift and the dashboard show the AWS scope by its name and its VPC; the Azure scope as before; hostile scope names find nothing"
    )
    func awsScopeOnEveryPage() async throws {
        try await VendorHarness.withVendor(environment: Self.environment, roleKeys: AWSScopeTests.keys) {
            url, table, _ in
            let aws = try await AWSScopeTests.lease(
                url, #""SessionId":"c-aws","prefixLength":24,\#(AWSScopeTests.aws)"#)
            let azure = try await AWSScopeTests.lease(url, #""SessionId":"c-azure","prefixLength":24"#)
            let adopted = try await AWSScopeTests.call(
                "POST", url + "/api/adoptNetwork",
                #"{"SessionId":"c-adopt","cidr":"10.64.100.0/24",\#(AWSScopeTests.aws),"resourceId":"vpc-0123456789abcdef0"}"#,
                as: "ops")
            #expect(aws.status == 201 && azure.status == 201 && adopted.status == 201, "\(aws.text) \(adopted.text)")
            let (awsCidr, azureCidr) = (try #require(aws.string("cidr")), try #require(azure.string("cidr")))
            let awsId = try #require(aws.string("leaseId"))
            let azureId = try #require(azure.string("leaseId"))
            let adoptedId = try #require(adopted.string("leaseId"))
            let cookie = try #require(try await ConsoleTests.signIn(url, key: "viewer-key-1"))

            // The leases table: both, each scope named; the filter's options carry the key and show the name.
            let all = try await Self.page(url, "/console/leases", cookie)
            #expect(
                all.status == 200 && Set(Self.rows(all.text)).isSuperset(of: [awsCidr, azureCidr, "10.64.100.0/24"]))
            // Each scope's id is its cell's title.
            #expect(
                all.text.contains("<td title=\"\(Self.awsKey)\">\(Self.awsName)</td>")
                    && all.text.contains("<td title=\"\(Self.azureKey)\">\(Self.azureKey)</td>"))
            #expect(all.text.contains("<option value=\"\(Self.awsKey)\" >\(Self.awsName)</option>"), "\(all.text)")
            #expect(all.text.contains("<option value=\"\(Self.azureKey)\" >\(Self.azureKey)</option>"))
            #expect(!all.text.contains(">\(Self.awsKey)<"), "the partition key is never shown as the scope's name")

            // Filtering by the AWS scope (the option's value, or its name): only its leases, the option selected,
            // the CSV link and the next page carry the filter.
            for spelling in [Self.awsKey, Self.awsName, Self.awsKey.uppercased()] {
                let query = "scope=" + (spelling.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
                let filtered = try await Self.page(url, "/console/leases?\(query)", cookie)
                #expect(Set(Self.rows(filtered.text)) == [awsCidr, "10.64.100.0/24"], "\(spelling)")
                #expect(
                    filtered.text.contains("<option value=\"\(Self.awsKey)\" selected>\(Self.awsName)</option>"),
                    "\(spelling)")
                let link = try #require(filtered.text.firstMatch(of: /href="\/console\/leases.csv\?([^"]*)"/)?.1)
                let csv = try await Self.page(url, "/console/leases.csv?" + String(link), cookie)
                let lines = csv.text.split(separator: "\r\n").map(String.init)
                #expect(
                    lines.count == 3 && lines.dropFirst().allSatisfy { $0.contains(",\(Self.awsKey),") }, "\(csv.text)")
            }
            // The CSV names the scope as the API does (its partition key, which `?scope=` takes back), and the VPC.
            let csv = try await Self.page(url, "/console/leases.csv?scope=\(Self.awsKey)", cookie)
            #expect(csv.text.contains("10.64.100.0/24,leased,\(adoptedId),c-adopt,\(Self.awsKey),"), "\(csv.text)")
            #expect(csv.text.contains(",vpc-0123456789abcdef0,"))
            let azureOnly = try await Self.page(url, "/console/leases?scope=\(Self.azureKey)", cookie)
            #expect(Self.rows(azureOnly.text) == [azureCidr])
            // Near misses of the AWS scope's names match no scope: an empty table, never another scope's leases.
            for miss in [
                "\(Self.account)_us-east-1", "aws_\(Self.account)", "aws_210987654321_us-east-1",
                "aws%2F\(Self.account)",
                "aws_\(Self.account)_us-east-1%20", "%3Cscript%3E",
            ] {
                let page = try await Self.page(url, "/console/leases?scope=\(miss)", cookie)
                #expect(page.status == 200 && Self.rows(page.text).isEmpty, "\(miss)")
                #expect(!page.text.contains("<script>"))
                let csv = try await Self.page(url, "/console/leases.csv?scope=\(miss)", cookie)
                #expect(csv.text.split(separator: "\r\n").count == 1, "\(miss): \(csv.text)")
            }

            // A lease's page: its scope's name, its VPC (not a VNet); the Azure lease's page as before.
            let adoptedPage = try await Self.page(url, "/console/leases/\(adoptedId)", cookie)
            #expect(adoptedPage.text.contains("<tr><th scope=\"row\">Scope</th><td>\(Self.awsName)</td></tr>"))
            #expect(adoptedPage.text.contains("<tr><th scope=\"row\">VPC</th><td>vpc-0123456789abcdef0</td></tr>"))
            #expect(!adoptedPage.text.contains(">VNet<"))
            let awsPage = try await Self.page(url, "/console/leases/\(awsId)", cookie)
            #expect(awsPage.text.contains("<tr><th scope=\"row\">VPC</th><td></td></tr>"))
            let azurePage = try await Self.page(url, "/console/leases/\(azureId)", cookie)
            #expect(azurePage.text.contains("<tr><th scope=\"row\">Scope</th><td>\(Self.azureKey)</td></tr>"))
            #expect(azurePage.text.contains("<tr><th scope=\"row\">VNet</th><td></td></tr>"))

            // The space page of the AWS scope, by either spelling: its title, its option, its blocks.
            for spelling in [Self.awsKey, "aws%2F\(Self.account)%2Fus-east-1"] {
                let space = try await Self.page(url, "/console/space?scope=\(spelling)", cookie)
                #expect(space.text.contains("<h1>Address space of \(Self.awsName)</h1>"), "\(spelling)")
                #expect(space.text.contains("<option value=\"\(Self.awsKey)\" selected>\(Self.awsName)</option>"))
                // Both scopes have the same (isolated) supernet: the Azure lease's block is not on this page, its id.
                #expect(space.text.contains("<tr data-cidr=\"\(awsCidr)\">") && space.text.contains(awsId))
                #expect(!space.text.contains(azureId))
                #expect(space.text.contains(">pool aws-team: 10.64.128.0/17</h2>"))
            }
            let azureSpace = try await Self.page(url, "/console/space", cookie)
            #expect(azureSpace.text.contains("<h1>Address space of \(Self.azureKey)</h1>"))

            // The dashboard names each area by its scope's name (a pool's after it).
            let dashboard = try await Self.page(url, "/console", cookie)
            #expect(
                dashboard.text.contains(">\(Self.awsName)</h2>")
                    && dashboard.text.contains(">\(Self.awsName)/aws-team</h2>"))
            #expect(
                dashboard.text.contains(">\(Self.azureKey)</h2>")
                    && dashboard.text.contains(">\(Self.azureKey)/az-team</h2>"))

            // Drift findings name the AWS scope by its name.
            try await Inventory(table: table, actor: "manager-test").recordManagerStatus(
                runAt: Date(), complete: true, heartbeat: 86400,
                drift: [
                    ManagerStatus.Finding(
                        kind: "occupied", scope: Self.awsKey, cidr: "10.64.250.0/24",
                        detail: "used by vpc-0fedcba9876543210, which ipam does not manage")
                ], problems: [])
            let drift = try await Self.page(url, "/console/drift", cookie)
            #expect(
                drift.text.contains(
                    "<tr><td>occupied</td><td title=\"\(Self.awsKey)\">\(Self.awsName)</td><td>10.64.250.0/24</td><td>used by vpc-0fedcba9876543210, which ipam does not manage</td><td>"
                ), "\(drift.text)")
            // Its compliance (no listed network has the block) and what the next run does about it.
            #expect(
                drift.text.contains(
                    "<span class=\"state\">not listed</span><br><span class=\"why\">no listed network has this block</span></td><td class=\"next-run\">Nothing while the network uses the block"
                ), "\(drift.text)")
        }
    }

    @Test(
        "an admin reserves in the AWS scope from the console's form (its accountId, never the default scope); a scope no one configured reserves nothing"
    )
    func reserveInTheAWSScope() async throws {
        try await VendorHarness.withVendor(environment: Self.environment, roleKeys: AWSScopeTests.keys) { url, _, _ in
            let cookie = try #require(try await ConsoleTests.signIn(url, key: "ops-key-1"))
            let page = try await Self.page(url, "/console/reservations", cookie)
            #expect(page.text.contains("<option value=\"\(Self.awsKey)\">\(Self.awsName)</option>"), "\(page.text)")
            let csrf = try #require(page.text.firstMatch(of: /name="csrf" value="([^"]+)"/).map { String($0.1) })
            func reserve(_ scope: String, _ cidr: String) async throws -> HTTPAnswer {
                try await HTTPCalls.send(
                    "POST", url + "/console/reservations",
                    body: "csrf=\(csrf)&scope=\(scope)&cidr=\(cidr)&owner=ops&reason=console",
                    headers: ["Cookie": cookie], contentType: "application/x-www-form-urlencoded")
            }
            let made = try await reserve(Self.awsKey, "10.64.90.0%2F24")
            #expect(made.status == 303, "\(made.text)")
            let listed = try await AWSScopeTests.call(
                "GET", url + "/api/reservations?accountId=\(Self.account)&region=us-east-1", as: "viewer")
            let cidrs = listed.json?["reservations"]?.arrayValue?.compactMap { $0["cidr"]?.stringValue } ?? []
            #expect(cidrs.contains("10.64.90.0/24"), "\(listed.text)")
            let azureListed = try await AWSScopeTests.call(
                "GET", url + "/api/reservations?scope=\(Self.azureKey)", as: "viewer")
            #expect(!azureListed.text.contains("10.64.90.0/24"), "not in the default (Azure) scope")
            let after = try await Self.page(url, "/console/reservations", cookie)
            #expect(
                after.text.contains(
                    "<tr data-cidr=\"10.64.90.0/24\"><td>10.64.90.0/24</td><td title=\"\(Self.awsKey)\">\(Self.awsName)</td>"
                ))

            for unknown in ["aws_210987654321_us-east-1", "\(Self.account)_us-east-1", "nowhere"] {
                let refused = try await reserve(unknown, "10.64.91.0%2F24")
                #expect(refused.status == 404 && refused.text.contains("nothing was reserved"), "\(unknown)")
            }
            let everywhere = try await AWSScopeTests.call(
                "GET", url + "/api/reservations?accountId=\(Self.account)&region=us-east-1", as: "viewer")
            let azure = try await AWSScopeTests.call("GET", url + "/api/reservations", as: "viewer")
            #expect(azure.status == 200 && !everywhere.text.contains("10.64.91.0/24"))
            #expect(!azure.text.contains("10.64.91.0/24"), "in no scope")
        }
    }

    @Test(
        "the areas the Manager found low are on the dashboard (with the threshold crossed), the scope's space page and the audit page; a recovered area or one without thresholds is not"
    )
    func lowSpaceShown() async throws {
        try await VendorHarness.withVendor(environment: Self.environment, roleKeys: AWSScopeTests.keys) {
            url, table, _ in
            let cookie = try #require(try await ConsoleTests.signIn(url, key: "viewer-key-1"))
            let quiet = try await Self.page(url, "/console", cookie)
            #expect(quiet.status == 200 && !quiet.text.contains("Space running low"))

            let manager = Inventory(table: table, actor: "manager-test")
            let since = Date(timeIntervalSince1970: 1_800_000_000)
            func record(_ state: SpaceAlertState, cidr: String, in scope: Scope) async throws {
                let previous = try await manager.spaceAlerts(in: scope)[
                    RowKeys.spaceAlert(pool: state.pool, version: state.version)]
                #expect(try await manager.recordSpaceAlert(state, over: previous, cidr: cidr, in: scope, now: Date()))
            }
            // The AWS pool is low; the Azure scope's own space went low and recovered; the Azure pool (no
            // thresholds configured: a state left from an older configuration) says low but is not judged now.
            try await record(
                SpaceAlertState(
                    pool: "aws-team", version: .v4, low: true, since: since,
                    reasons: "pool aws-team (IPv4) is low: 12.5% free (below 50.0%)"), cidr: "10.64.128.0/17",
                in: Self.aws)
            try await record(
                SpaceAlertState(
                    pool: nil, version: .v4, low: true, since: since,
                    reasons: "\(Self.azure)'s own space (IPv4) is low: 2 free /24 blocks (below 4)"), cidr: "",
                in: Self.azure)
            try await record(
                SpaceAlertState(
                    pool: nil, version: .v4, low: false, since: since,
                    reasons: "\(Self.azure)'s own space (IPv4) is no longer below any threshold"), cidr: "",
                in: Self.azure)
            try await record(
                SpaceAlertState(
                    pool: "az-team", version: .v4, low: true, since: since,
                    reasons: "pool az-team (IPv4) is low: 1.0% free (below 5.0%)"), cidr: "10.64.128.0/17",
                in: Self.azure)

            let dashboard = try await Self.page(url, "/console", cookie)
            #expect(dashboard.text.contains("<h2 id=\"low-space\">Space running low</h2>"), "\(dashboard.text)")
            #expect(
                dashboard.text.contains(
                    "<tr><td><a href=\"/console/space?scope=\(Self.awsKey)\" title=\"\(Self.awsKey)\">\(Self.awsName)</a></td><td>pool aws-team (10.64.128.0/17) (IPv4)</td><td>\(ISO8601.format(since))</td><td>12.5% free (below 50.0%)</td></tr>"
                ), "\(dashboard.text)")
            let banner = try #require(dashboard.text.firstMatch(of: /<table id="low-space-areas">[\s\S]*?<\/table>/))
            #expect(!banner.output.contains("az-team") && !banner.output.contains("own space"), "\(banner.output)")

            let awsSpace = try await Self.page(url, "/console/space?scope=\(Self.awsKey)", cookie)
            #expect(
                awsSpace.text.contains(
                    "<p class=\"notice error low-space\">Low on space since \(ISO8601.format(since)): pool aws-team (10.64.128.0/17) (IPv4): 12.5% free (below 50.0%)</p>"
                ))
            let azureSpace = try await Self.page(url, "/console/space?scope=\(Self.azureKey)", cookie)
            #expect(!azureSpace.text.contains("low-space"))

            // The audit page lists each alert event with its reasons; its filter finds them.
            let audit = try await Self.page(url, "/console/audit?action=space-low", cookie)
            #expect(
                audit.text.contains(
                    "<td>space-low<br><span class=\"alert\">pool aws-team (IPv4) is low: 12.5% free (below 50.0%)</span></td>"
                ), "\(audit.text)")
            #expect(audit.text.contains("<option value=\"space-low\" selected>space-low</option>"))
            let recovered = try await Self.page(url, "/console/audit?action=space-recovered", cookie)
            #expect(recovered.text.contains("is no longer below any threshold</span></td>"))
        }
    }
}
