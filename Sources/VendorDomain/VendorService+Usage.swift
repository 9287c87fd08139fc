package import Foundation
package import IPAMCore
package import Inventory

/// One area's usage over time and its exhaustion forecast (`GET /api/usage`).
package struct UsageSeries: Sendable {
    package let area: UsageArea
    package let since: Date
    package let until: Date
    /// Seconds between points: the newest sample of each step (aligned to the Unix epoch) is its point.
    package let step: TimeInterval
    package let samples: [UsageSample]
    /// The forecast of its unused addresses, per window name (`SpaceForecast.windows`).
    package let forecast: [String: SpaceForecast.Outcome]
    /// The same per size of `area.sizes`, over its free blocks.
    package let sizeForecasts: [Int: [String: SpaceForecast.Outcome]]
}

extension VendorService {
    /// The most points one answer carries: a range and step that would give more are refused at the edge.
    package static let usagePointLimit = 1_000

    /// The samples of `area` between `since` and `until`, one per `step`, read from the finest tier that still
    /// holds `since` (one key-range read of at most 731 rows), and the forecast over the hourly tier (a second
    /// such read, unless the first was of that tier; a third, of the daily tier, when no hourly sample is a week
    /// old, for the sample that carries its counts into the window).
    package func usage(area: UsageArea, since: Date, until: Date, step: TimeInterval) async throws(DomainError)
        -> UsageSeries
    {
        let now = time.now()
        let tier = UsageRetention.tier(covering: since, now: now)
        let kept = try await storage { () async throws(InventoryError) in
            try await inventory.usageSamples(
                in: area.scope, pool: area.pool, version: area.version, tier: tier, now: now)
        }
        let stored = kept.filter { $0.at >= since && $0.at <= until }
        let hourlyTier = UsageRetention.tiers[1]
        var hourly =
            tier == hourlyTier
            ? kept
            : try await storage { () async throws(InventoryError) in
                try await inventory.usageSamples(
                    in: area.scope, pool: area.pool, version: area.version, tier: hourlyTier, now: now)
            }
        // Samples are written when the counts change: with none as old as the 7-day window, the newest older one
        // (the daily tier keeps one a day) carries its counts to the window's start.
        let weekAgo = now.addingTimeInterval(-SpaceForecast.windows[0].seconds)
        if hourly.first.map({ $0.at > weekAgo }) ?? true {
            let daily = try await storage { () async throws(InventoryError) in
                try await inventory.usageSamples(
                    in: area.scope, pool: area.pool, version: area.version, tier: UsageRetention.tiers[2], now: now)
            }
            if let anchor = daily.last(where: { $0.at < (hourly.first?.at ?? now.addingTimeInterval(1)) }) {
                hourly.insert(anchor, at: 0)
            }
        }
        // The newest sample of each step.
        var points: [Int64: UsageSample] = [:]
        for sample in stored {
            let bucket = Int64((sample.at.timeIntervalSince1970 / step).rounded(.down))
            if points[bucket].map({ $0.at < sample.at }) ?? true { points[bucket] = sample }
        }
        func outcomes(_ amount: (UsageSample) -> Double?) -> [String: SpaceForecast.Outcome] {
            let series = hourly.compactMap { s in amount(s).map { (at: s.at, amount: $0) } }
            var result: [String: SpaceForecast.Outcome] = [:]
            for window in SpaceForecast.windows {
                result[window.name] = SpaceForecast.forecast(series, now: now, window: window.seconds)
            }
            return result
        }
        var sizes: [Int: [String: SpaceForecast.Outcome]] = [:]
        for length in area.sizes { sizes[length] = outcomes { $0.freeBlocks[length].map(Double.init) } }
        return UsageSeries(
            area: area, since: since, until: until, step: step,
            samples: points.keys.sorted().compactMap { points[$0] }, forecast: outcomes { Double($0.unused) },
            sizeForecasts: sizes)
    }
}
