internal import AzureCore
package import AzureTables
package import NetworkMath

/// One entity group transaction whose operations are added under named slots: what it returns (ETags) and how
/// it fails (which operation's condition did not hold) are read by slot, never by an operation's position.
package struct InventoryTransaction: Sendable {
    /// What an operation writes, by the row it names.
    package enum Slot: Hashable, Sendable, CustomStringConvertible {
        /// The scope's `head` row (the carve lock) or a lease's host-IP head.
        case head
        /// The lease's session row.
        case session
        /// The session row of the transaction's n-th lease, when it leases several (`carveLeases`).
        case sessionOf(Int)
        /// The network row of a block.
        case network(IPPrefix)
        /// The stock index row of a block.
        case stock(IPPrefix)
        /// A quota counter (`usage_…`), by its row key.
        case usage(String)
        /// A reservation row, by its id.
        case reservation(String)
        /// Rows a range take clears or splits (`RangeTake.actions`).
        case taken
        /// An audit event (a transaction may write several).
        case event
        /// Rows of the address history index (`History.swift`): marks, a lease's blocks, a VNet's blocks.
        case history

        package var description: String {
            switch self {
            case .head: "head"
            case .session: "session"
            case .sessionOf(let position): "session of lease \(position)"
            case .network(let prefix): "network \(prefix)"
            case .stock(let prefix): "stock \(prefix)"
            case .usage(let key): "usage \(key)"
            case .reservation(let id): "reservation \(id)"
            case .taken: "taken"
            case .event: "event"
            case .history: "history"
            }
        }
    }

    /// Why storage refused an operation's condition.
    package enum Refusal: Sendable, Equatable {
        /// 409: an insert found the row there already.
        case exists
        /// 412: the row's ETag no longer matched.
        case changed
        /// 404: the row the operation names is gone.
        case missing
    }

    /// How a transaction failed: nothing of it was written (or, for `unknown`, maybe all of it).
    package struct Failure: Error, Sendable {
        package enum Kind: Sendable, Equatable {
            /// The operation in this slot was refused (nil: storage did not say which operation).
            case refused(Slot?, Refusal)
            /// The answer was lost: the transaction may or may not have committed.
            case unknown
            /// Nothing was written and storage is not usable right now.
            case failed
        }
        package let kind: Kind
        /// The storage failure as the boundary reports it (`InventoryError`).
        package let error: InventoryError
    }

    /// What a committed transaction returned, by slot.
    package struct Committed: Sendable {
        let slots: [Slot]
        let etags: [String?]

        /// The ETag of the (first) operation in `slot` (nil for a delete, or no such slot).
        package func etag(_ slot: Slot) -> String? {
            slots.firstIndex(of: slot).flatMap { $0 < etags.count ? etags[$0] : nil }
        }

        /// `value` as the operation in `slot` wrote it, with the ETag storage gave it.
        /// - Throws: when storage answered that write without an ETag (Table Storage always gives one).
        package func stored<Row>(_ value: Row, _ slot: Slot) throws(InventoryError) -> Stored<Row> {
            guard let etag = etag(slot) else {
                throw InventoryError(
                    kind: .unavailable, detail: "storage answered the write of \(slot) without an ETag")
            }
            return Stored(value, etag: etag)
        }
    }

    package private(set) var actions: [TableTransactionAction] = []
    package private(set) var slots: [Slot] = []

    package init() {}

    /// Adds one operation under `slot`.
    package mutating func add(_ slot: Slot, _ action: TableTransactionAction) {
        actions.append(action)
        slots.append(slot)
    }

    /// Adds several operations under one slot (a failure of any of them reports `slot`).
    package mutating func add(_ slot: Slot, _ more: [TableTransactionAction]) {
        for action in more { add(slot, action) }
    }

    /// Adds another transaction's operations with their slots.
    package mutating func add(_ other: InventoryTransaction) {
        actions += other.actions
        slots += other.slots
    }

    package var count: Int { actions.count }

    /// The slot of the operation at `index` (as storage names a failed operation).
    package func slot(at index: Int?) -> Slot? {
        index.flatMap { slots.indices.contains($0) ? slots[$0] : nil }
    }

    /// Sends the transaction through `send` (the table, or group commit) and reads the answer by slot.
    package func commit(
        _ send: ([TableTransactionAction]) async throws -> [String?]
    ) async throws(Failure) -> Committed {
        do {
            return Committed(slots: slots, etags: try await send(actions))
        } catch {
            throw failure(error)
        }
    }

    /// A storage error in this transaction's terms.
    package func failure(_ error: any Error) -> Failure {
        let reported = InventoryError(error)
        guard let azure = error as? AzureError else { return Failure(kind: .failed, error: reported) }
        let slot = slot(at: azure.failedOperationIndex)
        if azure.isPreconditionFailed { return Failure(kind: .refused(slot, .changed), error: reported) }
        if azure.isConflict { return Failure(kind: .refused(slot, .exists), error: reported) }
        if azure.isNotFound && azure.errorCode != "TableNotFound" {
            return Failure(kind: .refused(slot, .missing), error: reported)
        }
        return Failure(kind: azure.outcomeUnknown ? .unknown : .failed, error: reported)
    }
}
