import AzureTables
import Foundation
import IPAMCore
import NetworkMath
import TestSupport
import Testing

@testable import Inventory

/// The boundary's operations against a live Table endpoint: each outcome is what storage decided, and a
/// lost or refused write leaves nothing behind.
@Suite("Inventory operations")
struct InventoryOperationsTests {
    static let scope = Scope(subscriptionId: SampleConfiguration.subscription, region: "eastus")
    static let space = ScopeSupernets(
        scope: scope, supernets: [try! IPPrefix(parsing: "10.64.0.0/16")],
        exclude: [try! IPPrefix(parsing: "10.64.0.0/24")], isolated: false)

    static func draft(_ session: String, hash: String = "h") -> LeaseDraft {
        LeaseDraft(
            leaseId: LeaseDraft.newLeaseId(), sessionId: session, requestHash: hash, requester: "test",
            leasedAt: Date(), expiresAt: Date(timeIntervalSinceNow: 3600))
    }

    static func withInventory(_ body: (Inventory, TableClient) async throws -> Void) async throws {
        let table = try await TestStorage.freshTable("inv")
        let inventory = Inventory(table: table, actor: "test")
        try await body(inventory, table)
        let problems = try await inventory.violations(in: scope)
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test(
        "claim: won once; a second claim of the same block is lost; the same SessionId on another block is sessionTaken; neither writes"
    )
    func claimOutcomes() async throws {
        try await Self.withInventory { inventory, table in
            let stocked = try await inventory.addStock(
                [try IPPrefix(parsing: "10.64.1.0/24"), try IPPrefix(parsing: "10.64.2.0/24")], in: Self.scope,
                now: Date(), detail: "test")
            #expect(stocked.count == 2)
            guard
                case .won(let row) = try await inventory.claim(
                    stocked[0], for: Self.draft("s1"), in: Self.scope, now: Date())
            else {
                Issue.record("the first claim must win")
                return
            }
            #expect(row.state == .leased && row.prefix == stocked[0].prefix && !row.etag.isEmpty)
            let before = try await table.queryAll().count
            #expect(try await inventory.claim(stocked[0], for: Self.draft("s2"), in: Self.scope, now: Date()) == .lost)
            #expect(
                try await inventory.claim(stocked[1], for: Self.draft("s1"), in: Self.scope, now: Date())
                    == .sessionTaken)
            #expect(try await table.queryAll().count == before, "a lost or refused claim writes nothing")
            #expect(
                try await inventory.availableCandidates(in: Self.scope, length: 24, version: .v4, limit: 10).map(
                    \.prefix) == [stocked[1].prefix])
        }
    }

    @Test("carve: eight carves of one scope at once never overlap; each either commits or is lost as a whole")
    func concurrentCarves() async throws {
        try await Self.withInventory { inventory, _ in
            let receipts = try await withThrowingTaskGroup(of: CarveReceipt.self) { group in
                for index in 0..<8 {
                    group.addTask {
                        let request = CarveRequest(
                            scope: Self.scope, space: Self.space, length: 24, lease: Self.draft("c\(index)"), stock: 3,
                            detail: "test")
                        return try await inventory.carve(request, now: { Date() })
                    }
                }
                return try await group.reduce(into: [CarveReceipt]()) { $0.append($1) }
            }
            var won = 0
            for receipt in receipts {
                switch receipt.outcome {
                case .won(let lease, let stocked):
                    won += 1
                    #expect(lease != nil && stocked.count == 3)
                case .lost: break
                default: Issue.record("unexpected \(receipt.outcome)")
                }
            }
            #expect(won >= 1)
            let rows = try await inventory.networks(in: Self.scope)
            #expect(
                rows.count == won * 4,
                "every committed carve wrote its lease and three stock rows; the lost ones nothing")
            #expect(!rows.contains { $0.prefix.overlaps(Self.space.exclude[0]) })
        }
    }

    @Test("carve: a SessionId already served is sessionTaken, and a full scope is exhausted")
    func carveRefusals() async throws {
        try await Self.withInventory { inventory, _ in
            let small = ScopeSupernets(
                scope: Self.scope, supernets: [try IPPrefix(parsing: "10.99.0.0/23")], exclude: [], isolated: false)
            /// Carves a /24 of `small` for `session`.
            func carve(_ session: String) async throws -> CarveReceipt {
                try await inventory.carve(
                    CarveRequest(
                        scope: Self.scope, space: small, length: 24, lease: Self.draft(session), stock: 0, detail: "t"),
                    now: { Date() })
            }
            let first = try await carve("x")
            guard case .won = first.outcome else {
                Issue.record("\(first.outcome)")
                return
            }
            let again = try await carve("x")
            #expect(again.outcome == .sessionTaken)
            let second = try await carve("y")
            guard case .won = second.outcome else {
                Issue.record("\(second.outcome)")
                return
            }
            let full = try await carve("z")
            #expect(full.outcome == .exhausted && full.transactions == 0)
        }
    }

    @Test("transition: done under the row's ETag, changed when someone wrote it first")
    func transitions() async throws {
        try await Self.withInventory { inventory, _ in
            let stocked = try await inventory.addStock(
                [try IPPrefix(parsing: "10.64.9.0/24")], in: Self.scope, now: Date(), detail: "test")
            guard
                case .won(let row) = try await inventory.claim(
                    stocked[0], for: Self.draft("t1"), in: Self.scope, now: Date())
            else { return }
            let renewed = try #require(row.value.leased(until: Date(timeIntervalSinceNow: 7200)))
            guard
                case .done(let written) = try await inventory.transition(
                    row, to: renewed, action: .renew, in: Self.scope, now: Date())
            else {
                Issue.record("the first write must land")
                return
            }
            #expect(written.etag != row.etag)
            #expect(
                try await inventory.transition(row, to: renewed, action: .renew, in: Self.scope, now: Date())
                    == .changed, "the old ETag no longer matches")
        }
    }

    @Test("the Vendor's and the Manager's code reach storage only through Inventory")
    func boundary() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        var offenders: [String] = []
        for target in ["VendorDomain", "VendorHTTP", "VendorConsole", "ManagerJobs"] {
            let folder = root.appendingPathComponent("Sources/\(target)")
            let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter {
                $0.hasSuffix(".swift")
            }
            #expect(!files.isEmpty)
            for file in files {
                let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
                for line in text.split(separator: "\n")
                where line.range(
                    of: #"^\s*(@\w+\s+)?(public |package |internal )?import (AzureTables|AzureCore|HTTPTransport)\b"#,
                    options: .regularExpression) != nil
                {
                    offenders.append("\(target)/\(file): \(line)")
                }
            }
        }
        #expect(offenders.isEmpty, "\(offenders)")
    }
}

/// The webhook outbox's read of the trail after a cursor: the oldest events first, however far behind the
/// cursor is and however the events are spread in time (it reads growing windows of time after the cursor).
@Suite("Webhook outbox reads")
struct WebhookOutboxReadTests {
    @Test(
        "events after a cursor, oldest first, limited: 40 events spread over 50 hours; every limit gives the oldest ones in order; nothing at or before the cursor, nothing after until"
    )
    func oldestFirstAcrossTime() async throws {
        let table = try await TestStorage.freshTable("outbox")
        let inventory = Inventory(table: table, actor: "test")
        let scope = Scope(subscriptionId: "s", region: "r")
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        // Uneven spacing: a burst in the first seconds, then hours apart.
        let times =
            (0..<20).map { start.addingTimeInterval(Double($0)) }
            + (1...20).map { start.addingTimeInterval(Double($0) * 9_000) }
        for (index, time) in times.enumerated() {
            let event = AuditEvent(
                action: "lease", actor: "t", cidr: "10.0.\(index).0/24", leaseId: "", sessionId: "", before: "",
                after: "leased")
            _ = try await table.insert(event.entity(partitionKey: scope.partitionKey, at: time))
        }
        let cursor = RowKeys.eventBoundary(at: start.addingTimeInterval(-1))
        let until = start.addingTimeInterval(3 * 86_400)
        let all = try await inventory.events(in: scope, after: cursor, until: until, limit: 1000)
        #expect(all.map(\.cidr) == (0..<40).map { "10.0.\($0).0/24" }, "every event, oldest first")
        for limit in [1, 5, 20, 21, 39] {
            let some = try await inventory.events(in: scope, after: cursor, until: until, limit: limit)
            #expect(some.map(\.cidr) == Array(all.prefix(limit)).map(\.cidr), "limit \(limit)")
        }
        // After the 25th event (hours after the burst): the next ones, oldest first.
        let later = try await inventory.events(in: scope, after: try #require(all[24].id), until: until, limit: 3)
        #expect(later.map(\.cidr) == ["10.0.25.0/24", "10.0.26.0/24", "10.0.27.0/24"])
        // `until` cuts the newest off.
        let early = try await inventory.events(
            in: scope, after: cursor, until: start.addingTimeInterval(9_000 * 3 + 1), limit: 1000)
        #expect(early.count == 23)
        #expect(
            RowKeys.eventTime(ofKey: cursor).map { abs($0.timeIntervalSince(start.addingTimeInterval(-1))) < 0.001 }
                == true)
    }
}
