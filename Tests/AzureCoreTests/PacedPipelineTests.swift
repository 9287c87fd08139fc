import AzureCore
import Foundation
import HTTPTransport
import Synchronization
import TableEmulator
import TestSupport
import Testing

/// The request pipeline with an admission control: throttled answers slow the partition for every request of the
/// process, and the request's deadline, not an attempt count, bounds the wait. Time is virtual (it moves only when
/// the pipeline sleeps), so nothing here waits for or measures the wall clock.
@Suite("Paced pipeline (admission control and the request's deadline)")
struct PacedPipelineTests {
    let transport = TestStorage.transport
    /// Two attempts at most, as far as the policy goes: a paced request under a deadline goes past it.
    let policy = RetryPolicy(
        maxAttempts: 2, baseDelay: .milliseconds(5), maxDelay: .milliseconds(50), deadline: .seconds(1))

    final class VirtualTime: Sendable {
        private let state = Mutex<(now: Duration, sleeps: [Duration])>((.zero, []))
        var now: Duration { state.withLock { $0.now } }
        var sleeps: [Duration] { state.withLock { $0.sleeps } }
        var clock: RetryClock {
            RetryClock(
                uptime: { self.now },
                sleep: { delay in
                    self.state.withLock {
                        $0.now += delay
                        $0.sleeps.append(delay)
                    }
                })
        }
    }

    /// Answers 503 `ServerBusy` to the first `failures` requests, then 200.
    static func busy(first failures: Int, log: RequestLog) -> @Sendable (EmulatorRequest) async -> EmulatorResponse {
        { request in
            if log.record(request) <= failures {
                return TestServers.json(
                    503, #"{"odata.error":{"code":"ServerBusy","message":{"lang":"en-US","value":"busy"}}}"#,
                    headers: ["x-ms-error-code": "ServerBusy"])
            }
            return TestServers.json(200, "{}")
        }
    }

    /// One test's storage and pipeline: a fake storage that answers 503 to the first `failures` requests, the log of
    /// what reached it, the virtual time the pipeline sleeps in, and the pipeline sending to it.
    struct Bench: Sendable {
        let log: RequestLog
        let time: VirtualTime
        let pipeline: AzurePipeline
        let port: Int

        /// Sends one `$batch` POST, not idempotent, under `ticket` when there is one.
        @discardableResult
        func send(ticket: AdmissionControl.Ticket? = nil) async throws -> TransportResponse {
            let request = TransportRequest(
                method: "POST", url: "http://127.0.0.1:\(port)/devstoreaccount1/$batch", body: [0x7B, 0x7D])
            return try await pipeline.send(request, idempotent: false, ticket: ticket)
        }
    }

    /// Runs `body` against a fresh `Bench` whose storage throttles the first `failures` requests; the pipeline uses
    /// `policy` unless `retryPolicy` says otherwise, `time`'s clock, and `admission`.
    func withBench(
        busyFirst failures: Int, admission: AdmissionControl?, retryPolicy: RetryPolicy? = nil,
        time: VirtualTime = VirtualTime(), onAttempt: (@Sendable (AzurePipeline.AttemptRecord) -> Void)? = nil,
        _ body: @Sendable (Bench) async throws -> Void
    ) async throws {
        let log = RequestLog()
        let pipeline = AzurePipeline(
            transport: transport, authorizer: AnonymousAuthorizer(), retryPolicy: retryPolicy ?? policy,
            onAttempt: onAttempt, clock: time.clock, admission: admission)
        try await TestServers.withFakeServer(Self.busy(first: failures, log: log)) { port in
            try await body(Bench(log: log, time: time, pipeline: pipeline, port: port))
        }
    }

    @Test("under a deadline, throttled answers are retried at the partition's pace past the policy's attempts")
    func retriedAtThePace() async throws {
        try await withBench(busyFirst: 8, admission: AdmissionControl()) { bench in
            let (log, time) = (bench.log, bench.time)
            let deadline = Duration.seconds(20)
            let response = try await StorageDeadline.$remaining.withValue(
                StorageDeadline.Remaining { deadline - time.now }
            ) {
                try await bench.send(ticket: .init(key: "t/p", entities: 10))
            }
            #expect(response.status == 200)
            #expect(log.count == 9, "eight throttled answers, then the commit: not two attempts")
            #expect(time.now < deadline)
            #expect(time.sleeps.allSatisfy { $0 > .zero } && time.sleeps.count >= 7, "each retry waited its turn")
        }
    }

    @Test("a request whose deadline runs out while storage throttles fails as throttled, not before its deadline")
    func failsOnlyAtTheDeadline() async throws {
        try await withBench(busyFirst: .max, admission: AdmissionControl(tuning: .init(minimumRate: 50))) { bench in
            let (log, time) = (bench.log, bench.time)
            let deadline = Duration.seconds(5)
            await #expect {
                _ = try await StorageDeadline.$remaining.withValue(StorageDeadline.Remaining { deadline - time.now }) {
                    try await bench.send(ticket: .init(key: "t/p", entities: 10))
                }
            } throws: { ($0 as? AzureError)?.slowsDown == true && ($0 as? AzureError)?.outcomeUnknown == false }
            #expect(time.now <= deadline, "never waited past the deadline")
            // One turn is at most 10 entities ÷ 50 per second away: it stopped only when the next did not fit.
            #expect(time.now > deadline - .milliseconds(200), "kept trying until the deadline: stopped at \(time.now)")
            #expect(log.count > policy.maxAttempts)
        }
    }

    @Test("a throttled answer paces the partition for the process: the next request waits its turn before sending")
    func pacesTheWholeProcess() async throws {
        let admission = AdmissionControl(tuning: .init(minimumRate: 50, burst: .zero))
        try await withBench(busyFirst: 1, admission: admission) { bench in
            let (log, time) = (bench.log, bench.time)
            try await bench.send(ticket: .init(key: "t/p", entities: 10))
            #expect(admission.isPaced("t/p"))
            let before = time.sleeps.count
            try await bench.send(ticket: .init(key: "t/p", entities: 10))
            #expect(time.sleeps.count == before + 1 && time.sleeps.last! > .zero, "\(time.sleeps)")
            // Another partition of the same process is not held back.
            let other = time.sleeps.count
            try await bench.send(ticket: .init(key: "t/q", entities: 10))
            #expect(time.sleeps.count == other)
            #expect(log.count == 4)
        }
    }

    @Test("without a ticket or an admission control, throttling is retried as before (attempts and policy deadline)")
    func unchangedWithoutTicket() async throws {
        try await withBench(busyFirst: .max, admission: AdmissionControl()) { bench in
            await #expect {
                _ = try await StorageDeadline.$remaining.withValue(StorageDeadline.Remaining { .seconds(60) }) {
                    try await bench.send()
                }
            } throws: { ($0 as? AzureError)?.isThrottled == true }
            #expect(bench.log.count == policy.maxAttempts)
        }
    }

    @Test(
        "a send window (StorageDeadline.sendBy) bounds every retry, whatever the policy allows: no attempt starts after it, and the last answer stands"
    )
    func sendWindowBoundsRetries() async throws {
        let time = VirtualTime()
        let started = Mutex<[Duration]>([])
        let patient = RetryPolicy(
            maxAttempts: 1000, baseDelay: .seconds(1), maxDelay: .seconds(4), deadline: .seconds(300))
        try await withBench(
            busyFirst: .max, admission: nil, retryPolicy: patient, time: time,
            onAttempt: { _ in started.withLock { $0.append(time.now) } }
        ) { bench in
            let window = Duration.seconds(15)
            await #expect {
                _ = try await StorageDeadline.$sendBy.withValue(window) {
                    try await bench.send()
                }
            } throws: { error in
                let azure = error as? AzureError
                // The storage's own last answer, not a "not sent" of the pipeline's.
                return azure?.isThrottled == true && azure?.message.hasPrefix("not sent") == false
            }
            #expect(bench.log.count > 2, "retried within the window")
            #expect(started.withLock { $0 }.allSatisfy { $0 < window }, "\(started.withLock { $0 })")
            #expect(time.now < window, "never slept past it: \(time.now)")
        }
    }

    @Test("a send window already over: nothing is sent, and the error says so (503, certainly not applied)")
    func sendWindowOver() async throws {
        try await withBench(busyFirst: 0, admission: AdmissionControl()) { bench in
            await #expect {
                _ = try await StorageDeadline.$sendBy.withValue(.zero) {
                    try await bench.send(ticket: .init(key: "t/p", entities: 1))
                }
            } throws: { error in
                let azure = error as? AzureError
                return azure?.status == 503 && azure?.outcomeUnknown == false
                    && azure?.message.hasPrefix("not sent") == true
            }
            #expect(bench.log.count == 0)
        }
    }

    @Test("a paced request waits for its turn only within its send window, though its deadline is later")
    func sendWindowBoundsThePace() async throws {
        try await withBench(busyFirst: .max, admission: AdmissionControl(tuning: .init(minimumRate: 50))) { bench in
            let (log, time) = (bench.log, bench.time)
            let window = Duration.seconds(3)
            await #expect {
                _ = try await StorageDeadline.$remaining.withValue(
                    StorageDeadline.Remaining { .seconds(20) - time.now }
                ) {
                    try await StorageDeadline.$sendBy.withValue(window) {
                        try await bench.send(ticket: .init(key: "t/p", entities: 10))
                    }
                }
            } throws: { ($0 as? AzureError)?.slowsDown == true && ($0 as? AzureError)?.outcomeUnknown == false }
            #expect(time.now <= window, "stopped at its window, not its deadline: \(time.now)")
            #expect(log.count > policy.maxAttempts, "paced retries until then")
        }
    }
}
