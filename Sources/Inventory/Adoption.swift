internal import AzureTables
package import Foundation
package import IPAMCore
package import NetworkMath

/// How adopting an existing network ended.
package enum AdoptOutcome: Sendable, Equatable {
    /// The block is leased as it is: the row as written.
    case adopted(Stored<NetworkRow>)
    /// The block overlaps rows that are neither free space nor the adopted VNet's own (nothing was written).
    case overlap([RangeConflict])
    /// Taking the block would need more than one transaction (too many stocked blocks inside it).
    case tooLarge
    /// The SessionId is already served: nothing was written; the caller answers from the session.
    case sessionTaken
    /// Another writer moved the head or a row meanwhile: nothing was written; try again.
    case changed
    /// The answer was lost: the lease may exist (its session row tells).
    case outcomeUnknown
}

extension Inventory {
    /// Brings an existing network's block under a lease without renumbering: one transaction under the scope's
    /// head (like a carve) inserts the session row, the `leased` row for exactly `prefix` and its `adopt` event.
    /// Free space and stock are taken as a reservation takes them; rows the Manager locked for the VNet being
    /// adopted (`occupied`, `LockedBy` = `resourceId`) give way too. Anything else is an overlap.
    ///
    /// With `prefixV6` (a dual-stack VNet's IPv6 block), both blocks are taken the same way in the same
    /// transaction and leased as one dual-stack lease (two rows naming each other, one session, one event).
    ///
    /// With `occupied`, only the rows overlapping the blocks are read (`rows(overlapping:in:head:occupied:)`).
    package func adopt(
        _ prefix: IPPrefix, v6 prefixV6: IPPrefix? = nil, for draft: LeaseDraft, resourceId: String?, in scope: Scope,
        now: Date, occupied: OccupiedSpace? = nil
    ) async throws(InventoryError) -> AdoptOutcome {
        let head = try await self.head(of: scope)
        let rows = try await rows(
            overlapping: [prefix] + (prefixV6.map { [$0] } ?? []), in: scope, head: head, occupied: occupied)
        let vnet = resourceId?.lowercased()
        let yields = { (row: Stored<NetworkRow>) in
            row.state == .occupied && vnet != nil && row.lockedBy?.lowercased() == vnet
        }
        let takes = ([prefix] + (prefixV6.map { [$0] } ?? [])).map {
            Self.take($0, from: rows, scope: scope, yields: yields)
        }
        let conflicts = takes.flatMap(\.conflicts)
        guard conflicts.isEmpty else { return .overlap(conflicts) }
        var held: [NetworkRow]
        let session: SessionRow
        if let prefixV6 {
            let pair = draft.pairRows(v4: prefix, v6: prefixV6)
            held = [pair.v4, pair.v6]
            session = pair.session
        } else {
            let single = draft.rows(on: prefix)
            held = [single.network]
            session = single.session
        }
        if let resourceId {
            for index in held.indices {
                guard let lease = held[index].lease else { continue }
                held[index].holding = .leased(lease, vnet: NetworkRow.Anchor(resourceId: resourceId))
            }
        }
        var transaction = InventoryTransaction()
        transaction.add(.session, .insert(session.entity(partitionKey: scope.partitionKey)))
        transaction.add(
            .head,
            Self.takeHead(head, adding: held.map(\.prefix) + takes.flatMap(\.added), scope: scope, now: now))
        for (take, row) in zip(takes, held) {
            transaction.add(.taken, take.actions)
            transaction.add(.network(row.prefix), take.holding(row, scope: scope))
            transaction.add(.history, take.history(action: AuditAction.adopt, scope: scope, now: now))
        }
        transaction.add(.history, Self.historyActions(held, action: .adopt, scope: scope, now: now, newLease: true))
        let backToStock = takes.flatMap(\.backToStock)
        transaction.add(
            .event,
            .insert(
                event(
                    .adopt, held[0], before: takes[0].replaced?.state,
                    detail: (resourceId.map { "VNet \($0)" } ?? "an existing network")
                        + (backToStock.isEmpty
                            ? "" : "; back to stock: \(backToStock.map(\.description).joined(separator: " "))")
                )
                .entity(partitionKey: scope.partitionKey, at: EventClock.stamp(now))))
        guard transaction.count <= 100 else { return .tooLarge }
        let committed: InventoryTransaction.Committed
        do {
            committed = try await transaction.commit { try await submit($0) }
        } catch {
            switch error.kind {
            case .refused(.session?, .exists): return .sessionTaken
            case .refused: return .changed
            case .unknown: return .outcomeUnknown
            case .failed: throw error.error
            }
        }
        await occupied?.record(
            scope, from: head?.version ?? 0, added: held.map(\.prefix) + takes.flatMap(\.added))
        return .adopted(try committed.stored(held[0], .network(held[0].prefix)))
    }
}
