internal import AzureTables
package import Foundation
package import IPAMCore
package import NetworkMath

/// How a conditional write of one row ended.
package enum WriteOutcome: Sendable, Equatable {
    /// Written; the row with its new ETag (a deleted row: as it was read).
    case done(Stored<NetworkRow>)
    /// The row changed since it was read (its ETag no longer matched): read it again.
    case changed
    /// The answer was lost: the write may or may not have happened.
    case outcomeUnknown
}

/// One row change the Manager decided, with its reason: written as one all-or-nothing unit.
package struct RowChange: Sendable {
    package let before: Stored<NetworkRow>
    package let after: NetworkRow
    package let action: AuditAction
    package let detail: String
    /// The session row to delete with it (when a quarantine ends and the block returns to stock).
    package let deleteSession: String?
    /// Delete the row instead of writing `after` (a row recorded for an unmanaged VNet that is gone).
    package let deleteRow: Bool
    /// The same decision applied to the other row of a dual-stack lease: written in the same transaction
    /// (its row and stock row; the event and the session row are this change's).
    package var companion: NetworkRow.Update? = nil

    package init(
        before: Stored<NetworkRow>, after: NetworkRow, action: AuditAction, detail: String,
        deleteSession: String? = nil,
        deleteRow: Bool = false
    ) {
        self.before = before
        self.after = after
        self.action = action
        self.detail = detail
        self.deleteSession = deleteSession
        self.deleteRow = deleteRow
    }
}

/// What a batch of the Manager's writes did.
package struct BatchResult: Sendable {
    /// Changes applied, by audit action.
    package var applied: [AuditAction: Int] = [:]
    /// Rows written without an audit action (`LastSeenAt` refreshes, rows recorded for unmanaged VNets).
    package var written = 0
    /// Changes left for the next run because their row moved meanwhile (412/404/409).
    package var conflicts = 0
    package var transactions = 0
    /// The first storage failure, when one happened (the rest of the batch still went ahead).
    package var failure: InventoryError?
    package init() {}
}

extension Inventory {
    // MARK: One row (the Vendor's renew, revive, release)

    /// Writes `updated` over `row` under `row`'s ETag, with its audit event, in one transaction.
    ///
    /// When the lease starts or stops counting in its quotas (release, revive), its usage rows change in the
    /// same transaction, `If-Match` as read: `usage` when the caller read them to check a limit, else read here.
    ///
    /// With `partner` (the other row of a dual-stack lease, as read), it carries the same change
    /// (`mirrored(onto:)`) under its own ETag in the same transaction: one event tells of both.
    package func transition(
        _ row: Stored<NetworkRow>, to updated: NetworkRow, action: AuditAction, in scope: Scope, now: Date,
        detail: String = "", usage: [UsageRow]? = nil, partner: Stored<NetworkRow>? = nil
    ) async throws(InventoryError) -> WriteOutcome {
        var transaction = transitionActions(
            from: row, to: updated, action: action, scope: scope, now: now, detail: detail)
        if let partner {
            let mirrored = updated.mirrored(onto: partner.value)
            transaction.add(.network(partner.prefix), partner.replaced(by: mirrored, partitionKey: scope.partitionKey))
            transaction.add(
                .history,
                Self.historyActions(
                    [mirrored], before: [partner.value.rowKey: partner.value], action: action, scope: scope, now: now))
        }
        let delta = Self.quotaDelta(row.value, updated)
        if delta != 0 {
            var counters = usage ?? []
            if usage == nil { counters = try await self.usage(of: row.value, in: scope) }
            for counter in counters {
                transaction.add(
                    .usage(counter.key), counter.adding(delta, for: row.prefix).write(partitionKey: scope.partitionKey))
            }
        }
        let committed: InventoryTransaction.Committed
        do {
            committed = try await transaction.commit { try await submit($0) }
        } catch {
            switch error.kind {
            case .refused: return .changed
            case .unknown: return .outcomeUnknown
            case .failed: throw error.error
            }
        }
        return .done(try committed.stored(updated, .network(updated.prefix)))
    }

    /// The row written over what was read, and its event.
    func transitionActions(
        from row: Stored<NetworkRow>, to updated: NetworkRow, action: AuditAction, scope: Scope, now: Date,
        detail: String
    ) -> InventoryTransaction {
        var transaction = InventoryTransaction()
        transaction.add(.network(updated.prefix), row.replaced(by: updated, partitionKey: scope.partitionKey))
        transaction.add(
            .event,
            .insert(
                event(action, updated, before: row.state, detail: detail).entity(
                    partitionKey: scope.partitionKey, at: EventClock.stamp(now))))
        transaction.add(
            .history,
            Self.historyActions(
                [updated], before: [row.value.rowKey: row.value], action: action, scope: scope, now: now))
        return transaction
    }

    // MARK: The Manager's batches

    /// Applies row changes, many to a transaction (up to 100 operations, through group commit): each
    /// change's operations stay all-or-nothing, and a change whose row a Vendor changed meanwhile is
    /// counted as a conflict and left for the next run without holding back the others.
    package func apply(_ changes: [RowChange], in scope: Scope, now: Date) async -> BatchResult {
        var result = BatchResult()
        guard !changes.isEmpty else { return result }
        // Changes that move a quota counter go one at a time, each with its counters as read (a transaction
        // names each row once, and two leases of one requester share a counter).
        let counted = changes.filter { !$0.deleteRow && Self.quotaDelta($0.before.value, $0.after) != 0 }
        for change in counted {
            do {
                let delta = Self.quotaDelta(change.before.value, change.after)
                let counters = try await usage(of: change.before.value, in: scope)
                var transaction = changeActions(change, scope: scope, now: now)
                for counter in counters {
                    transaction.add(
                        .usage(counter.key),
                        counter.adding(delta, for: change.before.prefix).write(partitionKey: scope.partitionKey))
                }
                result.transactions += 1
                _ = try await submit(transaction.actions)
                result.applied[change.action, default: 0] += 1
            } catch let error as InventoryError {
                result.failure = result.failure ?? error
            } catch {
                switch WriteFailure(error) {
                case .conflict: result.conflicts += 1
                case .unknown:
                    result.failure =
                        result.failure ?? InventoryError(kind: .unavailable, detail: "a change's outcome is unknown")
                case .failed(let error): result.failure = result.failure ?? error
                }
            }
        }
        let combiner = TransactionCombiner(table: table)
        // Each change is built by the round that sends it: its event's time is when it goes out, not when the batch
        // began (a round waits behind the ones before it), and it goes out within the event send window or not at all.
        let clock = EventClock.now
        let outcomes = await withTaskGroup(of: (AuditAction, WriteFailure?).self) { group in
            for change in changes where change.deleteRow || Self.quotaDelta(change.before.value, change.after) == 0 {
                let build: @Sendable () -> [TableTransactionAction] = {
                    EventClock.$now.withValue(clock) { changeActions(change, scope: scope, now: now).actions }
                }
                group.addTask {
                    do {
                        _ = try await combiner.submit(building: build, sendWithin: Self.eventSendWindow)
                        return (change.action, nil)
                    } catch {
                        return (change.action, WriteFailure(error))
                    }
                }
            }
            return await group.reduce(into: [(AuditAction, WriteFailure?)]()) { $0.append($1) }
        }
        for (action, failure) in outcomes {
            switch failure {
            case nil: result.applied[action, default: 0] += 1
            case .conflict: result.conflicts += 1
            case .unknown:
                result.failure =
                    result.failure ?? InventoryError(kind: .unavailable, detail: "a change's outcome is unknown")
            case .failed(let error): result.failure = result.failure ?? error
            }
        }
        result.transactions += await combiner.rounds
        return result
    }

    /// The operations that apply one change: the row (or its deletion) under its ETag, the stock row
    /// that follows an `available` state, the session row a returned block leaves behind, the event.
    func changeActions(_ change: RowChange, scope: Scope, now: Date) -> InventoryTransaction {
        if change.deleteRow {
            let event = AuditEvent(
                action: .known(change.action), actor: actor, cidr: change.before.prefix.description, leaseId: "",
                sessionId: "",
                before: .known(change.before.state), after: nil, detail: change.detail)
            var transaction = InventoryTransaction()
            transaction.add(.network(change.before.prefix), change.before.deleted(partitionKey: scope.partitionKey))
            transaction.add(.event, .insert(event.entity(partitionKey: scope.partitionKey, at: EventClock.stamp(now))))
            transaction.add(
                .history, Self.historyEnd(change.before.prefix, action: change.action, scope: scope, now: now))
            return transaction
        }
        var transaction = transitionActions(
            from: change.before, to: change.after, action: change.action, scope: scope, now: now, detail: change.detail)
        transaction.add(stockFollowing(change.before.value, change.after, scope: scope))
        if let companion = change.companion {
            transaction.add(
                .network(companion.after.prefix),
                companion.before.replaced(by: companion.after, partitionKey: scope.partitionKey))
            transaction.add(stockFollowing(companion.before.value, companion.after, scope: scope))
            transaction.add(
                .history,
                Self.historyActions(
                    [companion.after], before: [companion.before.value.rowKey: companion.before.value],
                    action: change.action, scope: scope, now: now))
        }
        if let session = change.deleteSession {
            transaction.add(
                .session, .delete(partitionKey: scope.partitionKey, rowKey: RowKeys.session(session), ifMatch: .any))
        }
        return transaction
    }

    /// The stock row that follows a row into (or out of) `available`.
    func stockFollowing(_ before: NetworkRow, _ after: NetworkRow, scope: Scope) -> InventoryTransaction {
        var transaction = InventoryTransaction()
        if before.state == .available && after.state != .available {
            transaction.add(
                .stock(before.prefix),
                .delete(
                    partitionKey: scope.partitionKey, rowKey: RowKeys.stock(before.prefix, pool: before.pool),
                    ifMatch: .any))
        } else if before.state != .available && after.state == .available {
            transaction.add(
                .stock(after.prefix), .insert(Self.stockEntity(after.prefix, pool: after.pool, scope: scope)))
        }
        return transaction
    }

    /// Refreshes `LastSeenAt` (only that property, `If-Match` each row's ETag), up to 100 rows per
    /// transaction. A row changed meanwhile fails its batch as a conflict; the next run tries again.
    package func refreshLastSeen(_ rows: [Stored<NetworkRow>], in scope: Scope, now: Date) async -> BatchResult {
        var result = BatchResult()
        for chunk in stride(from: 0, to: rows.count, by: 100) {
            let part = rows[chunk..<min(chunk + 100, rows.count)]
            let actions = part.map { row in
                row.merged(["LastSeenAt": .dateTime(now)], partitionKey: scope.partitionKey)
            }
            result.transactions += 1
            do {
                _ = try await submit(actions)
                result.written += part.count
            } catch {
                switch WriteFailure(error) {
                case .conflict: result.conflicts += 1
                case .unknown:
                    result.failure =
                        result.failure ?? InventoryError(kind: .unavailable, detail: "a refresh's outcome is unknown")
                case .failed(let error): result.failure = result.failure ?? error
                }
            }
        }
        return result
    }

    /// Occupied rows one `recordOccupied` transaction adds: head + 3 per row (the row, its history mark, its VNet's
    /// history row) + event ≤ 100.
    static let occupiedRowsPerTransaction = 32

    /// Records space that listed VNets use as new `occupied` rows (`Origin` observed, `LastSeenAt` `now`), under
    /// the head lock so carving sees them, 32 to a transaction with one `occupy` event each.
    ///
    /// - Parameter knownVersion: the head's version when the rows the blocks were computed from were read (nil:
    ///   not known). Rows carved since then are left out of the blocks (their rest is recorded), so a carve that
    ///   ran between that read and this write never ends up overlapping an occupied row; when the head's log no
    ///   longer reaches back that far, nothing is recorded and the next run records what is still uncovered.
    package func recordOccupied(
        _ blocks: [(prefix: IPPrefix, resourceId: String)], in scope: Scope, now: Date,
        knownVersion: Int64? = nil
    ) async -> BatchResult {
        var result = BatchResult()
        var known = knownVersion
        var pending = blocks[...]
        while !pending.isEmpty {
            do {
                let head = try await self.head(of: scope)
                if let version = known, version != (head?.version ?? 0) {
                    guard let head, let added = head.added(since: version) else {
                        // the log no longer tells what was carved meanwhile: the next run records it
                        result.conflicts += 1
                        return result
                    }
                    let carved = PrefixIndex(added.map { ($0, $0) })
                    pending =
                        pending.flatMap { block in
                            FreeSpace.freeBlocks(in: block.prefix, occupied: carved.overlapping(block.prefix))
                                .map { (prefix: $0, resourceId: block.resourceId) }
                        }[...]
                    known = head.version
                    if pending.isEmpty { break }
                }
                let part = pending.prefix(Self.occupiedRowsPerTransaction)
                var actions: [TableTransactionAction] = [
                    Self.takeHead(head, adding: part.map(\.prefix), scope: scope, now: now)
                ]
                for block in part {
                    let row = NetworkRow.observed(block.prefix, usedBy: block.resourceId, seenAt: now)
                    actions.append(.insert(row.entity(partitionKey: scope.partitionKey)))
                    actions += Self.historyActions([row], action: .occupy, scope: scope, now: now)
                }
                let cidrs = part.map(\.prefix.description).joined(separator: " ")
                actions.append(
                    .insert(
                        AuditEvent(
                            action: .known(.occupy), actor: actor, cidr: cidrs, leaseId: "", sessionId: "",
                            before: nil,
                            after: .known(.occupied), detail: "VNets' space no row covered"
                        )
                        .entity(partitionKey: scope.partitionKey, at: EventClock.stamp(now))))
                result.transactions += 1
                _ = try await submit(actions)
                result.written += part.count
                pending = pending.dropFirst(part.count)
                known = known.map { _ in (head?.version ?? 0) + 1 } // our own transaction's version
            } catch {
                switch WriteFailure(error) {
                case .conflict:
                    // A carve got in first: with the version known, the head's log tells what it took (read again
                    // above); without, these blocks wait for the next run, which records what is still uncovered.
                    result.conflicts += 1
                    if known == nil {
                        pending = pending.dropFirst(Self.occupiedRowsPerTransaction)
                    } else if result.conflicts >= 8 {
                        return result
                    }
                case .unknown:
                    result.failure =
                        result.failure
                        ?? InventoryError(kind: .unavailable, detail: "recording occupied space: outcome unknown")
                    pending = pending.dropFirst(Self.occupiedRowsPerTransaction)
                case .failed(let error):
                    result.failure = result.failure ?? error
                    pending = pending.dropFirst(Self.occupiedRowsPerTransaction)
                }
            }
        }
        return result
    }
}
