import Synchronization

/// Admission control per storage partition, shared by every request of a process: when storage throttles a
/// partition (503 `ServerBusy`, 429, 500 `OperationTimedOut`), the process's requests to it are paced instead of
/// each retrying on its own (docs/Design.md, "At the partition's target").
///
/// A partition is *open* (no pacing, no wait) until its first throttled answer. Then it is paced at a rate in
/// entities per second, by reservations: each request takes the next free moment of the partition and moves it on
/// by its entities ÷ rate, so callers go in turn, none twice ahead of another, and a caller learns at once how
/// long its turn is away (and gives up at once when that is past its deadline). The rate adapts (AIMD):
/// - a throttled answer cuts it to `decrease` × the lower of the rate and what the process really sent in the
///   last second (once per pace: answers to requests admitted before the last cut do not cut again);
/// - while the pace is what holds requests back (one had to wait), it grows by `increase` × itself per second;
/// - after `release` without a throttled answer the partition is open again.
///
/// Several processes pacing the same partition this way converge on shares of its target, as AIMD flows do.
/// Times are the caller's monotonic clock (`RetryClock.uptime`), so tests drive it with simulated time.
package final class AdmissionControl: Sendable {
    /// How the pace adapts.
    package struct Tuning: Sendable, Equatable {
        /// Share of the rate kept after a throttled answer (multiplicative decrease).
        package var decrease: Double
        /// Share of the rate added per second while the pace holds requests back (the slow increase).
        package var increase: Double
        /// The slowest pace (entities/s): a turn is never further away than the queue ahead of it at this rate.
        package var minimumRate: Double
        /// What a partition may take at once above its pace, in seconds of its rate.
        package var burst: Duration
        /// A partition not throttled for this long is open again.
        package var release: Duration

        package init(
            decrease: Double = 0.8, increase: Double = 0.1, minimumRate: Double = 50,
            burst: Duration = .milliseconds(50),
            release: Duration = .seconds(30)
        ) {
            self.decrease = min(max(decrease, 0.05), 0.99)
            self.increase = max(0, increase)
            self.minimumRate = max(1, minimumRate)
            self.burst = burst
            self.release = release
        }
    }

    /// What a partition's requests cost, for the pace.
    package struct Ticket: Sendable, Equatable {
        /// The partition (e.g. `table/partitionKey`).
        package let key: String
        /// Entities the request reads or writes, as the service counts them against its target (at least 1).
        package let entities: Int
        /// Whether `entities` is an estimate that `settle` corrects once the answer says (a query page's `$top`):
        /// then only the settled count is reported as entities spent.
        package let settles: Bool

        package init(key: String, entities: Int, settles: Bool = false) {
            self.key = key
            self.entities = max(1, entities)
            self.settles = settles
        }
    }

    /// A turn taken: wait `delay` before sending; `at` is when it was taken (for `throttled`).
    package struct Turn: Sendable, Equatable {
        package let delay: Duration
        package let at: Duration
    }

    private struct Partition {
        /// Entities per second, nil while open.
        var rate: Double?
        /// The partition's next free moment (seconds): the theoretical arrival time of the next request.
        var nextFree: Double = 0
        var lastCut = -Double.infinity
        var lastThrottle = -Double.infinity
        var lastGrowth = 0.0
        /// A request waited for its turn since the last growth: the pace holds requests back.
        var held = false
        /// Entities sent in the current and the previous second (what the process really sends).
        var windowStart = 0.0
        var current = 0.0
        var previous = 0.0
        var lastUse = 0.0

        mutating func roll(_ now: Double) {
            let elapsed = now - windowStart
            guard elapsed >= 1 else { return }
            previous = elapsed >= 2 ? 0 : current
            current = 0
            windowStart = elapsed >= 2 ? now : windowStart + 1
        }

        /// Entities per second sent over the last one to two seconds.
        func measured(_ now: Double) -> Double {
            let span = 1 + min(1, max(0, now - windowStart))
            return (previous + current) / span
        }
    }

    package let tuning: Tuning
    private let state = Mutex<[String: Partition]>([:])
    /// Partitions kept before idle open ones are forgotten.
    private let keptAbove: Int
    private let onEntities: @Sendable (Int) -> Void

    /// - Parameter onEntities: told the entities of every answered request (a query's once it is settled), as
    ///   the service counts them against its targets (for metrics: entities per allocation).
    package init(
        tuning: Tuning = Tuning(), keptAbove: Int = 4_096, onEntities: @escaping @Sendable (Int) -> Void = { _ in }
    ) {
        self.tuning = tuning
        self.keptAbove = keptAbove
        self.onEntities = onEntities
    }

    /// Takes the partition's next turn for `ticket` at `now`: how long to wait before sending (zero while the
    /// partition is open or has room). The turn is the caller's once taken; `limit`: when the turn is further away
    /// than this, nothing is taken and nil is answered (the caller's deadline does not allow it).
    package func take(_ ticket: Ticket, now: Duration, limit: Duration? = nil) -> Turn? {
        let time = Self.seconds(now)
        let entities = Double(ticket.entities)
        return state.withLock { partitions in
            var partition = partitions[ticket.key] ?? Partition(windowStart: time, lastUse: time)
            partition.roll(time)
            partition.lastUse = time
            guard var rate = partition.rate else {
                partition.current += entities
                partitions[ticket.key] = partition
                prune(&partitions, now: time)
                return Turn(delay: .zero, at: now)
            }
            rate = grown(&partition, rate: rate, now: time)
            let start = max(time, partition.nextFree - Self.seconds(tuning.burst))
            let delay = start - time
            if let limit, delay > Self.seconds(limit) {
                partitions[ticket.key] = partition
                return nil
            }
            if delay > 0 { partition.held = true }
            partition.nextFree = max(partition.nextFree, time) + entities / rate
            partition.current += entities
            partitions[ticket.key] = partition
            return Turn(delay: .nanoseconds(Int64(delay * 1e9)), at: now)
        }
    }

    /// Corrects a turn's entities once known (a query charges what it answered): the pace moves on (or back) by the
    /// difference, and what was answered is reported as spent.
    package func settle(_ ticket: Ticket, actual: Int) {
        onEntities(max(0, actual))
        let difference = Double(max(0, actual) - ticket.entities)
        guard difference != 0 else { return }
        state.withLock { partitions in
            guard var partition = partitions[ticket.key] else { return }
            partition.current += difference
            if let rate = partition.rate { partition.nextFree += difference / rate }
            partitions[ticket.key] = partition
        }
    }

    /// Storage throttled a request whose turn was taken `turn.at`: the pace is cut (unless it was cut since that
    /// turn), and the partition's next free moment is no earlier than `now`.
    package func throttled(_ key: String, turn: Turn, now: Duration) {
        let time = Self.seconds(now)
        state.withLock { partitions in
            var partition = partitions[key] ?? Partition(windowStart: time, lastUse: time)
            partition.roll(time)
            partition.lastThrottle = time
            partition.lastUse = time
            guard Self.seconds(turn.at) >= partition.lastCut else {
                partitions[key] = partition
                return // sent at a pace already cut since
            }
            let sent = partition.measured(time)
            let base = partition.rate.map { min($0, max(sent, tuning.minimumRate)) } ?? max(sent, tuning.minimumRate)
            partition.rate = max(tuning.minimumRate, base * tuning.decrease)
            partition.lastCut = time
            partition.lastGrowth = time
            partition.held = false
            partition.nextFree = max(partition.nextFree, time)
            partitions[key] = partition
        }
    }

    /// Storage answered a request of the partition (not throttled): a partition calm for `release` is open again.
    package func answered(_ ticket: Ticket, now: Duration) {
        if !ticket.settles { onEntities(ticket.entities) }
        let time = Self.seconds(now)
        let key = ticket.key
        state.withLock { partitions in
            guard var partition = partitions[key], partition.rate != nil else { return }
            if time - partition.lastThrottle >= Self.seconds(tuning.release) {
                partition.rate = nil
                partition.held = false
                partitions[key] = partition
            }
        }
    }

    /// How long until the partition takes a request (zero while it is open or has room): group commit waits this
    /// long before it gathers a round, so the claims arriving meanwhile share it.
    ///
    /// A wait answered here holds a request back as a delayed turn does, so it lets the pace grow: a caller that
    /// waits here and then takes its turn at once must not look like a partition with room to spare (the pace would
    /// never grow again after a cut, and only fall with every throttled answer).
    package func untilReady(_ key: String, now: Duration) -> Duration {
        let time = Self.seconds(now)
        return state.withLock { partitions in
            guard var partition = partitions[key], partition.rate != nil else { return .zero }
            let delay = partition.nextFree - Self.seconds(tuning.burst) - time
            guard delay > 0 else { return .zero }
            partition.held = true
            partitions[key] = partition
            return .nanoseconds(Int64(delay * 1e9))
        }
    }

    /// Whether requests to the partition are paced (it was throttled and has not been calm for `release` since).
    package func isPaced(_ key: String) -> Bool { state.withLock { $0[key]?.rate != nil } }

    /// The partition's pace in entities per second, nil while open.
    package func rate(_ key: String) -> Double? { state.withLock { $0[key]?.rate } }

    /// The rate grown for the time the pace held requests back since it last grew.
    private func grown(_ partition: inout Partition, rate: Double, now: Double) -> Double {
        let elapsed = now - partition.lastGrowth
        guard elapsed > 0 else { return rate }
        var next = rate
        if partition.held { next = rate * (1 + tuning.increase * min(elapsed, 1)) }
        partition.rate = next
        partition.lastGrowth = now
        partition.held = false
        return next
    }

    /// Forgets open partitions idle for `release` once more than `keptAbove` are kept (memory stays bounded).
    private func prune(_ partitions: inout [String: Partition], now: Double) {
        guard partitions.count > keptAbove else { return }
        let idle = Self.seconds(tuning.release)
        partitions = partitions.filter { _, partition in partition.rate != nil || now - partition.lastUse < idle }
    }

    static func seconds(_ duration: Duration) -> Double {
        let (whole, attoseconds) = duration.components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}
