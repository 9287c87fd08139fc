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
}
