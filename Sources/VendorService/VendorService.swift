import AzureCore
import AzureTables
import Foundation
import IPAMCore
import Inventory
import Logging
import NetworkMath
import Synchronization

/// The Vendor's behaviour: hand out a block nobody else holds, exactly once per SessionId.
///
/// Protocol (DESIGN §4): claim a random `available` row of the size with one transaction that
/// replaces the row under `If-Match` and inserts the session row and an audit event; when the stock is
/// empty, carve the smallest fit under the scope's `head` ETag. The session row's insert is what makes
/// a SessionId get at most one block: any second claim for it fails as a whole with 409.
public struct VendorService: Sendable {
    public let configuration: IPAMConfiguration
    public let inventory: Inventory
    public private(set) var logger: Logger
    public let metrics: VendorMetrics
    public let carveGate: SingleFlight
    /// One stock read per (scope, size) at a time; callers arriving meanwhile use its result.
    public let stockReads: SingleFlight
    public let stockCache: StockCache
    /// Every network row's prefix per scope, kept current from the `head` log (so a carve reads one row).
    public let occupiedSpace: OccupiedSpace
    /// Claims of one scope that arrive while another is being committed share its next transaction.
    public let claims: TransactionCombiner
    /// Total time one request may spend on storage before answering 503.
    public let deadline: Duration
    private let now: @Sendable () -> Date

    public init(configuration: IPAMConfiguration, inventory: Inventory, logger: Logger, metrics: VendorMetrics = VendorMetrics(),
                deadline: Duration = .seconds(20), now: @escaping @Sendable () -> Date = { Date() }) {
        self.configuration = configuration
        self.inventory = inventory
        self.logger = logger
        self.metrics = metrics
        self.carveGate = SingleFlight()
        self.stockReads = SingleFlight()
        self.stockCache = StockCache()
        self.occupiedSpace = OccupiedSpace()
        self.claims = TransactionCombiner(table: inventory.table) { members in metrics.recordClaimTransaction(members: members) }
        self.deadline = deadline
        self.now = now
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
        /// A commit was sent and its outcome is not known yet (its answer was lost).
        public var commitOutcomeUnknown = false
        /// ETags the last successful transaction returned, one per operation.
        public var lastCommitETags: [String?]?
        public init() {}
    }

    // MARK: getNewNetwork

    public func getNewNetwork(_ request: LeaseRequest, effort: inout Effort) async throws(VendorError) -> LeaseAnswer {
        do {
            return try await allocate(request, &effort)
        } catch where error.status == 503 && effort.commitOutcomeUnknown {
            // Never report a failure storage did not confirm: the claim may have committed.
            throw VendorError(status: 503, code: "OutcomeUnknown",
                              message: "storage did not confirm whether the lease was created; retry with the same SessionId to get it",
                              details: ["sessionId": request.sessionId], retryAfter: 1)
        }
    }

    private func allocate(_ request: LeaseRequest, _ effort: inout Effort) async throws(VendorError) -> LeaseAnswer {
        let started = ContinuousClock.now
        var excluded = Set<String>()
        var random = SystemRandomNumberGenerator()
        let gateKey = "\(request.scope.partitionKey)/\(request.prefixLength)"
        while true {
            guard ContinuousClock.now - started < deadline, effort.rounds < 128 else {
                // Before saying "busy", make sure no earlier attempt (here or on a Vendor that died) holds a block for this session.
                if let answer = try await replay(request, &effort) { return answer }
                throw .busy("no block claimed after \(effort.claimAttempts) attempts")
            }
            effort.rounds += 1
            var candidate = await stockCache.take(gateKey)
            if candidate == nil {
                // One read of the first blocks of the stock, shared with this process's other callers.
                _ = try await stockReads.ifLeading(gateKey) { () async throws(VendorError) in
                    try await readStock(request, key: gateKey, excluded: excluded, &effort)
                }
                candidate = await stockCache.take(gateKey)
            }
            let outcome: ClaimOutcome
            if let candidate {
                outcome = try await claim(candidate, request, &effort)
                if case .lost = outcome { excluded.insert(candidate.rowKey) }
            } else if let carved = try await carveGate.ifLeading(gateKey, { () async throws(VendorError) in try await carve(request, &effort) }) {
                outcome = carved
            } else {
                continue // another request of this process just carved (and stocked): look again
            }
            switch outcome {
            case .won(let answer):
                return answer
            case .sessionExists:
                if let answer = try await replay(request, &effort) { return answer }
            case .lost:
                effort.conflicts += 1
                metrics.claimConflicts.increment()
                // Jittered backoff grows with contention so colliding Vendors spread out.
                let ceiling = min(50, 2 << min(effort.conflicts, 5))
                try? await Task.sleep(for: .milliseconds(Int.random(in: 0...ceiling, using: &random)))
            case .exhausted:
                // No room to carve. Stock may still exist (claims in flight elsewhere may fail and leave it):
                // only an empty stock index means the scope is truly out of blocks of this size.
                let remaining = try await storage(&effort) {
                    try await inventory.availableCandidates(in: request.scope, length: request.prefixLength, version: .v4, limit: 1)
                }
                if !remaining.isEmpty {
                    try? await Task.sleep(for: .milliseconds(Int.random(in: 5...50, using: &random)))
                    continue
                }
                metrics.exhausted.increment()
                throw VendorError(status: 409, code: "PoolExhausted",
                                  message: "no free /\(request.prefixLength) is left in \(request.scope)",
                                  details: ["scope": request.scope.partitionKey, "prefixLength": String(request.prefixLength)])
            }
        }
    }

    /// Reads stock into the cache: pages of the stock index in key order until it yields blocks this
    /// process has not handed out already (those in the first pages may be claims still in flight here).
    private func readStock(_ request: LeaseRequest, key: String, excluded: Set<String>, _ effort: inout Effort) async throws(VendorError) {
        var after: String? = nil
        for _ in 0..<8 {
            let page = try await storage(&effort) {
                try await inventory.availableCandidates(in: request.scope, length: request.prefixLength, version: .v4, limit: 48, after: after)
            }
            await stockCache.fill(key, page.filter { !excluded.contains($0.rowKey) })
            guard page.count == 48, await stockCache.count(key) == 0, let last = page.last else { return }
            after = last.rowKey
        }
    }

    enum ClaimOutcome {
        case won(LeaseAnswer)
        case lost
        case sessionExists
        case exhausted
    }

    private func claim(_ candidate: Inventory.StockCandidate, _ request: LeaseRequest, _ effort: inout Effort) async throws(VendorError) -> ClaimOutcome {
        let at = now()
        let (leased, session) = newLease(on: candidate.prefix, request, at: at)
        let actions = inventory.claimActions(candidate: candidate, leased: leased, session: session, scope: request.scope, now: at)
        return try await commit(actions, sessionIndex: 2, leased: leased, request, &effort, combined: true)
    }

    /// Rows of stock one follow-up transaction can add: head + 2 operations per row + event ≤ 100.
    static let stockRowsPerTransaction = 49

    private func carve(_ request: LeaseRequest, _ effort: inout Effort) async throws(VendorError) -> ClaimOutcome {
        guard let scopeConfig = configuration.scopes[request.scope] else { return .exhausted }
        metrics.carves.increment()
        let key = "\(request.scope.partitionKey)/\(request.prefixLength)"
        // Head first, rows second: a carve that commits in between changes the head's ETag, so ours fails.
        let head = try await storage(&effort) { try await inventory.head(of: request.scope) }
        // Excluded ranges are taken out of the supernets first, so the scope's prefixes can be used as the
        // sorted set OccupiedSpace keeps (no copy, no sort per carve).
        let allowed = scopeConfig.supernets.filter { $0.version == .v4 }.flatMap { FreeSpace.freeBlocks(in: $0, occupied: scopeConfig.exclude) }
        // Our block plus fresh stock: enough for the manifest and for this process's waiting callers,
        // so the callers behind this one claim instead of queueing on the head lock.
        let waiting = await carveGate.waiting(key)
        let wanted = min(45 + 3 * Self.stockRowsPerTransaction,
                         max(configuration.stock[request.scope]?[request.prefixLength] ?? 2, 4 * waiting + 4 * effort.conflicts))
        let length = request.prefixLength
        let carved = try await storage(&effort) {
            try await occupiedSpace.withPrefixes(in: request.scope, head: head, inventory: inventory) { occupied in
                FreeSpace.carve(count: 1 + wanted, length: length, in: allowed, sortedOccupied: occupied)
            }
        }
        if !carved.readPartition { effort.storageCalls -= 1 } // answered from the head's log: no read
        let blocks = carved.result
        guard let fit = blocks.first else { return .exhausted }
        let at = now()
        let (leased, session) = newLease(on: fit, request, at: at)
        let firstStock = Array(blocks.dropFirst().prefix(45))
        let actions = inventory.carveActions(head: head, leased: leased, session: session, stock: firstStock.map { NetworkRow(prefix: $0, state: .available) },
                                             scope: request.scope, now: at)
        let outcome = try await commit(actions, sessionIndex: 2, leased: leased, request, &effort)
        guard case .won = outcome, var etags = effort.lastCommitETags, let firstETag = etags.first ?? nil else { return outcome }
        await stockCache.fill(key, Self.stocked(actions, etags))
        await occupiedSpace.record(request.scope, from: head?.version ?? 0, added: [fit] + firstStock)
        // Still holding the lock (the head ETag we just got), add the rest of the stock.
        guard var current = Head(taken: actions[0], etag: firstETag) else { return outcome }
        for chunk in stride(from: 1 + firstStock.count, to: blocks.count, by: Self.stockRowsPerTransaction) {
            let rows = blocks[chunk..<min(chunk + Self.stockRowsPerTransaction, blocks.count)].map { NetworkRow(prefix: $0, state: .available) }
            let more = inventory.stockUnderHeadActions(rows, head: current, scope: request.scope, now: now())
            do {
                etags = try await inventory.table.submitTransaction(more)
                guard let etag = etags.first ?? nil else { break }
                await stockCache.fill(key, Self.stocked(more, etags))
                await occupiedSpace.record(request.scope, from: current.version, added: rows.map(\.prefix))
                guard let next = Head(taken: more[0], etag: etag) else { break }
                current = next
            } catch {
                break // another carve got in first (412) or storage failed: the lease above is committed either way
            }
        }
        return outcome
    }

    /// Stock candidates from a committed transaction's stock inserts and the ETags it returned.
    static func stocked(_ actions: [TableTransactionAction], _ etags: [String?]) -> [Inventory.StockCandidate] {
        var result: [Inventory.StockCandidate] = []
        for (action, etag) in zip(actions, etags) {
            if case .insert(let entity) = action, entity.rowKey.hasPrefix(RowKeys.stockPrefix), let etag,
               let prefix = entity["Cidr"]?.stringValue.flatMap({ try? IPPrefix(parsing: $0) }) {
                result.append(.init(prefix: prefix, rowKey: entity.rowKey, etag: etag))
            }
        }
        return result
    }

    /// Commits a claim or carve; an unknown outcome is resolved by reading the session row, never by claiming again blindly.
    private func commit(_ actions: [TableTransactionAction], sessionIndex: Int, leased: NetworkRow, _ request: LeaseRequest,
                        _ effort: inout Effort, combined: Bool = false) async throws(VendorError) -> ClaimOutcome {
        effort.storageCalls += 1
        effort.claimAttempts += 1
        // Sticky: once a commit's answer was lost, only seeing the session row clears the doubt.
        let earlierDoubt = effort.commitOutcomeUnknown
        effort.commitOutcomeUnknown = true
        do {
            effort.lastCommitETags = try await combined ? claims.submit(actions) : inventory.table.submitTransaction(actions)
            effort.commitOutcomeUnknown = false
            logger.info("leased", metadata: ["cidr": .string(leased.prefix.description), "session": .string(request.sessionId),
                                             "lease": .string(leased.leaseId ?? ""), "attempts": .stringConvertible(effort.claimAttempts)])
            return .won(answer(leased, request, created: true))
        } catch let error as AzureError where error.failedOperationIndex == sessionIndex && error.isConflict {
            effort.commitOutcomeUnknown = false
            return .sessionExists
        } catch let error as AzureError where error.isPreconditionFailed || error.isConflict || (error.isNotFound && error.errorCode != "TableNotFound") {
            effort.commitOutcomeUnknown = earlierDoubt
            return .lost
        } catch let error as AzureError where error.outcomeUnknown {
            logger.warning("claim outcome unknown; reading the session row", metadata: ["session": .string(request.sessionId), "error": .string(error.description)])
            metrics.ambiguousCommits.increment()
            return try await resolveUnknownOutcome(request, &effort)
        } catch let error as AzureError where !error.outcomeUnknown && !error.isTransport {
            effort.commitOutcomeUnknown = earlierDoubt
            throw mapStorage(error)
        } catch {
            throw mapStorage(error)
        }
    }

    /// After a claim whose answer was lost: the session row says whether (and what) it committed.
    private func resolveUnknownOutcome(_ request: LeaseRequest, _ effort: inout Effort) async throws(VendorError) -> ClaimOutcome {
        let session = try await storage(&effort) { try await inventory.session(request.sessionId, in: request.scope) }
        guard session != nil else { return .lost } // not (yet) committed; a later claim's session insert guards against a late commit
        effort.commitOutcomeUnknown = false
        return .sessionExists
    }

    // MARK: Replays

    /// The existing lease of this SessionId (renewed or revived as needed), nil when there is none.
    func replay(_ request: LeaseRequest, _ effort: inout Effort) async throws(VendorError) -> LeaseAnswer? {
        for _ in 0..<8 {
            guard let session = try await storage(&effort, { try await inventory.session(request.sessionId, in: request.scope) }) else { return nil }
            guard session.requestHash == request.requestHash else {
                throw VendorError(status: 409, code: "SessionConflict",
                                  message: "SessionId '\(request.sessionId)' was already used with a different request",
                                  field: "SessionId", details: ["leaseId": session.leaseId])
            }
            guard let row = try await storage(&effort, { try await inventory.network(session.networkRowKey, in: request.scope) }),
                  row.leaseId == session.leaseId else {
                throw VendorError(status: 410, code: "LeaseGone", message: "the lease of SessionId '\(request.sessionId)' no longer exists",
                                  details: ["leaseId": session.leaseId])
            }
            let at = now()
            switch row.state {
            case .anchored:
                return answer(row, request, created: false)
            case .leased where (row.expiresAt ?? .distantPast) > at.addingTimeInterval(configuration.leaseDuration.seconds * 0.9):
                return answer(row, request, created: false)
            case .leased, .quarantined, .expired:
                // Terraform replays the POST on every plan/refresh: renew; a replay during quarantine revives.
                var renewed = row
                renewed.state = .leased
                renewed.expiresAt = at.addingTimeInterval(configuration.leaseDuration.seconds)
                renewed.quarantinedAt = nil
                let action = row.state == .leased ? "renew" : "revive"
                effort.storageCalls += 1
                do {
                    try await inventory.table.submitTransaction(inventory.transitionActions(from: row, to: renewed, action: action, scope: request.scope, now: at))
                    return answer(renewed, request, created: false)
                } catch let error as AzureError where error.isPreconditionFailed || error.outcomeUnknown {
                    continue // changed under us (or unknown): read again
                } catch {
                    throw mapStorage(error)
                }
            case .released:
                throw VendorError(status: 410, code: "LeaseReleased", message: "the lease of SessionId '\(request.sessionId)' was released",
                                  details: ["leaseId": session.leaseId, "state": row.state.rawValue])
            default:
                throw VendorError(status: 410, code: "LeaseGone", message: "the lease of SessionId '\(request.sessionId)' is \(row.state.rawValue)",
                                  details: ["leaseId": session.leaseId, "state": row.state.rawValue])
            }
        }
        throw .busy("the lease kept changing while it was renewed")
    }

    // MARK: Helpers

    func newLease(on prefix: IPPrefix, _ request: LeaseRequest, at: Date) -> (NetworkRow, SessionRow) {
        var row = NetworkRow(prefix: prefix, state: .leased)
        let leaseId = RandomID.uuid()
        row.leaseId = leaseId
        row.sessionId = request.sessionId
        row.requestHash = request.requestHash
        row.requester = request.requester
        row.leasedAt = at
        row.expiresAt = at.addingTimeInterval(configuration.leaseDuration.seconds)
        let session = SessionRow(sessionId: request.sessionId, leaseId: leaseId, networkRowKey: row.rowKey, requestHash: request.requestHash, createdAt: at)
        return (row, session)
    }

    func answer(_ row: NetworkRow, _ request: LeaseRequest, created: Bool) -> LeaseAnswer {
        let layout = FreeSpace.layout(request.subnets.map { ($0.name, $0.prefixLength) }, in: row.prefix) ?? []
        return LeaseAnswer(leaseId: row.leaseId ?? "", sessionId: request.sessionId, scope: request.scope, prefix: row.prefix, state: row.state,
                           expiresAt: row.state == .anchored ? nil : row.expiresAt, subnets: layout, created: created)
    }

    /// Runs a storage read, counting it and mapping failures to 503.
    func storage<T>(_ effort: inout Effort, _ body: () async throws -> T) async throws(VendorError) -> T {
        effort.storageCalls += 1
        do { return try await body() } catch { throw mapStorage(error) }
    }

    func mapStorage(_ error: any Error) -> VendorError {
        if let error = error as? VendorError { return error }
        logger.error("storage failure", metadata: ["error": .string("\(error)")])
        if let azure = error as? AzureError { return .storageUnavailable(azure.shortDescription) }
        return .storageUnavailable("\(error)")
    }
}
