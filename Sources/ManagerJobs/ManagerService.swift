package import Foundation
package import IPAMCore
package import Inventory
package import Logging
import ServiceLifecycle
import Synchronization

/// What a job run under the singleton lease reports, as `ManagerCycle` records it: in the metrics and in its
/// `manager run` log line.
package protocol ManagerCycleResult: Sendable {
    /// Records a finished run (it took `duration` and ended at `date`) in `metrics`.
    func record(in metrics: ManagerMetrics, duration: Duration, at date: Date)
    /// The metadata of the `manager run` log line.
    var logMetadata: Logger.Metadata { get }
}

/// One Manager run under the singleton lease: take the lease (or skip when another Manager holds it),
/// run the jobs while renewing the lease every third of its duration, release it at the end.
///
/// Renewal and the jobs are two child tasks of one group: if the lease is lost (this process was paused
/// past its expiry and another Manager took over, or storage refused every renewal until it ran out),
/// the jobs are cancelled rather than run twice at once. `Result` is what the jobs report: a
/// `ManagerRun.Report` for the timed jobs, a `PublicIPAssign.Report` for `manager assign`.
package struct ManagerCycle<C: Clock, Result: ManagerCycleResult>: Sendable where C.Duration == Duration {
    package let lease: SingletonLease
    package let clock: C
    package let logger: Logger
    package let metrics: ManagerMetrics
    private let jobs: @Sendable () async throws -> Result

    /// - Parameters:
    ///   - jobs: what runs under the lease (`ManagerRun.run`: Sync, Anchor, Reap, Assign, Replenish).
    ///   - clock: what the renewal waits on (tests move it).
    package init(
        lease: SingletonLease, clock: C, logger: Logger, metrics: ManagerMetrics = ManagerMetrics(),
        jobs: @escaping @Sendable () async throws -> Result
    ) {
        self.lease = lease
        self.clock = clock
        self.logger = logger
        self.metrics = metrics
        self.jobs = jobs
    }

    /// Runs the jobs once under the lease. Returns nil when another Manager holds it.
    /// - Throws: what the jobs threw, or `SingletonLease.HeldElsewhere` when the lease was lost mid-run.
    package func runOnce() async throws -> Result? {
        let held: SingletonLease.Held
        do { held = try await lease.acquire() } catch let error as SingletonLease.HeldElsewhere {
            logger.info(
                "another Manager is running the jobs; skipping", metadata: ["holder": .string(error.description)])
            metrics.recordSkipped()
            return nil
        } catch {
            metrics.recordFailed()
            throw error
        }
        let started = ContinuousClock.now
        let lease = self.lease
        let clock = self.clock
        let jobs = self.jobs
        let latest = LatestHeld(held)
        do {
            let report = try await withThrowingTaskGroup(of: CycleOutcome<Result>.self) { group in
                group.addTask { .report(try await jobs()) }
                group.addTask {
                    var current = held
                    while true {
                        try await clock.sleep(for: lease.duration / 3)
                        do {
                            current = try await lease.renew(current)
                            latest.set(current)
                        } catch let error as SingletonLease.HeldElsewhere {
                            throw error
                        } catch  where !(error is CancellationError) {
                            // Storage hiccup: keep trying while the lease is still ours; once it has run out,
                            // another Manager may hold it, and this run must stop.
                            guard !lease.hasExpired(current) else {
                                throw SingletonLease.HeldElsewhere(
                                    owner: "unknown (renewal failed until the lease ran out: \(error))",
                                    expiresAt: current.expiresAt)
                            }
                        }
                    }
                }
                defer { group.cancelAll() }
                while let outcome = try await group.next() {
                    if case .report(let report) = outcome { return report }
                }
                throw CancellationError()
            }
            try? await lease.release(latest.value)
            report.record(in: metrics, duration: ContinuousClock.now - started, at: lease.currentDate)
            logger.info("manager run", metadata: report.logMetadata)
            return report
        } catch let error as SingletonLease.HeldElsewhere {
            logger.error(
                "the singleton lease was lost during the run; the run was stopped",
                metadata: ["error": .string(error.description)])
            metrics.recordFailed()
            throw error
        } catch {
            try? await lease.release(latest.value)
            metrics.recordFailed()
            throw error
        }
    }
}

/// What a child task of a cycle ended with.
private enum CycleOutcome<Result: Sendable>: Sendable { case report(Result) }

/// The newest proof of holding the lease, shared between the renewal task and the one that releases it.
private final class LatestHeld: Sendable {
    private let held: Mutex<SingletonLease.Held>
    init(_ held: SingletonLease.Held) { self.held = Mutex(held) }
    var value: SingletonLease.Held { held.withLock { $0 } }
    func set(_ value: SingletonLease.Held) { held.withLock { $0 = value } }
}

/// The Manager's timed loop as a `Service`: on each occurrence of the NCRONTAB schedule (UTC), one
/// `ManagerCycle`. Waiting happens on the injected clock, so tests move time instead of sleeping.
///
/// Graceful shutdown (SIGTERM in `manager run`) ends the wait at once; a run in progress is finished, its
/// lease released, and no other is started. Cancellation stops a run where it is: every row change is
/// all-or-nothing (changes share transactions, none is ever split across two), so the next run (here or on
/// another Manager, once the lease expires) finishes the rest.
package struct ManagerService<C: Clock, Result: Sendable>: Service where C.Duration == Duration {
    package let schedule: NCrontab
    package let clock: C
    package let logger: Logger
    private let now: @Sendable () -> Date
    private let cycle: @Sendable () async throws -> Result?
    private let started: @Sendable () -> Void

    /// - Parameters:
    ///   - now: the wall-clock time the schedule is read against (UTC); must move with `clock`.
    ///   - cycle: one run under the singleton lease (`ManagerCycle.runOnce`); nil when skipped.
    ///   - started: called once the service runs (inside its `ServiceGroup`, whose signal handlers are in
    ///     place by then): the moment to announce readiness.
    package init(
        schedule: NCrontab, clock: C, now: @escaping @Sendable () -> Date, logger: Logger,
        cycle: @escaping @Sendable () async throws -> Result?, started: @escaping @Sendable () -> Void = {}
    ) {
        self.schedule = schedule
        self.clock = clock
        self.now = now
        self.logger = logger
        self.cycle = cycle
        self.started = started
    }

    package func run() async throws {
        started()
        let clock = self.clock
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let current = now()
            guard let next = schedule.next(after: current) else {
                logger.warning(
                    "the schedule has no next occurrence; the Manager loop ends",
                    metadata: ["schedule": .string("\(schedule)")])
                return
            }
            let wait = Duration.milliseconds(Int64(max(0, next.timeIntervalSince(current)) * 1000))
            do {
                try await cancelWhenGracefulShutdown { try await clock.sleep(for: wait) }
            } catch is CancellationError {
                return // shutting down (gracefully or not) while waiting
            }
            guard !Task.isShuttingDownGracefully else { return }
            do {
                _ = try await cycle()
            } catch is CancellationError {
                return
            } catch {
                logger.error(
                    "manager run failed; the next occurrence tries again", metadata: ["error": .string("\(error)")])
            }
        }
    }
}
