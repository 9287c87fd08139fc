import IPAMCore
import Inventory
import NetworkMath

/// Dual-stack leases: an IPv4 block and an IPv6 block of the scope, held by one lease.
///
/// Each block comes from its own stock (read, or carved as stock when it runs out, exactly as a lease of one
/// block would find it), and the two are claimed in one transaction with the session row: a lease never holds
/// one block without the other, and a SessionId never gets two pairs.
extension VendorService {
    func allocatePair(_ request: LeaseRequest, v6 half: LeaseRequest, _ effort: inout Effort) async throws(DomainError)
        -> LeaseAnswer
    {
        if let answer = try await replay(request, &effort) { return answer }
        let started = time.uptime()
        var excluded = Set<String>()
        let (keyV4, keyV6) = (stockKey(request), stockKey(half))
        while true {
            guard time.uptime() - started < deadline, effort.rounds < 128 else {
                if let answer = try await replay(request, &effort) { return answer }
                throw .busy("no pair of blocks claimed after \(effort.claimAttempts) attempts")
            }
            effort.rounds += 1
            guard let v4 = try await stockedBlock(request, key: keyV4, excluded: excluded, &effort) else { continue }
            let v6: StockCache.Taken?
            do { v6 = try await stockedBlock(half, key: keyV6, excluded: excluded, &effort) } catch {
                await stockCache.giveBack(keyV4, v4)
                throw error
            }
            guard let v6 else {
                await stockCache.giveBack(keyV4, v4)
                continue
            }
            let draft = newLease(request, at: time.now())
            var lost: IPVersion?? = nil
            var doubted = false // the claim's answer was lost: a session found after it may be this claim's own
            let outcome = try await committed(&effort) { () async throws(InventoryError) -> Outcome? in
                switch try await inventory.claimPair(
                    v4: v4.candidate, v6: v6.candidate, for: draft, in: request.scope, now: draft.leasedAt)
                {
                case .won(let row, _): return .won(row)
                case .lost(let version):
                    lost = .some(version)
                    return .lost
                case .sessionTaken: return .sessionTaken
                case .outcomeUnknown: return nil
                }
            } unknown: { (effort: inout Effort) async throws(DomainError) -> Outcome in
                doubted = true
                return try await resolveUnknownOutcome(request, &effort)
            }
            switch outcome {
            case .won(let row):
                return await won(row, request, effort)
            case .sessionTaken:
                if !doubted { // nothing was written: both blocks are still free
                    await stockCache.giveBack(keyV4, v4)
                    await stockCache.giveBack(keyV6, v6)
                }
                if let answer = try await replay(request, &effort) { return answer }
            default:
                // The block someone else took is left out; the other goes back for the next try. Without a
                // version (or after an unknown outcome), both are left out: either may be taken by now.
                switch lost {
                case .some(.some(.v4)):
                    excluded.insert(v4.candidate.rowKey)
                    await stockCache.giveBack(keyV6, v6)
                case .some(.some(.v6)):
                    excluded.insert(v6.candidate.rowKey)
                    await stockCache.giveBack(keyV4, v4)
                default:
                    excluded.formUnion([v4.candidate.rowKey, v6.candidate.rowKey])
                }
                await backOffAfterConflict(&effort)
            }
        }
    }

    /// A free block for `request` (one version and size of the scope's own space) taken from this process's
    /// stock: read from storage when none is at hand, carved as stock when the scope has none. Nil: look again
    /// (another request of this process is carving, or a carve lost the head). Throws `PoolExhausted` when
    /// the space has no room left for one.
    func stockedBlock(_ request: LeaseRequest, key: String, excluded: Set<String>, _ effort: inout Effort)
        async throws(DomainError) -> StockCache.Taken?
    {
        if let taken = await stockCache.take(key) { return taken }
        _ = try await stockReads.turn(key) { () async throws(DomainError) -> Bool in
            try await readStock(request, key: key, excluded: excluded, &effort)
            return true
        }
        if let taken = await stockCache.take(key) { return taken }
        let carved = try await carveGate.ifLeading(key) { () async throws(DomainError) -> Outcome in
            try await carve(request, stockOnly: true, &effort)
        }
        switch carved {
        case .stocked?: return await stockCache.take(key)
        case .exhausted?:
            // Stock may still exist (claims in flight elsewhere may fail and leave it): only an empty stock index
            // means the space is out of blocks of this size.
            let remaining = try await storage(&effort) { () async throws(InventoryError) in
                try await inventory.availableCandidates(
                    in: request.scope, length: request.prefixLength, version: request.ipVersion, pool: nil, limit: 1)
            }
            guard remaining.isEmpty else {
                try? await time.sleep(.milliseconds(Int.random(in: 5...50)))
                return nil
            }
            throw exhausted(request)
        case .lost?:
            // another process carved first: its stock is there to read
            try? await time.sleep(.milliseconds(Int.random(in: 1...20)))
            return nil
        default:
            return nil
        }
    }
}
