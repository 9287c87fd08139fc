internal import AzureTables
internal import Foundation
package import IPAMCore
package import NetworkMath

/// A row that a range to be taken (a reservation, an adopted network) overlaps and that is not free space.
package struct RangeConflict: Sendable, Equatable {
    package let prefix: IPPrefix
    package let state: NetworkState
    package let leaseId: String?
    /// The VNet (occupied, anchored) or the reservation (reserved) holding it.
    package let holder: String?

    init(_ row: Stored<NetworkRow>) {
        prefix = row.prefix
        state = row.state
        leaseId = row.leaseId
        holder = row.resourceId ?? row.lockedBy ?? row.leaseId
    }

    init(prefix: IPPrefix, state: NetworkState, leaseId: String?, holder: String?) {
        self.prefix = prefix
        self.state = state
        self.leaseId = leaseId
        self.holder = holder
    }
}

/// The operations that clear a range of the rows inside it, so one new row can hold it exactly.
struct RangeTake {
    /// Deletes of rows inside the range and of their stock rows; inserts of what a split leaves outside it.
    var actions: [TableTransactionAction] = []
    /// Network rows the transaction inserts besides the one for the range (for the head's log).
    var added: [IPPrefix] = []
    /// The row that is exactly the range: the new row replaces it (a transaction names each row once).
    var replaced: Stored<NetworkRow>?
    /// Rows in the way: when there are any, nothing may be written.
    var conflicts: [RangeConflict] = []
    /// The stocked rows taken out of stock (for the event's detail).
    var backToStock: [IPPrefix] = []
    /// Held rows (a VNet's occupied space) deleted by the take, and what of them stays held outside the range.
    var endedHoldings: [IPPrefix] = []
    var keptHoldings: [NetworkRow] = []

    /// The history of what the take does to held rows: the end of each one deleted, the start of each remainder.
    func history(action: AuditAction, scope: Scope, now: Date) -> [TableTransactionAction] {
        endedHoldings.map { Inventory.historyEnd($0, action: action, scope: scope, now: now) }
            + Inventory.historyActions(keptHoldings, action: action, scope: scope, now: now)
    }

    /// The write of the row that holds the range: over the row that was exactly it (`If-Match`), else an insert.
    func holding(_ row: NetworkRow, scope: Scope) -> TableTransactionAction {
        replaced.map { $0.replaced(by: row, partitionKey: scope.partitionKey) }
            ?? .insert(row.entity(partitionKey: scope.partitionKey))
    }
}

extension Inventory {
    /// What it takes to hold `range` in one new row, given every network row of the partition: a stocked
    /// (`available`) block inside it leaves the stock, one that contains it is split and the rest goes back
    /// to stock; a row `yields` accepts (say, space occupied by the very VNet being adopted) is removed in the
    /// same way, the rest of a split one keeping its state and lock. Anything else is a conflict.
    static func take(
        _ range: IPPrefix, from rows: [Stored<NetworkRow>], scope: Scope,
        yields: (Stored<NetworkRow>) -> Bool = { _ in false }
    ) -> RangeTake {
        var take = RangeTake()
        let overlapping = rows.filter { $0.prefix.overlaps(range) }
        take.conflicts = overlapping.filter { $0.state != .available && !yields($0) }.map(RangeConflict.init)
        guard take.conflicts.isEmpty else { return take }
        for row in overlapping {
            if row.prefix == range {
                take.replaced = row
            } else {
                take.actions.append(row.deleted(partitionKey: scope.partitionKey))
                if row.state != .available { take.endedHoldings.append(row.prefix) }
            }
            if row.state == .available {
                take.actions.append(
                    .delete(
                        partitionKey: scope.partitionKey, rowKey: RowKeys.stock(row.prefix, pool: row.pool),
                        ifMatch: .any))
            }
            guard row.prefix.contains(range), row.prefix != range else { continue }
            for rest in FreeSpace.freeBlocks(in: row.prefix, occupied: [range]) {
                take.added.append(rest)
                if row.state == .available {
                    take.backToStock.append(rest)
                    let stocked = NetworkRow.available(rest, pool: row.pool)
                    take.actions.append(.insert(stocked.entity(partitionKey: scope.partitionKey)))
                    take.actions.append(.insert(Self.stockEntity(rest, pool: row.pool, scope: scope)))
                } else {
                    let kept = row.value.remainder(rest)
                    take.actions.append(.insert(kept.entity(partitionKey: scope.partitionKey)))
                    take.keptHoldings.append(kept)
                }
            }
        }
        return take
    }
}
