import Foundation
import IPAMCore
import Inventory
import NetworkMath

/// Lease look-ups, release, renewal and pool statistics.
extension VendorService {
    /// Finds a lease by id (`scope` narrows the search to one partition).
    public func lease(id: String, scope: Scope?) async throws(VendorError) -> (NetworkRow, Scope) {
        guard UUID(uuidString: id) != nil else { throw VendorError(.invalidLeaseId, "'\(id)' is not a lease id", field: "leaseId") }
        var effort = Effort()
        let scopes = scope.map { [$0] } ?? configuration.scopes.keys.sorted()
        for candidate in scopes {
            if let row = try await storage(&effort, { () async throws(InventoryError) in try await inventory.network(leaseId: id, in: candidate) }) {
                return (row, candidate)
            }
        }
        throw VendorError(.leaseNotFound, "no lease '\(id)'", details: ["leaseId": id])
    }

    /// The lease of a SessionId.
    public func lease(session id: String, scope: Scope) async throws(VendorError) -> (NetworkRow, SessionRow) {
        var effort = Effort()
        guard let session = try await storage(&effort, { () async throws(InventoryError) in try await inventory.session(id, in: scope) }) else {
            throw VendorError(.sessionNotFound, "no lease for SessionId '\(id)' in \(scope)", details: ["sessionId": id])
        }
        let found = try await storage(&effort) { () async throws(InventoryError) in try await inventory.network(session.networkRowKey, in: scope) }
        guard let row = found, row.leaseId == session.leaseId else {
            throw VendorError(.leaseGone, "the lease of SessionId '\(id)' no longer exists", details: ["leaseId": session.leaseId])
        }
        return (row, session)
    }

    /// Releases a lease: it goes to `quarantined` (never straight back to stock). Idempotent: a
    /// repeat answers 410 with the lease's state.
    public func release(leaseId: String?, sessionId: String?, scope: Scope) async throws(VendorError) -> NetworkRow {
        try await transition(leaseId: leaseId, sessionId: sessionId, scope: scope, action: .release) { row throws(VendorError) in
            guard row.state == .leased || row.state == .anchored else {
                throw VendorError(.alreadyReleased, "lease \(row.leaseId ?? "") is already \(row.state.rawValue)",
                                  details: ["leaseId": row.leaseId ?? "", "state": row.state.rawValue])
            }
            var released = row
            released.state = .quarantined
            released.quarantinedAt = time.now()
            return released
        }
    }

    /// Extends `ExpiresAt` of a lease that is not anchored yet, to now + the lease duration.
    public func renew(leaseId: String?, sessionId: String?, scope: Scope) async throws(VendorError) -> NetworkRow {
        try await transition(leaseId: leaseId, sessionId: sessionId, scope: scope, action: .renew) { row throws(VendorError) in
            switch row.state {
            case .anchored: return nil
            case .leased:
                var renewed = row
                renewed.expiresAt = time.now().addingTimeInterval(configuration.leaseDuration.seconds)
                return renewed
            default:
                throw VendorError(.leaseNotRenewable, "lease \(row.leaseId ?? "") is \(row.state.rawValue)",
                                  details: ["leaseId": row.leaseId ?? "", "state": row.state.rawValue])
            }
        }
    }

    /// Reads the lease, asks `change` for its new version (nil: nothing to write) and commits it with
    /// its event under the row's ETag, reading again when someone else changed it first.
    private func transition(leaseId: String?, sessionId: String?, scope: Scope, action: AuditAction,
                            _ change: (NetworkRow) throws(VendorError) -> NetworkRow?) async throws(VendorError) -> NetworkRow {
        var effort = Effort()
        for _ in 0..<8 {
            let (row, rowScope) = try await locate(leaseId: leaseId, sessionId: sessionId, scope: scope)
            guard let updated = try change(row) else { return row }
            let outcome = try await storage(&effort) { () async throws(InventoryError) in
                try await inventory.transition(row, to: updated, action: action, in: rowScope, now: time.now())
            }
            switch outcome {
            case .done(let written): return written
            case .changed: continue
            case .outcomeUnknown:
                throw VendorError(.outcomeUnknown, "storage did not confirm the \(action.rawValue); retry (a repeat after it did commit answers 410 with the lease's state)", retryAfter: 1)
            }
        }
        throw .busy("the lease kept changing during \(action)")
    }

    private func locate(leaseId: String?, sessionId: String?, scope: Scope) async throws(VendorError) -> (NetworkRow, Scope) {
        if let sessionId { return (try await lease(session: sessionId, scope: scope).0, scope) }
        if let leaseId { return try await lease(id: leaseId, scope: nil) }
        throw VendorError(.missingField, "name the lease by 'SessionId' or 'leaseId'", field: "SessionId")
    }

    /// Per scope and size: rows by state, plus the free address space of the scope.
    public func pools() async throws(VendorError) -> [(Scope, [Int: [NetworkState: Int]], UInt128, Int)] {
        var effort = Effort()
        var result: [(Scope, [Int: [NetworkState: Int]], UInt128, Int)] = []
        for (scope, supernets) in configuration.scopes.sorted(by: { $0.key < $1.key }) {
            let rows = try await storage(&effort) { () async throws(InventoryError) in try await inventory.networks(in: scope) }
            var counts: [Int: [NetworkState: Int]] = [:]
            for row in rows { counts[row.prefix.length, default: [:]][row.state, default: 0] += 1 }
            let occupied = rows.map(\.prefix) + supernets.exclude
            var free = UInt128(0)
            var largest = 0
            for supernet in supernets.supernets where supernet.version == .v4 {
                let blocks = FreeSpace.freeBlocks(in: supernet, occupied: occupied)
                free += FreeSpace.addressCount(blocks)
                if let best = blocks.map(\.length).min() { largest = largest == 0 ? best : min(largest, best) }
            }
            result.append((scope, counts, free, largest))
        }
        return result
    }
}
