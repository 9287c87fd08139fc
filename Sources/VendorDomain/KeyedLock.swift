/// One holder per key at a time in this process, the others queued in arrival order.
///
/// The Vendor takes one per network lease around host-IP changes: across processes the lease's head ETag
/// still decides, but callers of one process no longer race each other for it (64 callers of one lease
/// would otherwise lose to each other 63 times per round).
package actor KeyedLock {
    private var queues: [String: [CheckedContinuation<Void, Never>]] = [:]

    package init() {}

    private func acquire(_ key: String) async {
        if queues[key] == nil {
            queues[key] = []
            return
        }
        await withCheckedContinuation { queues[key]!.append($0) }
    }

    private func release(_ key: String) {
        guard var queue = queues[key], !queue.isEmpty else {
            queues[key] = nil
            return
        }
        let next = queue.removeFirst()
        queues[key] = queue
        next.resume()
    }

    /// Runs `body` holding `key` (released also when it throws).
    package nonisolated func withLock<T: Sendable, Failure: Error>(
        _ key: String, _ body: () async throws(Failure) -> T
    ) async throws(Failure) -> T {
        await acquire(key)
        do {
            let result = try await body()
            await release(key)
            return result
        } catch {
            await release(key)
            throw error
        }
    }
}
