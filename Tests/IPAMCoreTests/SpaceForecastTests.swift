import Foundation
import Testing

@testable import IPAMCore

/// The exhaustion forecast as a pure function of samples and an injected `now`: generated series, never the clock.
@Suite("Exhaustion forecast")
struct SpaceForecastTests {
    static let now = Date(timeIntervalSince1970: 1_900_000_000)
    static let week = 7.0 * 86_400

    /// Hourly samples over `days` ending at `now`: `start` falling by `rate` a day, with `noise` (seeded).
    static func series(
        days: Double, start: Double, ratePerDay: Double, noise: Double = 0, seed: UInt64 = 1
    ) -> [(at: Date, amount: Double)] {
        var generator = SeededGenerator(seed: seed)
        let hours = Int(days * 24)
        return (0...hours).map { hour in
            let t = Double(hour) / 24
            let jitter = noise == 0 ? 0 : Double.random(in: -noise...noise, using: &generator)
            return (now.addingTimeInterval(-(days - t) * 86_400), max(0, start - ratePerDay * t + jitter))
        }
    }

    @Test(
        "monotone consumption runs out at a finite time, at the newest amount over the rate; a faster rate runs out earlier"
    )
    func monotoneConsumption() {
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<200 {
            let start = Double.random(in: 1_000...1_000_000, using: &generator)
            let rate = Double.random(in: 1...(start / 30), using: &generator)
            let faster = rate * Double.random(in: 1.01...5, using: &generator)
            let slow = SpaceForecast.forecast(
                Self.series(days: 7, start: start, ratePerDay: rate), now: Self.now, window: Self.week)
            let fast = SpaceForecast.forecast(
                Self.series(days: 7, start: start, ratePerDay: faster), now: Self.now, window: Self.week)
            guard case .runsOut(let slowAt, let slowDays, let slowRate, _) = slow,
                case .runsOut(let fastAt, let fastDays, _, _) = fast
            else {
                Issue.record("falling space must run out: \(slow), \(fast)")
                continue
            }
            #expect(slowDays.isFinite && slowDays >= 0 && slowAt > Self.now.addingTimeInterval(-1))
            #expect(abs(slowRate + rate) < rate * 1e-6, "the fitted rate is the true one: \(slowRate) vs \(-rate)")
            let newest = max(0, start - rate * 7)
            #expect(abs(slowDays - newest / rate) < 1e-6 * max(1, newest / rate))
            #expect(fastAt < slowAt || fastDays == 0, "a faster rate runs out earlier: \(fastAt) vs \(slowAt)")
        }
    }

    @Test(
        "a series whose first stored time came back a tick early still ends on the amount now, not the hour before's"
    )
    func firstTimeRoundedDown() {
        // 256 addresses an hour for 30 hours; the newest sample is exactly now. The oldest came back from storage
        // rounded a microsecond early, so a grid from it ends a microsecond before now, where the amount was the hour before's.
        var points = (0...30).map { hour in
            (at: Self.now.addingTimeInterval(Double(hour - 30) * 3_600), amount: 65_280 - 256 * Double(hour))
        }
        points[0].at = points[0].at.addingTimeInterval(-0.000_001)
        guard case .runsOut(_, let days, let rate, _) = SpaceForecast.forecast(points, now: Self.now, window: Self.week)
        else {
            Issue.record("not running out")
            return
        }
        #expect(abs(days - (65_280 - 256 * 30) / -rate) < 1e-6, "\(days) days at \(rate) a day")
    }

    @Test("noisy consumption still runs out, and a higher rate still runs out earlier on the same noise")
    func noisyConsumption() {
        for seed in UInt64(1)...50 {
            let slow = SpaceForecast.forecast(
                Self.series(days: 30, start: 100_000, ratePerDay: 500, noise: 200, seed: seed), now: Self.now,
                window: 30 * 86_400)
            let fast = SpaceForecast.forecast(
                Self.series(days: 30, start: 100_000, ratePerDay: 900, noise: 200, seed: seed), now: Self.now,
                window: 30 * 86_400)
            #expect(slow.status == "runs-out" && fast.status == "runs-out")
            #expect((fast.daysLeft ?? .infinity) < (slow.daysLeft ?? 0))
        }
    }

    @Test("flat or growing space is not running out, however it is sampled")
    func flatOrGrowing() {
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<100 {
            let start = Double.random(in: 0...1_000_000, using: &generator)
            let growth = Double.random(in: 0...1_000, using: &generator)
            let outcome = SpaceForecast.forecast(
                Self.series(days: 10, start: start, ratePerDay: -growth), now: Self.now, window: Self.week)
            guard case .notRunningOut(let rate, let samples) = outcome else {
                Issue.record("\(outcome)")
                continue
            }
            #expect(rate >= -1e-9 && samples == 7 * 24 + 1)
        }
        #expect(
            SpaceForecast.forecast(Self.series(days: 7, start: 0, ratePerDay: 0), now: Self.now, window: Self.week)
                .status
                == "not-running-out", "nothing left and nothing moving: not running out (it ran out already)")
    }

    @Test("too few samples, or samples spanning less than a seventh of the window, are insufficient data")
    func insufficientData() {
        let few = Array(Self.series(days: 7, start: 1000, ratePerDay: 100).suffix(3))
        #expect(SpaceForecast.forecast(few, now: Self.now, window: Self.week) == .insufficientData(samples: 3))
        #expect(SpaceForecast.forecast([], now: Self.now, window: Self.week) == .insufficientData(samples: 0))
        // 20 samples, all within the last 20 hours of a 7-day window.
        let recent = Array(Self.series(days: 7, start: 1000, ratePerDay: 100).suffix(20))
        #expect(SpaceForecast.forecast(recent, now: Self.now, window: Self.week) == .insufficientData(samples: 20))
        // Samples at one instant have no rate.
        let instant = (0..<10).map { _ in (at: Self.now, amount: 5.0) }
        #expect(SpaceForecast.forecast(instant, now: Self.now, window: Self.week).status == "insufficient-data")
        // Samples after now are not read.
        let future = Self.series(days: 7, start: 1000, ratePerDay: 100).map {
            (at: $0.at.addingTimeInterval(8 * 86_400), amount: $0.amount)
        }
        #expect(SpaceForecast.forecast(future, now: Self.now, window: Self.week).status == "insufficient-data")
    }

    @Test(
        "samples are a step function (written when the amount changes): the same samples with no newer one a week later say the amount stayed, not running out"
    )
    func injectedNow() {
        let samples = Self.series(days: 7, start: 10_000, ratePerDay: 100)
        #expect(SpaceForecast.forecast(samples, now: Self.now, window: Self.week).status == "runs-out")
        let later = SpaceForecast.forecast(samples, now: Self.now.addingTimeInterval(8 * 86_400), window: Self.week)
        #expect(later == .notRunningOut(ratePerDay: 0, samples: 7 * 24 + 1))
        // Two samples a day apart, and nothing written since: three days of the lower amount.
        let stepped = [
            (at: Self.now.addingTimeInterval(-4 * 86_400), amount: 900.0),
            (at: Self.now.addingTimeInterval(-3 * 86_400), amount: 500.0),
        ]
        guard
            case .runsOut(_, _, let rate, let points) = SpaceForecast.forecast(
                stepped, now: Self.now, window: Self.week)
        else {
            Issue.record("a drop then a flat stretch still falls over the window")
            return
        }
        #expect(rate < 0 && points == 4 * 24 + 1)
        #expect(
            SpaceForecast.forecast(stepped, now: Self.now.addingTimeInterval(40 * 86_400), window: Self.week)
                .status == "not-running-out")
    }
}

/// A small deterministic generator (SplitMix64), so generated cases repeat run after run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
