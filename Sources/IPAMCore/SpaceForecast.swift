package import Foundation

/// When an amount of space (free addresses, or free blocks of one size) runs out at the current rate: the slope
/// of a least-squares line through the samples of a window ending now, applied to the amount now
/// (docs/Design.md, "Exhaustion forecast"). Pure: the caller passes the samples and the time.
package enum SpaceForecast {
    /// One window's answer.
    package enum Outcome: Sendable, Equatable {
        /// Fewer than `minimumSamples` points in the window, or they span less than a seventh of it.
        case insufficientData(samples: Int)
        /// The fitted rate is flat or rising (the space does not shrink).
        case notRunningOut(ratePerDay: Double, samples: Int)
        /// At the fitted rate (negative, per day) the amount now reaches zero after `daysLeft` days, at `at`.
        case runsOut(at: Date, daysLeft: Double, ratePerDay: Double, samples: Int)

        /// `insufficient-data`, `not-running-out` or `runs-out`.
        package var status: String {
            switch self {
            case .insufficientData: "insufficient-data"
            case .notRunningOut: "not-running-out"
            case .runsOut: "runs-out"
            }
        }

        package var daysLeft: Double? {
            if case .runsOut(_, let days, _, _) = self { return days }
            return nil
        }
    }

    /// The fewest points a window needs.
    package static let minimumSamples = 4
    /// The share of the window the points must span (a day of a 7-day window).
    package static let minimumSpanShare = 1.0 / 7.0

    /// The forecast over `points` for the window `(now - window)...now`.
    ///
    /// Samples are written when the amount changes, so the amount between two samples is the earlier one's: the
    /// samples are read as a step function, and the newest one before the window carries its amount to the
    /// window's start. It is evaluated every `step` (an hour) from the window's start (or the first sample, when
    /// none is older) and at `now`. With tᵢ in days and yᵢ those amounts, the rate is
    /// b = Σ(tᵢ − t̄)(yᵢ − ȳ) / Σ(tᵢ − t̄)²; b ≥ 0 is `notRunningOut`; otherwise the amount now, y_now, runs out
    /// after y_now / −b days. Fewer than `minimumSamples` points, or points spanning less than a seventh of the
    /// window, are `insufficientData`. Samples after `now` are not read.
    package static func forecast(
        _ points: [(at: Date, amount: Double)], now: Date, window: TimeInterval, step: TimeInterval = 3_600
    ) -> Outcome {
        let start = now.addingTimeInterval(-window)
        let sorted = points.filter { $0.at <= now && $0.amount.isFinite }.sorted { $0.at < $1.at }
        let from = sorted.lastIndex { $0.at <= start } ?? 0
        let used = Array(sorted[from...])
        guard let first = used.first, step > 0 else { return .insufficientData(samples: 0) }
        let origin = max(first.at, start)
        var grid: [(t: Double, y: Double)] = []
        var index = 0
        func amount(at time: Date) -> Double {
            while index + 1 < used.count, used[index + 1].at <= time { index += 1 }
            return used[index].amount
        }
        var time = origin
        var last = origin
        while time <= now {
            grid.append((time.timeIntervalSince(origin) / 86_400, amount(at: time)))
            last = time
            time = origin.addingTimeInterval(step * Double(grid.count))
        }
        // The amount now: a point of its own, or the last point of the grid when that is now within a second (stored
        // times are rounded to the tick, so a grid that starts at a stored time may end a tick before now, and the
        // amount there was the hour before's).
        if now.timeIntervalSince(last) >= 1 {
            grid.append((now.timeIntervalSince(origin) / 86_400, amount(at: now)))
        } else {
            grid[grid.count - 1].y = amount(at: now)
        }
        guard grid.count >= minimumSamples, let span = grid.last?.t, span * 86_400 >= window * minimumSpanShare
        else { return .insufficientData(samples: grid.count) }
        let meanT = grid.reduce(0) { $0 + $1.t } / Double(grid.count)
        let meanY = grid.reduce(0) { $0 + $1.y } / Double(grid.count)
        var covariance = 0.0
        var variance = 0.0
        for point in grid {
            covariance += (point.t - meanT) * (point.y - meanY)
            variance += (point.t - meanT) * (point.t - meanT)
        }
        guard variance > 0 else { return .insufficientData(samples: grid.count) }
        let rate = covariance / variance
        let current = max(0, grid[grid.count - 1].y)
        // A rate that would take longer than the age of the universe is flat, whatever rounding says.
        guard rate < 0, current / -rate < 1e12 else { return .notRunningOut(ratePerDay: rate, samples: grid.count) }
        let daysLeft = current / -rate
        return .runsOut(
            at: now.addingTimeInterval(daysLeft * 86_400), daysLeft: daysLeft, ratePerDay: rate, samples: grid.count)
    }

    /// The two windows every forecast answers: the last 7 days and the last 30.
    package static let windows: [(name: String, seconds: TimeInterval)] = [
        ("last7Days", 7 * 86_400), ("last30Days", 30 * 86_400),
    ]
}
