import AzureTables
import Foundation
import IPAMCore
import Inventory
import Logging
import ManagerJobs
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import TestSupport
import Testing

/// A door a fake job waits at until the test opens it.
final class Door: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))
    func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
    func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

final class Counter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func increment() { count.withLock { $0 += 1 } }
}

let quiet = Logger(label: "manager-service-test", factory: { _ in SwiftLogNoOpLogHandler() })

@Suite("Manager loop as a Service, on a clock the test moves")
struct ManagerServiceTests {
    /// 2027-01-15T08:00:05Z: five seconds past a ten-second boundary.
    static let start = Date(timeIntervalSince1970: 1_800_000_005)

    /// A service on a manual clock at `start` whose runs only count themselves.
    static func countingService(_ schedule: String) throws -> (
        ManualClock, Counter, ManagerService<ManualClock, ManagerRun.Report>
    ) {
        let clock = ManualClock(start: start)
        let runs = Counter()
        let service = ManagerService(schedule: try NCrontab(schedule), clock: clock, now: { clock.date }, logger: quiet)
        {
            runs.increment()
            return ManagerRun.Report()
        }
        return (clock, runs, service)
    }

    @Test(
        "runs once per occurrence of the schedule, never early, and a missed stretch runs once, not once per occurrence"
    )
    func schedule() async throws {
        let (clock, runs, service) = try Self.countingService("*/10 * * * * *")
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await service.run() }
                try #require(await clock.waitForSleepers())
                #expect(runs.value == 0)
                clock.advance(by: .seconds(4)) // 08:00:09: not yet
                try await Task.sleep(for: .milliseconds(50))
                #expect(runs.value == 0 && clock.sleeperCount == 1)
                clock.advance(by: .seconds(1)) // 08:00:10
                try #require(await clock.waitForSleepers())
                #expect(runs.value == 1)
                clock.advance(by: .seconds(10)) // 08:00:20
                try #require(await clock.waitForSleepers())
                #expect(runs.value == 2)
                clock.advance(by: .seconds(35)) // 08:00:55: three occurrences passed while "asleep"
                try #require(await clock.waitForSleepers())
                #expect(runs.value == 3, "one run for the stretch; the next waits for 08:01:00")
                trigger.triggerGracefulShutdown()
                try await group.next()
                #expect(runs.value == 3)
            }
        }
    }

    @Test("graceful shutdown while waiting ends the loop at once; cancellation too")
    func shutdownWhileWaiting() async throws {
        for useCancellation in [false, true] {
            let (clock, runs, service) = try Self.countingService("0 0 * * * *")
            try await testGracefulShutdown { trigger in
                let task = Task { try await service.run() }
                try #require(await clock.waitForSleepers())
                if useCancellation { task.cancel() } else { trigger.triggerGracefulShutdown() }
                try await task.value
                #expect(runs.value == 0)
            }
        }
    }

    @Test("graceful shutdown during a run lets the run finish (never cancelled) and starts no other")
    func shutdownDuringRun() async throws {
        let clock = ManualClock(start: Self.start)
        let door = Door()
        let started = Counter()
        let finished = Counter()
        let cancelled = Counter()
        let service = ManagerService(
            schedule: try NCrontab("*/10 * * * * *"), clock: clock, now: { clock.date }, logger: quiet
        ) {
            started.increment()
            await door.wait()
            if Task.isCancelled { cancelled.increment() }
            finished.increment()
            return ManagerRun.Report()
        }
        let returned = Counter()
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await service.run()
                    returned.increment()
                }
                try #require(await clock.waitForSleepers())
                clock.advance(by: .seconds(5))
                while started.value == 0 { try await Task.sleep(for: .milliseconds(2)) }
                trigger.triggerGracefulShutdown()
                try await Task.sleep(for: .milliseconds(100))
                #expect(returned.value == 0, "the loop waits for the run in progress")
                clock.advance(by: .seconds(60))
                door.open()
                try await group.next()
                #expect(returned.value == 1 && finished.value == 1 && cancelled.value == 0 && started.value == 1)
            }
        }
    }
}

@Suite("Manager cycle: the singleton lease around a run")
struct ManagerCycleTests {
    @Test("a long run keeps its lease by renewing it as time moves, and releases it at the end")
    func renewsAndReleases() async throws {
        let table = try await TestStorage.freshTable("locks")
        let clock = ManualClock()
        let mine = SingletonLease(table: table, owner: "manager-a", duration: .seconds(30), now: { clock.date })
        let other = SingletonLease(table: table, owner: "manager-b", duration: .seconds(30), now: { clock.date })
        let door = Door()
        let cycle = ManagerCycle(lease: mine, clock: clock, logger: quiet) {
            await door.wait()
            return ManagerRun.Report()
        }
        let run = Task { try await cycle.runOnce() }
        try #require(await clock.waitForSleepers())
        for _ in 0..<9 { // 90 s: three times the lease's duration
            clock.advance(by: .seconds(10))
            try #require(await clock.waitForSleepers())
        }
        await #expect(throws: SingletonLease.HeldElsewhere.self) { _ = try await other.acquire() }
        door.open()
        #expect(try await run.value != nil)
        _ = try await other.acquire() // released at the end: free at once, no waiting for expiry
    }

    @Test("metrics: runs by result, row changes by action, conflicts, the time of the last complete Sync")
    func metrics() async throws {
        let table = try await TestStorage.freshTable("locks")
        let clock = ManualClock()
        let metrics = ManagerMetrics()
        let complete = Counter()
        let cycle = ManagerCycle(
            lease: SingletonLease(table: table, owner: "manager-a", duration: .seconds(30), now: { clock.date }),
            clock: clock,
            logger: quiet, metrics: metrics
        ) {
            complete.increment()
            var report = ManagerRun.Report()
            report.complete = complete.value == 1 // the second run's listing is incomplete
            report.actions = ["anchor": 2, "reap": 1]
            report.conflicts = 1
            return report
        }
        _ = try await cycle.runOnce()
        _ = try await cycle.runOnce()
        _ = try await SingletonLease(table: table, owner: "manager-b", duration: .seconds(30), now: { clock.date })
            .acquire()
        #expect(try await cycle.runOnce() == nil)
        let lines = Set(String(decoding: metrics.exposition(), as: UTF8.self).split(separator: "\n").map(String.init))
        #expect(lines.contains(#"ipam_manager_runs_total{result="complete"} 1"#), "\(lines.sorted())")
        #expect(lines.contains(#"ipam_manager_runs_total{result="incomplete"} 1"#))
        #expect(lines.contains(#"ipam_manager_runs_total{result="skipped"} 1"#))
        #expect(lines.contains(#"ipam_manager_runs_total{result="failed"} 0"#))
        #expect(lines.contains(#"ipam_manager_row_changes_total{action="anchor"} 4"#))
        #expect(lines.contains("ipam_manager_conflicts_total 2"))
        #expect(
            lines.contains("ipam_manager_last_complete_sync_timestamp_seconds \(clock.date.timeIntervalSince1970)")
                || lines.contains(
                    "ipam_manager_last_complete_sync_timestamp_seconds \(Int(clock.date.timeIntervalSince1970)).0"),
            "\(lines.filter { $0.contains("last_complete") })")
    }

    @Test("another Manager holding the lease: skip without running")
    func skips() async throws {
        let table = try await TestStorage.freshTable("locks")
        let clock = ManualClock()
        _ = try await SingletonLease(table: table, owner: "manager-b", duration: .seconds(30), now: { clock.date })
            .acquire()
        let runs = Counter()
        let cycle = ManagerCycle(
            lease: SingletonLease(table: table, owner: "manager-a", duration: .seconds(30), now: { clock.date }),
            clock: clock, logger: quiet
        ) {
            runs.increment()
            return ManagerRun.Report()
        }
        #expect(try await cycle.runOnce() == nil)
        #expect(runs.value == 0)
    }

    @Test("a lease lost mid-run (taken over after this process stalled) stops the run instead of running twice")
    func lostLease() async throws {
        let table = try await TestStorage.freshTable("locks")
        let clock = ManualClock()
        let cancelled = Counter()
        let cycle = ManagerCycle(
            lease: SingletonLease(table: table, owner: "manager-a", duration: .seconds(30), now: { clock.date }),
            clock: clock, logger: quiet
        ) {
            do { try await Task.sleep(for: .seconds(600)) } catch { cancelled.increment() }
            try Task.checkCancellation()
            return ManagerRun.Report()
        }
        let run = Task { try await cycle.runOnce() }
        try #require(await clock.waitForSleepers())
        // Another Manager took the row over (as after an expiry while we were stopped).
        let row = try #require(try await table.get(partitionKey: "lock", rowKey: "manager"))
        try await table.replace(
            TableEntity(
                partitionKey: "lock", rowKey: "manager",
                properties: [
                    "Owner": .string("manager-b"),
                    "ExpiresAt": .dateTime(clock.date.addingTimeInterval(30)),
                ]),
            ifMatch: .etag(row.etag!))
        clock.advance(by: .seconds(10))
        await #expect(throws: SingletonLease.HeldElsewhere.self) { _ = try await run.value }
        #expect(cancelled.value == 1, "the jobs were cancelled")
        let after = try #require(try await table.get(partitionKey: "lock", rowKey: "manager"))
        #expect(after["Owner"] == .string("manager-b"), "the other Manager's lease is left alone")
    }
}
