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
    /// Paces requests to partitions storage throttles (shared by every request of the process); nil: none.
    package let admission: AdmissionControl?

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
        onAttempt: (@Sendable (AttemptRecord) -> Void)? = nil, clock: RetryClock = .system,
        admission: AdmissionControl? = nil
    ) {
        self.transport = transport
        self.clock = clock
        self.admission = admission
        self.authorizer = authorizer
        self.retryPolicy = retryPolicy
        self.logger = logger
        self.onAttempt = onAttempt
    }

    /// Sends `request`, retrying per policy, and returns the first 2xx/3xx answer.
    ///
    /// - Parameters:
    ///   - idempotent: whether repeating the request is harmless. Non-idempotent requests are repeated only when
    ///     the service certainly did not apply them (429, 503, connection refused).
    ///   - ticket: the partition and entities the request costs: with `admission`, each attempt waits for the
    ///     partition's turn, and a throttled answer slows the partition down for every request of the process
    ///     rather than this one alone. Throttled answers are then retried at the pace for as long as the request's
    ///     `StorageDeadline` allows (without one, within the policy's attempts and deadline); a turn further away
    ///     than that is not waited for (`AzureError.notAdmitted`).
    /// - Throws: `AzureError` for error answers (412, 409, 404, … are never retried) and transport failures.
    package func send(_ request: TransportRequest, idempotent: Bool, ticket: AdmissionControl.Ticket? = nil)
        async throws -> TransportResponse
    {
        let start = clock.uptime()
        let budget = StorageDeadline.remaining
        let sendBy = StorageDeadline.sendBy
        var lastFailure: AzureError? = nil
        let paced = ticket.flatMap { ticket in admission.map { Paced(control: $0, ticket: ticket) } }
        var random = SystemRandomNumberGenerator()
        var attempt = 0
        var refreshedAfter401 = false
        var base = request
        // One client request id for every attempt, so the service's logs tie the retries together.
        if base.headers["x-ms-client-request-id"] == nil { base.headers["x-ms-client-request-id"] = RandomID.uuid() }
        while true {
            attempt += 1
            if let sendBy, clock.uptime() >= sendBy {
                // Past its send window: no further attempt (the last answer stands; none yet: not sent).
                throw lastFailure ?? AzureError.notSent(after: sendBy)
            }
            var turn: AdmissionControl.Turn? = nil
            if let paced {
                let now = clock.uptime()
                var limit = waitLimit(budget, since: start, now: now)
                if let sendBy {
                    let left = max(.zero, sendBy - now)
                    limit = limit.map { min($0, left) } ?? left
                }
                guard let taken = paced.control.take(paced.ticket, now: now, limit: limit) else {
                    var metadata = paced.logMetadata
                    metadata["limit_ms"] = .stringConvertible(limit.map { $0.nanoseconds / 1_000_000 } ?? -1)
                    logger.debug("a paced partition has no turn within the deadline", metadata: metadata)
                    throw AzureError.notAdmitted(paced.ticket.key)
                }
                turn = taken
                if taken.delay > .zero { try await clock.sleep(taken.delay) }
            }
            var outgoing = base
            try await authorizer.authorize(&outgoing)
            let failure: AzureError
            var retryAfter: Duration? = nil
            var retryable: Bool
            do {
                let response = try await transport.execute(outgoing)
                if response.status < 400 {
                    if let paced { paced.control.answered(paced.ticket, now: clock.uptime()) }
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
            // A throttled answer slows the partition for the whole process; the next attempt waits for its turn.
            let atPace = paced != nil && failure.slowsDown
            if let paced, let turn, failure.slowsDown {
                paced.control.throttled(paced.ticket.key, turn: turn, now: clock.uptime())
                logger.debug("storage throttled a paced partition", metadata: paced.logMetadata)
            }
            let delay =
                atPace
                ? (retryAfter ?? .zero)
                : retryPolicy.delay(afterAttempt: attempt, retryAfter: retryAfter, using: &random)
            let elapsed = clock.uptime() - start
            let withinDeadline: Bool
            if atPace, let budget {
                // No attempt count: the pace, not the count, keeps it from a storm.
                withinDeadline = delay < budget.read()
            } else {
                withinDeadline =
                    attempt < retryPolicy.maxAttempts && (retryPolicy.deadline.map { elapsed + delay < $0 } ?? true)
            }
            let withinSendWindow = sendBy.map { clock.uptime() + delay < $0 } ?? true
            let willRetry = retryable && withinDeadline && withinSendWindow && !Task.isCancelled
            lastFailure = failure
            onAttempt?(.init(method: request.method, attempt: attempt, status: failure.status, willRetry: willRetry))
            guard willRetry else { throw failure }
            logger.debug(
                "retrying Azure request",
                metadata: [
                    "method": .string(request.method), "attempt": .stringConvertible(attempt),
                    "error": .string(failure.shortDescription),
                    "delay_ms": .stringConvertible(delay.nanoseconds / 1_000_000),
                ])
            if delay > .zero { try await clock.sleep(delay) }
        }
    }

    /// Corrects what a paced request cost once its answer says (a query page: the entities it answered).
    package func settle(_ ticket: AdmissionControl.Ticket, actual: Int) {
        admission?.settle(ticket, actual: actual)
    }

    /// How long an attempt may wait for its turn: what the request's deadline leaves, else the policy's.
    private func waitLimit(_ budget: StorageDeadline.Remaining?, since start: Duration, now: Duration) -> Duration? {
        let left = budget?.read() ?? retryPolicy.deadline.map { $0 - (now - start) }
        return left.map { max(.zero, $0) }
    }

    private struct Paced {
        let control: AdmissionControl
        let ticket: AdmissionControl.Ticket

        /// The partition, the request's entities and the partition's pace now, for a log line.
        var logMetadata: Logger.Metadata {
            [
                "partition": .string(ticket.key), "entities": .stringConvertible(ticket.entities),
                "pace": .string(control.rate(ticket.key).map { "\(Int($0))/s" } ?? "open"),
            ]
        }
    }
}

/// How long the request being served may still wait for storage: a task-local the caller sets around its work
/// (the Vendor, per allocation), read by `AzurePipeline` whenever it would wait for a throttled partition.
package enum StorageDeadline {
    /// The time left, read when needed (nil: no deadline beyond the retry policy's).
    @TaskLocal package static var remaining: Remaining? = nil
    /// The instant (on the pipeline clock's `uptime`) after which no attempt of the request starts, whatever the
    /// policy or `remaining` would allow: a transaction carrying an audit event is sent only within its send
    /// window, so it commits within a bounded time of the event's time (docs/Design.md, "Webhooks"). Nil: none.
    @TaskLocal package static var sendBy: Duration? = nil

    /// The time a request has left, wrapped in a type of its own: release builds of Swift 6.3 pushed a task-local
    /// whose type is a bare function type without its type metadata and crashed in `swift_task_localValuePush`
    /// (`ipam-dev bench partitions` on its first `withValue`; `EventClock.Source` is the same fix).
    package struct Remaining: Sendable {
        package let read: @Sendable () -> Duration
        package init(_ read: @escaping @Sendable () -> Duration) { self.read = read }
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
