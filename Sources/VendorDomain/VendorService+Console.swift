package import Foundation
package import IPAMCore
package import Inventory

/// What the operator console reads and writes beyond the API's own calls: its sessions' rows, a scope's rows
/// for the address-space page, and the Manager's last status. Each is one storage call, a failure 503.
extension VendorService {
    /// Stores a new console session's row (its id's digest, its sealed credential, its ends).
    package func startConsoleSession(_ record: ConsoleSessionRecord) async throws(DomainError) {
        try await storage { () async throws(InventoryError) in try await inventory.insert(record) }
    }

    /// The console session whose id has this digest, nil when there is none (never made, signed out, purged).
    package func consoleSession(_ digest: String) async throws(DomainError) -> ConsoleSessionRecord? {
        return try await storage { () async throws(InventoryError) in
            try await inventory.consoleSession(digest)
        }
    }

    /// Writes a console session's last use; false when its row is gone (signed out meanwhile), which it never
    /// brings back.
    package func touchConsoleSession(_ digest: String, at date: Date) async throws(DomainError) -> Bool {
        return try await storage { () async throws(InventoryError) in
            try await inventory.touchConsoleSession(digest, at: date)
        }
    }

    /// Deletes a console session's row: its cookie and CSRF token open nothing again, on any Vendor.
    package func endConsoleSession(_ digest: String) async throws(DomainError) {
        try await storage { () async throws(InventoryError) in
            try await inventory.deleteConsoleSession(digest)
        }
    }

    /// Deletes up to `limit` console sessions past their end or unused since `idleSince`; a storage failure
    /// is left for a later sign-in to retry (nothing depends on it).
    package func purgeEndedConsoleSessions(now: Date, idleSince: Date, limit: Int) async {
        _ = try? await inventory.purgeConsoleSessions(now: now, idleSince: idleSince, limit: limit)
    }

    /// Every row of a scope (leases, stock, reservations, occupied space), for the address-space page.
    package func networks(in scope: Scope) async throws(DomainError) -> [NetworkRow] {
        return try await storage { () async throws(InventoryError) in
            try await inventory.networks(in: scope).map(\.value)
        }
    }

    /// The Manager's last reported run (with its drift report), nil before its first.
    package func managerStatus() async throws(DomainError) -> ManagerStatus? {
        return try await storage { () async throws(InventoryError) in try await inventory.managerStatus() }
    }
}
