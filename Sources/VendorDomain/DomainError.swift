public import IPAMCore
import Inventory

/// Why the Vendor's domain did not do what was asked: a typed code, a message, and the offending field and
/// machine-readable facts when there are any.
///
/// Knows nothing of HTTP: the edge maps it to the one error shape (`VendorError(_:)` in VendorService), where
/// the code fixes the status and `retryAfter` becomes `Retry-After`.
public struct DomainError: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: ErrorCode
    public let message: String
    /// The offending request field, when there is one.
    public let field: String?
    /// Extra machine-readable facts (e.g. `leaseId`, `state`, `scope`).
    public let details: [String: String]
    /// Seconds a client should wait before retrying.
    public let retryAfter: Int?

    public init(
        _ code: ErrorCode, _ message: String, field: String? = nil, details: [String: String] = [:],
        retryAfter: Int? = nil
    ) {
        self.code = code
        self.message = message
        self.field = field
        self.details = details
        self.retryAfter = retryAfter
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// A request rejected by strict decoding.
    public static func badRequest(_ problem: RequestProblem) -> DomainError {
        DomainError(problem.code, problem.message, field: problem.field)
    }

    public static func storageUnavailable(_ detail: String) -> DomainError {
        DomainError(
            .storageUnavailable, "storage did not confirm the operation in time; retry (\(detail))", retryAfter: 2)
    }

    public static func busy(_ detail: String) -> DomainError {
        DomainError(.busy, "too much contention for this pool right now; retry (\(detail))", retryAfter: 1)
    }

    /// Storage failed: the operation did not happen.
    static func storage(_ error: InventoryError) -> DomainError { .storageUnavailable(error.detail) }
}
