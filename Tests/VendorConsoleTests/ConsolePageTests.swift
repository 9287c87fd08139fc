import Foundation
import IPAMCore
import Inventory
import Mustache
import NetworkMath
import Testing
import VendorAPI

@testable import VendorConsole
@testable import VendorDomain
@testable import VendorHTTP

/// The console's typed page models: built from domain values without storage or sockets, rendered by their
/// templates with every value escaped.
@Suite("Console page models")
struct ConsolePageTests {
    static let scope = Scope(subscriptionId: "sub", region: "westeurope")
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let hostile = "<script>alert('x')</script>&\"{{csrf}}"
    static let escaped = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;{{csrf}}"

    static func prefix(_ text: String) -> IPPrefix { try! IPPrefix(parsing: text) }

    /// A row of `cidr` in `state`: a lease state's with `lease` (and `requester`), or a bare one of another state.
    static func row(
        _ cidr: String, _ state: NetworkState, lease: String? = nil, requester: String? = nil,
        expiresAt: Date? = nil, sessionId: String = "", pairKey: String? = nil
    ) -> NetworkRow {
        let facts = NetworkRow.Lease(
            id: lease ?? "", sessionId: sessionId, requester: requester, expiresAt: expiresAt, pairKey: pairKey)
        let bare: NetworkRow.Holding =
            switch state {
            case .occupied: .occupied(.init(vnet: nil))
            case .reserved: .reserved(.init(lockedBy: nil, owner: requester))
            default: .available
            }
        return NetworkRow(prefix: prefix(cidr), holding: .lease(facts, in: state) ?? bare)
    }

    static func session(current: ConsoleSection?) -> ConsoleLayout.SessionBar {
        ConsoleLayout.SessionBar(caller: hostile, role: "admin", csrf: "token-1", current: current)
    }

    @Test("a hostile value is escaped wherever a page model puts it: title, notice, header, body, rows")
    func hostileValuesAreEscaped() {
        let event = AuditEvent(
            action: "lease", actor: Self.hostile, cidr: "10.0.0.0/24", leaseId: Self.hostile, sessionId: "s",
            before: "", after: "leased", detail: Self.hostile, requestId: Self.hostile)
        let pages = [
            ConsoleTemplates.render(
                ErrorPage(message: Self.hostile), title: Self.hostile, notice: Self.hostile,
                session: Self.session(current: nil)),
            ConsoleTemplates.render(
                AuditPage(
                    rows: [EventRow(event)], count: 1,
                    actionOptions: [ConsoleOption(value: Self.hostile, selected: true)], actor: Self.hostile,
                    leaseId: Self.hostile, next: Self.hostile),
                title: "Audit log", notice: nil, session: Self.session(current: .audit)),
            ConsoleTemplates.render(
                DriftPage(
                    ManagerStatus(
                        runAt: Self.now, complete: false, lastCompleteSyncAt: nil,
                        drift: [
                            .init(kind: Self.hostile, scope: Self.hostile, cidr: Self.hostile, detail: Self.hostile)
                        ],
                        problems: [Self.hostile], process: "manager")),
                title: "Drift", notice: nil, session: nil),
        ]
        for html in pages {
            #expect(!html.contains("<script>"), "\(html)")
            #expect(!html.contains("alert('x')"))
            #expect(html.contains(Self.escaped))
        }
        // the error page: once in the title tag, the heading, the notice, the header's caller, the message
        #expect(pages[0].components(separatedBy: Self.escaped).count - 1 == 5)
        // the audit page: actor, lease id (link and text), detail is not listed, request id, option, filters, next
        #expect(pages[1].contains("<a href=\"/console/leases/\(Self.escaped)\">\(Self.escaped)</a>"))
        #expect(pages[1].contains("<option value=\"\(Self.escaped)\" selected>\(Self.escaped)</option>"))
        #expect(pages[1].contains("<a href=\"/console/audit?\(Self.escaped)\" id=\"next-page\">"))
        #expect(pages[2].contains("<p class=\"notice error\">\(Self.escaped)</p>"))
    }

    @Test("the console's own markup is written as is, and escaped if a template ever prints it escaped")
    func markupIsRawOnlyInTripleMustaches() {
        let html = ConsoleTemplates.render(
            SpacePage(
                scopeOptions: [],
                supernets: [
                    .init(index: 0, cidr: "10.0.0.0/24", bar: ConsoleMarkup("<svg id=\"chart\"></svg>"), blocks: [])
                ]),
            title: "Space", notice: nil, session: nil)
        #expect(html.contains("<svg id=\"chart\"></svg>"))
        let both = try! MustacheTemplate(string: "{{x}}|{{{x}}}").render(["x": ConsoleMarkup("<b>")])
        #expect(both == "&lt;b&gt;|<b>")
    }

    @Test("the header marks the current page's link, and only it; no header before sign-in")
    func navigation() {
        for section in ConsoleSection.allCases {
            let html = ConsoleTemplates.render(
                ErrorPage(message: "m"), title: "t", notice: nil, session: Self.session(current: section))
            #expect(html.components(separatedBy: " aria-current=\"page\">").count == 2)
            let path = section == .dashboard ? "/console" : "/console/\(section)"
            #expect(html.contains("<a href=\"\(path)\" aria-current=\"page\">"), "\(section)")
            #expect(html.contains("<input type=\"hidden\" name=\"csrf\" value=\"token-1\">"))
        }
        let signedOut = ConsoleTemplates.render(
            SignInPage(csrf: "c", lifetime: 8 * 3600, idleTimeout: 1800), title: "Sign in", notice: nil, session: nil)
        #expect(!signedOut.contains("<header>"))
        #expect(signedOut.contains("after 30 minutes unused, or after 8 hours"))
        #expect(!signedOut.contains("<p class=\"notice\""))
    }

    @Test("every name a template uses is a member of its page model (a typo in a template fails here)")
    func templatesNameTheirModelsMembers() {
        let status = ManagerStatus(
            runAt: Self.now, complete: true, lastCompleteSyncAt: Self.now,
            drift: [.init(kind: "k", scope: "s", cidr: "c", detail: "d")], problems: ["p"], process: "m")
        let leased = Self.row(
            "10.0.0.0/24", .leased, lease: UUID().uuidString, requester: "team",
            pairKey: RowKeys.network(Self.prefix("fd00::/64")))
        let event = AuditEvent(
            action: "lease", actor: "a", cidr: "c", leaseId: "l", sessionId: "s", before: "", after: "leased")
        let report = PoolReport(
            scope: Self.scope, pool: nil, sizes: [BlockSize(version: .v4, length: 24): [.leased: 1]],
            freeAddresses: 256, largestFreePrefixLength: 24, freeAddressesV6: 0, largestFreePrefixLengthV6: 0,
            stockTargets: [:], usage: [])
        let reservation = Reservation(
            id: "r1", prefix: Self.prefix("10.0.1.0/24"), owner: "o", reason: "why", expiresAt: nil,
            createdAt: Self.now, createdBy: "c")
        let low = LowSpaceRow(
            scope: Self.scope,
            state: SpaceAlertState(pool: nil, version: .v4, low: true, since: Self.now, reasons: "x is low: y"),
            poolRange: nil)
        let samples: [(ConsoleTemplates.Name, Any)] = [
            (.signIn, SignInPage(csrf: "c", lifetime: 3600, idleTimeout: 60)),
            (.error, ErrorPage(message: "m")),
            (
                .dashboard,
                DashboardPage(
                    pools: [report], created: [Self.now], held: [leased], manager: status, now: Self.now,
                    lowSpace: [low], leases: [(leased, Self.scope)],
                    usage: [
                        AreaUsage(
                            label: "a", scopeKey: "k", pool: "p", version: "v4", used: [(Self.now, 1)],
                            outlook: .init(
                                status: "runs-out", runsOutAt: Self.now, daysLeft: 1, ratePerDay: -1, samples: 2))
                    ], webhooks: [WebhookBacklog(name: "w", waiting: 1, capped: false, deadLetters: 0, retrying: 0)])
            ),
            (
                .space,
                SpacePage(
                    scopeOptions: [ConsoleOption(value: "v", selected: true)],
                    supernets: [
                        SpacePage.range(
                            "10.0.0.0/16", Self.prefix("10.0.0.0/16"), index: 0, rows: [leased], reservations: [],
                            excluded: [])
                    ], lowSpace: [low])
            ),
            (
                .leases,
                LeasesPage(
                    LeaseSelection(leases: [(leased, Self.scope)], total: 1, truncated: true, next: [("n", "1")]),
                    query: try! LeaseTableQuery(
                        { ["sort": "cidr", "pool": "p"][$0] }, scopes: [Self.scope], pools: ["p"]),
                    scopes: [Self.scope], pools: ["p"])
            ),
            (.lease, LeasePage(leased, scope: Self.scope, events: [event])),
            (
                .reservations,
                ReservationsPage(
                    [(reservation, Self.scope, readOnly: false)], scopes: [Self.scope], admin: true)
            ),
            (
                .audit,
                AuditPage(
                    rows: [EventRow(event)], count: 1, actionOptions: [ConsoleOption(value: "v", selected: true)],
                    actor: "a", leaseId: "l", next: "n")
            ),
            (
                .drift,
                DriftPage(
                    ManagerStatus(
                        runAt: status.runAt, complete: true, lastCompleteSyncAt: status.lastCompleteSyncAt,
                        drift: status.drift, problems: status.problems,
                        process: "m", networks: [.init(scope: "s", counts: [.compliant: 1])]),
                    noncompliant: [
                        (
                            NetworkStatus(resourceId: "v", cidrs: ["c"], status: .noncompliant, reason: "r"),
                            Self.scope
                        )
                    ])
            ),
            (
                .pools,
                PoolsPage([
                    (
                        report: ConsolePoolsPageTests.pool,
                        forecasts: [(version: "v4", forecast: ConsolePoolsPageTests.forecast)]
                    )
                ])
            ),
        ]
        let everySample = samples + ConsoleFlowPagesTests.samples
        #expect(Set(everySample.map(\.0)) == Set(ConsoleTemplates.Name.allCases))
        for (name, model) in everySample {
            let members = Self.members(of: model)
            for used in Self.names(in: name.text) {
                #expect(members.contains(used), "template \(name.rawValue) uses '\(used)', not in its model")
            }
        }
        let layout = ConsoleLayout(
            title: "t", body: ConsoleMarkup(""), notice: "n", session: Self.session(current: .dashboard))
        for used in Self.names(in: ConsoleTemplates.layout) {
            #expect(Self.members(of: layout).contains(used), "the layout uses '\(used)'")
        }
    }

    /// The names of a template's tags (`{{x}}`, `{{{x}}}`, `{{#x}}`, `{{^x}}`), but `.`.
    static func names(in template: String) -> Set<String> {
        Set(template.matches(of: /\{\{\{?[#^\/]?([A-Za-z][A-Za-z0-9]*)\}?\}\}/).map { String($0.1) })
    }

    /// The stored properties of a value and of every value inside it (arrays, optionals, nested models).
    static func members(of value: Any) -> Set<String> {
        var found: Set<String> = []
        for child in Mirror(reflecting: value).children {
            if let label = child.label { found.insert(label) }
            found.formUnion(members(of: child.value))
        }
        return found
    }

    @Test("the drift page and the Manager's summary from a ManagerStatus")
    func driftFromStatus() {
        let incomplete = DriftPage(
            ManagerStatus(
                runAt: Self.now, complete: false, lastCompleteSyncAt: nil,
                drift: [
                    .init(kind: "orphan", scope: "sub_westeurope", cidr: "10.0.0.0/24", detail: "no VNet"),
                    .init(kind: "unknown", scope: "sub_westeurope", cidr: "10.0.1.0/24", detail: "not ours"),
                ],
                problems: ["a subscription did not answer"], process: "manager-1"))
        #expect(incomplete.count == 2)
        #expect(incomplete.findings.map(\.cidr) == ["10.0.0.0/24", "10.0.1.0/24"])
        #expect(incomplete.manager?.lastComplete == "never")
        #expect(incomplete.manager?.completeText == "its listing was incomplete: nothing was released")
        #expect(incomplete.manager?.runAt == ISO8601.format(Self.now))
        #expect(incomplete.manager?.driftCount == 2)
        let none = DriftPage(nil)
        #expect(none.manager == nil && none.findings.isEmpty && none.count == 0)
        let html = ConsoleTemplates.render(none, title: "Drift", notice: nil, session: nil)
        #expect(html.contains("<p>The Manager has not reported a run yet.</p>"))
        #expect(html.contains("<tr><td colspan=\"6\">No drift.</td></tr>"))
        #expect(html.contains("<caption>0 findings, and what the next run does about each</caption>"))
    }

    @Test("the drift page counts each scope's networks by compliance status and lists the noncompliant ones, escaped")
    func driftNetworks() {
        let status = ManagerStatus(
            runAt: Self.now, complete: true, lastCompleteSyncAt: Self.now, drift: [], problems: [], process: "m",
            networks: [.init(scope: "sub_westeurope", counts: [.compliant: 3, .noncompliant: 1])])
        let network = NetworkStatus(
            resourceId: "/subscriptions/sub/vnet-x", cidrs: ["10.0.9.0/24", "192.168.0.0/24"], status: .noncompliant,
            reason: Self.hostile)
        let page = DriftPage(status, noncompliant: [(network, Self.scope)])
        #expect(
            page.networkCounts == [
                .init(
                    scope: "sub_westeurope", compliant: 3, unmanaged: 0, noncompliant: 1, ignored: 0,
                    scopeTitle: "sub_westeurope")
            ])
        #expect(page.noncompliant.map(\.cidrs) == ["10.0.9.0/24, 192.168.0.0/24"])
        let html = ConsoleTemplates.render(page, title: "Drift", notice: nil, session: nil)
        #expect(
            html.contains(
                "<tr><td title=\"sub_westeurope\">sub_westeurope</td><td>3</td><td>0</td><td>1</td><td>0</td></tr>"),
            "\(html)")
        #expect(html.contains("/subscriptions/sub/vnet-x") && !html.contains("<script>"))
        let empty = ConsoleTemplates.render(DriftPage(nil), title: "Drift", notice: nil, session: nil)
        #expect(empty.contains("No networks listed.") && empty.contains("<td colspan=\"4\">None.</td>"))
    }

    @Test("a lease row: a dual-stack lease shows its IPv6 block, an anchored one no expiry")
    func leaseRows() {
        let row = Self.row(
            "10.0.0.0/24", .anchored, lease: "lease-1", expiresAt: Self.now, sessionId: "session-1",
            pairKey: RowKeys.network(Self.prefix("fd00::/64")))
        let anchored = LeasesPage.Row(row, scope: Self.scope)
        #expect(anchored.cidr == "10.0.0.0/24" && anchored.cidrV6 == "fd00::/64")
        #expect(anchored.expiresAt == "" && anchored.leaseId == "lease-1" && anchored.scope == "sub_westeurope")
        let leased = LeasesPage.Row(
            Self.row("10.0.0.0/24", .leased, lease: "lease-1", expiresAt: Self.now, sessionId: "session-1"),
            scope: Self.scope)
        #expect(leased.cidrV6 == nil && leased.expiresAt == ISO8601.format(Self.now))
        let page = LeasesPage(
            rows: [anchored, leased], count: 2, query: "", scopeOptions: [], stateOptions: [], requester: "",
            tag: "", within: "", next: nil)
        let html = ConsoleTemplates.render(page, title: "Leases", notice: nil, session: nil)
        #expect(
            html.contains(
                "<tr data-cidr=\"10.0.0.0/24\"><td>10.0.0.0/24<br><span class=\"v6\">fd00::/64</span></td><td class=\"state\">anchored</td>"
            ))
        #expect(html.contains("<td>10.0.0.0/24</td><td class=\"state\">leased</td>"))
        #expect(!html.contains("id=\"next-page\""))
        // An event of no lease (stock) lists no lease link on the audit page: an empty link has no name.
        let stock = AuditEvent(
            action: "stock", actor: "m", cidr: "10.0.0.0/24", leaseId: "", sessionId: "", before: "",
            after: "available")
        #expect(EventRow(stock).leaseLink == nil && EventRow(stock).leaseId == "")
        let audit = ConsoleTemplates.render(
            AuditPage(rows: [EventRow(stock)], count: 1, actionOptions: [], actor: "", leaseId: "", next: nil),
            title: "Audit log", notice: nil, session: nil)
        #expect(audit.contains("</td><td></td><td></td></tr>") && !audit.contains("/console/leases/"), "\(audit)")
    }

    @Test("the dashboard from pool reports, lease creations and held leases")
    func dashboardFromDomainValues() {
        let report = PoolReport(
            scope: Self.scope, pool: nil,
            sizes: [
                BlockSize(version: .v4, length: 24): [.leased: 2, .available: 1],
                BlockSize(version: .v6, length: 64): [.leased: 1],
            ],
            freeAddresses: 256, largestFreePrefixLength: 24, freeAddressesV6: 0, largestFreePrefixLengthV6: 0,
            stockTargets: [BlockSize(version: .v4, length: 24): 3, BlockSize(version: .v4, length: 26): 2],
            usage: [])
        let created = [
            Self.now.addingTimeInterval(-60), Self.now.addingTimeInterval(-7200),
            Self.now.addingTimeInterval(-3 * 86400),
            Self.now.addingTimeInterval(-8 * 86400),
        ]
        let held = [
            Self.row("10.0.0.0/24", .leased, requester: "beta"), Self.row("10.0.1.0/24", .leased, requester: "alpha"),
            Self.row("10.0.2.0/24", .anchored, requester: "beta"), Self.row("10.0.3.0/24", .leased),
            Self.row("10.0.4.0/24", .leased, requester: "gamma"),
        ]
        let page = DashboardPage(pools: [report], created: created, held: held, manager: nil, now: Self.now)
        #expect(page.dayTotal == 2 && page.weekTotal == 3)
        #expect(
            page.requesters == [
                .init(name: "beta", count: 2), .init(name: "(none)", count: 1), .init(name: "alpha", count: 1),
                .init(name: "gamma", count: 1),
            ])
        let area = page.scopes[0]
        #expect(area.scope == "sub_westeurope" && area.freeAddresses == "256" && area.largest == "24")
        // IPv4 only: 512 leased, 256 available, 256 free
        #expect(
            area.states == [
                .init(name: "leased", addresses: "512", share: "50.0 %"),
                .init(name: "available", addresses: "256", share: "25.0 %"),
                .init(name: "free", addresses: "256", share: "25.0 %"),
            ])
        #expect(
            area.sizes == [
                .init(length: "/24", available: 1, target: "3", leased: 2, anchored: 0, quarantined: 0),
                .init(length: "/26", available: 0, target: "2", leased: 0, anchored: 0, quarantined: 0),
                .init(length: "IPv6 /64", available: 0, target: "-", leased: 1, anchored: 0, quarantined: 0),
            ])
        let html = ConsoleTemplates.render(page, title: "Dashboard", notice: nil, session: nil)
        #expect(html.contains("<p id=\"manager-status\">The Manager has not reported a run yet.</p>"))
        #expect(html.contains("<tr><td>beta</td><td>2</td></tr>"))
        #expect(html.contains("Per hour, last 24 hours (2 in all)"))
    }

    @Test("an address-space range: rows, a reservation's reason, exclusions and free space, in address order")
    func spaceRange() {
        let leaseId = UUID().uuidString.lowercased()
        let leased = Self.row("10.0.0.0/26", .leased, lease: leaseId, requester: "team", expiresAt: Self.now)
        let occupied = NetworkRow(
            prefix: Self.prefix("10.0.0.128/26"), holding: .occupied(.init(vnet: "/subscriptions/x/vnet")))
        let reserved = Self.row("10.0.0.64/27", .reserved)
        let reservation = Reservation(
            id: "r", prefix: Self.prefix("10.0.0.64/27"), owner: "ops", reason: "<lab>", expiresAt: nil,
            createdAt: Self.now, createdBy: "ops")
        let range = SpacePage.range(
            "10.0.0.0/24", Self.prefix("10.0.0.0/24"), index: 3,
            rows: [occupied, leased, reserved, Self.row("10.1.0.0/24", .available)], reservations: [reservation],
            excluded: [Self.prefix("10.0.0.192/26"), Self.prefix("192.168.0.0/24")])
        #expect(range.index == 3 && range.cidr == "10.0.0.0/24")
        #expect(
            range.blocks.map(\.cidr) == [
                "10.0.0.0/26", "10.0.0.64/27", "10.0.0.96/27", "10.0.0.128/26", "10.0.0.192/26",
            ])
        #expect(range.blocks.map(\.state) == ["leased", "reserved", "free", "occupied", "excluded"])
        #expect(range.blocks[0].leaseId == leaseId && range.blocks[0].expires == ISO8601.format(Self.now))
        #expect(range.blocks[1].why == "reserved: <lab> (ops)")
        #expect(range.blocks[3].why == "occupied by a VNet ipam does not manage (/subscriptions/x/vnet)")
        #expect(range.blocks[4].why == "excluded (SUPERNETS_CONFIG)" && range.blocks[2].why == "")
        let html = ConsoleTemplates.render(
            SpacePage(scopeOptions: [ConsoleOption(value: "sub_westeurope", selected: true)], supernets: [range]),
            title: "Address space", notice: nil, session: nil)
        #expect(html.contains("reserved: &lt;lab&gt; (ops)"))
        #expect(html.contains("<a href=\"/console/leases/\(leaseId)\">\(leaseId)</a>"))
        #expect(html.contains("<option value=\"sub_westeurope\" selected>sub_westeurope</option>"))
        #expect(html.contains("data-cidr=\"10.0.0.96/27\" data-state=\"free\""))
        // A block no lease holds has no lease link (an empty link has no name for a screen reader).
        #expect(range.blocks[2].leaseId == nil && range.blocks[3].leaseId == nil)
        #expect(!html.contains("href=\"/console/leases/\""))
    }

    static let aws = Scope(awsAccountId: "123456789012", region: "us-east-1")

    @Test(
        "an AWS scope is shown as aws/{account}/{region} and an Azure one as before; links and filters carry the partition key and find either spelling, nothing else"
    )
    func awsScopeNames() {
        #expect(ConsoleScopes.name(Self.aws) == "aws/123456789012/us-east-1")
        #expect(ConsoleScopes.name(Self.scope) == "sub_westeurope")
        #expect(ConsoleScopes.network(Self.aws) == "VPC" && ConsoleScopes.network(Self.scope) == "VNet")
        let scopes = [Self.scope, Self.aws]
        for spelling in ["aws_123456789012_us-east-1", "AWS_123456789012_US-EAST-1", "aws/123456789012/us-east-1"] {
            #expect(ConsoleScopes.named(spelling, in: scopes) == Self.aws, "\(spelling)")
        }
        #expect(ConsoleScopes.named("sub_westeurope", in: scopes) == Self.scope)
        #expect(ConsoleScopes.named("sub/westeurope", in: scopes) == Self.scope)
        // Near misses name no scope: the account alone, an Azure-looking key of the account, padding, other clouds.
        for miss in [
            "", "123456789012_us-east-1", "aws_123456789012", "aws_123456789012_us-east-1 ",
            "aws//123456789012/us-east-1",
            "aws_210987654321_us-east-1", "gcp/123456789012/us-east-1", "aws_123456789012_us-east-1%00",
        ] {
            #expect(ConsoleScopes.named(miss, in: scopes) == nil, "\(miss)")
        }
        #expect(
            ConsoleScopes.name(partitionKey: "aws_123456789012_us-east-1", in: scopes) == "aws/123456789012/us-east-1")
        #expect(ConsoleScopes.name(partitionKey: "gone_eastus", in: scopes) == "gone_eastus")

        let options = ConsoleScopes.options(scopes, selected: Self.aws)
        #expect(
            options == [
                ConsoleOption(value: "sub_westeurope", selected: false),
                ConsoleOption(value: "aws_123456789012_us-east-1", selected: true, label: "aws/123456789012/us-east-1"),
            ])
        let space = ConsoleTemplates.render(
            SpacePage(scopeOptions: options, supernets: []), title: "Space", notice: nil, session: nil)
        #expect(space.contains("<option value=\"sub_westeurope\" >sub_westeurope</option>"))
        #expect(
            space.contains(
                "<option value=\"aws_123456789012_us-east-1\" selected>aws/123456789012/us-east-1</option>"))
    }

    @Test("an AWS lease's row, page, reservations, drift findings and dashboard area name its scope and its VPC")
    func awsPages() {
        let anchored = NetworkRow(
            prefix: Self.prefix("10.128.4.0/24"),
            holding: .anchored(
                NetworkRow.Lease(id: "lease-aws", sessionId: "s", requester: "team", expiresAt: nil),
                vnet: .init(resourceId: "vpc-0123456789abcdef0")))
        #expect(LeasesPage.Row(anchored, scope: Self.aws).scope == "aws/123456789012/us-east-1")
        let page = LeasePage(anchored, scope: Self.aws, events: [])
        #expect(page.fields.contains(.init(name: "Scope", value: "aws/123456789012/us-east-1")))
        #expect(page.fields.contains(.init(name: "VPC", value: "vpc-0123456789abcdef0")))
        #expect(!page.fields.contains { $0.name == "VNet" })
        #expect(LeasePage(anchored, scope: Self.scope, events: []).fields.contains { $0.name == "VNet" })

        let reservation = Reservation(
            id: "r", prefix: Self.prefix("10.128.9.0/24"), owner: "o", reason: "why", expiresAt: nil,
            createdAt: Self.now, createdBy: "c")
        let reservations = ReservationsPage(
            [(reservation, Self.aws, readOnly: false)], scopes: [Self.scope, Self.aws], admin: true)
        #expect(reservations.rows.map(\.scope) == ["aws/123456789012/us-east-1"])
        #expect(reservations.scopeOptions.map(\.value) == ["sub_westeurope", "aws_123456789012_us-east-1"])
        #expect(reservations.scopeOptions.map(\.label) == ["sub_westeurope", "aws/123456789012/us-east-1"])

        let drift = DriftPage(
            ManagerStatus(
                runAt: Self.now, complete: true, lastCompleteSyncAt: Self.now,
                drift: [
                    .init(kind: "occupied", scope: "aws_123456789012_us-east-1", cidr: "10.128.1.0/24", detail: "d"),
                    .init(kind: "occupied", scope: "sub_westeurope", cidr: "10.0.1.0/24", detail: "d"),
                    .init(kind: "occupied", scope: "aws_999999999999_us-east-1", cidr: "10.0.2.0/24", detail: "d"),
                ], problems: [], process: "m"), scopes: [Self.scope, Self.aws])
        #expect(
            drift.findings.map(\.scope) == [
                "aws/123456789012/us-east-1", "sub_westeurope", "aws_999999999999_us-east-1",
            ])

        // (A pool's area is named `{scope's name}/{pool}`: ConsoleTests over HTTP, with a configured pool.)
        let area = PoolReport(
            scope: Self.aws, pool: nil, sizes: [:], freeAddresses: 0, largestFreePrefixLength: 0,
            freeAddressesV6: 0, largestFreePrefixLengthV6: 0, stockTargets: [:], usage: [])
        let dashboard = DashboardPage(pools: [area], created: [], held: [], manager: nil, now: Self.now)
        #expect(dashboard.scopes.map(\.scope) == ["aws/123456789012/us-east-1"])

        let occupied = NetworkRow(
            prefix: Self.prefix("10.128.0.0/26"), holding: .occupied(.init(vnet: "vpc-0fedcba9876543210")))
        let range = SpacePage.range(
            "10.128.0.0/24", Self.prefix("10.128.0.0/24"), index: 0, rows: [occupied], reservations: [],
            excluded: [], network: ConsoleScopes.network(Self.aws))
        #expect(range.blocks[0].why == "occupied by a VPC ipam does not manage (vpc-0fedcba9876543210)")
    }

    @Test(
        "low space: the dashboard's banner and the space page list each low area with its threshold, escaped; nothing without one; the audit page shows an alert's reasons"
    )
    func lowSpace() {
        let poolLow = LowSpaceRow(
            scope: Self.aws,
            state: SpaceAlertState(
                pool: "aws-team", version: .v4, low: true, since: Self.now,
                reasons: "pool aws-team (IPv4) is low: 12.5% free (below 50.0%); 0 free /24 blocks (below 2)"),
            poolRange: Self.prefix("10.128.128.0/17"))
        #expect(poolLow.scope == "aws/123456789012/us-east-1" && poolLow.scopeKey == "aws_123456789012_us-east-1")
        #expect(poolLow.area == "pool aws-team (10.128.128.0/17)" && poolLow.version == "IPv4")
        #expect(poolLow.since == ISO8601.format(Self.now))
        #expect(poolLow.reasons == "12.5% free (below 50.0%); 0 free /24 blocks (below 2)")
        let hostile = LowSpaceRow(
            scope: Self.scope,
            state: SpaceAlertState(pool: nil, version: .v6, low: true, since: Self.now, reasons: Self.hostile),
            poolRange: nil)
        #expect(hostile.area == "own space" && hostile.version == "IPv6" && hostile.reasons == Self.hostile)

        let quiet = ConsoleTemplates.render(
            DashboardPage(pools: [], created: [], held: [], manager: nil, now: Self.now), title: "Dashboard",
            notice: nil, session: nil)
        #expect(!quiet.contains("low-space") && !quiet.contains("Space running low"))
        let dashboard = ConsoleTemplates.render(
            DashboardPage(pools: [], created: [], held: [], manager: nil, now: Self.now, lowSpace: [poolLow, hostile]),
            title: "Dashboard", notice: nil, session: nil)
        #expect(dashboard.contains("<h2 id=\"low-space\">Space running low</h2>"))
        #expect(
            dashboard.contains(
                "<tr><td><a href=\"/console/space?scope=aws_123456789012_us-east-1\" title=\"aws_123456789012_us-east-1\">aws/123456789012/us-east-1</a></td><td>pool aws-team (10.128.128.0/17) (IPv4)</td><td>\(ISO8601.format(Self.now))</td><td>12.5% free (below 50.0%); 0 free /24 blocks (below 2)</td></tr>"
            ), "\(dashboard)")
        #expect(dashboard.contains(Self.escaped) && !dashboard.contains("<script>"))
        // The banner comes first: before the Manager's status.
        let banner = dashboard.range(of: "id=\"low-space-alerts\"")
        let manager = dashboard.range(of: "id=\"manager\"")
        #expect(banner != nil && manager != nil && banner!.lowerBound < manager!.lowerBound)

        let space = ConsoleTemplates.render(
            SpacePage(scopeOptions: [], supernets: [], lowSpace: [poolLow]), title: "Space", notice: nil, session: nil)
        #expect(
            space.contains(
                "<p class=\"notice error low-space\">Low on space since \(ISO8601.format(Self.now)): pool aws-team (10.128.128.0/17) (IPv4): 12.5% free (below 50.0%); 0 free /24 blocks (below 2)</p>"
            ))
        #expect(
            !ConsoleTemplates.render(
                SpacePage(scopeOptions: [], supernets: []), title: "Space", notice: nil, session: nil
            ).contains("low-space"))

        let alert = AuditEvent(
            action: "space-low", actor: "manager", cidr: "10.128.128.0/17", leaseId: "", sessionId: "", before: "",
            after: "", detail: "pool aws-team (IPv4) is low: 12.5% free (below 50.0%)")
        let recovered = AuditEvent(
            action: "space-recovered", actor: "manager", cidr: "", leaseId: "", sessionId: "", before: "",
            after: "", detail: Self.hostile)
        let lease = AuditEvent(
            action: "lease", actor: "a", cidr: "10.0.0.0/24", leaseId: "l", sessionId: "s", before: "",
            after: "leased", detail: "not shown")
        #expect(EventRow(alert).alert == "pool aws-team (IPv4) is low: 12.5% free (below 50.0%)")
        #expect(EventRow(lease).alert == nil)
        let audit = ConsoleTemplates.render(
            AuditPage(
                rows: [alert, recovered, lease].map(EventRow.init), count: 3, actionOptions: [], actor: "",
                leaseId: "", next: nil), title: "Audit log", notice: nil, session: nil)
        #expect(
            audit.contains(
                "<td>space-low<br><span class=\"alert\">pool aws-team (IPv4) is low: 12.5% free (below 50.0%)</span></td>"
            ))
        #expect(audit.contains("<td>space-recovered<br><span class=\"alert\">\(Self.escaped)</span></td>"))
        #expect(audit.contains("<td>lease</td>") && !audit.contains("not shown"))
    }
}
