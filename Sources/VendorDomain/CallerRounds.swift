import Synchronization

/// Callers of one key whose items go out together, one round at a time: the first caller to arrive while no round
/// of its key is out leads one with whoever waits, and whoever arrives meanwhile goes in the next round, led by the
/// first of them. No caller waits for a timer.
///
/// The Vendor's lease carves while storage paces a scope: each round is one transaction that carves a block for
/// every caller in it, so the head's write is shared (`VendorService.carveForWaiters`). A round carries at most
/// `limit` items, and no two that `clash` (the same SessionId twice): the one left waits for a later round.
package actor CallerRounds<Item: Sendable, Outcome: Sendable> {
    private enum Signal {
        case done(Outcome)
        case lead
    }

    private struct Waiter {
        let item: Item
        let continuation: CheckedContinuation<Signal, Never>
    }

    private var waiting: [String: [Waiter]] = [:]
    private var leading: Set<String> = []

    package init() {}

    /// Sends `item` in a round of `key` and returns its outcome.
    ///
    /// - Parameter send: called by the round's leader with the round's items (its own first); it returns one
    ///   outcome per item, in order. A waiter's item is sent with its leader's `send` (every caller of one key
    ///   passes the same).
    package nonisolated func join(
        _ key: String, _ item: Item, limit: Int, clash: @escaping @Sendable (Item, Item) -> Bool,
        send: ([Item]) async -> [Outcome]
    ) async -> Outcome {
        if case .done(let outcome) = await arrive(key, item) { return outcome }
        let (round, waiters) = await take(key, own: item, limit: limit, clash: clash)
        let outcomes = await send(round)
        precondition(outcomes.count == round.count, "one outcome per item of the round")
        await finish(key, waiters: waiters, outcomes: Array(outcomes.dropFirst()))
        return outcomes[0]
    }

    /// How many callers of `key` wait for a round.
    package func waitingCount(_ key: String) -> Int { waiting[key]?.count ?? 0 }

    private func arrive(_ key: String, _ item: Item) async -> Signal {
        guard leading.contains(key) else {
            leading.insert(key)
            return .lead
        }
        return await withCheckedContinuation { waiting[key, default: []].append(Waiter(item: item, continuation: $0)) }
    }

    /// The leader's round: its own item, then waiters in arrival order that fit and clash with none taken.
    private func take(_ key: String, own: Item, limit: Int, clash: @Sendable (Item, Item) -> Bool) -> (
        [Item], [Waiter]
    ) {
        var round = [own]
        var taken: [Waiter] = []
        var left: [Waiter] = []
        for waiter in waiting[key] ?? [] {
            if round.count < limit, !round.contains(where: { clash($0, waiter.item) }) {
                round.append(waiter.item)
                taken.append(waiter)
            } else {
                left.append(waiter)
            }
        }
        waiting[key] = left
        return (round, taken)
    }

    /// Answers the round's waiters and hands the lead to the first caller still waiting, if any.
    private func finish(_ key: String, waiters: [Waiter], outcomes: [Outcome]) {
        for (waiter, outcome) in zip(waiters, outcomes) { waiter.continuation.resume(returning: .done(outcome)) }
        guard var queue = waiting[key], !queue.isEmpty else {
            waiting[key] = nil
            leading.remove(key)
            return
        }
        let next = queue.removeFirst()
        waiting[key] = queue
        next.continuation.resume(returning: .lead)
    }
}

/// How many callers of each key are in flight in this process (entered and not yet left).
///
/// The Vendor counts its allocations per scope and size: a round of callers pays off only when there are others to
/// share it with (`VendorService.carvesForWaiters`).
package final class CallerCount: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    package init() {}

    /// One more caller of `key`.
    package func enter(_ key: String) { counts.withLock { $0[key, default: 0] += 1 } }

    /// One caller of `key` fewer.
    package func leave(_ key: String) {
        counts.withLock {
            let left = ($0[key] ?? 1) - 1
            $0[key] = left > 0 ? left : nil
        }
    }

    /// Callers of `key` in flight.
    package func count(_ key: String) -> Int { counts.withLock { $0[key] ?? 0 } }
}
