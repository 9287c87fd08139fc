import IPAMCore
import NetworkMath
import Testing

@testable import Inventory
@testable import VendorDomain

/// Each case of the domain's error as the one error shape sees it: code, message, field, details, Retry-After.
@Suite struct DomainErrorTests {
    static let scope = Scope(subscriptionId: "sub-1", region: "EastUS")

    static func prefix(_ text: String) -> IPPrefix {
        do { return try IPPrefix(parsing: text) } catch { fatalError("\(text): \(error)") }
    }

    /// What a case shows, compared whole.
    struct Shape: Equatable, CustomStringConvertible {
        var code: ErrorCode
        var message: String
        var field: String? = nil
        var details: [String: String] = [:]
        var retryAfter: Int? = nil

        init(
            _ code: ErrorCode, _ message: String, field: String? = nil, details: [String: String] = [:],
            retryAfter: Int? = nil
        ) {
            self.code = code
            self.message = message
            self.field = field
            self.details = details
            self.retryAfter = retryAfter
        }

        init(_ error: DomainError) {
            self.init(
                error.code, error.message, field: error.field, details: error.details, retryAfter: error.retryAfter)
        }

        var description: String { "\(code.rawValue) \(message) \(field ?? "-") \(details) \(retryAfter ?? -1)" }
    }

    // MARK: The request

    @Test func requestRefusals() {
        let problem = RequestProblem(code: .invalidField, field: "prefixLength", message: "not a number")
        #expect(Shape(.badRequest(problem)) == Shape(.invalidField, "not a number", field: "prefixLength"))
        #expect(Shape(.invalidLeaseId("x")) == Shape(.invalidLeaseId, "'x' is not a lease id", field: "leaseId"))
        #expect(
            Shape(.invalidReservationId("r"))
                == Shape(.invalidField, "'r' is not a reservation id", field: "reservationId"))
        #expect(
            Shape(.invalidPrincipal)
                == Shape(
                    .invalidPrincipal, "a principal is 1–128 characters of A–Z a–z 0–9 . _ : @ -", field: "principal"))
        #expect(
            Shape(.leaseUnnamed)
                == Shape(.missingField, "name the lease by 'SessionId' or 'leaseId'", field: "SessionId"))
        #expect(Shape(.notAnAdoption) == Shape(.invalidRequest, "not an adoption"))
        #expect(Shape(.unknownScope(Self.scope)) == Shape(.unknownScope, "scope sub-1/eastus is not configured"))
        #expect(
            Shape(.noSupernetHolds(scope: Self.scope, prefixLength: 31))
                == Shape(.invalidPrefixLength, "no supernet of sub-1/eastus holds a /31", field: "prefixLength"))
    }

    @Test func rangeRefusals() {
        let range = Self.prefix("10.9.0.0/24")
        #expect(
            Shape(
                .outsideSupernets(
                    range, scope: Self.scope, supernets: [Self.prefix("10.0.0.0/16"), Self.prefix("10.1.0.0/16")],
                    field: "cidrV6"))
                == Shape(
                    .outsideSupernets,
                    "10.9.0.0/24 is outside every supernet of sub-1/eastus (10.0.0.0/16, 10.1.0.0/16)",
                    field: "cidrV6", details: ["scope": "sub-1_eastus"]))
        #expect(
            Shape(
                .excluded(range, exclusions: [Self.prefix("10.9.0.0/26"), Self.prefix("10.9.0.128/26")], field: "cidr"))
                == Shape(
                    .overlap, "10.9.0.0/24 overlaps the configured exclusion 10.9.0.0/26, 10.9.0.128/26", field: "cidr",
                    details: [
                        "conflicts":
                            "10.9.0.0/26 (excluded by configuration); 10.9.0.128/26 (excluded by configuration)"
                    ]))
        let conflicts = [
            RangeConflict(prefix: Self.prefix("10.9.0.0/25"), state: .occupied, leaseId: nil, holder: "vnet-a"),
            RangeConflict(prefix: Self.prefix("10.9.0.128/25"), state: .leased, leaseId: "l-1", holder: nil),
        ]
        let listed = "10.9.0.0/25 (occupied, vnet-a); 10.9.0.128/25 (leased)"
        #expect(
            Shape(.overlap(range, conflicts: conflicts))
                == Shape(.overlap, "10.9.0.0/24 overlaps \(listed)", field: "cidr", details: ["conflicts": listed]))
        #expect(
            Shape(.overlap(nil, conflicts: conflicts))
                == Shape(.overlap, "the range overlaps \(listed)", field: "cidr", details: ["conflicts": listed]))
        #expect(
            Shape(.tooManyStockedBlocks(range, taking: .adoption))
                == Shape(
                    .overlap,
                    "10.9.0.0/24 holds too many stocked blocks to take in one transaction; adopt a smaller block",
                    field: "cidr"))
        #expect(
            Shape(.tooManyStockedBlocks(nil, taking: .reservation))
                == Shape(
                    .overlap,
                    "the range holds too many stocked blocks to take in one transaction; reserve smaller ranges",
                    field: "cidr"))
    }

    // MARK: Sessions

    @Test func sessionRefusals() {
        #expect(
            Shape(.sessionConflict(sessionId: "s-1", leaseId: "l-1"))
                == Shape(
                    .sessionConflict, "SessionId 's-1' was already used with a different request", field: "SessionId",
                    details: ["leaseId": "l-1"]))
        #expect(
            Shape(.sessionOwnedByAnother(sessionId: "s-1"))
                == Shape(
                    .sessionOwnedByAnother, "SessionId 's-1' belongs to another caller; use a SessionId of your own",
                    field: "SessionId"))
        #expect(
            Shape(.sessionNotFound(sessionId: "s-1", scope: Self.scope))
                == Shape(
                    .sessionNotFound, "no lease for SessionId 's-1' in sub-1/eastus", details: ["sessionId": "s-1"]))
        #expect(
            Shape(.leaseGone(sessionId: "s-1", leaseId: "l-1", state: nil))
                == Shape(.leaseGone, "the lease of SessionId 's-1' no longer exists", details: ["leaseId": "l-1"]))
        #expect(
            Shape(.leaseGone(sessionId: "s-1", leaseId: "l-1", state: .expired))
                == Shape(
                    .leaseGone, "the lease of SessionId 's-1' is expired",
                    details: ["leaseId": "l-1", "state": "expired"]))
        #expect(
            Shape(.leaseReleased(sessionId: "s-1", leaseId: "l-1", state: .quarantined))
                == Shape(
                    .leaseReleased, "the lease of SessionId 's-1' was released",
                    details: ["leaseId": "l-1", "state": "quarantined"]))
        #expect(
            Shape(.outcomeUnknown(sessionId: "s-1"))
                == Shape(
                    .outcomeUnknown,
                    "storage did not confirm whether the lease was created; retry with the same SessionId to get it",
                    details: ["sessionId": "s-1"], retryAfter: 1))
        #expect(
            Shape(.changeOutcomeUnknown(.release))
                == Shape(
                    .outcomeUnknown,
                    "storage did not confirm the release; retry (a repeat after it did commit answers 410 with the lease's state)",
                    retryAfter: 1))
    }

    // MARK: Leases

    @Test func leaseRefusals() {
        #expect(
            Shape(.leaseNotFound(leaseId: "l-1"))
                == Shape(.leaseNotFound, "no lease 'l-1'", details: ["leaseId": "l-1"]))
        #expect(
            Shape(.alreadyReleased(leaseId: "l-1", state: .quarantined))
                == Shape(
                    .alreadyReleased, "lease l-1 is already quarantined",
                    details: ["leaseId": "l-1", "state": "quarantined"]))
        #expect(
            Shape(.leaseNotRenewable(leaseId: "l-1", state: .expired))
                == Shape(.leaseNotRenewable, "lease l-1 is expired", details: ["leaseId": "l-1", "state": "expired"]))
        #expect(
            Shape(.notLeaseOwner(leaseId: "l-1", doing: "releasing"))
                == Shape(
                    .notAuthorized,
                    "lease l-1 belongs to another caller; releasing another's lease needs the admin role",
                    details: ["leaseId": "l-1"]))
        #expect(
            Shape(.partnerMissing(leaseId: "l-1", rowKey: "k6"))
                == Shape(
                    .internalError, "lease l-1's IPv6 row k6 is missing or names another lease",
                    details: ["leaseId": "l-1"]))
    }

    // MARK: Pools and quotas

    @Test func poolExhaustedNamesScopeSizePoolAndVersion() {
        #expect(
            Shape(.poolExhausted(scope: Self.scope, prefixLength: 24, pool: nil, version: .v4))
                == Shape(
                    .poolExhausted, "no free /24 is left in sub-1/eastus",
                    details: ["scope": "sub-1_eastus", "prefixLength": "24"]))
        #expect(
            Shape(.poolExhausted(scope: Self.scope, prefixLength: 64, pool: "team", version: .v6))
                == Shape(
                    .poolExhausted, "no free IPv6 /64 is left in pool 'team' of sub-1/eastus",
                    details: ["scope": "sub-1_eastus", "prefixLength": "64", "pool": "team", "ipVersion": "v6"]))
        #expect(
            Shape(.scopeExhausted(scope: Self.scope, prefixLength: 20))
                == Shape(.poolExhausted, "sub-1/eastus has no free /20", field: "prefixLength"))
    }

    @Test func poolRulesAndQuotas() {
        #expect(
            Shape(.requesterNotAllowed(pool: "team", caller: "ci"))
                == Shape(
                    .requesterNotAllowed,
                    "pool 'team' does not allow the caller 'ci' (its allowedRequesters name callers, not the body's 'requester')",
                    details: ["pool": "team", "caller": "ci"]))
        #expect(
            Shape(.quotaExceeded(pool: "team", .leases(limit: 3, current: 3)))
                == Shape(
                    .quotaExceeded, "the caller holds 3 of the 3 leases pool 'team' allows each caller",
                    details: ["pool": "team", "quota": "maxLeasesPerRequester", "limit": "3", "current": "3"]))
        #expect(
            Shape(.quotaExceeded(pool: "team", .addresses(limit: 512, current: 256, adding: 512)))
                == Shape(
                    .quotaExceeded, "the caller holds 256 addresses in pool 'team'; 512 more would pass its 512",
                    details: ["pool": "team", "quota": "maxAddressesPerRequester", "limit": "512", "current": "256"]))
    }

    // MARK: Host IPs and members

    @Test func hostIPRefusals() {
        let lease = ["leaseId": "l-1"]
        #expect(
            Shape(.memberRefused(.getAddress(principal: "vm-1"), leaseId: "l-1"))
                == Shape(
                    .notAuthorized, "getting an address for 'vm-1' needs the lease's owner or an admin member",
                    details: lease))
        #expect(
            Shape(.memberRefused(.releaseAddress(principal: "vm-1"), leaseId: "l-1"))
                == Shape(
                    .notAuthorized, "releasing the address of 'vm-1' needs the lease's owner or an admin member",
                    details: lease))
        #expect(
            Shape(.memberRefused(.addMembers, leaseId: "l-1"))
                == Shape(.notAuthorized, "adding members needs the lease's owner or an admin member", details: lease))
        #expect(
            Shape(.memberRefused(.removeMembers, leaseId: "l-1"))
                == Shape(.notAuthorized, "removing members needs the lease's owner or an admin member", details: lease))
        #expect(
            Shape(.notAMember(leaseId: "l-1"))
                == Shape(
                    .notAuthorized, "not a member of lease l-1; its owner or an admin member adds members",
                    details: lease))
        #expect(
            Shape(.principalHasIP(principal: "vm-1", address: "10.0.0.4", leaseId: "l-1"))
                == Shape(
                    .principalHasIP, "'vm-1' holds 10.0.0.4 in another subnet of this lease; release it first",
                    details: ["ip": "10.0.0.4", "leaseId": "l-1"]))
        #expect(
            Shape(.hostIPNotFound(principal: "vm-1", leaseId: "l-1"))
                == Shape(.hostIPNotFound, "'vm-1' holds no address in lease l-1", details: lease))
        #expect(
            Shape(.ownerUnchangeable(principal: "me", leaseId: "l-1", removing: false))
                == Shape(.ownerUnchangeable, "'me' owns lease l-1; the owner's role does not change", details: lease))
        #expect(
            Shape(.ownerUnchangeable(principal: "me", leaseId: "l-1", removing: true))
                == Shape(.ownerUnchangeable, "'me' owns lease l-1 and stays a member", details: lease))
        #expect(
            Shape(.leaseEnded(leaseId: "l-1", state: .quarantined))
                == Shape(
                    .leaseEnded, "lease l-1 is quarantined; its host addresses ended with it",
                    details: ["leaseId": "l-1", "state": "quarantined"]))
        #expect(
            Shape(.leaseEnded(leaseId: "l-1", state: nil))
                == Shape(
                    .leaseEnded, "lease l-1 has ended; its host addresses ended with it",
                    details: ["leaseId": "l-1", "state": "returned"]))
    }

    @Test func addressesExhaustedNamesTheSubnetOrTheBlock() {
        let cidr = Self.prefix("10.0.0.0/28")
        let details = ["leaseId": "l-1", "cidr": "10.0.0.0/28", "usable": "11"]
        #expect(
            Shape(.addressesExhausted(leaseId: "l-1", subnet: "web", cidr: cidr, usable: 11, version: .v4))
                == Shape(.ipExhausted, "subnet 'web' 10.0.0.0/28 has no address left (11 usable)", details: details))
        #expect(
            Shape(.addressesExhausted(leaseId: "l-1", subnet: nil, cidr: cidr, usable: 11, version: .v4))
                == Shape(.ipExhausted, "the block 10.0.0.0/28 has no address left (11 usable)", details: details))
        let v6 = Self.prefix("fd00::/64")
        #expect(
            Shape(.addressesExhausted(leaseId: "l-1", subnet: nil, cidr: v6, usable: 7, version: .v6))
                == Shape(
                    .ipExhausted, "the IPv6 block fd00::/64 has no address left (7 usable)",
                    details: ["leaseId": "l-1", "cidr": "fd00::/64", "usable": "7"]))
    }

    @Test func unknownSubnetListsTheLeasesSubnets() {
        #expect(
            Shape(.unknownSubnet(leaseId: "l-1", name: "db", subnets: ["web", "app"]))
                == Shape(
                    .unknownSubnet, "lease l-1 has no subnet 'db'; it has web, app", field: "subnet",
                    details: ["subnets": "web,app"]))
        #expect(
            Shape(.unknownSubnet(leaseId: "l-1", name: "db", subnets: []))
                == Shape(
                    .unknownSubnet, "lease l-1 has no subnet layout; leave 'subnet' out", field: "subnet",
                    details: ["subnets": ""]))
    }

    // MARK: Reservations, load and storage

    @Test func reservationLoadAndStorage() {
        #expect(
            Shape(.reservationReadOnly(reservationId: "configuration-1"))
                == Shape(
                    .reservationReadOnly,
                    "'configuration-1' is a configured exclusion: change SUPERNETS_CONFIG to free it",
                    details: ["reservationId": "configuration-1"]))
        #expect(
            Shape(.busy("pool p"))
                == Shape(.busy, "too much contention for this pool right now; retry (pool p)", retryAfter: 1))
        #expect(
            Shape(.storageUnavailable("timeout"))
                == Shape(
                    .storageUnavailable, "storage did not confirm the operation in time; retry (timeout)", retryAfter: 2
                ))
        #expect(DomainError.busy("x").description == "Busy: too much contention for this pool right now; retry (x)")
    }

    @Test("storage throttling that outlasts the request is 503 Busy; any other storage failure is StorageUnavailable")
    func throttledStorageIsBusy() {
        let throttled = DomainError.storage(InventoryError(kind: .unavailable, detail: "ServerBusy", throttled: true))
        #expect(
            Shape(throttled)
                == Shape(
                    .busy,
                    "too much contention for this pool right now; retry (storage is throttling this scope: ServerBusy)",
                    retryAfter: 1))
        let failed = DomainError.storage(InventoryError(kind: .unavailable, detail: "http_403"))
        #expect(failed == .storageUnavailable("http_403"))
        #expect(
            DomainError.storage(InventoryError(kind: .tableMissing, detail: "TableNotFound")).code
                == .storageUnavailable)
    }
}
