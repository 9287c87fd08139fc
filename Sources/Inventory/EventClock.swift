internal import AzureCore
internal import AzureTables
package import Foundation

/// The time an audit event is stamped with, and how long after it its transaction may still be sent
/// (docs/Design.md, "Webhooks", "An event's time").
///
/// An event's key is its time, and the webhook dispatcher passes every key older than its settle delay: an event
/// that commits later than that after its time is never delivered. So an event is stamped when its transaction is
/// built to be sent (not when its change was decided), and the transaction is sent only within
/// `Inventory.eventSendWindow` of that (`Inventory.submit`): it commits within that window plus one attempt's
/// storage timeout of its time, or not at all.
package enum EventClock {
    /// The writer's clock, when its changes are decided long before they are written: a Manager run decides at its
    /// start and writes over its whole length, so it sets its run's clock here. Nil: the time of the operation
    /// (`now`), which the Vendor takes just before building each transaction.
    @TaskLocal package static var now: Source? = nil

    /// The time to stamp the event of a change decided at `decided` with: read when its transaction is built.
    package static func stamp(_ decided: Date) -> Date { now?.read() ?? decided }

    /// A writer's clock, wrapped in a type of its own: release builds of Swift 6.3 pushed a task-local whose type
    /// is a bare function type without its type metadata and crashed in `swift_task_localValuePush` (every
    /// allocation of the release Vendor).
    package struct Source: Sendable {
        package let read: @Sendable () -> Date
        package init(_ read: @escaping @Sendable () -> Date) { self.read = read }
    }
}

extension Inventory {
    /// Longest time from building a transaction that carries an audit event to starting an attempt to send it:
    /// with one attempt's storage timeout (`STORAGE_TIMEOUT_MS`, 10 s by default) it stays under the webhook
    /// dispatcher's settle delay (`WEBHOOK_SETTLE_SECONDS`, 30 s by default), leaving the rest for clocks that
    /// differ between processes.
    package static let eventSendWindow: Duration = .seconds(15)

    /// Sends one transaction. One that carries an audit event is sent only within `eventSendWindow` of now, its
    /// event having been stamped just before: no attempt starts later, and one that could not start in time fails
    /// as storage busy, not sent (the caller, or the next run, writes the change again with a fresh time).
    func submit(_ actions: [TableTransactionAction]) async throws -> [String?] {
        guard actions.contains(where: { $0.keys.rowKey.hasPrefix(RowKeys.eventPrefix) }) else {
            return try await table.submitTransaction(actions)
        }
        let sendBy = table.service.pipeline.clock.uptime() + Self.eventSendWindow
        return try await StorageDeadline.$sendBy.withValue(sendBy) { try await table.submitTransaction(actions) }
    }

    /// Sends `transaction` through group commit (a claim), its `event` stamped anew by each round that takes it,
    /// so a claim that waits behind other rounds is stamped when it goes out and sent within `eventSendWindow` of
    /// that (`TransactionCombiner.submit(building:)`).
    func submitCombined(_ transaction: InventoryTransaction, stamping event: AuditEvent, decided now: Date)
        async throws -> [String?]
    {
        guard let index = transaction.slots.firstIndex(of: .event), let partition = transaction.actions.first?.keys
        else { return try await submit(transaction.actions) }
        let clock = EventClock.now
        let actions = transaction.actions
        return try await claims.submit(
            building: {
                var stamped = actions
                let at = EventClock.$now.withValue(clock) { EventClock.stamp(now) }
                stamped[index] = .insert(event.entity(partitionKey: partition.partitionKey, at: at))
                return stamped
            }, sendWithin: Self.eventSendWindow, sample: actions)
    }
}
