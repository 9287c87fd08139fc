/// A request that produced no HTTP response.
///
/// A struct with a private code so new cases break no caller (the async-http-client pattern).
package struct TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Base: String, Sendable, Equatable {
        case connectionRefused, timeout, tls, cancelled, dnsFailure, connectionLost, invalidRequest, other
    }

    private let base: Base
    /// libcurl's error text (or ours), never containing request headers.
    package let message: String
    /// The libcurl result code, when libcurl produced the failure.
    package let curlCode: Int?

    private init(_ base: Base, _ message: String, curlCode: Int? = nil) {
        self.base = base
        self.message = message
        self.curlCode = curlCode
    }

    package static func connectionRefused(_ message: String, curlCode: Int? = nil) -> Self {
        .init(.connectionRefused, message, curlCode: curlCode)
    }
    package static func timeout(_ message: String, curlCode: Int? = nil) -> Self {
        .init(.timeout, message, curlCode: curlCode)
    }
    package static func tls(_ message: String, curlCode: Int? = nil) -> Self {
        .init(.tls, message, curlCode: curlCode)
    }
    package static func cancelled(_ message: String = "request cancelled") -> Self { .init(.cancelled, message) }
    package static func dnsFailure(_ message: String, curlCode: Int? = nil) -> Self {
        .init(.dnsFailure, message, curlCode: curlCode)
    }
    /// The connection broke after the request may have been sent: the outcome is unknown.
    package static func connectionLost(_ message: String, curlCode: Int? = nil) -> Self {
        .init(.connectionLost, message, curlCode: curlCode)
    }
    package static func invalidRequest(_ message: String, curlCode: Int? = nil) -> Self {
        .init(.invalidRequest, message, curlCode: curlCode)
    }
    package static func other(_ message: String, curlCode: Int? = nil) -> Self {
        .init(.other, message, curlCode: curlCode)
    }

    package var isConnectionRefused: Bool { base == .connectionRefused }
    package var isTimeout: Bool { base == .timeout }
    package var isTLS: Bool { base == .tls }
    package var isCancelled: Bool { base == .cancelled }
    package var isConnectionLost: Bool { base == .connectionLost }
    package var isInvalidRequest: Bool { base == .invalidRequest }

    /// True when the server may have received and acted on the request.
    package var outcomeUnknown: Bool { base == .timeout || base == .connectionLost || base == .other }

    /// A short, stable label fit for metrics.
    package var shortDescription: String { base.rawValue }

    package var description: String { "\(base.rawValue): \(message)" }

    package static func == (lhs: Self, rhs: Self) -> Bool { lhs.base == rhs.base }
}
