/// One leader per key at a time in this process; the others wait for it and then use what it did.
///
/// The Vendor uses one for carving (one carve per scope and size; across processes the scope's `head`
/// ETag still decides) and one for reading stock (callers that find the stock cache empty at the same
/// moment share one read instead of each sending the same query).
public actor SingleFlight {
    private var inFlight: [String: [CheckedContinuation<Void, Never>]] = [:]

    public init() {}

    /// True when the caller is the leader and must call `leave`; false after waiting for a leader.
    public func enter(_ key: String) async -> Bool {
        if inFlight[key] == nil {
            inFlight[key] = []
            return true
        }
        await withCheckedContinuation { inFlight[key]!.append($0) }
        return false
    }

    /// Runs `body` when this caller leads for `key` and returns its result (leaving, also when it throws);
    /// nil after waiting for another caller's lead instead.
    public nonisolated func ifLeading<T>(_ key: String, _ body: () async throws(VendorError) -> T) async throws(VendorError) -> T? {
        guard await enter(key) else { return nil }
        do {
            let result = try await body()
            await leave(key)
            return result
        } catch {
            await leave(key)
            throw error
        }
    }

    /// How many requests wait for the current leader of `key`.
    public func waiting(_ key: String) -> Int { inFlight[key]?.count ?? 0 }

    public func leave(_ key: String) {
        for waiter in inFlight.removeValue(forKey: key) ?? [] { waiter.resume() }
    }
}
