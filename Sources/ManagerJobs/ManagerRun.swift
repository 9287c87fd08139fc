package import Foundation
package import IPAMCore
package import Inventory
package import Logging
import NetworkMath
package import ResourceGraph

/// One Manager run: Sync + Anchor + Reap from one listing of every cloud's networks (its providers, each scope
/// complete or not by itself), then Assign (the public-IP
/// schedule, when there is one), then the host addresses of ended leases are cleared, then Replenish, then the
/// usage samples (`UsageSampling`).
///
/// Each row change is all-or-nothing (the row under `If-Match`, its stock row, its session row when a
/// quarantine ends, and the audit event; many changes share a transaction), so a Manager killed mid-run
/// leaves every row either before or after its change, and the next run finishes the rest. A run with
/// nothing to do writes nothing.
package struct ManagerRun: Sendable {
    package let configuration: IPAMConfiguration
    package let settings: ManagerSettings
    package let inventory: Inventory
    /// The clouds' discoveries: each scope is listed by the first that lists it (`NetworkDiscovery.lists`).
    package let discovery: [any NetworkDiscovery]
    /// The public-IP schedule's Assign job, when `PUBLIC_IP_SCHEDULE` is set.
    package let assign: PublicIPAssign?
    package let logger: Logger
    /// Plans one scope's Sync, Anchor and Reap (`Reconciliation.plan`; tests count the plans through it).
    let planner: Reconciliation.Planner
    /// Each area's hourly usage samples, kept between runs of this process (`UsageSampling`).
    let usageHistory = UsageHistory()
    /// The run's clock: its events are stamped with the run's start plus the time elapsed on `time.uptime` when
    /// each transaction is built (`EventClock`), not with its start.
    let time: TimeSource

    /// A run over Azure alone, listed by Resource Graph.
    package init(
        configuration: IPAMConfiguration, settings: ManagerSettings, inventory: Inventory,
        resourceGraph: ResourceGraphClient,
        assign: PublicIPAssign? = nil, logger: Logger, time: TimeSource = .system
    ) {
        self.init(
            configuration: configuration, settings: settings, inventory: inventory,
            discovery: [ResourceGraphDiscovery(client: resourceGraph)], assign: assign, logger: logger, time: time)
    }

    /// - Parameters:
    ///   - time: the run's monotonic clock (`uptime`), which moves its events' times along from the run's start.
    ///   - planner: plans each scope once per run; its plan makes both the changes and the drift report.
    package init(
        configuration: IPAMConfiguration, settings: ManagerSettings, inventory: Inventory,
        discovery: [any NetworkDiscovery],
        assign: PublicIPAssign? = nil, logger: Logger, time: TimeSource = .system,
        planner: @escaping Reconciliation.Planner = { scope, space, rows, vnets, complete, now, settings in
            Reconciliation.plan(
                scope: scope, space: space, rows: rows, vnets: vnets, complete: complete.own,
                spaceComplete: complete.space, now: now, settings: settings)
        }
    ) {
        self.planner = planner
        self.time = time
        self.configuration = configuration
        self.settings = settings
        self.inventory = inventory
        self.discovery = discovery
        self.assign = assign
        self.logger = logger
    }

    package struct Report: Sendable {
        /// Every scope's listing was whole.
        package var complete = false
        /// The scopes whose listing was not whole this run (nothing of theirs released, reaped or counted missing).
        package var incompleteScopes: [Scope] = []
        package var problems: [String] = []
        package var actions: [String: Int] = [:]
        package var drift: [String] = []
        package var conflicts = 0
        /// Transactions the row changes took (many changes share one).
        package var transactions = 0
        package var replenish = Replenish.Report()
        package var hostIPs = HostIPCleanup.Report()
        /// What Assign did (nil without a public-IP schedule).
        package var assign: PublicIPAssign.Report?
        /// Each area's usage sample and forecast (`UsageSampling`).
        package var usage = UsageSampling.Report()
        /// The low-space alerts the usage step crossed (`SpaceAlerts`).
        package var spaceAlerts = SpaceAlerts.Report()
        /// What storing the networks' compliance wrote (nothing when no network's judgement changed).
        package var networkStatuses = NetworkStatusWrites()
        /// Each noncompliant network, with its scope and why.
        package var noncompliant: [String] = []
        package init() {}
    }

    /// One run: its decisions are taken at `now` (expiries, grace periods, `LastSeenAt`), and each event it writes
    /// is stamped with `now` plus the time the run has taken so far when its transaction is built (`EventClock`):
    /// a run longer than the webhook dispatcher's settle delay (a slow listing, a big Sync) never writes an event
    /// whose time the dispatcher's cursor has already passed (docs/Design.md, "Webhooks").
    package func run(now: Date = Date()) async throws(InventoryError) -> Report {
        let time = self.time
        let started = time.uptime()
        let clock: @Sendable () -> Date = {
            let (seconds, attoseconds) = (time.uptime() - started).components
            return now.addingTimeInterval(Double(seconds) + Double(attoseconds) / 1e18)
        }
        let result = await EventClock.$now.withValue(EventClock.Source(clock)) { await stepsResult(now: now) }
        return try result.get()
    }

    /// `steps` as a value: the typed `do throws` kept in a function of its own, out of the task-local's closure
    /// (release builds of Swift 6.3 miscompiled a typed `do throws` inside a closure before, see `EC2Discovery`).
    private func stepsResult(now: Date) async -> Result<Report, InventoryError> {
        do throws(InventoryError) {
            return .success(try await steps(now: now))
        } catch {
            return .failure(error)
        }
    }

    /// The run's steps, in order (the type's summary), each event stamped by the run's clock.
    private func steps(now: Date) async throws(InventoryError) -> Report {
        var report = Report()
        let listing = await discovery.discover(Array(configuration.scopes.keys))
        report.complete = listing.isComplete
        report.incompleteScopes = listing.incomplete.keys.sorted()
        report.problems = listing.problems
        if !listing.isComplete {
            logger.warning(
                "listing incomplete: nothing is released this run in the incomplete scopes",
                metadata: [
                    "scopes": .string(report.incompleteScopes.map(\.description).joined(separator: ",")),
                    "problems": .string(listing.problems.joined(separator: "; ")),
                ])
        }
        // Each scope's drift findings, taken from its plan at once: a run does not keep every scope's plan.
        var driftItems: [DriftReport.Item] = []
        var driftNetworks: [DriftReport.Network] = []
        var rowsAfter: [Scope: [NetworkRow]] = [:]
        for (scope, space) in configuration.scopes.sorted(by: { $0.key < $1.key }) {
            let vnets = Reconciliation.vnets(listing.networks, in: scope, space: space)
            // The head's version before the rows: what is carved after this read is left out of what is recorded.
            let version = try await inventory.head(of: scope)?.version ?? 0
            let rows = try await inventory.networks(in: scope)
            let complete = Reconciliation.Completeness(scope, isolated: space.isolated, in: listing)
            let plan = planner(scope, space, rows, vnets, complete, now, settings)
            let found = DriftReport(plans: [scope: plan], complete: listing.isComplete)
            driftItems += found.items
            driftNetworks += found.networks
            rowsAfter[scope] = plan.after
            report.drift += plan.drift
            var failure: InventoryError? = nil
            let applied = await inventory.apply(plan.changes, in: scope, now: now)
            merge(applied, into: &report, failure: &failure)
            let seen = await inventory.refreshLastSeen(plan.seen, in: scope, now: now)
            merge(seen, as: "seen", into: &report, failure: &failure)
            let occupied = await inventory.recordOccupied(plan.newOccupied, in: scope, now: now, knownVersion: version)
            merge(occupied, as: "occupy-new", into: &report, failure: &failure)
            if let failure { throw failure }
            await recordCompliance(plan.compliance, scope: scope, complete: complete.own, now: now, report: &report)
        }
        // Reservations past their expiry: their ranges are free again.
        for scope in configuration.scopes.keys.sorted() {
            for reservation in try await inventory.reservations(in: scope) {
                guard let expiry = reservation.expiresAt, expiry <= now else { continue }
                if case .done? = try await inventory.endReservation(
                    reservation, in: scope, action: .reservationExpired, now: now)
                {
                    report.actions[AuditAction.reservationExpired.rawValue, default: 0] += 1
                    logger.info(
                        "reservation expired: its range is free again",
                        metadata: [
                            "reservation": .string(reservation.id), "cidr": .string(reservation.prefix.description),
                        ])
                }
            }
        }
        if let assign {
            let assigned = await assign.run(now: now)
            report.assign = assigned
            if !assigned.converged.isEmpty {
                report.actions["public-ip-assigned", default: 0] += assigned.converged.count
            }
        }
        report.hostIPs = try await HostIPCleanup(inventory: inventory, logger: logger).run(now: now)
        if report.hostIPs.cleared > 0 {
            report.actions[AuditAction.hostIPsCleared.rawValue, default: 0] += report.hostIPs.cleared
        }
        report.conflicts += report.hostIPs.conflicts
        // The drift report of what this run saw, for the console and `manager drift` readers of the table: from
        // the plans the run applied, so it tells what the run did and what the next one will do.
        let drift = DriftReport(complete: listing.isComplete, items: driftItems, networks: driftNetworks)
        do {
            try await inventory.recordManagerStatus(
                runAt: now, complete: listing.isComplete, heartbeat: settings.lastSeenRefresh,
                drift: drift.items.map {
                    ManagerStatus.Finding(kind: $0.kind, scope: $0.scope, cidr: $0.cidr, detail: $0.detail)
                },
                problems: listing.problems, networks: drift.networkCounts)
        } catch {
            logger.warning("the run's status was not written", metadata: ["error": .string(error.detail)])
        }
        report.replenish = try await Replenish(configuration: configuration, inventory: inventory, logger: logger).run()
        report.usage = await UsageSampling(
            configuration: configuration, inventory: inventory, history: usageHistory, logger: logger
        ).run(rows: rowsAfter.merging(report.replenish.stockedRows, uniquingKeysWith: +), now: now)
        report.spaceAlerts = await SpaceAlerts(configuration: configuration, inventory: inventory, logger: logger)
            .run(report.usage, now: now)
        for (action, count) in [
            (AuditAction.spaceLow, report.spaceAlerts.low), (.spaceRecovered, report.spaceAlerts.recovered),
        ]
        where count > 0 {
            report.actions[action.rawValue, default: 0] += count
        }
        return report
    }

    /// Stores each listed network's compliance for `scope` (only what changed; see `Inventory.recordNetworkStatuses`).
    /// A failure is logged and left for the next run: the statuses are a report, nothing depends on them.
    private func recordCompliance(
        _ statuses: [NetworkStatus], scope: Scope, complete: Bool, now: Date, report: inout Report
    ) async {
        do {
            let writes = try await inventory.recordNetworkStatuses(statuses, in: scope, complete: complete, now: now)
            report.networkStatuses.written += writes.written
            report.networkStatuses.deleted += writes.deleted
            report.networkStatuses.transactions += writes.transactions
            report.networkStatuses.failed += writes.failed
            if let failure = writes.failure {
                report.networkStatuses.failure = report.networkStatuses.failure ?? failure
                logger.warning(
                    "network statuses not all written: the next run writes them",
                    metadata: ["scope": .string(scope.description), "error": .string(failure)])
            }
        } catch {
            report.networkStatuses.failed += 1
            logger.warning(
                "network statuses not read: the next run writes them",
                metadata: ["scope": .string(scope.description), "error": .string(error.detail)])
        }
        for status in statuses where status.status == .noncompliant {
            report.noncompliant.append("\(scope) \(status.resourceId): \(status.reason)")
        }
    }

    /// Applies row changes (many to a transaction; see `Inventory.apply`), adding what they did to `report`.
    package func apply(_ changes: [RowChange], scope: Scope, now: Date, report: inout Report)
        async throws(InventoryError)
    {
        var failure: InventoryError? = nil
        merge(await inventory.apply(changes, in: scope, now: now), into: &report, failure: &failure)
        if let failure { throw failure }
    }

    /// Adds a batch's counts to the report: changes by their audit action, plain writes under `label`.
    private func merge(
        _ batch: BatchResult, as label: String? = nil, into report: inout Report, failure: inout InventoryError?
    ) {
        for (action, count) in batch.applied { report.actions[action.rawValue, default: 0] += count }
        if let label, batch.written > 0 { report.actions[label, default: 0] += batch.written }
        report.conflicts += batch.conflicts
        if label == nil { report.transactions += batch.transactions }
        failure = failure ?? batch.failure
    }
}

extension ManagerRun.Report: ManagerCycleResult {
    package func record(in metrics: ManagerMetrics, duration: Duration, at date: Date) {
        metrics.recordRun(self, duration: duration, at: date)
    }

    package var logMetadata: Logger.Metadata {
        [
            "complete": .stringConvertible(complete),
            "actions": .string(actions.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: ",")),
            "drift": .stringConvertible(drift.count), "conflicts": .stringConvertible(conflicts),
            "noncompliant": .stringConvertible(noncompliant.count),
            "stocked": .stringConvertible(replenish.stocked.values.reduce(0, +)),
        ]
    }
}
