package import IPAMCore
package import Inventory

/// Free blocks this process has read (or just stocked itself), handed out one caller at a time.
///
/// Callers of one Vendor never pick the same block, and most claims need no read first: the claim's
/// `If-Match` on the stock row still decides, so a block taken meanwhile by another process costs one 412.
/// Entries older than `maxAge` (since they were read) are dropped, so a burst of stale candidates cannot
/// build up. A block handed out is remembered for `maxAge` too: a read that raced with its claim (still
/// queued for a shared commit, say) must not put it back for a second caller.
package actor StockCache {
    private struct Entry {
        let candidate: Inventory.StockCandidate
        let readAt: Duration
    }
    private var queues: [String: [Entry]] = [:]
    /// Row keys handed out, with when, in the order they were (pruned from the front).
    private var handedOut: Set<String> = []
    private var handedOutOrder: [(rowKey: String, at: Duration)] = []
    private var handedOutStart = 0
    private let maxAge: Duration
    private let uptime: @Sendable () -> Duration

    package init(maxAge: Duration = .seconds(2), time: TimeSource = .system) {
        self.maxAge = maxAge
        self.uptime = time.uptime
    }

    /// A candidate taken from the cache: give it back with `giveBack` when the claim did not use it.
    package struct Taken: Sendable {
        package let candidate: Inventory.StockCandidate
        let readAt: Duration
    }

    /// The next candidate for `key`, or nil when there is none fresh enough.
    package func take(_ key: String) -> Taken? {
        let now = uptime()
        // Popped in place: a copy of the queue taken out of the dictionary shares its storage, so popping the copy
        // copied every candidate behind it (on each take, as many as a carve stocked for the callers waiting).
        while let entry = queues[key]?.popLast() {
            if queues[key]?.isEmpty == true { queues[key] = nil }
            guard now - entry.readAt < maxAge else { continue }
            handedOut.insert(entry.candidate.rowKey)
            handedOutOrder.append((entry.candidate.rowKey, now))
            return Taken(candidate: entry.candidate, readAt: entry.readAt)
        }
        return nil
    }

    /// The candidate `take` would hand out next for `key`, left where it is (a dry run's look: nothing is taken,
    /// dropped or remembered as handed out).
    package func peek(_ key: String) -> Inventory.StockCandidate? {
        let now = uptime()
        return queues[key]?.last { now - $0.readAt < maxAge }?.candidate
    }

    /// Puts back a candidate whose claim wrote nothing (its SessionId was already served), for the next
    /// caller: a replay must not use up stock.
    package func giveBack(_ key: String, _ taken: Taken) {
        handedOut.remove(taken.candidate.rowKey)
        queues[key, default: []].append(Entry(candidate: taken.candidate, readAt: taken.readAt))
    }

    /// Adds candidates (shuffled, so Vendors reading the same rows pick them in different orders),
    /// leaving out blocks already handed out to a caller of this process.
    package func fill(_ key: String, _ items: [Inventory.StockCandidate]) {
        let now = uptime()
        while handedOutStart < handedOutOrder.count, now - handedOutOrder[handedOutStart].at >= maxAge {
            handedOut.remove(handedOutOrder[handedOutStart].rowKey)
            handedOutStart += 1
        }
        if handedOutStart > 1024, handedOutStart * 2 > handedOutOrder.count {
            handedOutOrder.removeFirst(handedOutStart)
            handedOutStart = 0
        }
        var queue = (queues[key] ?? []).filter { now - $0.readAt < maxAge }
        var known = Set(queue.map(\.candidate.rowKey))
        for item in items where !handedOut.contains(item.rowKey) && known.insert(item.rowKey).inserted {
            queue.append(Entry(candidate: item, readAt: now))
        }
        queue.shuffle()
        queues[key] = queue
    }

    /// Fresh candidates held for `key`.
    package func count(_ key: String) -> Int {
        let now = uptime()
        return queues[key]?.count { now - $0.readAt < maxAge } ?? 0
    }
}
