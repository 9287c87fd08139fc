import IPAMCore
import Inventory
import NetworkMath

/// Dual-stack leases: an IPv4 block and an IPv6 block of the scope, held by one lease.
///
/// Each block comes from its own stock (read, or carved as stock when it runs out, exactly as a lease of one
/// block would find it), and the two are claimed in one transaction with the session row: a lease never holds
/// one block without the other, and a SessionId never gets two pairs. The allocation machine
/// (`AllocationMachine`, shape `.pair`) decides the steps; this is the claim it asks for.
extension VendorService {
    /// Claims `v4` and `v6` for `request` in one transaction.
    func claimPair(
        _ v4: StockCache.Taken, _ v6: StockCache.Taken, _ request: LeaseRequest, _ machine: inout Allocation,
        _ effort: Effort
    ) async throws(DomainError) -> Allocation.Commit {
        let draft = newLease(request, at: time.now())
        let outcome = try await committed(&machine, effort, unknown: { $0 == .outcomeUnknown }) {
            () async throws(InventoryError) in
            try await inventory.claimPair(
                v4: v4.candidate, v6: v6.candidate, for: draft, in: request.scope, now: draft.leasedAt)
        }
        switch outcome {
        case .won(let row, _): return .won(await won(row.value, request, effort))
        // The block someone else took is left out; the other goes back for the next try. Without a
        // version, both are left out: either may be taken by now.
        case .lost(let version): return .lost(version.map { $0 == .v6 ? .v6 : .v4 })
        case .sessionTaken: return .sessionTaken
        case .outcomeUnknown: return .outcomeUnknown
        }
    }
}

extension LeaseRequest {
    /// The request for one side of an allocation: the IPv6 half of a dual-stack request, else itself.
    func side(_ side: AllocationMachine<StockCache.Taken, [UsageRow], LeaseAnswer>.Side) -> LeaseRequest {
        side == .v6 ? (v6Half ?? self) : self
    }
}
