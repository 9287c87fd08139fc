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
