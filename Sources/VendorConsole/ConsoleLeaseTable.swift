import Foundation
import Hummingbird
import IPAMCore
import Inventory
import NetworkMath
import VendorDomain
import VendorHTTP

/// A column of the leases table: what its header says and how a click on it orders the rows
/// (`?sort=KEY&order=asc|desc`).
enum LeaseColumn: String, Sendable, CaseIterable {
    case cidr, state, lease, session, scope, requester, pool, tags, size, network, expiry

    /// The header's text.
    var label: String {
        switch self {
        case .cidr: "CIDR"
        case .state: "State"
        case .lease: "Lease"
        case .session: "Session"
        case .scope: "Scope"
        case .requester: "Requester"
        case .pool: "Pool"
        case .tags: "Tags"
        case .size: "Size"
        case .network: "VNet / VPC"
        case .expiry: "Expires"
        }
    }
}

/// What a leases table (or its CSV) shows: the filters, the order and the page, as the URL carries them.
///
/// Without `sort` the table is the listing's own order (scope by scope, each in address order), paged by the
/// listing's continuation: as many leases as there are, 50 a page. With `sort` the filtered set is read in full,
/// up to `sortCap` leases, ordered on the Vendor, and paged by `offset`; a set larger than the cap is sorted over
/// its first `sortCap` leases in listing order, and the page says so (`truncated`). Rows without a value in the
/// sorted column (an anchored lease's expiry, a lease outside any pool) come last in either order; ties keep the
/// listing's order.
struct LeaseTableQuery: Sendable {
    /// Rows a page shows.
    static let pageSize = 50
    /// The most leases a sorted table (and its CSV) reads and orders.
    static let sortCap = 5_000

    /// The scopes the `scope` filter selects (all without it, none for a scope not configured).
    var scopes: [Scope]
    var filter: LeaseFilter
    /// The chosen scope, for the filter's `<select>`.
    var scope: Scope?
    var sort: LeaseColumn?
    var descending = false
    /// Where a sorted page starts in the sorted set.
    var offset = 0
    /// Where an unsorted page starts in the listing.
    var continuation: LeaseCursor?
    /// The filters as query parameters, in the form's order (the links keep them).
    var filters: [(String, String)] = []

    /// Reads the query from `parameter` (a parameter's value, nil when absent or empty).
    /// - Parameters:
    ///   - scopes: the configured scopes.
    ///   - pools: the configured pools' names.
    /// - Throws: `invalidQuery` naming the parameter for a state, tag, CIDR, pool, sort column, order or offset
    ///   that is not one; never for a continuation (one that is not a token this listing gave starts over).
    init(_ parameter: (String) -> String?, scopes: [Scope], pools: Set<String>) throws(VendorError) {
        self.scopes = scopes.sorted()
        filter = LeaseFilter()
        if let text = parameter("scope") {
            // A scope named by its partition key (the filter's own options) or its name; none matches nothing.
            scope = ConsoleScopes.named(text, in: scopes)
            self.scopes = scope.map { [$0] } ?? []
            filters.append(("scope", text))
        }
        if let text = parameter("state") {
            guard let state = NetworkState(rawValue: text) else {
                throw VendorError(.invalidQuery, "'\(text)' is not a state", field: "state")
            }
            filter.states = [state]
            filters.append(("state", text))
        }
        if let text = parameter("requester") {
            filter.requester = text
            filters.append(("requester", text))
        }
        if let text = parameter("tag") {
            let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard !parts[0].isEmpty else {
                throw VendorError(.invalidQuery, "'tag' is KEY or KEY=VALUE", field: "tag")
            }
            filter.tag = (parts[0], parts.count == 2 ? parts[1] : nil)
            filters.append(("tag", text))
        }
        if let text = parameter("pool") {
            guard pools.contains(text) else {
                throw VendorError(.invalidQuery, "no pool '\(text)' is configured", field: "pool")
            }
            filter.pool = text
            filters.append(("pool", text))
        }
        if let text = parameter("within") {
            // A filter, so host bits are forgiven, as `GET /api/leases?within=` forgives them.
            do { filter.within = try IPPrefix.parseNormalising(text).prefix } catch {
                throw VendorError(.invalidQuery, "\(error)", field: "within")
            }
            filters.append(("within", text))
        }
        if let text = parameter("sort") {
            guard let column = LeaseColumn(rawValue: text) else {
                throw VendorError(
                    .invalidQuery,
                    "'\(text)' is not a column to sort by; use \(LeaseColumn.allCases.map(\.rawValue).joined(separator: ", "))",
                    field: "sort")
            }
            sort = column
        }
        if let text = parameter("order") {
            guard text == "asc" || text == "desc" else {
                throw VendorError(.invalidQuery, "'order' is asc or desc", field: "order")
            }
            descending = text == "desc"
        }
        if let text = parameter("offset") {
            guard let value = Int(text), (0...Self.sortCap).contains(value) else {
                throw VendorError(
                    .invalidQuery, "'offset' must be a whole number from 0 to \(Self.sortCap)", field: "offset")
            }
            offset = value
        }
        continuation = parameter("continuation").flatMap { LeaseCursor(token: $0) }
    }

    /// The filters and the order as query parameters: what the CSV link and the header links carry.
    var ordered: [(String, String)] {
        filters + (sort.map { [("sort", $0.rawValue), ("order", descending ? "desc" : "asc")] } ?? [])
    }

    /// The query of the link a column's header makes: the same filters, sorted by `column`, ascending unless the
    /// table is sorted by it ascending already (a second click reverses it); back to the first page.
    func sorting(by column: LeaseColumn) -> [(String, String)] {
        filters + [("sort", column.rawValue), ("order", sort == column && !descending ? "desc" : "asc")]
    }
}

/// The ordering of the leases table's rows, on the values each column shows.
enum LeaseOrdering {
    /// A cell's value as it sorts: addresses and sizes as numbers, times as times, text case-insensitively.
    enum Value: Comparable {
        case prefix(IPPrefix)
        case number(Int)
        case date(Date)
        case text(folded: String, raw: String)
    }

    /// What a lease shows in `column`, as it sorts; nil for an empty cell.
    static func value(_ row: NetworkRow, scope: Scope, column: LeaseColumn) -> Value? {
        func text(_ string: String?) -> Value? {
            guard let string, !string.isEmpty else { return nil }
            return .text(folded: string.lowercased(), raw: string)
        }
        switch column {
        case .cidr: return .prefix(row.blocks.primary)
        case .state: return text(row.state.rawValue)
        case .lease: return text(row.leaseId)
        case .session: return text(row.sessionId)
        case .scope: return text(ConsoleScopes.name(scope))
        case .requester: return text(row.requester)
        case .pool: return text(row.pool)
        case .tags: return text(LeasesPage.Row.tagsText(row.tags))
        case .size: return .number(row.blocks.primary.length)
        case .network: return text(LeasesPage.Row.networkName(row.resourceId))
        case .expiry: return row.state == .leased ? row.expiresAt.map(Value.date) : nil
        }
    }

    /// The first `cap` items of a paged listing, read page by page (at most 1,000 a page), and whether it holds
    /// more: one item past the cap tells a listing larger than the cap from one exactly as large.
    static func readCapped<T>(
        cap: Int, _ fetch: (_ limit: Int, _ cursor: LeaseCursor?) async throws(DomainError) -> ([T], LeaseCursor?)
    ) async throws(DomainError) -> (items: [T], truncated: Bool) {
        var items: [T] = []
        var cursor: LeaseCursor? = nil
        repeat {
            let (page, next) = try await fetch(min(1000, cap + 1 - items.count), cursor)
            items += page
            cursor = next
        } while cursor != nil && items.count <= cap
        return (Array(items.prefix(cap)), items.count > cap)
    }

    /// `leases` ordered by `column`: empty cells last in either order, ties in the order given.
    static func sorted(_ leases: [(NetworkRow, Scope)], by column: LeaseColumn, descending: Bool) -> [(
        NetworkRow, Scope
    )] {
        let keyed = leases.enumerated().map { index, lease in
            (index: index, value: value(lease.0, scope: lease.1, column: column), lease: lease)
        }
        return keyed.sorted { a, b in
            switch (a.value, b.value) {
            case (nil, nil): return a.index < b.index
            case (nil, _): return false
            case (_, nil): return true
            case (let x?, let y?):
                if x == y { return a.index < b.index }
                return descending ? y < x : x < y
            }
        }.map(\.lease)
    }
}

/// The leases a table's query selects, as one page shows them.
struct LeaseSelection: Sendable {
    /// The page's leases, in the table's order.
    var leases: [(NetworkRow, Scope)]
    /// Every lease the sorted set holds (sorted tables only).
    var total: Int?
    /// Whether more leases matched than a sorted table reads (`LeaseTableQuery.sortCap`).
    var truncated = false
    /// The next page's query parameters; nil on the last page.
    var next: [(String, String)]?
    /// The previous page's; nil on the first (and on a continued unsorted page, which cannot go back).
    var previous: [(String, String)]?
    /// Whether this is a later page (the table then links back to the first).
    var later = false
}

extension ConsoleRoutes {
    /// The configured pools' names, which the pool filter accepts.
    var poolNames: Set<String> { Set(service.configuration.pools.pools.keys) }

    /// The leases table's query of a request.
    func leaseTableQuery(_ request: Request) throws(VendorError) -> LeaseTableQuery {
        try LeaseTableQuery(
            { Self.parameter(request, $0) }, scopes: Array(service.configuration.scopes.keys), pools: poolNames)
    }

    /// The sorted table's whole set: the filtered leases in listing order, up to the cap (and whether more
    /// matched), then ordered.
    func sortedLeases(_ query: LeaseTableQuery, by column: LeaseColumn) async throws(DomainError) -> (
        leases: [(NetworkRow, Scope)], truncated: Bool
    ) {
        let (all, truncated) = try await LeaseOrdering.readCapped(cap: LeaseTableQuery.sortCap) {
            limit, cursor throws(DomainError) -> ([(NetworkRow, Scope)], LeaseCursor?) in
            let page = try await service.leases(in: query.scopes, matching: query.filter, limit: limit, from: cursor)
            return (page.leases, page.next)
        }
        return (LeaseOrdering.sorted(all, by: column, descending: query.descending), truncated)
    }

    /// One page of the table `query` asks for.
    func leaseSelection(_ query: LeaseTableQuery) async throws(DomainError) -> LeaseSelection {
        let size = LeaseTableQuery.pageSize
        guard let column = query.sort else {
            let page = try await service.leases(
                in: query.scopes, matching: query.filter, limit: size, from: query.continuation)
            return LeaseSelection(
                leases: page.leases, next: page.next.map { query.filters + [("continuation", $0.token)] },
                later: query.continuation != nil)
        }
        let (sorted, truncated) = try await sortedLeases(query, by: column)
        let start = min(query.offset, sorted.count)
        let end = min(start + size, sorted.count)
        return LeaseSelection(
            leases: Array(sorted[start..<end]), total: sorted.count, truncated: truncated,
            next: end < sorted.count ? query.ordered + [("offset", String(end))] : nil,
            previous: start > 0 ? query.ordered + [("offset", String(max(0, start - size)))] : nil,
            later: start > 0)
    }
}
