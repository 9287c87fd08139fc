/// How the AWS clients retry throttling and server errors: exponential backoff with full jitter
/// (a delay drawn uniformly from zero to `min(maximumDelay, baseDelay × 2^retry)`), as the AWS SDKs do.
///
/// The sleeper and the random source are injected: tests run without waiting and without chance.
package struct AWSRetryPolicy: Sendable {
    /// Attempts in all, the first included.
    package var maximumAttempts: Int
    package var baseDelay: Duration
    package var maximumDelay: Duration
    /// Waits the given time (Task.sleep in production).
    package var sleep: @Sendable (Duration) async throws -> Void
    /// A number in `0...1` (uniform in production).
    package var random: @Sendable () -> Double

    package init(
        maximumAttempts: Int = 5, baseDelay: Duration = .milliseconds(100), maximumDelay: Duration = .seconds(20),
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        random: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }
    ) {
        self.maximumAttempts = max(1, maximumAttempts)
        self.baseDelay = baseDelay
        self.maximumDelay = maximumDelay
        self.sleep = sleep
        self.random = random
    }

    /// The wait before retry number `retry` (0 for the first retry).
    package func delay(beforeRetry retry: Int) -> Duration {
        let ceiling = baseDelay * (1 << min(retry, 30))
        let capped = ceiling > maximumDelay ? maximumDelay : ceiling
        let (seconds, attoseconds) = capped.components
        let nanoseconds = Double(seconds) * 1e9 + Double(attoseconds / 1_000_000_000)
        return .nanoseconds(Int64((nanoseconds * min(1, max(0, random()))).rounded()))
    }
}
