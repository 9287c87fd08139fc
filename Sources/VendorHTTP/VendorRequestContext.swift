package import Hummingbird
import IPAMCore
import Synchronization

/// What every Vendor request carries through the router: its request id, where it comes from, and (once the
/// authentication middleware of a route that needs a role has run) who is calling.
///
/// Open routes and the console's get this context; routes that need a role get an
/// `AuthenticatedRequestContext`, whose caller and role are not optional.
package struct VendorRequestContext: RequestContext, RequestIdentified {
    package var coreContext: CoreRequestContextStorage
    /// The request's id: the caller's `x-request-id` when it is a sane one, else a new UUID (`RequestIDMiddleware`).
    package var requestID: String = ""
    /// The client's IP address (the peer of the connection), for slowing down failed keys.
    package let clientAddress: String
    /// Who `AuthenticationMiddleware` found calling; nil before it runs and on routes without it.
    /// `AuthenticatedRequestContext` takes it from here.
    var identity: CallerIdentity?
    /// What the layers inside learn about the request for the layers outside (the log line, the metric).
    let notes = RequestNotes()

    package init(source: Source) {
        coreContext = .init(source: source)
        clientAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}

/// A context that knows its request's id (the error shape's `requestId`).
package protocol RequestIdentified {
    var requestID: String { get }
}

/// An authenticated caller and its role.
struct CallerIdentity: Sendable, Equatable {
    /// A key's name (or `key-…`), a token's `jwt:…`, or `anonymous` with authentication disabled.
    let caller: String
    /// The caller's role (`admin` with authentication disabled).
    let role: Role
}

/// What the layers inside a request's middleware learn for the layers outside it, shared by every copy of its
/// context (a context is a value: a change made inside does not travel back out).
final class RequestNotes: Sendable {
    private let state = Mutex<(caller: String?, route: String?)>((nil, nil))

    /// The caller as the log names it (its keyed hash with `AUDIT_REDACT_ACTORS`), once authenticated.
    var loggedCaller: String? { state.withLock { $0.caller } }
    func recordCaller(_ name: String) { state.withLock { $0.caller = name } }

    /// The route label the request's metric is recorded under when it is not the route the router resolved:
    /// `other` for a path refused before any route, a served path's label for its 405.
    var routeLabel: String? { state.withLock { $0.route } }
    func recordRouteLabel(_ label: String) { state.withLock { $0.route = label } }
}
