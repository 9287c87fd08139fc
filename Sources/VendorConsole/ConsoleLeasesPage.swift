import CSVFormat
import Foundation
import HTTPTypes
import Hummingbird
import IPAMCore
import Inventory
import NIOCore
import NetworkMath
import VendorAPI
import VendorDomain
import VendorHTTP

/// The leases table (`GET /console/leases`): filters, sortable columns and paging kept in the URL
/// (`LeaseTableQuery`), and a CSV link carrying the same filters and order.
struct LeasesPage: ConsolePage {
    static let template = ConsoleTemplates.Name.leases
    static let section: ConsoleSection? = .leases

    struct Row: Sendable, Equatable {
        let cidr: String
        /// A dual-stack lease's IPv6 block, shown under its IPv4 one.
        let cidrV6: String?
        let state: String
        let leaseId: String
        let sessionId: String
        let scope: String
        /// The scope's id and whole name, to hover (`ConsoleScopes.title`).
        let scopeTitle: String
        let expiresAt: String
        let requester: String
        let pool: String
        /// `key=value` pairs, by key.
        let tags: String
        /// The block's prefix length (and its IPv6 block's, for a dual-stack lease).
        let size: String
        /// The network's name (the last part of its resource id), and the id itself.
        let networkName: String
        let network: String

        init(_ row: NetworkRow, scope: Scope) {
            cidr = row.blocks.primary.description
            cidrV6 = row.blocks.v6?.description
            state = row.state.rawValue
            leaseId = row.leaseId ?? ""
            sessionId = row.sessionId ?? ""
            self.scope = ConsoleScopes.name(scope)
            scopeTitle = ConsoleScopes.title(scope)
            expiresAt = row.state == .leased ? row.expiresAt.map(ISO8601.format) ?? "" : ""
            requester = row.requester ?? ""
            pool = row.pool ?? ""
            tags = Self.tagsText(row.tags)
            size = "/\(row.blocks.primary.length)" + (row.blocks.v6.map { " + /\($0.length)" } ?? "")
            network = row.resourceId ?? ""
            networkName = Self.networkName(row.resourceId)
        }

        /// Tags as the table shows them: `key=value`, by key, comma-separated.
        static func tagsText(_ tags: [String: String]) -> String {
            tags.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        }

        /// A network's name: an Azure resource id's last part (the VNet's name), an AWS VPC id as it is.
        static func networkName(_ resourceId: String?) -> String {
            guard let resourceId else { return "" }
            return resourceId.split(separator: "/").last.map(String.init) ?? resourceId
        }
    }

    /// A column's header: a link that sorts by it, and `aria-sort` on the sorted one.
    struct Header: Sendable, Equatable {
        let key: String
        let label: String
        let href: String
        /// `ascending` or `descending` on the column the table is sorted by; nil on the others.
        let ariaSort: String?
        /// ▲ or ▼ beside the sorted column's label (hidden from screen readers, which read `aria-sort`).
        let arrow: String?
    }

    let rows: [Row]
    let count: Int
    /// The filters and order as a query string (for the CSV link).
    let query: String
    let scopeOptions: [ConsoleOption]
    let stateOptions: [ConsoleOption]
    let requester: String
    let tag: String
    let within: String
    /// The next page's query string, nil on the last page.
    let next: String?
    var poolOptions: [ConsoleOption] = []
    var headers: [Header] = []
    /// How the rows are ordered, in words (the caption's end).
    var order = "in address order, scope by scope"
    /// Said when a sorted table read only the first `LeaseTableQuery.sortCap` matching leases.
    var capNote: String? = nil
    /// The previous page's query string (sorted tables), and the first page's (on a later page).
    var previous: String? = nil
    var first: String? = nil
    /// Whether any paging link is shown (the paging navigation is left out otherwise).
    var paged = false

    /// The page for `query`'s `selection`.
    /// - Parameters:
    ///   - scopes: the configured scopes (the scope filter's options).
    ///   - pools: the configured pools' names (the pool filter's options).
    init(_ selection: LeaseSelection, query: LeaseTableQuery, scopes: [Scope], pools: [String]) {
        func value(_ name: String) -> String { query.filters.first { $0.0 == name }?.1 ?? "" }
        rows = selection.leases.map { Row($0, scope: $1) }
        count = rows.count
        self.query = ConsoleRoutes.encode(query.ordered)
        scopeOptions = ConsoleScopes.options(scopes.sorted(), selected: query.scope)
        stateOptions = NetworkState.allCases.map { state in
            ConsoleOption(value: state.rawValue, selected: query.filter.states == [state])
        }
        requester = value("requester")
        tag = value("tag")
        within = value("within")
        next = selection.next.map(ConsoleRoutes.encode)
        poolOptions = pools.sorted().map { ConsoleOption(value: $0, selected: $0 == query.filter.pool) }
        headers = LeaseColumn.allCases.map { column in
            let sorted = query.sort == column
            return Header(
                key: column.rawValue, label: column.label, href: ConsoleRoutes.encode(query.sorting(by: column)),
                ariaSort: sorted ? (query.descending ? "descending" : "ascending") : nil,
                arrow: sorted ? (query.descending ? "▼" : "▲") : nil)
        }
        if let column = query.sort {
            order =
                "sorted by \(column.label), \(query.descending ? "descending" : "ascending")"
                + (selection.total.map { " (\($0) matching)" } ?? "")
        }
        if selection.truncated {
            capNote =
                "More than \(LeaseTableQuery.sortCap) leases match: the table is sorted over the first "
                + "\(LeaseTableQuery.sortCap) in address order, scope by scope. Narrow the filters for a complete sort."
        }
        previous = selection.previous.map(ConsoleRoutes.encode)
        first = selection.later ? ConsoleRoutes.encode(query.ordered) : nil
        paged = next != nil || previous != nil || first != nil
    }

    /// A page of given rows and filter values (the tests' way in).
    init(
        rows: [Row], count: Int, query: String, scopeOptions: [ConsoleOption], stateOptions: [ConsoleOption],
        requester: String, tag: String, within: String, next: String?
    ) {
        self.rows = rows
        self.count = count
        self.query = query
        self.scopeOptions = scopeOptions
        self.stateOptions = stateOptions
        self.requester = requester
        self.tag = tag
        self.within = within
        self.next = next
        paged = next != nil
    }
}

extension ConsoleTemplates {
    static let leases = """
        <form class="filters" method="get" action="/console/leases" id="lease-filters">
        <label for="f-scope">Scope<select id="f-scope" name="scope"><option value="">all</option>{{#scopeOptions}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/scopeOptions}}</select></label>
        <label for="f-state">State<select id="f-state" name="state"><option value="">any</option>{{#stateOptions}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/stateOptions}}</select></label>
        <label for="f-requester">Requester<input id="f-requester" name="requester" value="{{requester}}"></label>
        <label for="f-tag">Tag (KEY or KEY=VALUE)<input id="f-tag" name="tag" value="{{tag}}"></label>
        <label for="f-pool">Pool<select id="f-pool" name="pool"><option value="">any</option>{{#poolOptions}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/poolOptions}}</select></label>
        <label for="f-within">Inside CIDR<input id="f-within" name="within" value="{{within}}" placeholder="10.64.0.0/16"></label>
        <button type="submit" id="apply-filters">Filter</button>
        <a href="/console/leases.csv?{{query}}" id="csv">CSV of these leases</a>
        </form>
        {{#capNote}}<p class="notice" role="status" id="sort-cap">{{capNote}}</p>{{/capNote}}
        <div class="scroll"><table id="leases"><caption>{{count}} leases on this page, {{order}}; a column's header sorts by it</caption>
        <tr>{{#headers}}<th scope="col" data-sort="{{key}}" {{#ariaSort}}aria-sort="{{ariaSort}}"{{/ariaSort}}><a href="/console/leases?{{href}}">{{label}}</a>{{#arrow}} <span aria-hidden="true">{{arrow}}</span>{{/arrow}}</th>{{/headers}}</tr>
        {{#rows}}<tr data-cidr="{{cidr}}"><td>{{cidr}}{{#cidrV6}}<br><span class="v6">{{cidrV6}}</span>{{/cidrV6}}</td><td class="state">{{state}}</td><td class="key"><a href="/console/leases/{{leaseId}}">{{leaseId}}</a></td><td class="key">{{sessionId}}</td><td title="{{scopeTitle}}">{{scope}}</td><td>{{requester}}</td><td>{{pool}}</td><td>{{tags}}</td><td>{{size}}</td><td class="key" title="{{network}}">{{networkName}}</td><td class="key">{{expiresAt}}</td></tr>{{/rows}}
        {{^rows}}<tr><td colspan="11">No leases match.</td></tr>{{/rows}}
        </table></div>
        {{#paged}}<nav aria-label="Pages" class="pages">{{#first}}<a href="/console/leases?{{first}}" id="first-page">First page</a> {{/first}}{{#previous}}<a href="/console/leases?{{previous}}" id="previous-page">Previous page</a> {{/previous}}{{#next}}<a href="/console/leases?{{next}}" id="next-page">Next page</a>{{/next}}</nav>{{/paged}}
        """
}

extension ConsoleRoutes {
    @Sendable func leases(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withSession(request) { session in
            return try await rendering(session) {
                let query = try leaseTableQuery(request)
                let selection = try await leaseSelection(query)
                return (
                    "Leases",
                    LeasesPage(
                        selection, query: query, scopes: Array(service.configuration.scopes.keys),
                        pools: Array(poolNames))
                )
            }
        }
    }

    @Sendable func leasesCSV(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withSession(request) { _ in try await leasesCSV(request) }
    }

    /// The leases the table's filters select, in its order, with `ipam export --leases`' columns
    /// (`API.LeaseCSV`): every page of them, up to 100,000 in listing order, or the sorted table's whole set.
    func leasesCSV(_ request: Request) async throws -> Response {
        let query = try leaseTableQuery(request)
        var lines = [CSVWriter.record(API.LeaseCSV.columns)]
        if let column = query.sort {
            for (row, scope) in try await sortedLeases(query, by: column).leases {
                lines.append(CSVWriter.record(API.LeaseCSV.cells(API.LeaseRecord(row, scope: scope))))
            }
        } else {
            var cursor: LeaseCursor? = nil
            repeat {
                let page = try await service.leases(in: query.scopes, matching: query.filter, limit: 1000, from: cursor)
                for (row, scope) in page.leases {
                    lines.append(CSVWriter.record(API.LeaseCSV.cells(API.LeaseRecord(row, scope: scope))))
                }
                cursor = page.next
            } while cursor != nil && lines.count < 100_000
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"ipam-leases.csv\""
        headers[.cacheControl] = "no-store"
        return Response(
            status: .ok, headers: headers,
            body: .init(byteBuffer: ByteBuffer(string: lines.joined(separator: "\r\n") + "\r\n")))
    }
}
