import IPAMCore
import Testing

@testable import VendorDomain

/// Every named transition of the allocation machine, driven with plain values: no storage, no sockets.
@Suite struct AllocationMachineTests {
    typealias Machine = AllocationMachine<String, Int, String>
    typealias Action = Machine.Action

    static let deadline = Duration.seconds(20)

    static func single(pool: Bool = false, quotas: Bool = false) -> Machine {
        Machine(.single(pool: pool, quotas: quotas), deadline: deadline)
    }

    /// A short description of an action, so expectations read as the protocol does.
    static func name(_ action: Action) -> String {
        switch action {
        case .readSession: "readSession"
        case .checkSessionExists: "checkSessionExists"
        case .checkPoolRules(let reading): "checkPoolRules(\(reading))"
        case .readCounters: "readCounters"
        case .startRound: "startRound"
        case .takeStock(let side): "takeStock(\(side))"
        case .readStock(let side, let checking): "readStock(\(side), checkingSession: \(checking))"
        case .carve(let side, let checking, let stockOnly):
            "carve(\(side), checkingSession: \(checking), stockOnly: \(stockOnly))"
        case .claim(let held, let counters):
            "claim(\(held.map(\.block).joined(separator: "+")), counters: \(counters.map(String.init) ?? "nil"))"
        case .backOff(let ceiling): "backOff(\(ceiling))"
        case .pause(let range): "pause(\(range.lowerBound)...\(range.upperBound))"
        case .checkRemainingStock(let side): "checkRemainingStock(\(side))"
        case .answer(let answer): "answer(\(answer))"
        case .refuseExhausted(let side): "refuseExhausted(\(side))"
        case .refuseBusy: "refuseBusy"
        case .refuse(let error): "refuse(\(error.code.rawValue))"
        }
    }

    /// Runs a single-stack machine to its first claim of block `b`.
    static func claiming(_ machine: inout Machine, block: String = "b") {
        #expect(name(machine.start()) == "startRound")
        #expect(name(machine.roundStarts(elapsed: .zero)) == "takeStock(only)")
        #expect(name(machine.stockTaken(block, rowKey: "row-\(block)")) == "claim(\(block), counters: nil)")
    }

    // MARK: The common path

    @Test func stockAtHandIsClaimedAndTheWinIsTheAnswer() {
        var machine = Self.single()
        Self.claiming(&machine)
        machine.commitSent()
        #expect(machine.commitInDoubt)
        #expect(Self.name(machine.committed(.won("lease"))) == "answer(lease)")
        #expect(!machine.commitInDoubt)
        #expect(machine.rounds == 1)
        #expect(machine.takeGiveBack().isEmpty)
    }

    @Test func emptyStockIsReadByItsLeaderWhoChecksTheSessionFirst() {
        var machine = Self.single()
        _ = machine.start()
        _ = machine.roundStarts(elapsed: .zero)
        #expect(Self.name(machine.stockEmpty()) == "readStock(only, checkingSession: true)")
        #expect(Self.name(machine.stockReadLed(replay: nil)) == "takeStock(only)")
        // The session was read: a carve's leader does not read it again.
        #expect(Self.name(machine.stockEmpty()) == "carve(only, checkingSession: false, stockOnly: false)")
    }

    @Test func replayFoundWhileLeadingAStockReadIsTheAnswer() {
        var machine = Self.single()
        _ = machine.start()
        _ = machine.roundStarts(elapsed: .zero)
        _ = machine.stockEmpty()
        #expect(Self.name(machine.stockReadLed(replay: "replayed")) == "answer(replayed)")
    }

    @Test func waiterWhoseLeaderWasAReplayChecksItsOwnSessionThenTakesStock() {
        var machine = Self.single()
        _ = machine.start()
        _ = machine.roundStarts(elapsed: .zero)
        _ = machine.stockEmpty()
        #expect(Self.name(machine.stockReadWaited(leaderWorked: false)) == "readSession")
        #expect(Self.name(machine.sessionRead(nil)) == "takeStock(only)")
        // Checked now: the carve's leader does not read it again.
        #expect(Self.name(machine.stockEmpty()) == "carve(only, checkingSession: false, stockOnly: false)")
    }

    @Test func waiterWhoseLeaderWasAReplayIsAReplayItself() {
        var machine = Self.single()
        _ = machine.start()
        _ = machine.roundStarts(elapsed: .zero)
        _ = machine.stockEmpty()
        _ = machine.stockReadWaited(leaderWorked: false)
        #expect(Self.name(machine.sessionRead("mine")) == "answer(mine)")
    }

    @Test func waiterWhoseLeaderReadStockTakesFromIt() {
        var machine = Self.single()
        _ = machine.start()
        _ = machine.roundStarts(elapsed: .zero)
        _ = machine.stockEmpty()
        #expect(Self.name(machine.stockReadWaited(leaderWorked: true)) == "takeStock(only)")
        // Its session is still unread: the carve's leader reads it first.
        #expect(Self.name(machine.stockEmpty()) == "carve(only, checkingSession: true, stockOnly: false)")
    }

    // MARK: Carving

    @Test func carveLeaderThatFindsAReplayAnswersIt() {
        var machine = Self.single()
        _ = machine.start()
        _ = machine.roundStarts(elapsed: .zero)
        _ = machine.stockEmpty()
        _ = machine.stockReadWaited(leaderWorked: true)
        _ = machine.stockEmpty()
        #expect(Self.name(machine.carveReplayed("replayed")) == "answer(replayed)")
    }

    @Test func carveWaiterLooksAgainNextRound() {
        var machine = Self.carving()
        #expect(Self.name(machine.carveWaited()) == "startRound")
        #expect(Self.name(machine.roundStarts(elapsed: .seconds(1))) == "takeStock(only)")
        #expect(machine.rounds == 2)
    }

    @Test func carveThatLeasesIsTheAnswer() {
        var machine = Self.carving()
        machine.commitSent()
        #expect(Self.name(machine.committed(.won("carved"))) == "answer(carved)")
        #expect(!machine.commitInDoubt)
    }

    @Test func carveThatStockedLooksAgain() {
        var machine = Self.carving()
        machine.commitSent()
        #expect(Self.name(machine.committed(.stocked)) == "startRound")
        #expect(!machine.commitInDoubt)
    }

    @Test func carveLostToAnotherBacksOffLikeAConflict() {
        var machine = Self.carving()
        machine.commitSent()
        #expect(Self.name(machine.committed(.lost(nil))) == "backOff(4)")
        #expect(machine.conflicts == 1)
        #expect(Self.name(machine.paused()) == "startRound")
    }

    @Test func carveThatFindsTheSessionServedReadsTheReplay() {
        var machine = Self.carving()
        machine.commitSent()
        #expect(Self.name(machine.committed(.sessionTaken)) == "readSession")
        #expect(Self.name(machine.sessionRead("mine")) == "answer(mine)")
    }

    @Test func exhaustedWithStockRemainingPausesAndLooksAgain() {
        var machine = Self.carving()
        #expect(Self.name(machine.committed(.exhausted)) == "checkRemainingStock(only)")
        #expect(Self.name(machine.remainingStock(true)) == "pause(5...50)")
        #expect(Self.name(machine.paused()) == "startRound")
    }

    @Test func exhaustedWithNoStockLeftRefuses() {
        var machine = Self.carving()
        #expect(Self.name(machine.committed(.exhausted)) == "checkRemainingStock(only)")
        #expect(Self.name(machine.remainingStock(false)) == "refuseExhausted(only)")
    }

    @Test func aCarveThatSentNoCommitLeavesTheDoubtAlone() {
        var machine = Self.carving()
        #expect(!machine.commitInDoubt)
        _ = machine.committed(.exhausted)
        #expect(!machine.commitInDoubt)
    }

    /// A single-stack machine whose round found no stock, whose read its waiter used, and whose carve is out.
    static func carving() -> Machine {
        var machine = single()
        _ = machine.start()
        _ = machine.roundStarts(elapsed: .zero)
        _ = machine.stockEmpty()
        _ = machine.stockReadLed(replay: nil)
        #expect(name(machine.stockEmpty()) == "carve(only, checkingSession: false, stockOnly: false)")
        return machine
    }

    // MARK: Claims that do not win

    @Test func claimLostLeavesTheBlockOutAndTheBackOffGrows() {
        var machine = Self.single()
        Self.claiming(&machine, block: "a")
        machine.commitSent()
        #expect(Self.name(machine.committed(.lost(nil))) == "backOff(4)")
        #expect(machine.excluded == ["row-a"])
        #expect(machine.takeGiveBack().isEmpty) // someone else holds it
        #expect(!machine.commitInDoubt)
        var ceilings: [Int] = []
        for block in ["b", "c", "d", "e", "f"] {
            _ = machine.paused()
            _ = machine.roundStarts(elapsed: .zero)
            _ = machine.stockTaken(block, rowKey: "row-\(block)")
            machine.commitSent()
            guard case .backOff(let ceiling) = machine.committed(.lost(nil)) else {
                Issue.record("no back-off")
                return
            }
            ceilings.append(ceiling)
        }
        #expect(ceilings == [8, 16, 32, 50, 50])
        #expect(machine.conflicts == 6)
        #expect(machine.excluded.count == 6)
    }

    @Test func claimFindingTheSessionServedGivesTheBlockBackAndReadsTheReplay() {
        var machine = Self.single()
        Self.claiming(&machine)
        machine.commitSent()
        #expect(Self.name(machine.committed(.sessionTaken)) == "readSession")
        #expect(machine.takeGiveBack().map(\.block) == ["b"])
        #expect(machine.takeGiveBack().isEmpty) // taken once
        #expect(Self.name(machine.sessionRead("mine")) == "answer(mine)")
    }

    @Test func sessionTakenButNoReplayLooksAgain() {
        var machine = Self.single()
        Self.claiming(&machine)
        machine.commitSent()
        _ = machine.committed(.sessionTaken)
        #expect(Self.name(machine.sessionRead(nil)) == "startRound")
    }

    @Test func usageChangedGivesTheBlockBackAndReadsTheCountersAgain() {
        var machine = Self.single(pool: true, quotas: true)
        #expect(Self.name(machine.start()) == "readSession")
        #expect(Self.name(machine.sessionRead(nil)) == "checkPoolRules(true)")
        #expect(Self.name(machine.countersRead(3, refusal: nil)) == "startRound")
        _ = machine.roundStarts(elapsed: .zero)
        // Counters at hand: claimed with them, no read.
        #expect(Self.name(machine.stockTaken("a", rowKey: "row-a")) == "claim(a, counters: 3)")
        machine.commitSent()
        #expect(Self.name(machine.committed(.usageChanged)) == "startRound")
        #expect(machine.takeGiveBack().map(\.block) == ["a"])
        #expect(machine.excluded.isEmpty)
        _ = machine.roundStarts(elapsed: .zero)
        #expect(Self.name(machine.stockTaken("a", rowKey: "row-a")) == "readCounters")
        #expect(Self.name(machine.countersRead(4, refusal: nil)) == "claim(a, counters: 4)")
    }

    @Test func overQuotaOnARereadGivesTheBlockBackAndRefuses() {
        var machine = Self.single(pool: true, quotas: true)
        _ = machine.start()
        _ = machine.sessionRead(nil)
        _ = machine.countersRead(3, refusal: nil)
        _ = machine.roundStarts(elapsed: .zero)
        _ = machine.stockTaken("a", rowKey: "row-a")
        machine.commitSent()
        _ = machine.committed(.usageChanged)
        _ = machine.takeGiveBack()
        _ = machine.roundStarts(elapsed: .zero)
        _ = machine.stockTaken("b", rowKey: "row-b")
        let refusal = DomainError.quotaExceeded(pool: "p", .leases(limit: 1, current: 1))
        #expect(Self.name(machine.countersRead(9, refusal: refusal)) == "refuse(QuotaExceeded)")
        #expect(machine.takeGiveBack().map(\.block) == ["b"])
    }

    @Test func poolRequestOverQuotaAtFirstIsRefusedBeforeAnyStock() {
        var machine = Self.single(pool: true, quotas: true)
        _ = machine.start()
        _ = machine.sessionRead(nil)
        let refusal = DomainError.quotaExceeded(pool: "p", .leases(limit: 1, current: 1))
        #expect(Self.name(machine.countersRead(9, refusal: refusal)) == "refuse(QuotaExceeded)")
        #expect(machine.rounds == 0)
    }

    @Test func poolReplayIsAnsweredBeforeItsRules() {
        var machine = Self.single(pool: true, quotas: true)
        #expect(Self.name(machine.start()) == "readSession")
        #expect(Self.name(machine.sessionRead("held")) == "answer(held)")
    }

    @Test func poolWithoutQuotasChecksItsRulesOnly() {
        var machine = Self.single(pool: true)
        _ = machine.start()
        #expect(Self.name(machine.sessionRead(nil)) == "checkPoolRules(false)")
        #expect(Self.name(machine.poolRulesPassed()) == "startRound")
        _ = machine.roundStarts(elapsed: .zero)
        // The session was read first: a stock read's leader does not read it again.
        #expect(Self.name(machine.stockEmpty()) == "readStock(only, checkingSession: false)")
    }

    // MARK: Unknown outcomes

    @Test func outcomeUnknownThenSessionFoundIsAReplayAndNothingGoesBack() {
        var machine = Self.single()
        Self.claiming(&machine)
        machine.commitSent()
        #expect(Self.name(machine.committed(.outcomeUnknown)) == "checkSessionExists")
        #expect(machine.commitInDoubt)
        #expect(Self.name(machine.sessionExists(true)) == "readSession")
        #expect(machine.commitInDoubt) // a lease is held until its replay is read
        #expect(machine.takeGiveBack().isEmpty) // the lost answer may have used the block
        #expect(Self.name(machine.sessionRead("mine")) == "answer(mine)")
    }

    @Test func outcomeUnknownThenNoSessionIsLostAndTheDoubtStays() {
        var machine = Self.single()
        Self.claiming(&machine)
        machine.commitSent()
        _ = machine.committed(.outcomeUnknown)
        #expect(Self.name(machine.sessionExists(false)) == "backOff(4)")
        #expect(machine.excluded == ["row-b"])
        #expect(machine.commitInDoubt)
        // A later failure must not say no lease was made.
        #expect(machine.failed(.busy("x")).outcomeUnknown)
    }

    @Test func doubtStaysThroughLaterKnownLossesAndClearsOnAWin() {
        var machine = Self.single()
        Self.claiming(&machine)
        machine.commitSent()
        _ = machine.committed(.outcomeUnknown)
        _ = machine.sessionExists(false)
        _ = machine.paused()
        _ = machine.roundStarts(elapsed: .zero)
        _ = machine.stockTaken("c", rowKey: "row-c")
        machine.commitSent()
        _ = machine.committed(.lost(nil))
        #expect(machine.commitInDoubt)
        _ = machine.paused()
        _ = machine.roundStarts(elapsed: .zero)
        _ = machine.stockTaken("d", rowKey: "row-d")
        machine.commitSent()
        _ = machine.committed(.won("lease"))
        #expect(!machine.commitInDoubt)
    }

    @Test(
        "a failure after the session was seen (found taken by a claim or carve, or by the check after a lost answer) is OutcomeUnknown, never Busy: the session holds a lease"
    )
    func failureAfterTheSessionWasSeenIsUnknown() {
        var taken = Self.single()
        Self.claiming(&taken)
        taken.commitSent()
        #expect(Self.name(taken.committed(.sessionTaken)) == "readSession")
        // The replay's read is throttled past the deadline.
        #expect(taken.failed(.busy("storage is throttling this scope")).outcomeUnknown)

        var carved = Self.carving()
        carved.commitSent()
        #expect(Self.name(carved.committed(.sessionTaken)) == "readSession")
        #expect(carved.failed(.storageUnavailable("timeout")).outcomeUnknown)

        var found = Self.single()
        Self.claiming(&found)
        found.commitSent()
        _ = found.committed(.outcomeUnknown)
        #expect(Self.name(found.sessionExists(true)) == "readSession")
        #expect(found.failed(.busy("storage is throttling this scope")).outcomeUnknown)

        // Refused whole right after the session was seen: still held, still in doubt.
        var refused = Self.single()
        Self.claiming(&refused)
        refused.commitSent()
        _ = refused.committed(.sessionTaken)
        #expect(Self.name(refused.sessionRead(nil)) == "startRound")
        _ = refused.roundStarts(elapsed: .zero)
        _ = refused.stockTaken("c", rowKey: "row-c")
        refused.commitSent()
        refused.commitNotApplied()
        #expect(refused.failed(.busy("storage is throttling this scope")).outcomeUnknown)
    }

    @Test func carveOutcomeUnknownIsResolvedByTheSessionRow() {
        var found = Self.carving()
        found.commitSent()
        #expect(Self.name(found.committed(.outcomeUnknown)) == "checkSessionExists")
        #expect(Self.name(found.sessionExists(true)) == "readSession")
        var missing = Self.carving()
        missing.commitSent()
        _ = missing.committed(.outcomeUnknown)
        #expect(Self.name(missing.sessionExists(false)) == "backOff(4)")
    }

    @Test func storageFailureDuringACommitIsAnUnknownOutcome() {
        var machine = Self.single()
        Self.claiming(&machine)
        machine.commitSent()
        #expect(machine.failed(.storageUnavailable("timeout")).outcomeUnknown)
    }

    @Test(
        "a commit storage refused whole (throttled past the deadline) is no doubt: the answer is Busy, not OutcomeUnknown"
    )
    func throttledCommitIsNotInDoubt() {
        var machine = Self.single()
        Self.claiming(&machine)
        machine.commitSent()
        machine.commitNotApplied()
        #expect(!machine.commitInDoubt)
        #expect(!machine.failed(.busy("storage is throttling this scope")).outcomeUnknown)
        // An earlier commit whose answer was lost stays in doubt: refusing the next one does not clear it.
        var doubted = Self.single()
        Self.claiming(&doubted)
        doubted.commitSent()
        #expect(Self.name(doubted.committed(.outcomeUnknown)) == "checkSessionExists")
        doubted.commitSent()
        doubted.commitNotApplied()
        #expect(doubted.commitInDoubt)
        #expect(doubted.failed(.busy("storage is throttling this scope")).outcomeUnknown)
    }

    @Test func failureWithoutACommitInDoubtIsWhatItIs() {
        var machine = Self.single()
        _ = machine.start()
        #expect(!machine.failed(.storageUnavailable("timeout")).outcomeUnknown)
        var refused = Self.single()
        Self.claiming(&refused)
        refused.commitSent()
        // Only storage failures and busy are in doubt; a refusal is a refusal.
        #expect(!refused.failed(DomainError.quotaExceeded(pool: "p", .leases(limit: 1, current: 1))).outcomeUnknown)
    }

    // MARK: Deadline and rounds

    @Test func deadlinePassedMakesAFinalReplayCheckThenBusy() {
        var machine = Self.single()
        Self.claiming(&machine)
        machine.commitSent()
        _ = machine.committed(.lost(nil))
        _ = machine.paused()
        #expect(Self.name(machine.roundStarts(elapsed: .seconds(20))) == "readSession")
        #expect(Self.name(machine.sessionRead(nil)) == "refuseBusy")
    }

    @Test func finalReplayCheckCanStillAnswer() {
        var machine = Self.single()
        _ = machine.start()
        #expect(Self.name(machine.roundStarts(elapsed: .seconds(21))) == "readSession")
        #expect(Self.name(machine.sessionRead("earlier")) == "answer(earlier)")
    }

    @Test func atMost128Rounds() {
        var machine = Self.single()
        _ = machine.start()
        for _ in 0..<Machine.maxRounds {
            #expect(Self.name(machine.roundStarts(elapsed: .zero)) == "takeStock(only)")
            _ = machine.stockTaken("x", rowKey: "row-x")
            machine.commitSent()
            _ = machine.committed(.usageChanged)
        }
        #expect(machine.rounds == 128)
        #expect(Self.name(machine.roundStarts(elapsed: .zero)) == "readSession")
        #expect(Self.name(machine.sessionRead(nil)) == "refuseBusy")
    }

    // MARK: Dual-stack

    static func pair() -> Machine { Machine(.pair, deadline: deadline) }

    /// A pair machine after its replay check, at the start of a round.
    static func pairRound() -> Machine {
        var machine = pair()
        #expect(name(machine.start()) == "readSession")
        #expect(name(machine.sessionRead(nil)) == "startRound")
        #expect(name(machine.roundStarts(elapsed: .zero)) == "takeStock(v4)")
        return machine
    }

    @Test func pairReplayIsAnsweredFirst() {
        var machine = Self.pair()
        _ = machine.start()
        #expect(Self.name(machine.sessionRead("pair")) == "answer(pair)")
    }

    @Test func pairTakesIPv4ThenIPv6AndClaimsBoth() {
        var machine = Self.pairRound()
        #expect(Self.name(machine.stockTaken("a4", rowKey: "row-a4")) == "takeStock(v6)")
        #expect(Self.name(machine.stockTaken("a6", rowKey: "row-a6")) == "claim(a4+a6, counters: nil)")
        machine.commitSent()
        #expect(Self.name(machine.committed(.won("pair"))) == "answer(pair)")
    }

    @Test func pairReadsAndCarvesStockOnlyWithoutSessionChecks() {
        var machine = Self.pairRound()
        _ = machine.stockTaken("a4", rowKey: "row-a4")
        #expect(Self.name(machine.stockEmpty()) == "readStock(v6, checkingSession: false)")
        // Its leader's failure is no replay: the waiter takes stock, no session read.
        #expect(Self.name(machine.stockReadWaited(leaderWorked: false)) == "takeStock(v6)")
        #expect(Self.name(machine.stockEmpty()) == "carve(v6, checkingSession: false, stockOnly: true)")
        machine.commitSent()
        #expect(Self.name(machine.committed(.stocked)) == "takeStock(v6)")
        #expect(Self.name(machine.stockTaken("a6", rowKey: "row-a6")) == "claim(a4+a6, counters: nil)")
    }

    @Test func pairOneSideLostLeavesItOutAndGivesTheOtherBack() {
        var machine = Self.pairRound()
        _ = machine.stockTaken("a4", rowKey: "row-a4")
        _ = machine.stockTaken("a6", rowKey: "row-a6")
        machine.commitSent()
        #expect(Self.name(machine.committed(.lost(.v4))) == "backOff(4)")
        #expect(machine.excluded == ["row-a4"])
        #expect(machine.takeGiveBack().map(\.block) == ["a6"])
        _ = machine.paused()
        _ = machine.roundStarts(elapsed: .zero)
        _ = machine.stockTaken("b4", rowKey: "row-b4")
        _ = machine.stockTaken("b6", rowKey: "row-b6")
        machine.commitSent()
        _ = machine.committed(.lost(.v6))
        #expect(machine.excluded == ["row-a4", "row-b6"])
        #expect(machine.takeGiveBack().map(\.block) == ["b4"])
    }

    @Test func pairLostWithoutASideLeavesBothOut() {
        var machine = Self.pairRound()
        _ = machine.stockTaken("a4", rowKey: "row-a4")
        _ = machine.stockTaken("a6", rowKey: "row-a6")
        machine.commitSent()
        _ = machine.committed(.lost(nil))
        #expect(machine.excluded == ["row-a4", "row-a6"])
        #expect(machine.takeGiveBack().isEmpty)
    }

    @Test func pairSessionTakenGivesBothBackUnlessDoubted() {
        var machine = Self.pairRound()
        _ = machine.stockTaken("a4", rowKey: "row-a4")
        _ = machine.stockTaken("a6", rowKey: "row-a6")
        machine.commitSent()
        #expect(Self.name(machine.committed(.sessionTaken)) == "readSession")
        #expect(machine.takeGiveBack().map(\.block) == ["a4", "a6"])
        var doubted = Self.pairRound()
        _ = doubted.stockTaken("a4", rowKey: "row-a4")
        _ = doubted.stockTaken("a6", rowKey: "row-a6")
        doubted.commitSent()
        _ = doubted.committed(.outcomeUnknown)
        #expect(Self.name(doubted.sessionExists(true)) == "readSession")
        #expect(doubted.takeGiveBack().isEmpty)
    }

    @Test func pairIPv6SideWithNothingAtHandGivesTheIPv4BlockBack() {
        var waited = Self.pairRound()
        _ = waited.stockTaken("a4", rowKey: "row-a4")
        _ = waited.stockEmpty()
        _ = waited.stockReadWaited(leaderWorked: true)
        _ = waited.stockEmpty()
        #expect(Self.name(waited.carveWaited()) == "startRound")
        #expect(waited.takeGiveBack().map(\.block) == ["a4"])

        var lostCarve = Self.pairRound()
        _ = lostCarve.stockTaken("a4", rowKey: "row-a4")
        _ = lostCarve.stockEmpty()
        _ = lostCarve.stockReadLed(replay: nil)
        _ = lostCarve.stockEmpty()
        lostCarve.commitSent()
        // Another process carved first: a short pause, no conflict counted.
        #expect(Self.name(lostCarve.committed(.lost(nil))) == "pause(1...20)")
        #expect(lostCarve.conflicts == 0)
        #expect(lostCarve.takeGiveBack().map(\.block) == ["a4"])

        var emptied = Self.pairRound()
        _ = emptied.stockTaken("a4", rowKey: "row-a4")
        _ = emptied.stockEmpty()
        _ = emptied.stockReadLed(replay: nil)
        _ = emptied.stockEmpty()
        emptied.commitSent()
        _ = emptied.committed(.stocked)
        // Others took what the carve stocked: the next round.
        #expect(Self.name(emptied.stockEmpty()) == "startRound")
        #expect(emptied.takeGiveBack().map(\.block) == ["a4"])
    }

    @Test func pairIPv6ExhaustedRefusesAndGivesTheIPv4BlockBack() {
        var machine = Self.pairRound()
        _ = machine.stockTaken("a4", rowKey: "row-a4")
        _ = machine.stockEmpty()
        _ = machine.stockReadLed(replay: nil)
        _ = machine.stockEmpty()
        #expect(Self.name(machine.committed(.exhausted)) == "checkRemainingStock(v6)")
        #expect(Self.name(machine.remainingStock(false)) == "refuseExhausted(v6)")
        #expect(machine.takeGiveBack().map(\.block) == ["a4"])
    }

    @Test func pairFailureWhileAcquiringIPv6GivesTheIPv4BlockBack() {
        var machine = Self.pairRound()
        _ = machine.stockTaken("a4", rowKey: "row-a4")
        _ = machine.stockEmpty()
        let failure = machine.failed(.storageUnavailable("timeout"))
        #expect(failure.giveBack.map(\.block) == ["a4"])
        #expect(!failure.outcomeUnknown)
    }

    @Test func pairDeadlineMakesTheFinalReplayCheck() {
        var machine = Self.pair()
        _ = machine.start()
        _ = machine.sessionRead(nil)
        #expect(Self.name(machine.roundStarts(elapsed: .seconds(30))) == "readSession")
        #expect(Self.name(machine.sessionRead(nil)) == "refuseBusy")
    }
}
