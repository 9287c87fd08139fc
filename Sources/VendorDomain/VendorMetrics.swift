import CoreMetrics
package import Inventory
package import Metrics
package import Prometheus
import Synchronization

/// The Vendor's metrics (swift-metrics, exported in Prometheus text format on `GET /metrics`).
///
/// Created from an injected registry (never the global `MetricsSystem`), so every Vendor in a test
/// process has its own; HTTP request metrics are recorded by the Vendor's edge middleware into it too.
package struct VendorMetrics: Sendable {
    package let registry: PrometheusCollectorRegistry
    package let created: Metrics.Counter
    package let replayed: Metrics.Counter
    let claimConflicts: Metrics.Counter
    let ambiguousCommits: Metrics.Counter
    let claimTransactions: Metrics.Counter
    let claimsInTransactions: Metrics.Counter
    let carves: Metrics.Counter
    /// Leases carved in rounds of callers while storage paced their scope (`VendorService.carveForWaiters`); each
    /// round is also one of `carves`.
    let leasesCarvedInRounds: Metrics.Counter
    let stockReads: Metrics.Counter
    let exhausted: Metrics.Counter
    let storageEntities: Metrics.Counter
    package let allocationDuration: Metrics.Timer
    private let factory: PrometheusMetricsFactory
    private let handles = Handles()

    package init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        let buckets: [Duration] = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
            .seconds(10),
        ]
        factory.durationHistogramBuckets["ipam_vendor_allocation_duration_seconds"] = buckets
        factory.durationHistogramBuckets["ipam_http_request_duration_seconds"] = buckets
        self.factory = factory
        created = Metrics.Counter(
            label: "ipam_vendor_allocations_total", dimensions: [("result", "created")], factory: factory)
        replayed = Metrics.Counter(
            label: "ipam_vendor_allocations_total", dimensions: [("result", "replayed")], factory: factory)
        claimConflicts = Metrics.Counter(label: "ipam_vendor_claim_conflicts_total", factory: factory)
        ambiguousCommits = Metrics.Counter(label: "ipam_vendor_ambiguous_commits_total", factory: factory)
        claimTransactions = Metrics.Counter(label: "ipam_vendor_claim_transactions_total", factory: factory)
        claimsInTransactions = Metrics.Counter(label: "ipam_vendor_claims_committed_total", factory: factory)
        carves = Metrics.Counter(label: "ipam_vendor_carves_total", factory: factory)
        leasesCarvedInRounds = Metrics.Counter(label: "ipam_vendor_leases_carved_in_rounds_total", factory: factory)
        stockReads = Metrics.Counter(label: "ipam_vendor_stock_reads_total", factory: factory)
        exhausted = Metrics.Counter(label: "ipam_vendor_pool_exhausted_total", factory: factory)
        storageEntities = Metrics.Counter(label: "ipam_storage_entities_total", factory: factory)
        allocationDuration = Metrics.Timer(label: "ipam_vendor_allocation_duration_seconds", factory: factory)
    }

    /// One `getNewNetwork` answered (by the API or the console): how long it took, and whether it created the lease
    /// or replayed it.
    package func recordAllocation(created wasCreated: Bool, duration: Duration) {
        allocationDuration.record(duration: duration)
        (wasCreated ? created : replayed).increment()
    }

    /// Storage attempts by method and status (0 = no answer), with whether the pipeline retried:
    /// throttling and faults show up here before they reach callers.
    package func recordStorageAttempt(_ record: StorageAttempt) {
        handles.counter(
            "ipam_storage_attempts_total",
            [("method", record.method), ("status", String(record.status)), ("retried", String(record.willRetry))],
            factory: factory
        ).increment()
    }

    /// Entities an answered storage request read or wrote, as the service counts them against its scalability
    /// targets (a query page: the entities it answered): `ipam_storage_entities_total`, whose increase per
    /// allocation is what an allocation costs a partition's budget.
    package func recordStorageEntities(_ entities: Int) {
        storageEntities.increment(by: entities)
    }

    /// One HTTP request as the edge answered it.
    package func recordRequest(route: String, method: String, status: Int, duration: Duration) {
        handles.counter(
            "ipam_http_requests_total", [("route", route), ("method", method), ("status", String(status))],
            factory: factory
        ).increment()
        handles.timer("ipam_http_request_duration_seconds", [("route", route)], factory: factory)
            .record(duration: duration)
    }

    /// The server closed a connection for one of its limits (`reason`: idle, header, body, unread, evicted,
    /// refused; see `ServerLimits.ConnectionClosing`).
    package func recordConnectionClosed(reason: String) {
        Metrics.Counter(label: "ipam_http_connections_closed_total", dimensions: [("reason", reason)], factory: factory)
            .increment()
    }

    /// One round of group commit carried `members` claims.
    package func recordClaimTransaction(members: Int) {
        claimTransactions.increment()
        claimsInTransactions.increment(by: members)
    }

    /// The Prometheus text exposition of everything in the registry.
    package func exposition() -> [UInt8] { registry.emitToBuffer() }
}

/// Counters and timers by label and dimensions, each made once: making one per event went through the
/// factory's lookup (a lock, the dimensions hashed, a handle allocated) on every request and storage attempt.
/// The label sets are bounded (registered routes, methods, statuses); past `limit` of them a metric is made
/// per event, as before, so a flood of odd statuses cannot grow the cache.
private final class Handles: Sendable {
    private struct Key: Hashable {
        let label: String
        let values: [String]
    }

    private let counters = Mutex<[Key: Metrics.Counter]>([:])
    private let timers = Mutex<[Key: Metrics.Timer]>([:])
    private let limit = 4_096

    func counter(_ label: String, _ dimensions: [(String, String)], factory: PrometheusMetricsFactory)
        -> Metrics.Counter
    {
        handle(in: counters, label, dimensions) {
            Metrics.Counter(label: label, dimensions: dimensions, factory: factory)
        }
    }

    func timer(_ label: String, _ dimensions: [(String, String)], factory: PrometheusMetricsFactory)
        -> Metrics.Timer
    {
        handle(in: timers, label, dimensions) { Metrics.Timer(label: label, dimensions: dimensions, factory: factory) }
    }

    private func handle<Handle: Sendable>(
        in cache: borrowing Mutex<[Key: Handle]>, _ label: String, _ dimensions: [(String, String)],
        make: () -> Handle
    ) -> Handle {
        let key = Key(label: label, values: dimensions.map(\.1))
        if let known = cache.withLock({ $0[key] }) { return known }
        let made = make()
        cache.withLock { handles in
            if handles.count < limit, handles[key] == nil { handles[key] = made }
        }
        return made
    }
}
