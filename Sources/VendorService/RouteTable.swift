import HTTPTypes
// The router's own trie (`RouterPathTrieBuilder`, SPI) resolves paths for the 405 answers exactly as the router does.
@_spi(Internal) import Hummingbird
import IPAMCore
import Logging
import TokenAuth

/// Who may call a route: declared once, where the route is registered.
enum RouteAccess: Sendable, Equatable {
    /// No credential (health checks, the Functions host's ping).
    case open
    /// A key or bearer token of at least this role.
    case role(Role)
    /// The console: no key at the edge, its handlers check the console session themselves.
    case consoleSession
}

/// Registers the Vendor's routes, each with who may call it.
///
/// The access check runs inside the route's own responder, so it is the check of whatever route the router
/// resolved, however the path was spelled (`/x/`, `//x`, `/a//b` resolve like `/x` and `/a/b`); a path no
/// route matches runs nothing and answers 404. `finish()` also gives the served paths with their methods, from
/// the same registrations, for the 405 answers (with `Allow`) to any other method.
final class VendorRouteTable {
    typealias Handler = @Sendable (Request, VendorRequestContext) async throws -> Response

    struct Entry: Sendable {
        let method: HTTPRequest.Method
        let path: RouterPath
        let access: RouteAccess
    }

    let collection = RouteCollection(context: VendorRequestContext.self)
    private(set) var entries: [Entry] = []
    private let gate: AccessGate

    init(gate: AccessGate) { self.gate = gate }

    /// Registers `handler` for `method` and `path` (`{name}` captures a segment), callable with `access`.
    func add(_ method: HTTPRequest.Method, _ path: RouterPath, _ access: RouteAccess, use handler: @escaping Handler) {
        precondition(
            !entries.contains { $0.method == method && $0.path == path }, "\(method) \(path) is registered twice")
        entries.append(Entry(method: method, path: path, access: access))
        let gate = gate
        let label = "\(method.rawValue) \(path)"
        collection.on(path, method: method) { request, context in
            try await gate.admit(request, context, access: access, route: label, to: handler)
        }
    }

    /// The routes to add to the router, and the paths they serve with their methods (for 405 answers).
    func finish() -> (routes: RouteCollection<VendorRequestContext>, paths: ServedPaths) {
        var served: [(path: RouterPath, methods: [String])] = []
        for entry in entries {
            if let index = served.firstIndex(where: { $0.path == entry.path }) {
                served[index].methods.append(entry.method.rawValue)
            } else {
                served.append((entry.path, [entry.method.rawValue]))
            }
        }
        let trie = RouterPathTrieBuilder<ServedPaths.Path>()
        for (path, methods) in served {
            trie.addEntry(path, value: ServedPaths.Path(label: path.description, methods: methods))
        }
        return (collection, ServedPaths(trie: trie.build()))
    }
}

/// The registered paths, resolved exactly as the router resolves them (its own trie), so a request the router
/// found no route for can be told apart: a served path with another method (405 with `Allow`) or no path (404).
struct ServedPaths: Sendable {
    struct Path: Sendable {
        /// The path as registered (`/api/leases/{leaseId}`), the metric route label.
        let label: String
        let methods: [String]
    }

    let trie: RouterTrie<Path>

    func resolve(_ path: String) -> Path? { trie.resolve(path)?.value }
}

/// Authenticates a request for its route and checks the route's role before the handler runs.
struct AccessGate: Sendable {
    let keys: APIKeys?
    let tokens: TokenAuthentication?
    let throttle: FailedKeyThrottle
    let time: TimeSource
    /// Set when audit events name callers by their keyed hash (`AUDIT_REDACT_ACTORS`).
    let redactor: PrincipalRedactor?
    static let functionsKeyHeader = HTTPField.Name("x-functions-key")!

    func admit(
        _ request: Request, _ context: VendorRequestContext, access: RouteAccess, route: String,
        to handler: VendorRouteTable.Handler
    ) async throws -> Response {
        var context = context
        if case .role(let needed) = access {
            let (caller, role) = try await authenticate(request, from: context.clientAddress)
            context.caller = caller
            context.role = role
            // no name in the logs with AUDIT_REDACT_ACTORS
            let logged = redactor.map { $0.principal(caller).key } ?? caller
            context.logger[metadataKey: "caller"] = .string(logged)
            context.authenticated.record(logged)
            guard role >= needed else {
                throw VendorError(
                    .forbidden, "\(route) needs the \(needed) role; this key has \(role)",
                    details: ["caller": caller, "role": role.description, "needed": needed.description])
            }
        }
        // The caller and the request id travel with the request's work to the audit events it writes.
        let actor = context.caller.map { caller in redactor.map { $0.principal(caller).key } ?? caller } ?? "anonymous"
        let admitted = context
        return try await AuditContext.$current.withValue(AuditContext(actor: actor, requestId: context.requestID)) {
            try await handler(request, admitted)
        }
    }

    /// The caller a request's key or bearer token names and its role; throws `Unauthorized` without a valid
    /// one (after the client's failed-key delay), and `Forbidden` for a valid token that carries no role ipam knows.
    func authenticate(_ request: Request, from address: String) async throws(VendorError) -> (String, Role) {
        if keys == nil && tokens == nil { return ("anonymous", .admin) }
        var presented = request.headers[Self.functionsKeyHeader]
        if presented == nil, let authorization = request.headers[.authorization],
            authorization.lowercased().hasPrefix("bearer ")
        {
            presented = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        }
        if presented == nil { presented = request.uri.queryParameters.get("code") } // the Functions `?code=` convention
        guard let presented else {
            throw VendorError(.unauthorized, "send a valid key in x-functions-key, Authorization: Bearer, or ?code=")
        }
        if let found = keys?.authenticate(presented) { return found }
        var refusal = VendorError(
            .unauthorized, "send a valid key in x-functions-key, Authorization: Bearer, or ?code=")
        if let tokens, BearerTokenVerifier.looksLikeToken(presented) {
            do throws(VendorError) { return try await tokens.authenticate(presented) } catch {
                guard error.code == .unauthorized else { throw error }
                refusal = error
            }
        }
        await refused(from: address)
        throw refusal
    }

    /// Records a refused credential from `address` and waits out the delay the throttle gives its answer.
    func refused(from address: String) async {
        let delay = throttle.delay(afterFailureFrom: address)
        if delay > .zero { try? await time.sleep(delay) }
    }
}
