import Synchronization
import Testing

@testable import VendorDomain

/// `CallerRounds`: one round of a key out at a time; each caller's item is sent exactly once and each gets the
/// outcome its own item was given, whoever led.
@Suite struct CallerRoundsTests {
    /// What the rounds sent, in order.
    final class Sent: Sendable {
        private let rounds = Mutex<[[String]]>([])
        private let out = Mutex<Int>(0)
        private let most = Mutex<Int>(0)
        var all: [[String]] { rounds.withLock { $0 } }
        var mostAtOnce: Int { most.withLock { $0 } }
        func begin(_ items: [String]) {
            rounds.withLock { $0.append(items) }
            let now = out.withLock {
                $0 += 1
                return $0
            }
            most.withLock { $0 = max($0, now) }
        }
        func end() { out.withLock { $0 -= 1 } }
    }

    /// Joins `item` to a round of `key`; the round answers each item with itself upper-cased and the round's size.
    static func join(
        _ rounds: CallerRounds<String, String>, _ key: String, _ item: String, _ sent: Sent, limit: Int = 4
    )
        async -> String
    {
        await rounds.join(
            key, item, limit: limit, clash: { $0.split(separator: "#")[0] == $1.split(separator: "#")[0] }
        ) { items in
            sent.begin(items)
            await Task.yield()
            try? await Task.sleep(for: .milliseconds(2))
            sent.end()
            return items.map { "\($0.uppercased())/\(items.count)" }
        }
    }

    @Test(
        "many callers at once: each item sent exactly once, each caller gets its own outcome, one round out at a time")
    func manyCallers() async {
        let rounds = CallerRounds<String, String>()
        let sent = Sent()
        let answers = await withTaskGroup(of: (String, String).self) { group in
            for index in 0..<60 {
                group.addTask { ("s\(index)", await Self.join(rounds, "k", "s\(index)", sent)) }
            }
            return await group.reduce(into: [String: String]()) { $0[$1.0] = $1.1 }
        }
        #expect(answers.count == 60)
        for (item, answer) in answers { #expect(answer.hasPrefix(item.uppercased() + "/"), "\(item): \(answer)") }
        let all = sent.all.flatMap { $0 }
        #expect(all.count == 60 && Set(all).count == 60, "each item in exactly one round")
        #expect(sent.all.allSatisfy { $0.count <= 4 }, "no round past its limit")
        #expect(sent.mostAtOnce == 1, "one round of a key out at a time")
        #expect(sent.all.count < 60, "callers that arrived while a round was out shared the next")
        #expect(await rounds.waitingCount("k") == 0)
    }

    @Test("items that clash (one SessionId twice) never share a round; the later one goes in a later round")
    func clashingItems() async {
        let rounds = CallerRounds<String, String>()
        let sent = Sent()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<24 {
                group.addTask { _ = await Self.join(rounds, "k", "s\(index % 3)#\(index)", sent, limit: 10) }
            }
        }
        for round in sent.all {
            let sessions = round.map { $0.split(separator: "#")[0] }
            #expect(Set(sessions).count == sessions.count, "\(round)")
        }
        #expect(sent.all.flatMap { $0 }.count == 24)
    }

    @Test("keys do not share rounds, and a key's rounds do not wait for another key's")
    func keysApart() async {
        let rounds = CallerRounds<String, String>()
        let sent = Sent()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<20 {
                group.addTask { _ = await Self.join(rounds, "k\(index % 2)", "k\(index % 2)-\(index)", sent) }
            }
        }
        for round in sent.all { #expect(Set(round.map { $0.prefix(2) }).count == 1, "\(round)") }
    }
}
