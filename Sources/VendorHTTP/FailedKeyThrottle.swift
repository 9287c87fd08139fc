import Foundation
import IPAMCore
import Synchronization
import VendorDomain

/// Slows down guessing keys: each client address may fail `burst` authentications at once and then one
/// per `interval`; a failure beyond that is answered only after the wait for its turn (at most `maxDelay`).
///
/// Only refused credentials are counted and delayed: a valid key from the same address is answered at
/// once, so an attacker sharing an address (a proxy, the Functions host) never locks out real callers.
/// At most `capacity` addresses are remembered; when full, addresses whose allowance has refilled are
/// forgotten first, then the least recently failed one.
final class FailedKeyThrottle: Sendable {
    struct Policy: Sendable {
        var burst = 10
        var interval: Duration = .seconds(1)
        var maxDelay: Duration = .seconds(5)
        var capacity = 4096
    }

    private struct Allowance {
        /// Failures still allowed without delay; negative: the debt the next answers wait for.
        var tokens: Double
        var updated: Duration
    }

    let policy: Policy
    private let uptime: @Sendable () -> Duration
    private let allowances = Mutex<[String: Allowance]>([:])

    init(policy: Policy = Policy(), uptime: @escaping @Sendable () -> Duration) {
        self.policy = policy
        self.uptime = uptime
    }

    /// Records a refused credential from `address` and returns how long its answer waits (zero within the burst).
    func delay(afterFailureFrom address: String) -> Duration {
        let now = uptime()
        let interval = policy.interval.seconds
        let burst = Double(policy.burst)
        return allowances.withLock { allowances in
            if allowances[address] == nil && allowances.count >= policy.capacity {
                Self.makeRoom(&allowances, now: now, policy: policy)
            }
            var allowance = allowances[address] ?? Allowance(tokens: burst, updated: now)
            allowance.tokens = min(burst, allowance.tokens + (now - allowance.updated).seconds / interval) - 1
            // the debt, and so the wait, is bounded
            allowance.tokens = max(allowance.tokens, -policy.maxDelay.seconds / interval)
            allowance.updated = now
            allowances[address] = allowance
            return allowance.tokens >= 0 ? .zero : .seconds(-allowance.tokens * interval)
        }
    }

    /// How many addresses are remembered.
    var trackedAddresses: Int { allowances.withLock { $0.count } }

    private static func makeRoom(_ allowances: inout [String: Allowance], now: Duration, policy: Policy) {
        let burst = Double(policy.burst)
        let interval = policy.interval.seconds
        allowances = allowances.filter { $0.value.tokens + (now - $0.value.updated).seconds / interval < burst }
        while allowances.count >= policy.capacity,
            let oldest = allowances.min(by: { $0.value.updated < $1.value.updated })?.key
        {
            allowances[oldest] = nil
        }
    }
}
