import Foundation
import HTTPTypes
import Hummingbird
import IPAMCore
import Logging
import StrictJSON
import TestSupport
import Testing
import VendorDomain

@testable import VendorHTTP

/// Each middleware of the Vendor's edge on its own (in process, through the router's own responder).
@Suite("Request id middleware")
struct RequestIDMiddlewareTests {
    static let header = HTTPField.Name("x-request-id")!

    /// A router with only the request id middleware, whose route answers with the audit context it runs in.
    static func router(authenticationDisabled: Bool = false, logs: LogCapture) -> EdgeTestRouter<VendorRequestContext> {
        let router = Router(context: VendorRequestContext.self)
        router.add(
            middleware: RequestIDMiddleware(logger: logs.logger(), authenticationDisabled: authenticationDisabled))
        router.get("/x") { _, context in
            context.logger.info("inside")
            return VendorRouter.jsonResponse(
                .ok,
                .object([
                    ("requestId", .string(AuditContext.current?.requestId ?? "")),
                    ("actor", .string(AuditContext.current?.actor ?? "")),
                    ("context", .string(context.requestID)),
                ]))
        }
        return EdgeTestRouter(router)
    }

    @Test("a sane x-request-id is kept: in the answer, the context, every log line and the audit context")
    func saneIDKept() async throws {
        let logs = LogCapture()
        let id = "req-42_A.b"
        let answer = try await Self.router(logs: logs).send(.get, "/x", headers: [Self.header: id])
        #expect(answer.headers[Self.header] == id)
        #expect(answer.text("context") == id)
        #expect(answer.text("requestId") == id)
        #expect(answer.text("actor") == "anonymous")
        #expect(logs.captured.map(\.message) == ["inside", "request"])
        #expect(logs.captured.allSatisfy { $0.metadata["request_id"] == id })
        let line = try #require(logs.captured.last)
        #expect(line.metadata["method"] == "GET" && line.metadata["path"] == "/x" && line.metadata["status"] == "200")
        #expect(line.metadata["caller"] == nil)
        #expect(line.metadata["auth"] == nil)
    }

    @Test(
        "a hostile, oversized or missing x-request-id is replaced by a new UUID",
        arguments: ["<script>alert(1)</script>", "a b", "a;b", "../x", String(repeating: "a", count: 65), nil])
    func hostileIDReplaced(id: String?) async throws {
        let logs = LogCapture()
        let answer = try await Self.router(logs: logs).send(
            .get, "/x", headers: id.map { [Self.header: $0] } ?? [:])
        let given = try #require(answer.headers[Self.header])
        #expect(given != id)
        #expect(UUID(uuidString: given) != nil && given == given.lowercased())
        #expect(answer.text("requestId") == given)
        #expect(logs.captured.allSatisfy { $0.metadata["request_id"] == given })
    }

    @Test("each request without an id gets its own")
    func freshIDs() async throws {
        let router = Self.router(logs: LogCapture())
        let first = try await router.send(.get, "/x").headers[Self.header]
        let second = try await router.send(.get, "/x").headers[Self.header]
        #expect(first != nil && first != second)
    }

    @Test(
        "a line written inside an authenticated request names its request and caller; before authentication, no caller")
    func callerInLines() async throws {
        let logs = LogCapture()
        let table = VendorRouteTable(
            authentication: AuthenticationMiddleware(
                authenticator: Authenticator(
                    keys: APIKeys(reader: "auditor=reader-secret", lease: nil, admin: nil), tokens: nil,
                    throttle: FailedKeyThrottle(uptime: { .zero }), time: .system),
                redactor: nil))
        table.add(.get, "/mine", .reader) { _, context in
            context.logger.info("inside")
            return Response(status: .ok)
        }
        let (routes, _) = table.finish()
        let router = Router(context: VendorRequestContext.self)
        router.add(middleware: RequestIDMiddleware(logger: logs.logger(), authenticationDisabled: false))
        router.addRoutes(routes)
        let edge = EdgeTestRouter(router)
        let answer = try await edge.send(
            .get, "/mine", headers: [Self.header: "rid-7", HTTPField.Name("x-functions-key")!: "reader-secret"])
        #expect(answer.status == .ok)
        let inside = try #require(logs.captured.first { $0.message == "inside" })
        #expect(inside.metadata["request_id"] == "rid-7" && inside.metadata["caller"] == "auditor")
        let line = try #require(logs.captured.last)
        #expect(line.message == "request" && line.metadata["request_id"] == "rid-7")
        #expect(line.metadata["caller"] == "auditor")
        // A refused key: no caller in any line.
        logs.clear()
        let refused = try await edge.send(
            .get, "/mine", headers: [Self.header: "rid-8", HTTPField.Name("x-functions-key")!: "wrong"])
        #expect(refused.status == .unauthorized)
        #expect(logs.captured.allSatisfy { $0.metadata["request_id"] == "rid-8" && $0.metadata["caller"] == nil })
    }

    @Test("a non-ASCII or empty x-request-id is replaced: only ASCII letters, digits, - _ . are kept")
    func nonASCIIReplaced() async throws {
        for id in ["caf\u{E9}", "\u{0430}\u{0431}", "e\u{301}", "\u{2167}", ""] {
            let answer = try await Self.router(logs: LogCapture()).send(.get, "/x", headers: [Self.header: id])
            let given = try #require(answer.headers[Self.header])
            #expect(given != id && UUID(uuidString: given) != nil && given == given.lowercased())
        }
    }

    @Test("with authentication disabled every log line says so")
    func authenticationDisabledLogged() async throws {
        let logs = LogCapture()
        _ = try await Self.router(authenticationDisabled: true, logs: logs).send(.get, "/x")
        #expect(logs.captured.count == 2)
        #expect(logs.captured.allSatisfy { $0.metadata["auth"] == "disabled (--insecure-no-auth)" })
    }
}

@Suite("Security headers middleware")
struct SecurityHeadersMiddlewareTests {
    @Test("every answer is nosniff and no-store; a Cache-Control the handler set is kept, nosniff is not negotiable")
    func headers() async throws {
        let router = Router(context: VendorRequestContext.self)
        router.add(middleware: SecurityHeadersMiddleware())
        router.get("/plain") { _, _ in Response(status: .ok) }
        router.get("/cached") { _, _ in
            Response(
                status: .ok,
                headers: [.cacheControl: "max-age=60", HTTPField.Name("x-content-type-options")!: "sniff-away"])
        }
        let edge = EdgeTestRouter(router)
        let plain = try await edge.send(.get, "/plain")
        #expect(plain.headers[HTTPField.Name("x-content-type-options")!] == "nosniff")
        #expect(plain.headers[.cacheControl] == "no-store")
        let cached = try await edge.send(.get, "/cached")
        #expect(cached.headers[HTTPField.Name("x-content-type-options")!] == "nosniff")
        #expect(cached.headers[.cacheControl] == "max-age=60")
    }
}

/// A route table with authentication off, so open routes and `ServedPaths` come from real registrations.
func openTable(_ register: (VendorRouteTable) -> Void) -> (RouteCollection<VendorRequestContext>, ServedPaths) {
    let table = VendorRouteTable(
        authentication: AuthenticationMiddleware(
            authenticator: Authenticator(
                keys: nil, tokens: nil, throttle: FailedKeyThrottle(uptime: { .zero }), time: .system),
            redactor: nil))
    register(table)
    return table.finish()
}

@Suite("Metrics middleware")
struct MetricsMiddlewareTests {
    /// The request counter's lines of the exposition.
    static func requestLines(_ metrics: VendorMetrics) -> [String] {
        String(decoding: metrics.exposition(), as: UTF8.self).split(separator: "\n").map(String.init)
            .filter { $0.hasPrefix("ipam_http_requests_total{") }
    }

    static func counted(_ metrics: VendorMetrics, route: String, method: String, status: Int) -> Bool {
        requestLines(metrics).contains {
            $0.contains("route=\"\(route)\"") && $0.contains("method=\"\(method)\"")
                && $0.contains("status=\"\(status)\"") && $0.hasSuffix(" 1")
        }
    }

    static func router(_ metrics: VendorMetrics) -> EdgeTestRouter<VendorRequestContext> {
        let (routes, served) = openTable { table in
            table.add(.get, "/items/{id}", .open) { _, _ in Response(status: .ok) }
            table.add(.delete, "/items/{id}", .open) { _, _ in Response(status: .notFound) }
        }
        let router = Router(context: VendorRequestContext.self)
        router.addMiddleware {
            MetricsMiddleware(metrics: metrics)
            ErrorMiddleware(served: served)
            EncodedSeparatorMiddleware()
        }
        router.addRoutes(routes)
        return EdgeTestRouter(router)
    }

    @Test("a request is counted under its route as registered, with its method and status")
    func resolvedRoute() async throws {
        let metrics = VendorMetrics()
        let edge = Self.router(metrics)
        _ = try await edge.send(.get, "/items/42")
        _ = try await edge.send(.delete, "/items/7")
        #expect(Self.counted(metrics, route: "/items/{id}", method: "GET", status: 200))
        #expect(Self.counted(metrics, route: "/items/{id}", method: "DELETE", status: 404))
        #expect(!Self.requestLines(metrics).contains { $0.contains("/items/42") })
    }

    @Test("no route is `other`; a 405 counts under the served path; unusual methods are `other`")
    func unresolved() async throws {
        let metrics = VendorMetrics()
        let edge = Self.router(metrics)
        _ = try await edge.send(.get, "/nowhere/at/all")
        #expect(Self.counted(metrics, route: "other", method: "GET", status: 404))
        _ = try await edge.send(HTTPRequest.Method("BREW")!, "/items/1")
        _ = try await edge.send(.get, "/items/a%2Fb")
        #expect(Self.counted(metrics, route: "/items/{id}", method: "other", status: 405))
        #expect(!Self.requestLines(metrics).contains { $0.contains("/nowhere") })
        // the encoded slash matched /items/{id} in the router, but is no route: counted as `other`
        #expect(
            Self.requestLines(metrics).filter { $0.contains("route=\"other\"") && $0.contains("status=\"404\"") }
                .first?.hasSuffix(" 2") == true)
    }
}

@Suite("Error middleware")
struct ErrorMiddlewareTests {
    struct Secret: Error, CustomStringConvertible {
        var description: String { "connection string AccountKey=hunter2" }
    }

    static func router(logs: LogCapture) -> EdgeTestRouter<VendorRequestContext> {
        let (routes, served) = openTable { table in
            table.add(.get, "/busy", .open) { _, _ in
                throw VendorError(.busy, "too busy", details: ["scope": "s1", "pool": "p"], retryAfter: 1)
            }
            table.add(.get, "/unauthorized", .open) { _, _ in throw VendorError(.unauthorized, "who are you") }
            table.add(.get, "/field", .open) { _, _ in throw VendorError(.invalidField, "bad", field: "cidr") }
            table.add(.get, "/secret", .open) { _, _ in throw Secret() }
            table.add(.get, "/domain", .open) { _, _ in
                throw DomainError.sessionConflict(sessionId: "s-1", leaseId: "l-1")
            }
            table.add(.get, "/domain-busy", .open) { _, _ in throw DomainError.busy("pool p") }
            table.add(.get, "/http", .open) { _, _ in throw HTTPError(.badRequest, message: "malformed") }
            table.add(.get, "/things/{id}", .open) { _, _ in Response(status: .ok) }
            table.add(.delete, "/things/{id}", .open) { _, _ in Response(status: .ok) }
        }
        let router = Router(context: VendorRequestContext.self)
        router.addMiddleware {
            RequestIDMiddleware(logger: logs.logger(), authenticationDisabled: false)
            ErrorMiddleware(served: served)
        }
        router.addRoutes(routes)
        return EdgeTestRouter(router)
    }

    static let id: HTTPFields = [HTTPField.Name("x-request-id")!: "rid-1"]

    @Test("a VendorError is the one shape: status, code, message, requestId, field, details in order, Retry-After")
    func vendorError() async throws {
        let edge = Self.router(logs: LogCapture())
        let busy = try await edge.send(.get, "/busy", headers: Self.id)
        #expect(busy.status == .serviceUnavailable)
        #expect(busy.headers[.retryAfter] == "1")
        #expect(busy.headers[.contentType] == "application/json; charset=utf-8")
        #expect(
            busy.body
                == #"{"code":"Busy","message":"too busy","requestId":"rid-1","details":{"pool":"p","scope":"s1"}}"#)
        let field = try await edge.send(.get, "/field", headers: Self.id)
        #expect(field.status == .badRequest)
        #expect(field.body == #"{"code":"InvalidField","message":"bad","requestId":"rid-1","field":"cidr"}"#)
        #expect(field.headers[.retryAfter] == nil && field.headers[.wwwAuthenticate] == nil)
    }

    @Test("the domain's refusal is the same shape: its code's status, message, field, details, Retry-After")
    func domainError() async throws {
        let edge = Self.router(logs: LogCapture())
        let conflict = try await edge.send(.get, "/domain", headers: Self.id)
        #expect(conflict.status == .conflict)
        #expect(
            conflict.body
                == #"{"code":"SessionConflict","message":"SessionId 's-1' was already used with a different request","requestId":"rid-1","field":"SessionId","details":{"leaseId":"l-1"}}"#
        )
        let busy = try await edge.send(.get, "/domain-busy")
        #expect(busy.status == .serviceUnavailable && busy.headers[.retryAfter] == "1")
        #expect(busy.text("code") == "Busy")
    }

    @Test("401 says WWW-Authenticate: Bearer")
    func unauthorized() async throws {
        let answer = try await Self.router(logs: LogCapture()).send(.get, "/unauthorized")
        #expect(answer.status == .unauthorized)
        #expect(answer.headers[.wwwAuthenticate] == "Bearer")
        #expect(answer.text("code") == "Unauthorized")
    }

    @Test("the router's 404 is NotFound; another method on a served path is 405 with Allow")
    func routerErrors() async throws {
        let edge = Self.router(logs: LogCapture())
        let missing = try await edge.send(.get, "/nowhere", headers: Self.id)
        #expect(missing.status == .notFound)
        #expect(missing.body == #"{"code":"NotFound","message":"no such route","requestId":"rid-1"}"#)
        let wrongMethod = try await edge.send(.post, "/things/9")
        #expect(wrongMethod.status == .methodNotAllowed)
        #expect(wrongMethod.headers[.allow] == "GET, DELETE")
        #expect(wrongMethod.text("code") == "MethodNotAllowed")
        #expect(wrongMethod.text("message") == "POST is not allowed here; use GET, DELETE")
    }

    @Test("an unexpected error is InternalError: logged, never shown")
    func unexpected() async throws {
        let logs = LogCapture()
        let answer = try await Self.router(logs: logs).send(.get, "/secret", headers: Self.id)
        #expect(answer.status == .internalServerError)
        #expect(answer.body == #"{"code":"InternalError","message":"internal error","requestId":"rid-1"}"#)
        #expect(!answer.body.contains("hunter2"))
        let logged = logs.captured.first { $0.message == "unexpected failure" }
        #expect(logged?.level == .error)
        #expect(logged?.metadata["error"]?.contains("hunter2") == true)
        #expect(logged?.metadata["request_id"] == "rid-1")
        #expect(logs.captured.contains { $0.message == "request failed" && $0.metadata["code"] == "InternalError" })
    }

    @Test("another HTTP error of the framework is InvalidRequest with its message")
    func frameworkError() async throws {
        let answer = try await Self.router(logs: LogCapture()).send(.get, "/http")
        #expect(answer.status == .badRequest)
        #expect(answer.text("code") == "InvalidRequest")
        #expect(answer.text("message") == "malformed")
    }
}

@Suite("Encoded separator middleware")
struct EncodedSeparatorMiddlewareTests {
    @Test(
        "a path with an encoded slash or backslash is no route: 404 before any handler, counted as `other`",
        arguments: ["/items/a%2Fb", "/items/a%2fb", "/items/a%5Cb", "/items/a%5c"])
    func refused(path: String) async throws {
        let router = Router(context: VendorRequestContext.self)
        router.add(middleware: EncodedSeparatorMiddleware())
        router.get("/items/{id}") { _, _ -> Response in
            Issue.record("the handler ran for \(path)")
            return Response(status: .ok)
        }
        let context = EdgeTestRouter.context()
        let answer = try await EdgeTestRouter(router).send(.get, path, context: context)
        #expect(answer.status == .notFound)
        #expect(answer.text("code") == "NotFound" && answer.text("message") == "no such route")
        #expect(context.notes.routeLabel == "other")
    }

    @Test("other encodings pass")
    func passes() async throws {
        let router = Router(context: VendorRequestContext.self)
        router.add(middleware: EncodedSeparatorMiddleware())
        router.get("/items/{id}") { _, _ in Response(status: .ok) }
        let context = EdgeTestRouter.context()
        let answer = try await EdgeTestRouter(router).send(.get, "/items/a%20b", context: context)
        #expect(answer.status == .ok)
        #expect(context.notes.routeLabel == nil)
    }
}

@Suite("Authentication middleware and the authenticated context")
struct AuthenticationMiddlewareTests {
    static let keys = APIKeys(reader: "reader-secret-0001", lease: "lease-secret-0001", admin: "admin-secret-0001")
    static let key = HTTPField.Name("x-functions-key")!

    /// A table with one route per role, each answering with what its handler's context and audit context say.
    static func router(
        keys: APIKeys?, redactor: PrincipalRedactor? = nil, throttle: FailedKeyThrottle? = nil,
        time: TimeSource = .system
    ) -> EdgeTestRouter<VendorRequestContext> {
        let authenticator = Authenticator(
            keys: keys, tokens: nil, throttle: throttle ?? FailedKeyThrottle(uptime: time.uptime), time: time)
        let table = VendorRouteTable(
            authentication: AuthenticationMiddleware(authenticator: authenticator, redactor: redactor))
        for role in Role.allCases {
            table.add(.get, RouterPath("/\(role)"), role) { _, context in
                VendorRouter.jsonResponse(
                    .ok,
                    .object([
                        ("caller", .string(context.caller)), ("role", .string(context.role.description)),
                        ("actor", .string(AuditContext.current?.actor ?? "")),
                    ]))
            }
        }
        table.add(.get, "/open", .open) { _, context in
            VendorRouter.jsonResponse(.ok, .object([("identified", .bool(context.identity != nil))]))
        }
        let router = Router(context: VendorRequestContext.self)
        router.addRoutes(table.finish().routes)
        return EdgeTestRouter(router)
    }

    @Test("a valid key: the handler's context names its caller and role, the audit events and the log the caller")
    func validKey() async throws {
        let edge = Self.router(keys: Self.keys)
        let expected = try #require(Self.keys.authenticate("lease-secret-0001"))
        let context = EdgeTestRouter.context()
        let answer = try await edge.send(
            .get, "/reader", headers: [Self.key: "lease-secret-0001"], context: context)
        #expect(answer.status == .ok)
        #expect(answer.text("caller") == expected.caller)
        #expect(answer.text("role") == "lease")
        #expect(answer.text("actor") == expected.caller)
        #expect(context.notes.loggedCaller == expected.caller)
        let bearer = try await edge.send(.get, "/admin", headers: [.authorization: "Bearer admin-secret-0001"])
        #expect(bearer.text("role") == "admin")
        let code = try await edge.send(.get, "/reader?code=reader-secret-0001")
        #expect(code.text("role") == "reader")
    }

    @Test("with AUDIT_REDACT_ACTORS the log and the audit events get the keyed hash, the handler the caller")
    func redacted() async throws {
        let redactor = PrincipalRedactor(salt: "edge-test-salt-0123456789")
        let edge = Self.router(keys: Self.keys, redactor: redactor)
        let caller = try #require(Self.keys.authenticate("admin-secret-0001")).caller
        let context = EdgeTestRouter.context()
        let answer = try await edge.send(.get, "/admin", headers: [Self.key: "admin-secret-0001"], context: context)
        #expect(answer.text("caller") == caller)
        #expect(answer.text("actor") == redactor.principal(caller).key)
        #expect(context.notes.loggedCaller == redactor.principal(caller).key)
        #expect(redactor.principal(caller).key != caller)
    }

    @Test("no credential, or a wrong one, is Unauthorized before the handler; refused keys are slowed down")
    func refused() async throws {
        let time = ManualTime()
        let throttle = FailedKeyThrottle(
            policy: .init(burst: 1, interval: .seconds(1), maxDelay: .seconds(5), capacity: 10),
            uptime: time.source.uptime)
        let edge = Self.router(keys: Self.keys, throttle: throttle, time: time.source)
        let none = try await edge.send(.get, "/reader")
        #expect(none.status == .unauthorized && none.text("code") == "Unauthorized")
        #expect(none.text("message") == "send a valid key in x-functions-key, Authorization: Bearer, or ?code=")
        #expect(none.text("caller") == nil)
        #expect(time.sleeps.isEmpty) // nothing presented: nothing to slow down
        for _ in 0..<2 {
            let wrong = try await edge.send(.get, "/reader", headers: [Self.key: "not-a-key"])
            #expect(wrong.status == .unauthorized && wrong.text("code") == "Unauthorized")
            #expect(wrong.text("caller") == nil)
        }
        #expect(time.sleeps == [.seconds(1)]) // the second failure beyond the burst of one waits its turn
    }

    @Test("with authentication disabled the caller is anonymous with admin; open routes authenticate nothing")
    func disabled() async throws {
        let edge = Self.router(keys: nil)
        let answer = try await edge.send(.get, "/admin")
        #expect(answer.text("caller") == "anonymous" && answer.text("role") == "admin")
        let open = try await Self.router(keys: Self.keys).send(.get, "/open")
        #expect(open.status == .ok)
        #expect(open.json?.objectValue?.first?.1 == .bool(false))
    }

    @Test("an authenticated context is never made without an authenticated caller (fails closed)")
    func failsClosed() throws {
        let error = #expect(throws: VendorError.self) {
            _ = try AuthenticatedRequestContext(context: EdgeTestRouter.context())
        }
        #expect(error?.code == .unauthorized)
        var context = EdgeTestRouter.context()
        context.requestID = "rid-7"
        context.identity = CallerIdentity(caller: "ops", role: .lease)
        let authenticated = try AuthenticatedRequestContext(context: context)
        #expect(authenticated.caller == "ops" && authenticated.role == .lease && authenticated.requestID == "rid-7")
    }
}

@Suite("Role middleware")
struct RoleMiddlewareTests {
    static func send(_ role: Role, to needed: Role) async throws -> EdgeTestRouter<AuthenticatedRequestContext>.Answer {
        let router = Router(context: AuthenticatedRequestContext.self)
        router.add(middleware: RoleMiddleware(needed: needed))
        router.get("/things/{id}") { _, _ in Response(status: .ok) }
        var base = EdgeTestRouter.context()
        base.requestID = "rid-9"
        base.identity = CallerIdentity(caller: "caller-1", role: role)
        let context = try AuthenticatedRequestContext(context: base)
        return try await EdgeTestRouter(router) { _ in context }.send(.get, "/things/3")
    }

    @Test("a smaller role is Forbidden, naming the route as registered, the role needed and the caller's")
    func smallerRole() async throws {
        for (role, needed) in [(Role.reader, Role.lease), (.reader, .admin), (.lease, .admin)] {
            let answer = try await Self.send(role, to: needed)
            #expect(answer.status == .forbidden && answer.text("code") == "Forbidden")
            #expect(answer.text("message") == "GET /things/{id} needs the \(needed) role; this key has \(role)")
            #expect(answer.text("requestId") == "rid-9")
            let details = answer.json?.objectValue?.first { $0.0 == "details" }?.1
            #expect(
                details
                    == .object([
                        ("caller", .string("caller-1")), ("needed", .string(needed.description)),
                        ("role", .string(role.description)),
                    ]))
        }
    }

    @Test("the role itself or a larger one passes")
    func enoughRole() async throws {
        for needed in Role.allCases {
            for role in Role.allCases where role >= needed {
                #expect(try await Self.send(role, to: needed).status == .ok)
            }
        }
    }
}

@Suite("Encoded separator check")
struct EncodedSeparatorTests {
    /// The check as it was first written, with Foundation: the byte scan must agree with it everywhere.
    static func reference(_ path: String) -> Bool {
        path.range(of: "%2f", options: .caseInsensitive) != nil
            || path.range(of: "%5c", options: .caseInsensitive) != nil
    }

    @Test("every spelling of an encoded slash or backslash is found, anywhere in the path, and nothing else")
    func spellings() {
        for spelled in ["%2f", "%2F", "%5c", "%5C"] {
            for path in ["/\(spelled)", "/api/leases/a\(spelled)b", "/api\(spelled)", spelled, "/x/%\(spelled)"] {
                #expect(EncodedSeparatorMiddleware.spellsSeparator(path), "\(path)")
            }
        }
        for path in [
            "", "/", "%", "%2", "%5", "/api/%2", "/a%2e/", "%25%32%66", "/%2g", "/%6f", "/%2\u{e9}", "%%2", "2f%",
        ] {
            #expect(!EncodedSeparatorMiddleware.spellsSeparator(path), "\(path)")
        }
    }

    @Test("agrees with the Foundation check on 20,000 generated paths (seeded)")
    func agreesWithReference() {
        var generator = SeededGenerator(seed: 0x2F5C)
        let alphabet: [Character] = ["%", "2", "5", "f", "F", "c", "C", "/", "a", "\\", "\u{e9}", "0", "%"]
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...12, using: &generator)
            let path = String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            #expect(EncodedSeparatorMiddleware.spellsSeparator(path) == Self.reference(path), "\(path)")
        }
    }
}
