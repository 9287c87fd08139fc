import Synchronization
import TableEmulator
import Testing

/// A clock the test moves by hand.
private final class HandClock: Sendable {
    private let seconds = Mutex(0.0)
    func advance(_ by: Double) { seconds.withLock { $0 += by } }
    var now: Double { seconds.withLock { $0 } }
}

private func targets(partition: Int, account: Int, clock: HandClock, prunedAbove: Int = 10_000) -> ScalabilityTargets {
    ScalabilityTargets(
        rates: .init(partitionEntitiesPerSecond: partition, accountEntitiesPerSecond: account),
        prunedAbove: prunedAbove,
        now: { clock.now })
}

private func write(_ pk: String, _ entities: Int = 1, table: String = "t") -> [ScalabilityTargets.Charge] {
    [ScalabilityTargets.Charge(table: table, partitionKey: pk, entities: entities)]
}

@Suite struct ScalabilityTargetsTests {
    @Test func aPartitionTakesOneSecondsBudgetThenItsRate() {
        let clock = HandClock()
        let limits = targets(partition: 8, account: 1_000, clock: clock)
        for _ in 0..<8 { #expect(limits.admit(account: "a", charges: write("p"), accountEntities: 1) == nil) }
        #expect(limits.admit(account: "a", charges: write("p"), accountEntities: 1) == .partition)
        clock.advance(0.125) // one entity's worth at 8/s
        #expect(limits.admit(account: "a", charges: write("p"), accountEntities: 1) == nil)
        #expect(limits.admit(account: "a", charges: write("p"), accountEntities: 1) == .partition)
        // A steady 8/s passes for a minute and a quarter; 9/s gets 8/s through.
        var refused = 0
        for _ in 0..<600 {
            clock.advance(0.125)
            if limits.admit(account: "a", charges: write("p"), accountEntities: 1) != nil { refused += 1 }
        }
        #expect(refused == 0)
        var admitted = 0
        for _ in 0..<675 {
            clock.advance(1.0 / 9)
            if limits.admit(account: "a", charges: write("p"), accountEntities: 1) == nil { admitted += 1 }
        }
        #expect((599...600).contains(admitted)) // 75 s at 8/s
    }

    @Test func partitionsAreSeparateButShareTheAccount() {
        let clock = HandClock()
        let limits = targets(partition: 10, account: 25, clock: clock)
        for _ in 0..<10 { #expect(limits.admit(account: "a", charges: write("p1"), accountEntities: 1) == nil) }
        #expect(limits.admit(account: "a", charges: write("p1"), accountEntities: 1) == .partition)
        for _ in 0..<10 { #expect(limits.admit(account: "a", charges: write("p2"), accountEntities: 1) == nil) }
        // The same partition key in another table is another partition; table names are case-insensitive.
        for _ in 0..<5 {
            #expect(limits.admit(account: "a", charges: write("p1", table: "Other"), accountEntities: 1) == nil)
        }
        #expect(limits.admit(account: "a", charges: write("p1", table: "other"), accountEntities: 1) == .account)
        // Another account has its own budget.
        #expect(limits.admit(account: "b", charges: write("p1"), accountEntities: 1) == nil)
    }

    @Test func aRefusedRequestChargesNothing() {
        let clock = HandClock()
        let limits = targets(partition: 100, account: 1_000, clock: clock)
        #expect(limits.admit(account: "a", charges: write("p", 60), accountEntities: 60) == nil)
        // 60 more do not fit in the 40 left: refused whole, nothing taken.
        #expect(limits.admit(account: "a", charges: write("p", 60), accountEntities: 60) == .partition)
        #expect(limits.admit(account: "a", charges: write("p", 40), accountEntities: 40) == nil)
        #expect(limits.admit(account: "a", charges: write("p"), accountEntities: 1) == .partition)
        // A request over two partitions is refused whole when either cannot cover it.
        let both = write("q", 5) + write("p", 5)
        #expect(limits.admit(account: "a", charges: both, accountEntities: 10) == .partition)
        #expect(limits.admit(account: "a", charges: write("q", 100), accountEntities: 100) == nil)
    }

    @Test func aRequestLargerThanTheBudgetPassesOnAFullBucketAndLeavesDebt() {
        let clock = HandClock()
        let limits = targets(partition: 100, account: 10_000, clock: clock)
        #expect(limits.admit(account: "a", charges: write("p", 1_000), accountEntities: 1_000) == nil)
        clock.advance(5) // 500 of the 900 owed
        #expect(limits.admit(account: "a", charges: write("p"), accountEntities: 1) == .partition)
        clock.advance(5)
        #expect(limits.admit(account: "a", charges: write("p"), accountEntities: 1) == nil)
    }

    @Test func idleBucketsArePrunedWithoutForgettingBusyOnes() {
        let clock = HandClock()
        let limits = targets(partition: 10, account: 1_000_000, clock: clock, prunedAbove: 50)
        for index in 0..<200 { _ = limits.admit(account: "a", charges: write("idle\(index)"), accountEntities: 1) }
        #expect(limits.trackedPartitions == 200)
        clock.advance(1) // every idle bucket full again
        for _ in 0..<10 { #expect(limits.admit(account: "a", charges: write("busy"), accountEntities: 1) == nil) }
        #expect(limits.trackedPartitions == 1)
        // The busy partition is still spent: pruning dropped only full buckets, which equal no bucket.
        #expect(limits.admit(account: "a", charges: write("busy"), accountEntities: 1) == .partition)
    }

    @Test func theAnswerIsAzures() {
        #expect(ScalabilityTargets.Refusal.partition.error.status == 503)
        #expect(ScalabilityTargets.Refusal.partition.error.code == "ServerBusy")
        #expect(ScalabilityTargets.Refusal.account.error.code == "ServerBusy")
        #expect(ScalabilityTargets.Refusal.account.error.message == "Operations per second is over the account limit.")
    }
}
