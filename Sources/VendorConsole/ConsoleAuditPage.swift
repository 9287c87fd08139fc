import Foundation
import Hummingbird
import IPAMCore
import Inventory
import VendorDomain
import VendorHTTP

/// What the audit page shows: the filters of `GET /api/events` (scope, action, actor, lease, a time window) and
/// where the page starts, as the URL carries them.
struct AuditQuery: Sendable {
    /// Events a page shows.
    static let pageSize = 50

    /// The scopes the `scope` filter selects (all without it, none for a scope not configured).
    var scopes: [Scope]
    var scope: Scope?
    var filter = EventFilter()
    var continuation: LeaseCursor?
    /// The filters as query parameters, in the form's order (the paging links keep them).
    var filters: [(String, String)] = []

    /// Reads the query from `parameter` (a parameter's value, nil when absent or empty).
    ///
    /// `since` and `until` are RFC 3339 times or a `datetime-local` field's `YYYY-MM-DDTHH:MM[:SS]`, read as UTC.
    /// - Throws: `invalidQuery` naming the parameter for an action, lease id or time that is not one, and for
    ///   `until` before `since`; never for a continuation (one that is not a token of this listing starts over).
    init(_ parameter: (String) -> String?, scopes: [Scope]) throws(VendorError) {
        self.scopes = scopes.sorted()
        if let text = parameter("scope") {
            scope = ConsoleScopes.named(text, in: scopes)
            self.scopes = scope.map { [$0] } ?? []
            filters.append(("scope", text))
        }
        if let action = parameter("action") {
            guard AuditAction(rawValue: action) != nil else {
                throw VendorError(.invalidQuery, "'\(action)' is not an action", field: "action")
            }
            filter.actions = [action]
            filters.append(("action", action))
        }
        if let actor = parameter("actor") {
            filter.actor = actor
            filters.append(("actor", actor))
        }
        if let lease = parameter("leaseId") {
            guard UUID(uuidString: lease) != nil else {
                throw VendorError(.invalidQuery, "'\(lease)' is not a lease id", field: "leaseId")
            }
            filter.leaseId = lease
            filters.append(("leaseId", lease))
        }
        for name in ["since", "until"] {
            guard let text = parameter(name) else { continue }
            guard let date = Self.time(text) else {
                throw VendorError(
                    .invalidQuery, "'\(name)' must be a time, e.g. 2026-12-01T10:00:00Z or 2026-12-01T10:00",
                    field: name)
            }
            if name == "since" { filter.since = date } else { filter.until = date }
            filters.append((name, text))
        }
        if let since = filter.since, let until = filter.until, since > until {
            throw VendorError(.invalidQuery, "'until' is before 'since'", field: "until")
        }
        continuation = parameter("continuation").flatMap {
            LeaseCursor(token: $0, rowPrefix: RowKeys.eventPrefix)
        }
    }

    /// An RFC 3339 time, or a `datetime-local` value (no zone: UTC); nil for anything else.
    static func time(_ text: String) -> Date? {
        if let date = ISO8601.parse(text) { return date }
        if text.wholeMatch(of: /[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}/) != nil {
            return ISO8601.parse(text + ":00Z")
        }
        if text.wholeMatch(of: /[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}/) != nil {
            return ISO8601.parse(text + "Z")
        }
        return nil
    }

    /// A time as a `datetime-local` field shows it (UTC, to the second).
    static func field(_ date: Date?) -> String {
        date.map { String(ISO8601.format($0).prefix(19)) } ?? ""
    }
}

struct AuditPage: ConsolePage {
    static let template = ConsoleTemplates.Name.audit
    static let section: ConsoleSection? = .audit
    let rows: [EventRow]
    let count: Int
    let actionOptions: [ConsoleOption]
    let actor: String
    let leaseId: String
    /// The next page's query string, nil on the last page.
    let next: String?
    var scopeOptions: [ConsoleOption] = []
    /// The time window's fields (`datetime-local`, UTC).
    var since = ""
    var until = ""
    /// The first page's query string, on a later page.
    var first: String? = nil
    /// Whether any paging link is shown (the paging navigation is left out otherwise).
    var paged = false

    /// The page of `events` for `query`.
    /// - Parameters:
    ///   - next: where the next page starts; nil on the last.
    ///   - scopes: the configured scopes (the scope filter's options).
    init(_ events: [(AuditEvent, Scope)], next: LeaseCursor?, query: AuditQuery, scopes: [Scope]) {
        rows = events.map { EventRow($0.0, scope: $0.1) }
        count = rows.count
        actionOptions = AuditAction.allCases.map {
            ConsoleOption(value: $0.rawValue, selected: query.filter.actions == [$0.rawValue])
        }
        actor = query.filter.actor ?? ""
        leaseId = query.filter.leaseId ?? ""
        self.next = next.map { ConsoleRoutes.encode(query.filters + [("continuation", $0.token)]) }
        scopeOptions = ConsoleScopes.options(scopes.sorted(), selected: query.scope)
        since = AuditQuery.field(query.filter.since)
        until = AuditQuery.field(query.filter.until)
        first = query.continuation != nil ? ConsoleRoutes.encode(query.filters) : nil
        paged = self.next != nil || first != nil
    }

    /// A page of given rows and filter values (the tests' way in).
    init(
        rows: [EventRow], count: Int, actionOptions: [ConsoleOption], actor: String, leaseId: String, next: String?
    ) {
        self.rows = rows
        self.count = count
        self.actionOptions = actionOptions
        self.actor = actor
        self.leaseId = leaseId
        self.next = next
        paged = next != nil
    }
}

extension ConsoleTemplates {
    static let audit = """
        <form class="filters" method="get" action="/console/audit" id="audit-filters">
        <label for="a-scope">Scope<select id="a-scope" name="scope"><option value="">all</option>{{#scopeOptions}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/scopeOptions}}</select></label>
        <label for="a-action">Action<select id="a-action" name="action"><option value="">any</option>{{#actionOptions}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/actionOptions}}</select></label>
        <label for="a-actor">Actor<input id="a-actor" name="actor" value="{{actor}}"></label>
        <label for="a-lease">Lease<input id="a-lease" name="leaseId" value="{{leaseId}}"></label>
        <label for="a-since">From (UTC)<input id="a-since" name="since" type="datetime-local" step="1" value="{{since}}"></label>
        <label for="a-until">To (UTC)<input id="a-until" name="until" type="datetime-local" step="1" value="{{until}}"></label>
        <button type="submit" id="apply-audit-filters">Filter</button>
        </form>
        <div class="scroll"><table id="events"><caption>{{count}} events on this page, newest first per scope</caption>
        <tr><th scope="col">At</th><th scope="col">Action</th><th scope="col">Actor</th><th scope="col">Scope</th><th scope="col">CIDR</th><th scope="col">State</th><th scope="col">Lease</th><th scope="col">Request</th></tr>
        {{#rows}}<tr><td class="key">{{at}}</td><td>{{action}}{{#alert}}<br><span class="alert">{{alert}}</span>{{/alert}}</td><td>{{actor}}</td><td class="key" title="{{scopeTitle}}">{{scope}}</td><td>{{cidr}}</td><td class="state">{{before}} → {{after}}</td><td>{{#leaseLink}}<a href="/console/leases/{{leaseLink}}">{{leaseLink}}</a>{{/leaseLink}}</td><td>{{requestId}}</td></tr>{{/rows}}
        {{^rows}}<tr><td colspan="8">No events match.</td></tr>{{/rows}}
        </table></div>
        {{#paged}}<nav aria-label="Pages" class="pages">{{#first}}<a href="/console/audit?{{first}}" id="first-page">First page</a> {{/first}}{{#next}}<a href="/console/audit?{{next}}" id="next-page">Next page</a>{{/next}}</nav>{{/paged}}
        """
}

extension ConsoleRoutes {
    @Sendable func audit(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withSession(request) { session in
            return try await rendering(session) {
                let scopes = Array(service.configuration.scopes.keys)
                let query = try AuditQuery({ Self.parameter(request, $0) }, scopes: scopes)
                let page = try await service.events(
                    in: query.scopes, matching: query.filter, limit: AuditQuery.pageSize, from: query.continuation)
                return ("Audit log", AuditPage(page.events, next: page.next, query: query, scopes: scopes))
            }
        }
    }
}

extension EventRow {
    /// An event of `scope`, as the audit page lists it (with its scope's name).
    init(_ event: AuditEvent, scope: Scope) {
        self.init(event)
        self.scope = ConsoleScopes.name(scope)
        scopeTitle = ConsoleScopes.title(scope)
    }
}
