/// Every machine-readable error code ipam answers with, one per kind of failure.
///
/// The raw value is the `code` member of the error body; `VendorError` maps each to its one HTTP status.
package enum ErrorCode: String, Sendable, CaseIterable {
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
    /// 409: the SessionId belongs to another principal (the caller that created it); nothing of its lease is
    /// answered or changed.
    case sessionOwnedByAnother = "SessionOwnedByAnother"
    case poolExhausted = "PoolExhausted"
    case leaseGone = "LeaseGone"
    case leaseReleased = "LeaseReleased"
    case alreadyReleased = "AlreadyReleased"
    case leaseNotRenewable = "LeaseNotRenewable"
    // Host-IP leases inside a network lease.
    /// 400: a principal name that is not 1–128 characters of `A–Z a–z 0–9 . _ : @ -`.
    case invalidPrincipal = "InvalidPrincipal"
    /// 403: the caller is not a member of the lease, or its membership does not allow this.
    case notAuthorized = "NotAuthorized"
    /// 410: the network lease is released, quarantined or expired; its host addresses ended with it.
    case leaseEnded = "LeaseEnded"
    /// 422: the lease's layout has no subnet of that name.
    case unknownSubnet = "UnknownSubnet"
    /// 409: the subnet has no address left.
    case ipExhausted = "IPExhausted"
    /// 409: the principal holds an address in another subnet of the lease already.
    case principalHasIP = "PrincipalHasIP"
    /// 409: the owner of a lease stays its owner (it cannot be removed or given another role).
    case ownerUnchangeable = "OwnerUnchangeable"
    // Reservations.
    /// 409: the range overlaps rows that are not free space (each conflict in `details`).
    case overlap = "Overlap"
    /// 422: the range is outside every supernet of the scope.
    case outsideSupernets = "OutsideSupernets"
    /// 409: a configured exclusion is changed in `SUPERNETS_CONFIG`, not through the API.
    case reservationReadOnly = "ReservationReadOnly"
    /// 422: the request names a pool, and no such pool is configured.
    case unknownPool = "UnknownPool"
    // Pools.
    /// 422: the pool requires a tag the request does not carry (`details.tag`).
    case tagRequired = "TagRequired"
    /// 403: the pool (or one of its ancestors) does not allow this requester.
    case requesterNotAllowed = "RequesterNotAllowed"
    /// 409: a lease more would pass the requester's quota in the pool (`details`: the limit and the current use).
    case quotaExceeded = "QuotaExceeded"
    /// 422: fields that are each valid but not together (`dualStack` with `ipVersion: "v6"` or a `pool`,
    /// `prefixLengthV6` without `dualStack`).
    case invalidCombination = "InvalidCombination"
    /// 404: the principal holds no address in the lease.
    case hostIPNotFound = "HostIPNotFound"
    // The service.
    case busy = "Busy"
    /// 503: every connection the server may serve has a request under way (sent with `Connection: close`).
    case tooManyConnections = "TooManyConnections"
    /// 408: the request's head or body did not arrive in time (sent with `Connection: close`).
    case requestTimeout = "RequestTimeout"
    case storageUnavailable = "StorageUnavailable"
    case outcomeUnknown = "OutcomeUnknown"
    case internalError = "InternalError"
}
