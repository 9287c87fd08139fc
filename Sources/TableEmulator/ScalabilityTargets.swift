import Synchronization

/// Azure Table Storage's published scalability targets, enforced (`table-emulator --azure-targets`): entities per
/// second per table partition (2,000) and per storage account (20,000).
///
/// Each budget is a token bucket holding one second's worth: it refills continuously at its rate, so a burst of
/// a second's budget passes and a steady rate above it does not. A request is charged the entities it reads or
/// writes — one for a point read or write, one per operation of a transaction, one per entity a query answers
/// (at least one), one to the account for a table operation — and is refused whole, charging nothing, when the
/// partition's or the account's bucket cannot cover it. A request larger than a whole second's budget passes
/// when the bucket is full and leaves it in debt, as a 1,000-entity query page does against a small rate.
package final class ScalabilityTargets: Sendable {
    /// The two rates, in entities per second.
    package struct Rates: Sendable, Equatable {
        package var partitionEntitiesPerSecond: Int
        package var accountEntitiesPerSecond: Int

        package init(partitionEntitiesPerSecond: Int, accountEntitiesPerSecond: Int) {
            self.partitionEntitiesPerSecond = partitionEntitiesPerSecond
            self.accountEntitiesPerSecond = accountEntitiesPerSecond
        }

        /// Azure's published targets for a standard storage account (1 KiB entities).
        package static let azure = Rates(partitionEntitiesPerSecond: 2_000, accountEntitiesPerSecond: 20_000)
    }

    /// Which budget refused a request.
    package enum Refusal: Sendable, Equatable {
        case partition, account

        /// The answer Azure gives past the target: 503 `ServerBusy` with the message naming the limit.
        package var error: TableServiceError {
            switch self {
            case .partition:
                TableServiceError(
                    status: 503, code: "ServerBusy",
                    message: "The server is currently unable to receive requests. Please retry your request.")
            case .account:
                TableServiceError(
                    status: 503, code: "ServerBusy", message: "Operations per second is over the account limit.")
            }
        }
    }

    /// What one request costs one partition.
    package struct Charge: Sendable, Equatable {
        package var table: String
        package var partitionKey: String
        package var entities: Int

        package init(table: String, partitionKey: String, entities: Int) {
            self.table = table
            self.partitionKey = partitionKey
            self.entities = entities
        }
    }

    private struct Bucket {
        var tokens: Double
        var updated: Double

        /// The tokens after refilling up to `capacity` at `rate` per second until `now`.
        mutating func refill(now: Double, rate: Double, capacity: Double) {
            tokens = min(capacity, tokens + max(0, now - updated) * rate)
            updated = now
        }

        func covers(_ entities: Int, capacity: Double) -> Bool { tokens >= min(Double(entities), capacity) }
    }

    private struct State {
        var accounts: [String: Bucket] = [:]
        /// Keyed by account, table (case-insensitive, as table names are) and partition key.
        var partitions: [PartitionID: Bucket] = [:]
    }

    private struct PartitionID: Hashable {
        let account: String
        let table: String
        let partitionKey: String
    }

    package let rates: Rates
    private let state = Mutex(State())
    private let now: @Sendable () -> Double
    /// Partition buckets kept before full (idle) ones are dropped: a full bucket is the same as no bucket.
    private let prunedAbove: Int

    /// - Parameter now: seconds on a monotonic clock (injected by tests).
    package init(rates: Rates, prunedAbove: Int = 10_000, now: @escaping @Sendable () -> Double = monotonicSeconds) {
        self.rates = rates
        self.prunedAbove = prunedAbove
        self.now = now
    }

    /// Charges `charges` (one per partition the request touches) and `accountEntities` to `account`, or charges
    /// nothing and answers which budget cannot cover them.
    package func admit(account: String, charges: [Charge], accountEntities: Int) -> Refusal? {
        let now = self.now()
        let partitionRate = Double(rates.partitionEntitiesPerSecond)
        let accountRate = Double(rates.accountEntitiesPerSecond)
        return state.withLock { state in
            var accountBucket = state.accounts[account] ?? Bucket(tokens: accountRate, updated: now)
            accountBucket.refill(now: now, rate: accountRate, capacity: accountRate)
            var buckets: [(PartitionID, Bucket, Int)] = []
            for charge in charges {
                let id = PartitionID(
                    account: account, table: charge.table.lowercased(), partitionKey: charge.partitionKey)
                var bucket = state.partitions[id] ?? Bucket(tokens: partitionRate, updated: now)
                bucket.refill(now: now, rate: partitionRate, capacity: partitionRate)
                guard bucket.covers(charge.entities, capacity: partitionRate) else {
                    state.accounts[account] = accountBucket
                    state.partitions[id] = bucket
                    return .partition
                }
                buckets.append((id, bucket, charge.entities))
            }
            guard accountBucket.covers(accountEntities, capacity: accountRate) else {
                state.accounts[account] = accountBucket
                return .account
            }
            accountBucket.tokens -= Double(accountEntities)
            state.accounts[account] = accountBucket
            for (id, var bucket, entities) in buckets {
                bucket.tokens -= Double(entities)
                state.partitions[id] = bucket
            }
            if state.partitions.count > prunedAbove {
                state.partitions = state.partitions.filter { _, bucket in
                    var refilled = bucket
                    refilled.refill(now: now, rate: partitionRate, capacity: partitionRate)
                    return refilled.tokens < partitionRate
                }
            }
            return nil
        }
    }

    /// Partitions whose budget is being tracked (a partition with a full budget may be forgotten).
    package var trackedPartitions: Int { state.withLock { $0.partitions.count } }

    /// Seconds since an arbitrary start, never going back.
    package static func monotonicSeconds() -> Double {
        let elapsed = start.duration(to: .now)
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    private static let start = ContinuousClock.now
}
