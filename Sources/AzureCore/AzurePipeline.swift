import Foundation
package import HTTPTransport
package import Logging

/// The Azure request pipeline: retry → authorize (per attempt) → decode Azure errors → transport.
package struct AzurePipeline: Sendable {
    package let transport: any HTTPTransport
    package let authorizer: any RequestAuthorizer
    package let retryPolicy: RetryPolicy
    package let logger: Logger
    /// Observes each attempt (for metrics and tests): status or error label, and whether it will be retried.
    package let onAttempt: (@Sendable (AttemptRecord) -> Void)?
    /// How waiting between attempts happens and how the deadline's time is read.
    package let clock: RetryClock

    /// What one attempt did.
    package struct AttemptRecord: Sendable {
        package let method: String
        package let attempt: Int
        /// HTTP status, or 0 for a transport failure.
        package let status: Int
        package let willRetry: Bool
    }

    package init(
        transport: any HTTPTransport, authorizer: any RequestAuthorizer, retryPolicy: RetryPolicy = .init(),
        logger: Logger = Logger(label: "ipam.azure", factory: { _ in SwiftLogNoOpLogHandler() }),
        onAttempt: (@Sendable (AttemptRecord) -> Void)? = nil, clock: RetryClock = .system
    ) {
        self.transport = transport
        self.clock = clock
        self.authorizer = authorizer
        self.retryPolicy = retryPolicy
        self.logger = logger
        self.onAttempt = onAttempt
    }

    /// Sends `request`, retrying per policy, and returns the first 2xx/3xx answer.
    ///
    /// - Parameter idempotent: whether repeating the request is harmless. Non-idempotent requests are
    ///   repeated only when the service certainly did not apply them (429, 503, connection refused).
    /// - Throws: `AzureError` for error answers (412, 409, 404, … are never retried) and transport failures.
    package func send(_ request: TransportRequest, idempotent: Bool) async throws -> TransportResponse {
        let start = clock.uptime()
        var random = SystemRandomNumberGenerator()
        var attempt = 0
        var refreshedAfter401 = false
        var base = request
        // One client request id for every attempt, so the service's logs tie the retries together.
        if base.headers["x-ms-client-request-id"] == nil { base.headers["x-ms-client-request-id"] = RandomID.uuid() }
        while true {
            attempt += 1
            var outgoing = base
            try await authorizer.authorize(&outgoing)
            let failure: AzureError
            var retryAfter: Duration? = nil
            var retryable: Bool
            do {
                let response = try await transport.execute(outgoing)
                if response.status < 400 {
                    onAttempt?(
                        .init(method: request.method, attempt: attempt, status: response.status, willRetry: false))
                    return response
                }
                failure = AzureError.decode(status: response.status, headers: response.headers, body: response.body)
                retryAfter = RetryPolicy.retryAfter(from: response.headers)
                retryable = retryPolicy.shouldRetry(status: response.status, idempotent: idempotent)
                if response.status == 401 && !refreshedAfter401 {
                    refreshedAfter401 = true
                    retryable = await authorizer.invalidate()
                }
            } catch let error as TransportError {
                failure = .transport(error)
                retryable = retryPolicy.shouldRetry(error, idempotent: idempotent)
            }
            let delay = retryPolicy.delay(afterAttempt: attempt, retryAfter: retryAfter, using: &random)
            let withinDeadline = retryPolicy.deadline.map { clock.uptime() - start + delay < $0 } ?? true
            let willRetry = retryable && attempt < retryPolicy.maxAttempts && withinDeadline && !Task.isCancelled
            onAttempt?(.init(method: request.method, attempt: attempt, status: failure.status, willRetry: willRetry))
            guard willRetry else { throw failure }
            logger.debug(
                "retrying Azure request",
                metadata: [
                    "method": .string(request.method), "attempt": .stringConvertible(attempt),
                    "error": .string(failure.shortDescription),
                    "delay_ms": .stringConvertible(delay.nanoseconds / 1_000_000),
                ])
            try await clock.sleep(delay)
        }
    }
}

/// Time as the retry loop sees it: a monotonic reading for the deadline, and sleeping between attempts.
/// Tests pass one that moves by itself, so no test waits for (or measures) a backoff on the wall clock.
package struct RetryClock: Sendable {
    package var uptime: @Sendable () -> Duration
    package var sleep: @Sendable (Duration) async throws -> Void

    package init(uptime: @escaping @Sendable () -> Duration, sleep: @escaping @Sendable (Duration) async throws -> Void)
    {
        self.uptime = uptime
        self.sleep = sleep
    }

    /// The system's monotonic clock and `Task.sleep`.
    package static let system: RetryClock = {
        let origin = ContinuousClock.now
        return RetryClock(uptime: { ContinuousClock.now - origin }, sleep: { try await Task.sleep(for: $0) })
    }()
}
