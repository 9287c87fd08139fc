import AzureTables
import Foundation
import IPAMCore
import NetworkMath
import TestSupport
import Testing

@testable import Inventory

/// Usage samples: measured from rows in hand, kept in rings of fixed buckets whose row count is bounded however
/// long the Manager runs (docs/Design.md, "Usage over time").
@Suite("Usage samples")
struct UsageSampleTests {
    static let scope = Scope(subscriptionId: SampleConfiguration.subscription, region: "eastus")

    static func prefix(_ text: String) -> IPPrefix { try! IPPrefix(parsing: text) }
    static func lease(_ id: String) -> NetworkRow.Lease { NetworkRow.Lease(id: id, sessionId: "s-\(id)") }

    @Test("a sample counts addresses by state, live leases, and free blocks per size (stocked plus carvable)")
    func measure() {
        let space = ScopeSupernets(
            scope: Self.scope, supernets: [Self.prefix("10.64.0.0/20")], exclude: [Self.prefix("10.64.0.0/24")])
        let rows = [
            NetworkRow(prefix: Self.prefix("10.64.1.0/24"), holding: .leased(Self.lease("a"), vnet: nil)),
            NetworkRow(
                prefix: Self.prefix("10.64.2.0/24"),
                holding: .anchored(Self.lease("b"), vnet: NetworkRow.Anchor(resourceId: "/vnet/b"))),
            NetworkRow(prefix: Self.prefix("10.64.3.0/25"), holding: .occupied(NetworkRow.Occupation(vnet: "/vnet/x"))),
            NetworkRow(
                prefix: Self.prefix("10.64.3.128/26"), holding: .reserved(NetworkRow.ReservedHold(lockedBy: "r"))),
            NetworkRow(
                prefix: Self.prefix("10.64.4.0/24"), holding: .quarantined(Self.lease("c"), vnet: nil, since: nil)),
            NetworkRow(prefix: Self.prefix("10.64.5.0/24"), holding: .expired(Self.lease("d"), vnet: nil, since: nil)),
            NetworkRow.available(Self.prefix("10.64.6.0/24")),
            NetworkRow.available(Self.prefix("10.64.7.0/24")),
            // Another area's row (a pool's): not counted in the scope's own sample, but not free either.
            NetworkRow(prefix: Self.prefix("10.64.8.0/24"), holding: .leased(Self.lease("e"), vnet: nil), pool: "p"),
        ]
        let at = Date(timeIntervalSince1970: 1_900_000_000)
        let sample = UsageSample.measure(rows: rows, pool: nil, space: space, version: .v4, sizes: [24, 22], at: at)
        #expect(sample.leased == 256 && sample.anchored == 256 && sample.occupied == 128 && sample.reserved == 64)
        #expect(sample.quarantined == 512, "quarantined and expired")
        #expect(sample.available == 512 && sample.leases == 2)
        // /20 = 4096: the exclusion 256, seven /24 rows (the pool's too), a /25 and a /26 → free 1856.
        #expect(sample.free == 1856)
        #expect(sample.unused == 2368)
        // Free: 10.64.3.192/26, 10.64.9.0/24, 10.64.10.0/23, 10.64.12.0/22 → /24s: 2 stocked + 1 + 2 + 4.
        #expect(sample.freeBlocks == [24: 9, 22: 1])
        let pool = UsageSample.measure(
            rows: rows, pool: "p", space: ScopeSupernets(scope: Self.scope, supernets: [Self.prefix("10.64.8.0/22")]),
            version: .v4, sizes: [], at: at)
        #expect(pool.leased == 256 && pool.leases == 1 && pool.free == 768 && pool.freeBlocks.isEmpty)
        let v6 = UsageSample.measure(
            rows: rows, pool: nil, space: ScopeSupernets(scope: Self.scope, supernets: [Self.prefix("fd00::/8")]),
            version: .v6, sizes: [64, 8], at: at)
        #expect(v6.free == UInt128(1) << 120 && v6.freeBlocks[64] == UInt64(1) << 56 && v6.freeBlocks[8] == 1)
    }

    @Test("three years of runs every 5 minutes touch at most the stated row count: every key a run writes is in a ring")
    func ringBound() {
        #expect(UsageRetention.rowBound == 1_739)
        var keys = Set<String>()
        let start = Date(timeIntervalSince1970: 1_900_000_123)
        var at = start
        let end = start.addingTimeInterval(3 * 366 * 86_400)
        var step = 0
        while at < end {
            for tier in UsageRetention.tiers {
                keys.insert(RowKeys.sample(pool: "p", version: .v4, tier: tier, at: at))
            }
            step += 1
            at = at.addingTimeInterval(step % 7 == 0 ? 301 : 300) // an uneven schedule, too
        }
        #expect(keys.count <= UsageRetention.rowBound)
        #expect(keys.count == UsageRetention.rowBound, "every slot was used")
    }

    @Test(
        "three simulated years of samples written through the Inventory with an injected clock leave at most the stated rows, and reads keep only what each tier retains"
    )
    func storedBound() async throws {
        let table = try await TestStorage.freshTable("usage")
        let inventory = Inventory(table: table, actor: "test")
        let start = Date(timeIntervalSince1970: 1_900_000_000)
        var at = start
        var written = 0
        // Dense for two days (every 5 minutes), then every 13 hours for three years.
        while at < start.addingTimeInterval(3 * 365 * 86_400) {
            var sample = UsageSample(at: at)
            sample.free = UInt128(written)
            try await inventory.recordUsage(
                [
                    AreaSample(pool: nil, version: .v4, sample: sample),
                    AreaSample(pool: "p", version: .v4, sample: sample),
                ],
                in: Self.scope)
            written += 1
            at = at.addingTimeInterval(at < start.addingTimeInterval(2 * 86_400) ? 300 : 13 * 3_600)
        }
        let rows = try await table.queryAll(filter: "PartitionKey eq '\(Self.scope.partitionKey)'")
        #expect(rows.count <= 2 * UsageRetention.rowBound, "\(rows.count) rows after \(written) runs")
        let now = at.addingTimeInterval(-13 * 3_600)
        for tier in UsageRetention.tiers {
            let kept = try await inventory.usageSamples(in: Self.scope, pool: "p", version: .v4, tier: tier, now: now)
            #expect(kept.count <= tier.slots)
            #expect(kept.allSatisfy { $0.at > now.addingTimeInterval(-tier.retention) && $0.at <= now })
            #expect(kept.map(\.at) == kept.map(\.at).sorted())
            #expect(!kept.isEmpty, "tier \(tier.index) keeps the recent samples")
        }
        let daily = try await inventory.usageSamples(
            in: Self.scope, pool: nil, version: .v4, tier: UsageRetention.tiers[2], now: now)
        #expect(daily.last?.free == UInt128(written - 1), "the newest sample of a bucket is its value")
    }

    @Test("the tier a range reads: the finest whose retention still holds since")
    func tierChoice() {
        let now = Date(timeIntervalSince1970: 1_900_000_000)
        #expect(UsageRetention.tier(covering: now.addingTimeInterval(-3_600), now: now).index == 0)
        #expect(UsageRetention.tier(covering: now.addingTimeInterval(-2 * 86_400), now: now).index == 1)
        #expect(UsageRetention.tier(covering: now.addingTimeInterval(-40 * 86_400), now: now).index == 2)
        #expect(UsageRetention.tier(covering: .distantPast, now: now).index == 2)
    }
}
