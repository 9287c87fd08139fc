import HTTPTypes
import Hummingbird
import IPAMCore
import Logging
import TokenAuth

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
