import Hummingbird
import IPAMCore
import Synchronization

/// What every Vendor request carries through the router: its request id and who is calling.
public struct VendorRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The request's id: the caller's `x-request-id` when it is a sane one, else a new UUID.
    public var requestID: String = ""
    /// The authenticated caller (a key's name, or `key-…`), `anonymous` with authentication disabled,
    /// nil before authentication or on open routes.
    public var caller: String?
    /// The caller's role (`admin` with authentication disabled).
    public var role: Role?
    /// The client's IP address (the peer of the connection), for slowing down failed keys.
    public let clientAddress: String
    /// The caller the route's access check authenticated, for the edge's request log line.
    let authenticated = AuthenticatedCaller()

    public init(source: Source) {
        coreContext = .init(source: source)
        clientAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}

/// The caller a request was authenticated as, shared by every copy of its context.
final class AuthenticatedCaller: Sendable {
    private let caller = Mutex<String?>(nil)
    func record(_ name: String) { caller.withLock { $0 = name } }
    var name: String? { caller.withLock { $0 } }
}
