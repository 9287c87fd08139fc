import AzureTables
import FaultProxy
import Foundation
import IPAMCore
import NetworkMath
import TestSupport
import Testing

@testable import Inventory

/// `Inventory.carveLeases` against a live Table endpoint: one transaction leases a block to each caller of a round,
/// and every caller's outcome is its own (docs/Design.md, "At the partition's target").
@Suite("Lease carves: one transaction for a round of callers")
struct LeaseCarveTests {
    static let scope = InventoryOperationsTests.scope
    static let space = InventoryOperationsTests.space

    static func drafts(_ sessions: [String]) -> [LeaseDraft] {
        sessions.map {
            var draft = InventoryOperationsTests.draft($0)
            draft.namesItsBlock = true
            return draft
        }
    }

    static func request(_ sessions: [String], space: ScopeSupernets = space) -> LeaseCarveRequest {
        LeaseCarveRequest(scope: scope, space: space, length: 24, version: .v4, leases: drafts(sessions))
    }

    /// The blocks won, in the request's order; records an issue for any other outcome.
    static func won(_ receipt: LeaseCarveReceipt) -> [Stored<NetworkRow>] {
        receipt.outcomes.compactMap {
            guard case .won(let row) = $0 else {
                Issue.record("not won: \($0)")
                return nil
            }
            return row
        }
    }

    @Test(
        "ten callers, one transaction: distinct blocks outside the exclusion, each leased with its session, event and history mark; no stock row, no hlease_ row"
    )
    func oneRound() async throws {
        try await InventoryOperationsTests.withInventory { inventory, table in
            let sessions = (0..<10).map { "round-\($0)" }
            let receipt = await inventory.carveLeases(
                Self.request(sessions), occupied: OccupiedSpace(), now: { Date() })
            let rows = Self.won(receipt)
            #expect(rows.count == 10)
            #expect(receipt.transactions == 1)
            #expect(Set(rows.map(\.prefix)).count == 10)
            #expect(!rows.contains { $0.prefix.overlaps(Self.space.exclude[0]) })
            for (row, session) in zip(rows, sessions) {
                #expect(row.state == .leased && row.sessionId == session)
                #expect(LeaseIdentity.block(named: row.leaseId ?? "") == row.prefix, "the id names its block")
                #expect(try await inventory.session(session, in: Self.scope)?.networkRowKey == row.rowKey)
            }
            let keys = try await table.queryAll().map(\.rowKey)
            #expect(!keys.contains { $0.hasPrefix("stock_") }, "no stock row written")
            #expect(!keys.contains { $0.hasPrefix(RowKeys.historyLease("")) }, "the ids name their blocks")
            #expect(keys.filter { $0.hasPrefix(RowKeys.networkPrefix) }.count == 10)
            let head = try await inventory.head(of: Self.scope)
            #expect(head?.added(since: 0).map(Set.init) == Set(rows.map(\.prefix)), "the head logs every block")
        }
    }

    @Test(
        "a SessionId already served leaves only that caller out (sessionTaken, its lease untouched); the others commit under the same head"
    )
    func sessionTakenLeavesOneOut() async throws {
        try await InventoryOperationsTests.withInventory { inventory, _ in
            let occupied = OccupiedSpace()
            let first = Self.won(await inventory.carveLeases(Self.request(["b"]), occupied: occupied, now: { Date() }))
            let receipt = await inventory.carveLeases(
                Self.request(["a", "b", "c", "b2"]), occupied: occupied, now: { Date() })
            guard case .sessionTaken = receipt.outcomes[1] else {
                Issue.record("b: \(receipt.outcomes[1])")
                return
            }
            let others = [receipt.outcomes[0], receipt.outcomes[2], receipt.outcomes[3]].compactMap {
                if case .won(let row) = $0 { return row } else { return nil }
            }
            #expect(others.count == 3)
            #expect(receipt.transactions == 2, "refused once for b, then committed without it")
            #expect(try await inventory.session("b", in: Self.scope)?.networkRowKey == first.first?.rowKey)
            let rows = try await inventory.networks(in: Self.scope)
            #expect(rows.count == 4, "b's first lease and the three others")
            #expect(Set(rows.map(\.prefix)).count == 4)
        }
    }

    @Test("room for fewer blocks than callers: the first get blocks, the rest are exhausted, and nothing overlaps")
    func exhausted() async throws {
        try await InventoryOperationsTests.withInventory { inventory, _ in
            let small = ScopeSupernets(
                scope: Self.scope, supernets: [try IPPrefix(parsing: "10.99.0.0/23")], exclude: [], isolated: false)
            let receipt = await inventory.carveLeases(
                Self.request(["x", "y", "z"], space: small), occupied: OccupiedSpace(), now: { Date() })
            guard case .won(let x) = receipt.outcomes[0], case .won(let y) = receipt.outcomes[1],
                case .exhausted = receipt.outcomes[2]
            else {
                Issue.record("\(receipt.outcomes)")
                return
            }
            #expect(!x.prefix.overlaps(y.prefix))
            let full = await inventory.carveLeases(
                Self.request(["w"], space: small), occupied: OccupiedSpace(), now: { Date() })
            guard case .exhausted = full.outcomes[0] else {
                Issue.record("\(full.outcomes)")
                return
            }
            #expect(full.transactions == 0)
        }
    }

    @Test(
        "two processes carving one scope at once, rounds of five: blocks never overlap, every caller won or lost whole, and a head another process changed is read again"
    )
    func twoProcesses() async throws {
        try await InventoryOperationsTests.withInventory { inventory, _ in
            let spaces = [OccupiedSpace(), OccupiedSpace()]
            let receipts = await withTaskGroup(of: (Int, LeaseCarveReceipt).self) { group in
                for index in 0..<12 {
                    group.addTask {
                        let sessions = (0..<5).map { "p\(index)-\($0)" }
                        return (
                            index,
                            await inventory.carveLeases(
                                Self.request(sessions), occupied: spaces[index % 2], now: { Date() })
                        )
                    }
                }
                return await group.reduce(into: [LeaseCarveReceipt]()) { $0.append($1.1) }
            }
            var won = 0
            for receipt in receipts {
                for outcome in receipt.outcomes {
                    switch outcome {
                    case .won: won += 1
                    case .lost: break
                    default: Issue.record("unexpected \(outcome)")
                    }
                }
                let kinds = Set(receipt.outcomes.map { if case .won = $0 { "won" } else { "\($0)" } })
                #expect(kinds.count == 1, "a round commits or is lost as a whole: \(receipt.outcomes)")
            }
            #expect(won >= 5)
            let rows = try await inventory.networks(in: Self.scope)
            #expect(rows.count == won)
            let sorted = rows.map(\.prefix).sorted()
            for (a, b) in zip(sorted, sorted.dropFirst()) { #expect(!a.overlaps(b), "\(a) overlaps \(b)") }

            // Two processes fresh: A knows the head its last round left; B carves; A's next round tries A's head
            // unread, finds it changed, reads it and commits, and reads the head for a while after.
            let (a, b) = (OccupiedSpace(), OccupiedSpace())
            _ = Self.won(await inventory.carveLeases(Self.request(["q0"]), occupied: a, now: { Date() }))
            #expect(await a.lastHead(Self.scope) != nil, "A would try its own head unread")
            _ = Self.won(await inventory.carveLeases(Self.request(["q1"]), occupied: b, now: { Date() }))
            let stale = await inventory.carveLeases(Self.request(["q2"]), occupied: a, now: { Date() })
            #expect(Self.won(stale).count == 1)
            #expect(stale.transactions == 2 && stale.reads >= 1, "refused on the head once, then read it")
            #expect(await a.lastHead(Self.scope) == nil, "then reads the head for a while")
        }
    }

    @Test(
        "a lost answer: every caller of the round is outcomeUnknown, and each one's session row tells that it committed"
    )
    func lostAnswer() async throws {
        try await FaultProxiedTable.with("leasecarve") { tables in
            let proxy = tables.proxy
            let inventory = Inventory(table: tables.through, actor: "test")
            // A first round, unfaulted: the process then knows the head and the occupied space, and reads nothing.
            let occupied = OccupiedSpace()
            #expect(
                Self.won(await inventory.carveLeases(Self.request(["u0"]), occupied: occupied, now: { Date() })).count
                    == 1)
            var faults = FaultProxy.Faults()
            faults.errorAfterForward = 1 // written, answered 500
            proxy.faults = faults
            let receipt = await inventory.carveLeases(
                Self.request(["u1", "u2", "u3"]), occupied: occupied, now: { Date() })
            proxy.faults = FaultProxy.Faults()
            #expect(proxy.counts["errorAfterForward", default: 0] == 1, "one transaction, no read: \(proxy.counts)")
            for outcome in receipt.outcomes {
                guard case .outcomeUnknown = outcome else {
                    Issue.record("\(outcome)")
                    continue
                }
            }
            for session in ["u1", "u2", "u3"] {
                #expect(try await inventory.session(session, in: Self.scope) != nil, "\(session) committed")
            }
            let problems = try await Inventory(table: tables.direct, actor: "test").violations(in: Self.scope)
            #expect(problems.isEmpty, "\(problems)")
        }
    }
}
