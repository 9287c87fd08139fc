import Foundation
import IPAMCore
import Inventory
import Mustache
import NetworkMath
import VendorDomain

/// A console page's typed model: the values its template (`ConsoleTemplates`) names, as stored properties (the
/// templates read them by reflection), so a value left out or of the wrong type does not compile.
///
/// Every value is escaped by the template (`{{…}}`) except `ConsoleMarkup` in `{{{…}}}`. An optional renders
/// nothing when nil; an empty string still opens its section, as it did in the dictionaries these replace.
protocol ConsolePage: Sendable {
    /// The template that renders this model.
    static var template: ConsoleTemplates.Name { get }
    /// The navigation link the page marks as current (nil: none).
    static var section: ConsoleSection? { get }
}

/// The console's navigation links: the layout marks the current page's with `aria-current`.
enum ConsoleSection: Sendable, CaseIterable {
    case dashboard, space, pools, leases, request, reservations, audit, drift
}

/// Markup the console builds itself (its SVG charts, from escaped values): `{{{…}}}` writes it as is.
struct ConsoleMarkup: MustacheCustomRenderable, Sendable, Equatable {
    let html: String
    init(_ html: String) { self.html = html }
    var renderText: String { html }
    var isNull: Bool { false }
}

/// An `<option>` of a filter's `<select>`.
struct ConsoleOption: Sendable, Equatable {
    let value: String
    let selected: Bool
    /// What the option shows: its value unless told otherwise (a scope's name, `ConsoleScopes.name`).
    let label: String

    init(value: String, selected: Bool, label: String? = nil) {
        self.value = value
        self.selected = selected
        self.label = label ?? value
    }
}

// MARK: The layout

/// The page around every page's body: its title, an optional notice and, when signed in, the header.
struct ConsoleLayout: Sendable {
    /// The header of a signed-in page: who, with which role, the sign-out form's CSRF token, the current link.
    struct SessionBar: Sendable {
        let caller: String
        let role: String
        let csrf: String
        let dashboard: Bool
        let space: Bool
        let pools: Bool
        let leases: Bool
        let request: Bool
        let reservations: Bool
        let audit: Bool
        let drift: Bool

        init(caller: String, role: String, csrf: String, current: ConsoleSection?) {
            self.caller = caller
            self.role = role
            self.csrf = csrf
            dashboard = current == .dashboard
            space = current == .space
            pools = current == .pools
            leases = current == .leases
            request = current == .request
            reservations = current == .reservations
            audit = current == .audit
            drift = current == .drift
        }
    }

    let title: String
    let body: ConsoleMarkup
    let notice: String?
    let session: SessionBar?
}

// MARK: Pages

struct SignInPage: ConsolePage {
    static let template = ConsoleTemplates.Name.signIn
    static let section: ConsoleSection? = nil
    let csrf: String
    let hours: String
    let idleMinutes: String

    init(csrf: String, lifetime: TimeInterval, idleTimeout: TimeInterval) {
        self.csrf = csrf
        hours = String(Int(lifetime / 3600))
        idleMinutes = String(Int(idleTimeout / 60))
    }
}

struct ErrorPage: ConsolePage {
    static let template = ConsoleTemplates.Name.error
    static let section: ConsoleSection? = nil
    let message: String
}

/// The Manager's last status as the dashboard and the drift page show it.
struct ManagerSummary: Sendable, Equatable {
    let runAt: String
    let lastComplete: String
    let driftCount: Int
    let completeText: String
    let problems: [String]

    init(_ status: ManagerStatus) {
        runAt = ISO8601.format(status.runAt)
        lastComplete = status.lastCompleteSyncAt.map(ISO8601.format) ?? "never"
        driftCount = status.drift.count
        completeText =
            status.complete ? "its listing was complete" : "its listing was incomplete: nothing was released"
        problems = status.problems
    }
}

/// An area the Manager last found low on space (`SpaceAlertState`), as the dashboard and the address-space page
/// list it.
struct LowSpaceRow: Sendable, Equatable {
    /// The scope's name (`ConsoleScopes.name`), its title (`ConsoleScopes.title`) and its partition key (for
    /// the link to its address space).
    let scope: String
    let scopeTitle: String
    let scopeKey: String
    /// `pool NAME (CIDR)`, or `own space` for the scope's space outside its pools.
    let area: String
    let version: String
    let since: String
    /// The thresholds crossed, as the Manager wrote them.
    let reasons: String

    /// - Parameter poolRange: the pool's configured range (nil: the scope's own space, or a pool no longer
    ///   configured).
    init(scope: Scope, state: SpaceAlertState, poolRange: IPPrefix?) {
        self.scope = ConsoleScopes.name(scope)
        scopeTitle = ConsoleScopes.title(scope)
        scopeKey = scope.partitionKey
        area = state.pool.map { "pool \($0)" + (poolRange.map { " (\($0))" } ?? "") } ?? "own space"
        version = "IPv\(state.version.rawValue)"
        since = ISO8601.format(state.since)
        // The Manager's text names the area first ("pool x (IPv4) is low: …"); the table has a column for that.
        reasons = state.reasons.range(of: " is low: ").map { String(state.reasons[$0.upperBound...]) } ?? state.reasons
    }
}

/// An audit event as the lease and audit pages list it.
struct EventRow: Sendable, Equatable {
    let at: String
    let action: String
    let actor: String
    let cidr: String
    let before: String
    let after: String
    let leaseId: String
    /// The lease the audit page links to; nil for an event of no lease (stock, reservations, space), which has no
    /// link (an empty one had no text for a screen reader). Not `leaseId`: a nil there would show the page's own.
    let leaseLink: String?
    let detail: String
    let requestId: String
    /// A low-space event's detail (the area and the thresholds crossed), which the audit page shows under its
    /// action; nil for every other event.
    let alert: String?
    /// The event's scope, as the audit page names it (`ConsoleScopes.name`); empty where no page shows it.
    var scope = ""
    /// Its id and whole name, to hover (`ConsoleScopes.title`).
    var scopeTitle = ""

    init(_ event: AuditEvent) {
        at = event.at.map(ISO8601.format) ?? ""
        action = event.action.rawValue
        actor = event.actor
        cidr = event.cidr
        before = event.before?.rawValue ?? "–"
        after = event.after?.rawValue ?? "–"
        leaseId = event.leaseId
        leaseLink = event.leaseId.isEmpty ? nil : event.leaseId
        detail = event.detail
        requestId = event.requestId ?? ""
        let isAlert = event.action == .known(.spaceLow) || event.action == .known(.spaceRecovered)
        alert = isAlert ? event.detail : nil
    }
}

struct LeasePage: ConsolePage {
    static let template = ConsoleTemplates.Name.lease
    static let section: ConsoleSection? = .leases

    struct Field: Sendable, Equatable {
        let name: String
        let value: String
        /// A value an operator pastes elsewhere (the lease id, its blocks): the console's script gives it a Copy
        /// button.
        var copy = false
    }

    let fields: [Field]
    let events: [EventRow]
    /// The renew and release buttons and the members link (`ConsoleFlowPages.swift`); nil: none.
    var actions: LeaseActions? = nil
    /// The address history, host addresses and members (`LeaseDetails`), after the events.
    var details: ConsoleMarkup? = nil

    init(_ row: NetworkRow, scope: Scope, events: [AuditEvent]) {
        fields =
            [
                Field(name: "Lease", value: row.leaseId ?? "", copy: true),
                Field(name: "CIDR", value: row.prefix.description, copy: true),
            ]
            + (row.partnerPrefix.map { [Field(name: "IPv6 CIDR", value: $0.description, copy: true)] } ?? []) + [
                Field(name: "State", value: row.state.rawValue),
                Field(name: "Scope", value: ConsoleScopes.detail(scope)),
                Field(name: "Session", value: row.sessionId ?? ""),
                Field(name: "Requester", value: row.requester ?? ""),
                Field(name: "Leased at", value: row.leasedAt.map(ISO8601.format) ?? ""),
                Field(name: "Expires", value: row.state == .leased ? row.expiresAt.map(ISO8601.format) ?? "" : ""),
                Field(name: ConsoleScopes.network(scope), value: row.resourceId ?? ""),
            ]
        self.events = events.map(EventRow.init)
    }
}

struct ReservationsPage: ConsolePage {
    static let template = ConsoleTemplates.Name.reservations
    static let section: ConsoleSection? = .reservations

    struct Row: Sendable, Equatable {
        let cidr: String
        let scope: String
        /// The scope's id and whole name, to hover (`ConsoleScopes.title`).
        let scopeTitle: String
        let owner: String
        let reason: String
        let expiresAt: String
        let readOnly: Bool
        /// Shown to admins for a reservation made through the API or the console: a link to confirm its release.
        let releasable: Bool
        let id: String
    }

    /// The reserve form and the release links are shown to admins only (each leads to a confirmation page).
    let admin: Bool
    let scopeOptions: [ConsoleOption]
    let rows: [Row]

    /// The page posts nothing itself: its reserve form and release links lead to confirmation pages
    /// (`ConsoleLeaseFlows.swift`), whose forms carry the CSRF token.
    init(_ items: [(Reservation, Scope, readOnly: Bool)], scopes: [Scope], admin: Bool) {
        self.admin = admin
        scopeOptions = ConsoleScopes.options(scopes, selected: nil)
        rows = items.map { reservation, scope, readOnly in
            Row(
                cidr: reservation.prefix.description, scope: ConsoleScopes.name(scope),
                scopeTitle: ConsoleScopes.title(scope), owner: reservation.owner,
                reason: reservation.reason, expiresAt: reservation.expiresAt.map(ISO8601.format) ?? "",
                readOnly: readOnly, releasable: admin && !readOnly, id: reservation.id)
        }
    }
}
