import Hummingbird
import VendorDomain

/// Records each request's metric (`ipam_http_requests_total`, `ipam_http_request_duration_seconds`) under the
/// route the router resolved, as `openapi/` spells its path (`context.endpointPath`), or the label an inner
/// layer recorded (`RequestNotes.routeLabel`: a served path's for its 405, `other` for a path refused before
/// any route); `other` when no route matched. Methods outside the usual few are `other`, so labels stay few.
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = VendorRequestContext
    let metrics: VendorMetrics
    /// Methods that keep their name as a metric label.
    static let labelledMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        // The route the router resolved, read before the request goes on (the router's not-found responder names
        // itself there as it refuses).
        let resolved = context.endpointPath
        let started = ContinuousClock.now
        let response = try await next(request, context)
        let method = Self.labelledMethods.contains(request.method.rawValue) ? request.method.rawValue : "other"
        metrics.recordRequest(
            route: context.notes.routeLabel ?? resolved ?? "other", method: method,
            status: Int(response.status.code), duration: ContinuousClock.now - started)
        return response
    }
}
