import Foundation
import HTTPTypes
import Hummingbird
import IPAMCore
import Inventory
import NetworkMath
import VendorAPI
import VendorDomain
import VendorHTTP

/// The console's lease flows: requesting a network, renewing and releasing a lease, adding and removing its
/// members, and the confirmation steps of releases, removals and reservations.
///
/// Each change goes through the service call its API route makes, is allowed to exactly the roles that route
/// admits (`API.Console.performs`, `Role(needed:)`), needs the session's CSRF token (`withPostedForm`) and runs
/// under the signed-in caller (`acting`), so its audit event names the operator. A GET only ever shows: a
/// confirmation page names what the change acts on (the CIDR first) and POSTs it.
extension ConsoleRoutes {
    /// Registers the flows' pages, in `API.Console.flows`' order.
    func addFlows(to routes: VendorRouteTable) {
        routes.add(API.Console.requestPage, use: requestPage)
        routes.add(API.Console.request, use: requestNetwork)
        routes.add(API.Console.renewLease, use: renewLease)
        routes.add(API.Console.releaseLeasePage, use: releaseLeasePage)
        routes.add(API.Console.releaseLease, use: releaseLease)
        routes.add(API.Console.members, use: members)
        routes.add(API.Console.addMember, use: addMember)
        routes.add(API.Console.removeMemberPage, use: removeMemberPage)
        routes.add(API.Console.removeMember, use: removeMember)
        routes.add(API.Console.reservePage, use: reservePage)
        routes.add(API.Console.releasePage, use: releasePage)
    }

    // MARK: Requesting a network

    @Sendable func requestPage(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withSession(request) { session in
            if let refused = refusal(API.Console.requestPage, session, doing: "Requesting a network") {
                return refused
            }
            return page(
                "Request a network",
                RequestPage(configuration: service.configuration, csrf: sessions.csrfToken(session)),
                session: session)
        }
    }

    /// `POST /api/getNewNetwork` from the form, as the caller: its answer's CIDRs, lease id and tag; a refusal
    /// shows the form again with the API's message (and status).
    @Sendable func requestNetwork(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withPostedForm(NetworkRequestForm.self, request) { session, form in
            if let refused = refusal(API.Console.request, session, doing: "Requesting a network") { return refused }
            let configuration = service.configuration
            func refusedForm(_ status: HTTPResponse.Status, _ message: String) -> Response {
                page(
                    "Request a network",
                    RequestPage(
                        configuration: configuration, csrf: sessions.csrfToken(session), form: form, problem: message),
                    session: session, status: status)
            }
            var lease: LeaseRequest
            do throws(RequestProblem) {
                let body = try form.getNewNetworkBody(scopes: configuration.scopes.keys)
                lease = try RequestValidation.lease(body, configuration: configuration)
            } catch {
                return refusedForm(VendorError(DomainError.badRequest(error)).status, error.message)
            }
            lease.owner = service.redactor.principal(session.caller)
            if form.preview != nil {
                // A dry run (`"dryRun": true`): the same reads and refusals, nothing written, nothing audited.
                do throws(DomainError) {
                    let preview = try await service.previewNetwork(lease)
                    return page(
                        "Request a network",
                        RequestPage(
                            configuration: configuration, csrf: sessions.csrfToken(session), form: form,
                            preview: RequestPage.Preview(API.NetworkPreview(preview))),
                        session: session)
                } catch {
                    return refusedForm(VendorError(error).status, error.message)
                }
            }
            return try await acting(session) {
                let answer: LeaseAnswer
                do throws(DomainError) {
                    let started = ContinuousClock.now
                    answer = try await service.getNewNetwork(lease, effort: VendorService.Effort())
                    service.metrics.recordAllocation(created: answer.created, duration: ContinuousClock.now - started)
                } catch {
                    return refusedForm(VendorError(error).status, error.message)
                }
                return page(
                    answer.created ? "Network leased" : "Lease replayed",
                    RequestedPage(API.Lease(answer), created: answer.created, scope: answer.scope), session: session,
                    status: answer.created ? .created : .ok)
            }
        }
    }

    // MARK: Renewing and releasing a lease

    @Sendable func renewLease(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withPostedForm(TokenForm.self, request) { session, _ in
            if let refused = refusal(API.Console.renewLease, session, doing: "Renewing a lease") { return refused }
            let id = try context.parameters.require("leaseId")
            return try await acting(session) {
                let row = try await service.renew(
                    leaseId: id, sessionId: nil, scope: service.configuration.defaultScope, caller: caller(session))
                let done =
                    row.state == .anchored
                    ? "\(row.prefix) is anchored to its network: it does not expire, nothing was renewed."
                    : "Renewed \(row.prefix) until \(row.expiresAt.map(ISO8601.format) ?? "")."
                return Self.redirect(Self.leasePath(row, id) + "?done=" + Self.percent(done))
            }
        }
    }

    /// The confirmation of a release: the lease's CIDRs, state and requester; nothing to confirm when it is not
    /// held (or the caller is neither its owner nor an admin).
    @Sendable func releaseLeasePage(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withSession(request) { session in
            if let refused = refusal(API.Console.releaseLeasePage, session, doing: "Releasing a lease") {
                return refused
            }
            let id = try context.parameters.require("leaseId")
            return try await rendering(session) { () async throws -> (String, ConfirmPage<LeasesSection>) in
                let (row, scope) = try await service.lease(id: id, scope: nil)
                let blocks = [row.blocks.primary.description] + (row.blocks.v6.map { [$0.description] } ?? [])
                let cidrs = blocks.joined(separator: " and ")
                let blocked: String? =
                    ![NetworkState.leased, .anchored].contains(row.state)
                    ? "This lease is \(row.state.rawValue): there is nothing to release."
                    : VendorService.mayChange(row, by: caller(session))
                        ? nil : "Only the lease's owner or an admin may release it."
                return (
                    "Release \(cidrs)?",
                    ConfirmPage(
                        consequence:
                            "Releasing puts \(cidrs) in quarantine: it is no longer this lease's, and goes back to stock after the quarantine. A \(ConsoleScopes.network(scope)) still using it becomes drift.",
                        fields: [ConsoleField(name: "CIDR", value: row.blocks.primary.description)]
                            + (row.blocks.v6.map { [ConsoleField(name: "IPv6 CIDR", value: $0.description)] } ?? []) + [
                                ConsoleField(name: "Lease", value: row.leaseId ?? ""),
                                ConsoleField(name: "State", value: row.state.rawValue),
                                ConsoleField(name: "Scope", value: ConsoleScopes.detail(scope)),
                                ConsoleField(name: "Requester", value: row.requester ?? ""),
                                ConsoleField(name: ConsoleScopes.network(scope), value: row.resourceId ?? ""),
                            ],
                        action: Self.leasePath(row, id) + "/release", csrf: sessions.csrfToken(session),
                        button: "Release \(cidrs)", cancel: Self.leasePath(row, id), blocked: blocked)
                )
            }
        }
    }

    @Sendable func releaseLease(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withPostedForm(TokenForm.self, request) { session, _ in
            if let refused = refusal(API.Console.releaseLease, session, doing: "Releasing a lease") { return refused }
            let id = try context.parameters.require("leaseId")
            return try await acting(session) {
                let row = try await service.release(
                    leaseId: id, sessionId: nil, scope: service.configuration.defaultScope, caller: caller(session))
                let cidrs = ([row.blocks.primary] + (row.blocks.v6.map { [$0] } ?? [])).map(\.description)
                return Self.redirect(
                    Self.leasePath(row, id) + "?done="
                        + Self.percent("Released \(cidrs.joined(separator: " and ")): it is \(row.state.rawValue)."))
            }
        }
    }

    // MARK: Members

    @Sendable func members(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withSession(request) { session in
            if let refused = refusal(API.Console.members, session, doing: "Seeing a lease's members") {
                return refused
            }
            let id = try context.parameters.require("leaseId")
            return try await rendering(session, notice: Self.parameter(request, "done")) {
                let members = try await service.members(leaseId: id, caller: caller(session))
                let (row, _) = try await service.lease(id: id, scope: nil)
                return (
                    "Members of \(row.prefix)",
                    MembersPage(
                        leaseId: row.leaseId ?? id.lowercased(), cidr: row.prefix.description,
                        members: members.map { ($0.principal, $0.role, $0.addedAt) }, caller: session.caller,
                        csrf: sessions.csrfToken(session), mayAdd: allows(API.Console.addMember, session),
                        mayRemove: allows(API.Console.removeMember, session), isAdmin: session.role >= .admin)
                )
            }
        }
    }

    /// `PUT /api/leases/{leaseId}/members/{principal}` from the form, as the caller.
    @Sendable func addMember(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withPostedForm(MemberForm.self, request) { session, form in
            if let refused = refusal(API.Console.addMember, session, doing: "Adding a member") { return refused }
            let id = try context.parameters.require("leaseId")
            return try await acting(session) {
                var role = MemberRole.member
                if let text = form.role, !text.isEmpty {
                    guard let parsed = MemberRole(rawValue: text), parsed != .owner else {
                        throw VendorError(.invalidField, "'role' must be member or admin", field: "role")
                    }
                    role = parsed
                }
                let principal = (form.principal ?? "").trimmingCharacters(in: .whitespaces)
                let (member, created) = try await service.putMember(
                    leaseId: id, principal: principal, role: role, caller: caller(session))
                let done =
                    created
                    ? "Added \(member.principal) as \(member.role.rawValue)."
                    : "\(member.principal) is \(member.role.rawValue) now."
                return Self.redirect(Self.membersPath(id) + "?done=" + Self.percent(done))
            }
        }
    }

    /// The confirmation of a member's removal: the principal, its role, the lease's CIDR.
    @Sendable func removeMemberPage(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withSession(request) { session in
            if let refused = refusal(API.Console.removeMemberPage, session, doing: "Removing a member") {
                return refused
            }
            let id = try context.parameters.require("leaseId")
            let principal = Self.parameter(request, "principal") ?? ""
            return try await rendering(session) { () async throws -> (String, ConfirmPage<LeasesSection>) in
                let members = try await service.members(leaseId: id, caller: caller(session))
                let (row, _) = try await service.lease(id: id, scope: nil)
                let member = members.first { $0.principal == principal }
                let blocked: String? =
                    switch member?.role {
                    case nil: "\(principal) is not a member of this lease: there is nothing to remove."
                    case .owner?: "\(principal) owns this lease: an owner cannot be removed."
                    default: nil
                    }
                return (
                    "Remove \(principal) from \(row.prefix)?",
                    ConfirmPage(
                        consequence:
                            "\(principal) will no longer be a member of the lease of \(row.prefix); the host address it holds in it goes back with it.",
                        fields: [
                            ConsoleField(name: "CIDR", value: row.prefix.description),
                            ConsoleField(name: "Lease", value: row.leaseId ?? ""),
                            ConsoleField(name: "Principal", value: principal),
                            ConsoleField(name: "Role", value: member?.role.rawValue ?? "none"),
                        ],
                        action: Self.membersPath(id) + "/remove", csrf: sessions.csrfToken(session),
                        hidden: [ConsoleField(name: "principal", value: principal)],
                        button: "Remove \(principal) from \(row.prefix)", cancel: Self.membersPath(id),
                        blocked: blocked)
                )
            }
        }
    }

    /// `DELETE /api/leases/{leaseId}/members/{principal}`, as the caller.
    @Sendable func removeMember(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withPostedForm(PrincipalForm.self, request) { session, form in
            if let refused = refusal(API.Console.removeMember, session, doing: "Removing a member") { return refused }
            let id = try context.parameters.require("leaseId")
            let principal = form.principal ?? ""
            return try await acting(session) {
                let removed = try await service.removeMember(
                    leaseId: id, principal: principal, caller: caller(session))
                let done = removed ? "Removed \(principal)." : "\(principal) was no member: nothing was done."
                return Self.redirect(Self.membersPath(id) + "?done=" + Self.percent(done))
            }
        }
    }

    // MARK: Reservations' confirmation steps

    /// The confirmation of a reservation: the reserve form (sent here by GET) checked as the API checks it, its
    /// CIDR and scope named, and a form that POSTs it to `/console/reservations`.
    @Sendable func reservePage(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withSession(request) { session in
            if let refused = refusal(API.Console.reservePage, session, doing: "Reserving") { return refused }
            let form = ConsoleInput.decode(ReservationForm.self, from: request.uri.query ?? "") ?? ReservationForm()
            let configuration = service.configuration
            var fields: [ConsoleField] = []
            var blocked: String? = nil
            var status = HTTPResponse.Status.ok
            var title = "Reserve?"
            do throws(RequestProblem) {
                let reservation = try RequestValidation.reservation(
                    try form.reserveBody(scopes: configuration.scopes.keys), configuration: configuration,
                    now: service.time.now())
                let cidr = reservation.prefix?.description ?? "a /\(reservation.prefixLength) block"
                title = "Reserve \(cidr)?"
                fields = [
                    ConsoleField(name: "CIDR", value: cidr),
                    ConsoleField(name: "Scope", value: ConsoleScopes.detail(reservation.scope)),
                    ConsoleField(name: "Owner", value: reservation.owner),
                    ConsoleField(name: "Reason", value: reservation.reason),
                    ConsoleField(name: "Expires", value: reservation.expiresAt.map(ISO8601.format) ?? "never"),
                ]
            } catch {
                blocked = "Not reserved: \(error.message)"
                status = VendorError(DomainError.badRequest(error)).status
                fields = [ConsoleField(name: "CIDR", value: form.cidr ?? "")]
            }
            let hidden = [
                ("scope", form.scope), ("cidr", form.cidr), ("owner", form.owner), ("reason", form.reason),
                ("expiresAt", form.expiresAt),
            ].compactMap { name, value in value.flatMap { $0.isEmpty ? nil : ConsoleField(name: name, value: $0) } }
            return page(
                title,
                ConfirmPage<ReservationsSection>(
                    consequence:
                        "A reservation holds the range back from vending until it is released or expires; a range in use cannot be reserved.",
                    fields: fields, action: "/console/reservations", csrf: sessions.csrfToken(session),
                    hidden: hidden, button: "Reserve \(form.cidr ?? "")", cancel: "/console/reservations",
                    blocked: blocked),
                session: session, status: status)
        }
    }

    /// The confirmation of a reservation's end: its CIDR, scope, owner and reason.
    @Sendable func releasePage(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withSession(request) { session in
            if let refused = refusal(API.Console.releasePage, session, doing: "Releasing a reservation") {
                return refused
            }
            let id = try context.parameters.require("reservationId")
            return try await rendering(session) { () async throws -> (String, ConfirmPage<ReservationsSection>) in
                let all = try await service.reservations(in: service.configuration.scopes.keys.sorted())
                guard let found = all.first(where: { $0.0.id.lowercased() == id.lowercased() }) else {
                    throw VendorError(.notFound, "No reservation '\(id)': it was released already, or never made.")
                }
                let (reservation, scope, readOnly) = found
                let cidr = reservation.prefix.description
                return (
                    "Release reservation \(cidr)?",
                    ConfirmPage(
                        consequence:
                            "Releasing the reservation makes \(cidr) free space again: it can be vended or reserved.",
                        fields: [
                            ConsoleField(name: "CIDR", value: cidr),
                            ConsoleField(name: "Scope", value: ConsoleScopes.detail(scope)),
                            ConsoleField(name: "Owner", value: reservation.owner),
                            ConsoleField(name: "Reason", value: reservation.reason),
                            ConsoleField(
                                name: "Expires", value: reservation.expiresAt.map(ISO8601.format) ?? "never"),
                        ],
                        action: "/console/reservations/\(reservation.id)/release", csrf: sessions.csrfToken(session),
                        button: "Release \(cidr)", cancel: "/console/reservations",
                        blocked: readOnly ? "\(cidr) is excluded by configuration (SUPERNETS_CONFIG): read-only." : nil)
                )
            }
        }
    }

    // MARK: Pieces

    /// Whether the session's role is one the API operation `page` performs (`API.Console.performs`) admits.
    func allows(_ page: APIRoute, _ session: ConsoleSession) -> Bool {
        guard let route = API.Console.performs[page], let needed = Role(needed: route.access) else { return false }
        return session.role >= needed
    }

    /// A 403 page when the session's role is below the one the API operation `page` performs needs; nil when
    /// it may.
    func refusal(_ page: APIRoute, _ session: ConsoleSession, doing what: String) -> Response? {
        guard !allows(page, session) else { return nil }
        let route = API.Console.performs[page]
        let needed = route.flatMap { Role(needed: $0.access) }?.description ?? "admin"
        return failure(
            .forbidden,
            "\(what) needs the \(needed) role (as \(route?.description ?? "the API") does); you have \(session.role).",
            session: session)
    }

    /// The buttons a lease's page offers the session: renewing a leased lease, releasing a held one, each when
    /// the session's role is the API's for it and the caller owns the lease or is an admin; the members link while
    /// the lease is held.
    func leaseActions(_ row: NetworkRow, _ session: ConsoleSession) -> LeaseActions {
        let mayChange = VendorService.mayChange(row, by: caller(session))
        let held = [NetworkState.leased, .anchored].contains(row.state)
        return LeaseActions(
            leaseId: row.leaseId ?? "", csrf: sessions.csrfToken(session),
            renewable: row.state == .leased && mayChange && allows(API.Console.renewLease, session),
            releasable: held && mayChange && allows(API.Console.releaseLeasePage, session), held: held)
    }

    /// The signed-in caller as the domain's lease and member checks see it (an admin acts as an admin member).
    func caller(_ session: ConsoleSession) -> HostIPCaller {
        HostIPCaller(principal: service.redactor.principal(session.caller), isAdmin: session.role >= .admin)
    }

    /// A lease's page: by the row's id when it has one, else by the id asked about (lower-cased, as stored).
    static func leasePath(_ row: NetworkRow, _ asked: String) -> String {
        "/console/leases/" + percent(row.leaseId ?? asked.lowercased())
    }

    static func membersPath(_ leaseId: String) -> String {
        "/console/leases/" + percent(leaseId.lowercased()) + "/members"
    }
}
