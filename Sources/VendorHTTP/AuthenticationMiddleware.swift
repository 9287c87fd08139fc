import Hummingbird
import IPAMCore
import Logging

/// Authenticates the caller of a route that needs a role (`Authenticator`), before its
/// `AuthenticatedRequestContext` is made: the caller and role go into the context, the caller (its keyed hash
/// with `AUDIT_REDACT_ACTORS`) into the audit context, from which the request's log lines and the audit events
/// its work writes name it.
///
/// It runs inside the route the router resolved, so a path no route matches authenticates nothing.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = VendorRequestContext
    let authenticator: Authenticator
    /// Set when logs and audit events name callers by their keyed hash (`AUDIT_REDACT_ACTORS`).
    let redactor: PrincipalRedactor?
    /// The message of a missing or refused credential.
    static let refusal = "send a valid key in x-functions-key, Authorization: Bearer, or ?code="

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var context = context
        let identity = try await authenticator.authenticate(request, from: context.clientAddress)
        context.identity = identity
        let logged = redactor.map { $0.principal(identity.caller).key } ?? identity.caller
        context.notes.recordCaller(logged)
        let admitted = context
        return try await AuditContext.$current.withValue(AuditContext(actor: logged, requestId: context.requestID)) {
            try await next(request, admitted)
        }
    }
}
