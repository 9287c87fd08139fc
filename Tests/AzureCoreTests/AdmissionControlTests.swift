import AzureCore
import Foundation
import Synchronization
import TableEmulator
import Testing

/// The per-partition admission control on simulated time: no test waits for, or measures, the wall clock.
@Suite("Admission control per partition (AIMD)")
struct AdmissionControlTests {
    static func at(_ seconds: Double) -> Duration { .nanoseconds(Int64(seconds * 1e9)) }
    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    @Test("an open partition never waits and never refuses, whatever the limit")
    func openPartition() {
        let control = AdmissionControl()
        for index in 0..<10_000 {
            let turn = control.take(.init(key: "t/p", entities: 100), now: Self.at(Double(index) * 0.001), limit: .zero)
            #expect(turn?.delay == .zero)
        }
        #expect(!control.isPaced("t/p"))
        #expect(control.untilReady("t/p", now: Self.at(10)) == .zero)
    }

    @Test("after a throttled answer, callers go in turn: each waits for the ones before it, never longer")
    func turnsInOrder() throws {
        let control = AdmissionControl(tuning: .init(decrease: 0.5, burst: .zero))
        // 2,000 entities in the last second, then storage says busy.
        for index in 0..<500 { _ = control.take(.init(key: "t/p", entities: 4), now: Self.at(Double(index) * 0.002)) }
        let first = try #require(control.take(.init(key: "t/p", entities: 4), now: Self.at(1.0)))
        control.throttled("t/p", turn: first, now: Self.at(1.0))
        let rate = try #require(control.rate("t/p"))
        #expect(rate >= 900 && rate <= 1_100, "half of what was sent: \(rate)")
        // 50 callers at the same moment: turns 4 entities ÷ rate apart, in arrival order, none skipped.
        var delays: [Double] = []
        for _ in 0..<50 {
            let turn = try #require(control.take(.init(key: "t/p", entities: 4), now: Self.at(1.0)))
            delays.append(Self.seconds(turn.delay))
        }
        for (earlier, later) in zip(delays, delays.dropFirst()) {
            #expect(later > earlier)
            #expect(abs(later - earlier - 4 / rate) < 1e-6)
        }
        #expect(delays.last! <= 50 * 4 / rate + 1e-6, "no turn further away than the queue ahead of it")
    }

    @Test("a turn past the caller's limit is refused and takes nothing from the callers behind it")
    func limitRefusesWithoutTaking() throws {
        let control = AdmissionControl(tuning: .init(decrease: 0.5, minimumRate: 100, burst: .zero))
        let first = try #require(control.take(.init(key: "k", entities: 1), now: .zero))
        control.throttled("k", turn: first, now: .zero)
        #expect(control.rate("k") == 100)
        let a = try #require(control.take(.init(key: "k", entities: 50), now: .zero, limit: .seconds(1)))
        #expect(a.delay == .zero)
        // The partition is now half a second ahead: a 100-entity request with 0.2 s left does not fit…
        #expect(control.take(.init(key: "k", entities: 100), now: .zero, limit: .milliseconds(200)) == nil)
        // …and the next caller's turn is exactly where it would have been without it.
        let b = try #require(control.take(.init(key: "k", entities: 1), now: .zero, limit: .seconds(1)))
        #expect(abs(Self.seconds(b.delay) - 0.5) < 1e-6)
    }

    @Test("answers to turns taken before the last cut do not cut again; the pace never falls below the minimum")
    func oneCutPerPace() throws {
        let control = AdmissionControl(tuning: .init(decrease: 0.5, minimumRate: 20))
        for index in 0..<100 { _ = control.take(.init(key: "k", entities: 10), now: Self.at(Double(index) * 0.01)) }
        let turns = (0..<20).compactMap { _ in control.take(.init(key: "k", entities: 10), now: Self.at(1)) }
        for turn in turns { control.throttled("k", turn: turn, now: Self.at(1.01)) }
        let once = try #require(control.rate("k"))
        #expect(once >= 450 && once <= 650, "one cut for twenty throttled answers of one pace: \(once)")
        for step in 0..<40 {
            let turn = try #require(control.take(.init(key: "k", entities: 1), now: Self.at(2 + Double(step))))
            control.throttled("k", turn: turn, now: Self.at(2 + Double(step) + 0.001))
        }
        #expect(control.rate("k") == 20)
    }

    @Test("the pace grows only while it holds requests back, and a calm partition is open again")
    func growsWhileHeldAndReleases() throws {
        let control = AdmissionControl(
            tuning: .init(decrease: 0.5, increase: 0.1, minimumRate: 100, release: .seconds(30)))
        let first = try #require(control.take(.init(key: "k", entities: 1), now: .zero))
        control.throttled("k", turn: first, now: .zero)
        #expect(control.rate("k") == 100)
        // Light use (never waiting): the pace stays where it is.
        for step in 1...100 { _ = control.take(.init(key: "k", entities: 1), now: Self.at(Double(step) * 0.1)) }
        #expect(control.rate("k") == 100)
        // Saturated (every request waits): it grows, about a tenth per second.
        var now = 10.0
        for _ in 0..<2_000 {
            let turn = try #require(control.take(.init(key: "k", entities: 1), now: Self.at(now)))
            now += Self.seconds(turn.delay)
        }
        let grown = try #require(control.rate("k"))
        #expect(grown > 150, "\(grown) after \(now - 10) s held back")
        control.answered(.init(key: "k", entities: 1), now: Self.at(now + 31))
        #expect(!control.isPaced("k"), "30 s without a throttled answer: open again")
    }

    @Test("a query's entities are settled once known: the pace moves on by the difference")
    func settles() throws {
        let control = AdmissionControl(tuning: .init(decrease: 0.5, minimumRate: 100, burst: .zero))
        let first = try #require(control.take(.init(key: "k", entities: 1), now: .zero))
        control.throttled("k", turn: first, now: .zero)
        let ticket = AdmissionControl.Ticket(key: "k", entities: 1)
        _ = control.take(ticket, now: .zero)
        control.settle(ticket, actual: 48)
        let next = try #require(control.take(.init(key: "k", entities: 1), now: .zero))
        #expect(abs(Self.seconds(next.delay) - 0.48) < 1e-6)
    }

    @Test(
        "a page's turn settled lower than its estimate gives the difference back; only what it answered is reported spent, never a negative count"
    )
    func settlesLower() throws {
        let spent = Mutex<[Int]>([])
        let control = AdmissionControl(
            tuning: .init(decrease: 0.5, minimumRate: 100, burst: .zero),
            onEntities: { count in spent.withLock { $0.append(count) } })
        let first = try #require(control.take(.init(key: "k", entities: 1), now: .zero))
        control.throttled("k", turn: first, now: .zero)
        #expect(control.rate("k") == 100)
        // A stock page taken for its $top of 48 answers 3: the next turn is 3 entities away, not 48.
        let page = AdmissionControl.Ticket(key: "k", entities: 48, settles: true)
        _ = try #require(control.take(page, now: .zero))
        control.answered(page, now: .zero)
        control.settle(page, actual: 3)
        let next = try #require(control.take(.init(key: "k", entities: 1), now: .zero))
        #expect(abs(Self.seconds(next.delay) - 0.03) < 1e-6, "\(next.delay)")
        // The metric's counter only grows (Prometheus refuses a negative increment, and the Vendor crashed on one).
        #expect(spent.withLock { $0 } == [3])
    }

    /// One simulated client process: callers that take turns, send, and learn the answer one round trip later.
    struct Simulation {
        var callers: Int
        var entities: (Int) -> Int = { _ in 4 }
        var roundTrip = 0.004
        var seconds = 60.0
        /// Caller index → which of the processes (each its own admission control) it belongs to.
        var processes = 1
    }

    struct Outcome {
        var successes: [Int]
        var throttled = 0
        var entitiesAfterWarmUp = 0
        var maxDelay = 0.0
        var perProcess: [Int]
    }

    /// Runs `simulation` against the emulator's own targets (`ScalabilityTargets`) on simulated time.
    static func run(_ simulation: Simulation, rate: Int) -> Outcome {
        let clock = Mutex(0.0)
        let targets = ScalabilityTargets(
            rates: .init(partitionEntitiesPerSecond: rate, accountEntitiesPerSecond: rate * 10),
            now: { clock.withLock { $0 } })
        let controls = (0..<simulation.processes).map { _ in AdmissionControl() }
        enum Phase {
            case ready
            case sending(AdmissionControl.Turn, Int)
            case answer(AdmissionControl.Turn, Int, Bool)
        }
        var phase = [Phase](repeating: .ready, count: simulation.callers)
        var times = (0..<simulation.callers).map { Double($0) * 0.0001 }
        var outcome = Outcome(
            successes: Array(repeating: 0, count: simulation.callers),
            perProcess: Array(repeating: 0, count: simulation.processes))
        var request = 0
        while true {
            guard let caller = times.indices.min(by: { times[$0] < times[$1] }), times[caller] < simulation.seconds
            else { break }
            let now = times[caller]
            clock.withLock { $0 = now }
            let control = controls[caller % simulation.processes]
            switch phase[caller] {
            case .ready:
                request += 1
                let entities = simulation.entities(request)
                let turn = control.take(.init(key: "t/p", entities: entities), now: at(now))!
                outcome.maxDelay = max(outcome.maxDelay, seconds(turn.delay))
                phase[caller] = .sending(turn, entities)
                times[caller] = now + seconds(turn.delay)
            case .sending(let turn, let entities):
                let refused = targets.admit(
                    account: "a", charges: [.init(table: "t", partitionKey: "p", entities: entities)],
                    accountEntities: entities)
                phase[caller] = .answer(turn, entities, refused == nil)
                times[caller] = now + simulation.roundTrip
            case .answer(let turn, let entities, let ok):
                if ok {
                    control.answered(.init(key: "t/p", entities: entities), now: at(now))
                    outcome.successes[caller] += 1
                    outcome.perProcess[caller % simulation.processes] += entities
                    if now >= simulation.seconds / 2 { outcome.entitiesAfterWarmUp += entities }
                } else {
                    control.throttled("t/p", turn: turn, now: at(now))
                    outcome.throttled += 1
                }
                phase[caller] = .ready
            }
        }
        return outcome
    }

    @Test("under a simulated target of 2,000 entities/s, 64 callers converge near the target without a retry storm")
    func convergesUnderTarget() {
        let simulation = Simulation(callers: 64)
        let outcome = Self.run(simulation, rate: 2_000)
        let rate = Double(outcome.entitiesAfterWarmUp) / (simulation.seconds / 2)
        #expect(rate >= 0.8 * 2_000, "the second half used \(rate) entities/s of 2,000")
        #expect(rate <= 2_000 * 1.05)
        let total = outcome.successes.reduce(0, +)
        print(
            "convergesUnderTarget: \(Int(rate)) entities/s of 2,000 in the second half; \(outcome.throttled) throttled for \(total) answered; longest turn \(outcome.maxDelay) s"
        )
        #expect(
            Double(outcome.throttled) / Double(total) < 0.05, "\(outcome.throttled) throttled for \(total) answered")
        #expect(outcome.successes.allSatisfy { $0 > total / 64 / 2 }, "no caller starved: \(outcome.successes)")
        #expect(outcome.maxDelay < 64 * 4 / 20.0, "no turn further than the whole queue at the slowest pace")
    }

    @Test("mixed sizes (claims of 4 entities, transactions of 100, stock pages of 48) still converge, nobody starves")
    func mixedSizes() {
        let simulation = Simulation(callers: 32, entities: { $0 % 10 == 0 ? 100 : $0 % 10 == 5 ? 48 : 4 })
        let outcome = Self.run(simulation, rate: 2_000)
        let rate = Double(outcome.entitiesAfterWarmUp) / (simulation.seconds / 2)
        #expect(rate >= 0.75 * 2_000 && rate <= 2_000 * 1.05, "\(rate)")
        #expect(outcome.successes.allSatisfy { $0 > 0 })
        #expect(Double(outcome.throttled) / Double(outcome.successes.reduce(0, +)) < 0.05)
    }

    @Test("a pace cut low by one throttled answer grows back when callers wait in untilReady, as group commit does")
    func growsBackWhenWaitingInUntilReady() throws {
        // Group commit's protocol: one round at a time; the leader waits `untilReady`, then takes its turn (at once)
        // and sends; 8 callers' claims of 8 entities each ride in every round. A throttled answer when the process
        // had sent little (one caller, or a query page that left storage's bucket in debt) cuts the pace below the
        // process's own rate; the rounds then wait in `untilReady`, never in `take`. Storage takes 2,000 entities/s.
        let control = AdmissionControl()
        let clock = Mutex(0.0)
        let targets = ScalabilityTargets(
            rates: .init(partitionEntitiesPerSecond: 2_000, accountEntitiesPerSecond: 20_000),
            now: { clock.withLock { $0 } })
        // One caller sends about 600 entities/s for 2 s, then an answer is throttled: the pace is cut to 480.
        var now = 0.0
        while now < 2 {
            _ = control.take(.init(key: "t/p", entities: 8), now: Self.at(now))
            now += 8.0 / 600
        }
        let first = try #require(control.take(.init(key: "t/p", entities: 8), now: Self.at(now)))
        control.throttled("t/p", turn: first, now: Self.at(now))
        let cut = try #require(control.rate("t/p"))
        #expect(cut < 600, "cut to \(cut)")
        var sent = 0
        var sentLastTen = 0
        while now < 30 {
            now += Self.seconds(control.untilReady("t/p", now: Self.at(now))) + 0.001 // a sleep overshoots
            let entities = 64
            let turn = try #require(control.take(.init(key: "t/p", entities: entities), now: Self.at(now)))
            now += Self.seconds(turn.delay)
            clock.withLock { $0 = now }
            let refused = targets.admit(
                account: "a", charges: [.init(table: "t", partitionKey: "p", entities: entities)],
                accountEntities: entities)
            now += 0.004 // the round trip
            if refused == nil {
                control.answered(.init(key: "t/p", entities: entities), now: Self.at(now))
                sent += entities
                if now >= 20 { sentLastTen += entities }
            } else {
                control.throttled("t/p", turn: turn, now: Self.at(now))
            }
        }
        // Seconds 20 to 30: grown back by then (10 % a second from 480), and before the partition would open again
        // for want of throttled answers (30 s after the cut), which would hide a pace that never grew.
        let rate = Double(sentLastTen) / 10
        #expect(rate >= 0.75 * 2_000, "seconds 20 to 30 used \(Int(rate)) entities/s of 2,000 (\(sent) in all)")
    }

    @Test("two processes pacing one partition share it: neither starves the other")
    func twoProcessesShare() {
        let simulation = Simulation(callers: 64, processes: 2)
        let outcome = Self.run(simulation, rate: 2_000)
        let rate = Double(outcome.entitiesAfterWarmUp) / (simulation.seconds / 2)
        #expect(rate >= 0.75 * 2_000, "\(rate)")
        let (a, b) = (Double(outcome.perProcess[0]), Double(outcome.perProcess[1]))
        print("twoProcessesShare: \(Int(rate)) entities/s of 2,000; shares \(Int(a)) and \(Int(b)) entities")
        #expect(min(a, b) / max(a, b) > 0.5, "shares \(a) and \(b)")
    }
}
