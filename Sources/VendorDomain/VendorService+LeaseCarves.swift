import CoreMetrics
import IPAMCore
import Inventory

extension VendorService {
    /// While storage paces the request's scope: carves the request's block in a round with the other callers of this
    /// process that wait for a block of the same scope and size, one transaction for them all
    /// (`Inventory.carveLeases`). Nil when the request is not one for it (a pool's, a dual-stack one, one that counts
    /// in quotas) or the scope is not paced: the caller carves as usual.
    ///
    /// At the partition's target every entity written is one fewer for someone else. A lease claimed from stock
    /// costs 7 (its stock row written and deleted, its network row written twice, its session row, event and
    /// history mark); one carved in a round costs 4 and its share of the head. Below the target, stock keeps
    /// allocations fast instead: claims share group-committed transactions, carves take turns at the head.
    func carveForWaiters(_ request: LeaseRequest, stockOnly: Bool, _ machine: inout Allocation, _ effort: Effort)
        async throws(DomainError) -> Allocation.Commit?
    {
        guard !stockOnly, carvesForWaiters(request), let space = configuration.space(request.scope, pool: nil) else {
            return nil
        }
        let draft = newLease(request, at: time.now())
        let (inventory, occupied, metrics, now) = (inventory, occupiedSpace, metrics, time.now)
        let scope = request.scope
        let length = request.prefixLength
        let version = request.ipVersion
        let outcome = try await committed(&machine, effort, unknown: { $0.isUnknown }) {
            () async throws(InventoryError) -> LeaseCarveOutcome in
            let outcome = await leaseCarves.join(
                stockKey(request), draft, limit: Inventory.leasesPerCarve(version),
                clash: { $0.lease.sessionId == $1.lease.sessionId }
            ) { drafts in
                // Run by the round's leader only (its closure; a waiter's is never called).
                effort.carves += 1
                metrics.carves.increment()
                let carve = LeaseCarveRequest(
                    scope: scope, space: space, length: length, version: version, leases: drafts)
                let outcomes = await inventory.carveLeases(carve, occupied: occupied, now: now).outcomes
                metrics.leasesCarvedInRounds.increment(by: outcomes.count { if case .won = $0 { true } else { false } })
                // The round waited under its leader's deadline (the earliest of the round's): a caller that came later
                // tries again within its own instead of hearing that storage is busy.
                return outcomes.enumerated().map { position, outcome in
                    if position > 0, case .failed(let error) = outcome, error.throttled { return .lost }
                    return outcome
                }
            }
            if case .failed(let error) = outcome { throw error }
            return outcome
        }
        switch outcome {
        case .won(let row): return .won(await won(row.value, request, effort))
        case .sessionTaken: return .sessionTaken
        case .lost, .failed: return .lost(nil)
        case .exhausted: return .exhausted
        case .outcomeUnknown: return .outcomeUnknown
        }
    }
}

extension VendorService {
    /// Whether the request's block is carved in a round of callers (`carveForWaiters`) instead of claimed from stock:
    /// a single block of the scope's own space, counted in no quota, while storage paces the scope and other
    /// allocations of the same scope and size are in flight in this process. Its stock is then not read either (a
    /// query per allocation would cost what the round saves).
    ///
    /// A caller alone claims from stock as below the target: a round of one shares its head with nobody, and the
    /// caller pays its session read as a round trip of its own before the round.
    func carvesForWaiters(_ request: LeaseRequest) -> Bool {
        request.pool == nil && request.v6Half == nil && quotaCharges(request).isEmpty
            && inventory.isPaced(request.scope) && allocating.count(stockKey(request)) > 1
    }
}

extension LeaseCarveOutcome {
    /// Whether storage's answer was lost (the lease may have committed).
    var isUnknown: Bool {
        if case .outcomeUnknown = self { return true }
        return false
    }
}
