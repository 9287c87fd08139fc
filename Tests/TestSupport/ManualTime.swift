package import Foundation
package import IPAMCore
import Synchronization

/// A `TimeSource` tests move by hand: `now` and `uptime` change only by `advance`, and a sleep moves
/// them by its duration at once (so waiting code never waits on the wall clock).
package final class ManualTime: Sendable {
    private let state: Mutex<(date: Date, uptime: Duration, slept: [Duration])>

    package init(start: Date = Date()) { state = Mutex((start, .zero, [])) }

    package var now: Date { state.withLock { $0.date } }
    /// Every sleep asked for, in order.
    package var sleeps: [Duration] { state.withLock { $0.slept } }

    package func advance(by duration: Duration) {
        state.withLock {
            $0.date = $0.date.addingTimeInterval(
                Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
            $0.uptime += duration
        }
    }

    /// Moves `now` to `date` (forwards or back; `uptime` is left alone).
    package func set(_ date: Date) { state.withLock { $0.date = date } }

    package var source: TimeSource {
        TimeSource(
            now: { self.now }, uptime: { self.state.withLock { $0.uptime } },
            sleep: { duration in
                self.state.withLock { $0.slept.append(duration) }
                self.advance(by: duration)
                await Task.yield()
            })
    }
}
