import Foundation
import IPAMCore

/// An answer the Vendor gives instead of a lease: HTTP status, machine-readable code, message.
///
/// Errors become HTTP answers only at the edge (`VendorRouter`).
public struct VendorError: Error, Sendable, CustomStringConvertible {
    public let status: Int
    public let code: String
    public let message: String
    /// The offending request field, when there is one.
    public let field: String?
    /// Extra machine-readable facts (e.g. `leaseId`, `state`, `scope`).
    public let details: [String: String]
    /// Seconds a client should wait before retrying (sent as `Retry-After`).
    public let retryAfter: Int?

    public init(status: Int, code: String, message: String, field: String? = nil, details: [String: String] = [:], retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.details = details
        self.retryAfter = retryAfter
    }

    public var description: String { "\(status) \(code): \(message)" }

    public static func badRequest(_ problem: RequestProblem) -> VendorError {
        VendorError(status: 400, code: problem.code, message: problem.message, field: problem.field)
    }
    public static func storageUnavailable(_ detail: String) -> VendorError {
        VendorError(status: 503, code: "StorageUnavailable", message: "storage did not confirm the operation in time; retry (\(detail))", retryAfter: 2)
    }
    public static func busy(_ detail: String) -> VendorError {
        VendorError(status: 503, code: "Busy", message: "too much contention for this pool right now; retry (\(detail))", retryAfter: 1)
    }
}
