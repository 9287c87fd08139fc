package import Foundation
package import HTTPTransport

/// When and how long to wait before trying an Azure request again.
///
/// Exponential backoff with full jitter, honouring `Retry-After`, bounded by attempts and by a
/// deadline measured from the first attempt. A 412 is never retried: it is an answer.
package struct RetryPolicy: Sendable {
    package var maxAttempts: Int
    package var baseDelay: Duration
    package var maxDelay: Duration
    /// Total time budget across attempts, including waits; `nil` for attempts only.
    package var deadline: Duration?

    package init(
        maxAttempts: Int = 6, baseDelay: Duration = .milliseconds(100), maxDelay: Duration = .seconds(8),
        deadline: Duration? = .seconds(30)
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.deadline = deadline
    }

    /// No retries at all.
    package static let none = RetryPolicy(maxAttempts: 1, deadline: nil)

    /// Statuses that mean "try again later".
    package static let retryableStatuses: Set<Int> = [408, 429, 500, 502, 503, 504]
    /// Statuses that guarantee the request was not applied, so even a non-idempotent write may be resent.
    package static let notAppliedStatuses: Set<Int> = [429, 503]

    /// Whether a failed attempt may be repeated.
    /// - Parameter idempotent: repeating the request cannot change the outcome (reads, blind upserts).
    package func shouldRetry(status: Int, idempotent: Bool) -> Bool {
        idempotent ? Self.retryableStatuses.contains(status) : Self.notAppliedStatuses.contains(status)
    }

    /// Whether a transport failure may be repeated: always when the request never left, and
    /// otherwise only for idempotent requests.
    package func shouldRetry(_ error: TransportError, idempotent: Bool) -> Bool {
        if error.isCancelled || error.isInvalidRequest || error.isTLS { return false }
        if error.isConnectionRefused || error.shortDescription == "dnsFailure" { return true }
        return idempotent
    }

    /// Wait before attempt `attempt + 1` (attempt counts from 1): full jitter in
    /// `[0, min(maxDelay, baseDelay * 2^(attempt-1))]`, but never less than `retryAfter`.
    package func delay<R: RandomNumberGenerator>(
        afterAttempt attempt: Int, retryAfter: Duration?, using random: inout R
    )
        -> Duration
    {
        let exponent = min(max(attempt - 1, 0), 30)
        let ceiling = min(maxDelay, baseDelay * (1 << exponent))
        let ceilingNanos = max(Int64(1), ceiling.nanoseconds)
        let jitter = Duration.nanoseconds(Int64.random(in: 0...ceilingNanos, using: &random))
        if let retryAfter { return max(retryAfter, jitter) }
        return jitter
    }

    /// Parses `Retry-After` (seconds or an HTTP date) and `x-ms-retry-after-ms`.
    package static func retryAfter(from headers: HTTPHeaderList, now: Date = Date()) -> Duration? {
        if let ms = headers["x-ms-retry-after-ms"].flatMap({ Double($0) }) { return .milliseconds(Int64(ms)) }
        guard let value = headers["Retry-After"]?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Double(value) { return .milliseconds(Int64(seconds * 1000)) }
        return nil
    }
}

extension Duration {
    /// Whole nanoseconds (saturating).
    package var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? Int64.max : scaled + attoseconds / 1_000_000_000
    }

    /// Seconds as a Double.
    package var seconds: Double { Double(nanoseconds) / 1e9 }
}
