/// Every machine-readable error code ipam answers with, one per kind of failure.
///
/// The raw value is the `code` member of the error body; `VendorError` maps each to its one HTTP status.
public enum ErrorCode: String, Sendable, CaseIterable {
    // The request itself (400, unless noted).
    case invalidJSON = "InvalidJSON"
    case unknownField = "UnknownField"
    case duplicateField = "DuplicateField"
    case missingField = "MissingField"
    case invalidField = "InvalidField"
    case invalidSessionId = "InvalidSessionId"
    case invalidLeaseId = "InvalidLeaseId"
    case invalidPrefixLength = "InvalidPrefixLength"
    case invalidQuery = "InvalidQuery"
    case invalidContinuation = "InvalidContinuation"
    case ambiguousScope = "AmbiguousScope"
    /// 404: the scope is not configured (nothing to lease from).
    case unknownScope = "UnknownScope"
    /// 422: well-formed, but its subnets do not fit the block.
    case subnetsDoNotFit = "SubnetsDoNotFit"
    /// 400: the HTTP request is malformed in a way the router noticed.
    case invalidRequest = "InvalidRequest"
    case payloadTooLarge = "PayloadTooLarge"
    case unsupportedMediaType = "UnsupportedMediaType"
    // Who is asking.
    case unauthorized = "Unauthorized"
    /// 403: the credential is valid but its role does not allow this.
    case forbidden = "Forbidden"
    // What is asked for.
    case notFound = "NotFound"
    case methodNotAllowed = "MethodNotAllowed"
    case leaseNotFound = "LeaseNotFound"
    case sessionNotFound = "SessionNotFound"
    case sessionConflict = "SessionConflict"
    case poolExhausted = "PoolExhausted"
    case leaseGone = "LeaseGone"
    case leaseReleased = "LeaseReleased"
    case alreadyReleased = "AlreadyReleased"
    case leaseNotRenewable = "LeaseNotRenewable"
    // The service.
    case busy = "Busy"
    case storageUnavailable = "StorageUnavailable"
    case outcomeUnknown = "OutcomeUnknown"
    case internalError = "InternalError"
}
