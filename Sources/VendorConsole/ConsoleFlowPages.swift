import Foundation
import IPAMCore
import Inventory
import NetworkMath
import VendorAPI

/// The pages of the console's lease flows: the request form and its result, the members of a lease, the buttons
/// a lease page offers, and the one confirmation page every release, removal and reservation goes through.

/// A labelled value (a row of a page's fields table, or a hidden input of a confirmation form).
struct ConsoleField: Sendable, Equatable {
    let name: String
    let value: String
}

// MARK: Requesting a network

/// The form to request a network: where from (a scope's own space or a pool), the size, the IP version or both
/// (dual-stack), the requester and tags, and the SessionId that makes sending it twice answer the same lease.
struct RequestPage: ConsolePage {
    static let template = ConsoleTemplates.Name.request
    static let section: ConsoleSection? = .request

    let csrf: String
    /// The form's values (as sent, when the page shows a refusal).
    let sessionId: String
    let scopeAreas: [ConsoleOption]
    let poolAreas: [ConsoleOption]
    let hasPools: Bool
    let prefixLength: String
    let v6: Bool
    let dualStack: Bool
    let prefixLengthV6: String
    let requester: String
    let tags: String
    /// The sizes a request outside pools may ask for (a pool's own rules narrow them).
    let limits: String
    /// Why the last attempt was refused (the API's message), nil on a fresh form.
    let problem: String?
    /// What a dry run of the form answered, nil otherwise.
    let preview: Preview?

    /// A dry run's answer (`API.NetworkPreview`): the blocks the request would be handed now, or the lease its
    /// SessionId holds already.
    struct Preview: Sendable, Equatable {
        let cidr: String
        let cidrV6: String?
        /// What a replay would answer: the lease the SessionId holds; nil for a new block.
        let held: String?

        init(cidr: String, cidrV6: String?, held: String?) {
            self.cidr = cidr
            self.cidrV6 = cidrV6
            self.held = held
        }

        init(_ preview: API.NetworkPreview) {
            self.init(
                cidr: preview.cidr, cidrV6: preview.cidrV6,
                held: preview.heldLease.map {
                    "This SessionId holds lease \($0.leaseId) (\(preview.cidr), \($0.state)) already: sending the form answers it again."
                })
        }
    }

    /// - Parameters:
    ///   - form: the values to show again (nil: a fresh form, the default scope chosen and a new SessionId).
    ///   - problem: the API's message for why `form` was refused.
    ///   - preview: what a dry run of `form` answered.
    init(
        configuration: IPAMConfiguration, csrf: String, form: NetworkRequestForm? = nil, problem: String? = nil,
        preview: Preview? = nil
    ) {
        self.csrf = csrf
        let area = form?.area ?? "scope:\(configuration.defaultScope.partitionKey)"
        scopeAreas = configuration.scopes.keys.sorted().map { scope in
            let supernets = configuration.scopes[scope]?.supernets.map(\.description).joined(separator: ", ") ?? ""
            let value = "scope:\(scope.partitionKey)"
            return ConsoleOption(
                value: value, selected: value == area, label: "\(ConsoleScopes.name(scope)): own space (\(supernets))")
        }
        poolAreas = configuration.pools.pools.values.sorted { $0.name < $1.name }.map { pool in
            let value = "pool:\(pool.name)"
            return ConsoleOption(
                value: value, selected: value == area,
                label: "pool \(pool.name) (\(pool.prefix)) in \(ConsoleScopes.name(pool.scope))")
        }
        hasPools = !poolAreas.isEmpty
        sessionId = form?.sessionId ?? "console-\(UUID().uuidString.lowercased())"
        prefixLength = form?.prefixLength ?? ""
        v6 = form?.ipVersion == "v6"
        dualStack = form?.dualStack != nil
        prefixLengthV6 = form?.prefixLengthV6 ?? ""
        requester = form?.requester ?? ""
        tags = form?.tags ?? ""
        let v4 = configuration.lengths(pool: nil, version: .v4)
        let v6 = configuration.lengths(pool: nil, version: .v6)
        limits =
            "IPv4 /\(v4.min) to /\(v4.max) (default /\(v4.default)), IPv6 /\(v6.min) to /\(v6.max) (default /\(v6.default)); a pool's rules may narrow them"
        self.problem = problem
        self.preview = preview
    }
}

/// What a request answered: the API's own answer (`API.Lease`), its CIDRs, lease id and the tag to put on the
/// network that uses it.
struct RequestedPage: ConsolePage {
    static let template = ConsoleTemplates.Name.requested
    static let section: ConsoleSection? = .request

    /// A subnet of the layout, when the request had one.
    struct Subnet: Sendable, Equatable {
        let name: String
        let cidr: String
        let cidrV6: String
    }

    let leaseId: String
    let cidr: String
    let cidrV6: String?
    let fields: [ConsoleField]
    let subnets: [Subnet]
    let hasSubnets: Bool
    let tagName: String
    let tagValue: String
    /// What the tag goes on: a VNet, or a VPC.
    let network: String
    /// False for a replay: the SessionId held this lease already, and the same lease is answered.
    let created: Bool

    init(_ lease: API.Lease, created: Bool, scope: Scope) {
        leaseId = lease.leaseId
        cidr = lease.cidr
        cidrV6 = lease.cidrV6
        fields =
            [ConsoleField(name: "CIDR", value: lease.cidr)]
            + (lease.cidrV6.map { [ConsoleField(name: "IPv6 CIDR", value: $0)] } ?? []) + [
                ConsoleField(name: "Lease", value: lease.leaseId),
                ConsoleField(name: "Session", value: lease.sessionId),
                ConsoleField(name: "Scope", value: ConsoleScopes.detail(scope)),
                ConsoleField(name: "State", value: lease.state),
                ConsoleField(name: "Expires", value: lease.expiresAt.map(ISO8601.format) ?? ""),
            ]
        subnets = lease.subnets.map { Subnet(name: $0.name, cidr: $0.cidr, cidrV6: $0.cidrV6 ?? "") }
        hasSubnets = !subnets.isEmpty
        tagName = lease.tag.name
        tagValue = lease.tag.value
        network = ConsoleScopes.network(scope)
        self.created = created
    }
}

// MARK: A lease's buttons and members

/// What a lease page offers the signed-in caller: renewing and releasing when its role and the lease allow it
/// (the domain refuses the rest anyway), and its members while it is held (an ended lease's members page is 410).
struct LeaseActions: Sendable, Equatable {
    let leaseId: String
    let csrf: String
    let renewable: Bool
    let releasable: Bool
    /// The lease is held (`leased` or `anchored`): its members page answers.
    let held: Bool
}

/// A lease's members (members only), the form to add one and a link to remove each, for those who may.
struct MembersPage: ConsolePage {
    static let template = ConsoleTemplates.Name.members
    static let section: ConsoleSection? = .leases

    struct Row: Sendable, Equatable {
        let principal: String
        let role: String
        let addedAt: String
        /// The link to the confirmation of its removal, nil when the caller may not remove it (or it is the owner).
        let remove: String?
    }

    let leaseId: String
    let cidr: String
    let csrf: String
    let rows: [Row]
    /// The add form is shown to the lease's owner, its admin members and admins (with the API's role for it).
    let canAdd: Bool

    /// - Parameters:
    ///   - caller: the signed-in caller's name (whose own membership it may always end).
    ///   - mayAdd: the session has the role `PUT …/members/{principal}` needs.
    ///   - mayRemove: the session has the role `DELETE …/members/{principal}` needs.
    ///   - isAdmin: the session is an admin (an admin member of every lease).
    init(
        leaseId: String, cidr: String, members: [(principal: String, role: MemberRole, addedAt: Date?)],
        caller: String, csrf: String, mayAdd: Bool, mayRemove: Bool, isAdmin: Bool
    ) {
        self.leaseId = leaseId
        self.cidr = cidr
        self.csrf = csrf
        let own = members.first { $0.principal == caller }?.role
        let manages = isAdmin || (own.map { $0 >= .admin } ?? false)
        canAdd = mayAdd && manages
        rows = members.map { member in
            let removable = mayRemove && member.role != .owner && (manages || member.principal == caller)
            return Row(
                principal: member.principal, role: member.role.rawValue,
                addedAt: member.addedAt.map(ISO8601.format) ?? "",
                remove: removable
                    ? "/console/leases/\(leaseId)/members/remove?principal=\(ConsoleRoutes.percent(member.principal))"
                    : nil)
        }
    }
}

// MARK: Confirmation

/// Where a confirmation page sits in the navigation.
protocol ConfirmationSection: Sendable {
    static var section: ConsoleSection { get }
}
enum LeasesSection: ConfirmationSection { static let section = ConsoleSection.leases }
enum ReservationsSection: ConfirmationSection { static let section = ConsoleSection.reservations }

/// The step before a change: what it acts on (the CIDR first), what follows, and a form that POSTs it with the
/// CSRF token; or, when it cannot be done, why, and no form.
struct ConfirmPage<Place: ConfirmationSection>: ConsolePage {
    static var template: ConsoleTemplates.Name { .confirm }
    static var section: ConsoleSection? { Place.section }

    /// What happens, after the question (the page's title).
    let consequence: String
    let fields: [ConsoleField]
    /// Where the form posts; nil: nothing to confirm (`blocked` says why).
    let action: String?
    let csrf: String
    /// The form's values besides the token.
    let hidden: [ConsoleField]
    /// The button's text, naming the change and its CIDR.
    let button: String
    /// Back, without doing anything.
    let cancel: String
    let blocked: String?

    init(
        consequence: String, fields: [ConsoleField], action: String?, csrf: String, hidden: [ConsoleField] = [],
        button: String, cancel: String, blocked: String? = nil
    ) {
        self.consequence = consequence
        self.fields = fields
        self.action = blocked == nil ? action : nil
        self.csrf = csrf
        self.hidden = hidden
        self.button = button
        self.cancel = cancel
        self.blocked = blocked
    }
}

// MARK: Templates

extension ConsoleTemplates {
    static let request = """
        {{#problem}}<p class="notice error" role="alert" id="problem">Not leased: {{problem}}</p>{{/problem}}
        {{#preview}}<p class="notice" role="status" id="preview">{{#held}}{{held}}{{/held}}{{^held}}Would lease {{cidr}}{{#cidrV6}} and {{cidrV6}}{{/cidrV6}} now. Nothing is held: another request may take it first.{{/held}}</p>{{/preview}}
        <form method="post" action="/console/request" id="request-form">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <p><label for="n-area">From<select id="n-area" name="area">
        <optgroup label="A scope's own space">{{#scopeAreas}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/scopeAreas}}</optgroup>
        {{#hasPools}}<optgroup label="A pool">{{#poolAreas}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{label}}</option>{{/poolAreas}}</optgroup>{{/hasPools}}
        </select></label></p>
        <p><label for="n-length">Prefix length (empty: the default)<input id="n-length" name="prefixLength" inputmode="numeric" value="{{prefixLength}}" size="4"></label></p>
        <p><label for="n-version">IP version<select id="n-version" name="ipVersion"><option value="v4">IPv4</option><option value="v6" {{#v6}}selected{{/v6}}>IPv6</option></select></label></p>
        <p><label for="n-dual"><span>Dual-stack: an IPv4 and an IPv6 block (a scope's own space only)</span><input type="checkbox" id="n-dual" name="dualStack" value="on" {{#dualStack}}checked{{/dualStack}}></label></p>
        <p><label for="n-length6">IPv6 prefix length of a dual-stack lease (empty: the default)<input id="n-length6" name="prefixLengthV6" inputmode="numeric" value="{{prefixLengthV6}}" size="4"></label></p>
        <p><label for="n-requester">Requester<input id="n-requester" name="requester" value="{{requester}}"></label></p>
        <p><label for="n-tags">Tags, one KEY=VALUE a line<textarea id="n-tags" name="tags" rows="3" cols="40" style="max-width: 100%">{{tags}}</textarea></label></p>
        <p><label for="n-session">SessionId (sending the form again answers the same lease)<input id="n-session" name="sessionId" value="{{sessionId}}" size="48" required></label></p>
        <p>Sizes: {{limits}}.</p>
        <p><button type="submit" id="request">Request a network</button> <button type="submit" name="preview" value="1" id="preview-request">Preview (writes nothing)</button></p>
        </form>
        """

    static let requested = """
        {{^created}}<p class="notice" role="status" id="replayed">This SessionId held this lease already: the same lease is answered.</p>{{/created}}
        <div class="scroll"><table class="fields" id="lease-fields"><caption>The lease</caption>{{#fields}}<tr><th scope="row">{{name}}</th><td>{{value}}</td></tr>{{/fields}}</table></div>
        {{#hasSubnets}}<div class="scroll"><table id="subnets"><caption>Subnets</caption><tr><th scope="col">Name</th><th scope="col">CIDR</th><th scope="col">IPv6 CIDR</th></tr>
        {{#subnets}}<tr><td>{{name}}</td><td>{{cidr}}</td><td>{{cidrV6}}</td></tr>{{/subnets}}</table></div>{{/hasSubnets}}
        <h2 id="tag-heading">The tag to put on the {{network}}</h2>
        <p>Tag the {{network}} that uses {{cidr}}{{#cidrV6}} and {{cidrV6}}{{/cidrV6}} with <span data-copy="{{tagName}}={{tagValue}}"><code id="tag">{{tagName}}={{tagValue}}</code></span>: the Manager then anchors the lease to it, and it no longer expires.</p>
        <p><a href="/console/leases/{{leaseId}}" id="lease-link">The lease's page</a> · <a href="/console/request">Request another</a></p>
        """

    static let leaseActions = """
        <section aria-labelledby="lease-actions"><h2 id="lease-actions">Actions</h2>
        <div class="filters">
        {{#renewable}}<form method="post" action="/console/leases/{{leaseId}}/renew"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" id="renew">Renew</button></form>{{/renewable}}
        {{#releasable}}<a href="/console/leases/{{leaseId}}/release" id="release">Release…</a>{{/releasable}}
        {{#held}}<a href="/console/leases/{{leaseId}}/members" id="members">Members</a>{{/held}}
        {{^held}}<p>The lease has ended: nothing to change, and its members are no longer kept.</p>{{/held}}
        </div></section>
        """

    static let members = """
        <p>The principals that may take host addresses in {{cidr}}: the owner, and the members it (or an admin member) added.</p>
        <div class="scroll"><table id="member-list"><caption>Members, the owner first</caption>
        <tr><th scope="col">Principal</th><th scope="col">Role</th><th scope="col">Added</th><th scope="col"><span class="skip">Actions</span></th></tr>
        {{#rows}}<tr data-principal="{{principal}}"><td>{{principal}}</td><td>{{role}}</td><td>{{addedAt}}</td><td>{{#remove}}<a href="{{remove}}" class="remove">Remove…</a>{{/remove}}</td></tr>{{/rows}}
        </table></div>
        {{#canAdd}}
        <form method="post" action="/console/leases/{{leaseId}}/members" id="member-form" class="filters">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="m-principal">Principal<input id="m-principal" name="principal" required></label>
        <label for="m-role">Role<select id="m-role" name="role"><option value="member">member</option><option value="admin">admin</option></select></label>
        <button type="submit" id="add-member">Add member</button>
        </form>
        {{/canAdd}}
        <p><a href="/console/leases/{{leaseId}}">Back to the lease</a></p>
        """

    static let confirm = """
        <p id="consequence">{{consequence}}</p>
        <div class="scroll"><table class="fields" id="confirm-fields"><caption>What it acts on</caption>{{#fields}}<tr><th scope="row">{{name}}</th><td>{{value}}</td></tr>{{/fields}}</table></div>
        {{#blocked}}<p class="notice error" role="alert" id="blocked">{{blocked}}</p>{{/blocked}}
        {{#action}}<form method="post" action="{{action}}" id="confirm-form"><input type="hidden" name="csrf" value="{{csrf}}">{{#hidden}}<input type="hidden" name="{{name}}" value="{{value}}">{{/hidden}}
        <button type="submit" id="confirm">{{button}}</button> <a href="{{cancel}}" id="cancel">Cancel</a></form>{{/action}}
        {{^action}}<p><a href="{{cancel}}" id="cancel">Back</a></p>{{/action}}
        """
}
