package import Foundation
package import IPAMCore
package import Inventory

/// What the operator console reads and writes beyond the API's own calls: its sessions' rows, a scope's rows
/// for the address-space page, the Manager's last status, and the areas it last found low on space. Each is one
/// storage call (the low areas one per scope with thresholds), a failure 503.
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

    /// The areas of `scopes` the Manager last recorded as low on space (a `space-low` not yet followed by its
    /// `space-recovered`), scope by scope, each scope's own space before its pools. One key-range read per scope
    /// with low-space thresholds, none for the others; an area whose thresholds are no longer configured is left
    /// out (the Manager no longer judges it, so its last recorded state says nothing now).
    package func lowSpaceAreas(in scopes: [Scope]) async throws(DomainError) -> [(scope: Scope, state: SpaceAlertState)]
    {
        var low: [(scope: Scope, state: SpaceAlertState)] = []
        for scope in scopes.sorted() {
            let judged = configuration.usageAreas(of: scope).filter {
                !configuration.spaceThresholds(scope, pool: $0.pool).isEmpty
            }
            guard !judged.isEmpty else { continue }
            let recorded = try await storage { () async throws(InventoryError) in
                try await inventory.spaceAlerts(in: scope)
            }
            for area in judged {
                if let state = recorded[RowKeys.spaceAlert(pool: area.pool, version: area.version)]?.value, state.low {
                    low.append((scope, state))
                }
            }
        }
        return low
    }
}
