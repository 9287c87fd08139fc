/// What an audit event records: every change to the inventory writes one, in the same transaction.
///
/// The raw values are what the table stores and what metrics and logs show.
package enum AuditAction: String, Sendable, CaseIterable {
    /// A stocked block was claimed for a new lease.
    case lease
    /// A block was carved for a new lease because no stock was left.
    case carveLease = "carve-lease"
    /// Free blocks were added to the stock (by a carve or Replenish).
    case stock
    /// A replay or `renewLease` extended a lease that was not anchored yet.
    case renew
    /// A replay took a quarantined or expired lease back.
    case revive
    /// The lease was released (it goes to `quarantined`): by its holder, or by the Manager when its
    /// VNet stayed gone for two complete Syncs.
    case release
    /// The Manager saw the lease's VNet deployed.
    case anchor
    /// The Manager saw the VNet of a quarantined, expired or released lease deployed after all.
    case reanchor = "re-anchor"
    /// The lease expired without a VNet and its grace passed.
    case reap
    /// A quarantine ended: the block is free again.
    case returnToStock = "return-to-stock"
    /// A complete Sync did not see the VNet the row depends on.
    case missing
    /// The VNet of a row marked missing is back.
    case seenAgain = "seen-again"
    /// An unmanaged VNet uses the block (or a newly seen one does).
    case occupy
    /// The unmanaged VNet that occupied a stocked block is gone: the block is free again.
    case free
    /// The unmanaged VNet of a row recorded for it is gone: the row is deleted.
    case forget
    /// A principal got a host address inside a network lease.
    case ipAllocated = "ip-allocated"
    /// A host address went back to its lease's free list (by its holder, the owner or an admin member,
    /// or with the member who held it).
    case ipReleased = "ip-released"
    /// A principal became a member of a network lease, or its role changed.
    case memberAdded = "member-added"
    /// A principal stopped being a member (its address went back with it).
    case memberRemoved = "member-removed"
    /// The network lease ended: the Manager cleared its host addresses and members.
    case hostIPsCleared = "host-ips-cleared"
    /// A scheduled (or manual) public-IP assignment took the IP off the NIC that held it.
    case publicIPDisassociated = "public-ip-disassociated"
    /// A scheduled (or manual) public-IP assignment put the IP on its VM's primary IP configuration.
    case publicIPAssociated = "public-ip-associated"
    /// An operator reserved a range: it is never vended or carved over while the reservation lasts.
    case reserve
    /// An existing network's block was brought under a lease as it is (`adoptNetwork`).
    case adopt
    /// An operator ended a reservation: its range is free space again.
    case unreserve
    /// A reservation passed its expiry: the Manager freed its range.
    case reservationExpired = "reservation-expired"
    /// A pool's (or a scope's own) space crossed one of its low-space thresholds (`alerts`).
    case spaceLow = "space-low"
    /// A pool's (or a scope's own) space that was low is no longer below any threshold.
    case spaceRecovered = "space-recovered"
}
