import Inventory

/// Free blocks this process has read (or just stocked itself), handed out one caller at a time.
///
/// Callers of one Vendor never pick the same block, and most claims need no read first: the claim's
/// `If-Match` on the stock row still decides, so a block taken meanwhile by another process costs one 412.
/// Entries older than `maxAge` are dropped, so a burst of stale candidates cannot build up. A block handed
/// out is remembered for `maxAge` too: a read that raced with its claim (still queued for a shared
/// commit, say) must not put it back for a second caller.
public actor StockCache {
    private var queues: [String: (items: [Inventory.StockCandidate], filledAt: ContinuousClock.Instant)] = [:]
    /// Row keys handed out, with when, in the order they were (pruned from the front).
    private var handedOut: Set<String> = []
    private var handedOutOrder: [(rowKey: String, at: ContinuousClock.Instant)] = []
    private var handedOutStart = 0
    private let maxAge: Duration

    public init(maxAge: Duration = .seconds(2)) { self.maxAge = maxAge }

    /// The next candidate for `key`, or nil when there is none fresh enough.
    public func take(_ key: String) -> Inventory.StockCandidate? {
        guard var queue = queues[key] else { return nil }
        let now = ContinuousClock.now
        guard now - queue.filledAt < maxAge, !queue.items.isEmpty else {
            queues[key] = nil
            return nil
        }
        let item = queue.items.removeLast()
        queues[key] = queue.items.isEmpty ? nil : queue
        handedOut.insert(item.rowKey)
        handedOutOrder.append((item.rowKey, now))
        return item
    }

    /// Adds candidates (shuffled, so Vendors reading the same rows pick them in different orders),
    /// leaving out blocks already handed out to a caller of this process.
    public func fill(_ key: String, _ items: [Inventory.StockCandidate]) {
        let now = ContinuousClock.now
        while handedOutStart < handedOutOrder.count, now - handedOutOrder[handedOutStart].at >= maxAge {
            handedOut.remove(handedOutOrder[handedOutStart].rowKey)
            handedOutStart += 1
        }
        if handedOutStart > 1024, handedOutStart * 2 > handedOutOrder.count {
            handedOutOrder.removeFirst(handedOutStart)
            handedOutStart = 0
        }
        var queue = queues[key]?.items ?? []
        var known = Set(queue.map(\.rowKey))
        for item in items where !handedOut.contains(item.rowKey) && known.insert(item.rowKey).inserted {
            queue.append(item)
        }
        queue.shuffle()
        queues[key] = (queue, now)
    }

    public func count(_ key: String) -> Int { queues[key]?.items.count ?? 0 }
}
