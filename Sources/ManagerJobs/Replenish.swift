package import Foundation
package import IPAMCore
package import Inventory
package import Logging
import NetworkMath

/// Replenish: per the manifest, carve new `available` rows (smallest fit, under the scope's `head`
/// lock, with the same carver the Vendor uses) until each stock target is met. Idempotent: with the
/// targets met it writes nothing.
package struct Replenish: Sendable {
    package let configuration: IPAMConfiguration
    package let inventory: Inventory
    package let logger: Logger
    let now: @Sendable () -> Date

    package init(
        configuration: IPAMConfiguration, inventory: Inventory, logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.configuration = configuration
        self.inventory = inventory
        self.logger = logger
        self.now = now
    }

    /// What one run did, per scope (and pool) and size: keys `{scope}/{length}` and `{scope}/{pool}/{length}`.
    package struct Report: Sendable, Equatable {
        package var stocked: [String: Int] = [:]
        package var shortfall: [String: Int] = [:]
        package var transactions = 0
        /// The blocks stocked, per scope (as `available` rows of their pool): what the usage step adds to the rows
        /// the run holds, so its sample is of the inventory as the run leaves it.
        package var stockedRows: [Scope: [NetworkRow]] = [:]
    }

    package func run() async throws(InventoryError) -> Report {
        var report = Report()
        // The scopes' own space first (outside their pools), then each pool's.
        var areas: [(scope: Scope, pool: String?, version: IPVersion, targets: [Int: Int])] = configuration.stock
            .sorted(by: { $0.key < $1.key }).map { ($0.key, nil, .v4, $0.value) }
        areas += configuration.stockV6.sorted(by: { $0.key < $1.key }).map { ($0.key, nil, .v6, $0.value) }
        areas += configuration.pools.pools.values.sorted { $0.name < $1.name }.filter { !$0.stock.isEmpty }.map {
            ($0.scope, $0.name, $0.prefix.version, $0.stock)
        }
        for (scope, pool, version, targets) in areas {
            guard let space = configuration.space(scope, pool: pool) else { continue }
            for (length, target) in targets.sorted(by: { $0.key < $1.key }) where target > 0 {
                let key = "\(scope.partitionKey)\(pool.map { "/" + $0 } ?? "")/\(version == .v6 ? "v6/" : "")\(length)"
                var attempts = 0
                while attempts < 8 {
                    attempts += 1
                    let have = try await inventory.availableCandidates(
                        in: scope, length: length, version: version, pool: pool, limit: target
                    ).count
                    let missing = target - have
                    guard missing > 0 else { break }
                    var request = CarveRequest(
                        scope: scope, space: space, length: length, lease: nil, stock: missing, detail: "replenish")
                    request.pool = pool
                    request.version = version
                    let receipt = try await inventory.carve(request, now: now)
                    switch receipt.outcome {
                    case .won(_, let stocked):
                        report.transactions += receipt.transactions
                        report.stocked[key, default: 0] += stocked.count
                        report.stockedRows[scope, default: []] += stocked.map { .available($0.prefix, pool: pool) }
                        attempts = 0
                    case .exhausted:
                        report.shortfall[key] = missing
                        logger.warning(
                            "cannot meet the stock target: the space is full",
                            metadata: [
                                "scope": .string(scope.partitionKey), "pool": .string(pool ?? ""),
                                "prefixLength": .stringConvertible(length), "missing": .stringConvertible(missing),
                            ])
                        attempts = 8
                    case .lost, .outcomeUnknown, .sessionTaken:
                        continue // a Vendor carved meanwhile (or the answer was lost): look again
                    }
                }
            }
        }
        return report
    }
}
