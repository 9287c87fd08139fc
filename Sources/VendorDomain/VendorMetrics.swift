import CoreMetrics
package import Inventory
package import Metrics
package import Prometheus

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
    let stockReads: Metrics.Counter
    let exhausted: Metrics.Counter
    package let allocationDuration: Metrics.Timer
    private let factory: PrometheusMetricsFactory

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
        stockReads = Metrics.Counter(label: "ipam_vendor_stock_reads_total", factory: factory)
        exhausted = Metrics.Counter(label: "ipam_vendor_pool_exhausted_total", factory: factory)
        allocationDuration = Metrics.Timer(label: "ipam_vendor_allocation_duration_seconds", factory: factory)
    }

    /// Storage attempts by method and status (0 = no answer), with whether the pipeline retried:
    /// throttling and faults show up here before they reach callers.
    package func recordStorageAttempt(_ record: StorageAttempt) {
        Metrics.Counter(
            label: "ipam_storage_attempts_total",
            dimensions: [
                ("method", record.method), ("status", String(record.status)),
                ("retried", record.willRetry ? "true" : "false"),
            ],
            factory: factory
        ).increment()
    }

    /// One HTTP request as the edge answered it.
    package func recordRequest(route: String, method: String, status: Int, duration: Duration) {
        let dimensions = [("route", route), ("method", method), ("status", String(status))]
        Metrics.Counter(label: "ipam_http_requests_total", dimensions: dimensions, factory: factory).increment()
        Metrics.Timer(label: "ipam_http_request_duration_seconds", dimensions: [("route", route)], factory: factory)
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
