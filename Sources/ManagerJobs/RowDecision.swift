package import Foundation
package import IPAMCore
package import Inventory

/// What Sync, Anchor and Reap do to one row: one case per outcome, decided by a pure function of the
/// row's state and one Resource Graph listing. Its audit action and metric label follow from the case.
package enum RowDecision: Sendable, Equatable {
    /// Nothing to write; `seen` when the row's VNet (or the VNet occupying it) is in the listing.
    case unchanged(seen: Bool)
    /// The lease's VNet is deployed with exactly its block: anchor it (again, when it was let go).
    case anchor(vnet: String)
    /// The lease's VNet is deployed with another prefix: reported, never fixed silently. The lease keeps its
    /// block, and the space the VNet really uses is never vended while it is listed (see `Reconciliation.plan`).
    case drift(String)
    /// A let-go lease's quarantine is over, but a listed VNet uses the block: it stays held (nothing written)
    /// until the VNet is gone from a complete listing, rather than going back to stock under a deployed network.
    case holdForVNet(vnet: String)
    /// A `leased` row expired more than the reap grace ago and was never deployed.
    case reap(expiredAt: Date)
    /// A quarantine ended: the block goes back to stock and its session row is deleted.
    case returnToStock
    /// The VNet of a row marked missing is in the listing again.
    case seenAgain
    /// A complete listing did not show the VNet the row depends on (`count` complete Syncs in a row).
    case missing(since: Date, count: Int)
    /// An anchored lease's VNet stayed gone for two complete Syncs and the release grace.
    case release(vnet: String)
    /// An unmanaged VNet uses the block.
    case occupy(vnet: String)
    /// The unmanaged VNet that occupied a stocked block is gone for two complete Syncs.
    case free(vnet: String)
    /// The VNet of a row recorded for an unmanaged VNet is gone for two complete Syncs: delete the row.
    case forget(vnet: String)

    /// The audit action the change writes; nil when nothing is written.
    package func auditAction(from state: NetworkState) -> AuditAction? {
        switch self {
        case .unchanged, .drift, .holdForVNet: return nil
        case .anchor: return state == .leased ? .anchor : .reanchor
        case .reap: return .reap
        case .returnToStock: return .returnToStock
        case .seenAgain: return .seenAgain
        case .missing: return .missing
        case .release: return .release
        case .occupy: return .occupy
        case .free: return .free
        case .forget: return .forget
        }
    }

    /// Whether the listing showed the VNet the row depends on (its `LastSeenAt` is then current).
    var seen: Bool {
        switch self {
        case .unchanged(let seen): return seen
        case .anchor, .seenAgain, .occupy: return true
        case .drift, .holdForVNet, .reap, .returnToStock, .missing, .release, .free, .forget: return false
        }
    }

    /// The change this decision makes to `stored` (the row as read: the change is written over it) at `now`, nil
    /// when it makes none.
    package func change(to stored: Stored<NetworkRow>, now: Date) -> RowChange? {
        let row = stored.value
        guard let action = auditAction(from: row.state) else { return nil }
        var next = row
        var detail = ""
        var deleteSession: String? = nil
        var deleteRow = false
        switch self {
        case .unchanged, .drift, .holdForVNet:
            return nil
        case .anchor(let vnet):
            guard let anchored = row.anchored(to: vnet, at: now) else { return nil }
            next = anchored
            detail = "VNet \(vnet)"
        case .reap(let expiredAt):
            guard let reaped = row.quarantined(at: now) else { return nil }
            next = reaped
            detail = "expired \(ISO8601.format(expiredAt)) and never deployed"
        case .returnToStock:
            next = .available(row.prefix, pool: row.pool) // back to its pool's stock
            detail = "quarantine ended"
            deleteSession = row.sessionId
        case .seenAgain:
            next = row.sighted { $0 = $0.found }
        case .missing(let since, let count):
            next = row.sighted {
                $0.missingSince = since
                $0.missingCount = count
            }
        case .release(let vnet):
            guard let released = row.quarantined(at: now)?.sighted({ $0 = $0.found }) else { return nil }
            next = released
            detail = "VNet \(vnet) gone for two complete Syncs"
        case .occupy(let vnet):
            next = row.occupied(by: vnet)
            detail = "unmanaged VNet \(vnet)"
        case .free(let vnet):
            next = .available(row.prefix, pool: row.pool)
            detail = "VNet \(vnet) gone for two complete Syncs"
        case .forget(let vnet):
            deleteRow = true
            detail = "VNet \(vnet) gone for two complete Syncs"
        }
        if seen { next = next.sighted { $0.lastSeenAt = now } }
        return RowChange(
            before: stored, after: next, action: action, detail: detail, deleteSession: deleteSession,
            deleteRow: deleteRow
        )
    }
}
