internal import AzureTables
package import Foundation
package import IPAMCore
package import NetworkMath

/// One measurement of an area's address space (a pool's, or a scope's own space outside its pools) for one IP
/// version, taken by the Manager from the rows its run holds (docs/Design.md, "Usage over time").
package struct UsageSample: Sendable, Equatable {
    /// When the run measured it.
    package var at: Date
    /// Addresses by what holds them: `leased`, `anchored`, `occupied`, `reserved`, `quarantined` (with `expired`
    /// and `released`), `available` (stocked, not handed out), `free` (in no row, not excluded).
    package var leased: UInt128 = 0
    package var anchored: UInt128 = 0
    package var occupied: UInt128 = 0
    package var reserved: UInt128 = 0
    package var quarantined: UInt128 = 0
    package var available: UInt128 = 0
    package var free: UInt128 = 0
    /// Live leases (`leased` and `anchored` rows; a dual-stack lease counts in each version's sample).
    package var leases: Int = 0
    /// Per configured size (prefix length): blocks of that size a request could still get, stocked ones plus
    /// the aligned blocks of that size the free space holds (saturating).
    package var freeBlocks: [Int: UInt64] = [:]

    package init(at: Date) { self.at = at }

    /// Addresses nothing holds: `free` plus `available` (saturating). What the forecast follows.
    package var unused: UInt128 { free.addingReportingOverflow(available).overflow ? .max : free + available }

    /// Measures one area from rows the caller already holds (no storage read): `rows` are every network row of
    /// the scope, `pool` names the area (nil: the scope's own space), `space` is that area's space
    /// (`PoolPlan.space`), `sizes` the prefix lengths whose free blocks are counted.
    package static func measure(
        rows: [NetworkRow], pool: String?, space: ScopeSupernets, version: IPVersion, sizes: [Int], at: Date
    ) -> UsageSample {
        var sample = UsageSample(at: at)
        func add(_ amount: UInt128, to value: inout UInt128) {
            let (sum, overflow) = value.addingReportingOverflow(amount)
            value = overflow ? .max : sum
        }
        var stocked: [Int: UInt64] = [:]
        for row in rows where row.pool == pool && row.prefix.version == version {
            let size = row.prefix.size
            switch row.state {
            case .leased:
                add(size, to: &sample.leased)
                sample.leases += 1
            case .anchored:
                add(size, to: &sample.anchored)
                sample.leases += 1
            case .occupied: add(size, to: &sample.occupied)
            case .reserved: add(size, to: &sample.reserved)
            case .quarantined, .expired, .released: add(size, to: &sample.quarantined)
            case .available:
                add(size, to: &sample.available)
                stocked[row.prefix.length, default: 0] += 1
            }
        }
        let occupied = (rows.map(\.prefix) + space.exclude).filter { $0.version == version }.sorted()
        var freeBlocks: [IPPrefix] = []
        for supernet in space.supernets where supernet.version == version {
            freeBlocks += FreeSpace.freeBlocks(in: supernet, sortedOccupied: occupied)
        }
        sample.free = FreeSpace.addressCount(freeBlocks)
        for length in Set(sizes).sorted() where length <= version.bitWidth {
            var count = stocked[length] ?? 0
            for block in freeBlocks where block.length <= length {
                let shift = length - block.length
                let blocks: UInt64 = shift >= 63 ? .max : UInt64(1) << UInt64(shift)
                let (sum, overflow) = count.addingReportingOverflow(blocks)
                count = overflow ? .max : sum
            }
            sample.freeBlocks[length] = count
        }
        return sample
    }
}

/// How long usage samples are kept, and so how many rows they take: three tiers of fixed buckets, each a ring of
/// rows (`sample_{area}_{version}_{tier}_{slot}`) that a new bucket overwrites in place. The newest sample of a
/// bucket is its value. So the rows of one area and version never exceed `rowBound` however long the Manager runs,
/// and no compaction read is ever needed: the ring is the compaction.
package enum UsageRetention {
    /// One tier: buckets of `bucket` seconds, `slots` of them (its retention is their product).
    package struct Tier: Sendable, Equatable {
        package let index: Int
        package let bucket: TimeInterval
        package let slots: Int
        package var retention: TimeInterval { bucket * Double(slots) }
    }

    /// Every 5 minutes for a day, hourly for 30 days, daily for two years (731 days).
    package static let tiers: [Tier] = [
        Tier(index: 0, bucket: 300, slots: 288), Tier(index: 1, bucket: 3_600, slots: 720),
        Tier(index: 2, bucket: 86_400, slots: 731),
    ]

    /// The most sample rows one area (a pool, or a scope's own space) keeps per IP version: 1,739.
    package static var rowBound: Int { tiers.reduce(0) { $0 + $1.slots } }

    /// The start of the bucket of `tier` that holds `date`.
    package static func bucketStart(_ date: Date, _ tier: Tier) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / tier.bucket).rounded(.down) * tier.bucket)
    }

    /// The ring slot of `tier` that holds `date`'s bucket.
    package static func slot(_ date: Date, _ tier: Tier) -> Int {
        let bucket = Int64((date.timeIntervalSince1970 / tier.bucket).rounded(.down))
        return Int(((bucket % Int64(tier.slots)) + Int64(tier.slots)) % Int64(tier.slots))
    }

    /// The finest tier whose retention reaches back to `since` from `now` (the daily one when none does).
    package static func tier(covering since: Date, now: Date) -> Tier {
        tiers.first { now.timeIntervalSince(since) <= $0.retention - $0.bucket } ?? tiers[tiers.count - 1]
    }
}

extension RowKeys {
    package static let samplePrefix = "sample_"

    /// The common start of one area's sample rows of one version and tier.
    static func sampleRange(pool: String?, version: IPVersion, tier: Int) -> String {
        samplePrefix + (pool ?? "-") + "_\(version.rawValue)_\(tier)_"
    }

    /// `sample_{pool, or - for the scope's own space}_{version}_{tier}_{slot, 3 digits}`.
    package static func sample(pool: String?, version: IPVersion, tier: UsageRetention.Tier, at date: Date) -> String {
        let slot = String(UsageRetention.slot(date, tier))
        return sampleRange(pool: pool, version: version, tier: tier.index)
            + String(repeating: "0", count: max(0, 3 - slot.count)) + slot
    }
}

/// One area's sample as stored: the area (nil pool: the scope's own space) and version it measures.
package struct AreaSample: Sendable, Equatable {
    package var pool: String?
    package var version: IPVersion
    package var sample: UsageSample

    package init(pool: String?, version: IPVersion, sample: UsageSample) {
        self.pool = pool
        self.version = version
        self.sample = sample
    }
}

extension Inventory {
    /// Writes each sample into its bucket of every tier (`insertOrReplace`: the newest sample of a bucket wins),
    /// all of one scope in as few transactions as fit (33 samples, 99 rows, to a transaction). Reads nothing.
    /// Returns the transactions it took.
    @discardableResult
    package func recordUsage(_ samples: [AreaSample], in scope: Scope) async throws(InventoryError) -> Int {
        var actions: [TableTransactionAction] = []
        for area in samples {
            for tier in UsageRetention.tiers {
                actions.append(.insertOrReplace(Self.sampleEntity(area, tier: tier, partitionKey: scope.partitionKey)))
            }
        }
        var transactions = 0
        var start = 0
        while start < actions.count {
            let batch = Array(actions[start..<min(start + 99, actions.count)])
            _ = try await storage { try await table.submitTransaction(batch) }
            transactions += 1
            start += batch.count
        }
        return transactions
    }

    /// The samples of one area and version kept in `tier`, oldest first, within `since...until` (both optional),
    /// leaving out slots whose bucket fell out of the tier's retention before `now`. One key-range read of at most
    /// `tier.slots` rows.
    package func usageSamples(
        in scope: Scope, pool: String?, version: IPVersion, tier: UsageRetention.Tier, since: Date? = nil,
        until: Date? = nil, now: Date
    ) async throws(InventoryError) -> [UsageSample] {
        let range = RowKeys.sampleRange(pool: pool, version: version, tier: tier.index)
        let filter =
            "PartitionKey eq '\(TableQuery.quoted(scope.partitionKey))' and RowKey ge '\(TableQuery.quoted(range))' and RowKey lt '\(TableQuery.quoted(range))~'"
        let entities = try await storage { try await table.queryAll(filter: filter) }
        let oldest = now.addingTimeInterval(-tier.retention)
        return entities.compactMap(Self.sample(from:)).filter {
            $0.at > oldest && $0.at >= (since ?? .distantPast) && $0.at <= (until ?? .distantFuture)
        }.sorted { $0.at < $1.at }
    }

    static func sampleEntity(_ area: AreaSample, tier: UsageRetention.Tier, partitionKey: String) -> TableEntity {
        let sample = area.sample
        var properties: [String: TableValue] = [
            "At": .dateTime(sample.at), "Pool": .string(area.pool ?? ""),
            "IPVersion": .int32(Int32(area.version.rawValue)),
            "Leased": .string(String(sample.leased)), "Anchored": .string(String(sample.anchored)),
            "Occupied": .string(String(sample.occupied)), "Reserved": .string(String(sample.reserved)),
            "Quarantined": .string(String(sample.quarantined)), "Available": .string(String(sample.available)),
            "Free": .string(String(sample.free)), "Leases": .int32(Int32(clamping: sample.leases)),
            "FreeBlocks": .string(
                sample.freeBlocks.keys.sorted().map { "\($0):\(sample.freeBlocks[$0]!)" }.joined(separator: " ")),
        ]
        properties["Bucket"] = .dateTime(UsageRetention.bucketStart(sample.at, tier))
        return TableEntity(
            partitionKey: partitionKey,
            rowKey: RowKeys.sample(pool: area.pool, version: area.version, tier: tier, at: sample.at),
            properties: properties)
    }

    static func sample(from entity: TableEntity) -> UsageSample? {
        guard let at = entity["At"]?.dateValue else { return nil }
        var sample = UsageSample(at: at)
        func amount(_ name: String) -> UInt128 { entity[name]?.stringValue.flatMap { UInt128($0) } ?? 0 }
        sample.leased = amount("Leased")
        sample.anchored = amount("Anchored")
        sample.occupied = amount("Occupied")
        sample.reserved = amount("Reserved")
        sample.quarantined = amount("Quarantined")
        sample.available = amount("Available")
        sample.free = amount("Free")
        sample.leases = Int(entity["Leases"]?.int64Value ?? 0)
        for pair in (entity["FreeBlocks"]?.stringValue ?? "").split(separator: " ") {
            let parts = pair.split(separator: ":")
            guard parts.count == 2, let length = Int(parts[0]), let count = UInt64(parts[1]) else { continue }
            sample.freeBlocks[length] = count
        }
        return sample
    }
}
