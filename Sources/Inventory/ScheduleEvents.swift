internal import AzureTables
package import Foundation

extension RowKeys {
    /// The partition of the public-IP schedule's audit events.
    package static let schedulePartition = "schedule"
}

extension Inventory {
    /// Writes one audit event of the public-IP schedule (`schedule` partition), after the change it
    /// records happened in Azure Resource Manager (which no transaction of ours can include).
    package func recordScheduleEvent(_ action: AuditAction, subject: String, detail: String, now: Date)
        async throws(InventoryError)
    {
        let event = AuditEvent(
            action: .known(action), actor: actor, cidr: subject, leaseId: "", sessionId: "", before: nil, after: nil,
            detail: detail)
        _ = try await storage {
            try await submit([.insert(event.entity(partitionKey: RowKeys.schedulePartition, at: EventClock.stamp(now)))]
            )
        }
    }

    /// The public-IP schedule's audit events, newest first.
    package func scheduleEvents() async throws(InventoryError) -> [AuditEvent] {
        try await storage {
            try await table.queryAll(
                filter: Self.range(RowKeys.eventPrefix, in: RowKeys.schedulePartition), AuditEvent.init(entity:))
        }
    }
}
