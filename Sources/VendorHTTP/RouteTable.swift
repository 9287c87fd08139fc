package import HTTPTypes
// The router's own trie (`RouterPathTrieBuilder`, SPI) resolves paths for the 405 answers exactly as the router does.
@_spi(Internal) package import Hummingbird
import IPAMCore
import Logging
import TokenAuth
package import VendorAPI

/// Who may call a route: declared once, where the route is registered.
package enum RouteAccess: Sendable, Equatable {
    /// No credential (health checks, the Functions host's ping).
    case open
    /// A key or bearer token of at least this role.
    case role(Role)
    /// The console: no key at the edge, its handlers check the console session themselves.
    case consoleSession
}

extension Role {
    /// The smallest role a route declared with `access` admits; nil for a route that needs none (`open`, the
    /// console's pages). The console's changes ask it of the API operation they perform.
    package init?(needed access: APIRoute.Access) {
        switch access {
        case .reader: self = .reader
        case .lease: self = .lease
        case .admin: self = .admin
        case .open, .consoleSession: return nil
        }
    }
}

/// Registers the Vendor's routes, each with who may call it; another module adds its own through `add`, from its
/// `VendorRouteRegistrar` (the console's `ConsoleRegistrar`).
///
/// A route that needs a role runs in a group of its role: `AuthenticationMiddleware`, then its handler's
/// `AuthenticatedRequestContext`, then `RoleMiddleware`. These run inside the route's own responder, so they are
/// the checks of whatever route the router resolved, however the path was spelled (`/x/`, `//x`, `/a//b` resolve
/// like `/x` and `/a/b`); a path no route matches runs nothing and answers 404. `finish()` also gives the served
/// paths with their methods, from the same registrations, for the 405 answers (with `Allow`) to any other method.
package final class VendorRouteTable {
    /// A handler of an open or console route.
    package typealias Handler = @Sendable (Request, VendorRequestContext) async throws -> Response
    /// A handler of a route that needs a role: its caller is authenticated.
    package typealias AuthenticatedHandler = @Sendable (Request, AuthenticatedRequestContext) async throws -> Response

    /// Who may call a route without a role.
    package enum Unauthenticated: Sendable {
        case open
        case consoleSession
    }

    struct Entry: Sendable {
        let method: HTTPRequest.Method
        let path: RouterPath
        let access: RouteAccess
    }

    let collection = RouteCollection(context: VendorRequestContext.self)
    private(set) var entries: [Entry] = []
    /// One group per role: authentication, the authenticated context, the role check.
    private var groups: [Role: RouterGroup<AuthenticatedRequestContext>] = [:]

    init(authentication: AuthenticationMiddleware) {
        for role in Role.allCases {
            groups[role] = collection.group().add(middleware: authentication)
                .group(context: AuthenticatedRequestContext.self).add(middleware: RoleMiddleware(needed: role))
        }
    }

    /// Registers `handler` for a route declared in `API` that needs a role: its method, path (`{name}` captures a
    /// segment) and role come from the declaration.
    package func add(_ route: APIRoute, use handler: @escaping AuthenticatedHandler) {
        guard let role = Role(needed: route.access) else {
            preconditionFailure("\(route) needs no role: its handler takes no caller")
        }
        add(Self.method(route), RouterPath(route.path), role, use: handler)
    }

    /// Registers `handler` for a route declared in `API` as `open` or `consoleSession`.
    package func add(_ route: APIRoute, use handler: @escaping Handler) {
        let access: Unauthenticated
        switch route.access {
        case .open: access = .open
        case .consoleSession: access = .consoleSession
        case .reader, .lease, .admin: preconditionFailure("\(route) needs a role: its handler takes the caller")
        }
        add(Self.method(route), RouterPath(route.path), access, use: handler)
    }

    static func method(_ route: APIRoute) -> HTTPRequest.Method { HTTPRequest.Method(rawValue: route.method.rawValue)! }

    /// Registers `handler` for `method` and `path` (`{name}` captures a segment), callable by a caller of at
    /// least `role`.
    package func add(
        _ method: HTTPRequest.Method, _ path: RouterPath, _ role: Role, use handler: @escaping AuthenticatedHandler
    ) {
        record(method, path, .role(role))
        groups[role]!.on(path, method: method, use: handler)
    }

    /// Registers `handler` for `method` and `path`, callable without a key (`open`), or with the console's session
    /// checked by the handler itself (`consoleSession`).
    package func add(
        _ method: HTTPRequest.Method, _ path: RouterPath, _ access: Unauthenticated, use handler: @escaping Handler
    ) {
        record(method, path, access == .open ? .open : .consoleSession)
        collection.on(path, method: method, use: handler)
    }

    private func record(_ method: HTTPRequest.Method, _ path: RouterPath, _ access: RouteAccess) {
        precondition(
            !entries.contains { $0.method == method && $0.path == path }, "\(method) \(path) is registered twice")
        entries.append(Entry(method: method, path: path, access: access))
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
