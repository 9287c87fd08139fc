import Foundation
import HTTPTypes
import Hummingbird
import IPAMCore
import Inventory
import NIOCore
import NetworkMath
import StrictJSON
import TokenAuth
import VendorDomain

/// The operator console at `/console`, served by the Vendor: server-rendered pages over the same service calls
/// as the API, a session instead of a key on every request, and a CSRF token on every form.
///
/// A session is a row in storage (`ConsoleSessionRecord`) named by a signed cookie: signing out deletes it, so
/// no Vendor accepts the cookie again; it ends after `CONSOLE_IDLE_SECONDS` unused and 8 hours after sign-in;
/// and every request looks the key (by its digest) or the token's app roles up again in the configuration the
/// Vendor runs with now, so a key removed or moved to a smaller role loses the session or its powers.
struct ConsoleRoutes: Sendable {
    let service: VendorService
    let keys: APIKeys?
    let tokens: TokenAuthentication?
    let sessions: ConsoleSessions
    /// Slows down failed keys at sign-in as at the API.
    let authenticator: Authenticator

    /// Registers the console's routes. None needs a key at the edge (`consoleSession`): every handler checks
    /// the console session itself (the sign-in pages their form's CSRF nonce), whatever spelling of the path
    /// reached it.
    func add(to routes: VendorRouteTable) {
        routes.add(.get, "/console/signin", .consoleSession, use: signInPage)
        routes.add(.post, "/console/signin", .consoleSession, use: signIn)
        routes.add(.post, "/console/signout", .consoleSession, use: signOut)
        routes.add(.get, "/console", .consoleSession, use: dashboard)
        routes.add(.get, "/console/space", .consoleSession, use: space)
        routes.add(.get, "/console/leases", .consoleSession, use: leases)
        routes.add(.get, "/console/leases.csv", .consoleSession, use: leasesCSV)
        routes.add(.get, "/console/leases/{leaseId}", .consoleSession, use: lease)
        routes.add(.get, "/console/reservations", .consoleSession, use: reservations)
        routes.add(.post, "/console/reservations", .consoleSession, use: reserve)
        routes.add(.post, "/console/reservations/{reservationId}/release", .consoleSession, use: release)
        routes.add(.get, "/console/audit", .consoleSession, use: audit)
        routes.add(.get, "/console/drift", .consoleSession, use: drift)
    }

    // MARK: Sign-in

    @Sendable func signInPage(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        let nonce = ConsoleSessions.randomID()
        let values = [
            "csrf": sessions.csrfToken(nonce: nonce), "hours": String(Int(ConsoleSession.lifetime / 3600)),
            "idleMinutes": String(Int(sessions.idleTimeout / 60)),
        ]
        let notice = request.uri.queryParameters.get("signedout") != nil ? "Signed out." : nil
        var response = page("Sign in", "signin", values, session: nil, notice: notice)
        response.headers.append(
            HTTPField(name: .setCookie, value: cookie(ConsoleSession.signInCookieName, nonce, maxAge: 600)))
        return response
    }

    @Sendable func signIn(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        let form = try await Self.form(request)
        guard let nonce = Self.cookies(request)[ConsoleSession.signInCookieName],
            sessions.checkCSRF(form["csrf"], nonce: nonce)
        else {
            return failure(
                .forbidden, "The sign-in form expired or was not this console's: load it again.", session: nil)
        }
        let key = (form["key"] ?? "").trimmingCharacters(in: .whitespaces)
        let now = service.time.now()
        var expires = now.addingTimeInterval(ConsoleSession.lifetime)
        let credential: ConsoleCredential
        if keys == nil && tokens == nil {
            credential = .open // --insecure-no-auth
        } else if keys?.authenticate(key) != nil {
            credential = .key(digest: APIKeys.digest(key))
        } else if let tokens, BearerTokenVerifier.looksLikeToken(key) {
            let caller: String
            do { (caller, _) = try await tokens.authenticate(key) } catch {
                if error.code == .unauthorized { await authenticator.refused(from: context.clientAddress) }
                return failure(
                    error.status, "Not signed in: \(error.message)", session: nil,
                    template: ("signin", ["csrf": form["csrf"] ?? ""]))
            }
            let claims = Self.tokenClaims(key)
            let appRoles = claims?["roles"]?.arrayValue?.compactMap(\.stringValue) ?? []
            credential = .token(issuer: tokens.verifier.issuer, caller: caller, appRoles: appRoles)
            // A session never outlives the token it was made from.
            if case .number(let text)? = claims?["exp"], let seconds = Double(text) {
                expires = min(expires, Date(timeIntervalSince1970: seconds))
            }
        } else {
            await authenticator.refused(from: context.clientAddress)
            return failure(
                .unauthorized, "Not signed in: that is not a valid key.", session: nil,
                template: ("signin", ["csrf": form["csrf"] ?? ""]))
        }
        let (id, value) = sessions.newSession()
        let record = ConsoleSessionRecord(
            idDigest: ConsoleSessions.digest(ofSessionID: id), sealed: sessions.seal(credential), createdAt: now,
            expiresAt: expires, lastSeenAt: now)
        var effort = VendorService.Effort()
        do {
            try await service.storage(&effort) { () async throws(InventoryError) in
                try await service.inventory.insert(record)
            }
        } catch {
            return failure(VendorError(error).status, "Not signed in: \(error.message)", session: nil)
        }
        // Sessions that ended without a sign-out are deleted a few at a time, as others sign in.
        _ = try? await service.inventory.purgeConsoleSessions(
            now: now, idleSince: now.addingTimeInterval(-sessions.idleTimeout), limit: 20)
        var response = Self.redirect("/console")
        let maxAge = Int(expires.timeIntervalSince(now))
        response.headers.append(
            HTTPField(name: .setCookie, value: cookie(ConsoleSession.cookieName, value, maxAge: maxAge)))
        response.headers.append(
            HTTPField(name: .setCookie, value: cookie(ConsoleSession.signInCookieName, "", maxAge: 0)))
        return response
    }

    /// Ends the session for every Vendor: its row is deleted, so the cookie and its CSRF token open nothing again.
    @Sendable func signOut(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withPostedForm(request) { session, _ in
            var effort = VendorService.Effort()
            do throws(DomainError) {
                try await service.storage(&effort) { () async throws(InventoryError) in
                    try await service.inventory.deleteConsoleSession(ConsoleSessions.digest(ofSessionID: session.id))
                }
            } catch {
                return failure(
                    VendorError(error).status, "Not signed out (you still are signed in): \(error.message)",
                    session: session)
            }
            var response = Self.redirect("/console/signin?signedout=1")
            response.headers.append(
                HTTPField(name: .setCookie, value: cookie(ConsoleSession.cookieName, "", maxAge: 0)))
            return response
        }
    }

    // MARK: Pages

    @Sendable func dashboard(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withSession(request) { session in
            return try await rendering(session) {
                let pools = try await service.pools()
                var scopes: [[String: Any]] = []
                for (index, report) in pools.enumerated() {
                    let (sizes, free, largest) = (report.sizes, report.freeAddresses, report.largestFreePrefixLength)
                    var byState: [String: Double] = [:]
                    for (size, counts) in sizes where size.version == .v4 { // the bar shows IPv4 space
                        for (state, count) in counts {
                            byState[state.rawValue, default: 0] += Double(count) * size.addresses
                        }
                    }
                    byState["free"] = Double(free)
                    let order = [
                        "leased", "anchored", "quarantined", "released", "expired", "available", "occupied", "reserved",
                        "free",
                    ]
                    let total = max(byState.values.reduce(0, +), 1)
                    let targets = report.stockTargets
                    scopes.append([
                        "index": index, "scope": report.label, "freeAddresses": String(free),
                        "largest": largest == 0 ? "-" : String(largest),
                        "bar": ConsoleCharts.stackedBar(order.map { ($0, byState[$0] ?? 0) }, unit: "addresses"),
                        "states": order.filter { (byState[$0] ?? 0) > 0 }.map {
                            [
                                "name": $0, "addresses": String(Int(byState[$0]!)),
                                "share": String(format: "%.1f %%", byState[$0]! / total * 100),
                            ]
                        },
                        "sizes": Set(sizes.keys).union(targets.keys).sorted().map { size -> [String: Any] in
                            let counts = sizes[size] ?? [:]
                            return [
                                "length": size.version == .v4 ? "/\(size.length)" : "IPv6 /\(size.length)",
                                "available": counts[.available] ?? 0,
                                "target": targets[size].map { String($0) } ?? "-", "leased": counts[.leased] ?? 0,
                                "anchored": counts[.anchored] ?? 0, "quarantined": counts[.quarantined] ?? 0,
                            ]
                        },
                    ])
                }
                // Leases created, from the audit trail of the last 7 days.
                let now = service.time.now()
                var filter = EventFilter(
                    since: now.addingTimeInterval(-7 * 86400), until: now,
                    actions: [AuditAction.lease.rawValue, AuditAction.carveLease.rawValue])
                filter.leaseId = nil
                let created = try await service.events(
                    in: service.configuration.scopes.keys.sorted(), matching: filter, limit: 1000, from: nil
                ).events.compactMap(\.0.at)
                let hourly = (0..<24).reversed().map { hoursAgo -> (String, Int) in
                    let end = now.addingTimeInterval(Double(-hoursAgo) * 3600)
                    let start = end.addingTimeInterval(-3600)
                    return (
                        String(ISO8601.format(start).dropFirst(11).prefix(5)),
                        created.filter { $0 > start && $0 <= end }.count
                    )
                }
                let daily = (0..<7).reversed().map { daysAgo -> (String, Int) in
                    let end = now.addingTimeInterval(Double(-daysAgo) * 86400)
                    let start = end.addingTimeInterval(-86400)
                    return (String(ISO8601.format(start).prefix(10)), created.filter { $0 > start && $0 <= end }.count)
                }
                let held = try await service.leases(
                    in: service.configuration.scopes.keys.sorted(),
                    matching: LeaseFilter(states: [.leased, .anchored]), limit: 1000, from: nil
                ).leases
                var byRequester: [String: Int] = [:]
                for (row, _) in held { byRequester[row.requester ?? "(none)", default: 0] += 1 }
                let top = byRequester.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(10).map {
                    ["name": $0.key, "count": $0.value] as [String: Any]
                }
                var values: [String: Any] = [
                    "scopes": scopes, "hourly": ConsoleCharts.line(hourly), "daily": ConsoleCharts.line(daily),
                    "dayTotal": hourly.map(\.1).reduce(0, +), "weekTotal": daily.map(\.1).reduce(0, +),
                    "requesters": Array(top), "dashboard": true,
                ]
                // absent, not nil: Mustache renders a boxed nil
                if let manager = try await managerFields() { values["manager"] = manager }
                return ("Dashboard", "dashboard", values)
            }
        }
    }

    @Sendable func space(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withSession(request) { session in
            return try await rendering(session) {
                let scopes = service.configuration.scopes.keys.sorted()
                let chosen =
                    request.uri.queryParameters.get("scope").flatMap { name in
                        scopes.first { $0.partitionKey == name.lowercased() }
                    } ?? service.configuration.defaultScope
                guard let space = service.configuration.scopes[chosen] else {
                    throw VendorError(.unknownScope, "no such scope")
                }
                var effort = VendorService.Effort()
                let rows = try await service.storage(&effort) { () async throws(InventoryError) in
                    try await service.inventory.networks(in: chosen).map(\.value)
                }
                let reservations = try await service.reservations(in: [chosen])
                var supernets: [[String: Any]] = []
                // Each supernet, then each pool of the scope (parents before children): a bar each.
                let pools = service.configuration.pools.pools.values.filter { $0.scope == chosen }
                    .sorted {
                        (service.configuration.pools.lineage($0.name).count, $0.prefix) < (
                            service.configuration.pools.lineage($1.name).count, $1.prefix
                        )
                    }
                let ranges =
                    space.supernets.map { ($0.description, $0) }
                    + pools.map { ("pool \($0.name): \($0.prefix)", $0.prefix) }
                for (index, (label, supernet)) in ranges.enumerated() {
                    let inside = rows.filter { supernet.contains($0.prefix) }
                    let excluded = space.exclude.filter { supernet.overlaps($0) }
                    var blocks: [(prefix: IPPrefix, state: String, tooltip: String, row: NetworkRow?, why: String)] =
                        inside.map { row in
                            var tip = "\(row.prefix) \(row.state.rawValue)"
                            if let lease = row.leaseId { tip += ", lease \(lease)" }
                            if let requester = row.requester { tip += ", requester \(requester)" }
                            if let expires = row.expiresAt, row.state == .leased {
                                tip += ", expires \(ISO8601.format(expires))"
                            }
                            if let holder = row.lockedBy ?? row.resourceId { tip += ", \(holder)" }
                            let why: String
                            switch row.state {
                            case .reserved:
                                why =
                                    "reserved"
                                    + (reservations.first { $0.0.prefix == row.prefix }.map {
                                        ": \($0.0.reason) (\($0.0.owner))"
                                    } ?? "")
                            case .occupied:
                                why =
                                    "occupied by a VNet ipam does not manage" + (row.lockedBy.map { " (\($0))" } ?? "")
                            case .available: why = ""
                            default: why = "held"
                            }
                            return (row.prefix, row.state.rawValue, tip, row, why)
                        }
                    blocks += excluded.map {
                        ($0, "excluded", "\($0) excluded by configuration", nil, "excluded (SUPERNETS_CONFIG)")
                    }
                    let covered = blocks.map(\.prefix)
                    blocks += FreeSpace.freeBlocks(in: supernet, occupied: covered).map {
                        ($0, "free", "\($0) free, not carved yet", nil, "")
                    }
                    blocks.sort { $0.prefix < $1.prefix }
                    let marks = blocks.map { ($0.prefix, $0.state, $0.tooltip) }
                    var bar = ConsoleCharts.addressBar(supernet: supernet, blocks: marks)
                    if let zoom = ConsoleCharts.zoom(supernet: supernet, blocks: marks) {
                        let inZoom = marks.filter { zoom.contains($0.0) }
                        bar +=
                            "<p>Zoomed to \(zoom), where every block in use lies:</p>"
                            + ConsoleCharts.addressBar(supernet: zoom, blocks: inZoom)
                    }
                    supernets.append([
                        "index": index, "cidr": label, "bar": bar,
                        "blocks": blocks.prefix(2000).map { block -> [String: Any] in
                            [
                                "cidr": block.prefix.description, "state": block.state,
                                "leaseId": block.row?.leaseId ?? "", "requester": block.row?.requester ?? "",
                                "expires": block.row.flatMap { $0.state == .leased ? $0.expiresAt : nil }.map(
                                    ISO8601.format) ?? "", "why": block.why,
                            ]
                        },
                    ])
                }
                return (
                    "Address space of \(chosen.partitionKey)", "space",
                    [
                        "supernets": supernets, "space": true,
                        "scopeOptions": scopes.map { ["value": $0.partitionKey, "selected": $0 == chosen] },
                    ]
                )
            }
        }
    }

    @Sendable func leases(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withSession(request) { session in
            return try await rendering(session) {
                let (scopes, filter, parameters) = try leaseQuery(request)
                let cursor = request.uri.queryParameters.get("continuation").flatMap { LeaseCursor(token: String($0)) }
                let page = try await service.leases(in: scopes, matching: filter, limit: 50, from: cursor)
                let rows = page.leases.map { row, scope -> [String: Any] in
                    var fields: [String: Any] = [
                        "cidr": row.blocks.primary.description, "state": row.state.rawValue,
                        "leaseId": row.leaseId ?? "", "sessionId": row.sessionId ?? "",
                        "scope": scope.partitionKey,
                        "expiresAt": row.state == .leased ? row.expiresAt.map(ISO8601.format) ?? "" : "",
                    ]
                    // a dual-stack lease's IPv6 block, under its IPv4 one
                    if let v6 = row.blocks.v6 { fields["cidrV6"] = v6.description }
                    return fields
                }
                let query = Self.encode(parameters)
                let chosenScope = parameters.first { $0.0 == "scope" }?.1.lowercased()
                var values: [String: Any] = [
                    "rows": rows, "count": rows.count, "leases": true, "query": query,
                    "scopeOptions": service.configuration.scopes.keys.sorted().map {
                        ["value": $0.partitionKey, "selected": $0.partitionKey == chosenScope]
                    },
                    "stateOptions": NetworkState.allCases.map { state in
                        ["value": state.rawValue, "selected": filter.states == [state]]
                    },
                    "requester": filter.requester ?? "", "tag": parameters.first { $0.0 == "tag" }?.1 ?? "",
                    "within": parameters.first { $0.0 == "within" }?.1 ?? "",
                ]
                if let next = page.next { values["next"] = Self.encode(parameters + [("continuation", next.token)]) }
                return ("Leases", "leases", values)
            }
        }
    }

    @Sendable func leasesCSV(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withSession(request) { _ in try await leasesCSV(request) }
    }

    func leasesCSV(_ request: Request) async throws -> Response {
        let (scopes, filter, _) = try leaseQuery(request)
        var lines = ["cidr,state,leaseId,sessionId,scope,requester,leasedAt,expiresAt,anchoredAt,resourceId,cidrV6"]
        var cursor: LeaseCursor? = nil
        repeat {
            let page = try await service.leases(in: scopes, matching: filter, limit: 1000, from: cursor)
            for (row, scope) in page.leases {
                let cells = [
                    row.blocks.primary.description, row.state.rawValue, row.leaseId ?? "", row.sessionId ?? "",
                    scope.partitionKey, row.requester ?? "",
                    row.leasedAt.map(ISO8601.format) ?? "",
                    row.state == .anchored ? "" : row.expiresAt.map(ISO8601.format) ?? "",
                    row.anchoredAt.map(ISO8601.format) ?? "", row.resourceId ?? "", row.blocks.v6?.description ?? "",
                ]
                lines.append(cells.map(Self.csvCell).joined(separator: ","))
            }
            cursor = page.next
        } while cursor != nil && lines.count < 100_000
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"ipam-leases.csv\""
        headers[.cacheControl] = "no-store"
        return Response(
            status: .ok, headers: headers,
            body: .init(byteBuffer: ByteBuffer(string: lines.joined(separator: "\r\n") + "\r\n")))
    }

    @Sendable func lease(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withSession(request) { session in
            let id = try context.parameters.require("leaseId")
            return try await rendering(session) {
                let (row, scope) = try await service.lease(id: id, scope: nil)
                var filter = EventFilter()
                filter.leaseId = id
                let events = try await service.events(in: [scope], matching: filter, limit: 200, from: nil).events
                let fields: [(String, String)] =
                    [("Lease", row.leaseId ?? ""), ("CIDR", row.prefix.description)]
                    + (row.partnerPrefix.map { [("IPv6 CIDR", $0.description)] } ?? []) + [
                        ("State", row.state.rawValue), ("Scope", scope.partitionKey),
                        ("Session", row.sessionId ?? ""), ("Requester", row.requester ?? ""),
                        ("Leased at", row.leasedAt.map(ISO8601.format) ?? ""),
                        ("Expires", row.state == .leased ? row.expiresAt.map(ISO8601.format) ?? "" : ""),
                        ("VNet", row.resourceId ?? ""),
                    ]
                return (
                    "Lease \(row.prefix)", "lease",
                    [
                        "fields": fields.map { ["name": $0.0, "value": $0.1] }, "leases": true,
                        "events": events.map { Self.eventFields($0.0) },
                    ]
                )
            }
        }
    }

    @Sendable func reservations(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withSession(request) { session in
            return try await rendering(session, notice: Self.parameter(request, "done")) {
                let items = try await service.reservations(in: service.configuration.scopes.keys.sorted())
                let admin = session.role >= .admin
                let csrf = sessions.csrfToken(session)
                return (
                    "Reservations", "reservations",
                    [
                        "admin": admin, "csrf": csrf, "reservations": true,
                        "scopeOptions": service.configuration.scopes.keys.sorted().map { ["value": $0.partitionKey] },
                        "rows": items.map { reservation, scope, readOnly -> [String: Any] in
                            [
                                "cidr": reservation.prefix.description, "scope": scope.partitionKey,
                                "owner": reservation.owner, "reason": reservation.reason,
                                "expiresAt": reservation.expiresAt.map(ISO8601.format) ?? "", "readOnly": readOnly,
                                "releasable": admin && !readOnly, "id": reservation.id, "csrf": csrf,
                            ]
                        },
                    ]
                )
            }
        }
    }

    @Sendable func reserve(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withPostedForm(request) { session, form in
            guard session.role >= .admin else {
                return failure(
                    .forbidden, "Reserving needs the admin role; you have \(session.role).", session: session)
            }
            var fields: [(String, JSONValue)] = []
            for (name, key) in [("cidr", "cidr"), ("owner", "owner"), ("reason", "reason"), ("expiresAt", "expiresAt")]
            {
                if let value = form[key], !value.isEmpty { fields.append((name, .string(value))) }
            }
            if let scope = form["scope"].flatMap({ name in
                service.configuration.scopes.keys.first { $0.partitionKey == name }
            }) {
                fields += [("subscriptionId", .string(scope.subscriptionId)), ("region", .string(scope.region))]
            }
            return try await acting(session) {
                let reservation = try ReservationRequest.decode(
                    JSONValue.object(fields).serializedBytes, configuration: service.configuration,
                    now: service.time.now())
                let (made, _) = try await service.reserve(reservation, caller: session.caller)
                return Self.redirect("/console/reservations?done=" + Self.percent("Reserved \(made.prefix)."))
            }
        }
    }

    @Sendable func release(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withPostedForm(request) { session, _ in
            guard session.role >= .admin else {
                return failure(
                    .forbidden, "Releasing a reservation needs the admin role; you have \(session.role).",
                    session: session)
            }
            let id = try context.parameters.require("reservationId")
            return try await acting(session) {
                let ended = try await service.unreserve(id: id)
                return Self.redirect(
                    "/console/reservations?done="
                        + Self.percent(ended.map { "Released \($0.0.prefix)." } ?? "Nothing to release."))
            }
        }
    }

    @Sendable func audit(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withSession(request) { session in
            return try await rendering(session) {
                var filter = EventFilter()
                var parameters: [(String, String)] = []
                if let action = Self.parameter(request, "action"), !action.isEmpty {
                    guard AuditAction(rawValue: action) != nil else {
                        throw VendorError(.invalidQuery, "'\(action)' is not an action")
                    }
                    filter.actions = [action]
                    parameters.append(("action", action))
                }
                if let actor = Self.parameter(request, "actor"), !actor.isEmpty {
                    filter.actor = actor
                    parameters.append(("actor", actor))
                }
                if let lease = Self.parameter(request, "leaseId"), !lease.isEmpty {
                    guard UUID(uuidString: lease) != nil else {
                        throw VendorError(.invalidQuery, "'\(lease)' is not a lease id")
                    }
                    filter.leaseId = lease
                    parameters.append(("leaseId", lease))
                }
                let cursor = request.uri.queryParameters.get("continuation").flatMap {
                    LeaseCursor(token: String($0), rowPrefix: RowKeys.eventPrefix)
                }
                let page = try await service.events(
                    in: service.configuration.scopes.keys.sorted(), matching: filter, limit: 50, from: cursor)
                var values: [String: Any] = [
                    "rows": page.events.map { Self.eventFields($0.0) }, "count": page.events.count, "audit": true,
                    "actionOptions": AuditAction.allCases.map {
                        ["value": $0.rawValue, "selected": filter.actions == [$0.rawValue]]
                    },
                    "actor": filter.actor ?? "", "leaseId": filter.leaseId ?? "",
                ]
                if let next = page.next { values["next"] = Self.encode(parameters + [("continuation", next.token)]) }
                return ("Audit log", "audit", values)
            }
        }
    }

    @Sendable func drift(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withSession(request) { session in
            return try await rendering(session) {
                var effort = VendorService.Effort()
                let status = try await service.storage(&effort) { () async throws(InventoryError) in
                    try await service.inventory.managerStatus()
                }
                let findings = (status?.drift ?? []).map {
                    ["kind": $0.kind, "scope": $0.scope, "cidr": $0.cidr, "detail": $0.detail]
                }
                var values: [String: Any] = ["findings": findings, "count": findings.count, "drift": true]
                if let manager = try await managerFields() { values["manager"] = manager }
                return ("Drift", "drift", values)
            }
        }
    }

    // MARK: Pieces

    /// The Manager's last status for a page, nil before its first run.
    func managerFields() async throws -> [String: Any]? {
        var effort = VendorService.Effort()
        guard
            let status = try await service.storage(
                &effort, { () async throws(InventoryError) in try await service.inventory.managerStatus() })
        else { return nil }
        return [
            "runAt": ISO8601.format(status.runAt),
            "lastComplete": status.lastCompleteSyncAt.map(ISO8601.format) ?? "never", "driftCount": status.drift.count,
            "completeText": status.complete
                ? "its listing was complete" : "its listing was incomplete: nothing was released",
            "problems": status.problems,
        ]
    }

    /// The lease filters of a Leases page or its CSV, and the query that reproduces them.
    func leaseQuery(_ request: Request) throws(VendorError) -> ([Scope], LeaseFilter, [(String, String)]) {
        var scopes = service.configuration.scopes.keys.sorted()
        var filter = LeaseFilter()
        var parameters: [(String, String)] = []
        if let scope = Self.parameter(request, "scope"), !scope.isEmpty {
            scopes = scopes.filter { $0.partitionKey == scope.lowercased() }
            parameters.append(("scope", scope))
        }
        if let state = Self.parameter(request, "state"), !state.isEmpty {
            guard let parsed = NetworkState(rawValue: state) else {
                throw VendorError(.invalidQuery, "'\(state)' is not a state")
            }
            filter.states = [parsed]
            parameters.append(("state", state))
        }
        if let requester = Self.parameter(request, "requester"), !requester.isEmpty {
            filter.requester = requester
            parameters.append(("requester", requester))
        }
        if let tag = Self.parameter(request, "tag") {
            let parts = tag.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            filter.tag = (parts[0], parts.count == 2 ? parts[1] : nil)
            parameters.append(("tag", tag))
        }
        if let within = Self.parameter(request, "within"), !within.isEmpty {
            do { filter.within = try IPPrefix.parseNormalising(within).prefix } catch {
                throw VendorError(.invalidQuery, "\(error)")
            }
            parameters.append(("within", within))
        }
        return (scopes, filter, parameters)
    }

    static func eventFields(_ event: AuditEvent) -> [String: Any] {
        [
            "at": event.at.map(ISO8601.format) ?? "", "action": event.action.rawValue, "actor": event.actor,
            "cidr": event.cidr,
            "before": event.before?.rawValue ?? "–",
            "after": event.after?.rawValue ?? "–", "leaseId": event.leaseId, "detail": event.detail,
            "requestId": event.requestId ?? "",
        ]
    }

    /// The session a request's cookie names, with the role its key or token has now; nil when there is none: no
    /// cookie, a forged one, signed out, past its end, unused longer than the idle timeout, or a key or token
    /// that no longer gives a role (a session found ended is deleted). Throws when storage does not answer.
    func session(_ request: Request) async throws(DomainError) -> ConsoleSession? {
        guard let cookie = Self.cookies(request)[ConsoleSession.cookieName], let id = sessions.sessionID(cookie: cookie)
        else { return nil }
        let digest = ConsoleSessions.digest(ofSessionID: id)
        let inventory = service.inventory
        var effort = VendorService.Effort()
        let stored = try await service.storage(&effort) { () async throws(InventoryError) in
            try await inventory.consoleSession(digest)
        }
        guard let record = stored else { return nil }
        let now = service.time.now()
        let idle = now.timeIntervalSince(record.lastSeenAt)
        guard record.expiresAt > now, idle <= sessions.idleTimeout, let credential = sessions.open(record.sealed),
            let current = current(credential)
        else {
            try await service.storage(&effort) { () async throws(InventoryError) in
                try await inventory.deleteConsoleSession(digest)
            }
            return nil
        }
        if idle >= sessions.touchInterval {
            // Signed out meanwhile (the row went between the read and this write): no session.
            let touched = try await service.storage(&effort) { () async throws(InventoryError) in
                try await inventory.touchConsoleSession(digest, at: now)
            }
            guard touched else { return nil }
        }
        return ConsoleSession(caller: current.caller, role: current.role, expires: record.expiresAt, id: id)
    }

    /// Who a session's credential names and the role it gives, in the configuration this Vendor runs with now;
    /// nil when it gives none (a key removed, a token issuer no longer trusted, app roles no longer mapped).
    func current(_ credential: ConsoleCredential) -> (caller: String, role: Role)? {
        switch credential {
        case .key(let digest):
            return keys?.authenticate(digest: digest)
        case .token(let issuer, let caller, let appRoles):
            guard let tokens, tokens.verifier.issuer == issuer,
                let role = appRoles.compactMap({ tokens.roleMap[$0] }).max()
            else { return nil }
            return (caller, role)
        case .open:
            return keys == nil && tokens == nil ? ("anonymous", .admin) : nil
        }
    }

    /// Runs `page` with the request's session; without one the browser is sent to sign in (and a cookie that
    /// names no session is dropped); a storage failure is an error page.
    func withSession(_ request: Request, _ page: (ConsoleSession) async throws -> Response) async throws -> Response {
        let found: ConsoleSession?
        do { found = try await session(request) } catch {
            return failure(VendorError(error).status, error.message, session: nil)
        }
        guard let found else {
            var response = Self.redirect("/console/signin")
            if Self.cookies(request)[ConsoleSession.cookieName] != nil {
                response.headers.append(
                    HTTPField(name: .setCookie, value: cookie(ConsoleSession.cookieName, "", maxAge: 0)))
            }
            return response
        }
        return try await page(found)
    }

    /// Runs `action` with a POSTed form and its session, when the form carries that session's CSRF token; refused
    /// (403, nothing done) otherwise.
    func withPostedForm(_ request: Request, _ action: (ConsoleSession, [String: String]) async throws -> Response)
        async throws -> Response
    {
        let form = try await Self.form(request)
        let found: ConsoleSession?
        do { found = try await session(request) } catch {
            return failure(VendorError(error).status, error.message, session: nil)
        }
        guard let found, sessions.checkCSRF(form["csrf"], nonce: found.id) else {
            return failure(
                .forbidden, "The form's security token is missing or stale, or the session ended: nothing was done.",
                session: nil)
        }
        return try await action(found, form)
    }

    /// Renders a page whose content `build` makes; a refusal becomes an error page with its status.
    func rendering(
        _ session: ConsoleSession, notice: String? = nil, _ build: () async throws -> (String, String, [String: Any])
    ) async throws -> Response {
        do {
            let (title, template, values) = try await build()
            return page(title, template, values, session: session, notice: notice)
        } catch let error as VendorError {
            return failure(error.status, error.message, session: session)
        } catch let error as DomainError {
            return failure(VendorError(error).status, error.message, session: session)
        }
    }

    /// Runs a change as the session's caller (its audit events name it), a refusal as an error page.
    func acting(_ session: ConsoleSession, _ body: () async throws -> Response) async throws -> Response {
        do {
            return try await AuditContext.$current.withValue(
                AuditContext(
                    actor: service.redactActors ? service.redactor.principal(session.caller).key : session.caller,
                    requestId: UUID().uuidString.lowercased())
            ) { try await body() }
        } catch let error as VendorError {
            return failure(error.status, error.message, session: session)
        } catch let error as DomainError {
            return failure(VendorError(error).status, error.message, session: session)
        }
    }

    func page(
        _ title: String, _ template: String, _ values: [String: Any], session: ConsoleSession?, notice: String? = nil,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        let body = ConsoleTemplates.library.render(values, withTemplate: template) ?? ""
        var layout: [String: Any] = ["title": title, "body": body]
        if let notice { layout["notice"] = notice }
        if let session {
            var flags: [String: Any] = [
                "caller": session.caller, "role": session.role.description, "csrf": sessions.csrfToken(session),
            ]
            for key in ["dashboard", "space", "leases", "reservations", "audit", "drift"] where values[key] != nil {
                flags[key] = true
            }
            layout["session"] = flags
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("Content-Security-Policy")!] =
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return Response(
            status: status, headers: headers,
            body: .init(
                byteBuffer: ByteBuffer(string: ConsoleTemplates.library.render(layout, withTemplate: "layout") ?? "")))
    }

    func failure(
        _ status: HTTPResponse.Status, _ message: String, session: ConsoleSession?,
        template: (String, [String: Any])? = nil
    ) -> Response {
        if let (name, values) = template {
            return page("Sign in", name, values, session: session, notice: message, status: status)
        }
        return page(
            status.code == 403 ? "Not allowed" : "Something went wrong", "error", ["message": message],
            session: session, status: status)
    }

    /// A console cookie: `Secure` unless the Vendor is configured for plain-http local use (`CONSOLE_PLAIN_HTTP`),
    /// whatever the request says about its scheme.
    func cookie(_ name: String, _ value: String, maxAge: Int) -> String {
        "\(name)=\(value); Path=/console; Max-Age=\(max(0, maxAge)); HttpOnly; SameSite=Strict"
            + (sessions.plainHTTP ? "" : "; Secure")
    }

    /// A query parameter's value, nil when absent or empty.
    static func parameter(_ request: Request, _ name: String) -> String? {
        request.uri.queryParameters.get(name).flatMap { $0.isEmpty ? nil : String($0) }
    }

    static func redirect(_ location: String) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        headers[.cacheControl] = "no-store"
        return Response(status: .seeOther, headers: headers)
    }

    static func cookies(_ request: Request) -> [String: String] {
        var found: [String: String] = [:]
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let pair = part.trimmingCharacters(in: .whitespaces)
                guard let equals = pair.firstIndex(of: "=") else { continue }
                found[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
        }
        return found
    }

    /// An `application/x-www-form-urlencoded` body (at most 16 KiB).
    static func form(_ request: Request) async throws -> [String: String] {
        var buffer = try await request.body.collect(upTo: 16 * 1024)
        let text = buffer.readString(length: buffer.readableBytes) ?? ""
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        return fields
    }

    static func percent(_ text: String) -> String {
        text.addingPercentEncoding(
            withAllowedCharacters: CharacterSet(
                charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")) ?? ""
    }

    static func encode(_ parameters: [(String, String)]) -> String {
        parameters.map { percent($0.0) + "=" + percent($0.1) }.joined(separator: "&")
    }

    static func csvCell(_ text: String) -> String {
        // Quoted when needed; a leading = + - @ is prefixed so a spreadsheet never runs it as a formula.
        var cell = text
        if let first = cell.first, "=+-@".contains(first) { cell = "'" + cell }
        return cell.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline })
            ? "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : cell
    }

    /// The claims of a token the verifier has just accepted (for its `exp` and app roles).
    static func tokenClaims(_ token: String) -> JSONValue? {
        let parts = token.split(separator: ".")
        guard parts.count == 3, let data = BearerTokenVerifier.base64URL(String(parts[1])) else { return nil }
        return try? JSONValue.parse(Array(data))
    }
}
