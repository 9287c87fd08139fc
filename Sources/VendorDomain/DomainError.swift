package import IPAMCore
package import Inventory
package import NetworkMath

/// Why the Vendor's domain did not do what was asked: one case per situation, its facts as associated values.
///
/// Knows nothing of HTTP: `code`, `message`, `field`, `details` and `retryAfter` are computed here, in one place,
/// and the edge maps them to the one error shape (`VendorError(_:)` in VendorService), where the code fixes the
/// status and `retryAfter` becomes `Retry-After`.
package enum DomainError: Error, Sendable, Equatable, CustomStringConvertible {
    // MARK: The request

    /// A request rejected by strict decoding.
    case badRequest(RequestProblem)
    /// A lease id that is not a UUID.
    case invalidLeaseId(String)
    /// A reservation id that is not a UUID.
    case invalidReservationId(String)
    /// A host-IP principal outside 1–128 characters of `A–Z a–z 0–9 . _ : @ -`.
    case invalidPrincipal
    /// A release or renewal that names the lease by neither SessionId nor lease id.
    case leaseUnnamed
    /// An adoption's entry point called with a request that adopts nothing.
    case notAnAdoption
    case unknownScope(Scope)
    /// A reservation by size that no supernet of the scope can hold.
    case noSupernetHolds(scope: Scope, prefixLength: Int)
    /// A range (the request's `field`) outside every supernet of the scope.
    case outsideSupernets(IPPrefix, scope: Scope, supernets: [IPPrefix], field: String)
    /// A range (the request's `field`) overlapping configured exclusions.
    case excluded(IPPrefix, exclusions: [IPPrefix], field: String)
    /// A range overlapping rows that hold it (nil: a reservation by size).
    case overlap(IPPrefix?, conflicts: [RangeConflict])
    /// A range covering more stocked blocks than one transaction takes.
    case tooManyStockedBlocks(IPPrefix?, taking: RangeTaking)

    /// What takes a range: how `tooManyStockedBlocks` advises.
    package enum RangeTaking: Sendable, Equatable {
        case adoption, reservation
    }

    // MARK: Sessions

    /// A replay whose body differs from the session's first request.
    case sessionConflict(sessionId: String, leaseId: String)
    /// A SessionId another principal created.
    case sessionOwnedByAnother(sessionId: String)
    case sessionNotFound(sessionId: String, scope: Scope)
    /// The session's lease is gone (`state` nil: its row no longer names it).
    case leaseGone(sessionId: String, leaseId: String, state: NetworkState?)
    /// A renewal by SessionId of a lease that was released.
    case leaseReleased(sessionId: String, leaseId: String, state: NetworkState)
    /// Storage did not confirm whether the session's lease was created.
    case outcomeUnknown(sessionId: String)
    /// Storage did not confirm a lease's change (release, renewal).
    case changeOutcomeUnknown(AuditAction)

    // MARK: Leases

    case leaseNotFound(leaseId: String)
    /// A release of a lease no longer held.
    case alreadyReleased(leaseId: String, state: NetworkState)
    case leaseNotRenewable(leaseId: String, state: NetworkState)
    /// A change of another caller's lease by a caller without the admin role (`doing`: "releasing", …).
    case notLeaseOwner(leaseId: String, doing: String)
    /// A dual-stack lease whose IPv6 row is missing or names another lease.
    case partnerMissing(leaseId: String, rowKey: String)

    // MARK: Pools and quotas

    /// No free block of the request's size is left.
    case poolExhausted(scope: Scope, prefixLength: Int, pool: String?, version: IPVersion)
    /// A reservation by size found no free block.
    case scopeExhausted(scope: Scope, prefixLength: Int)
    /// A level of the pool's hierarchy does not allow the caller.
    case requesterNotAllowed(pool: String, caller: String)
    /// One lease more would pass a quota of `pool`.
    case quotaExceeded(pool: String, Quota)

    /// The quota a lease would pass, with its limit and what the caller holds.
    package enum Quota: Sendable, Equatable {
        case leases(limit: Int, current: Int)
        case addresses(limit: UInt64, current: UInt64, adding: UInt64)
    }

    // MARK: Host IPs and members

    /// A host-IP or member operation the caller's role in the lease does not allow.
    case memberRefused(MemberOperation, leaseId: String)
    /// A caller that is no member of the lease.
    case notAMember(leaseId: String)
    /// The principal holds an address in another subnet of the lease.
    case principalHasIP(principal: String, address: String, leaseId: String)
    /// The chosen subnet (nil: the whole block) has no address left.
    case addressesExhausted(leaseId: String, subnet: String?, cidr: IPPrefix, usable: Int, version: IPVersion)
    case hostIPNotFound(principal: String, leaseId: String)
    /// A change of the owner's membership (`removing`: its removal, else its role).
    case ownerUnchangeable(principal: String, leaseId: String, removing: Bool)
    case unknownSubnet(leaseId: String, name: String, subnets: [String])
    /// The lease ended (`state` nil: only the audit trail knows it); its host addresses ended with it.
    case leaseEnded(leaseId: String, state: NetworkState?)

    /// What `memberRefused` refused.
    package enum MemberOperation: Sendable, Equatable {
        case getAddress(principal: String)
        case releaseAddress(principal: String)
        case addMembers
        case removeMembers
    }

    // MARK: Reservations

    /// A configured exclusion's reservation, freed only by configuration.
    case reservationReadOnly(reservationId: String)

    // MARK: Load and storage

    /// Too much contention right now (`detail`: what kept changing).
    case busy(String)
    /// Storage did not confirm the operation in time: it did not happen.
    case storageUnavailable(String)

    /// Storage failed: the operation did not happen. Throttling that outlasted the request's deadline is `busy`
    /// (503 `Busy`, as contention is): storage works, the scope is at its rate.
    static func storage(_ error: InventoryError) -> DomainError {
        guard error.throttled else { return .storageUnavailable(error.detail) }
        return .busy("storage is throttling this scope: \(error.detail)")
    }

    // MARK: The one shape's parts

    package var code: ErrorCode {
        switch self {
        case .badRequest(let problem): problem.code
        case .invalidLeaseId: .invalidLeaseId
        case .invalidReservationId: .invalidField
        case .invalidPrincipal: .invalidPrincipal
        case .leaseUnnamed: .missingField
        case .notAnAdoption: .invalidRequest
        case .unknownScope: .unknownScope
        case .noSupernetHolds: .invalidPrefixLength
        case .outsideSupernets: .outsideSupernets
        case .excluded, .overlap, .tooManyStockedBlocks: .overlap
        case .sessionConflict: .sessionConflict
        case .sessionOwnedByAnother: .sessionOwnedByAnother
        case .sessionNotFound: .sessionNotFound
        case .leaseGone: .leaseGone
        case .leaseReleased: .leaseReleased
        case .outcomeUnknown, .changeOutcomeUnknown: .outcomeUnknown
        case .leaseNotFound: .leaseNotFound
        case .alreadyReleased: .alreadyReleased
        case .leaseNotRenewable: .leaseNotRenewable
        case .notLeaseOwner, .memberRefused, .notAMember: .notAuthorized
        case .partnerMissing: .internalError
        case .poolExhausted, .scopeExhausted: .poolExhausted
        case .requesterNotAllowed: .requesterNotAllowed
        case .quotaExceeded: .quotaExceeded
        case .principalHasIP: .principalHasIP
        case .addressesExhausted: .ipExhausted
        case .hostIPNotFound: .hostIPNotFound
        case .ownerUnchangeable: .ownerUnchangeable
        case .unknownSubnet: .unknownSubnet
        case .leaseEnded: .leaseEnded
        case .reservationReadOnly: .reservationReadOnly
        case .busy: .busy
        case .storageUnavailable: .storageUnavailable
        }
    }

    package var message: String {
        switch self {
        case .badRequest(let problem): problem.message
        case .invalidLeaseId(let id): "'\(id)' is not a lease id"
        case .invalidReservationId(let id): "'\(id)' is not a reservation id"
        case .invalidPrincipal: "a principal is 1–128 characters of A–Z a–z 0–9 . _ : @ -"
        case .leaseUnnamed: "name the lease by 'SessionId' or 'leaseId'"
        case .notAnAdoption: "not an adoption"
        case .unknownScope(let scope): "scope \(scope) is not configured"
        case .noSupernetHolds(let scope, let length): "no supernet of \(scope) holds a /\(length)"
        case .outsideSupernets(let prefix, let scope, let supernets, _):
            "\(prefix) is outside every supernet of \(scope) (\(supernets.map(\.description).joined(separator: ", ")))"
        case .excluded(let prefix, let exclusions, _):
            "\(prefix) overlaps the configured exclusion \(exclusions.map(\.description).joined(separator: ", "))"
        case .overlap(let range, let conflicts):
            "\(range?.description ?? "the range") overlaps \(Self.listed(conflicts))"
        case .tooManyStockedBlocks(let range, .adoption):
            "\(range?.description ?? "the range") holds too many stocked blocks to take in one transaction; adopt a smaller block"
        case .tooManyStockedBlocks(let range, .reservation):
            "\(range?.description ?? "the range") holds too many stocked blocks to take in one transaction; reserve smaller ranges"
        case .sessionConflict(let sessionId, _): "SessionId '\(sessionId)' was already used with a different request"
        case .sessionOwnedByAnother(let sessionId):
            "SessionId '\(sessionId)' belongs to another caller; use a SessionId of your own"
        case .sessionNotFound(let sessionId, let scope): "no lease for SessionId '\(sessionId)' in \(scope)"
        case .leaseGone(let sessionId, _, nil): "the lease of SessionId '\(sessionId)' no longer exists"
        case .leaseGone(let sessionId, _, let state?): "the lease of SessionId '\(sessionId)' is \(state.rawValue)"
        case .leaseReleased(let sessionId, _, _): "the lease of SessionId '\(sessionId)' was released"
        case .outcomeUnknown:
            "storage did not confirm whether the lease was created; retry with the same SessionId to get it"
        case .changeOutcomeUnknown(let action):
            "storage did not confirm the \(action.rawValue); retry (a repeat after it did commit answers 410 with the lease's state)"
        case .leaseNotFound(let leaseId): "no lease '\(leaseId)'"
        case .alreadyReleased(let leaseId, let state): "lease \(leaseId) is already \(state.rawValue)"
        case .leaseNotRenewable(let leaseId, let state): "lease \(leaseId) is \(state.rawValue)"
        case .notLeaseOwner(let leaseId, let doing):
            "lease \(leaseId) belongs to another caller; \(doing) another's lease needs the admin role"
        case .partnerMissing(let leaseId, let rowKey):
            "lease \(leaseId)'s IPv6 row \(rowKey) is missing or names another lease"
        case .poolExhausted(let scope, let length, let pool, let version):
            "no free \(version == .v6 ? "IPv6 " : "")/\(length) is left in \(pool.map { "pool '\($0)' of " } ?? "")\(scope)"
        case .scopeExhausted(let scope, let length): "\(scope) has no free /\(length)"
        case .requesterNotAllowed(let pool, let caller):
            "pool '\(pool)' does not allow the caller '\(caller)' (its allowedRequesters name callers, not the body's 'requester')"
        case .quotaExceeded(let pool, .leases(let limit, let current)):
            "the caller holds \(current) of the \(limit) leases pool '\(pool)' allows each caller"
        case .quotaExceeded(let pool, .addresses(let limit, let current, let adding)):
            "the caller holds \(current) addresses in pool '\(pool)'; \(adding) more would pass its \(limit)"
        case .memberRefused(.getAddress(let principal), _):
            "getting an address for '\(principal)' needs the lease's owner or an admin member"
        case .memberRefused(.releaseAddress(let principal), _):
            "releasing the address of '\(principal)' needs the lease's owner or an admin member"
        case .memberRefused(.addMembers, _): "adding members needs the lease's owner or an admin member"
        case .memberRefused(.removeMembers, _): "removing members needs the lease's owner or an admin member"
        case .notAMember(let leaseId): "not a member of lease \(leaseId); its owner or an admin member adds members"
        case .principalHasIP(let principal, let address, _):
            "'\(principal)' holds \(address) in another subnet of this lease; release it first"
        case .addressesExhausted(_, let subnet, let cidr, let usable, let version):
            "\(subnet.map { "subnet '\($0)'" } ?? (version == .v6 ? "the IPv6 block" : "the block")) \(cidr) has no address left (\(usable) usable)"
        case .hostIPNotFound(let principal, let leaseId): "'\(principal)' holds no address in lease \(leaseId)"
        case .ownerUnchangeable(let principal, let leaseId, false):
            "'\(principal)' owns lease \(leaseId); the owner's role does not change"
        case .ownerUnchangeable(let principal, let leaseId, true):
            "'\(principal)' owns lease \(leaseId) and stays a member"
        case .unknownSubnet(let leaseId, let name, let subnets):
            subnets.isEmpty
                ? "lease \(leaseId) has no subnet layout; leave 'subnet' out"
                : "lease \(leaseId) has no subnet '\(name)'; it has \(subnets.joined(separator: ", "))"
        case .leaseEnded(let leaseId, let state):
            "lease \(leaseId) \(state.map { "is \($0.rawValue)" } ?? "has ended"); its host addresses ended with it"
        case .reservationReadOnly(let id): "'\(id)' is a configured exclusion: change SUPERNETS_CONFIG to free it"
        case .busy(let detail): "too much contention for this pool right now; retry (\(detail))"
        case .storageUnavailable(let detail): "storage did not confirm the operation in time; retry (\(detail))"
        }
    }

    /// The offending request field, when there is one.
    package var field: String? {
        switch self {
        case .badRequest(let problem): problem.field
        case .invalidLeaseId: "leaseId"
        case .invalidReservationId: "reservationId"
        case .invalidPrincipal: "principal"
        case .leaseUnnamed, .sessionConflict, .sessionOwnedByAnother: "SessionId"
        case .noSupernetHolds, .scopeExhausted: "prefixLength"
        case .outsideSupernets(_, _, _, let field), .excluded(_, _, let field): field
        case .overlap, .tooManyStockedBlocks: "cidr"
        case .unknownSubnet: "subnet"
        default: nil
        }
    }

    /// Extra machine-readable facts (e.g. `leaseId`, `state`, `scope`).
    package var details: [String: String] {
        switch self {
        case .outsideSupernets(_, let scope, _, _): ["scope": scope.partitionKey]
        case .excluded(_, let exclusions, _):
            ["conflicts": exclusions.map { "\($0) (excluded by configuration)" }.joined(separator: "; ")]
        case .overlap(_, let conflicts): ["conflicts": Self.listed(conflicts)]
        case .sessionConflict(_, let leaseId), .leaseNotFound(let leaseId), .notLeaseOwner(let leaseId, _),
            .partnerMissing(let leaseId, _), .memberRefused(_, let leaseId), .notAMember(let leaseId),
            .hostIPNotFound(_, let leaseId), .ownerUnchangeable(_, let leaseId, _):
            ["leaseId": leaseId]
        case .sessionNotFound(let sessionId, _), .outcomeUnknown(let sessionId): ["sessionId": sessionId]
        case .leaseGone(_, let leaseId, let state):
            state.map { ["leaseId": leaseId, "state": $0.rawValue] } ?? ["leaseId": leaseId]
        case .leaseReleased(_, let leaseId, let state), .alreadyReleased(let leaseId, let state),
            .leaseNotRenewable(let leaseId, let state):
            ["leaseId": leaseId, "state": state.rawValue]
        case .poolExhausted(let scope, let length, let pool, let version):
            ["scope": scope.partitionKey, "prefixLength": String(length)]
                .merging(pool.map { ["pool": $0] } ?? [:]) { kept, _ in kept }
                .merging(version == .v6 ? ["ipVersion": "v6"] : [:]) { kept, _ in kept }
        case .requesterNotAllowed(let pool, let caller): ["pool": pool, "caller": caller]
        case .quotaExceeded(let pool, .leases(let limit, let current)):
            ["pool": pool, "quota": "maxLeasesPerRequester", "limit": String(limit), "current": String(current)]
        case .quotaExceeded(let pool, .addresses(let limit, let current, _)):
            ["pool": pool, "quota": "maxAddressesPerRequester", "limit": String(limit), "current": String(current)]
        case .principalHasIP(_, let address, let leaseId): ["ip": address, "leaseId": leaseId]
        case .addressesExhausted(let leaseId, _, let cidr, let usable, _):
            ["leaseId": leaseId, "cidr": cidr.description, "usable": String(usable)]
        case .unknownSubnet(_, _, let subnets): ["subnets": subnets.joined(separator: ",")]
        case .leaseEnded(let leaseId, let state): ["leaseId": leaseId, "state": state?.rawValue ?? "returned"]
        case .reservationReadOnly(let id): ["reservationId": id]
        default: [:]
        }
    }

    /// Seconds a client should wait before retrying.
    package var retryAfter: Int? {
        switch self {
        case .outcomeUnknown, .changeOutcomeUnknown, .busy: 1
        case .storageUnavailable: 2
        default: nil
        }
    }

    package var description: String { "\(code.rawValue): \(message)" }

    /// Conflicts as an overlap lists them: prefix, state and holder.
    private static func listed(_ conflicts: [RangeConflict]) -> String {
        conflicts.map { "\($0.prefix) (\($0.state.rawValue)\($0.holder.map { ", \($0)" } ?? ""))" }
            .joined(separator: "; ")
    }
}
