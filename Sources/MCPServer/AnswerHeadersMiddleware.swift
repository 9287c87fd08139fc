import HTTPTypes
package import Hummingbird

/// Marks every answer of `ipam-mcp serve` as data that is neither sniffed into something a browser runs
/// (`X-Content-Type-Options: nosniff`) nor kept by a cache (`Cache-Control: no-store`, unless the answer set its own).
package struct AnswerHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    package init() {}

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var response: Response
        do { response = try await next(request, context) } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.xContentTypeOptions] = "nosniff"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}

extension HTTPField.Name {
    static var xContentTypeOptions: Self { Self("X-Content-Type-Options")! }
}
