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

    /// A rejected request: 400 for a malformed one; 404 for a scope that is not configured (nothing to
    /// lease from); 422 for a well-formed request that cannot be met (its subnets do not fit the block).
    public static func badRequest(_ problem: RequestProblem) -> VendorError {
        let status: Int
        switch problem.code {
        case "UnknownScope": status = 404
        case "SubnetsDoNotFit": status = 422
        default: status = 400
        }
        return VendorError(status: status, code: problem.code, message: problem.message, field: problem.field)
    }
    public static func storageUnavailable(_ detail: String) -> VendorError {
        VendorError(status: 503, code: "StorageUnavailable", message: "storage did not confirm the operation in time; retry (\(detail))", retryAfter: 2)
    }
    public static func busy(_ detail: String) -> VendorError {
        VendorError(status: 503, code: "Busy", message: "too much contention for this pool right now; retry (\(detail))", retryAfter: 1)
    }
}
