import Foundation
import IPAMCore
import Inventory
import NetworkMath
import VendorAPI
import VendorDomain
import VendorHTTP

/// Where one webhook's deliveries stand: events after its cursors not yet handled, dead letters, and the scopes
/// whose next event is being retried.
struct WebhookBacklog: Sendable, Equatable {
    let name: String
    /// Events the webhook wants, after its cursors (counted over at most `ConsoleRoutes.backlogLimit` events a
    /// scope: `capped` when a scope had more).
    let waiting: Int
    let capped: Bool
    let deadLetters: Int
    let retrying: Int
}

/// One usage area's last week (`GET /api/usage`'s samples and forecast): what the dashboard charts and counts.
struct AreaUsage: Sendable {
    /// The scope's name, then the pool's; `IPv6` after a scope's own IPv6 space.
    let label: String
    let scopeKey: String
    let pool: String?
    /// `v4` or `v6`, as the API names it.
    let version: String
    /// Each sample's moment and the share of the area's addresses in use then (percent).
    let used: [(at: Date, percent: Double)]
    /// The unused addresses' forecast over the last 7 days' samples.
    let outlook: API.Usage.Outlook

    init(
        label: String, scopeKey: String, pool: String?, version: String, used: [(at: Date, percent: Double)],
        outlook: API.Usage.Outlook
    ) {
        self.label = label
        self.scopeKey = scopeKey
        self.pool = pool
        self.version = version
        self.used = used
        self.outlook = outlook
    }

    /// An area's week from the service's series and the API's answer built from it.
    init(area: UsageArea, usage: API.Usage, samples: [UsageSample]) {
        let scope = ConsoleScopes.name(area.scope)
        label =
            area.pool.map { "\(scope)/\($0)" } ?? (area.version == .v6 ? "\(scope) IPv6" : scope)
        scopeKey = area.scope.partitionKey
        pool = area.pool
        version = usage.ipVersion
        used = samples.compactMap { sample in Self.percentUsed(sample).map { (at: sample.at, percent: $0) } }
        outlook = usage.forecast.unusedAddresses.last7Days
    }

    /// The share of a sample's addresses that something holds (all but `free` and `available`), in percent; nil
    /// for an area of no addresses.
    static func percentUsed(_ sample: UsageSample) -> Double? {
        let parts = [
            sample.leased, sample.anchored, sample.occupied, sample.reserved, sample.quarantined, sample.available,
            sample.free,
        ].map(Double.init)
        let total = parts.reduce(0, +)
        guard total > 0, total.isFinite else { return nil }
        let unused = Double(sample.free) + Double(sample.available)
        return min(max((total - unused) / total * 100, 0), 100)
    }
}

struct DashboardPage: ConsolePage {
    static let template = ConsoleTemplates.Name.dashboard
    static let section: ConsoleSection? = .dashboard

    /// One scope's (or pool's) space: a bar by state, the legend, and the stock per block size.
    struct Area: Sendable {
        struct Share: Sendable, Equatable {
            let name: String
            let addresses: String
            let share: String
        }
        struct Stock: Sendable, Equatable {
            let length: String
            let available: Int
            let target: String
            let leased: Int
            let anchored: Int
            let quarantined: Int
        }
        let index: Int
        /// The heading: the scope's name (`ConsoleScopes.name`), then the pool's.
        let scope: String
        /// The heading's hover text: the scope's id and whole name (`ConsoleScopes.title`), then the pool's name.
        let scopeTitle: String
        let freeAddresses: String
        let largest: String
        let bar: ConsoleMarkup
        let states: [Share]
        let sizes: [Stock]
    }

    struct Requester: Sendable, Equatable {
        let name: String
        let count: Int
    }

    /// Leases in one state, with the table of them.
    struct StateCount: Sendable, Equatable {
        let state: String
        let count: Int
        let href: String
    }

    /// When an area runs out at the last week's rate (`GET /api/usage`'s 7-day forecast of unused addresses).
    struct Runway: Sendable, Equatable {
        let area: String
        let scopeKey: String
        let pool: String
        let version: String
        /// The API's status (`runs-out`, `not-running-out`, `insufficient-data`) and what it means.
        let status: String
        let statusText: String
        let daysLeft: String
        let runsOutAt: String
    }

    /// One area's share in use over the last week.
    struct Trend: Sendable {
        let index: Int
        let area: String
        let now: String
        let chart: ConsoleMarkup
    }

    /// One webhook's backlog as the dashboard lists it.
    struct Backlog: Sendable, Equatable {
        let name: String
        let waiting: String
        let deadLetters: Int
        let retrying: Int
    }

    let manager: ManagerSummary?
    /// The areas low on space now, and whether there are any (the banner is shown only then).
    let lowSpace: [LowSpaceRow]
    let hasLowSpace: Bool
    let scopes: [Area]
    let hourly: ConsoleMarkup
    let daily: ConsoleMarkup
    let dayTotal: Int
    let weekTotal: Int
    let requesters: [Requester]

    // The headline numbers.
    let stateCounts: [StateCount]
    let leaseTotal: String
    let stateBar: ConsoleMarkup
    let freeV4: String
    let freeV6: String
    let runways: [Runway]
    let drift: String
    let backlog: [Backlog]
    let backlogText: String
    // Address space by requester and by pool, and use over time.
    let requesterBars: ConsoleMarkup
    let poolBars: ConsoleMarkup
    let trends: [Trend]

    /// The states of the IPv4 bar, in the order it stacks them.
    static let barOrder = [
        "leased", "anchored", "quarantined", "released", "expired", "available", "occupied", "reserved", "free",
    ]

    /// The states a lease can be listed in, in the order the headline counts them.
    static let leaseStates: [NetworkState] = [.leased, .anchored, .quarantined, .released, .expired]

    /// - Parameters:
    ///   - created: when each lease of the last 7 days was created (from the audit trail).
    ///   - held: the rows of the leases held now (leased or anchored).
    ///   - lowSpace: the areas the Manager last found low on space.
    ///   - leases: every lease (each listed once, by its first block), with its scope; nil: count `held`.
    ///   - leasesCapped: whether `leases` stopped at the listing's limit (the counts are then at least these).
    ///   - usage: each usage area's last week.
    ///   - webhooks: each configured webhook's backlog.
    init(
        pools: [PoolReport], created: [Date], held: [NetworkRow], manager: ManagerStatus?, now: Date,
        lowSpace: [LowSpaceRow] = [], leases: [(NetworkRow, Scope)]? = nil, leasesCapped: Bool = false,
        usage: [AreaUsage] = [], webhooks: [WebhookBacklog] = []
    ) {
        self.manager = manager.map(ManagerSummary.init)
        self.lowSpace = lowSpace
        hasLowSpace = !lowSpace.isEmpty
        scopes = pools.enumerated().map { Self.area($1, index: $0) }

        let (hourly, daily) = Self.buckets(created, now: now)
        self.hourly = ConsoleMarkup(
            ConsoleCharts.timeBars(
                hourly, from: hourly.first?.start ?? now, to: hourly.last?.end ?? now, noun: "leases created",
                daily: false))
        self.daily = ConsoleMarkup(
            ConsoleCharts.timeBars(
                daily, from: daily.first?.start ?? now, to: daily.last?.end ?? now, noun: "leases created",
                daily: true))
        dayTotal = hourly.map(\.count).reduce(0, +)
        weekTotal = daily.map(\.count).reduce(0, +)

        var byRequester: [String: (leases: Int, addresses: Double)] = [:]
        for row in held {
            let name = row.requester ?? "(none)"
            byRequester[name, default: (0, 0)].leases += 1
            if row.prefix.version == .v4 { byRequester[name, default: (0, 0)].addresses += Double(row.prefix.size) }
        }
        let ranked = byRequester.sorted { ($0.value.leases, $1.key) > ($1.value.leases, $0.key) }
        requesters = ranked.prefix(10).map { Requester(name: $0.key, count: $0.value.leases) }
        requesterBars = ConsoleMarkup(
            ConsoleCharts.rowBars(
                byRequester.sorted { ($0.value.addresses, $1.key) > ($1.value.addresses, $0.key) }.prefix(12).map {
                    ConsoleCharts.Row(
                        label: $0.key, value: $0.value.addresses,
                        detail: "\(Int($0.value.addresses)) IPv4 addresses, \($0.value.leases) leases",
                        href: $0.key == "(none)" ? nil : "/console/leases?requester=" + Self.percent($0.key))
                }, label: "IPv4 addresses held per requester; each bar opens its leases"))
        poolBars = ConsoleMarkup(
            ConsoleCharts.rowBars(
                pools.map(Self.poolRow), label: "IPv4 addresses in use per scope and pool; each bar opens its leases"))

        var counts: [NetworkState: Int] = [:]
        for row in leases?.map(\.0) ?? held { counts[row.state, default: 0] += 1 }
        let shown =
            Self.leaseStates
            + counts.keys.filter { !Self.leaseStates.contains($0) }.sorted { $0.rawValue < $1.rawValue }
        stateCounts = shown.map {
            StateCount(state: $0.rawValue, count: counts[$0] ?? 0, href: "/console/leases?state=\($0.rawValue)")
        }
        let total = counts.values.reduce(0, +)
        leaseTotal = leasesCapped ? "at least \(total)" : String(total)
        stateBar = ConsoleMarkup(
            ConsoleCharts.stackedBar(
                stateCounts.map { ($0.state, Double($0.count)) }, unit: "leases",
                link: { "/console/leases?state=\($0)" }))
        freeV4 = String(pools.reduce(UInt128(0)) { Self.adding($0, $1.freeAddresses) })
        freeV6 = String(pools.reduce(UInt128(0)) { Self.adding($0, $1.freeAddressesV6) })
        runways = usage.map(Self.runway)
        drift = manager.map { String($0.drift.count) } ?? "no Manager run yet"
        backlog = webhooks.map {
            Backlog(
                name: $0.name, waiting: $0.capped ? "at least \($0.waiting)" : String($0.waiting),
                deadLetters: $0.deadLetters, retrying: $0.retrying)
        }
        backlogText =
            webhooks.isEmpty
            ? "no webhooks configured"
            : "\(webhooks.map(\.waiting).reduce(0, +))\(webhooks.contains { $0.capped } ? "+" : "") events waiting, \(webhooks.map(\.deadLetters).reduce(0, +)) dead letters"
        let weekAgo = now.addingTimeInterval(-7 * 86400)
        trends = usage.enumerated().map { index, area in
            Trend(
                index: index, area: area.label,
                now: area.used.last.map { String(format: "%.1f %%", $0.percent) } ?? "no samples yet",
                chart: ConsoleMarkup(
                    ConsoleCharts.timeLine(
                        area.used.map { ($0.at, $0.percent) }, from: weekAgo, to: now, top: 100, unit: " %",
                        label: "\(area.label): share of its addresses in use over the last 7 days, oldest at the left"))
            )
        }
    }

    /// Leases created per hour over the last 24 hours (whole UTC hours, the current one last) and per day over the
    /// last 7 days (whole UTC days, today last), each opening the audit log of that time (every action: a lease is
    /// created by `lease` or `carve-lease`, and the log filters by one action).
    static func buckets(_ created: [Date], now: Date) -> (hourly: [ConsoleCharts.Bucket], daily: [ConsoleCharts.Bucket])
    {
        func series(_ length: TimeInterval, count: Int) -> [ConsoleCharts.Bucket] {
            let current = (now.timeIntervalSince1970 / length).rounded(.down) * length
            return (0..<count).map { index in
                let start = Date(timeIntervalSince1970: current - Double(count - 1 - index) * length)
                let end = start.addingTimeInterval(length)
                return ConsoleCharts.Bucket(
                    start: start, end: end, count: created.filter { $0 >= start && $0 < end }.count,
                    href: "/console/audit?since=\(ISO8601.format(start))&until=\(ISO8601.format(end))")
            }
        }
        return (series(3600, count: 24), series(86400, count: 7))
    }

    /// A scope's own space or a pool as a bar row: its IPv4 addresses in use, opening its leases.
    static func poolRow(_ report: PoolReport) -> ConsoleCharts.Row {
        var used = 0.0
        var available = 0.0
        for (size, counts) in report.sizes where size.version == .v4 {
            for (state, count) in counts {
                if state == .available {
                    available += Double(count) * size.addresses
                } else {
                    used += Double(count) * size.addresses
                }
            }
        }
        let total = used + available + Double(report.freeAddresses)
        let share = total > 0 ? String(format: " (%.1f %%)", used / total * 100) : ""
        let scope = ConsoleScopes.name(report.scope)
        var href = "/console/leases?scope=\(report.scope.partitionKey)"
        if let pool = report.pool { href += "&pool=" + percent(pool.name) }
        return ConsoleCharts.Row(
            label: report.pool.map { "\(scope)/\($0.name)" } ?? "\(scope) (own space)", value: used,
            detail: "\(Int(used)) of \(Int(total)) in use\(share)", href: href)
    }

    static func runway(_ area: AreaUsage) -> Runway {
        let outlook = area.outlook
        let text: String
        switch outlook.status {
        case "runs-out": text = "runs out"
        case "not-running-out": text = "not running out"
        default: text = "not enough samples yet"
        }
        return Runway(
            area: area.label, scopeKey: area.scopeKey, pool: area.pool ?? "", version: area.version,
            status: outlook.status, statusText: text,
            daysLeft: outlook.daysLeft.map { String(format: "%.1f", $0) } ?? "–",
            runsOutAt: outlook.runsOutAt.map(ISO8601.format) ?? "–")
    }

    static func adding(_ a: UInt128, _ b: UInt128) -> UInt128 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }

    static func percent(_ text: String) -> String { ConsoleRoutes.percent(text) }

    static func area(_ report: PoolReport, index: Int) -> Area {
        let (sizes, free, largest) = (report.sizes, report.freeAddresses, report.largestFreePrefixLength)
        var byState: [String: Double] = [:]
        for (size, counts) in sizes where size.version == .v4 { // the bar shows IPv4 space
            for (state, count) in counts {
                byState[state.rawValue, default: 0] += Double(count) * size.addresses
            }
        }
        byState["free"] = Double(free)
        let total = max(byState.values.reduce(0, +), 1)
        let targets = report.stockTargets
        return Area(
            index: index,
            scope: report.pool.map { "\(ConsoleScopes.name(report.scope))/\($0.name)" }
                ?? ConsoleScopes.name(report.scope),
            scopeTitle: report.pool.map { "\(ConsoleScopes.title(report.scope)), pool \($0.name)" }
                ?? ConsoleScopes.title(report.scope), freeAddresses: String(free),
            largest: largest == 0 ? "-" : String(largest),
            bar: ConsoleMarkup(ConsoleCharts.stackedBar(barOrder.map { ($0, byState[$0] ?? 0) }, unit: "addresses")),
            states: barOrder.compactMap { name in
                guard let addresses = byState[name], addresses > 0 else { return nil }
                return Area.Share(
                    name: name, addresses: String(Int(addresses)),
                    share: String(format: "%.1f %%", addresses / total * 100))
            },
            sizes: Set(sizes.keys).union(targets.keys).sorted().map { size in
                let counts = sizes[size] ?? [:]
                return Area.Stock(
                    length: size.version == .v4 ? "/\(size.length)" : "IPv6 /\(size.length)",
                    available: counts[.available] ?? 0, target: targets[size].map { String($0) } ?? "-",
                    leased: counts[.leased] ?? 0, anchored: counts[.anchored] ?? 0,
                    quarantined: counts[.quarantined] ?? 0)
            })
    }
}

extension ConsoleRoutes {
    /// The most leases the dashboard lists to count them by state and requester.
    static let dashboardLeaseLimit = 10_000
    /// The most events a webhook's backlog reads per scope.
    static let backlogLimit = 1_000

    /// The dashboard's model, from the same service calls as the API: the pools report, every lease (up to
    /// `dashboardLeaseLimit`), the last week's audit events of creation, each usage area's last week and forecast,
    /// the Manager's status and each webhook's cursors and dead letters.
    func dashboardPage() async throws -> DashboardPage {
        let configuration = service.configuration
        let scopes = configuration.scopes.keys.sorted()
        let now = service.time.now()
        let pools = try await service.pools()
        // Leases created, from the audit trail of the last 7 days.
        let filter = EventFilter(
            since: now.addingTimeInterval(-7 * 86400), until: now,
            actions: [AuditAction.lease.rawValue, AuditAction.carveLease.rawValue])
        let created = try await service.events(in: scopes, matching: filter, limit: 1000, from: nil).events
            .compactMap(\.0.at)
        var leases: [(NetworkRow, Scope)] = []
        var cursor: LeaseCursor? = nil
        repeat {
            let page = try await service.leases(in: scopes, matching: LeaseFilter(), limit: 1000, from: cursor)
            leases += page.leases
            cursor = page.next
        } while cursor != nil && leases.count < Self.dashboardLeaseLimit
        let held = leases.map(\.0).filter { $0.state == .leased || $0.state == .anchored }
        let weekAgo = now.addingTimeInterval(-7 * 86400)
        var usage: [AreaUsage] = []
        for scope in scopes {
            for area in configuration.usageAreas(of: scope) {
                let series = try await service.usage(area: area, since: weekAgo, until: now, step: 3600)
                usage.append(AreaUsage(area: area, usage: API.Usage(series, step: 3600), samples: series.samples))
            }
        }
        return DashboardPage(
            pools: pools, created: created, held: held, manager: try await service.managerStatus(), now: now,
            lowSpace: try await lowSpaceRows(in: scopes), leases: leases, leasesCapped: cursor != nil, usage: usage,
            webhooks: try await webhookBacklogs(now: now))
    }

    /// Each configured webhook's backlog: the events it wants after each scope's cursor (up to now), its dead
    /// letters, and the scopes whose next event waits for a retry. A scope without a cursor has none waiting
    /// (its dispatcher starts at the time it first runs).
    func webhookBacklogs(now: Date) async throws -> [WebhookBacklog] {
        var backlogs: [WebhookBacklog] = []
        for webhook in service.configuration.webhooks {
            let (cursors, dead) = try await service.deliveries(of: webhook.name)
            var waiting = 0
            var capped = false
            for cursor in cursors {
                let events = try await service.events(after: cursor, until: now, limit: Self.backlogLimit)
                waiting += events.filter { webhook.wants(action: $0.action.rawValue) }.count
                capped = capped || events.count >= Self.backlogLimit
            }
            backlogs.append(
                WebhookBacklog(
                    name: webhook.name, waiting: waiting, capped: capped, deadLetters: dead.count,
                    retrying: cursors.filter { $0.attempts > 0 }.count))
        }
        return backlogs
    }
}

extension ConsoleTemplates {
    static let dashboard = """
        {{#hasLowSpace}}
        <section aria-labelledby="low-space" class="notice error" id="low-space-alerts">
        <h2 id="low-space">Space running low</h2>
        <div class="scroll"><table id="low-space-areas"><caption>Areas below a low-space threshold when the Manager last judged them</caption>
        <tr><th scope="col">Scope</th><th scope="col">Area</th><th scope="col">Low since</th><th scope="col">Threshold crossed</th></tr>
        {{#lowSpace}}<tr><td><a href="/console/space?scope={{scopeKey}}" title="{{scopeTitle}}">{{scope}}</a></td><td>{{area}} ({{version}})</td><td>{{since}}</td><td>{{reasons}}</td></tr>{{/lowSpace}}
        </table></div>
        </section>
        {{/hasLowSpace}}
        <section aria-labelledby="headline" id="headline-numbers">
        <h2 id="headline">At a glance</h2>
        <ul class="cards">
        <li class="card" id="lease-total"><span class="n">{{leaseTotal}}</span> leases</li>
        {{#stateCounts}}<li class="card" data-state="{{state}}"><a href="{{href}}"><span class="n">{{count}}</span> {{state}}</a></li>{{/stateCounts}}
        <li class="card" id="free-v4"><span class="n">{{freeV4}}</span> IPv4 addresses free</li>
        <li class="card" id="free-v6"><span class="n">{{freeV6}}</span> IPv6 addresses free</li>
        <li class="card" id="drift-count"><a href="/console/drift"><span class="n">{{drift}}</span> drift findings</a></li>
        <li class="card" id="webhook-backlog"><span class="n">{{backlogText}}</span> (webhooks)</li>
        </ul>
        <figure><figcaption>Leases by state (each part opens the leases in that state)</figcaption>{{{stateBar}}}</figure>
        <div class="scroll"><table id="runways"><caption>Days left per area, at the last 7 days' rate (the forecast of GET /api/usage)</caption>
        <tr><th scope="col">Area</th><th scope="col">IP</th><th scope="col">Forecast</th><th scope="col">Days left</th><th scope="col">Runs out at</th></tr>
        {{#runways}}<tr data-scope="{{scopeKey}}" data-pool="{{pool}}" data-version="{{version}}" data-status="{{status}}"><td><a href="/console/pools">{{area}}</a></td><td>{{version}}</td><td>{{statusText}}</td><td class="days">{{daysLeft}}</td><td>{{runsOutAt}}</td></tr>{{/runways}}
        {{^runways}}<tr><td colspan="5">No usage areas.</td></tr>{{/runways}}
        </table></div>
        {{#backlog}}<p class="webhook" data-webhook="{{name}}">Webhook {{name}}: {{waiting}} events waiting, {{deadLetters}} dead letters, {{retrying}} scopes retrying.</p>{{/backlog}}
        </section>
        <section aria-labelledby="manager">
        <h2 id="manager">Manager</h2>
        {{#manager}}<p id="manager-status">Last complete Sync: <strong>{{lastComplete}}</strong>; last run {{runAt}} ({{completeText}}); <a href="/console/drift">{{driftCount}} drift findings</a>.</p>{{/manager}}
        {{^manager}}<p id="manager-status">The Manager has not reported a run yet.</p>{{/manager}}
        </section>
        <section aria-labelledby="activity">
        <h2 id="activity">Leases created</h2>
        <figure><figcaption>Per hour, last 24 hours ({{dayTotal}} in all), UTC: each bar opens the audit log of its hour</figcaption>{{{hourly}}}</figure>
        <figure><figcaption>Per day, last 7 days ({{weekTotal}} in all), UTC: each bar opens the audit log of its day</figcaption>{{{daily}}}</figure>
        </section>
        <section aria-labelledby="space-by">
        <h2 id="space-by">Address space by requester and by pool</h2>
        <figure id="by-requester"><figcaption>IPv4 addresses held (leased and anchored) per requester; each bar opens the requester's leases</figcaption>{{{requesterBars}}}</figure>
        <figure id="by-pool"><figcaption>IPv4 addresses in use per scope and pool; each bar opens the leases inside it</figcaption>{{{poolBars}}}</figure>
        </section>
        <section aria-labelledby="utilization">
        <h2 id="utilization">Utilization over the last 7 days</h2>
        {{#trends}}<figure class="trend" id="trend-{{index}}"><figcaption>{{area}}: share of its addresses in use (now {{now}})</figcaption>{{{chart}}}</figure>{{/trends}}
        {{^trends}}<p>No usage areas.</p>{{/trends}}
        </section>
        <section aria-labelledby="requesters">
        <h2 id="requesters">Top requesters</h2>
        <table><tr><th scope="col">Requester</th><th scope="col">Leases held</th></tr>
        {{#requesters}}<tr><td>{{name}}</td><td>{{count}}</td></tr>{{/requesters}}
        {{^requesters}}<tr><td colspan="2">No leases held.</td></tr>{{/requesters}}</table>
        </section>
        {{#scopes}}
        <section aria-labelledby="scope-{{index}}">
        <h2 id="scope-{{index}}" title="{{scopeTitle}}">{{scope}}</h2>
        <p>{{freeAddresses}} addresses free; largest free block /{{largest}}.</p>
        <figure>
        <figcaption>Address space by state (addresses)</figcaption>
        {{{bar}}}
        <table class="legend"><caption>By state</caption><tr><th scope="col">State</th><th scope="col">Addresses</th><th scope="col">Share</th></tr>
        {{#states}}<tr><td class="state">{{name}}</td><td>{{addresses}}</td><td>{{share}}</td></tr>{{/states}}</table>
        </figure>
        <div class="scroll"><table><caption>Stock against its target, per size</caption><tr><th scope="col">Size</th><th scope="col">Available</th><th scope="col">Target</th><th scope="col">Leased</th><th scope="col">Anchored</th><th scope="col">Quarantined</th></tr>
        {{#sizes}}<tr><td>{{length}}</td><td>{{available}}</td><td>{{target}}</td><td>{{leased}}</td><td>{{anchored}}</td><td>{{quarantined}}</td></tr>{{/sizes}}</table></div>
        </section>
        {{/scopes}}
        """
}
