package import IPAMCore
package import Inventory

/// Session rows this process has written or read, so a replay (Terraform re-sends the same POST on
/// every plan, apply and refresh) costs one point read of the lease's network row instead of a claim.
///
/// A session row never changes once written; it is deleted only when its block returns to stock, and
/// then the network row no longer carries its lease id. So an entry is checked, not trusted: the replay
/// reads the network row and falls back to reading the session row when the lease ids differ. Bounded:
/// the oldest entries go first (each entry holds about 1 KiB, docs/Performance.md).
package actor SessionCache {
    /// The capacity when `VENDOR_SESSION_CACHE_ENTRIES` is unset.
    package static let defaultCapacity = 100_000
    /// The largest capacity `VENDOR_SESSION_CACHE_ENTRIES` accepts.
    package static let maximumCapacity = 10_000_000

    private var rows: [String: SessionRow] = [:]
    private var order: [String] = []
    private var start = 0
    nonisolated package let capacity: Int

    package init(capacity: Int = defaultCapacity) { self.capacity = max(1, capacity) }

    package func lookup(_ sessionId: String, in scope: Scope) -> SessionRow? { rows[Self.key(sessionId, scope)] }

    package func remember(_ row: SessionRow, in scope: Scope) {
        let key = Self.key(row.sessionId, scope)
        guard rows.updateValue(row, forKey: key) == nil else { return }
        order.append(key)
        while rows.count > capacity, start < order.count {
            rows[order[start]] = nil
            start += 1
        }
        if start > 4096, start * 2 > order.count {
            order.removeFirst(start)
            start = 0
        }
    }

    package func forget(_ sessionId: String, in scope: Scope) { rows[Self.key(sessionId, scope)] = nil }

    package var count: Int { rows.count }

    private static func key(_ sessionId: String, _ scope: Scope) -> String { scope.partitionKey + "/" + sessionId }
}
