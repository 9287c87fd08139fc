package import Foundation
package import IPAMCore
package import NetworkMath

extension NetworkRow {
    /// A row's state with the facts that state carries, and no others: a lease's facts exist exactly while a
    /// lease holds the block, the VNet's while a lease is (or was) deployed, the quarantine's start while the
    /// lease is let go, the unmanaged VNet's while it occupies the block, the reservation's while it holds it.
    package indirect enum Holding: Sendable, Equatable {
        /// In stock: free to claim.
        case available
        /// Held by a lease that is not deployed (yet, or any more); `vnet` is the VNet it was adopted with or
        /// anchored to before it was let go and revived.
        case leased(Lease, vnet: Anchor?)
        /// Held by a lease whose VNet is deployed.
        case anchored(Lease, vnet: Anchor)
        /// A let-go lease (released or reaped) waiting out its quarantine, which started `since`.
        case quarantined(Lease, vnet: Anchor?, since: Date?)
        /// A let-go lease in a state older builds wrote (`expired`, `released`): kept and decided as quarantined.
        case expired(Lease, vnet: Anchor?, since: Date?)
        case released(Lease, vnet: Anchor?, since: Date?)
        /// Used by an unmanaged VNet.
        case occupied(Occupation)
        /// Held by a reservation (or a reserved range configured before reservations existed).
        case reserved(ReservedHold)

        /// `lease` held in `state` (no VNet, no quarantine start yet); nil for a state no lease holds.
        package static func lease(_ lease: Lease, in state: NetworkState) -> Holding? {
            switch state {
            case .leased: .leased(lease, vnet: nil)
            case .anchored: .anchored(lease, vnet: Anchor(resourceId: ""))
            case .quarantined: .quarantined(lease, vnet: nil, since: nil)
            case .expired: .expired(lease, vnet: nil, since: nil)
            case .released: .released(lease, vnet: nil, since: nil)
            case .available, .occupied, .reserved: nil
            }
        }

        /// The stored state.
        package var state: NetworkState {
            switch self {
            case .available: .available
            case .leased: .leased
            case .anchored: .anchored
            case .quarantined: .quarantined
            case .expired: .expired
            case .released: .released
            case .occupied: .occupied
            case .reserved: .reserved
            }
        }

        /// The lease holding the block (the lease states only).
        package var lease: Lease? {
            switch self {
            case .leased(let lease, _), .anchored(let lease, _), .quarantined(let lease, _, _),
                .expired(let lease, _, _), .released(let lease, _, _):
                lease
            case .available, .occupied, .reserved: nil
            }
        }

        /// The VNet the lease is (or was) deployed in.
        package var vnet: Anchor? {
            switch self {
            case .leased(_, let vnet), .quarantined(_, let vnet, _), .expired(_, let vnet, _),
                .released(_, let vnet, _):
                vnet
            case .anchored(_, let vnet): vnet
            case .available, .occupied, .reserved: nil
            }
        }

        /// When the let-go lease's quarantine started.
        package var quarantinedAt: Date? {
            switch self {
            case .quarantined(_, _, let since), .expired(_, _, let since), .released(_, _, let since): since
            case .available, .leased, .anchored, .occupied, .reserved: nil
            }
        }

        /// The same state with `lease` in place of its lease (unchanged for a state without one).
        package func replacing(_ lease: Lease) -> Holding {
            replacing(lease, vnet: vnet)
        }

        /// The same state with `lease` and `vnet` (unchanged for a state without a lease; an anchored lease keeps
        /// its VNet when `vnet` is nil).
        func replacing(_ lease: Lease, vnet: Anchor?) -> Holding {
            switch self {
            case .available, .occupied, .reserved: self
            case .leased: .leased(lease, vnet: vnet)
            case .anchored(_, let anchor): .anchored(lease, vnet: vnet ?? anchor)
            case .quarantined(_, _, let since): .quarantined(lease, vnet: vnet, since: since)
            case .expired(_, _, let since): .expired(lease, vnet: vnet, since: since)
            case .released(_, _, let since): .released(lease, vnet: vnet, since: since)
            }
        }
    }

    /// What a lease's rows say of it, from its claim (or adoption) on.
    package struct Lease: Sendable, Equatable {
        /// The lease id (empty only in a damaged row, which the invariant checker reports).
        package var id: String
        /// The SessionId it was made with (empty only in a damaged row).
        package var sessionId: String
        package var requestHash: String
        package var requester: String?
        package var leasedAt: Date?
        /// When it expires unless renewed; none while anchored.
        package var expiresAt: Date?
        /// The key of the principal that created the lease (`Principal.key`) and its name sealed
        /// (`PrincipalRedactor.seal`): the lease's owner, for host-IP leases inside it.
        package var ownerKey: String?
        package var sealedOwner: String?
        /// The subnet layout the lease was asked with (its subnets are placed by `FreeSpace.layout`).
        package var subnets: [LeaseRequest.SubnetRequest]
        /// The tags the lease was asked with.
        package var tags: [String: String]
        /// The usage rows the lease counts in while it is live (`leased`, `anchored`): its pool's and its
        /// ancestors' quotas, as charged when it was made.
        package var quotaKeys: [String]
        /// The row key of the other block of a dual-stack lease (its IPv4 row names the IPv6 one and back); nil
        /// for a lease of one block. Both rows carry the lease's id, session and lifecycle, and every change
        /// writes both in one transaction.
        package var pairKey: String?

        package init(
            id: String, sessionId: String, requestHash: String = "", requester: String? = nil, leasedAt: Date? = nil,
            expiresAt: Date? = nil, ownerKey: String? = nil, sealedOwner: String? = nil,
            subnets: [LeaseRequest.SubnetRequest] = [], tags: [String: String] = [:], quotaKeys: [String] = [],
            pairKey: String? = nil
        ) {
            self.id = id
            self.sessionId = sessionId
            self.requestHash = requestHash
            self.requester = requester
            self.leasedAt = leasedAt
            self.expiresAt = expiresAt
            self.ownerKey = ownerKey
            self.sealedOwner = sealedOwner
            self.subnets = subnets
            self.tags = tags
            self.quotaKeys = quotaKeys
            self.pairKey = pairKey
        }
    }

    /// The VNet a lease is deployed in: named by an adoption, or found and anchored by the Manager.
    package struct Anchor: Sendable, Equatable {
        /// Its resource id (empty only in a damaged row).
        package var resourceId: String
        /// When the Manager anchored the lease to it (none for an adopted network not anchored yet).
        package var anchoredAt: Date?
        package var sighting: Sighting

        package init(resourceId: String, anchoredAt: Date? = nil, sighting: Sighting = Sighting()) {
            self.resourceId = resourceId
            self.anchoredAt = anchoredAt
            self.sighting = sighting
        }
    }

    /// The Manager's marks of whether the VNet a row depends on is still listed.
    package struct Sighting: Sendable, Equatable {
        /// When a listing last showed it.
        package var lastSeenAt: Date?
        /// Since when complete listings have not shown it, and in how many complete Syncs in a row.
        package var missingSince: Date?
        package var missingCount: Int

        package init(lastSeenAt: Date? = nil, missingSince: Date? = nil, missingCount: Int = 0) {
            self.lastSeenAt = lastSeenAt
            self.missingSince = missingSince
            self.missingCount = missingCount
        }

        /// The marks once the VNet is listed again (or the lease is let go): not missing.
        package var found: Sighting { Sighting(lastSeenAt: lastSeenAt) }

        var isEmpty: Bool { self == Sighting() }
    }

    /// An unmanaged VNet using the block.
    package struct Occupation: Sendable, Equatable {
        /// The VNet's resource id (`LockedBy`).
        package var vnet: String?
        /// `observed` for rows the Manager created to record space an unmanaged VNet uses (never stock); another
        /// stored value is kept as it is. None for a stocked block the VNet took.
        package var origin: Recorded<RowOrigin>?
        package var sighting: Sighting

        package init(vnet: String?, origin: Recorded<RowOrigin>? = nil, sighting: Sighting = Sighting()) {
            self.vnet = vnet
            self.origin = origin
            self.sighting = sighting
        }
    }

    /// What holds a reserved block.
    package struct ReservedHold: Sendable, Equatable {
        /// `reservation:{id}`, or what a range configured before reservations existed was locked by.
        package var lockedBy: String?
        /// The reservation's owner (`Requester`), its end (`ExpiresAt`) and start (`LeasedAt`).
        package var owner: String?
        package var expiresAt: Date?
        package var since: Date?

        package init(lockedBy: String?, owner: String? = nil, expiresAt: Date? = nil, since: Date? = nil) {
            self.lockedBy = lockedBy
            self.owner = owner
            self.expiresAt = expiresAt
            self.since = since
        }
    }
}

// MARK: Transitions

extension NetworkRow {
    /// A row the Manager records for space the unmanaged VNet `vnet` uses that no row covered (`Origin`
    /// observed: never stock), seen in the listing of `seenAt` (its `LastSeenAt`: the next Sync has nothing to stamp).
    package static func observed(_ prefix: IPPrefix, usedBy vnet: String, seenAt: Date) -> NetworkRow {
        NetworkRow(
            prefix: prefix,
            holding: .occupied(
                Occupation(vnet: vnet, origin: .known(.observed), sighting: Sighting(lastSeenAt: seenAt))))
    }

    /// The row holding `rest`, a part of this row's block that a split leaves outside a range taken: its state
    /// and lock (an occupied row's VNet, origin and last sighting; a reserved row's lock), no pool. A lease's row
    /// is never split (it is in the way of any range).
    func remainder(_ rest: IPPrefix) -> NetworkRow {
        switch holding {
        case .occupied(let occupation):
            let kept = Occupation(
                vnet: occupation.vnet, origin: occupation.origin,
                sighting: Sighting(lastSeenAt: occupation.sighting.lastSeenAt))
            return NetworkRow(prefix: rest, holding: .occupied(kept))
        case .reserved(let hold):
            return NetworkRow(prefix: rest, holding: .reserved(ReservedHold(lockedBy: hold.lockedBy)))
        case .available, .leased, .anchored, .quarantined, .expired, .released:
            return NetworkRow(prefix: rest, holding: holding)
        }
    }

    /// The lease anchored to `vnet` at `now`: no expiry, no quarantine, not missing (nil when no lease holds it).
    package func anchored(to vnet: String, at now: Date) -> NetworkRow? {
        guard var lease = holding.lease else { return nil }
        lease.expiresAt = nil
        var next = self
        next.holding = .anchored(
            lease,
            vnet: Anchor(
                resourceId: vnet, anchoredAt: now, sighting: Sighting(lastSeenAt: holding.vnet?.sighting.lastSeenAt)))
        return next
    }

    /// The lease let go at `now` (released, reaped): quarantined, keeping its VNet and the Manager's marks (nil
    /// when no lease holds it).
    package func quarantined(at now: Date) -> NetworkRow? {
        guard let lease = holding.lease else { return nil }
        var next = self
        next.holding = .quarantined(lease, vnet: holding.vnet, since: now)
        return next
    }

    /// The lease held (renewed, or revived from its quarantine) until `expiresAt`: `leased`, keeping the VNet it
    /// was deployed in (nil when no lease holds it).
    package func leased(until expiresAt: Date) -> NetworkRow? {
        guard var lease = holding.lease else { return nil }
        lease.expiresAt = expiresAt
        var next = self
        next.holding = .leased(lease, vnet: holding.vnet)
        return next
    }

    /// The block used by the unmanaged VNet `vnet`, not missing (an occupied row keeps its origin and when it was
    /// last seen; another row starts a new occupation).
    package func occupied(by vnet: String) -> NetworkRow {
        var occupation = holding.occupation ?? Occupation(vnet: nil)
        occupation.vnet = vnet
        occupation.sighting = occupation.sighting.found
        var next = self
        next.holding = .occupied(occupation)
        return next
    }

    /// The row with the Manager's marks of its VNet changed by `change` (a row without a VNet is unchanged).
    package func sighted(_ change: (inout Sighting) -> Void) -> NetworkRow {
        var next = self
        switch holding {
        case .occupied(var occupation):
            change(&occupation.sighting)
            next.holding = .occupied(occupation)
        default:
            guard let lease = holding.lease, var vnet = holding.vnet else { return self }
            change(&vnet.sighting)
            next.holding = holding.replacing(lease, vnet: vnet)
        }
        return next
    }
}

extension NetworkRow.Holding {
    /// The unmanaged VNet using the block.
    package var occupation: NetworkRow.Occupation? {
        if case .occupied(let occupation) = self { occupation } else { nil }
    }

    /// What holds a reserved block.
    package var reservedHold: NetworkRow.ReservedHold? {
        if case .reserved(let hold) = self { hold } else { nil }
    }

    /// The marks of the VNet the row depends on (its lease's, or the unmanaged one's).
    package var sighting: NetworkRow.Sighting? { occupation?.sighting ?? vnet?.sighting }
}
