import Testing

@testable import VendorDomain

/// `SingleFlight` is generic over its body's error: a leader's failure reaches the leader typed, and its
/// waiters learn that it did not do the shared work.
@Suite struct SingleFlightTests {
    struct Refused: Error, Equatable {}

    @Test func leaderFailureIsTypedAndWaitersHearItDidNotWork() async throws {
        let flight = SingleFlight()
        let entered = await flight.enter("k")
        #expect(entered.leader)
        let waiter = Task { await flight.enter("k") }
        while await flight.waiting("k") == 0 { await Task.yield() }
        await flight.leave("k", worked: false)
        let waited = await waiter.value
        #expect(!waited.leader && !waited.leaderWorked)

        do {
            _ = try await flight.turn("k") { () async throws(Refused) -> Int in throw Refused() }
            Issue.record("the leader's error was swallowed")
        } catch {
            #expect(error == Refused())
        }
        // The failed lead left the key: the next caller leads.
        let next = try await flight.ifLeading("k") { () async throws(Refused) -> Int in 7 }
        #expect(next == 7)
    }
}
