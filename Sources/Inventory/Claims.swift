internal import AzureCore
package import AzureTables
package import Foundation
package import IPAMCore
package import NetworkMath

/// A lease before it has a block: what the claim or carve that gives it one writes.
package struct LeaseDraft: Sendable {
    /// The lease's facts as its rows carry them.
    package private(set) var lease: NetworkRow.Lease
    package let leasedAt: Date
    /// The pool the lease is made in (see `NetworkRow.pool`).
    package var pool: String? = nil
    /// Whether a lease of one IPv4 block gets an id that names its block (`LeaseIdentity`), so it needs no
    /// `hlease_` row; the id given is then only the source of its random bits. The Vendor's new leases do.
    package var namesItsBlock = false
    /// The usage rows it counts in (see `NetworkRow.Lease.quotaKeys`).
    package var quotaKeys: [String] {
        get { lease.quotaKeys }
        set { lease.quotaKeys = newValue }
    }

    package init(
        leaseId: String, sessionId: String, requestHash: String, requester: String?, leasedAt: Date, expiresAt: Date,
        ownerKey: String? = nil, sealedOwner: String? = nil, subnets: [LeaseRequest.SubnetRequest] = [],
        tags: [String: String] = [:]
    ) {
        self.leasedAt = leasedAt
        lease = NetworkRow.Lease(
            id: leaseId, sessionId: sessionId, requestHash: requestHash, requester: requester, leasedAt: leasedAt,
            expiresAt: expiresAt, ownerKey: ownerKey, sealedOwner: sealedOwner, subnets: subnets, tags: tags)
    }

    /// A new random lease id (a lower-case UUID).
    package static func newLeaseId() -> String { RandomID.uuid() }

    /// The `leased` network row and the session row of this lease on `prefix` (its id naming `prefix` when
    /// `namesItsBlock`).
    package func rows(on prefix: IPPrefix) -> (network: NetworkRow, session: SessionRow) {
        var lease = lease
        if namesItsBlock, let named = LeaseIdentity.naming(prefix, seed: lease.id) { lease.id = named }
        return rows(of: lease, on: prefix)
    }

    private func rows(of lease: NetworkRow.Lease, on prefix: IPPrefix) -> (network: NetworkRow, session: SessionRow) {
        let row = NetworkRow(prefix: prefix, holding: .leased(lease, vnet: nil), pool: pool)
        var session = SessionRow(
            sessionId: lease.sessionId, leaseId: lease.id, networkRowKey: row.rowKey, requestHash: lease.requestHash,
            createdAt: leasedAt)
        session.ownerKey = lease.ownerKey
        return (row, session)
    }

    /// The two `leased` rows of this dual-stack lease on `v4` and `v6` (each naming the other; the IPv6 one
    /// has a /64 for each subnet) and its session row, which names both. Its id names no block: the `hlease_` row
    /// keeps both.
    package func pairRows(v4: IPPrefix, v6: IPPrefix) -> (v4: NetworkRow, v6: NetworkRow, session: SessionRow) {
        var (first, session) = rows(of: lease, on: v4)
        var firstLease = lease
        firstLease.pairKey = RowKeys.network(v6)
        first.holding = .leased(firstLease, vnet: nil)
        var secondLease = lease
        secondLease.subnets = lease.subnets.map { LeaseRequest.SubnetRequest(name: $0.name, prefixLength: 64) }
        secondLease.pairKey = first.rowKey
        let second = NetworkRow(prefix: v6, holding: .leased(secondLease, vnet: nil), pool: pool)
        session.networkRowKeyV6 = second.rowKey
        return (first, second, session)
    }
}

/// How a claim of two stocked blocks for one dual-stack lease ended.
package enum PairClaimOutcome: Sendable, Equatable {
    /// Both blocks are leased; the rows as written (IPv4, IPv6).
    case won(Stored<NetworkRow>, Stored<NetworkRow>)
    /// Someone else took the block of this version first: try another of it (the other is still free).
    /// Nil when storage did not say which (try other blocks of both).
    case lost(IPVersion?)
    /// The SessionId is already served: nothing was written.
    case sessionTaken
    /// The answer was lost: the claim may have committed. Only the session row can tell.
    case outcomeUnknown
}

/// How a claim of a stocked block ended.
package enum ClaimOutcome: Sendable, Equatable {
    /// The block is leased; the row as written.
    case won(Stored<NetworkRow>)
    /// Someone else took the block first (its stock row's ETag no longer matched): try another.
    case lost
    /// The SessionId is already served: nothing was written; the caller answers from the session.
    case sessionTaken
    /// A usage row the claim counts in changed since it was read (another lease of the requester): nothing
    /// was written; read the usage again and check the quota again.
    case usageChanged
    /// The answer was lost: the claim may have committed. Only the session row can tell.
    case outcomeUnknown
}

/// How a carve ended.
package enum CarveOutcome: Sendable, Equatable {
    /// Committed: the lease (when one was asked for) and the stock rows added, with their ETags.
    case won(lease: Stored<NetworkRow>?, stocked: [Inventory.StockCandidate])
    /// Another carve took the scope's head first: nothing was written.
    case lost
    /// The SessionId is already served: nothing was written.
    case sessionTaken
    /// The answer of the first transaction was lost: the lease may have committed.
    case outcomeUnknown
    /// The scope has no room for one more block of the size.
    case exhausted
}

/// How a carve ended and what it cost.
package struct CarveReceipt: Sendable {
    package let outcome: CarveOutcome
    /// Point and range reads (the head, and the partition's keys unless the head's log sufficed).
    package let reads: Int
    /// Transactions sent (the first, then the rest of the stock under the head).
    package let transactions: Int
}

/// What one carve asks for.
package struct CarveRequest: Sendable {
    package let scope: Scope
    package let space: ScopeSupernets
    package let length: Int
    /// The lease to carve a block for first; nil for a carve of stock only (Replenish).
    package let lease: LeaseDraft?
    /// Free blocks to add to the stock besides the lease's.
    package let stock: Int
    /// Why, for the audit event of the stock (e.g. `replenish`).
    package let detail: String
    /// The pool whose space `space` is (its blocks carry its name and its stock keys); nil for the scope's own.
    package var pool: String? = nil
    /// The IP version of the blocks (the supernets of the other version are left alone).
    package var version: IPVersion = .v4

    package init(scope: Scope, space: ScopeSupernets, length: Int, lease: LeaseDraft?, stock: Int, detail: String) {
        self.scope = scope
        self.space = space
        self.length = length
        self.lease = lease
        self.stock = stock
        self.detail = detail
    }
}

extension Inventory {
    /// Network rows one stock-only transaction can add: head + 2 operations per row + event ≤ 100.
    package static let stockRowsPerTransaction = 49
    /// Stock rows that fit beside a lease in a carve's first transaction: head + 3 + the lease's history mark and
    /// row + 2 per row + event.
    static let stockRowsBesideLease = 45

    // MARK: Claim

    /// available → leased, claiming a stocked block in one transaction (shared with other claims of the
    /// scope by group commit): the session row inserted (a 409 = this SessionId is already served), the
    /// stock row deleted `If-Match` its ETag (412 = someone else won it), the network row replaced (a
    /// stock row exists only while its network row is `available`, and both change together) and the
    /// audit event.
    ///
    /// With `usage` (the lease's quota counters as read, already checked against their limits), each counter
    /// is written too, `If-Match` what was read: two claims of one requester never both pass one reading of its
    /// quota (the later fails `usageChanged`). Such claims go alone, not by group commit (a transaction names
    /// each row once).
    package func claim(
        _ candidate: StockCandidate, for lease: LeaseDraft, in scope: Scope, now: Date, usage: [UsageRow] = []
    ) async throws(InventoryError) -> ClaimOutcome {
        let (leased, session) = lease.rows(on: candidate.prefix)
        let partition = scope.partitionKey
        let leaseEvent = event(.lease, leased, before: .available, detail: "from stock")
        var transaction = InventoryTransaction()
        transaction.add(.session, .insert(session.entity(partitionKey: partition)))
        transaction.add(
            .stock(candidate.prefix),
            .delete(partitionKey: partition, rowKey: candidate.rowKey, ifMatch: .etag(candidate.etag)))
        transaction.add(.network(candidate.prefix), leased.replacingUnconditionally(partitionKey: partition))
        transaction.add(.event, .insert(leaseEvent.entity(partitionKey: partition, at: EventClock.stamp(now))))
        transaction.add(.history, Self.historyActions([leased], action: .lease, scope: scope, now: now, newLease: true))
        for counter in usage {
            transaction.add(
                .usage(counter.key), counter.adding(1, for: candidate.prefix).write(partitionKey: partition))
        }
        let committed: InventoryTransaction.Committed
        do {
            committed = try await transaction.commit { actions in
                usage.isEmpty
                    ? try await submitCombined(transaction, stamping: leaseEvent, decided: now)
                    : try await submit(actions)
            }
        } catch {
            switch error.kind {
            case .refused(.session?, .exists): return .sessionTaken
            case .refused(.usage?, _): return .usageChanged
            case .refused: return .lost
            case .unknown: return .outcomeUnknown
            case .failed: throw error.error
            }
        }
        return .won(try committed.stored(leased, .network(candidate.prefix)))
    }

    /// available → leased for both blocks of a dual-stack lease, in one transaction (shared by group commit
    /// like `claim`): the session row inserted, both stock rows deleted `If-Match` their ETags, both network
    /// rows replaced and one audit event naming both blocks. Either block lost fails the whole claim: a lease
    /// never holds one of its two blocks.
    package func claimPair(v4: StockCandidate, v6: StockCandidate, for lease: LeaseDraft, in scope: Scope, now: Date)
        async throws(InventoryError) -> PairClaimOutcome
    {
        let (first, second, session) = lease.pairRows(v4: v4.prefix, v6: v6.prefix)
        let partition = scope.partitionKey
        let leaseEvent = event(.lease, first, before: .available, detail: "from stock (dual-stack)")
        var transaction = InventoryTransaction()
        transaction.add(.session, .insert(session.entity(partitionKey: partition)))
        transaction.add(.stock(v4.prefix), .delete(partitionKey: partition, rowKey: v4.rowKey, ifMatch: .etag(v4.etag)))
        transaction.add(.stock(v6.prefix), .delete(partitionKey: partition, rowKey: v6.rowKey, ifMatch: .etag(v6.etag)))
        transaction.add(.network(v4.prefix), first.replacingUnconditionally(partitionKey: partition))
        transaction.add(.network(v6.prefix), second.replacingUnconditionally(partitionKey: partition))
        transaction.add(.event, .insert(leaseEvent.entity(partitionKey: partition, at: EventClock.stamp(now))))
        transaction.add(
            .history, Self.historyActions([first, second], action: .lease, scope: scope, now: now, newLease: true))
        let committed: InventoryTransaction.Committed
        do {
            committed = try await transaction.commit { _ in
                try await submitCombined(transaction, stamping: leaseEvent, decided: now)
            }
        } catch {
            switch error.kind {
            case .refused(.session?, .exists): return .sessionTaken
            case .refused(.stock(let prefix)?, _): return .lost(prefix.version)
            case .refused: return .lost(nil)
            case .unknown: return .outcomeUnknown
            case .failed: throw error.error
            }
        }
        return .won(
            try committed.stored(first, .network(v4.prefix)), try committed.stored(second, .network(v6.prefix)))
    }

    // MARK: Carve (the one carver: the Vendor's carve on demand and the Manager's Replenish)

    /// Carves the smallest fit for `request.lease` (when given) and `request.stock` more free blocks
    /// under the scope's `head` lock.
    ///
    /// Head first, rows second: a carve that commits in between changes the head's ETag, so ours fails
    /// as a whole (`lost`). The first transaction holds the head, the lease and as much stock as fits;
    /// the rest of the stock follows in transactions under the head's new ETag (still holding the lock),
    /// and stops quietly when another carve gets in. `occupied`, when given, answers "what is taken" from
    /// the head's log instead of reading the partition.
    /// - Returns: the outcome, and the reads and transactions it took.
    package func carve(_ request: CarveRequest, occupied: OccupiedSpace? = nil, now: @Sendable () -> Date)
        async throws(InventoryError) -> CarveReceipt
    {
        let scope = request.scope
        var calls = 1
        let head = try await self.head(of: scope)
        let count = (request.lease == nil ? 0 : 1) + request.stock
        let carved = try await freeBlocks(
            count, length: request.length, space: request.space, version: request.version, in: scope, head: head,
            occupied: occupied)
        let blocks = carved.blocks
        if carved.readPartition { calls += 1 }
        guard !blocks.isEmpty else { return CarveReceipt(outcome: .exhausted, reads: calls, transactions: 0) }
        let reads = calls
        calls = 0

        var leased: NetworkRow? = nil
        var transaction = InventoryTransaction()
        var firstStock: ArraySlice<IPPrefix>
        if let lease = request.lease {
            let (row, session) = lease.rows(on: blocks[0])
            leased = row
            firstStock = blocks.dropFirst().prefix(Self.stockRowsBesideLease)
            transaction.add(.head, Self.takeHead(head, adding: [row.prefix] + firstStock, scope: scope, now: now()))
            transaction.add(.session, .insert(session.entity(partitionKey: scope.partitionKey)))
            transaction.add(.network(row.prefix), .insert(row.entity(partitionKey: scope.partitionKey)))
            transaction.add(
                .event,
                .insert(
                    event(.carveLease, row, before: nil, detail: "carved on demand").entity(
                        partitionKey: scope.partitionKey, at: EventClock.stamp(now()))))
            transaction.add(
                .history, Self.historyActions([row], action: .carveLease, scope: scope, now: now(), newLease: true))
            transaction.add(
                stockActions(
                    Array(firstStock), pool: request.pool, scope: scope, now: now(), detail: "stocked while carving"))
        } else {
            firstStock = blocks.prefix(Self.stockRowsPerTransaction)
            transaction.add(.head, Self.takeHead(head, adding: Array(firstStock), scope: scope, now: now()))
            transaction.add(
                stockActions(Array(firstStock), pool: request.pool, scope: scope, now: now(), detail: request.detail))
        }
        calls += 1
        let committed: InventoryTransaction.Committed
        do {
            committed = try await transaction.commit { try await submit($0) }
        } catch {
            switch error.kind {
            case .refused(.session?, .exists):
                return CarveReceipt(outcome: .sessionTaken, reads: reads, transactions: calls)
            case .refused: return CarveReceipt(outcome: .lost, reads: reads, transactions: calls)
            case .unknown: return CarveReceipt(outcome: .outcomeUnknown, reads: reads, transactions: calls)
            case .failed: throw error.error
            }
        }
        let leasedRow = try leased.map { row throws(InventoryError) in try committed.stored(row, .network(row.prefix)) }
        var stocked = Self.stocked(firstStock, pool: request.pool, committed)
        await occupied?.record(scope, from: head?.version ?? 0, added: (leased.map { [$0.prefix] } ?? []) + firstStock)
        // Still holding the lock (the head ETag we just got), add the rest of the stock.
        guard let firstETag = committed.etag(.head), var current = Head(taken: transaction.actions[0], etag: firstETag)
        else {
            return CarveReceipt(outcome: .won(lease: leasedRow, stocked: stocked), reads: reads, transactions: calls)
        }
        let start = (leased == nil ? 0 : 1) + firstStock.count
        for chunk in stride(from: start, to: blocks.count, by: Self.stockRowsPerTransaction) {
            let part = Array(blocks[chunk..<min(chunk + Self.stockRowsPerTransaction, blocks.count)])
            var more = InventoryTransaction()
            more.add(.head, Self.takeHead(current, adding: part, scope: scope, now: now()))
            more.add(
                stockActions(
                    part, pool: request.pool, scope: scope, now: now(),
                    detail: request.lease == nil ? request.detail : "stocked while carving"))
            calls += 1
            do {
                let moreCommitted = try await more.commit { try await submit($0) }
                stocked += Self.stocked(part[...], pool: request.pool, moreCommitted)
                await occupied?.record(scope, from: current.version, added: part)
                guard let etag = moreCommitted.etag(.head), let next = Head(taken: more.actions[0], etag: etag) else {
                    break
                }
                current = next
            } catch {
                break // another carve got in first (412) or storage failed: what committed above stands either way
            }
        }
        await occupied?.remember(current, in: scope) // the head as our last transaction left it (or stale: tried, read)
        return CarveReceipt(outcome: .won(lease: leasedRow, stocked: stocked), reads: reads, transactions: calls)
    }

    /// The block a carve of one lease of `length` in `space` would take now: the smallest fit outside every network
    /// row and excluded range, found exactly as `carve` finds its first block, and written nowhere (a dry run's
    /// look; `occupied` is brought up to date from the head's log like a carve's). Nil when there is no room.
    package func nextCarve(
        in scope: Scope, space: ScopeSupernets, length: Int, version: IPVersion, occupied: OccupiedSpace? = nil
    ) async throws(InventoryError) -> IPPrefix? {
        let head = try await self.head(of: scope)
        return try await freeBlocks(
            1, length: length, space: space, version: version, in: scope, head: head, occupied: occupied
        ).blocks.first
    }

    /// The `count` smallest free blocks of `length` in `space` as of `head` (outside every network row and excluded
    /// range), and whether finding them read the partition: from `occupied`, kept current by the head's log, or
    /// without it from a read of every network row.
    func freeBlocks(
        _ count: Int, length: Int, space: ScopeSupernets, version: IPVersion, in scope: Scope, head: Head?,
        occupied: OccupiedSpace?
    ) async throws(InventoryError) -> (blocks: [IPPrefix], readPartition: Bool) {
        let allowed = Self.carvable(space, version: version)
        guard let occupied else {
            let sorted = try await occupiedPrefixes(in: scope).sorted()
            return (FreeSpace.carve(count: count, length: length, in: allowed, sortedOccupied: sorted), true)
        }
        let carved = try await occupied.withPrefixes(in: scope, head: head, inventory: self) { sorted in
            FreeSpace.carve(count: count, length: length, in: allowed, sortedOccupied: sorted)
        }
        return (carved.result, carved.readPartition)
    }

    /// The space a carve of `version` may use: the supernets of that version without their excluded ranges.
    /// Exclusions are taken out first, so the occupied prefixes can be used as the sorted set `OccupiedSpace`
    /// keeps (no copy, no sort per carve).
    static func carvable(_ space: ScopeSupernets, version: IPVersion) -> [IPPrefix] {
        space.supernets.filter { $0.version == version }.flatMap {
            FreeSpace.freeBlocks(in: $0, occupied: space.exclude)
        }
    }

    /// Adds `prefixes` to the scope's stock as `available` rows under the head lock, retrying when
    /// another carve takes the head meanwhile. For seeding space by hand (tests, tools); a block that
    /// is already a row fails the whole call with a conflict.
    package func addStock(_ prefixes: [IPPrefix], in scope: Scope, now: Date, detail: String)
        async throws(InventoryError) -> [StockCandidate]
    {
        var stocked: [StockCandidate] = []
        for chunk in stride(from: 0, to: prefixes.count, by: Self.stockRowsPerTransaction) {
            let part = prefixes[chunk..<min(chunk + Self.stockRowsPerTransaction, prefixes.count)]
            var attempts = 0
            while true {
                attempts += 1
                let head = try await self.head(of: scope)
                var transaction = InventoryTransaction()
                transaction.add(.head, Self.takeHead(head, adding: Array(part), scope: scope, now: now))
                transaction.add(stockActions(Array(part), pool: nil, scope: scope, now: now, detail: detail))
                do {
                    let committed = try await transaction.commit { try await submit($0) }
                    stocked += Self.stocked(part, pool: nil, committed)
                    break
                } catch {
                    guard case .refused(.head?, _) = error.kind, attempts < 16 else { throw error.error }
                }
            }
        }
        return stocked
    }

    /// Inserts `prefixes` as `available` network rows with their stock index rows, and one event listing
    /// them (2 operations per row plus 1: at most 49 rows per transaction beside the head).
    func stockActions(_ prefixes: [IPPrefix], pool: String?, scope: Scope, now: Date, detail: String)
        -> InventoryTransaction
    {
        var transaction = InventoryTransaction()
        guard !prefixes.isEmpty else { return transaction }
        let event = AuditEvent(
            action: .known(.stock), actor: actor, cidr: prefixes.map(\.description).joined(separator: " "),
            leaseId: "", sessionId: "", before: nil, after: .known(.available),
            detail: pool.map { "\(detail) (pool \($0))" } ?? detail)
        for prefix in prefixes {
            let row = NetworkRow.available(prefix, pool: pool)
            transaction.add(.network(prefix), .insert(row.entity(partitionKey: scope.partitionKey)))
            transaction.add(.stock(prefix), .insert(Self.stockEntity(prefix, pool: pool, scope: scope)))
        }
        transaction.add(.event, .insert(event.entity(partitionKey: scope.partitionKey, at: EventClock.stamp(now))))
        return transaction
    }

    /// The carve lock as the first operation of a transaction: the `head` row replaced `If-Match` the
    /// ETag read before computing free space (or inserted, before the scope's first carve), bumping
    /// `Version` and logging the network rows this transaction inserts (`added`, every one of them: the
    /// log is how other processes learn them without reading the partition). Any other carve committed
    /// in between makes the whole transaction fail (412 / 409).
    static func takeHead(_ head: Head?, adding added: [IPPrefix], scope: Scope, now: Date) -> TableTransactionAction {
        let next = Head.advanced(head, adding: added, etag: "") // its ETag comes with the transaction's answer
        let entity = TableEntity(
            partitionKey: scope.partitionKey, rowKey: RowKeys.head,
            properties: [
                "Version": .int64(next.version), "UpdatedAt": .dateTime(now), Head.logProperty: .string(next.logText),
            ])
        return head.map { .replace(entity, ifMatch: .etag($0.etag)) } ?? .insert(entity)
    }

    /// The stock index row of a free block (of `pool`'s stock, or of the scope's own).
    package static func stockEntity(_ prefix: IPPrefix, pool: String?, scope: Scope) -> TableEntity {
        var properties: [String: TableValue] = [
            "Cidr": .string(prefix.description), "NetworkRowKey": .string(RowKeys.network(prefix)),
        ]
        if let pool { properties["Pool"] = .string(pool) }
        return TableEntity(
            partitionKey: scope.partitionKey, rowKey: RowKeys.stock(prefix, pool: pool), properties: properties)
    }

    /// Stock candidates of `prefixes`, stocked by a committed transaction, with the ETags of their stock rows.
    static func stocked(_ prefixes: ArraySlice<IPPrefix>, pool: String?, _ committed: InventoryTransaction.Committed)
        -> [StockCandidate]
    {
        prefixes.compactMap { prefix in
            committed.etag(.stock(prefix)).map {
                StockCandidate(prefix: prefix, rowKey: RowKeys.stock(prefix, pool: pool), etag: $0)
            }
        }
    }
}
