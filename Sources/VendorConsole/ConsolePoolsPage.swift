import Foundation
import IPAMCore
import VendorAPI

/// The pools page: every scope's own space and each of its pools (parents before children) with the values
/// `GET /api/pools` answers for it, and the forecast `GET /api/usage` answers for its area.
///
/// Built from the API's own answer types (`API.Pools.Report`, `API.Usage.Forecast`), so every number on the
/// page is the API's; only their formatting is the page's (a forecast's days and rate to one decimal).
struct PoolsPage: ConsolePage {
    static let template = ConsoleTemplates.Name.pools
    static let section: ConsoleSection? = .pools

    /// One area in the hierarchy table: its path (the scope, then the pool's ancestors and itself).
    struct Node: Sendable, Equatable {
        let index: Int
        let path: String
        let cidr: String
        let parent: String
        let owner: String
    }

    /// A labelled value of an area (its definition, free space, rules, quota).
    struct Field: Sendable, Equatable {
        let name: String
        let value: String
    }

    /// What one requester holds against a pool's quota.
    struct Holder: Sendable, Equatable {
        let requester: String
        let leases: String
        let addresses: String
    }

    /// One block size: its stock target, then its rows in each state (in `stateNames`' order).
    struct Stock: Sendable, Equatable {
        let size: String
        let target: String
        let available: String
        let counts: [String]
    }

    /// One forecast: what is measured (unused addresses, or free blocks of a size), over which window.
    struct Outlook: Sendable, Equatable {
        let measure: String
        let window: String
        let status: String
        let daysLeft: String
        let runsOutAt: String
        let ratePerDay: String
        let samples: String
    }

    struct Area: Sendable, Equatable {
        let index: Int
        /// The pool's name, or the scope's key for its own space.
        let name: String
        let label: String
        let isPool: Bool
        let fields: [Field]
        let rules: [Field]
        let quota: [Field]
        let usage: [Holder]
        let sizes: [Stock]
        let forecast: [Outlook]
    }

    /// An area's report and the forecast of each of its IP versions (`v4`, `v6`).
    typealias Reported = (report: API.Pools.Report, forecasts: [(version: String, forecast: API.Usage.Forecast)])

    /// The states of the stock table's columns (but `available`, which has its own, next to the target).
    let stateNames: [String]
    let hierarchy: [Node]
    let areas: [Area]

    /// - Parameter reports: each area's report as `GET /api/pools` answers it (in its order: per scope, its own
    ///   space first, then its pools, parents before children), with the forecasts of its areas per IP version
    ///   (`v4`, `v6`) as `GET /api/usage` answers them.
    /// - Parameter scopes: the configured scopes, which name the areas' scopes (`ConsoleScopes.name`; the
    ///   "Scope" field keeps the id); one not among them shows its id.
    init(_ reports: [Reported], scopes: [Scope] = []) {
        stateNames = NetworkState.allCases.map(\.rawValue).filter { $0 != NetworkState.available.rawValue }
        var hierarchy: [Node] = []
        var areas: [Area] = []
        for (index, item) in reports.enumerated() {
            let report = item.report
            let definition = report.definition
            // The pool's ancestors, from the reports of its scope (a parent is always reported before its child).
            var chain: [String] = []
            var parent = definition?.parent
            while let name = parent, chain.count < 16,
                let found = reports.first(where: { $0.report.scope == report.scope && $0.report.pool == name })
            {
                chain.insert(name, at: 0)
                parent = found.report.definition?.parent
            }
            let scope = ConsoleScopes.name(partitionKey: report.scope, in: scopes)
            let path = ([scope] + chain + (report.pool.map { [$0] } ?? [])).joined(separator: " › ")
            let label = report.pool.map { "Pool \($0) (\(scope))" } ?? "\(scope): outside its pools"
            hierarchy.append(
                Node(
                    index: index, path: path, cidr: definition?.cidr ?? "the scope's supernets",
                    parent: definition?.parent ?? "", owner: definition?.owner ?? ""))
            areas.append(
                Area(
                    index: index, name: report.pool ?? report.scope, label: label, isPool: report.pool != nil,
                    fields: Self.fields(report), rules: definition.map(Self.rules) ?? [],
                    quota: definition.map(Self.quota) ?? [],
                    usage: (definition?.usage ?? []).map {
                        Holder(requester: $0.requester, leases: String($0.leases), addresses: String($0.addresses))
                    },
                    sizes: Self.stock(report, states: stateNames),
                    forecast: item.forecasts.flatMap { Self.outlooks($0.forecast, version: $0.version) }))
        }
        self.hierarchy = hierarchy
        self.areas = areas
    }

    static func fields(_ report: API.Pools.Report) -> [Field] {
        var fields = [Field(name: "Scope", value: report.scope)]
        if let subscription = report.subscription { fields.append(Field(name: "Subscription", value: subscription)) }
        if let account = report.accountId { fields.append(Field(name: "AWS account", value: account)) }
        fields.append(Field(name: "Region", value: report.region))
        if let definition = report.definition {
            fields += [
                Field(name: "CIDR", value: definition.cidr),
                Field(name: "Parent pool", value: definition.parent ?? "none (a root pool)"),
                Field(name: "Owner", value: definition.owner ?? "none"),
                Field(
                    name: "Labels",
                    value: definition.labels.isEmpty
                        ? "none"
                        : definition.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                            .joined(separator: ", ")),
            ]
        }
        fields += [
            Field(name: "Free IPv4 addresses", value: String(report.freeAddresses)),
            Field(name: "Largest free IPv4 block", value: report.largestFreePrefixLength.map { "/\($0)" } ?? "none"),
            Field(name: "Free IPv6 addresses", value: String(report.freeAddressesV6)),
            Field(
                name: "Largest free IPv6 block", value: report.largestFreePrefixLengthV6.map { "/\($0)" } ?? "none"),
        ]
        return fields
    }

    static func rules(_ definition: API.Pools.Definition) -> [Field] {
        let rules = definition.rules
        return [
            Field(name: "Shortest prefix length", value: "/\(rules.minPrefixLength)"),
            Field(name: "Longest prefix length", value: "/\(rules.maxPrefixLength)"),
            Field(name: "Default prefix length", value: "/\(rules.defaultPrefixLength)"),
            Field(
                name: "Required tags (its own and its ancestors')",
                value: rules.requiredTags.isEmpty ? "none" : rules.requiredTags.joined(separator: ", ")),
            Field(
                name: "Allowed requesters",
                value: rules.allowedRequesters.map { $0.isEmpty ? "nobody" : $0.joined(separator: ", ") } ?? "anyone"),
        ]
    }

    static func quota(_ definition: API.Pools.Definition) -> [Field] {
        [
            Field(
                name: "Leases per requester",
                value: definition.quota.maxLeasesPerRequester.map(String.init) ?? "no limit"),
            Field(
                name: "Addresses per requester",
                value: definition.quota.maxAddressesPerRequester.map(String.init) ?? "no limit"),
        ]
    }

    /// Each size with rows or a stock target: the target, the available blocks, and the rows in each other state.
    static func stock(_ report: API.Pools.Report, states: [String]) -> [Stock] {
        func key(_ version: String, _ length: Int) -> String { version == "v4" ? String(length) : "v6/\(length)" }
        var sizes = report.sizes.map { (version: $0.ipVersion, length: $0.prefixLength, states: Optional($0.states)) }
        for entry in report.stock.entries where !sizes.contains(where: { key($0.version, $0.length) == entry.name }) {
            let parts = entry.name.split(separator: "/")
            guard let length = Int(parts.last ?? "") else { continue }
            sizes.append((version: parts.count == 2 ? "v6" : "v4", length: length, states: nil))
        }
        sizes.sort { ($0.version, $0.length) < ($1.version, $1.length) }
        return sizes.map { size in
            Stock(
                size: size.version == "v4" ? "/\(size.length)" : "IPv6 /\(size.length)",
                target: report.stock[key(size.version, size.length)].map(String.init) ?? "none",
                available: String(size.states?[NetworkState.available.rawValue] ?? 0),
                counts: states.map { String(size.states?[$0] ?? 0) })
        }
    }

    /// A forecast's rows: the unused addresses, then the free blocks of each size, over each window.
    static func outlooks(_ forecast: API.Usage.Forecast, version: String) -> [Outlook] {
        let family = version == "v4" ? "IPv4" : "IPv6"
        func rows(_ measure: String, _ windows: [(String, API.Usage.Outlook)]) -> [Outlook] {
            windows.map { window, outlook in
                Outlook(
                    measure: measure, window: window, status: outlook.status,
                    daysLeft: outlook.daysLeft.map { String(format: "%.1f", $0) } ?? "–",
                    runsOutAt: outlook.runsOutAt.map(ISO8601.format) ?? "–",
                    ratePerDay: outlook.ratePerDay.map { String(format: "%.1f", $0) } ?? "–",
                    samples: String(outlook.samples))
            }
        }
        return rows(
            "Unused \(family) addresses",
            [
                ("last 7 days", forecast.unusedAddresses.last7Days),
                ("last 30 days", forecast.unusedAddresses.last30Days),
            ]
        )
            + forecast.sizes.flatMap { size in
                rows(
                    "Free \(family) /\(size.prefixLength) blocks",
                    [("last 7 days", size.last7Days), ("last 30 days", size.last30Days)])
            }
    }
}
