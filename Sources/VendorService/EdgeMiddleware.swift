import Foundation
import HTTPTypes
import Hummingbird
import Logging
import VendorDomain

/// Request ids, logging, metrics, the headers every answer carries and the one error shape, around every
/// route. Authentication and roles are the routes' own (`VendorRouteTable`); a path no route matches
/// reaches nothing and answers 404.
struct EdgeMiddleware: RouterMiddleware {
    typealias Context = VendorRequestContext
    let logger: Logger
    let metrics: VendorMetrics
    /// The paths the routes serve, for 405 answers to other methods.
    let served: ServedPaths
    /// `--insecure-no-auth`: every log line says so.
    let authenticationDisabled: Bool
    static let requestIDHeader = HTTPField.Name("x-request-id")!
    static let contentTypeOptions = HTTPField.Name("x-content-type-options")!
    /// Methods that keep their name as a metric label (any other is `other`, so labels stay few).
    static let labelledMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var context = context
        let incoming = request.headers[Self.requestIDHeader].flatMap { id in
            id.count <= 64 && id.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }
                ? id : nil
        }
        context.requestID = incoming ?? UUID().uuidString.lowercased()
        var log = logger
        log[metadataKey: "request_id"] = .string(context.requestID)
        if authenticationDisabled { log[metadataKey: "auth"] = "disabled (--insecure-no-auth)" }
        context.logger = log // handlers log through it, so every line carries the request id
        // The route the router resolved (set before the middleware runs); nil when no route matched.
        var route = context.endpointPath
        var response: Response
        let started = ContinuousClock.now
        do {
            // No path parameter may hold a slash, so an encoded one only ever spells another path: no route.
            let path = request.uri.path
            if path.range(of: "%2f", options: .caseInsensitive) != nil
                || path.range(of: "%5c", options: .caseInsensitive) != nil
            {
                route = nil
                throw VendorError(.notFound, "no such route")
            }
            response = try await next(request, context)
        } catch {
            if let caller = context.authenticated.name { log[metadataKey: "caller"] = .string(caller) }
            var answer = Self.vendorError(error)
            // No route for this method: a served path answers 405 with the methods it has.
            if route == nil, let httpError = error as? HTTPError, httpError.status == .notFound,
                let path = served.resolve(request.uri.path)
            {
                answer = VendorError(
                    .methodNotAllowed,
                    "\(request.method.rawValue) is not allowed here; use \(path.methods.joined(separator: ", "))")
                answer.allowed = path.methods
                route = path.label
            }
            if answer.status.code >= 500 {
                log.error(
                    "request failed",
                    metadata: ["code": .string(answer.code.rawValue), "message": .string(answer.message)])
            }
            if answer.code == .internalError {
                log.error("unexpected failure", metadata: ["error": .string("\(error)")])
            }
            response = try answer.response(from: request, context: context)
        }
        if let caller = context.authenticated.name { log[metadataKey: "caller"] = .string(caller) }
        response.headers[Self.requestIDHeader] = context.requestID
        // Answers are data, never to be sniffed into something a browser runs, nor kept by caches.
        response.headers[Self.contentTypeOptions] = "nosniff"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        let method = Self.labelledMethods.contains(request.method.rawValue) ? request.method.rawValue : "other"
        metrics.recordRequest(
            route: route ?? "other", method: method, status: Int(response.status.code),
            duration: ContinuousClock.now - started)
        log.info(
            "request",
            metadata: [
                "method": .string(request.method.rawValue), "path": .string(request.uri.path),
                "status": .stringConvertible(response.status.code),
            ])
        return response
    }

    /// Any error as the one error shape: ours as they are, the router's (no such route) as `NotFound`,
    /// anything else as `InternalError` (logged, never shown).
    static func vendorError(_ error: any Error) -> VendorError {
        if let error = error as? VendorError { return error }
        if let error = error as? DomainError { return VendorError(error) }
        if let error = error as? HTTPError {
            if error.status == .notFound { return VendorError(.notFound, error.body ?? "no such route") }
            return VendorError(.invalidRequest, error.body ?? error.status.reasonPhrase)
        }
        return VendorError(.internalError, "internal error")
    }
}
