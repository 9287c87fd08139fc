import Foundation
import Hummingbird
import IPAMCore

/// Answers 404 to a path with an encoded slash or backslash (`%2F`, `%5C`, any case), before any route runs.
///
/// No path parameter may hold a slash, so an encoded one only ever spells another path: no route (and the
/// request's metric is `other`, not the route the router matched the encoded segment to).
struct EncodedSeparatorMiddleware: RouterMiddleware {
    typealias Context = VendorRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let path = request.uri.path
        if path.range(of: "%2f", options: .caseInsensitive) != nil
            || path.range(of: "%5c", options: .caseInsensitive) != nil
        {
            context.notes.recordRouteLabel("other")
            throw VendorError(.notFound, "no such route")
        }
        return try await next(request, context)
    }
}
