import CSVFormat
import Foundation
import HTTPTypes
import Hummingbird
import IPAMCore
import Inventory
import NIOCore
import NetworkMath
import StrictJSON
import TokenAuth
import VendorAPI
import VendorDomain
import VendorHTTP

/// The operator console at `/console`, served by the Vendor: server-rendered pages over the same service calls
/// as the API, a session instead of a key on every request, and a CSRF token on every form.
///
/// A session is a row in storage (`ConsoleSessionRecord`) named by a signed cookie: signing out deletes it, so
/// no Vendor accepts the cookie again; it ends after `CONSOLE_IDLE_SECONDS` unused and 8 hours after sign-in;
/// and every request looks the key (by its digest) or the token's app roles up again in the configuration the
/// Vendor runs with now, so a key removed or moved to a smaller role loses the session or its powers.
struct ConsoleRoutes: Sendable {
    let service: VendorService
    let sessions: ConsoleSessions
    /// The edge's: the keys and tokens a session's credential is looked up in, and the throttle that slows down
    /// failed keys at sign-in as at the API.
    let authenticator: Authenticator
    /// The API keys the Vendor accepts now (nil with authentication off).
    var keys: APIKeys? { authenticator.keys }
    /// The bearer tokens the Vendor accepts now, when an issuer is configured.
    var tokens: TokenAuthentication? { authenticator.tokens }

    /// Registers the console's routes. None needs a key at the edge (`consoleSession`): every handler checks
    /// the console session itself (the sign-in pages their form's CSRF nonce), whatever spelling of the path
    /// reached it.
    func add(to routes: VendorRouteTable) {
        routes.add(API.Console.signInPage, use: signInPage)
        routes.add(API.Console.signIn, use: signIn)
        routes.add(API.Console.signOut, use: signOut)
        routes.add(API.Console.dashboard, use: dashboard)
        routes.add(API.Console.space, use: space)
        routes.add(API.Console.pools, use: pools)
        routes.add(API.Console.leases, use: leases)
        routes.add(API.Console.leasesCSV, use: leasesCSV)
        routes.add(API.Console.lease, use: lease)
        routes.add(API.Console.reservations, use: reservations)
        routes.add(API.Console.reserve, use: reserve)
        routes.add(API.Console.release, use: release)
        routes.add(API.Console.audit, use: audit)
        routes.add(API.Console.drift, use: drift)
        routes.add(API.Console.script, use: script)
        addFlows(to: routes)
    }

    // MARK: Sign-in

    @Sendable func signInPage(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        let nonce = ConsoleSessions.randomID()
        let notice = request.uri.queryParameters.get("signedout") != nil ? "Signed out." : nil
        var response = page("Sign in", signInPage(csrf: sessions.csrfToken(nonce: nonce)), session: nil, notice: notice)
        response.headers.append(
            HTTPField(name: .setCookie, value: cookie(ConsoleSession.signInCookieName, nonce, maxAge: 600)))
        return response
    }

    @Sendable func signIn(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        let form = try await ConsoleInput.form(SignInForm.self, from: request)
        guard let form, let nonce = ConsoleInput.cookie(ConsoleSession.signInCookieName, in: request),
            sessions.checkCSRF(form.csrf, nonce: nonce)
        else {
            return failure(
                .forbidden, "The sign-in form expired or was not this console's: load it again.", session: nil)
        }
        let key = (form.key ?? "").trimmingCharacters(in: .whitespaces)
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
                return signInFailure(error.status, "Not signed in: \(error.message)", csrf: form.csrf)
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
            return signInFailure(.unauthorized, "Not signed in: that is not a valid key.", csrf: form.csrf)
        }
        let (id, value) = sessions.newSession()
        let record = ConsoleSessionRecord(
            idDigest: ConsoleSessions.digest(ofSessionID: id), sealed: sessions.seal(credential), createdAt: now,
            expiresAt: expires, lastSeenAt: now)
        do { try await service.startConsoleSession(record) } catch {
            return failure(VendorError(error).status, "Not signed in: \(error.message)", session: nil)
        }
        // Sessions that ended without a sign-out are deleted a few at a time, as others sign in.
        await service.purgeEndedConsoleSessions(
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
        try await withPostedForm(TokenForm.self, request) { session, _ in
            do throws(DomainError) {
                try await service.endConsoleSession(ConsoleSessions.digest(ofSessionID: session.id))
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
            return try await rendering(session) { ("Dashboard", try await dashboardPage()) }
        }
    }

    @Sendable func space(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withSession(request) { session in
            return try await rendering(session) {
                let configuration = service.configuration
                let scopes = configuration.scopes.keys.sorted()
                let chosen =
                    request.uri.queryParameters.get("scope").flatMap { ConsoleScopes.named(String($0), in: scopes) }
                    ?? configuration.defaultScope
                guard let space = configuration.scopes[chosen] else {
                    throw VendorError(.unknownScope, "no such scope")
                }
                let rows = try await service.networks(in: chosen)
                let lowSpace = try await lowSpaceRows(in: [chosen])
                let reservations = try await service.reservations(in: [chosen]).map(\.0)
                // Each supernet, then each pool of the scope (parents before children): a bar each.
                let pools = configuration.pools.pools.values.filter { $0.scope == chosen }
                    .sorted {
                        (configuration.pools.lineage($0.name).count, $0.prefix) < (
                            configuration.pools.lineage($1.name).count, $1.prefix
                        )
                    }
                let ranges =
                    space.supernets.map { ($0.description, $0) }
                    + pools.map { ("pool \($0.name): \($0.prefix)", $0.prefix) }
                let poolRanges = pools.enumerated().map {
                    (name: $1.name, prefix: $1.prefix, index: Optional(space.supernets.count + $0))
                }
                let hideUsed = Self.parameter(request, "hide") == "used"
                return (
                    "Address space of \(ConsoleScopes.name(chosen))",
                    SpacePage(
                        scopeOptions: ConsoleScopes.options(scopes, selected: chosen),
                        supernets: ranges.enumerated().map { index, range in
                            SpacePage.range(
                                range.0, range.1, index: index, rows: rows, reservations: reservations,
                                excluded: space.exclude, network: ConsoleScopes.network(chosen), pools: poolRanges,
                                hideUsed: hideUsed, scopeKey: chosen.partitionKey)
                        }, lowSpace: lowSpace, scopeKey: chosen.partitionKey, hideUsed: hideUsed)
                )
            }
        }
    }

    /// Every scope's own space and pools as `GET /api/pools` reports them, each area with the forecast
    /// `GET /api/usage` gives it by default (the day up to now).
    @Sendable func pools(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withSession(request) { session in
            return try await rendering(session) {
                let configuration = service.configuration
                let now = service.time.now()
                var areas: [PoolsPage.Reported] = []
                for report in try await service.pools() {
                    var forecasts: [(version: String, forecast: API.Usage.Forecast)] = []
                    for version in report.pool.map({ [$0.prefix.version] }) ?? [.v4, .v6] {
                        guard
                            let area = configuration.usageArea(
                                of: report.scope, pool: report.pool?.name, version: version)
                        else { continue }
                        let step = 300
                        let series = try await service.usage(
                            area: area, since: now.addingTimeInterval(-86_400), until: now, step: TimeInterval(step))
                        forecasts.append(
                            (version: "v\(version.rawValue)", forecast: API.Usage(series, step: step).forecast))
                    }
                    areas.append(
                        (report: API.Pools.Report(report, configuration: configuration), forecasts: forecasts))
                }
                return ("Pools", PoolsPage(areas, scopes: configuration.scopes.keys.sorted()))
            }
        }
    }

    @Sendable func lease(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withSession(request) { session in
            let id = try context.parameters.require("leaseId")
            return try await rendering(session, notice: Self.parameter(request, "done")) {
                let (row, scope) = try await service.lease(id: id, scope: nil)
                var filter = EventFilter()
                filter.leaseId = id
                let events = try await service.events(in: [scope], matching: filter, limit: 200, from: nil).events
                var page = LeasePage(row, scope: scope, events: events.map(\.0))
                page.actions = leaseActions(row, session)
                page.details = try await leaseDetails(id: id, scope: scope, session: session).markup
                return ("Lease \(row.prefix)", page)
            }
        }
    }

    @Sendable func reservations(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withSession(request) { session in
            return try await rendering(session, notice: Self.parameter(request, "done")) {
                let scopes = service.configuration.scopes.keys.sorted()
                let items = try await service.reservations(in: scopes)
                return (
                    "Reservations",
                    ReservationsPage(
                        items, scopes: scopes, admin: allows(API.Console.reserve, session))
                )
            }
        }
    }

    @Sendable func reserve(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withPostedForm(ReservationForm.self, request) { session, form in
            if let refused = refusal(API.Console.reserve, session, doing: "Reserving") { return refused }
            return try await acting(session) {
                let reservation: ReservationRequest
                do throws(RequestProblem) {
                    // A scope the form names that is not configured is refused (404), never the default scope.
                    reservation = try RequestValidation.reservation(
                        try form.reserveBody(scopes: service.configuration.scopes.keys),
                        configuration: service.configuration, now: service.time.now())
                } catch {
                    throw DomainError.badRequest(error)
                }
                let (made, _) = try await service.reserve(reservation, caller: session.caller)
                return Self.redirect("/console/reservations?done=" + Self.percent("Reserved \(made.prefix)."))
            }
        }
    }

    @Sendable func release(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withPostedForm(TokenForm.self, request) { session, _ in
            if let refused = refusal(API.Console.release, session, doing: "Releasing a reservation") {
                return refused
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

    /// The console's script (`ConsoleScript`), for signed-in pages (without a session: sign in, like a page).
    @Sendable func script(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        try await withSession(request) { _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/javascript; charset=utf-8"
            headers[.cacheControl] = "private, no-cache"
            headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
            return Response(
                status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: ConsoleScript.source)))
        }
    }

    // MARK: Pieces

    /// The areas of `scopes` the Manager last found low on space, as the dashboard and the space page list them.
    func lowSpaceRows(in scopes: [Scope]) async throws(DomainError) -> [LowSpaceRow] {
        try await service.lowSpaceAreas(in: scopes).map { scope, state in
            LowSpaceRow(
                scope: scope, state: state,
                poolRange: state.pool.flatMap { service.configuration.pools.pools[$0]?.prefix })
        }
    }

    /// The session a request's cookie names, with the role its key or token has now; nil when there is none: no
    /// cookie, a forged one, signed out, past its end, unused longer than the idle timeout, or a key or token
    /// that no longer gives a role (a session found ended is deleted). Throws when storage does not answer.
    func session(_ request: Request) async throws(DomainError) -> ConsoleSession? {
        guard let cookie = ConsoleInput.cookie(ConsoleSession.cookieName, in: request),
            let id = sessions.sessionID(cookie: cookie)
        else { return nil }
        let digest = ConsoleSessions.digest(ofSessionID: id)
        guard let record = try await service.consoleSession(digest) else { return nil }
        let now = service.time.now()
        let idle = now.timeIntervalSince(record.lastSeenAt)
        guard record.expiresAt > now, idle <= sessions.idleTimeout, let credential = sessions.open(record.sealed),
            let current = current(credential)
        else {
            try await service.endConsoleSession(digest)
            return nil
        }
        if idle >= sessions.touchInterval {
            // Signed out meanwhile (the row went between the read and this write): no session.
            guard try await service.touchConsoleSession(digest, at: now) else { return nil }
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
            if ConsoleInput.cookie(ConsoleSession.cookieName, in: request) != nil {
                response.headers.append(
                    HTTPField(name: .setCookie, value: cookie(ConsoleSession.cookieName, "", maxAge: 0)))
            }
            return response
        }
        return try await ConsoleScopes.$displayNames.withValue(service.configuration.displayNames) {
            try await page(found)
        }
    }

    /// Runs `action` with a POSTed form and its session, when the form carries that session's CSRF token; refused
    /// (403, nothing done) otherwise.
    func withPostedForm<Form: ConsoleForm>(
        _ type: Form.Type, _ request: Request, _ action: (ConsoleSession, Form) async throws -> Response
    ) async throws -> Response {
        let form = try await ConsoleInput.form(type, from: request)
        let found: ConsoleSession?
        do { found = try await session(request) } catch {
            return failure(VendorError(error).status, error.message, session: nil)
        }
        guard let found, let form, sessions.checkCSRF(form.csrf, nonce: found.id) else {
            return failure(
                .forbidden, "The form's security token is missing or stale, or the session ended: nothing was done.",
                session: nil)
        }
        return try await ConsoleScopes.$displayNames.withValue(service.configuration.displayNames) {
            try await action(found, form)
        }
    }

    /// Renders a page whose title and model `build` makes; a refusal becomes an error page with its status.
    func rendering<Page: ConsolePage>(
        _ session: ConsoleSession, notice: String? = nil, _ build: () async throws -> (String, Page)
    ) async throws -> Response {
        do {
            let (title, model) = try await build()
            return page(title, model, session: session, notice: notice)
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

    /// A page as HTML, with the console's headers (no caching, a strict Content-Security-Policy).
    func page<Page: ConsolePage>(
        _ title: String, _ model: Page, session: ConsoleSession?, notice: String? = nil,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        let bar = session.map {
            ConsoleLayout.SessionBar(
                caller: $0.caller, role: $0.role.description, csrf: sessions.csrfToken($0), current: Page.section)
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("Content-Security-Policy")!] =
            "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        let html = ConsoleTemplates.render(model, title: title, notice: notice, session: bar)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// The sign-in form for a nonce's CSRF token.
    func signInPage(csrf: String) -> SignInPage {
        SignInPage(csrf: csrf, lifetime: ConsoleSession.lifetime, idleTimeout: sessions.idleTimeout)
    }

    /// The sign-in form again, with why signing in failed (its token is the one the browser sent).
    func signInFailure(_ status: HTTPResponse.Status, _ message: String, csrf: String?) -> Response {
        page("Sign in", signInPage(csrf: csrf ?? ""), session: nil, notice: message, status: status)
    }

    /// An error page: "Not allowed" for a 403, "Something went wrong" otherwise.
    func failure(_ status: HTTPResponse.Status, _ message: String, session: ConsoleSession?) -> Response {
        page(
            status.code == 403 ? "Not allowed" : "Something went wrong", ErrorPage(message: message),
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

    static func percent(_ text: String) -> String {
        text.addingPercentEncoding(
            withAllowedCharacters: CharacterSet(
                charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")) ?? ""
    }

    static func encode(_ parameters: [(String, String)]) -> String {
        parameters.map { percent($0.0) + "=" + percent($0.1) }.joined(separator: "&")
    }

    /// The claims of a token the verifier has just accepted (for its `exp` and app roles).
    static func tokenClaims(_ token: String) -> JSONValue? {
        let parts = token.split(separator: ".")
        guard parts.count == 3, let data = BearerTokenVerifier.base64URL(String(parts[1])) else { return nil }
        return try? JSONValue.parse(Array(data))
    }
}
