import AzureCore
import AzureTables
import Foundation
import IPAMCore
import Inventory
import Logging
import NetworkMath
import ResourceGraph

/// One Manager run: Sync + Anchor + Reap from one Resource Graph listing, then Replenish.
///
/// Each row change is all-or-nothing (the row under `If-Match`, its stock row, its session row when a
/// quarantine ends, and the audit event; many changes share a transaction), so a Manager killed mid-run
/// leaves every row either before or after its change, and the next run finishes the rest. A run with
/// nothing to do writes nothing.
public struct ManagerRun: Sendable {
    public let configuration: IPAMConfiguration
    public let settings: ManagerSettings
    public let inventory: Inventory
    public let resourceGraph: ResourceGraphClient
    public let logger: Logger

    public init(configuration: IPAMConfiguration, settings: ManagerSettings, inventory: Inventory, resourceGraph: ResourceGraphClient, logger: Logger) {
        self.configuration = configuration
        self.settings = settings
        self.inventory = inventory
        self.resourceGraph = resourceGraph
        self.logger = logger
    }

    public struct Report: Sendable {
        public var complete = false
        public var problems: [String] = []
        public var actions: [String: Int] = [:]
        public var drift: [String] = []
        public var conflicts = 0
        /// Transactions the row changes took (many changes share one).
        public var transactions = 0
        public var replenish = Replenish.Report()
        public init() {}
    }

    public func run(now: Date = Date()) async throws -> Report {
        var report = Report()
        let subscriptions = Set(configuration.scopes.keys.map(\.subscriptionId))
        let listing = await resourceGraph.virtualNetworks(subscriptions: Array(subscriptions))
        report.complete = listing.isComplete
        report.problems = listing.problems
        if !listing.isComplete {
            logger.warning("Resource Graph listing incomplete: nothing is released this run", metadata: ["problems": .string(listing.problems.joined(separator: "; "))])
        }
        for (scope, space) in configuration.scopes.sorted(by: { $0.key < $1.key }) {
            let vnets = listing.networks.filter { vnet in
                (vnet.subscriptionId.lowercased() == scope.subscriptionId && vnet.location.lowercased() == scope.region)
                    || (!space.isolated && Reconciliation.prefixes(of: vnet).contains { p in space.supernets.contains { $0.overlaps(p) } })
            }
            let rows = try await inventory.networks(in: scope)
            let plan = Reconciliation.plan(scope: scope, space: space, rows: rows, vnets: vnets, complete: listing.isComplete, now: now, settings: settings)
            report.drift += plan.drift
            try await apply(plan.changes, scope: scope, now: now, report: &report)
            try await recordSeen(plan.seen, scope: scope, now: now, report: &report)
            if !plan.newOccupied.isEmpty {
                try await recordOccupied(plan.newOccupied, scope: scope, now: now, report: &report)
            }
        }
        report.replenish = try await Replenish(configuration: configuration, inventory: inventory, logger: logger).run()
        return report
    }

    /// Applies row changes, many to a transaction (up to 100 operations, through a `TransactionCombiner`):
    /// each change's operations stay all-or-nothing, and a change whose row a Vendor changed meanwhile
    /// (412/404/409) is left for the next run without holding back the others.
    public func apply(_ changes: [RowChange], scope: Scope, now: Date, report: inout Report) async throws {
        guard !changes.isEmpty else { return }
        let combiner = TransactionCombiner(table: inventory.table)
        let outcomes = await withTaskGroup(of: (String, Result<Void, any Error>).self) { group in
            for change in changes {
                let actions = actions(for: change, scope: scope, now: now)
                group.addTask {
                    do {
                        _ = try await combiner.submit(actions)
                        return (change.action, .success(()))
                    } catch {
                        return (change.action, .failure(error))
                    }
                }
            }
            return await group.reduce(into: [(String, Result<Void, any Error>)]()) { $0.append($1) }
        }
        var failure: (any Error)? = nil
        for (action, outcome) in outcomes {
            switch outcome {
            case .success:
                report.actions[action, default: 0] += 1
            case .failure(let error as AzureError) where error.isPreconditionFailed || error.isNotFound || error.isConflict:
                report.conflicts += 1 // a Vendor changed the row meanwhile: the next run looks again
            case .failure(let error):
                failure = failure ?? error
            }
        }
        report.transactions += await combiner.rounds
        if let failure { throw failure }
    }

    /// The transaction that applies one change.
    public func actions(for change: RowChange, scope: Scope, now: Date) -> [TableTransactionAction] {
        if change.deleteRow {
            let event = AuditEvent(action: change.action, actor: inventory.actor, cidr: change.before.prefix.description, leaseId: "", sessionId: "",
                                   before: change.before.state.rawValue, after: "", detail: change.detail)
            return [.delete(partitionKey: scope.partitionKey, rowKey: change.before.rowKey, ifMatch: .etag(change.before.etag ?? "*")),
                    .insert(event.entity(partitionKey: scope.partitionKey, at: now))]
        }
        var actions = inventory.transitionActions(from: change.before, to: change.after, action: change.action, scope: scope, now: now, detail: change.detail)
        let stockKey = RowKeys.stock(change.before.prefix)
        if change.before.state == .available && change.after.state != .available {
            actions.append(.delete(partitionKey: scope.partitionKey, rowKey: stockKey, ifMatch: .any))
        } else if change.before.state != .available && change.after.state == .available {
            actions.append(.insert(Inventory.stockEntity(change.after.prefix, scope: scope)))
        }
        if let session = change.deleteSession {
            actions.append(.delete(partitionKey: scope.partitionKey, rowKey: RowKeys.session(session), ifMatch: .any))
        }
        return actions
    }

    /// Refreshes `LastSeenAt` (only that property, `If-Match` each row's ETag) up to 100 rows per
    /// transaction. A row changed meanwhile fails its batch; the next run tries again.
    func recordSeen(_ rows: [NetworkRow], scope: Scope, now: Date, report: inout Report) async throws {
        for chunk in stride(from: 0, to: rows.count, by: 100) {
            let part = rows[chunk..<min(chunk + 100, rows.count)]
            let actions: [TableTransactionAction] = part.map { row in
                .merge(TableEntity(partitionKey: scope.partitionKey, rowKey: row.rowKey, properties: ["LastSeenAt": .dateTime(now)]),
                       ifMatch: .etag(row.etag ?? "*"))
            }
            do {
                try await inventory.table.submitTransaction(actions)
                report.actions["seen", default: 0] += part.count
            } catch let error as AzureError where error.isPreconditionFailed || error.isNotFound {
                report.conflicts += 1
            }
        }
    }

    /// New `occupied` rows for space unmanaged VNets use, under the head lock (carving must see them).
    func recordOccupied(_ blocks: [(prefix: IPPrefix, resourceId: String)], scope: Scope, now: Date, report: inout Report) async throws {
        for chunk in stride(from: 0, to: blocks.count, by: 48) {
            let part = blocks[chunk..<min(chunk + 48, blocks.count)]
            let head = try await inventory.head(of: scope)
            var actions: [TableTransactionAction] = [Inventory.takeHead(head, adding: part.map(\.prefix), scope: scope, now: now)]
            for block in part {
                var row = NetworkRow(prefix: block.prefix, state: .occupied)
                row.lockedBy = block.resourceId
                row.origin = "observed"
                actions.append(.insert(row.entity(partitionKey: scope.partitionKey)))
            }
            actions.append(.insert(AuditEvent(action: "occupy", actor: inventory.actor, cidr: part.map(\.prefix.description).joined(separator: " "),
                                              leaseId: "", sessionId: "", before: "", after: "occupied", detail: "unmanaged VNets")
                .entity(partitionKey: scope.partitionKey, at: now)))
            do {
                try await inventory.table.submitTransaction(actions)
                report.actions["occupy-new", default: 0] += part.count
            } catch let error as AzureError where error.isPreconditionFailed || error.isConflict {
                report.conflicts += 1 // a carve got in first; the next run records what is still uncovered
            }
        }
    }
}
