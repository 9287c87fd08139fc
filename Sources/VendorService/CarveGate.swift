/// Lets one request per (scope, size) carve at a time in this process; the others wait for it and
/// then claim the stock it added. Across processes the scope's `head` ETag still decides.
public actor CarveGate {
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

    /// How many requests wait for the current carve of `key`.
    public func waiting(_ key: String) -> Int { inFlight[key]?.count ?? 0 }

    public func leave(_ key: String) {
        for waiter in inFlight.removeValue(forKey: key) ?? [] { waiter.resume() }
    }
}
