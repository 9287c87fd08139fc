/// One leader per key at a time in this process; the others wait for it and then use what it did.
///
/// The Vendor uses one for carving (one carve per scope and size; across processes the scope's `head`
/// ETag still decides) and one for reading stock (callers that find the stock cache empty at the same
/// moment share one read instead of each sending the same query).
package actor SingleFlight {
    private var inFlight: [String: [CheckedContinuation<Bool, Never>]] = [:]

    package init() {}

    /// How a caller's turn went: it led (and has the body's result), or it waited for a leader, which
    /// said whether it did the shared work (`leaderWorked`) or ended without it.
    package enum Turn<T> {
        case led(T)
        case waited(leaderWorked: Bool)
    }

    /// True when the caller is the leader and must call `leave`; false after waiting for a leader.
    package func enter(_ key: String) async -> (leader: Bool, leaderWorked: Bool) {
        if inFlight[key] == nil {
            inFlight[key] = []
            return (true, true)
        }
        let worked = await withCheckedContinuation { inFlight[key]!.append($0) }
        return (false, worked)
    }

    /// Runs `body` when this caller leads for `key` (leaving, also when it throws); otherwise waits for the
    /// leader. `worked` tells the waiters whether the leader did the shared work with its result.
    package nonisolated func turn<T, Failure: Error>(
        _ key: String, worked: (T) -> Bool = { _ in true },
        _ body: () async throws(Failure) -> T
    ) async throws(Failure) -> Turn<T> {
        let entered = await enter(key)
        guard entered.leader else { return .waited(leaderWorked: entered.leaderWorked) }
        do {
            let result = try await body()
            await leave(key, worked: worked(result))
            return .led(result)
        } catch {
            await leave(key, worked: false)
            throw error
        }
    }

    /// Runs `body` when this caller leads for `key` and returns its result; nil after waiting for another
    /// caller's lead instead.
    package nonisolated func ifLeading<T, Failure: Error>(_ key: String, _ body: () async throws(Failure) -> T)
        async throws(Failure) -> T?
    {
        guard case .led(let result) = try await turn(key, body) else { return nil }
        return result
    }

    /// How many requests wait for the current leader of `key`.
    package func waiting(_ key: String) -> Int { inFlight[key]?.count ?? 0 }

    package func leave(_ key: String, worked: Bool = true) {
        for waiter in inFlight.removeValue(forKey: key) ?? [] { waiter.resume(returning: worked) }
    }
}
