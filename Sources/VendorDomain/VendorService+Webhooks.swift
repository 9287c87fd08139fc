package import Foundation
import IPAMCore
package import Inventory

/// Webhooks as the Vendor shows them (the Manager delivers them: `ManagerJobs.WebhookDispatcher`).
extension VendorService {
    /// Where webhook `name` stands: its cursor per scope and its dead letters.
    package func deliveries(of name: String) async throws(DomainError) -> ([WebhookCursor], [DeadLetter]) {
        let cursors = try await storage { () async throws(InventoryError) in
            try await inventory.webhookCursors(name)
        }
        let dead = try await storage { () async throws(InventoryError) in try await inventory.deadLetters(name)
        }
        return (cursors, dead)
    }

    /// The events of `cursor`'s scope after it, up to `until`, oldest first, at most `limit`: what its webhook's
    /// dispatcher has still to handle there (the console's backlog; which of them the webhook wants is its own
    /// filter, `Webhook.wants`).
    package func events(after cursor: WebhookCursor, until: Date, limit: Int) async throws(DomainError)
        -> [AuditEvent]
    {
        try await storage { () async throws(InventoryError) in
            try await inventory.events(in: cursor.scope, after: cursor.lastEvent, until: until, limit: limit)
        }
    }
}
