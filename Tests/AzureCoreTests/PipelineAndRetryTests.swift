import AzureCore
import Foundation
import HTTPTransport
import Synchronization
import TableEmulator
import TestSupport
import Testing

@Suite("Retry policy and pipeline")
struct PipelineAndRetryTests {
    let transport = TestStorage.transport
    let fast = RetryPolicy(
        maxAttempts: 4, baseDelay: .milliseconds(5), maxDelay: .milliseconds(50), deadline: .seconds(5))
    /// Time that moves only when the pipeline sleeps: the deadline counts waits, never how slow a busy machine is.
    static func virtualClock() -> RetryClock {
        let now = Mutex<Duration>(.zero)
        return RetryClock(uptime: { now.withLock { $0 } }, sleep: { delay in now.withLock { $0 += delay } })
    }

    @Test("full jitter stays within the exponential ceiling and honours Retry-After")
    func jitterBounds() {
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: .milliseconds(100), maxDelay: .seconds(2))
        var random = SystemRandomNumberGenerator()
        for attempt in 1...8 {
            let ceiling = min(Duration.seconds(2), .milliseconds(100) * (1 << (attempt - 1)))
            for _ in 0..<200 {
                let delay = policy.delay(afterAttempt: attempt, retryAfter: nil, using: &random)
                #expect(delay >= .zero && delay <= ceiling)
            }
        }
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(3), using: &random) >= .seconds(3))
        #expect(RetryPolicy.retryAfter(from: ["Retry-After": "2"]) == .seconds(2))
        #expect(RetryPolicy.retryAfter(from: ["x-ms-retry-after-ms": "150"]) == .milliseconds(150))
    }

    @Test("which statuses are retried", arguments: [408, 429, 500, 502, 503, 504, 400, 401, 404, 409, 412])
    func retryableStatuses(status: Int) {
        let policy = RetryPolicy()
        #expect(
            policy.shouldRetry(status: status, idempotent: true) == [408, 429, 500, 502, 503, 504].contains(status))
        #expect(policy.shouldRetry(status: status, idempotent: false) == [429, 503].contains(status))
    }

    /// A server that fails the first `failures` requests with `status`, then answers 200.
    func flaky(failures: Int, status: Int, headers: HTTPHeaderList = [:], log: RequestLog)
        -> @Sendable (EmulatorRequest) async -> EmulatorResponse
    {
        { request in
            let n = log.record(request)
            if n <= failures {
                return TestServers.json(
                    status, #"{"odata.error":{"code":"ServerBusy","message":{"lang":"en-US","value":"busy"}}}"#,
                    headers: headers)
            }
            return TestServers.json(200, "{}")
        }
    }

    @Test("throttling (503, 429) is retried until success, with a fresh signature each attempt")
    func retriesThrottling() async throws {
        let log = RequestLog()
        try await TestServers.withFakeServer(flaky(failures: 2, status: 503, log: log)) { port in
            let signer = try SharedKeySigner(
                accountName: "devstoreaccount1", base64Key: StorageConnectionString.developmentAccountKey)
            let pipeline = AzurePipeline(
                transport: transport, authorizer: SharedKeyAuthorizer(signer: signer), retryPolicy: fast,
                clock: Self.virtualClock())
            let response = try await pipeline.send(
                TransportRequest(
                    method: "MERGE", url: "http://127.0.0.1:\(port)/devstoreaccount1/t(PartitionKey='a',RowKey='b')",
                    headers: ["Content-Type": "application/json"], body: [0x7B, 0x7D]), idempotent: false)
            #expect(response.status == 200)
            #expect(log.count == 3)
            #expect(
                log.requests.allSatisfy {
                    $0.headers["Authorization"]?.hasPrefix("SharedKey devstoreaccount1:") == true
                })
            #expect(
                Set(log.requests.compactMap { $0.headers["x-ms-client-request-id"] }).count == 1,
                "one client request id across attempts")
        }
    }

    @Test("a 412 is an answer: never retried")
    func preconditionNotRetried() async throws {
        let log = RequestLog()
        try await TestServers.withFakeServer(flaky(failures: 5, status: 412, log: log)) { port in
            let pipeline = AzurePipeline(
                transport: transport, authorizer: AnonymousAuthorizer(), retryPolicy: fast, clock: Self.virtualClock())
            await #expect {
                _ = try await pipeline.send(
                    TransportRequest(method: "GET", url: "http://127.0.0.1:\(port)/"), idempotent: true)
            } throws: { ($0 as? AzureError)?.isPreconditionFailed == true }
            #expect(log.count == 1)
        }
    }

    @Test("a 500 on a non-idempotent write is not repeated (its outcome is unknown)")
    func ambiguousWriteNotRetried() async throws {
        let log = RequestLog()
        try await TestServers.withFakeServer(flaky(failures: 5, status: 500, log: log)) { port in
            let pipeline = AzurePipeline(
                transport: transport, authorizer: AnonymousAuthorizer(), retryPolicy: fast, clock: Self.virtualClock())
            await #expect {
                _ = try await pipeline.send(
                    TransportRequest(method: "POST", url: "http://127.0.0.1:\(port)/"), idempotent: false)
            } throws: { ($0 as? AzureError)?.outcomeUnknown == true }
            #expect(log.count == 1)
            _ = try? await pipeline.send(
                TransportRequest(method: "GET", url: "http://127.0.0.1:\(port)/"), idempotent: true)
            #expect(log.count == 1 + 4, "an idempotent read is retried up to maxAttempts")
        }
    }

    @Test("Retry-After is waited for, and the deadline bounds the attempts")
    func retryAfterAndDeadline() async throws {
        let log = RequestLog()
        try await TestServers.withFakeServer(flaky(failures: 100, status: 429, headers: ["Retry-After": "1"], log: log))
        { port in
            // Time moves only when the pipeline sleeps, so the attempts fall at 0 s, 1 s and 2 s exactly.
            let virtual = Mutex<(now: Duration, sleeps: [Duration])>((.zero, []))
            let clock = RetryClock(
                uptime: { virtual.withLock { $0.now } },
                sleep: { delay in
                    virtual.withLock {
                        $0.now += delay
                        $0.sleeps.append(delay)
                    }
                })
            let policy = RetryPolicy(
                maxAttempts: 10, baseDelay: .milliseconds(1), maxDelay: .milliseconds(10), deadline: .milliseconds(2500)
            )
            let pipeline = AzurePipeline(
                transport: transport, authorizer: AnonymousAuthorizer(), retryPolicy: policy, clock: clock)
            await #expect {
                _ = try await pipeline.send(
                    TransportRequest(method: "GET", url: "http://127.0.0.1:\(port)/"), idempotent: true)
            } throws: { ($0 as? AzureError)?.isThrottled == true }
            let sleeps = virtual.withLock { $0.sleeps }
            #expect(log.count == 3, "attempts at 0, 1 and 2 s; a third wait would end past the 2.5 s deadline")
            #expect(
                sleeps.count == 2 && sleeps.allSatisfy { $0 >= .seconds(1) },
                "every retry waited at least Retry-After: \(sleeps)")
        }
    }

    @Test("connection refused is retried, then reported as a transport error")
    func refusedIsRetried() async throws {
        let attempts = Mutex(0)
        let pipeline = AzurePipeline(
            transport: transport, authorizer: AnonymousAuthorizer(), retryPolicy: fast,
            onAttempt: { _ in attempts.withLock { $0 += 1 } }, clock: Self.virtualClock())
        await #expect {
            _ = try await pipeline.send(TransportRequest(method: "POST", url: "http://127.0.0.1:9/"), idempotent: false)
        } throws: { ($0 as? AzureError)?.transportError?.isConnectionRefused == true }
        #expect(attempts.withLock { $0 } == 4)
    }
}
