import Hummingbird
import IPAMCore
import Logging
import VendorDomain

/// Renders every error as the one error shape (`VendorError`: `{code, message, requestId, field?, details?}`
/// with its headers).
///
/// The edge's own refusals as they are, the domain's (`DomainError`) through `VendorError(_:)`; the router's
/// "no such route" as `NotFound`, or, when the path is served with other methods, as 405 `MethodNotAllowed` with
/// `Allow` (and the served path as the metric's route); anything unexpected as `InternalError`: logged, never shown. Answers of 500 and above are logged.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = VendorRequestContext
    /// The paths the routes serve, for 405 answers to other methods.
    let served: ServedPaths

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        // The route the router resolved, read before the request goes on (the router's not-found responder names
        // itself there as it refuses).
        let resolved = context.endpointPath
        do {
            return try await next(request, context)
        } catch {
            var answer = Self.vendorError(error)
            // No route for this method: a served path answers 405 with the methods it has.
            if resolved == nil, let httpError = error as? HTTPError, httpError.status == .notFound,
                let path = served.resolve(request.uri.path)
            {
                answer = VendorError(
                    .methodNotAllowed,
                    "\(request.method.rawValue) is not allowed here; use \(path.methods.joined(separator: ", "))")
                answer.allowed = path.methods
                context.notes.recordRouteLabel(path.label)
            }
            var log = context.logger
            if let caller = context.notes.loggedCaller { log[metadataKey: "caller"] = .string(caller) }
            if answer.status.code >= 500 {
                log.error(
                    "request failed",
                    metadata: ["code": .string(answer.code.rawValue), "message": .string(answer.message)])
            }
            if answer.code == .internalError {
                log.error("unexpected failure", metadata: ["error": .string("\(error)")])
            }
            return answer.response(requestID: context.requestID)
        }
    }

    /// Any error as the one error shape: ours as they are, the domain's mapped, the router's (no such route) as `NotFound`,
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
