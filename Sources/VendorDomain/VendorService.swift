import CoreMetrics
import Foundation
package import IPAMCore
package import Inventory
package import Logging
import NetworkMath

/// The Vendor's behaviour: hand out a block nobody else holds, exactly once per SessionId.
///
/// Protocol (docs/Design.md, "The claim"): claim a stocked block of the size with one transaction that
/// inserts the session row, deletes the stock row under `If-Match` and records the lease and its event;
/// when the stock is empty, carve the smallest fit under the scope's `head` ETag. The session row's
/// insert is what makes a SessionId get at most one block: any second claim for it fails as a whole.
/// Replays (the same SessionId and body again) are answered from the session: see `replay`.
package struct VendorService: Sendable {
    package let configuration: IPAMConfiguration
    package let inventory: Inventory
    package private(set) var logger: Logger
    package let metrics: VendorMetrics
    package let carveGate: SingleFlight
    /// While storage paces a scope: lease carves, one transaction per round of callers (`carveForWaiters`).
    package let leaseCarves: CallerRounds<LeaseDraft, LeaseCarveOutcome>
    /// Allocations in flight per scope and size (`stockKey`): rounds only when a caller has company.
    package let allocating: CallerCount
    /// One stock read per (scope, size) at a time; callers arriving meanwhile use its result.
    package let stockReads: SingleFlight
    package let stockCache: StockCache
    /// Sessions this process wrote or read: a replay of one costs a single point read.
    package let sessions: SessionCache
    /// Every network row's prefix per scope, kept current from the `head` log (so a carve reads one row).
    package let occupiedSpace: OccupiedSpace
    /// Total time one request may spend on storage before answering 503.
    package let deadline: Duration
    /// Keys and seals principals (`AUDIT_SALT`): owners, members and holders of host addresses.
    package let redactor: PrincipalRedactor
    /// Audit events name callers by their keyed hash instead of their name (`AUDIT_REDACT_ACTORS`).
    package let redactActors: Bool
    /// One host-IP change per network lease at a time in this process.
    let hostIPLocks = KeyedLock()
    package let time: TimeSource

    package init(
        configuration: IPAMConfiguration, inventory: Inventory, redactor: PrincipalRedactor, logger: Logger,
        metrics: VendorMetrics = VendorMetrics(),
        deadline: Duration = .seconds(20), time: TimeSource = .system, redactActors: Bool = false,
        sessionCacheEntries: Int = SessionCache.defaultCapacity
    ) {
        self.configuration = configuration
        self.inventory = inventory
        self.logger = logger
        self.metrics = metrics
        self.carveGate = SingleFlight()
        self.leaseCarves = CallerRounds()
        self.allocating = CallerCount()
        self.stockReads = SingleFlight()
        self.stockCache = StockCache(time: time)
        self.sessions = SessionCache(capacity: sessionCacheEntries)
        self.occupiedSpace = OccupiedSpace()
        self.deadline = deadline
        self.redactor = redactor
        self.redactActors = redactActors
        self.time = time
    }

    /// The same service logging through `logger` (e.g. one carrying the request id).
    package func with(logger: Logger) -> VendorService {
        var copy = self
        copy.logger = logger
        return copy
    }

    /// What one `getNewNetwork` cost (for logs, headers and the benchmark): statistics only (whether a commit's
    /// outcome is in doubt is the allocation machine's state, `AllocationMachine.commitInDoubt`).
    ///
    /// A collector the request owns and hands to the allocation it starts: each call on the way counts into it,
    /// and the request reads it once the answer is there. Other operations count nothing.
    package final class Effort {
        /// Claim or carve transactions sent.
        package internal(set) var claimAttempts = 0
        /// Rounds of the allocation loop (queries, waits for another carve, commits).
        package internal(set) var rounds = 0
        package internal(set) var conflicts = 0
        package internal(set) var storageCalls = 0
        /// Stock reads and carves this request led.
        package internal(set) var stockReads = 0
        package internal(set) var carves = 0
        package init() {}
    }

    // MARK: getNewNetwork

    /// The allocation machine as this service drives it.
    typealias Allocation = AllocationMachine<StockCache.Taken, [UsageRow], LeaseAnswer>

    /// A new lease for `request`, or the one its SessionId already has (a replay).
    ///
    /// Storage is given the request's deadline: while a throttled scope is paced (docs/Design.md, "At the
    /// partition's target") the request waits its turn until then, and only then answers 503 `Busy`. Its events
    /// are stamped by this service's clock when their transaction goes out (`EventClock`: a claim waiting in group
    /// commit is stamped when its round is sent).
    package func getNewNetwork(_ request: LeaseRequest, effort: Effort) async throws(DomainError) -> LeaseAnswer {
        let uptime = time.uptime
        let end = uptime() + deadline
        let result = await EventClock.$now.withValue(EventClock.Source(time.now)) {
            await Inventory.withDeadline(remaining: { end - uptime() }) {
                await newNetworkResult(request, effort: effort)
            }
        }
        return try result.get()
    }

    /// `newNetwork` as a value: the typed `do throws` kept in a function of its own, out of the task-locals'
    /// closures (release builds of Swift 6.3 miscompiled a typed `do throws` inside a closure before, see
    /// `EC2Discovery`).
    private func newNetworkResult(_ request: LeaseRequest, effort: Effort) async -> Result<LeaseAnswer, DomainError> {
        do throws(DomainError) {
            return .success(try await newNetwork(request, effort: effort))
        } catch {
            return .failure(error)
        }
    }

    private func newNetwork(_ request: LeaseRequest, effort: Effort) async throws(DomainError) -> LeaseAnswer {
        // A session this process knows is a replay: one point read of its network row answers it.
        if let known = await sessions.lookup(request.sessionId, in: request.scope),
            let answer = try await replay(request, known: known, counting: effort)
        {
            return answer
        }
        let quotas = request.v6Half == nil ? quotaCharges(request) : []
        var machine = Allocation(
            request.v6Half == nil ? .single(pool: request.pool != nil, quotas: !quotas.isEmpty) : .pair,
            deadline: deadline)
        let key = stockKey(request)
        allocating.enter(key)
        defer { allocating.leave(key) }
        do {
            return try await allocate(request, quotas: quotas, &machine, effort)
        } catch {
            let (unknown, giveBack) = machine.failed(error)
            await giveBackToStock(giveBack, request)
            guard unknown else { throw error }
            // Never report a failure storage did not confirm: the claim may have committed.
            throw .outcomeUnknown(sessionId: request.sessionId)
        }
    }

    /// Runs `machine`'s actions (storage, this process's caches and single flights, sleeps) and feeds their
    /// results back until it answers or refuses.
    private func allocate(
        _ request: LeaseRequest, quotas: [QuotaCharge], _ machine: inout Allocation, _ effort: Effort
    ) async throws(DomainError) -> LeaseAnswer {
        let started = time.uptime()
        var action = machine.start()
        while true {
            await giveBackToStock(machine.takeGiveBack(), request)
            switch action {
            case .readSession:
                action = machine.sessionRead(try await replay(request, counting: effort))
            case .checkSessionExists:
                let session = try await storage(counting: effort) { () async throws(InventoryError) in
                    try await inventory.session(request.sessionId, in: request.scope)
                }
                action = machine.sessionExists(session != nil)
            case .checkPoolRules(let readingCounters):
                try checkRequester(request)
                guard readingCounters else {
                    action = machine.poolRulesPassed()
                    continue
                }
                let read = try await readCounters(quotas, request, effort)
                action = machine.countersRead(read, refusal: counterRefusal(read, request))
            case .readCounters:
                let read = try await readCounters(quotas, request, effort)
                action = machine.countersRead(read, refusal: counterRefusal(read, request))
            case .startRound:
                action = machine.roundStarts(elapsed: time.uptime() - started)
                effort.rounds = machine.rounds
            case .takeStock(let side):
                if let taken = await stockCache.take(stockKey(request, side)) {
                    action = machine.stockTaken(taken, rowKey: taken.candidate.rowKey)
                } else {
                    action = machine.stockEmpty()
                }
            case .readStock(let side, let checkingSession):
                // The caller that leads the read reads its session row before it (when not read yet): a replay that
                // reaches a Vendor with no stock at hand is answered without a stock read, and a new allocation pays
                // this one point read only when it leads a stock read (about once per 48 claims).
                // Paced, the block is carved in a round of callers (`carveForWaiters`), not claimed from stock: the
                // lead reads its session and no stock (a query per round would cost what the round saves).
                let readsStock = !carvesForWaiters(request)
                let key = stockKey(request, side)
                let excluded = machine.excluded
                let turn = try await stockReads.turn(key, worked: { $0 == nil }) {
                    () async throws(DomainError) -> LeaseAnswer? in
                    if checkingSession, let answer = try await replay(request, counting: effort) { return answer }
                    if readsStock { try await readStock(request.side(side), key: key, excluded: excluded, effort) }
                    return nil
                }
                switch turn {
                case .led(let replay): action = machine.stockReadLed(replay: replay)
                case .waited(let leaderWorked): action = machine.stockReadWaited(leaderWorked: leaderWorked)
                }
            case .carve(let side, let checkingSession, let stockOnly):
                if let outcome = try await carveForWaiters(request, stockOnly: stockOnly, &machine, effort) {
                    action = machine.committed(outcome)
                    continue
                }
                enum Lead {
                    case replayed(LeaseAnswer)
                    case carved(Allocation.Commit)
                }
                let lead = try await carveGate.ifLeading(stockKey(request, side)) {
                    () async throws(DomainError) -> Lead in
                    if checkingSession, let answer = try await replay(request, counting: effort) {
                        return .replayed(answer)
                    }
                    return .carved(try await carve(request.side(side), stockOnly: stockOnly, &machine, effort))
                }
                switch lead {
                case nil: action = machine.carveWaited()
                case .replayed(let answer)?: action = machine.carveReplayed(answer)
                case .carved(let outcome)?: action = machine.committed(outcome)
                }
            case .claim(let held, let counters):
                let outcome =
                    held.count == 2
                    ? try await claimPair(held[0].block, held[1].block, request, &machine, effort)
                    : try await claim(held[0].block.candidate, request, usage: counters ?? [], &machine, effort)
                action = machine.committed(outcome)
            case .backOff(let ceiling):
                // Colliding Vendors spread out: the pause grows with this request's conflicts.
                effort.conflicts += 1
                metrics.claimConflicts.increment()
                try? await time.sleep(.milliseconds(Int.random(in: 0...ceiling)))
                action = machine.paused()
            case .pause(let milliseconds):
                try? await time.sleep(.milliseconds(Int.random(in: milliseconds)))
                action = machine.paused()
            case .checkRemainingStock(let side):
                let sideRequest = request.side(side)
                let remaining = try await storage(counting: effort) { () async throws(InventoryError) in
                    try await inventory.availableCandidates(
                        in: sideRequest.scope, length: sideRequest.prefixLength, version: sideRequest.ipVersion,
                        pool: sideRequest.pool, limit: 1)
                }
                action = machine.remainingStock(!remaining.isEmpty)
            case .answer(let answer):
                return answer
            case .refuseExhausted(let side):
                throw exhausted(request.side(side))
            case .refuseBusy:
                throw .busy(
                    "no \(machine.shape == .pair ? "pair of blocks" : "block") claimed after \(effort.claimAttempts) attempts"
                )
            case .refuse(let refusal):
                throw refusal
            }
        }
    }

    /// Puts blocks the allocation did not use back into this process's stock.
    private func giveBackToStock(_ blocks: [Allocation.Held], _ request: LeaseRequest) async {
        for held in blocks { await stockCache.giveBack(stockKey(request, held.side), held.block) }
    }

    private func readCounters(_ quotas: [QuotaCharge], _ request: LeaseRequest, _ effort: Effort)
        async throws(DomainError) -> [UsageRow]
    {
        try await storage(counting: effort) { () async throws(InventoryError) in
            try await inventory.usage(quotas, in: request.scope)
        }
    }

    private func counterRefusal(_ read: [UsageRow], _ request: LeaseRequest) -> DomainError? {
        quotaRefusal(read, adding: UsageRow.addresses(length: request.prefixLength, version: request.ipVersion))
    }

    /// `PoolExhausted` for the request's size (counted in the metrics unless `counting` is false: a dry run's).
    func exhausted(_ request: LeaseRequest, counting: Bool = true) -> DomainError {
        if counting { metrics.exhausted.increment() }
        return .poolExhausted(
            scope: request.scope, prefixLength: request.prefixLength, pool: request.pool, version: request.ipVersion)
    }

    /// Reads stock into the cache: pages of the stock index in key order until it yields blocks this
    /// process has not handed out already (those in the first pages may be claims still in flight here).
    func readStock(_ request: LeaseRequest, key: String, excluded: Set<String>, _ effort: Effort)
        async throws(DomainError)
    {
        var after: String? = nil
        for _ in 0..<8 {
            effort.stockReads += 1
            metrics.stockReads.increment()
            let page = try await storage(counting: effort) { () async throws(InventoryError) in
                try await inventory.availableCandidates(
                    in: request.scope, length: request.prefixLength, version: request.ipVersion, pool: request.pool,
                    limit: 48, after: after)
            }
            await stockCache.fill(key, page.filter { !excluded.contains($0.rowKey) })
            guard page.count == 48, await stockCache.count(key) == 0, let last = page.last else { return }
            after = last.rowKey
        }
    }

    private func claim(
        _ candidate: Inventory.StockCandidate, _ request: LeaseRequest, usage: [UsageRow],
        _ machine: inout Allocation, _ effort: Effort
    ) async throws(DomainError) -> Allocation.Commit {
        let draft = newLease(request, at: time.now())
        let outcome = try await committed(&machine, effort, unknown: { $0 == .outcomeUnknown }) {
            () async throws(InventoryError) in
            try await inventory.claim(candidate, for: draft, in: request.scope, now: draft.leasedAt, usage: usage)
        }
        switch outcome {
        case .won(let row): return .won(await won(row.value, request, effort))
        case .lost: return .lost(nil)
        case .sessionTaken: return .sessionTaken
        case .usageChanged: return .usageChanged
        case .outcomeUnknown: return .outcomeUnknown
        }
    }

    /// Carves for `request` under the scope's head: its block and stock, or (`stockOnly`, and always for a pool,
    /// whose leases are claimed from stock to count in its quotas) stock alone.
    func carve(_ request: LeaseRequest, stockOnly: Bool, _ machine: inout Allocation, _ effort: Effort)
        async throws(DomainError) -> Allocation.Commit
    {
        guard let space = configuration.space(request.scope, pool: request.pool) else { return .exhausted }
        metrics.carves.increment()
        effort.carves += 1
        let key = stockKey(request)
        // Our block plus fresh stock: enough for the manifest and for this process's waiting callers,
        // so the callers behind this one claim instead of queueing on the head lock.
        let waiting = await carveGate.waiting(key)
        let target =
            configuration.stockTargets(request.scope, pool: request.pool, version: request.ipVersion)[
                request.prefixLength] ?? 2
        let wanted = min(45 + 3 * Inventory.stockRowsPerTransaction, max(target, 4 * waiting + 4 * effort.conflicts))
        let draft = request.pool == nil && !stockOnly ? newLease(request, at: time.now()) : nil
        var carve = CarveRequest(
            scope: request.scope, space: space, length: request.prefixLength, lease: draft,
            stock: wanted + (draft == nil ? 1 : 0),
            detail: draft == nil ? "stocked for a claim" : "stocked while carving")
        carve.pool = request.pool
        carve.version = request.ipVersion
        let now = time.now
        let receipt = try await committed(&machine, effort, unknown: { $0.outcome == .outcomeUnknown }) {
            () async throws(InventoryError) in
            try await inventory.carve(carve, occupied: occupiedSpace, now: now)
        }
        effort.storageCalls += max(0, receipt.reads + receipt.transactions - 1) // `committed` counted the commit
        switch receipt.outcome {
        case .won(let lease, let stocked):
            await stockCache.fill(key, stocked)
            if let lease { return .won(await won(lease.value, request, effort)) }
            return stocked.isEmpty ? .exhausted : .stocked
        case .lost: return .lost(nil)
        case .sessionTaken: return .sessionTaken
        case .exhausted: return .exhausted
        case .outcomeUnknown: return .outcomeUnknown
        }
    }

    /// Sends one claim or carve transaction, counted, with the machine told a commit is out (its outcome in doubt
    /// until known); `unknown` says whether storage lost its answer.
    func committed<T>(
        _ machine: inout Allocation, _ effort: Effort, unknown: (T) -> Bool,
        _ body: () async throws(InventoryError) -> T
    ) async throws(DomainError) -> T {
        effort.storageCalls += 1
        effort.claimAttempts += 1
        machine.commitSent()
        let outcome: T
        do { outcome = try await body() } catch {
            // A thrown failure wrote nothing (a lost answer is an outcome, not a throw); throttled, it says so for sure.
            if error.throttled { machine.commitNotApplied() }
            logger.error("storage failure", metadata: ["error": .string(error.detail)])
            throw .storage(error)
        }
        if unknown(outcome) {
            logger.warning("claim outcome unknown; reading the session row")
            metrics.ambiguousCommits.increment()
        }
        return outcome
    }

    // MARK: Replays

    /// The existing lease of this SessionId, nil when there is none.
    ///
    /// At most two point reads (the session row, unless `known` gives it, then its network row) and a write
    /// only when the lease is due: a `leased` row with less than half of `LEASE_DURATION_HOURS` left is
    /// renewed, a quarantined or expired one revived. So a pipeline that plans every few minutes costs one
    /// write per half-lifetime of its lease, not one per plan.
    ///
    /// `dryRun` (a preview): the same reads and refusals, but nothing is written or remembered: a lease that is
    /// due is answered as the renewal or revival would leave it.
    func replay(
        _ request: LeaseRequest, known: SessionRow? = nil, counting effort: Effort? = nil, dryRun: Bool = false
    )
        async throws(DomainError)
        -> LeaseAnswer?
    {
        var known = known
        for _ in 0..<8 {
            let session: SessionRow
            if let row = known {
                session = row
            } else {
                guard
                    let row = try await storage(
                        counting: effort,
                        { () async throws(InventoryError) in
                            try await inventory.session(request.sessionId, in: request.scope)
                        })
                else {
                    return nil
                }
                session = row
            }
            // Whose session it is comes first: another principal learns nothing of it (not even whether its body matches).
            let ownerRecorded = session.ownerKey != nil
            if ownerRecorded {
                try Self.checkSessionOwner(session.ownerKey, session: request.sessionId, caller: request.owner)
                try Self.checkRequestHash(session, request)
            }
            let found = try await storage(counting: effort) { () async throws(InventoryError) in
                try await inventory.network(session.networkRowKey, in: request.scope)
            }
            if !ownerRecorded, let row = found, row.leaseId == session.leaseId {
                // A session row from before sessions recorded their owner: its lease's owner is the session's.
                try Self.checkSessionOwner(row.ownerKey, session: request.sessionId, caller: request.owner)
                try Self.checkRequestHash(session, request)
            }
            guard let row = found, row.leaseId == session.leaseId else {
                if known != nil {
                    // What this process remembered is gone (the block went back to stock): ask storage.
                    await sessions.forget(request.sessionId, in: request.scope)
                    known = nil
                    continue
                }
                throw .leaseGone(sessionId: request.sessionId, leaseId: session.leaseId, state: nil)
            }
            if known == nil, !dryRun { await sessions.remember(session, in: request.scope) }
            let at = time.now()
            let lifetime = configuration.leaseDuration.seconds
            switch row.state {
            case .anchored:
                return answer(row.value, request, created: false)
            case .leased where (row.expiresAt ?? .distantPast) > at.addingTimeInterval(lifetime / 2):
                return answer(row.value, request, created: false)
            case .leased, .quarantined, .expired:
                // Terraform replays the POST on every plan/refresh: renew; a replay during quarantine revives.
                guard let renewed = row.value.leased(until: at.addingTimeInterval(lifetime)) else {
                    throw .leaseGone(sessionId: request.sessionId, leaseId: session.leaseId, state: row.state)
                }
                // A revived lease counts in its quotas again: it must fit them like a new one.
                var counters: [UsageRow]? = nil
                if row.state != .leased, !row.quotaKeys.isEmpty {
                    let read = try await storage(counting: effort) { () async throws(InventoryError) in
                        try await inventory.usage(of: row.value, in: request.scope)
                    }
                    if let refusal = quotaRefusal(read, adding: UsageRow.addresses(in: row.prefix)) { throw refusal }
                    counters = read
                }
                let partner = try await self.partner(of: row.value, in: request.scope, counting: effort)
                if dryRun { return answer(renewed, request, created: false) }
                let outcome = try await storage(counting: effort) { () async throws(InventoryError) in
                    try await inventory.transition(
                        row, to: renewed, action: row.state == .leased ? .renew : .revive, in: request.scope, now: at,
                        usage: counters, partner: partner)
                }
                guard case .done(let written) = outcome else {
                    known = session
                    continue // changed under us (or unknown): read again
                }
                return answer(written.value, request, created: false)
            case .released:
                throw .leaseReleased(sessionId: request.sessionId, leaseId: session.leaseId, state: row.state)
            default:
                throw .leaseGone(sessionId: request.sessionId, leaseId: session.leaseId, state: row.state)
            }
        }
        throw .busy("the lease kept changing while it was renewed")
    }

    /// Refuses a SessionId that another principal created (409 `SessionOwnedByAnother`): a session is its
    /// creator's, whatever role another caller has (admins reach others' leases by lease id). Not checked for a
    /// lease from before owners were recorded (`owner` nil), nor without a caller (`caller` nil: internal use).
    static func checkSessionOwner(_ owner: String?, session id: String, caller: Principal?) throws(DomainError) {
        guard let owner, let caller, owner != caller.key else { return }
        throw .sessionOwnedByAnother(sessionId: id)
    }

    /// Refuses a replay whose body differs from the session's first request (409 `SessionConflict`).
    static func checkRequestHash(_ session: SessionRow, _ request: LeaseRequest) throws(DomainError) {
        guard session.requestHash != request.requestHash else { return }
        throw .sessionConflict(sessionId: request.sessionId, leaseId: session.leaseId)
    }

    // MARK: Helpers

    /// A new lease's answer, its session remembered in this process and logged (as `message`: leased, adopted).
    func won(_ row: NetworkRow, _ request: LeaseRequest, _ effort: Effort?, message: Logger.Message = "leased") async
        -> LeaseAnswer
    {
        var session = SessionRow(
            sessionId: request.sessionId, leaseId: row.leaseId ?? "", networkRowKey: row.rowKey,
            requestHash: request.requestHash, createdAt: row.leasedAt ?? time.now())
        session.networkRowKeyV6 = row.pairKey
        session.ownerKey = row.ownerKey
        await sessions.remember(session, in: request.scope)
        logger.info(
            message,
            metadata: [
                "cidr": .string(row.prefixes.map(\.description).joined(separator: " ")),
                "session": .string(request.sessionId),
                "lease": .string(row.leaseId ?? ""), "attempts": .stringConvertible(effort?.claimAttempts ?? 0),
            ])
        return answer(row, request, created: true)
    }

    func newLease(_ request: LeaseRequest, at: Date) -> LeaseDraft {
        var draft = LeaseDraft(
            leaseId: LeaseDraft.newLeaseId(), sessionId: request.sessionId, requestHash: request.requestHash,
            requester: request.requester,
            leasedAt: at, expiresAt: at.addingTimeInterval(configuration.leaseDuration.seconds),
            ownerKey: request.owner?.key, sealedOwner: request.owner.map(redactor.seal), subnets: request.subnets,
            tags: request.tags)
        draft.pool = request.pool
        draft.quotaKeys = quotaCharges(request).map(\.key)
        draft.namesItsBlock = true
        return draft
    }

    /// Where this process keeps stock of `side` of the request.
    func stockKey(_ request: LeaseRequest, _ side: Allocation.Side) -> String { stockKey(request.side(side)) }

    /// Where this process keeps stock read for the request: per scope, pool and size.
    func stockKey(_ request: LeaseRequest) -> String {
        "\(request.scope.partitionKey)/\(request.pool ?? "")/\(request.ipVersion == .v6 ? "v6/" : "")\(request.prefixLength)"
    }

    func answer(_ row: NetworkRow, _ request: LeaseRequest, created: Bool) -> LeaseAnswer {
        let layout = FreeSpace.layout(request.subnets.map { ($0.name, $0.prefixLength) }, in: row.prefix) ?? []
        var answer = LeaseAnswer(
            leaseId: row.leaseId ?? "", sessionId: request.sessionId, scope: request.scope, prefix: row.prefix,
            state: row.state,
            expiresAt: row.state == .anchored ? nil : row.expiresAt, subnets: layout, created: created)
        if let v6 = row.partnerPrefix {
            answer.prefixV6 = v6
            answer.subnetsV6 = row.subnetLayoutV6
        }
        return answer
    }

    /// The other row of a dual-stack lease, read for a change of both (nil for a lease of one block).
    /// A partner that is gone or tells another lease is a broken pair: refused rather than half-changed.
    func partner(of row: NetworkRow, in scope: Scope, counting effort: Effort? = nil) async throws(DomainError)
        -> Stored<NetworkRow>?
    {
        guard let key = row.pairKey else { return nil }
        let found = try await storage(counting: effort) { () async throws(InventoryError) in
            try await inventory.network(key, in: scope)
        }
        guard let partner = found, partner.leaseId == row.leaseId, partner.pairKey == row.rowKey else {
            logger.error(
                "dual-stack lease without its partner row",
                metadata: ["lease": .string(row.leaseId ?? ""), "partner": .string(key)])
            throw .partnerMissing(leaseId: row.leaseId ?? "", rowKey: key)
        }
        return partner
    }

    /// Runs one Inventory call, mapping a storage failure to 503; counted in `effort` when an allocation's.
    package func storage<T>(counting effort: Effort? = nil, _ body: () async throws(InventoryError) -> T)
        async throws(DomainError) -> T
    {
        effort?.storageCalls += 1
        do { return try await body() } catch {
            logger.error("storage failure", metadata: ["error": .string(error.detail)])
            throw .storage(error)
        }
    }
}

extension Duration {
    /// Seconds as a Double (the Vendor's and its edge's).
    package var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}
