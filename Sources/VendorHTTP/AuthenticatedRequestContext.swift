package import Hummingbird
import IPAMCore

/// The context of a route that needs a role: the caller and its role, never optional.
///
/// Made from a `VendorRequestContext` once `AuthenticationMiddleware` has named the caller (Hummingbird's
/// `ChildRequestContext`: the route's group converts the context before the handler runs). Made without one
/// it refuses the request as unauthenticated, so a route wired without authentication fails closed.
package struct AuthenticatedRequestContext: ChildRequestContext, RequestIdentified {
    package typealias ParentContext = VendorRequestContext
    package var coreContext: CoreRequestContextStorage
    package let requestID: String
    /// The client's IP address (the peer of the connection).
    package let clientAddress: String
    /// The authenticated caller: a key's name (or `key-…`), a token's `jwt:…`, or `anonymous` with
    /// authentication disabled.
    package let caller: String
    /// The caller's role (`admin` with authentication disabled).
    package let role: Role

    package init(context: VendorRequestContext) throws {
        guard let identity = context.identity else {
            throw VendorError(.unauthorized, AuthenticationMiddleware.refusal)
        }
        coreContext = context.coreContext
        requestID = context.requestID
        clientAddress = context.clientAddress
        caller = identity.caller
        role = identity.role
    }
}
