package import Foundation

/// Time as a component sees it: the wall clock (expiry dates), a monotonic reading (ages of cached
/// entries) and sleeping. Production code uses `system`; tests pass one they move by hand, so no test
/// waits for, or asserts, elapsed wall-clock time.
package struct TimeSource: Sendable {
    /// The current wall-clock date.
    package var now: @Sendable () -> Date
    /// A monotonic reading: only differences between two readings mean anything.
    package var uptime: @Sendable () -> Duration
    /// Suspends for a duration (throws when the task is cancelled).
    package var sleep: @Sendable (Duration) async throws -> Void

    package init(
        now: @escaping @Sendable () -> Date, uptime: @escaping @Sendable () -> Duration,
        sleep: @escaping @Sendable (Duration) async throws -> Void
    ) {
        self.now = now
        self.uptime = uptime
        self.sleep = sleep
    }

    /// The system's clocks.
    package static let system: TimeSource = {
        let origin = ContinuousClock.now
        return TimeSource(
            now: { Date() }, uptime: { ContinuousClock.now - origin }, sleep: { try await Task.sleep(for: $0) })
    }()
}
