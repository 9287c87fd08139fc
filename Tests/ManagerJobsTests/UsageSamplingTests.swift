import AzureTables
import Foundation
import IPAMCore
import Inventory
import ManagerJobs
import NetworkMath
import TestSupport
import Testing

/// The run's usage step end to end: samples from the rows the run holds, written only when they changed, a
/// forecast that follows consumption, and the space gauges.
@Suite("Usage sampling")
struct UsageSamplingTests {
    static func sampleRows(_ world: TerraformGapTests.World) async throws -> [TableEntity] {
        try await world.table.queryAll(
            filter:
                "PartitionKey eq '\(world.scope.partitionKey)' and RowKey ge '\(RowKeys.samplePrefix)' and RowKey lt 'sample`'"
        )
    }

    @Test(
        "each run samples each scope's space (3 tier rows); an unchanged run writes nothing; consumption runs out in the forecast and the gauges"
    )
    func samplesAndForecast() async throws {
        try await TerraformGapTests.withWorld { world in
            let start = Date()
            let first = try await world.manager.run(now: start)
            #expect(first.usage.transactions == 2, "one per scope")
            let area = try #require(first.usage.areas.first { $0.area.pool == nil && $0.area.version == .v4 })
            // 10.64.0.0/16 without the excluded /24: 65,280 addresses nothing holds.
            #expect(area.sample.unused == 65_280 && area.sample.leases == 0)
            #expect(area.sample.freeBlocks[24] ?? 0 >= 254, "\(area.sample.freeBlocks)")
            #expect(area.forecast["last7Days"] == .insufficientData(samples: 1))
            #expect(try await Self.sampleRows(world).count == 3)
            // The sample is of the rows as the run leaves them, Replenish's stock included: the next run finds the same.

            let before = world.writes.value
            let again = try await world.manager.run(now: start.addingTimeInterval(60))
            #expect(again.usage.transactions == 0)
            #expect(world.writes.value == before, "an unchanged world writes nothing")
            let hourLater = try await world.manager.run(now: start.addingTimeInterval(3_600))
            #expect(hourLater.usage.transactions == 0, "an unchanged world an hour later writes nothing either")
            #expect(hourLater.usage.areas.count == 2, "but is forecast, from the samples carried forward")

            // One deployed lease an hour for 30 hours: the unused space falls by 256 an hour.
            var last = hourLater
            for hour in 2...31 {
                _ = try await world.deployedLeases("u\(hour)", count: 1)
                last = try await world.manager.run(now: start.addingTimeInterval(Double(hour) * 3_600))
            }
            let measured = try #require(last.usage.areas.first { $0.area.pool == nil && $0.area.version == .v4 })
            #expect(measured.sample.leases == 30)
            guard case .runsOut(_, let days, let rate, let samples)? = measured.forecast["last7Days"] else {
                Issue.record("\(String(describing: measured.forecast["last7Days"]))")
                return
            }
            #expect(samples == 32)
            #expect(rate < -5_000 && rate > -7_000, "about 256 × 24 a day: \(rate)")
            #expect(abs(days - Double(measured.sample.unused) / -rate) < 1e-6)
            #expect(measured.daysLeft == days)

            let metrics = ManagerMetrics()
            last.record(in: metrics, duration: .seconds(1), at: start)
            let text = String(decoding: metrics.exposition(), as: UTF8.self)
            let labels = #"{scope="\#(world.scope.partitionKey)",pool="",ip_version="v4"}"#
            #expect(text.contains("ipam_space_free_addresses\(labels) \(Double(measured.sample.unused))"), "\(text)")
            #expect(text.contains("ipam_space_days_left\(labels) "), "\(text)")
            try await world.invariants()
        }
    }
}

@Suite("Usage forecast from the run's own sample")
struct UsageMeasuredTests {
    static func sample(_ hours: Double, unused: UInt128, from start: Date) -> UsageSample {
        var sample = UsageSample(at: start.addingTimeInterval(hours * 3_600))
        sample.free = unused
        return sample
    }

    @Test("the sample just taken is the amount now whether or not its write reached the stored series")
    func unwrittenSample() {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let area = UsageArea(
            scope: Scope(subscriptionId: SampleConfiguration.subscription, region: "eastus"), pool: nil, version: .v4,
            sizes: [])
        // 256 addresses an hour for 30 hours; the last one measured now.
        let series = (0...30).map { Self.sample(Double($0), unused: UInt128(65_280 - 256 * $0), from: start) }
        let now = series[30].at
        let written = UsageSampling.measured(area, sample: series[30], series: series, now: now)
        let unwritten = UsageSampling.measured(area, sample: series[30], series: Array(series.dropLast()), now: now)
        guard case .runsOut(_, let days, let rate, _)? = written.forecast["last7Days"],
            case .runsOut(_, let daysUnwritten, _, _)? = unwritten.forecast["last7Days"]
        else {
            Issue.record("\(written.forecast) / \(unwritten.forecast)")
            return
        }
        #expect(abs(days - Double(series[30].unused) / -rate) < 1e-6)
        #expect(abs(days - daysUnwritten) < 1e-6, "the unwritten sample still counts as the amount now")
    }

    @Test("the sample just taken is the amount now even when its stored copy's time came back rounded after now")
    func storedCopyRoundedUp() throws {
        let start = Date(timeIntervalSince1970: 1_800_000_000.123_456_7)
        let area = UsageArea(
            scope: Scope(subscriptionId: SampleConfiguration.subscription, region: "eastus"), pool: nil, version: .v4,
            sizes: [])
        let series = (0...30).map { Self.sample(Double($0), unused: UInt128(65_280 - 256 * $0), from: start) }
        let now = series[30].at
        var stored = series
        stored[30].at = now.addingTimeInterval(0.000_05) // storage's tick rounded the written time up
        let measured = UsageSampling.measured(area, sample: series[30], series: stored, now: now)
        guard case .runsOut(_, let days, let rate, _)? = measured.forecast["last7Days"] else {
            Issue.record("\(measured.forecast)")
            return
        }
        // Without the sample as taken, the forecast ends on the hour before: 256 addresses (an hour) more.
        #expect(abs(days - Double(series[30].unused) / -rate) < 1e-6, "\(days) days at \(rate) a day")
    }
}
