import AzureCore
import AzureTables
import Foundation
import IPAMCore
import Inventory
import Logging
import NetworkMath

/// Replenish: per the manifest, carve new `available` rows (smallest fit, under the scope's `head`
/// lock) until each stock target is met. Idempotent: with the targets met it writes nothing.
public struct Replenish: Sendable {
    public let configuration: IPAMConfiguration
    public let inventory: Inventory
    public let logger: Logger

    public init(configuration: IPAMConfiguration, inventory: Inventory, logger: Logger) {
        self.configuration = configuration
        self.inventory = inventory
        self.logger = logger
    }

    /// What one run did, per scope and size.
    public struct Report: Sendable, Equatable {
        public var stocked: [String: Int] = [:]
        public var shortfall: [String: Int] = [:]
        public var transactions = 0
    }

    public func run() async throws -> Report {
        var report = Report()
        for (scope, targets) in configuration.stock.sorted(by: { $0.key < $1.key }) {
            guard let space = configuration.scopes[scope] else { continue }
            for (length, target) in targets.sorted(by: { $0.key < $1.key }) where target > 0 {
                let key = "\(scope.partitionKey)/\(length)"
                var attempts = 0
                while attempts < 8 {
                    attempts += 1
                    let head = try await inventory.head(of: scope)
                    let have = try await inventory.availableCandidates(in: scope, length: length, version: .v4, limit: target).count
                    let missing = target - have
                    guard missing > 0 else { break }
                    let occupied = try await inventory.occupiedPrefixes(in: scope) + space.exclude
                    let blocks = FreeSpace.carve(count: min(missing, 49), length: length, in: space.supernets.filter { $0.version == .v4 }, occupied: occupied)
                    guard !blocks.isEmpty else {
                        report.shortfall[key] = missing
                        logger.warning("cannot meet the stock target: the scope is full", metadata: ["scope": .string(scope.partitionKey), "prefixLength": .stringConvertible(length), "missing": .stringConvertible(missing)])
                        break
                    }
                    let rows = blocks.map { NetworkRow(prefix: $0, state: .available) }
                    let actions = [Inventory.takeHead(head, adding: blocks, scope: scope, now: Date())]
                        + inventory.stockActions(rows, scope: scope, now: Date(), detail: "replenish")
                    do {
                        try await inventory.table.submitTransaction(actions)
                        report.transactions += 1
                        report.stocked[key, default: 0] += rows.count
                        attempts = 0
                    } catch let error as AzureError where error.isPreconditionFailed || error.isConflict {
                        continue // a Vendor carved meanwhile: look again
                    }
                }
            }
        }
        return report
    }
}
