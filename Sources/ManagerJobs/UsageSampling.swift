package import Foundation
package import IPAMCore
package import Inventory
package import Logging
import NetworkMath

/// The run's usage step: one sample per area (each pool, and each scope's own space, per IP version) measured
/// from the rows the run already holds, written into its buckets (`Inventory.recordUsage`: one transaction per
/// scope, no read), and each area's exhaustion forecast over the hourly samples (`UsageHistory`).
package struct UsageSampling: Sendable {
    package let configuration: IPAMConfiguration
    package let inventory: Inventory
    package let history: UsageHistory
    package let logger: Logger

    package init(configuration: IPAMConfiguration, inventory: Inventory, history: UsageHistory, logger: Logger) {
        self.configuration = configuration
        self.inventory = inventory
        self.history = history
        self.logger = logger
    }

    /// One area as this run measured and forecast it.
    package struct Measured: Sendable {
        package let area: UsageArea
        package let sample: UsageSample
        /// The forecast of its unused addresses (`free` + `available`), per window (`SpaceForecast.windows`).
        package let forecast: [String: SpaceForecast.Outcome]
        /// The same per size of `area.sizes`, over its free blocks.
        package let sizeForecasts: [Int: [String: SpaceForecast.Outcome]]

        /// Days left at the current rate: the 7-day window's answer, else the 30-day one's (nil when neither runs out).
        package var daysLeft: Double? {
            forecast[SpaceForecast.windows[0].name]?.daysLeft ?? forecast[SpaceForecast.windows[1].name]?.daysLeft
        }
    }

    package struct Report: Sendable {
        package var areas: [Measured] = []
        package var transactions = 0
    }

    /// Samples every area of the scopes in `rows` (each scope's network rows as the run left them).
    package func run(rows: [Scope: [NetworkRow]], now: Date) async -> Report {
        var report = Report()
        for (scope, scopeRows) in rows.sorted(by: { $0.key < $1.key }) {
            guard let supernets = configuration.scopes[scope] else { continue }
            let areas = configuration.usageAreas(of: scope)
            let samples = areas.map { area in
                UsageSample.measure(
                    rows: scopeRows, pool: area.pool, space: configuration.pools.space(for: area.pool, in: supernets),
                    version: area.version, sizes: area.sizes, at: now)
            }
            // What changed since this process last wrote it, or was written an hour ago or more.
            var due: [(UsageArea, UsageSample)] = []
            for (area, sample) in zip(areas, samples) {
                if await history.isDue(area, sample) { due.append((area, sample)) }
            }
            if !due.isEmpty {
                do {
                    report.transactions += try await inventory.recordUsage(
                        due.map { AreaSample(pool: $0.0.pool, version: $0.0.version, sample: $0.1) }, in: scope)
                    for (area, sample) in due { await history.wrote(area, sample) }
                } catch {
                    logger.warning(
                        "usage samples were not written",
                        metadata: ["scope": .string(scope.partitionKey), "error": .string(error.detail)])
                    continue
                }
            }
            for (area, sample) in zip(areas, samples) {
                let series: [UsageSample]
                do { series = try await history.hourly(area, now: now, inventory: inventory) } catch {
                    logger.warning(
                        "usage history unreadable: no forecast this run",
                        metadata: ["scope": .string(scope.partitionKey), "error": .string(error.detail)])
                    series = [sample]
                }
                report.areas.append(Self.measured(area, sample: sample, series: series, now: now))
            }
        }
        return report
    }

    /// The forecasts of one area over its hourly series.
    ///
    /// The sample just taken is the amount now, as taken: even when this run could not write it (then the stored
    /// series ends an hour or more earlier, and the forecast would start from that older amount), and in place of
    /// its stored copy, whose time came back rounded to storage's tick and may be a little after `now` (then the
    /// forecast, which reads no point after `now`, ended on the hour before: CI saw it once).
    package static func measured(
        _ area: UsageArea, sample: UsageSample, series stored: [UsageSample], now: Date
    ) -> Measured {
        let series = stored.filter { $0.at.timeIntervalSince(sample.at) <= -1 } + [sample]
        func outcomes(_ amount: (UsageSample) -> Double?) -> [String: SpaceForecast.Outcome] {
            let points = series.compactMap { s in amount(s).map { (at: s.at, amount: $0) } }
            var result: [String: SpaceForecast.Outcome] = [:]
            for window in SpaceForecast.windows {
                result[window.name] = SpaceForecast.forecast(points, now: now, window: window.seconds)
            }
            return result
        }
        var sizes: [Int: [String: SpaceForecast.Outcome]] = [:]
        for length in area.sizes { sizes[length] = outcomes { $0.freeBlocks[length].map(Double.init) } }
        return Measured(
            area: area, sample: sample, forecast: outcomes { Double($0.unused) }, sizeForecasts: sizes)
    }
}

/// What the Manager's process knows of each area's samples: the last one it wrote, and the hourly samples of the
/// last 30 days, read at most every `refresh` (6 hours) per area and otherwise kept up to date with what this
/// process writes (the newest of an hour replacing the hour's sample, as the hourly tier keeps it). The last one
/// written is always in the series, so the forecast carries it forward however long nothing changed.
package actor UsageHistory {
    struct Entry {
        var loadedAt: Date
        var samples: [UsageSample]
    }

    private var entries: [UsageArea: Entry] = [:]
    private var written: [UsageArea: UsageSample] = [:]
    let refresh: TimeInterval

    package init(refresh: TimeInterval = 6 * 3_600) { self.refresh = refresh }

    /// Whether `sample` should be written: this process has written none for the area yet, or its counts differ
    /// from the last one's and that is at least a bucket of the finest tier (5 minutes) old (runs closer together
    /// would only overwrite the same bucket), or the last is from a later time (a clock set back). An unchanged
    /// world writes nothing: readers take the amount between two samples to be the earlier one's.
    func isDue(_ area: UsageArea, _ sample: UsageSample) -> Bool {
        guard let last = written[area] else { return true }
        var same = last
        same.at = sample.at
        let age = sample.at.timeIntervalSince(last.at)
        return (same != sample && age >= UsageRetention.tiers[0].bucket) || age < 0
    }

    /// `sample` was written: it is the last one, and joins the hourly series.
    func wrote(_ area: UsageArea, _ sample: UsageSample) {
        written[area] = sample
        guard var entry = entries[area] else { return }
        let tier = UsageRetention.tiers[1]
        let bucket = UsageRetention.bucketStart(sample.at, tier)
        entry.samples.removeAll {
            UsageRetention.bucketStart($0.at, tier) == bucket || $0.at <= sample.at.addingTimeInterval(-tier.retention)
        }
        entry.samples.append(sample)
        entry.samples.sort { $0.at < $1.at }
        entries[area] = entry
    }

    /// The hourly samples of `area` within 30 days of `now`, oldest first.
    func hourly(_ area: UsageArea, now: Date, inventory: Inventory) async throws(InventoryError) -> [UsageSample] {
        if let entry = entries[area], now.timeIntervalSince(entry.loadedAt) < refresh, now >= entry.loadedAt {
            return entry.samples
        }
        var read = try await inventory.usageSamples(
            in: area.scope, pool: area.pool, version: area.version, tier: UsageRetention.tiers[1], now: now)
        if let last = written[area] {
            // The sample as this process holds it (storage keeps times to the tick, which may round it past now).
            let bucket = UsageRetention.bucketStart(last.at, UsageRetention.tiers[1])
            read.removeAll { UsageRetention.bucketStart($0.at, UsageRetention.tiers[1]) >= bucket }
            read.append(last)
        }
        entries[area] = Entry(loadedAt: now, samples: read)
        return read
    }
}
