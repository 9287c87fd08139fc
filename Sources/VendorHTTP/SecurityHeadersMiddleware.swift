import HTTPTypes
import Hummingbird

/// Marks every answer `X-Content-Type-Options: nosniff` and, unless it says otherwise, `Cache-Control:
/// no-store`: answers are data, never to be sniffed into something a browser runs, nor kept by caches.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    static var contentTypeOptions: HTTPField.Name { HTTPField.Name("x-content-type-options")! }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var response = try await next(request, context)
        response.headers[Self.contentTypeOptions] = "nosniff"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}
