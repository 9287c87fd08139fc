import IPAMCore

/// The allocation of one `getNewNetwork` (one block, or a dual-stack pair) as a state machine: events in,
/// actions out, no I/O (docs/Design.md, "The claim").
///
/// `VendorService.allocate` drives it: it runs each action (storage, the process's caches and single flights,
/// sleeps) and feeds the result back as the matching event. Every decision lives here: when the session row is
/// read (a replay found while leading a stock read or a carve, a waiter whose leader was a replay, after a
/// session-taken claim, after a lost answer, before answering busy), which blocks are left out or given back,
/// how the pause after a conflict grows, when quota counters are read again, the deadline and the 128 rounds,
/// and when an empty space is truly exhausted. Single- and dual-stack requests share it; a pair acquires its
/// IPv4 block, then its IPv6 block, and claims both at once.
///
/// Generic over what it only passes along: `Block` (a block taken from stock), `Counters` (quota counters read)
/// and `Answer` (a replay's or a won claim's answer), so tests drive it with plain values.
package struct AllocationMachine<Block: Sendable, Counters: Sendable, Answer: Sendable>: Sendable {
    /// Which stock a block comes from: the request's only one, or a side of a dual-stack pair.
    package enum Side: Sendable, Hashable { case only, v4, v6 }

    /// What is allocated.
    package enum Shape: Sendable, Equatable {
        /// One block. `pool`: its rules are checked after the replay check; `quotas`: it counts in quota
        /// counters, read before the first claim and again after they changed.
        case single(pool: Bool, quotas: Bool)
        /// An IPv4 and an IPv6 block, claimed in one transaction.
        case pair
    }

    /// A block this request holds, with the stock it came from.
    package struct Held: Sendable {
        package let side: Side
        package let block: Block
        /// The block's row key (what a lost claim leaves out).
        package let rowKey: String
        package init(_ side: Side, _ block: Block, rowKey: String) {
            self.side = side
            self.block = block
            self.rowKey = rowKey
        }
    }

    /// What the driver does next.
    package enum Action: Sendable {
        /// Read the session row (a replay's answer or none): feed `sessionRead(_:)`.
        case readSession
        /// After a lost answer, read whether the session row exists (only that): feed `sessionExists(_:)`.
        case checkSessionExists
        /// Check the pool's rules (throwing their refusal); then read the quota counters and feed
        /// `countersRead(_:refusal:)` when `readingCounters`, else feed `poolRulesPassed()`.
        case checkPoolRules(readingCounters: Bool)
        /// Read the quota counters: feed `countersRead(_:refusal:)`.
        case readCounters
        /// A new round: feed `roundStarts(elapsed:)` with the time spent so far.
        case startRound
        /// Take a block of `side` from this process's stock (no storage): feed `stockTaken` or `stockEmpty`.
        case takeStock(Side)
        /// Lead one read of `side`'s stock or wait for the leader (the leader reads the session row first when
        /// `checkingSession`): feed `stockReadLed(replay:)` or `stockReadWaited(leaderWorked:)`.
        case readStock(Side, checkingSession: Bool)
        /// Lead one carve for `side` or wait for the leader (the leader reads the session row first when
        /// `checkingSession`; `stockOnly`: stock alone, no lease): feed `carveWaited()`, `carveReplayed(_:)` or
        /// `committed(_:)`.
        case carve(Side, checkingSession: Bool, stockOnly: Bool)
        /// Claim `blocks` (one, or IPv4 then IPv6) in one transaction, with the counters when quotas apply:
        /// feed `committed(_:)`.
        case claim([Held], counters: Counters?)
        /// Count a conflict and pause up to `ceilingMilliseconds` (jittered), then feed `paused()`.
        case backOff(ceilingMilliseconds: Int)
        /// Pause a jittered while within `milliseconds` (someone else moves the stock), then feed `paused()`.
        case pause(milliseconds: ClosedRange<Int>)
        /// Read whether any stock of `side` remains in storage (one row): feed `remainingStock(_:)`.
        case checkRemainingStock(Side)
        /// Answer with a replay's or a won claim's answer.
        case answer(Answer)
        /// Refuse: the space of `side` has no block of the size left.
        case refuseExhausted(Side)
        /// Refuse: no block claimed within the deadline or the rounds.
        case refuseBusy
        /// Refuse with what the pool's quota said.
        case refuse(DomainError)
    }

    /// How a claim or carve transaction ended.
    package enum Commit: Sendable {
        case won(Answer)
        /// Someone else took the block first (for a pair: the side storage named, nil when it did not say).
        case lost(Side?)
        /// The SessionId is already served: nothing was written.
        case sessionTaken
        /// A quota counter changed meanwhile: nothing was written.
        case usageChanged
        /// The carve added stock and leased nothing.
        case stocked
        /// The carve found no room.
        case exhausted
        /// The answer was lost: it may have committed.
        case outcomeUnknown
    }

    /// Where the machine stands.
    private enum State {
        /// Nothing asked yet.
        case idle
        /// The session row is being read, and why.
        case readingSession(SessionRead)
        /// The pool's rules are checked (and counters read, for the first time).
        case checkingPoolRules
        /// Quota counters are read before claiming `held`.
        case readingCounters(Held)
        /// Waiting for the clock at the start of a round.
        case startingRound
        /// Taking stock of `side` (`attempt`: 1 before a read, 2 after it, 3 after a carve stocked), `acquired`:
        /// the blocks of the pair held already.
        case taking(Side, attempt: Int, acquired: [Held])
        /// A stock read of `side` is led or waited for.
        case readingStock(Side, acquired: [Held])
        /// A carve for `side` is led or waited for.
        case carving(Side, acquired: [Held])
        /// Storage is asked whether stock of `side` remains (after a carve found no room).
        case checkingRemaining(Side, acquired: [Held])
        /// The claim of `blocks` is out.
        case claiming([Held])
        /// After a lost answer, whether the session row exists is read.
        case resolvingUnknown(Doubted)
        /// A pause is out; then a new round.
        case pausing
        /// Answered or refused.
        case finished
    }

    private enum SessionRead {
        /// The replay check before anything else (pool requests, pairs).
        case first
        /// A waiter whose stock-read leader was a replay checks its own session, then takes stock again.
        case waiterAfterReplayLeader(Side)
        /// A claim or carve found the SessionId served: the replay is read.
        case afterSessionTaken
        /// The last look before answering busy.
        case beforeBusy
    }

    /// What sent a commit whose answer was lost.
    private enum Doubted {
        case claim([Held])
        case carve(Side, acquired: [Held])
    }

    private var state: State = .idle
    package let shape: Shape
    package let deadline: Duration
    /// Rounds of the loop (each: stock, maybe a read or a carve, maybe a claim).
    package private(set) var rounds = 0
    /// Claims this request lost (the pause after each grows with them).
    package private(set) var conflicts = 0
    /// A failure now must not say the lease was not made: a commit is out, a commit's answer was lost, or the
    /// session row is known to exist (a claim or carve found it taken, or the check after a lost answer found it)
    /// and its lease was not read yet. Only a win clears it (a replay read is the answer itself): a storage failure
    /// or throttled read after the session was seen is `OutcomeUnknown`, never `Busy`, since a lease is held.
    package private(set) var commitInDoubt = false
    /// `commitInDoubt` before the commit now out (nil: none is out).
    private var doubtBeforeCommit: Bool?
    /// Blocks to give back to the process's stock before the next action: nothing was written with them.
    private var giveBack: [Held] = []
    /// The session row was read once (a replay is answered before any stock is used).
    private var sessionChecked = false
    /// Blocks a claim lost (not taken from stock again by this request's reads).
    package private(set) var excluded: Set<String> = []
    /// Quota counters as last read (nil: to be read before the next claim).
    private var counters: Counters?

    /// At most this many rounds, whatever the deadline.
    package static var maxRounds: Int { 128 }

    package init(_ shape: Shape, deadline: Duration) {
        self.shape = shape
        self.deadline = deadline
    }

    // MARK: Events

    /// The first action.
    package mutating func start() -> Action {
        guard case .idle = state else { preconditionFailure("started twice") }
        switch shape {
        case .single(pool: false, _):
            state = .startingRound
            return .startRound
        case .single(pool: true, _), .pair:
            state = .readingSession(.first)
            return .readSession
        }
    }

    /// The session row was read: `replay` is the answer it gives, nil when the SessionId is new.
    package mutating func sessionRead(_ replay: Answer?) -> Action {
        guard case .readingSession(let purpose) = state else { preconditionFailure("no session read out") }
        sessionChecked = true
        if let replay { return finish(.answer(replay)) }
        switch purpose {
        case .first:
            if case .single(pool: true, let quotas) = shape {
                state = .checkingPoolRules
                return .checkPoolRules(readingCounters: quotas)
            }
            return nextRound()
        case .waiterAfterReplayLeader(let side):
            state = .taking(side, attempt: 2, acquired: [])
            return .takeStock(side)
        case .afterSessionTaken:
            return nextRound()
        case .beforeBusy:
            return finish(.refuseBusy)
        }
    }

    /// The pool's rules passed and it has no quotas to read.
    package mutating func poolRulesPassed() -> Action {
        guard case .checkingPoolRules = state else { preconditionFailure("no pool check out") }
        return nextRound()
    }

    /// Quota counters were read; `refusal`: the request does not fit them.
    package mutating func countersRead(_ read: Counters, refusal: DomainError?) -> Action {
        switch state {
        case .checkingPoolRules:
            if let refusal { return finish(.refuse(refusal)) }
            counters = read
            return nextRound()
        case .readingCounters(let held):
            if let refusal { return finish(.refuse(refusal), giveBack: [held]) }
            counters = read
            state = .claiming([held])
            return .claim([held], counters: read)
        default:
            preconditionFailure("no counters read out")
        }
    }

    /// A round starts after `elapsed` spent on this request.
    package mutating func roundStarts(elapsed: Duration) -> Action {
        guard case .startingRound = state else { preconditionFailure("no round starting") }
        guard elapsed < deadline, rounds < Self.maxRounds else {
            // Before saying busy: no earlier attempt (here, or on a Vendor that died) holds a block for the session.
            state = .readingSession(.beforeBusy)
            return .readSession
        }
        rounds += 1
        let side = firstSide
        state = .taking(side, attempt: 1, acquired: [])
        return .takeStock(side)
    }

    /// The process's stock gave `block` (its row `rowKey`).
    package mutating func stockTaken(_ block: Block, rowKey: String) -> Action {
        guard case .taking(let side, _, let acquired) = state else { preconditionFailure("no stock taken") }
        let held = acquired + [Held(side, block, rowKey: rowKey)]
        if side == .v4 {
            state = .taking(.v6, attempt: 1, acquired: held)
            return .takeStock(.v6)
        }
        if case .single(_, quotas: true) = shape, counters == nil {
            state = .readingCounters(held[0])
            return .readCounters
        }
        state = .claiming(held)
        return .claim(held, counters: counters)
    }

    /// The process's stock had no block.
    package mutating func stockEmpty() -> Action {
        guard case .taking(let side, let attempt, let acquired) = state else { preconditionFailure("no stock taken") }
        switch attempt {
        case 1:
            state = .readingStock(side, acquired: acquired)
            return .readStock(side, checkingSession: !sessionChecked)
        case 2:
            state = .carving(side, acquired: acquired)
            return .carve(side, checkingSession: !sessionChecked, stockOnly: shape == .pair)
        default:
            // A carve stocked and others took it all meanwhile: look again.
            return nextRound(giveBack: acquired)
        }
    }

    /// This request led the stock read; `replay`: the session row it read first answered the request.
    package mutating func stockReadLed(replay: Answer?) -> Action {
        guard case .readingStock(let side, let acquired) = state else { preconditionFailure("no stock read out") }
        if !sessionChecked { sessionChecked = true }
        if let replay { return finish(.answer(replay), giveBack: acquired) }
        state = .taking(side, attempt: 2, acquired: acquired)
        return .takeStock(side)
    }

    /// Another request led the stock read; `leaderWorked`: it read stock (not a replay, no failure).
    package mutating func stockReadWaited(leaderWorked: Bool) -> Action {
        guard case .readingStock(let side, let acquired) = state else { preconditionFailure("no stock read out") }
        if !leaderWorked, !sessionChecked {
            // The leader was a replay and read no stock: check this session now, beside the other waiters,
            // instead of queueing for the next lead one by one (a replay storm after a restart).
            state = .readingSession(.waiterAfterReplayLeader(side))
            return .readSession
        }
        state = .taking(side, attempt: 2, acquired: acquired)
        return .takeStock(side)
    }

    /// Another request of this process led the carve (and stocked): look again.
    package mutating func carveWaited() -> Action {
        guard case .carving(_, let acquired) = state else { preconditionFailure("no carve out") }
        return nextRound(giveBack: acquired)
    }

    /// This request led the carve, and the session row it read first answered the request.
    package mutating func carveReplayed(_ replay: Answer) -> Action {
        guard case .carving(_, let acquired) = state else { preconditionFailure("no carve out") }
        sessionChecked = true
        return finish(.answer(replay), giveBack: acquired)
    }

    /// A claim or carve transaction is about to be sent: until its outcome is known, a failure may hide a lease.
    package mutating func commitSent() {
        doubtBeforeCommit = commitInDoubt
        commitInDoubt = true
    }

    /// The commit now out was certainly not applied: storage refused it whole (throttled past the request's
    /// deadline), so the doubt is what it was before it was sent. The driver then ends the request (busy).
    package mutating func commitNotApplied() {
        guard let before = doubtBeforeCommit else { return }
        commitInDoubt = before
        doubtBeforeCommit = nil
    }

    /// The claim or carve ended with `outcome` (a carve that found no room sends no commit).
    package mutating func committed(_ outcome: Commit) -> Action {
        if let before = doubtBeforeCommit {
            switch outcome {
            case .outcomeUnknown: break // stays in doubt until a win
            case .sessionTaken: break // the session holds a lease: in doubt until its replay is read
            case .won: commitInDoubt = false
            default: commitInDoubt = before
            }
            doubtBeforeCommit = nil
        }
        switch state {
        case .claiming(let held): return claimEnded(outcome, held: held, doubted: false)
        case .carving(let side, let acquired): return carveEnded(outcome, side: side, acquired: acquired)
        default: preconditionFailure("no commit out")
        }
    }

    /// After a lost answer: whether the session row exists, i.e. whether the commit (or an earlier one) made it.
    package mutating func sessionExists(_ exists: Bool) -> Action {
        guard case .resolvingUnknown(let doubted) = state else { preconditionFailure("no session check out") }
        switch doubted {
        case .claim(let held):
            // Not committed: as lost, and a later claim's session insert guards against a late commit.
            return exists ? claimEnded(.sessionTaken, held: held, doubted: true) : lost(held, side: nil)
        case .carve(let side, let acquired):
            return carveEnded(exists ? .sessionTaken : .lost(nil), side: side, acquired: acquired)
        }
    }

    /// A pause (after a conflict or while stock moves) is over.
    package mutating func paused() -> Action {
        guard case .pausing = state else { preconditionFailure("no pause out") }
        return nextRound()
    }

    /// Storage said whether stock of the side remains after a carve found no room.
    package mutating func remainingStock(_ any: Bool) -> Action {
        guard case .checkingRemaining(let side, let acquired) = state else { preconditionFailure("no check out") }
        // Stock may still exist (claims in flight elsewhere may fail and leave it): only an empty stock index
        // means the space is out of blocks of this size.
        guard any else { return finish(.refuseExhausted(side), giveBack: acquired) }
        return pause(5...50, giveBack: acquired)
    }

    /// Blocks to give back to the process's stock before running the action just returned (nothing was written
    /// with them); taking them clears them.
    package mutating func takeGiveBack() -> [Held] {
        defer { giveBack = [] }
        return giveBack
    }

    /// A failure (storage, busy) ended the allocation: `outcomeUnknown` when a commit's outcome is in doubt (the
    /// caller must not hear that no lease was made); `giveBack`: blocks a pair held while acquiring its other side.
    package mutating func failed(_ error: DomainError) -> (outcomeUnknown: Bool, giveBack: [Held]) {
        var back: [Held] = []
        switch state {
        case .taking(_, _, let acquired), .readingStock(_, let acquired), .carving(_, let acquired),
            .checkingRemaining(_, let acquired):
            back = acquired
        default: break
        }
        state = .finished
        giveBack = []
        switch error {
        case .storageUnavailable, .busy: return (commitInDoubt, back)
        default: return (false, back)
        }
    }

    // MARK: Transitions

    private var firstSide: Side { shape == .pair ? .v4 : .only }

    private mutating func nextRound(giveBack blocks: [Held] = []) -> Action {
        giveBack = blocks
        state = .startingRound
        return .startRound
    }

    private mutating func finish(_ action: Action, giveBack blocks: [Held] = []) -> Action {
        giveBack = blocks
        state = .finished
        return action
    }

    private mutating func pause(_ milliseconds: ClosedRange<Int>, giveBack blocks: [Held] = []) -> Action {
        giveBack = blocks
        state = .pausing
        return .pause(milliseconds: milliseconds)
    }

    private mutating func claimEnded(_ outcome: Commit, held: [Held], doubted: Bool) -> Action {
        switch outcome {
        case .won(let answer):
            return finish(.answer(answer))
        case .lost(let side):
            return lost(held, side: side)
        case .sessionTaken:
            // Nothing was written: the blocks are still free (unless a lost answer may have used them).
            giveBack = doubted ? [] : held
            state = .readingSession(.afterSessionTaken)
            return .readSession
        case .usageChanged:
            // Another lease of the requester committed: read its quota again.
            counters = nil
            return nextRound(giveBack: held)
        case .outcomeUnknown:
            state = .resolvingUnknown(.claim(held))
            return .checkSessionExists
        case .stocked, .exhausted:
            preconditionFailure("a claim does not carve")
        }
    }

    /// A claim lost: the block someone else took is left out, the other of a pair goes back; without a side
    /// (or after an unknown outcome) all are left out. Then a pause that grows with the conflicts.
    private mutating func lost(_ held: [Held], side: Side?) -> Action {
        var back: [Held] = []
        for block in held {
            if let side, held.count > 1, block.side != side {
                back.append(block)
            } else {
                excluded.insert(block.rowKey)
            }
        }
        conflicts += 1
        giveBack = back
        state = .pausing
        return .backOff(ceilingMilliseconds: min(50, 2 << min(conflicts, 5)))
    }

    private mutating func carveEnded(_ outcome: Commit, side: Side, acquired: [Held]) -> Action {
        switch outcome {
        case .won(let answer):
            return finish(.answer(answer), giveBack: acquired)
        case .stocked where shape == .pair:
            state = .taking(side, attempt: 3, acquired: acquired)
            return .takeStock(side)
        case .stocked, .usageChanged:
            return nextRound(giveBack: acquired)
        case .exhausted:
            state = .checkingRemaining(side, acquired: acquired)
            return .checkRemainingStock(side)
        case .lost where shape == .pair:
            // Another process carved first: its stock is there to read.
            return pause(1...20, giveBack: acquired)
        case .lost:
            conflicts += 1
            state = .pausing
            return .backOff(ceilingMilliseconds: min(50, 2 << min(conflicts, 5)))
        case .sessionTaken where shape == .pair:
            return nextRound(giveBack: acquired)
        case .sessionTaken:
            state = .readingSession(.afterSessionTaken)
            return .readSession
        case .outcomeUnknown:
            state = .resolvingUnknown(.carve(side, acquired: acquired))
            return .checkSessionExists
        }
    }
}
