internal import AzureTables
public import Foundation
public import IPAMCore
public import NetworkMath

/// How adopting an existing network ended.
public enum AdoptOutcome: Sendable, Equatable {
    /// The block is leased as it is: the row as written.
    case adopted(NetworkRow)
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
    public func adopt(_ prefix: IPPrefix, for draft: LeaseDraft, resourceId: String?, in scope: Scope, now: Date) async throws(InventoryError) -> AdoptOutcome {
        let head = try await self.head(of: scope)
        let rows = try await networks(in: scope)
        let vnet = resourceId?.lowercased()
        let take = Self.take(prefix, from: rows, scope: scope) { row in
            row.state == .occupied && vnet != nil && row.lockedBy?.lowercased() == vnet
        }
        guard take.conflicts.isEmpty else { return .overlap(take.conflicts) }
        var (row, session) = draft.rows(on: prefix)
        row.resourceId = resourceId
        var actions: [TableTransactionAction] = [.insert(session.entity(partitionKey: scope.partitionKey)),
                                                 Self.takeHead(head, adding: [prefix] + take.added, scope: scope, now: now)]
        actions += take.actions
        actions.append(take.holding(row, scope: scope))
        let replaced = take.replaced?.state
        actions.append(.insert(event(.adopt, row, before: replaced,
                                     detail: (resourceId.map { "VNet \($0)" } ?? "an existing network")
                                        + (take.backToStock.isEmpty ? "" : "; back to stock: \(take.backToStock.map(\.description).joined(separator: " "))"))
            .entity(partitionKey: scope.partitionKey, at: now)))
        guard actions.count <= 100 else { return .tooLarge }
        do {
            let etags = try await table.submitTransaction(actions)
            row.etag = etags.count == actions.count ? etags[actions.count - 2] : nil // the network row is second to last
            return .adopted(row)
        } catch {
            switch WriteFailure(error) {
            case .conflict(let index, let status) where index == 0 && status == 409: return .sessionTaken
            case .conflict: return .changed
            case .unknown: return .outcomeUnknown
            case .failed(let failure): throw failure
            }
        }
    }
}
