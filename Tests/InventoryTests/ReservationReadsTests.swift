import AzureTables
import FaultProxy
import Foundation
import IPAMCore
import NetworkMath
import TestSupport
import Testing

@testable import Inventory

/// `Inventory.reserve` and `adopt` with the process's occupied space: the range is found from the head's log and only the rows
/// overlapping it are read, never the whole partition (a reservation at a scope of 100,000 leases read them all).
@Suite("Reservations and adoptions read only the rows they take")
struct ReservationReadsTests {
    static let scope = InventoryOperationsTests.scope
    static let space = InventoryOperationsTests.space

    static func reserve(
        _ inventory: Inventory, _ prefix: IPPrefix?, length: Int = 24, occupied: OccupiedSpace?
    ) async throws -> ReserveOutcome {
        try await inventory.reserve(
            prefix, length: length, in: space, id: LeaseDraft.newLeaseId(), owner: "ops", reason: "test",
            expiresAt: nil, createdBy: "test", now: Date(), occupied: occupied)
    }

    static func carve(_ inventory: Inventory, _ sessions: [String], occupied: OccupiedSpace) async -> [IPPrefix] {
        let receipt = await inventory.carveLeases(
            LeaseCarveRequest(
                scope: scope, space: space, length: 24, version: .v4,
                leases: LeaseCarveTests.drafts(sessions)),
            occupied: occupied, now: { Date() })
        return receipt.outcomes.compactMap {
            guard case .won(let row) = $0 else {
                Issue.record("not won: \($0)")
                return nil
            }
            return row.prefix
        }
    }

    /// An inventory through the fault proxy with its occupied space and the blocks it carved for `sessions`, and the
    /// storage requests a call sends, counted; the invariant checker runs after `body`.
    struct Setting: Sendable {
        let tables: FaultProxiedTable
        let inventory: Inventory
        let occupied: OccupiedSpace
        let leased: [IPPrefix]

        /// What `body` answered and how many requests it sent to storage.
        func counting<T>(_ body: () async throws -> T) async rethrows -> (T, Int) {
            let before = tables.proxy.counts["forwarded", default: 0]
            let answer = try await body()
            return (answer, tables.proxy.counts["forwarded", default: 0] - before)
        }
    }

    static func withCarved(_ sessions: [String], _ body: (Setting) async throws -> Void) async throws {
        try await FaultProxiedTable.with("rangereads") { tables in
            let inventory = Inventory(table: tables.through, actor: "test")
            let occupied = OccupiedSpace()
            let leased = await carve(inventory, sessions, occupied: occupied)
            #expect(leased.count == sessions.count)
            try await body(Setting(tables: tables, inventory: inventory, occupied: occupied, leased: leased))
            let problems = try await Inventory(table: tables.direct, actor: "test").violations(in: scope)
            #expect(problems.isEmpty, "\(problems)")
        }
    }

    @Test(
        "by size: the head read and the transaction, no row read; over a lease: one point read and the overlap; over rows another process wrote since: the log names them; stock split from point reads; without the occupied space every row is read"
    )
    func readsOnlyWhatItTakes() async throws {
        try await Self.withCarved((0..<20).map { "r-\($0)" }) { setting in
            let (inventory, occupied, leased) = (setting.inventory, setting.occupied, setting.leased)
            let tables = setting.tables

            let (bySize, sizeRequests) = try await setting.counting {
                try await Self.reserve(inventory, nil, occupied: occupied)
            }
            guard case .reserved(let reservation) = bySize else {
                Issue.record("\(bySize)")
                return
            }
            #expect(!leased.contains { $0.overlaps(reservation.prefix) })
            #expect(!reservation.prefix.overlaps(Self.space.exclude[0]))
            #expect(sizeRequests == 2, "the head and the transaction: \(sizeRequests)")

            let (overLease, leaseRequests) = try await setting.counting {
                try await Self.reserve(inventory, leased[3], occupied: occupied)
            }
            #expect(
                overLease
                    == .overlap([
                        RangeConflict(
                            try #require(try await inventory.network(RowKeys.network(leased[3]), in: Self.scope)))
                    ]))
            #expect(leaseRequests == 2, "the head and the lease's row: \(leaseRequests)")

            // Another process carves: this one learns those blocks from the head's log, and reads their rows only.
            let other = Inventory(table: tables.direct, actor: "other")
            let theirs = await Self.carve(other, ["o-1", "o-2"], occupied: OccupiedSpace())
            #expect(theirs.count == 2)
            let wide = try #require(
                IPPrefix(
                    address: IPAddress(v4: UInt32(truncatingIfNeeded: theirs[0].address.value) & ~0x1FF), length: 23))
            let (overTheirs, theirRequests) = try await setting.counting {
                try await Self.reserve(inventory, wide, occupied: occupied)
            }
            guard case .overlap(let conflicts) = overTheirs else {
                Issue.record("\(overTheirs)")
                return
            }
            #expect(Set(conflicts.map(\.prefix)) == Set(theirs.filter { $0.overlaps(wide) }))
            #expect(theirRequests == 1 + conflicts.count, "the head and the rows it overlaps: \(theirRequests)")

            // Stock added by hand (another writer's head entry): a range inside a stocked /22 splits it.
            let stocked = try IPPrefix(parsing: "10.64.252.0/22")
            _ = try await other.addStock([stocked], in: Self.scope, now: Date(), detail: "test")
            let inner = try IPPrefix(parsing: "10.64.253.0/24")
            let (split, splitRequests) = try await setting.counting {
                try await Self.reserve(inventory, inner, occupied: occupied)
            }
            guard case .reserved = split else {
                Issue.record("\(split)")
                return
            }
            #expect(splitRequests == 3, "the head, the stocked row, the transaction: \(splitRequests)")
            let rows = try await inventory.networks(in: Self.scope).filter { $0.prefix.overlaps(stocked) }
            #expect(
                Set(rows.map { "\($0.prefix) \($0.state.rawValue)" }) == [
                    "10.64.252.0/24 available", "10.64.253.0/24 reserved", "10.64.254.0/23 available",
                ])

            // Without the occupied space: every network row is read (a page), then the transaction.
            let (plain, plainRequests) = try await setting.counting {
                try await Self.reserve(inventory, nil, occupied: nil)
            }
            guard case .reserved(let second) = plain else {
                Issue.record("\(plain)")
                return
            }
            #expect(second.prefix != reservation.prefix)
            #expect(plainRequests == 3, "the head, a page of every network row, the transaction: \(plainRequests)")
        }
    }

    @Test(
        "adoption: the head and the transaction over free space; over a lease, the head and that row, and the overlap")
    func adoptionReadsOnlyWhatItTakes() async throws {
        try await Self.withCarved((0..<10).map { "a-\($0)" }) { setting in
            let (inventory, occupied, leased) = (setting.inventory, setting.occupied, setting.leased)
            let free = try IPPrefix(parsing: "10.64.200.0/24")
            let (adopted, adoptRequests) = try await setting.counting {
                try await inventory.adopt(
                    free, for: InventoryOperationsTests.draft("adopt-1"), resourceId: nil, in: Self.scope, now: Date(),
                    occupied: occupied)
            }
            guard case .adopted(let row) = adopted else {
                Issue.record("\(adopted)")
                return
            }
            #expect(row.prefix == free && row.state == .leased)
            #expect(adoptRequests == 2, "the head and the transaction: \(adoptRequests)")
            let (overLease, overRequests) = try await setting.counting {
                try await inventory.adopt(
                    leased[0], for: InventoryOperationsTests.draft("adopt-2"), resourceId: nil, in: Self.scope,
                    now: Date(), occupied: occupied)
            }
            guard case .overlap(let conflicts) = overLease else {
                Issue.record("\(overLease)")
                return
            }
            #expect(conflicts.map(\.prefix) == [leased[0]])
            #expect(overRequests == 2, "the head and the lease's row: \(overRequests)")
        }
    }
}
