package import Foundation
package import IPAMCore
package import Inventory
package import Logging
import NetworkMath

/// Low-space alerts, edge-triggered: after the usage step, each area with thresholds (`alerts`) is judged low or
/// not; only a change from the state recorded in the table (`SpaceAlertState`) writes, one transaction of the new
/// state `If-Match` the one read and its `space-low` or `space-recovered` event. Two Managers, or a Manager
/// restarted, that see the same crossing race on that ETag: one event, whoever wins.
package struct SpaceAlerts: Sendable {
    package let configuration: IPAMConfiguration
    package let inventory: Inventory
    package let logger: Logger

    package init(configuration: IPAMConfiguration, inventory: Inventory, logger: Logger) {
        self.configuration = configuration
        self.inventory = inventory
        self.logger = logger
    }

    package struct Report: Sendable, Equatable {
        /// Events written: `space-low` and `space-recovered`.
        package var low = 0
        package var recovered = 0
        /// Crossings another writer recorded first.
        package var conflicts = 0
        package init() {}
    }

    /// Whether `measured` is low by `thresholds`, and why (each threshold crossed, in words).
    package static func judge(_ measured: UsageSampling.Measured, _ thresholds: SpaceThresholds) -> (
        low: Bool, reasons: [String]
    ) {
        var reasons: [String] = []
        let sample = measured.sample
        let held = [sample.leased, sample.anchored, sample.occupied, sample.reserved, sample.quarantined]
        let total = held.reduce(Double(sample.unused)) { $0 + Double($1) }
        if let minimum = thresholds.minFreePercent, total > 0 {
            let percent = Double(sample.unused) / total * 100
            if percent < minimum {
                reasons.append("\((percent * 10).rounded(.down) / 10)% free (below \(minimum)%)")
            }
        }
        if let minimum = thresholds.minDaysLeft, let days = measured.daysLeft, days < minimum {
            reasons.append("runs out in \((days * 10).rounded(.down) / 10) days (below \(minimum))")
        }
        for (length, minimum) in thresholds.minFreeBlocks.sorted(by: { $0.key < $1.key }) {
            let count = sample.freeBlocks[length] ?? 0
            if count < UInt64(minimum) { reasons.append("\(count) free /\(length) blocks (below \(minimum))") }
        }
        return (!reasons.isEmpty, reasons)
    }

    /// Judges every measured area with thresholds and records each crossing.
    package func run(_ usage: UsageSampling.Report, now: Date) async -> Report {
        var report = Report()
        let byScope = Dictionary(grouping: usage.areas) { $0.area.scope }
        for (scope, areas) in byScope.sorted(by: { $0.key < $1.key }) {
            let judged = areas.compactMap { measured -> (UsageSampling.Measured, SpaceThresholds)? in
                let thresholds = configuration.spaceThresholds(scope, pool: measured.area.pool)
                return thresholds.isEmpty ? nil : (measured, thresholds)
            }
            guard !judged.isEmpty else { continue }
            do {
                let recorded = try await inventory.spaceAlerts(in: scope)
                for (measured, thresholds) in judged {
                    let (low, reasons) = Self.judge(measured, thresholds)
                    let area = measured.area
                    let previous = recorded[RowKeys.spaceAlert(pool: area.pool, version: area.version)]
                    // No row yet: the area has never been low.
                    guard low != (previous?.value.low ?? false) else { continue }
                    let name = area.pool.map { "pool \($0)" } ?? "\(scope)'s own space"
                    let state = SpaceAlertState(
                        pool: area.pool, version: area.version, low: low, since: now,
                        reasons: low
                            ? "\(name) (IPv\(area.version.rawValue)) is low: " + reasons.joined(separator: "; ")
                            : "\(name) (IPv\(area.version.rawValue)) is no longer below any threshold")
                    let cidr = area.pool.flatMap { configuration.pools.pools[$0]?.prefix.description } ?? ""
                    if try await inventory.recordSpaceAlert(state, over: previous, cidr: cidr, in: scope, now: now) {
                        if low { report.low += 1 } else { report.recovered += 1 }
                        logger.notice(
                            low ? "space low" : "space recovered",
                            metadata: ["scope": .string(scope.partitionKey), "detail": .string(state.reasons)])
                    } else {
                        report.conflicts += 1
                    }
                }
            } catch {
                logger.warning(
                    "low-space alerts not recorded",
                    metadata: ["scope": .string(scope.partitionKey), "error": .string(error.detail)])
            }
        }
        return report
    }
}
