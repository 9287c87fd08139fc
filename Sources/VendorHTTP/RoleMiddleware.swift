import Hummingbird
import IPAMCore

/// Refuses (403 `Forbidden`) a caller whose role is smaller than the route's.
struct RoleMiddleware: RouterMiddleware {
    typealias Context = AuthenticatedRequestContext
    /// The smallest role the route admits.
    let needed: Role

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard context.role >= needed else {
            let route = "\(request.method.rawValue) \(context.endpointPath ?? request.uri.path)"
            throw VendorError(
                .forbidden, "\(route) needs the \(needed) role; this key has \(context.role)",
                details: ["caller": context.caller, "role": context.role.description, "needed": needed.description])
        }
        return try await next(request, context)
    }
}
