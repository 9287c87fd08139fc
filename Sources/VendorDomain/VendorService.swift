import CoreMetrics
import Foundation
public import IPAMCore
public import Inventory
public import Logging
import NetworkMath

/// The Vendor's behaviour: hand out a block nobody else holds, exactly once per SessionId.
///
/// Protocol (docs/Design.md, "The claim"): claim a stocked block of the size with one transaction that
/// inserts the session row, deletes the stock row under `If-Match` and records the lease and its event;
/// when the stock is empty, carve the smallest fit under the scope's `head` ETag. The session row's
/// insert is what makes a SessionId get at most one block: any second claim for it fails as a whole.
/// Replays (the same SessionId and body again) are answered from the session: see `replay`.
public struct VendorService: Sendable {
    public let configuration: IPAMConfiguration
    public let inventory: Inventory
    public private(set) var logger: Logger
    public let metrics: VendorMetrics
    public let carveGate: SingleFlight
    /// One stock read per (scope, size) at a time; callers arriving meanwhile use its result.
    public let stockReads: SingleFlight
    public let stockCache: StockCache
    /// Sessions this process wrote or read: a replay of one costs a single point read.
    public let sessions: SessionCache
    /// Every network row's prefix per scope, kept current from the `head` log (so a carve reads one row).
    public let occupiedSpace: OccupiedSpace
    /// Total time one request may spend on storage before answering 503.
    public let deadline: Duration
    /// Keys and seals principals (`AUDIT_SALT`): owners, members and holders of host addresses.
    public let redactor: PrincipalRedactor
    /// Audit events name callers by their keyed hash instead of their name (`AUDIT_REDACT_ACTORS`).
    public let redactActors: Bool
    /// One host-IP change per network lease at a time in this process.
    let hostIPLocks = KeyedLock()
    package let time: TimeSource

    public init(
        configuration: IPAMConfiguration, inventory: Inventory, redactor: PrincipalRedactor, logger: Logger,
        metrics: VendorMetrics = VendorMetrics(),
        deadline: Duration = .seconds(20), time: TimeSource = .system, redactActors: Bool = false
    ) {
        self.configuration = configuration
        self.inventory = inventory
        self.logger = logger
        self.metrics = metrics
        self.carveGate = SingleFlight()
        self.stockReads = SingleFlight()
        self.stockCache = StockCache(time: time)
        self.sessions = SessionCache()
        self.occupiedSpace = OccupiedSpace()
        self.deadline = deadline
        self.redactor = redactor
        self.redactActors = redactActors
        self.time = time
    }

    /// The same service logging through `logger` (e.g. one carrying the request id).
    public func with(logger: Logger) -> VendorService {
        var copy = self
        copy.logger = logger
        return copy
    }

    /// What one `getNewNetwork` cost (for logs, headers and the benchmark).
    public struct Effort: Sendable {
        /// Claim or carve transactions sent.
        public var claimAttempts = 0
        /// Rounds of the allocation loop (queries, waits for another carve, commits).
        public var rounds = 0
        public var conflicts = 0
        public var storageCalls = 0
        /// Stock reads and carves this request led.
        public var stockReads = 0
        public var carves = 0
        /// A commit was sent and its outcome is not known yet (its answer was lost).
        public var commitOutcomeUnknown = false
        public init() {}
    }

    // MARK: getNewNetwork

    public func getNewNetwork(_ request: LeaseRequest, effort: inout Effort) async throws(DomainError) -> LeaseAnswer {
        do {
            return try await allocate(request, &effort)
        } catch  where error.code == .storageUnavailable || error.code == .busy {
            guard effort.commitOutcomeUnknown else { throw error }
            // Never report a failure storage did not confirm: the claim may have committed.
            throw DomainError(
                .outcomeUnknown,
                "storage did not confirm whether the lease was created; retry with the same SessionId to get it",
                details: ["sessionId": request.sessionId], retryAfter: 1)
        }
    }

    private func allocate(_ request: LeaseRequest, _ effort: inout Effort) async throws(DomainError) -> LeaseAnswer {
        // A session this process knows is a replay: one point read of its network row answers it.
        if let known = await sessions.lookup(request.sessionId, in: request.scope),
            let answer = try await replay(request, known: known, &effort)
        {
            return answer
        }
        if let half = request.v6Half { return try await allocatePair(request, v6: half, &effort) }
        let started = time.uptime()
        var excluded = Set<String>()
        var random = SystemRandomNumberGenerator()
        var sessionChecked = false
        // A pool's rules and quotas: a replay is answered before they are checked (a lease already held is
        // never refused), and a request over its quota takes no stock and carves nothing.
        var counters: [UsageRow]? = nil
        let quotas = quotaCharges(request)
        if request.pool != nil {
            if let answer = try await replay(request, &effort) { return answer }
            sessionChecked = true
            try checkRequester(request)
            if !quotas.isEmpty {
                let read = try await storage(&effort) { () async throws(InventoryError) in
                    try await inventory.usage(quotas, in: request.scope)
                }
                if let refusal = quotaRefusal(
                    read, adding: UsageRow.addresses(length: request.prefixLength, version: request.ipVersion))
                {
                    throw refusal
                }
                counters = read
            }
        }
        /// Reads the session row once per request: a replay's answer, or nil for a new session.
        func checkSession() async throws(DomainError) -> LeaseAnswer? {
            sessionChecked = true
            return try await replay(request, &effort)
        }
        let gateKey = stockKey(request)
        while true {
            guard time.uptime() - started < deadline, effort.rounds < 128 else {
                // Before saying "busy", make sure no earlier attempt (here or on a Vendor that died) holds a block for this session.
                if let answer = try await replay(request, &effort) { return answer }
                throw .busy("no block claimed after \(effort.claimAttempts) attempts")
            }
            effort.rounds += 1
            var taken = await stockCache.take(gateKey)
            if taken == nil {
                // Stock must be read first. The caller that leads the read reads its session row before it: a
                // replay that reaches a Vendor with no stock at hand is answered without a stock read, and a new
                // allocation pays this one point read only when it leads a stock read (about once per 48 claims).
                // Callers waiting for the read claim what it brings; a replay among them gives its block back.
                let turn = try await stockReads.turn(gateKey, worked: { $0 == nil }) {
                    () async throws(DomainError) -> LeaseAnswer? in
                    if !sessionChecked, let answer = try await checkSession() { return answer }
                    try await readStock(request, key: gateKey, excluded: excluded, &effort)
                    return nil
                }
                switch turn {
                case .led(let answer?): return answer
                case .waited(leaderWorked: false) where !sessionChecked:
                    // The leader was a replay and read no stock: check this session now, beside the other
                    // waiters, instead of queueing for the next lead one by one (a replay storm after a restart).
                    if let answer = try await checkSession() { return answer }
                default: break
                }
                taken = await stockCache.take(gateKey)
            }
            let outcome: Outcome
            if let taken {
                if !quotas.isEmpty, counters == nil {
                    counters = try await storage(&effort) { () async throws(InventoryError) in
                        try await inventory.usage(quotas, in: request.scope)
                    }
                }
                if let read = counters,
                    let refusal = quotaRefusal(
                        read, adding: UsageRow.addresses(length: request.prefixLength, version: request.ipVersion))
                {
                    await stockCache.giveBack(gateKey, taken)
                    throw refusal
                }
                outcome = try await claim(taken.candidate, request, usage: counters ?? [], &effort)
                switch outcome {
                case .lost: excluded.insert(taken.candidate.rowKey)
                // nothing was written: the block is still free
                case .sessionTaken: await stockCache.giveBack(gateKey, taken)
                case .usageChanged:
                    await stockCache.giveBack(gateKey, taken)
                    counters = nil // another lease of the requester committed: read its quota again
                default: break
                }
            } else if let carved = try await carveGate.ifLeading(
                gateKey,
                { () async throws(DomainError) -> Outcome in
                    // No stock came. The carve's leader first makes sure it is not a replay (callers waiting for the
                    // carve claim what it stocks; a replay among them gives its block back).
                    if !sessionChecked, let answer = try await checkSession() { return .answered(answer) }
                    return try await carve(request, &effort)
                })
            {
                outcome = carved
            } else {
                continue // another request of this process just carved (and stocked): look again
            }
            switch outcome {
            case .won(let row):
                return await won(row, request, effort)
            case .answered(let answer):
                return answer
            case .stocked, .usageChanged:
                continue
            case .sessionTaken:
                if let answer = try await replay(request, &effort) { return answer }
            case .lost:
                await backOffAfterConflict(&effort)
            case .exhausted:
                // No room to carve. Stock may still exist (claims in flight elsewhere may fail and leave it):
                // only an empty stock index means the scope is truly out of blocks of this size.
                let remaining = try await storage(&effort) { () async throws(InventoryError) in
                    try await inventory.availableCandidates(
                        in: request.scope, length: request.prefixLength, version: request.ipVersion, pool: request.pool,
                        limit: 1)
                }
                if !remaining.isEmpty {
                    try? await time.sleep(.milliseconds(Int.random(in: 5...50, using: &random)))
                    continue
                }
                throw exhausted(request)
            }
        }
    }

    /// `PoolExhausted` for the request's size (counted in the metrics).
    func exhausted(_ request: LeaseRequest) -> DomainError {
        metrics.exhausted.increment()
        var details = ["scope": request.scope.partitionKey, "prefixLength": String(request.prefixLength)]
        if let pool = request.pool { details["pool"] = pool }
        if request.ipVersion == .v6 { details["ipVersion"] = "v6" }
        return DomainError(
            .poolExhausted,
            "no free \(request.ipVersion == .v6 ? "IPv6 " : "")/\(request.prefixLength) is left in \(request.pool.map { "pool '\($0)' of " } ?? "")\(request.scope)",
            details: details)
    }

    /// After a claim someone else won: counted, then a jittered pause that grows with this request's conflicts,
    /// so colliding Vendors spread out.
    func backOffAfterConflict(_ effort: inout Effort) async {
        effort.conflicts += 1
        metrics.claimConflicts.increment()
        let ceiling = min(50, 2 << min(effort.conflicts, 5))
        try? await time.sleep(.milliseconds(Int.random(in: 0...ceiling)))
    }

    /// Reads stock into the cache: pages of the stock index in key order until it yields blocks this
    /// process has not handed out already (those in the first pages may be claims still in flight here).
    func readStock(_ request: LeaseRequest, key: String, excluded: Set<String>, _ effort: inout Effort)
        async throws(DomainError)
    {
        var after: String? = nil
        for _ in 0..<8 {
            effort.stockReads += 1
            metrics.stockReads.increment()
            let page = try await storage(&effort) { () async throws(InventoryError) in
                try await inventory.availableCandidates(
                    in: request.scope, length: request.prefixLength, version: request.ipVersion, pool: request.pool,
                    limit: 48, after: after)
            }
            await stockCache.fill(key, page.filter { !excluded.contains($0.rowKey) })
            guard page.count == 48, await stockCache.count(key) == 0, let last = page.last else { return }
            after = last.rowKey
        }
    }

    /// How one claim or carve attempt ended, as the allocation loop sees it.
    enum Outcome {
        case won(NetworkRow)
        /// Answered without a claim (a replay found by reading its session).
        case answered(LeaseAnswer)
        case lost
        case sessionTaken
        case exhausted
        /// A carve added stock and leased nothing (pool requests claim from stock): look again.
        case stocked
        /// The quota's counters changed meanwhile: read them again.
        case usageChanged
    }

    private func claim(
        _ candidate: Inventory.StockCandidate, _ request: LeaseRequest, usage: [UsageRow], _ effort: inout Effort
    ) async throws(DomainError) -> Outcome {
        let draft = newLease(request, at: time.now())
        return try await committed(&effort) { () async throws(InventoryError) in
            switch try await inventory.claim(
                candidate, for: draft, in: request.scope, now: draft.leasedAt, usage: usage)
            {
            case .won(let row): return .won(row)
            case .lost: return .lost
            case .sessionTaken: return .sessionTaken
            case .usageChanged: return .usageChanged
            case .outcomeUnknown: return nil
            }
        } unknown: { (effort: inout Effort) async throws(DomainError) -> Outcome in
            try await resolveUnknownOutcome(request, &effort)
        }
    }

    /// Carves for `request` under the scope's head: its block and stock, or (`stockOnly`, and always for a pool,
    /// whose leases are claimed from stock to count in its quotas) stock alone.
    func carve(_ request: LeaseRequest, stockOnly: Bool = false, _ effort: inout Effort) async throws(DomainError)
        -> Outcome
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
        var calls = 0
        let outcome = try await committed(&effort) { () async throws(InventoryError) in
            let receipt = try await inventory.carve(carve, occupied: occupiedSpace, now: now)
            calls = receipt.reads + receipt.transactions
            switch receipt.outcome {
            case .won(let lease, let stocked):
                await stockCache.fill(key, stocked)
                return lease.map(Outcome.won) ?? (stocked.isEmpty ? .exhausted : .stocked)
            case .lost: return .lost
            case .sessionTaken: return .sessionTaken
            case .exhausted: return .exhausted
            case .outcomeUnknown: return nil
            }
        } unknown: { (effort: inout Effort) async throws(DomainError) -> Outcome in
            try await resolveUnknownOutcome(request, &effort)
        }
        effort.storageCalls += max(0, calls - 1) // `committed` counted the commit itself
        return outcome
    }

    /// Runs one claim or carve (nil from `body`: its answer was lost) and keeps `effort`'s doubt: once a
    /// commit's answer was lost, only seeing the session row clears it.
    func committed(
        _ effort: inout Effort, _ body: () async throws(InventoryError) -> Outcome?,
        unknown: (inout Effort) async throws(DomainError) -> Outcome
    ) async throws(DomainError) -> Outcome {
        effort.storageCalls += 1
        effort.claimAttempts += 1
        let earlierDoubt = effort.commitOutcomeUnknown
        effort.commitOutcomeUnknown = true
        let outcome: Outcome?
        do { outcome = try await body() } catch {
            logger.error("storage failure", metadata: ["error": .string(error.detail)])
            throw .storage(error)
        }
        guard let outcome else {
            logger.warning("claim outcome unknown; reading the session row")
            metrics.ambiguousCommits.increment()
            return try await unknown(&effort)
        }
        effort.commitOutcomeUnknown = earlierDoubt
        if case .won = outcome { effort.commitOutcomeUnknown = false }
        if case .sessionTaken = outcome { effort.commitOutcomeUnknown = false }
        return outcome
    }

    /// After a claim whose answer was lost: the session row says whether (and what) it committed.
    func resolveUnknownOutcome(_ request: LeaseRequest, _ effort: inout Effort) async throws(DomainError) -> Outcome {
        let session = try await storage(&effort) { () async throws(InventoryError) in
            try await inventory.session(request.sessionId, in: request.scope)
        }
        // not (yet) committed; a later claim's session insert guards against a late commit
        guard session != nil else { return .lost }
        effort.commitOutcomeUnknown = false
        return .sessionTaken
    }

    // MARK: Replays

    /// The existing lease of this SessionId, nil when there is none.
    ///
    /// At most two point reads (the session row, unless `known` gives it, then its network row) and a write
    /// only when the lease is due: a `leased` row with less than half of `LEASE_DURATION_HOURS` left is
    /// renewed, a quarantined or expired one revived. So a pipeline that plans every few minutes costs one
    /// write per half-lifetime of its lease, not one per plan.
    func replay(_ request: LeaseRequest, known: SessionRow? = nil, _ effort: inout Effort) async throws(DomainError)
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
                        &effort,
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
            let found = try await storage(&effort) { () async throws(InventoryError) in
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
                throw DomainError(
                    .leaseGone, "the lease of SessionId '\(request.sessionId)' no longer exists",
                    details: ["leaseId": session.leaseId])
            }
            if known == nil { await sessions.remember(session, in: request.scope) }
            let at = time.now()
            let lifetime = configuration.leaseDuration.seconds
            switch row.state {
            case .anchored:
                return answer(row, request, created: false)
            case .leased where (row.expiresAt ?? .distantPast) > at.addingTimeInterval(lifetime / 2):
                return answer(row, request, created: false)
            case .leased, .quarantined, .expired:
                // Terraform replays the POST on every plan/refresh: renew; a replay during quarantine revives.
                var renewed = row
                renewed.state = .leased
                renewed.expiresAt = at.addingTimeInterval(lifetime)
                renewed.quarantinedAt = nil
                // A revived lease counts in its quotas again: it must fit them like a new one.
                var counters: [UsageRow]? = nil
                if row.state != .leased, !row.quotaKeys.isEmpty {
                    let read = try await storage(&effort) { () async throws(InventoryError) in
                        try await inventory.usage(of: row, in: request.scope)
                    }
                    if let refusal = quotaRefusal(read, adding: UsageRow.addresses(in: row.prefix)) { throw refusal }
                    counters = read
                }
                let partner = try await self.partner(of: row, in: request.scope, &effort)
                let outcome = try await storage(&effort) { () async throws(InventoryError) in
                    try await inventory.transition(
                        row, to: renewed, action: row.state == .leased ? .renew : .revive, in: request.scope, now: at,
                        usage: counters, partner: partner)
                }
                guard case .done(let written) = outcome else {
                    known = session
                    continue // changed under us (or unknown): read again
                }
                return answer(written, request, created: false)
            case .released:
                throw DomainError(
                    .leaseReleased, "the lease of SessionId '\(request.sessionId)' was released",
                    details: ["leaseId": session.leaseId, "state": row.state.rawValue])
            default:
                throw DomainError(
                    .leaseGone, "the lease of SessionId '\(request.sessionId)' is \(row.state.rawValue)",
                    details: ["leaseId": session.leaseId, "state": row.state.rawValue])
            }
        }
        throw .busy("the lease kept changing while it was renewed")
    }

    /// Refuses a SessionId that another principal created (409 `SessionOwnedByAnother`): a session is its
    /// creator's, whatever role another caller has (admins reach others' leases by lease id). Not checked for a
    /// lease from before owners were recorded (`owner` nil), nor without a caller (`caller` nil: internal use).
    static func checkSessionOwner(_ owner: String?, session id: String, caller: Principal?) throws(DomainError) {
        guard let owner, let caller, owner != caller.key else { return }
        throw DomainError(
            .sessionOwnedByAnother, "SessionId '\(id)' belongs to another caller; use a SessionId of your own",
            field: "SessionId")
    }

    /// Refuses a replay whose body differs from the session's first request (409 `SessionConflict`).
    static func checkRequestHash(_ session: SessionRow, _ request: LeaseRequest) throws(DomainError) {
        guard session.requestHash != request.requestHash else { return }
        throw DomainError(
            .sessionConflict, "SessionId '\(request.sessionId)' was already used with a different request",
            field: "SessionId", details: ["leaseId": session.leaseId])
    }

    // MARK: Helpers

    /// A new lease's answer, its session remembered in this process and logged (as `message`: leased, adopted).
    func won(_ row: NetworkRow, _ request: LeaseRequest, _ effort: Effort, message: Logger.Message = "leased") async
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
                "lease": .string(row.leaseId ?? ""), "attempts": .stringConvertible(effort.claimAttempts),
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
        return draft
    }

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
    func partner(of row: NetworkRow, in scope: Scope, _ effort: inout Effort) async throws(DomainError) -> NetworkRow? {
        guard let key = row.pairKey else { return nil }
        let found = try await storage(&effort) { () async throws(InventoryError) in
            try await inventory.network(key, in: scope)
        }
        guard let partner = found, partner.leaseId == row.leaseId, partner.pairKey == row.rowKey else {
            logger.error(
                "dual-stack lease without its partner row",
                metadata: ["lease": .string(row.leaseId ?? ""), "partner": .string(key)])
            throw DomainError(
                .internalError, "lease \(row.leaseId ?? "")'s IPv6 row \(key) is missing or names another lease",
                details: ["leaseId": row.leaseId ?? ""])
        }
        return partner
    }

    /// Runs one Inventory call, counting it and mapping a storage failure to 503.
    package func storage<T>(_ effort: inout Effort, _ body: () async throws(InventoryError) -> T)
        async throws(DomainError) -> T
    {
        effort.storageCalls += 1
        do { return try await body() } catch {
            logger.error("storage failure", metadata: ["error": .string(error.detail)])
            throw .storage(error)
        }
    }
}

extension Duration {
    /// Seconds as a Double.
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}
