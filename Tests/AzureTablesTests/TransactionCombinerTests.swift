import AzureCore
import AzureTables
import Foundation
import Synchronization
import TestSupport
import Testing

@Suite("Group commit (TransactionCombiner) against a live endpoint")
struct TransactionCombinerTests {
    /// Every test runs with one round in flight per partition (the biggest rounds) and with several
    /// (slots handed from round to round while others are still out).
    static let inFlight = [1, 2, 4]

    @Test(
        "concurrent transactions share rounds, and each caller gets the ETags of its own operations",
        arguments: inFlight)
    func sharesRounds(maxInFlight: Int) async throws {
        let table = try await TestStorage.freshTable("gc")
        let combiner = TransactionCombiner(table: table, maxInFlight: maxInFlight)
        let results = try await withThrowingTaskGroup(of: (Int, [String?]).self) { group in
            for caller in 0..<64 {
                group.addTask {
                    let etags = try await combiner.submit(
                        (0..<3).map {
                            .insert(
                                TableEntity(
                                    partitionKey: "p", rowKey: "c\(caller)-\($0)", properties: ["n": .int32(Int32($0))])
                            )
                        })
                    return (caller, etags)
                }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        #expect(results.count == 64)
        for (caller, etags) in results {
            #expect(etags.count == 3)
            for (index, etag) in etags.enumerated() {
                let stored = try await table.get(partitionKey: "p", rowKey: "c\(caller)-\(index)")
                #expect(stored?.etag == etag && stored?["n"] == .int32(Int32(index)))
            }
        }
        let (rounds, members) = await (combiner.rounds, combiner.members)
        #expect(members == 64)
        #expect(rounds < members, "callers that arrive during a commit share the next one")
        #expect(try await table.queryAll().count == 192)
    }

    @Test(
        "one member's failure is that member's alone (index within its own operations); the others commit",
        arguments: inFlight)
    func failingMember(maxInFlight: Int) async throws {
        let table = try await TestStorage.freshTable("gc")
        let combiner = TransactionCombiner(table: table, maxInFlight: maxInFlight)
        let stale = try await table.insert(TableEntity(partitionKey: "p", rowKey: "locked"))
        try await table.merge(
            TableEntity(partitionKey: "p", rowKey: "locked", properties: ["v": .int32(2)]), ifMatch: .any)
        try await table.insert(TableEntity(partitionKey: "p", rowKey: "taken"))
        let outcomes = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for caller in 0..<40 {
                group.addTask {
                    var actions: [TableTransactionAction] = [
                        .insert(TableEntity(partitionKey: "p", rowKey: "own-\(caller)"))
                    ]
                    if caller % 10 == 3 {
                        actions.append(.insert(TableEntity(partitionKey: "p", rowKey: "taken-\(caller)")))
                        actions.append(.insert(TableEntity(partitionKey: "p", rowKey: "taken")))
                    }
                    if caller % 10 == 7 {
                        actions.append(
                            .merge(TableEntity(partitionKey: "p", rowKey: "locked-\(caller)"), ifMatch: .any))
                    }
                    if caller % 10 == 9 {
                        actions.insert(
                            .merge(
                                TableEntity(partitionKey: "p", rowKey: "locked", properties: ["v": .int32(3)]),
                                ifMatch: .etag(stale)), at: 0)
                    }
                    do {
                        _ = try await combiner.submit(actions)
                        return (caller, "ok")
                    } catch let error as AzureError {
                        return (caller, "\(error.status)@\(error.failedOperationIndex.map(String.init) ?? "-")")
                    }
                }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        for caller in 0..<40 {
            switch caller % 10 {
            case 3:
                #expect(outcomes[caller] == "409@2", "caller \(caller): the duplicate insert is its third operation")
            case 7:
                #expect(outcomes[caller] == "404@1", "caller \(caller): merging a missing row is its second operation")
            case 9: #expect(outcomes[caller] == "412@0", "caller \(caller): the stale ETag is its first operation")
            default: #expect(outcomes[caller] == "ok", "caller \(caller)")
            }
        }
        let keys = Set(try await table.queryAll().map(\.rowKey))
        let committed = Set((0..<40).filter { ![3, 7, 9].contains($0 % 10) }.map { "own-\($0)" })
        #expect(
            keys == committed.union(["locked", "taken"]), "failed members left nothing behind; the others are all there"
        )
    }

    @Test(
        "members touching the same row never share a round: one insert wins, the others get 409 of their own",
        arguments: inFlight)
    func sameRow(maxInFlight: Int) async throws {
        let table = try await TestStorage.freshTable("gc")
        let combiner = TransactionCombiner(table: table, maxInFlight: maxInFlight)
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for caller in 0..<20 {
                group.addTask {
                    do {
                        _ = try await combiner.submit([
                            .insert(TableEntity(partitionKey: "p", rowKey: "solo-\(caller)")),
                            .insert(TableEntity(partitionKey: "p", rowKey: "session")),
                        ])
                        return 201
                    } catch let error as AzureError {
                        #expect(error.failedOperationIndex == 1)
                        return error.status
                    }
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.filter { $0 == 201 }.count == 1)
        #expect(statuses.filter { $0 == 409 }.count == 19)
        #expect(try await table.queryAll().count == 2)
    }

    @Test(
        "a member submitted building its operations is built by the round that sends it, not when it arrived: what it stamps is when it goes out",
        arguments: inFlight)
    func builtByItsRound(maxInFlight: Int) async throws {
        let table = try await TestStorage.freshTable("gc")
        let formed = RoundCount()
        let combiner = TransactionCombiner(table: table, maxInFlight: maxInFlight, onRound: { _ in formed.add() })
        try await withThrowingTaskGroup(of: Void.self) { group in
            for caller in 0..<60 {
                group.addTask {
                    _ = try await combiner.submit(
                        building: {
                            // The rounds formed before this build: the round it goes out in, when built by its round.
                            let before = formed.value
                            return [
                                .insert(
                                    TableEntity(
                                        partitionKey: "p", rowKey: "m\(caller)",
                                        properties: ["builtAfter": .int32(Int32(before))]))
                            ]
                        }, sendWithin: .seconds(60))
                }
            }
            try await group.waitForAll()
        }
        let rows = try await table.queryAll()
        #expect(rows.count == 60)
        let builtAfter = rows.compactMap { $0["builtAfter"]?.int64Value }
        let rounds = await combiner.rounds
        #expect(rounds > maxInFlight, "callers queued behind the first rounds: \(rounds) rounds")
        #expect(builtAfter.max()! >= Int64(rounds - maxInFlight), "the last ones built after the rounds ahead of them")
        #expect(Set(builtAfter).count > 1, "not all built when they arrived")
    }

    @Test(
        "a member submitted building its operations with a sample is built only by the rounds that send it (once each when none is refused), and what is stored is a round's build, not the sample",
        arguments: inFlight)
    func sampleSparesABuild(maxInFlight: Int) async throws {
        let table = try await TestStorage.freshTable("gc")
        let builds = RoundCount()
        let combiner = TransactionCombiner(table: table, maxInFlight: maxInFlight)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for caller in 0..<40 {
                group.addTask {
                    let row: @Sendable (String) -> [TableTransactionAction] = { by in
                        [.insert(TableEntity(partitionKey: "p", rowKey: "m\(caller)", properties: ["by": .string(by)]))]
                    }
                    _ = try await combiner.submit(
                        building: {
                            builds.add()
                            return row("round")
                        }, sendWithin: .seconds(60), sample: row("sample"))
                }
            }
            try await group.waitForAll()
        }
        let rows = try await table.queryAll()
        #expect(rows.count == 40)
        #expect(rows.allSatisfy { $0["by"] == .string("round") })
        #expect(builds.value == 40, "one build per member, by its round: \(builds.value)")
        #expect(await combiner.members == 40)
    }

    @Test(
        "a member whose send window passed before its round fails alone, not sent (503, certainly not applied); the members with time left commit"
    )
    func expiredMemberFailsAlone() async throws {
        let table = try await TestStorage.freshTable("gc")
        let combiner = TransactionCombiner(table: table, maxInFlight: 1)
        let clock = table.service.pipeline.clock
        let outcomes = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for caller in 0..<20 {
                group.addTask {
                    // Every fifth one's window ended a second ago; the others have a minute.
                    let sendBy = clock.uptime() + (caller % 5 == 0 ? .seconds(-1) : .seconds(60))
                    do {
                        _ = try await StorageDeadline.$sendBy.withValue(sendBy) {
                            try await combiner.submit([.insert(TableEntity(partitionKey: "p", rowKey: "w\(caller)"))])
                        }
                        return (caller, 204)
                    } catch let error as AzureError {
                        #expect(error.isThrottled && !error.outcomeUnknown && error.message.hasPrefix("not sent"))
                        return (caller, error.status)
                    }
                }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        for caller in 0..<20 { #expect(outcomes[caller] == (caller % 5 == 0 ? 503 : 204), "caller \(caller)") }
        let keys = Set(try await table.queryAll().map(\.rowKey))
        #expect(keys == Set((0..<20).filter { $0 % 5 != 0 }.map { "w\($0)" }), "nothing of the late ones written")
    }
}

/// Rounds a combiner formed (its `onRound`), read by the members it builds.
final class RoundCount: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func add() { count.withLock { $0 += 1 } }
}
