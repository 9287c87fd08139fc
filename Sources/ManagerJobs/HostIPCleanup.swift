package import Foundation
import IPAMCore
package import Inventory
package import Logging

/// Ends the host addresses of network leases that ended: for every lease with a host-IP partition whose
/// network row is no longer held by it (`released`, reaped or `quarantined`, or back in stock), deletes its
/// addresses and members in batches, then its head, keeping its audit events. Renewed and anchored leases
/// keep theirs. Idempotent: with nothing ended it writes nothing.
package struct HostIPCleanup: Sendable {
    package let inventory: Inventory
    package let logger: Logger

    package init(inventory: Inventory, logger: Logger) {
        self.inventory = inventory
        self.logger = logger
    }

    /// Leases cleared this run, rows deleted, and changes left for the next run (a Vendor changed the
    /// partition meanwhile).
    package struct Report: Sendable, Equatable {
        package var cleared = 0
        package var rowsDeleted = 0
        package var conflicts = 0
        package init() {}
    }

    package func run(now: Date) async throws(InventoryError) -> Report {
        var report = Report()
        var failure: InventoryError? = nil
        for head in try await inventory.hostIPHeads() {
            let row = try await inventory.network(head.networkRowKey, in: head.scope)
            let reason: String
            switch row {
            case nil: reason = "the network row is gone"
            case let row? where row.leaseId != head.leaseId: reason = "the block went back to stock"
            case let row? where row.state != .leased && row.state != .anchored:
                reason = "the lease is \(row.state.rawValue)"
            default: continue
            }
            let result = await inventory.clearHostIPs(head, reason: reason, now: now)
            report.cleared += result.applied[.hostIPsCleared] ?? 0
            report.rowsDeleted += result.written
            report.conflicts += result.conflicts
            failure = failure ?? result.failure
            logger.info(
                "host IPs of an ended lease cleared",
                metadata: [
                    "leaseId": .string(head.leaseId), "reason": .string(reason),
                    "rows": .stringConvertible(result.written),
                ])
        }
        if let failure { throw failure }
        return report
    }
}
