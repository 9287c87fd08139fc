import Foundation
import IPAMCore
import Inventory
import NetworkMath
import Testing

@testable import VendorConsole
@testable import VendorDomain
@testable import VendorHTTP

/// The console's tables without storage: the leases table's query (filters, sort, page) and ordering, the audit
/// page's query, the drift page's compliance and next-run columns, and the lease page's history, host addresses
/// and members, each read as a careless operator or an attacker would write the URL.
@Suite("Console tables: queries, ordering, drift outlook")
struct ConsoleTablesTests {
    static let east = Scope(subscriptionId: "sub", region: "eastus")
    static let west = Scope(subscriptionId: "sub", region: "westeurope")
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let hostile = "<script>alert('x')</script>&\"{{csrf}}"

    static func prefix(_ text: String) -> IPPrefix { try! IPPrefix(parsing: text) }

    /// A lease row of `cidr`: leased (with an expiry) unless `anchoredTo` names its VNet.
    static func row(
        _ cidr: String, requester: String? = nil, expiresAt: Date? = nil, pool: String? = nil,
        tags: [String: String] = [:], anchoredTo: String? = nil, id: String = UUID().uuidString.lowercased()
    ) -> NetworkRow {
        let facts = NetworkRow.Lease(
            id: id, sessionId: "s-\(cidr)", requester: requester, expiresAt: expiresAt, tags: tags)
        var row = NetworkRow(prefix: prefix(cidr), holding: .lease(facts, in: .leased)!, pool: pool)
        if let anchoredTo { row = row.anchored(to: anchoredTo, at: now)! }
        return row
    }

    /// The query a URL's parameters make (empty values dropped, as `ConsoleRoutes.parameter` drops them).
    static func leaseQuery(_ parameters: [String: String], pools: Set<String> = ["team-a"]) throws(VendorError)
        -> LeaseTableQuery
    {
        try LeaseTableQuery(
            { parameters[$0].flatMap { $0.isEmpty ? nil : $0 } }, scopes: [west, east], pools: pools)
    }

    static func refusal(_ parameters: [String: String]) -> VendorError? {
        do throws(VendorError) {
            _ = try leaseQuery(parameters)
            return nil
        } catch { return error }
    }

    @Test("the leases query: filters and order kept for the links, a second click on a header reverses it")
    func leaseQueryRoundTrips() throws {
        let plain = try Self.leaseQuery([:])
        #expect(plain.sort == nil && !plain.descending && plain.offset == 0 && plain.scopes == [Self.east, Self.west])
        #expect(plain.ordered.isEmpty)
        let query = try Self.leaseQuery([
            "scope": "sub_westeurope", "state": "leased", "requester": "team a&b", "tag": "env=prod", "pool": "team-a",
            "within": "10.64.1.0/16", "sort": "expiry", "order": "desc", "offset": "50",
        ])
        #expect(query.scopes == [Self.west] && query.scope == Self.west)
        #expect(query.filter.states == [.leased] && query.filter.requester == "team a&b")
        #expect(query.filter.tag?.key == "env" && query.filter.tag?.value == "prod" && query.filter.pool == "team-a")
        #expect(query.filter.within == Self.prefix("10.64.0.0/16"), "host bits forgiven, as the API forgives them")
        #expect(query.sort == .expiry && query.descending && query.offset == 50)
        #expect(
            ConsoleRoutes.encode(query.ordered)
                == "scope=sub_westeurope&state=leased&requester=team%20a%26b&tag=env%3Dprod&pool=team-a&within=10.64.1.0%2F16&sort=expiry&order=desc"
        )
        // The sorted column's header reverses the order; another column's starts ascending; both go to page one.
        #expect(query.sorting(by: .expiry).suffix(2).map(\.1) == ["expiry", "asc"])
        let ascending = try Self.leaseQuery(["sort": "expiry"])
        #expect(ascending.sorting(by: .expiry).map(\.1) == ["expiry", "desc"])
        #expect(ascending.sorting(by: .requester).map(\.1) == ["requester", "asc"])
        #expect(!query.sorting(by: .cidr).contains { $0.0 == "offset" })
        // A scope not configured selects nothing (as before), a key without a value any value.
        #expect(try Self.leaseQuery(["scope": "nope_nowhere"]).scopes.isEmpty)
        #expect(try Self.leaseQuery(["tag": "env"]).filter.tag?.value == nil)
    }

    @Test(
        "hostile leases queries: unknown sort keys, orders, states, pools, tags and CIDRs, negative or huge offsets are refused naming the parameter; a forged continuation starts over",
        arguments: [
            (["sort": "password"], "sort"), (["sort": "CIDR"], "sort"), (["sort": ConsoleTablesTests.hostile], "sort"),
            (["order": "sideways"], "order"), (["order": "DESC"], "order"), (["offset": "-1"], "offset"),
            (["offset": "5001"], "offset"), (["offset": "99999999999999999999999999"], "offset"),
            (["offset": "1e3"], "offset"), (["offset": " 5"], "offset"), (["state": "gone"], "state"),
            (["pool": "no-such-pool"], "pool"), (["pool": ConsoleTablesTests.hostile], "pool"),
            (["tag": "=prod"], "tag"),
            (["within": "10.64.0.0/33"], "within"), (["within": "not-a-cidr"], "within"),
        ])
    func hostileLeaseQueries(parameters: [String: String], field: String) {
        let error = Self.refusal(parameters)
        #expect(error?.code == .invalidQuery && error?.field == field, "\(parameters): \(String(describing: error))")
    }

    @Test("a continuation that is not a token of the lease listing is ignored, never an error")
    func forgedContinuation() throws {
        for token in ["garbage", "v1.", "v1.\(String(repeating: "A", count: 5000))", Self.hostile] {
            #expect(try Self.leaseQuery(["continuation": token]).continuation == nil, "\(token.prefix(20))")
        }
        let real = LeaseCursor(partitionKey: "sub_eastus", rowKey: RowKeys.network(Self.prefix("10.64.1.0/24")))
        #expect(try Self.leaseQuery(["continuation": real.token]).continuation == real)
    }

    @Test(
        "each column orders the rows by what it shows: addresses and sizes as numbers, times as times, text case-insensitively; empty cells last in both orders; ties keep the listing's order"
    )
    func orderingByEachColumn() {
        let early = Self.now
        let late = Self.now.addingTimeInterval(3600)
        let leases: [(NetworkRow, Scope)] = [
            (Self.row("10.0.10.0/24", requester: "bob", expiresAt: late, pool: "b", tags: ["z": "1"]), Self.east),
            (Self.row("10.0.9.0/24", requester: "Alice", expiresAt: early, tags: ["a": "2"]), Self.west),
            (Self.row("10.0.0.0/8", anchoredTo: "/subscriptions/s/virtualNetworks/vnet-b"), Self.east),
            (Self.row("10.0.12.0/26", requester: "carol", expiresAt: late, pool: "a"), Self.east),
        ]
        func order(_ column: LeaseColumn, descending: Bool = false) -> [String] {
            LeaseOrdering.sorted(leases, by: column, descending: descending).map(\.0.prefix.description)
        }
        // By address, not as text ("10.0.10.0" < "10.0.9.0" as text).
        #expect(order(.cidr) == ["10.0.0.0/8", "10.0.9.0/24", "10.0.10.0/24", "10.0.12.0/26"])
        #expect(order(.cidr, descending: true) == ["10.0.12.0/26", "10.0.10.0/24", "10.0.9.0/24", "10.0.0.0/8"])
        // By length as a number ("/8" > "/24" as text); ties in the listing's order.
        #expect(order(.size) == ["10.0.0.0/8", "10.0.10.0/24", "10.0.9.0/24", "10.0.12.0/26"])
        #expect(order(.size, descending: true) == ["10.0.12.0/26", "10.0.10.0/24", "10.0.9.0/24", "10.0.0.0/8"])
        // Case-insensitively; the anchored lease has no requester: last either way.
        #expect(order(.requester) == ["10.0.9.0/24", "10.0.10.0/24", "10.0.12.0/26", "10.0.0.0/8"])
        #expect(order(.requester, descending: true) == ["10.0.12.0/26", "10.0.10.0/24", "10.0.9.0/24", "10.0.0.0/8"])
        // An anchored lease does not expire: no expiry, last in both orders; equal times keep their order.
        #expect(order(.expiry) == ["10.0.9.0/24", "10.0.10.0/24", "10.0.12.0/26", "10.0.0.0/8"])
        #expect(order(.expiry, descending: true) == ["10.0.10.0/24", "10.0.12.0/26", "10.0.9.0/24", "10.0.0.0/8"])
        #expect(order(.pool) == ["10.0.12.0/26", "10.0.10.0/24", "10.0.9.0/24", "10.0.0.0/8"])
        #expect(order(.tags) == ["10.0.9.0/24", "10.0.10.0/24", "10.0.0.0/8", "10.0.12.0/26"])
        #expect(order(.network) == ["10.0.0.0/8", "10.0.10.0/24", "10.0.9.0/24", "10.0.12.0/26"])
        #expect(order(.scope) == ["10.0.10.0/24", "10.0.0.0/8", "10.0.12.0/26", "10.0.9.0/24"])
        #expect(order(.state) == ["10.0.0.0/8", "10.0.10.0/24", "10.0.9.0/24", "10.0.12.0/26"])
        // Every column gives an order of the same rows.
        for column in LeaseColumn.allCases {
            #expect(Set(order(column)) == Set(leases.map(\.0.prefix.description)), "\(column)")
        }
    }

    @Test("a sorted table reads a listing page by page up to its cap, and says whether more matched")
    func cappedReading() async throws {
        let items = Array(0..<2_500)
        for (cap, expected, truncated) in [
            (4, 4, true), (2_499, 2_499, true), (2_500, 2_500, false), (5_000, 2_500, false),
        ] {
            var limits: [Int] = []
            let (read, more) = try await LeaseOrdering.readCapped(cap: cap) {
                limit, cursor throws(DomainError) -> ([Int], LeaseCursor?) in
                limits.append(limit)
                let start = cursor.flatMap { Int($0.rowKey) } ?? 0
                let end = min(start + limit, items.count)
                return (
                    Array(items[start..<end]),
                    end < items.count ? LeaseCursor(partitionKey: "p", rowKey: String(end)) : nil
                )
            }
            #expect(read == Array(items.prefix(expected)) && more == truncated, "cap \(cap)")
            #expect(limits.allSatisfy { (1...1000).contains($0) }, "cap \(cap): \(limits)")
        }
    }

    @Test(
        "the leases page: every column's header sorts by it, aria-sort on the sorted one only, the CSV link carries the filters and order, the cap said"
    )
    func leasesPageHeaders() throws {
        let query = try Self.leaseQuery(["requester": Self.hostile, "sort": "requester", "order": "desc"])
        let rows = [(Self.row("10.0.1.0/24", requester: Self.hostile, tags: [Self.hostile: "v"]), Self.east)]
        let page = LeasesPage(
            LeaseSelection(
                leases: rows, total: 5_000, truncated: true, next: query.ordered + [("offset", "50")], later: false),
            query: query, scopes: [Self.east, Self.west], pools: ["team-b", "team-a"])
        let html = ConsoleTemplates.render(page, title: "Leases", notice: nil, session: nil)
        #expect(page.headers.map(\.key) == LeaseColumn.allCases.map(\.rawValue))
        #expect(page.headers.filter { $0.ariaSort != nil }.map(\.key) == ["requester"])
        #expect(html.components(separatedBy: "aria-sort=").count == 2)
        #expect(html.contains(#"data-sort="requester" aria-sort="descending""#))
        let encoded = ConsoleRoutes.percent(Self.hostile)
        #expect(html.contains("href=\"/console/leases.csv?requester=\(encoded)&amp;sort=requester&amp;order=desc\""))
        #expect(html.contains("href=\"/console/leases?requester=\(encoded)&amp;sort=requester&amp;order=asc\""))
        #expect(html.contains("href=\"/console/leases?requester=\(encoded)&amp;sort=cidr&amp;order=asc\""))
        #expect(html.contains("id=\"sort-cap\"") && html.contains("sorted by Requester, descending (5000 matching)"))
        #expect(html.contains("id=\"next-page\"") && !html.contains("id=\"previous-page\""))
        #expect(!html.contains("<script>") && page.poolOptions.map(\.value) == ["team-a", "team-b"])
        // Unsorted: no aria-sort at all, the listing's order said.
        let plain = LeasesPage(
            LeaseSelection(leases: rows), query: try Self.leaseQuery([:]), scopes: [Self.east], pools: [])
        let plainHTML = ConsoleTemplates.render(plain, title: "Leases", notice: nil, session: nil)
        #expect(!plainHTML.contains("aria-sort") && plainHTML.contains("in address order, scope by scope"))
        #expect(!plainHTML.contains("id=\"sort-cap\""))
    }

    @Test("a lease row shows its requester, pool, tags, size and network by name, the full id in its title")
    func leaseRowColumns() {
        let row = LeasesPage.Row(
            Self.row(
                "10.0.1.0/24", requester: "team", pool: "team-a", tags: ["b": "2", "a": "1"],
                anchoredTo: "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/vnet-1"),
            scope: Self.east)
        #expect(row.requester == "team" && row.pool == "team-a" && row.tags == "a=1, b=2" && row.size == "/24")
        #expect(row.networkName == "vnet-1" && row.network.hasSuffix("/virtualNetworks/vnet-1"))
        #expect(row.expiresAt == "", "an anchored lease does not expire")
        #expect(LeasesPage.Row.networkName("vpc-0abc") == "vpc-0abc" && LeasesPage.Row.networkName(nil) == "")
    }

    @Test(
        "the audit query: scope, action, actor, lease and a time window, as RFC 3339 or a datetime-local field's value (UTC)"
    )
    func auditQuery() throws {
        let query = try AuditQuery(
            [
                "scope": "sub_eastus", "action": "lease", "actor": "alice", "leaseId": UUID().uuidString,
                "since": "2026-12-01T10:00", "until": "2026-12-01T12:30:15Z",
            ].lookup, scopes: [Self.west, Self.east])
        #expect(query.scopes == [Self.east] && query.filter.actions == ["lease"] && query.filter.actor == "alice")
        #expect(query.filter.since == ISO8601.parse("2026-12-01T10:00:00Z"))
        #expect(query.filter.until == ISO8601.parse("2026-12-01T12:30:15Z"))
        #expect(AuditQuery.field(query.filter.since) == "2026-12-01T10:00:00")
        #expect(AuditQuery.time("2026-12-01T10:00:59") == ISO8601.parse("2026-12-01T10:00:59Z"))
        #expect(query.filters.map(\.0) == ["scope", "action", "actor", "leaseId", "since", "until"])
        let all = try AuditQuery([String: String]().lookup, scopes: [Self.west, Self.east])
        #expect(all.scopes == [Self.east, Self.west] && all.filter == EventFilter())
        #expect(try AuditQuery(["scope": "elsewhere"].lookup, scopes: [Self.east]).scopes.isEmpty)
        #expect(try AuditQuery(["continuation": "v1.garbage"].lookup, scopes: [Self.east]).continuation == nil)
    }

    @Test(
        "hostile audit queries: inverted windows, impossible or huge times, unknown actions, ids that are not lease ids are refused naming the parameter",
        arguments: [
            (["since": "2026-12-02T00:00", "until": "2026-12-01T00:00"], "until"),
            (["since": "99999-01-01T00:00"], "since"), (["until": "2026-13-01T00:00"], "until"),
            (["since": "yesterday"], "since"), (["since": "2026-12-01"], "since"),
            (["until": "2026-12-01T25:00"], "until"), (["since": ConsoleTablesTests.hostile], "since"),
            (["action": "drop-table"], "action"), (["action": ConsoleTablesTests.hostile], "action"),
            (["leaseId": "not-a-lease"], "leaseId"),
        ])
    func hostileAuditQueries(parameters: [String: String], field: String) {
        do throws(VendorError) {
            _ = try AuditQuery(parameters.lookup, scopes: [Self.east])
            Issue.record("accepted \(parameters)")
        } catch {
            #expect(error.code == .invalidQuery && error.field == field, "\(parameters): \(error)")
        }
    }

    @Test("the audit page keeps its filters in the form and the paging links, with each event's scope")
    func auditPage() throws {
        let query = try AuditQuery(
            ["actor": Self.hostile, "since": "2026-12-01T10:00"].lookup, scopes: [Self.east])
        let event = AuditEvent(
            action: "lease", actor: Self.hostile, cidr: "10.0.0.0/24", leaseId: UUID().uuidString.lowercased(),
            sessionId: "s", before: "", after: "leased")
        let next = LeaseCursor(partitionKey: "sub_eastus", rowKey: RowKeys.eventPrefix + "1")
        let page = AuditPage([(event, Self.east)], next: next, query: query, scopes: [Self.east])
        #expect(page.rows.map(\.scope) == ["sub_eastus"] && page.since == "2026-12-01T10:00:00" && page.first == nil)
        let html = ConsoleTemplates.render(page, title: "Audit log", notice: nil, session: nil)
        let actor = ConsoleRoutes.percent(Self.hostile)
        #expect(html.contains("href=\"/console/audit?actor=\(actor)&amp;since=2026-12-01T10%3A00&amp;continuation="))
        #expect(html.contains("value=\"2026-12-01T10:00:00\"") && !html.contains("<script>"))
        let later = try AuditQuery(
            ["actor": "a", "continuation": next.token].lookup, scopes: [Self.east])
        #expect(AuditPage([], next: nil, query: later, scopes: [Self.east]).first == "actor=a")
    }

    @Test("the next-run column: the action a finding's detail names, else what its kind means")
    func driftNextRun() {
        #expect(
            DriftOutlook.nextRun(kind: "stale-lease", detail: "lease x expired t; next run: reap").hasPrefix("Reap it"))
        #expect(
            DriftOutlook.nextRun(kind: "vnet-missing", detail: "anchored to v; next run: release").hasPrefix("Release"))
        #expect(DriftOutlook.nextRun(kind: "occupied", detail: "used by v; next run: free").hasPrefix("Free the block"))
        #expect(
            DriftOutlook.nextRun(kind: "stale-lease", detail: "lease x expired t; within the reap grace (900 s)")
                == "Nothing yet: it is within the reap grace (900 s); a run after that reaps it")
        #expect(
            DriftOutlook.nextRun(kind: "prefix-mismatch", detail: "VNet has 10.1.0.0/24").hasPrefix("Nothing: drift"))
        #expect(DriftOutlook.nextRun(kind: "held-for-vnet", detail: "…").contains("until the VNet is gone"))
        #expect(DriftOutlook.nextRun(kind: "occupied", detail: "used by v").hasPrefix("Nothing while"))
        #expect(DriftOutlook.nextRun(kind: "vnet-missing", detail: "anchored").hasPrefix("Nothing until a complete"))
        #expect(DriftOutlook.nextRun(kind: Self.hostile, detail: "") == "Not stated by the Manager's report")
        #expect(DriftOutlook.nextRun(kind: "x", detail: "; next run: \(Self.hostile)") == "Write '\(Self.hostile)'")
    }

    @Test(
        "the compliance column: the networks of the finding's scope whose prefixes overlap its block(s), else not listed"
    )
    func driftCompliance() {
        let networks: [(NetworkStatus, Scope)] = [
            (
                NetworkStatus(
                    resourceId: "/subscriptions/s/virtualNetworks/vnet-a", cidrs: ["10.0.1.0/24"],
                    status: .noncompliant, reason: "not tagged"), Self.east
            ),
            (NetworkStatus(resourceId: "vnet-w", cidrs: ["10.0.2.0/24"], status: .compliant, reason: "ok"), Self.west),
            (
                NetworkStatus(
                    resourceId: "vnet-6", cidrs: ["fd00::/64", "not a cidr"], status: .unmanaged, reason: "foreign"),
                Self.east
            ),
        ]
        let a = DriftOutlook.compliance(scope: "sub_eastus", cidr: "10.0.1.0/24", networks: networks)
        #expect(a.status == "noncompliant" && a.detail == "noncompliant (vnet-a): not tagged")
        #expect(
            DriftOutlook.compliance(scope: "sub_eastus", cidr: "10.0.2.0/24", networks: networks).status == "not listed"
        )
        let both = DriftOutlook.compliance(scope: "sub_eastus", cidr: "10.0.0.0/16 + fd00::/48", networks: networks)
        #expect(both.status == "noncompliant, unmanaged")
        #expect(
            DriftOutlook.compliance(scope: "sub_eastus", cidr: Self.hostile, networks: networks).status == "not listed")
        let partial = DriftOutlook.compliance(
            scope: "sub_eastus", cidr: "10.0.2.0/24", networks: networks, complete: false)
        #expect(partial.status == "unknown", "an incomplete read never claims a network is not listed")
        #expect(
            DriftOutlook.compliance(scope: "sub_eastus", cidr: "10.0.1.0/24", networks: networks, complete: false)
                .status
                == "noncompliant")
        let page = DriftPage(
            ManagerStatus(
                runAt: Self.now, complete: true, lastCompleteSyncAt: Self.now,
                drift: [.init(kind: "occupied", scope: "sub_eastus", cidr: "10.0.1.0/24", detail: "used by vnet-a")],
                problems: [], process: "m"),
            scopes: [Self.east], networks: networks)
        let html = ConsoleTemplates.render(page, title: "Drift", notice: nil, session: nil)
        #expect(
            html.contains(
                #"<span class="state">noncompliant</span><br><span class="why">noncompliant (vnet-a): not tagged</span></td><td class="next-run">Nothing while"#
            ), "\(html)")
    }

    @Test("the lease page's history, host addresses and members, escaped; a caller who may not see them is told why")
    func leaseDetails() throws {
        let entry = HistoryEntry(
            scope: Self.east, prefix: Self.prefix("10.0.1.0/24"), kind: .lease, holder: "l", leaseId: "l",
            requester: Self.hostile, resourceId: nil,
            states: [
                .init(state: "leased", from: Self.now, to: Self.now.addingTimeInterval(60)),
                .init(state: "anchored", from: Self.now.addingTimeInterval(60), to: nil),
            ])
        let host = HostIPAnswer(
            leaseId: "l", ip: try #require(IPAddress("10.0.1.4")), principal: Self.hostile, subnet: "app",
            subnetPrefix: Self.prefix("10.0.1.0/26"), allocatedAt: Self.now)
        let member = MemberAnswer(principal: Self.hostile, role: .owner, addedAt: Self.now)
        let shown = LeaseDetails(leaseId: "l", history: [entry], more: true, hosts: .success(([host], [member])))
        #expect(shown.history.map(\.state) == ["leased", "anchored"] && shown.history[1].to == "")
        let html = shown.markup.html
        #expect(
            html.contains("id=\"address-history\"") && html.contains("id=\"host-addresses\"")
                && html.contains("id=\"lease-members\""))
        #expect(html.contains("<tr data-ip=\"10.0.1.4\"><td>10.0.1.4</td>") && html.contains("app 10.0.1.0/26"))
        #expect(html.contains("More history than shown") && !html.contains("<script>"))
        let hidden = LeaseDetails(
            leaseId: "l", history: [], more: false, hosts: .failure(.notAMember(leaseId: "l")))
        let hiddenHTML = hidden.markup.html
        #expect(hiddenHTML.contains("id=\"hosts-note\"") && hiddenHTML.contains("Not shown: "))
        #expect(!hiddenHTML.contains("id=\"host-addresses\"") && hiddenHTML.contains("No address history recorded."))
    }
}

extension Dictionary where Key == String, Value == String {
    /// A query's parameter lookup (empty values dropped, as `ConsoleRoutes.parameter` drops them).
    var lookup: (String) -> String? { { self[$0].flatMap { $0.isEmpty ? nil : $0 } } }
}
