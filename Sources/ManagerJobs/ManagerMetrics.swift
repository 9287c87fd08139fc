import Foundation
import IPAMCore
import Inventory
import Metrics
import NetworkMath
package import Prometheus

/// The Manager's metrics (swift-metrics, Prometheus text on `GET /metrics` of `manager run --metrics-port`
/// and of the Functions custom handler).
///
/// Worth alerting on: `ipam_manager_last_complete_sync_timestamp_seconds` falling behind (Resource Graph
/// listings keep coming back incomplete, so nothing is reaped or released), and failed runs.
package struct ManagerMetrics: Sendable {
    package let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private let lastCompleteSync: Metrics.Gauge
    private let drift: Metrics.Gauge
    private let runDuration: Metrics.Timer

    package init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["ipam_manager_run_duration_seconds"] =
            [
                .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
                .seconds(10),
                .seconds(30), .seconds(60), .seconds(120), .seconds(300),
            ]
        self.factory = factory
        lastCompleteSync = Metrics.Gauge(label: "ipam_manager_last_complete_sync_timestamp_seconds", factory: factory)
        drift = Metrics.Gauge(label: "ipam_manager_drift_items", factory: factory)
        runDuration = Metrics.Timer(label: "ipam_manager_run_duration_seconds", factory: factory)
        for result in ["complete", "incomplete", "skipped", "failed"] { run(result).increment(by: 0) }
    }

    private func run(_ result: String) -> Metrics.Counter {
        Metrics.Counter(label: "ipam_manager_runs_total", dimensions: [("result", result)], factory: factory)
    }

    /// A run that finished: counted by whether its listing was complete, with its duration.
    func recordRun(complete: Bool, duration: Duration) {
        run(complete ? "complete" : "incomplete").increment()
        runDuration.record(duration: duration)
    }

    /// A run of the timed jobs that finished, with what it did.
    func recordRun(_ report: ManagerRun.Report, duration: Duration, at date: Date) {
        recordRun(complete: report.complete, duration: duration)
        if report.complete { lastCompleteSync.record(date.timeIntervalSince1970) }
        drift.record(Double(report.drift.count))
        for (action, count) in report.actions {
            Metrics.Counter(label: "ipam_manager_row_changes_total", dimensions: [("action", action)], factory: factory)
                .increment(by: count)
        }
        Metrics.Counter(label: "ipam_manager_conflicts_total", factory: factory).increment(by: report.conflicts)
        Metrics.Counter(label: "ipam_manager_transactions_total", factory: factory).increment(
            by: report.transactions + report.replenish.transactions)
        recordSpace(report.usage)
        for (key, count) in report.replenish.stocked {
            Metrics.Counter(label: "ipam_manager_stocked_total", dimensions: [("pool", key)], factory: factory)
                .increment(by: count)
        }
    }

    /// Per area (labels `scope`, `pool`: empty for the scope's own space, `ip_version`): its unused addresses
    /// (`free` + `available`) and the days left at the current rate (`UsageSampling.Measured.daysLeft`;
    /// 36,500 when it is not running out; not written while there are too few samples).
    func recordSpace(_ usage: UsageSampling.Report) {
        for measured in usage.areas {
            let labels = [
                ("scope", measured.area.scope.partitionKey), ("pool", measured.area.pool ?? ""),
                ("ip_version", "v\(measured.area.version.rawValue)"),
            ]
            Metrics.Gauge(label: "ipam_space_free_addresses", dimensions: labels, factory: factory)
                .record(Double(measured.sample.unused))
            let outcomes = SpaceForecast.windows.compactMap { measured.forecast[$0.name] }
            if let days = measured.daysLeft {
                Metrics.Gauge(label: "ipam_space_days_left", dimensions: labels, factory: factory)
                    .record(min(days, 36_500))
            } else if outcomes.contains(where: { if case .notRunningOut = $0 { true } else { false } }) {
                Metrics.Gauge(label: "ipam_space_days_left", dimensions: labels, factory: factory).record(36_500)
            }
        }
    }

    /// The webhook dispatcher's counters, in the same registry.
    package var webhooks: WebhookMetrics { WebhookMetrics(factory: factory) }

    /// Another Manager held the lease.
    func recordSkipped() { run("skipped").increment() }

    /// A run that threw (storage failure, lost lease).
    func recordFailed() { run("failed").increment() }

    /// The Prometheus text exposition.
    package func exposition() -> [UInt8] { registry.emitToBuffer() }
}
