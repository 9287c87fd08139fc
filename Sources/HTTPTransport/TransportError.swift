/// A request that produced no HTTP response.
///
/// A struct with a private code so new cases break no caller (the async-http-client pattern).
public struct TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Base: String, Sendable, Equatable {
        case connectionRefused, timeout, tls, cancelled, dnsFailure, connectionLost, invalidRequest, other
    }

    private let base: Base
    /// libcurl's error text (or ours), never containing request headers.
    public let message: String
    /// The libcurl result code, when libcurl produced the failure.
    public let curlCode: Int?

    private init(_ base: Base, _ message: String, curlCode: Int? = nil) {
        self.base = base
        self.message = message
        self.curlCode = curlCode
    }

    public static func connectionRefused(_ message: String, curlCode: Int? = nil) -> Self {
        .init(.connectionRefused, message, curlCode: curlCode)
    }
    public static func timeout(_ message: String, curlCode: Int? = nil) -> Self {
        .init(.timeout, message, curlCode: curlCode)
    }
    public static func tls(_ message: String, curlCode: Int? = nil) -> Self { .init(.tls, message, curlCode: curlCode) }
    public static func cancelled(_ message: String = "request cancelled") -> Self { .init(.cancelled, message) }
    public static func dnsFailure(_ message: String, curlCode: Int? = nil) -> Self {
        .init(.dnsFailure, message, curlCode: curlCode)
    }
    /// The connection broke after the request may have been sent: the outcome is unknown.
    public static func connectionLost(_ message: String, curlCode: Int? = nil) -> Self {
        .init(.connectionLost, message, curlCode: curlCode)
    }
    public static func invalidRequest(_ message: String, curlCode: Int? = nil) -> Self {
        .init(.invalidRequest, message, curlCode: curlCode)
    }
    public static func other(_ message: String, curlCode: Int? = nil) -> Self {
        .init(.other, message, curlCode: curlCode)
    }

    public var isConnectionRefused: Bool { base == .connectionRefused }
    public var isTimeout: Bool { base == .timeout }
    public var isTLS: Bool { base == .tls }
    public var isCancelled: Bool { base == .cancelled }
    public var isConnectionLost: Bool { base == .connectionLost }
    public var isInvalidRequest: Bool { base == .invalidRequest }

    /// True when the server may have received and acted on the request.
    public var outcomeUnknown: Bool { base == .timeout || base == .connectionLost || base == .other }

    /// A short, stable label fit for metrics.
    public var shortDescription: String { base.rawValue }

    public var description: String { "\(base.rawValue): \(message)" }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.base == rhs.base }
}
