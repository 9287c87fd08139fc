import AzureTables
import Foundation
import IPAMCore
import Inventory
import NetworkMath
import Soak
import Testing

/// The soak's checks over crafted tables and ledgers: a consistent pair passes every check, and each way of
/// breaking it (a lost lease, a block held twice, a quota passed, a host address twice, an event never
/// delivered) is reported by name.
@Suite("Soak checks")
struct SoakChecksTests {
    static let scope = "11111111-1111-1111-1111-111111111111_eastus"
    static let since = Date(timeIntervalSince1970: 1_800_000_000)

    /// A leased row, its session row and its audit event: what the invariant checker wants of a lease.
    static func lease(
        _ id: String, _ cidr: String, session: String, pool: String? = nil, at offset: Double = 10
    ) throws -> [TableEntity] {
        let prefix = try IPPrefix(parsing: cidr)
        let row = NetworkRow(
            prefix: prefix, holding: .leased(NetworkRow.Lease(id: id, sessionId: session), vnet: nil), pool: pool)
        let sessionRow = SessionRow(
            sessionId: session, leaseId: id, networkRowKey: row.rowKey, requestHash: "", createdAt: since)
        let event = TableEntity(
            partitionKey: scope, rowKey: RowKeys.event(at: since.addingTimeInterval(offset)),
            properties: ["Action": .string("leased"), "LeaseId": .string(id), "Cidr": .string(cidr)])
        return [row.entity(partitionKey: scope), sessionRow.entity(partitionKey: scope), event]
    }

    static func acknowledged(_ id: String, _ cidr: String, session: String, pool: String? = nil, holder: String = "c")
        -> SoakLedger.Lease
    {
        SoakLedger.Lease(leaseId: id, sessionId: session, cidr: cidr, pool: pool, holder: holder)
    }

    static func check(
        _ entities: [TableEntity], _ ledger: SoakLedger, quota: SoakChecks.Quota? = nil,
        deliveries: [String: Int]? = nil,
        final: Bool = true
    ) -> [String: SoakChecks.Result] {
        let snapshot = ledger.snapshot
        let events = entities.filter { $0.rowKey.hasPrefix(RowKeys.eventPrefix) }.map(\.rowKey)
        let counts = deliveries ?? Dictionary(uniqueKeysWithValues: events.map { ($0, 1) })
        let results = SoakChecks.run(
            SoakChecks.Inputs(
                entities: entities, scopes: [scope], before: snapshot, after: snapshot, quota: quota, exact: final,
                deliveries: SoakChecks.Deliveries(
                    since: since, until: since.addingTimeInterval(3600), counts: counts, final: final)))
        return Dictionary(uniqueKeysWithValues: results.map { ($0.name, $0) })
    }

    @Test("a table that holds every acknowledged lease passes every check")
    func consistent() throws {
        let ledger = SoakLedger()
        ledger.acknowledged(Self.acknowledged("lease-a", "10.0.0.0/26", session: "s-a"))
        ledger.acknowledged(Self.acknowledged("lease-b", "10.0.0.64/26", session: "s-b"))
        let table =
            try Self.lease("lease-a", "10.0.0.0/26", session: "s-a")
            + Self.lease("lease-b", "10.0.0.64/26", session: "s-b", at: 20)
        let results = Self.check(table, ledger)
        #expect(results.count == 7)
        for result in results.values { #expect(result.passed, "\(result.name): \(result.problems)") }
    }

    @Test("an acknowledged lease missing from the table is reported lost, the invariant checker seeing nothing wrong")
    func lostLease() throws {
        let ledger = SoakLedger()
        ledger.acknowledged(Self.acknowledged("lease-a", "10.0.0.0/26", session: "s-a"))
        ledger.acknowledged(Self.acknowledged("lease-lost", "10.0.0.128/26", session: "s-lost", holder: "c2"))
        let results = Self.check(try Self.lease("lease-a", "10.0.0.0/26", session: "s-a"), ledger)
        #expect(results["invariant checker"]?.passed == true)
        let lost = try #require(results["no acknowledged lease lost"])
        #expect(!lost.passed)
        #expect(lost.problems == ["lease lease-lost (10.0.0.128/26, c2) lost: no row for its block"])
    }

    @Test("a lease whose block another lease holds now is lost, and its block held twice")
    func blockTakenByAnother() throws {
        let ledger = SoakLedger()
        ledger.acknowledged(Self.acknowledged("lease-a", "10.0.0.0/26", session: "s-a"))
        let results = Self.check(try Self.lease("lease-other", "10.0.0.0/26", session: "s-other"), ledger)
        #expect(results["no acknowledged lease lost"]?.passed == false)
        #expect(
            results["no block held twice"]?.problems == [
                "10.0.0.0/26, acknowledged as lease lease-a, is held by lease lease-other"
            ])
    }

    @Test("two acknowledged live leases on overlapping blocks: a block held twice, whatever the table says")
    func overlappingAcknowledgements() throws {
        let ledger = SoakLedger()
        ledger.acknowledged(Self.acknowledged("lease-a", "10.0.0.0/24", session: "s-a"))
        ledger.acknowledged(Self.acknowledged("lease-b", "10.0.0.64/26", session: "s-b"))
        let results = Self.check([], ledger)
        let twice = try #require(results["no block held twice"])
        #expect(!twice.passed)
        #expect(twice.problems.count == 1)
        #expect(
            twice.problems.first?.contains("10.0.0.0/24 (lease lease-a, c) and 10.0.0.64/26 (lease lease-b, c)") == true
        )
    }

    @Test("a released lease still held is reported; one released while the table was read is neither live nor lost")
    func releases() throws {
        let ledger = SoakLedger()
        ledger.acknowledged(Self.acknowledged("lease-a", "10.0.0.0/26", session: "s-a"))
        ledger.released(leaseId: "lease-a")
        let held = Self.check(try Self.lease("lease-a", "10.0.0.0/26", session: "s-a"), ledger)
        #expect(
            held["no acknowledged lease lost"]?.problems == [
                "lease lease-a (10.0.0.0/26) was released, yet is leased"
            ])

        let racing = SoakLedger()
        racing.acknowledged(Self.acknowledged("lease-b", "10.0.0.64/26", session: "s-b"))
        let before = racing.snapshot
        racing.released(leaseId: "lease-b")
        let results = SoakChecks.run(
            SoakChecks.Inputs(entities: [], scopes: [Self.scope], before: before, after: racing.snapshot))
        #expect(results.first { $0.name == "no acknowledged lease lost" }?.passed == true)
    }

    @Test("a replay answered with another lease or block is a contradiction")
    func contradictions() {
        let ledger = SoakLedger()
        ledger.acknowledged(Self.acknowledged("lease-a", "10.0.0.0/26", session: "s-a"))
        ledger.acknowledged(Self.acknowledged("lease-a", "10.0.0.64/26", session: "s-a"))
        ledger.acknowledged(Self.acknowledged("lease-z", "10.0.1.0/26", session: "s-a"))
        #expect(Self.check([], SoakLedger())["replays answered the same"]?.passed == true)
        #expect(Self.check([], ledger)["replays answered the same"]?.passed == false)
        let snapshot = ledger.snapshot
        #expect(snapshot.contradictions.count == 2)
        #expect(snapshot.leases.count == 1)
    }

    @Test("a requester over its pool's quota, or holding other than it was told, fails the quota check")
    func quotas() throws {
        let quota = SoakChecks.Quota(pool: "p", limit: 2, holders: ["q1": "soak-q1-"])
        let ledger = SoakLedger()
        var table: [TableEntity] = []
        for index in 0..<3 {
            let cidr = "10.255.0.\(index * 16)/28"
            table += try Self.lease("q-\(index)", cidr, session: "soak-q1-\(index)", pool: "p", at: Double(index))
            if index < 2 {
                ledger.acknowledged(
                    Self.acknowledged("q-\(index)", cidr, session: "soak-q1-\(index)", pool: "p", holder: "q1"))
            }
        }
        let results = Self.check(table, ledger, quota: quota)
        let check = try #require(results["quotas exact"])
        #expect(!check.passed)
        #expect(check.problems.contains("q1 holds 3 leases in pool p, past its quota of 2"))
        #expect(check.problems.contains("q1 holds 3 leases in pool p; its acknowledged live leases are 2"))

        let refused = SoakLedger()
        refused.quotaRefused(holder: "q1", pool: "p", held: 1, limit: 2)
        refused.quotaRefused(holder: "q1", pool: "p", held: 2, limit: 2)
        #expect(refused.snapshot.wrongRefusals == ["q1 was refused by pool p's quota holding 1 of 2 leases"])
    }

    @Test("one address held by two principals of a lease, or an acknowledged address not held, is reported")
    func hostAddresses() throws {
        let ledger = SoakLedger()
        ledger.acknowledged(Self.acknowledged("lease-a", "10.0.0.0/26", session: "s-a"))
        ledger.acknowledged(SoakLedger.HostAddress(leaseId: "lease-a", principal: "h1", ip: "10.0.0.4"))
        ledger.acknowledged(SoakLedger.HostAddress(leaseId: "lease-a", principal: "h2", ip: "10.0.0.9"))
        let partition = RowKeys.hostIPPartition("lease-a")
        let rows = ["k1", "k2"].map {
            TableEntity(partitionKey: partition, rowKey: RowKeys.hostIP($0), properties: ["Ip": .string("10.0.0.4")])
        }
        let results = Self.check(try Self.lease("lease-a", "10.0.0.0/26", session: "s-a") + rows, ledger)
        let check = try #require(results["host addresses unique"])
        #expect(check.problems.contains("10.0.0.4 is held twice in \(partition)"))
        #expect(check.problems.contains("10.0.0.9 of h2 in lease lease-a acknowledged, not held"))
    }

    @Test("an event never delivered fails at the end, is only pending at a checkpoint; three deliveries of one id fail")
    func webhooks() throws {
        let ledger = SoakLedger()
        ledger.acknowledged(Self.acknowledged("lease-a", "10.0.0.0/26", session: "s-a"))
        let table = try Self.lease("lease-a", "10.0.0.0/26", session: "s-a")
        let event = try #require(table.first { $0.rowKey.hasPrefix(RowKeys.eventPrefix) }?.rowKey)
        let final = Self.check(table, ledger, deliveries: [:])
        #expect(final["every webhook event delivered"]?.problems == ["event \(event) never delivered"])
        let checkpoint = Self.check(table, ledger, deliveries: [:], final: false)
        #expect(checkpoint["every webhook event delivered"]?.passed == true)
        #expect(checkpoint["every webhook event delivered"]?.detail.contains("1 pending") == true)
        #expect(Self.check(table, ledger, deliveries: [event: 2])["every webhook event delivered"]?.passed == true)
        #expect(
            Self.check(table, ledger, deliveries: [event: 3])["every webhook event delivered"]?.problems == [
                "event \(event) delivered 3 times"
            ])
    }

    @Test("a table the invariant checker refuses fails the soak: a lease on a row without its session row")
    func invariants() throws {
        let ledger = SoakLedger()
        ledger.acknowledged(Self.acknowledged("lease-a", "10.0.0.0/26", session: "s-a"))
        let table = try Self.lease("lease-a", "10.0.0.0/26", session: "s-a").filter {
            !$0.rowKey.hasPrefix(RowKeys.sessionPrefix)
        }
        let check = try #require(Self.check(table, ledger)["invariant checker"])
        #expect(!check.passed)
        #expect(check.problems.first?.contains("which has no session row") == true)
    }

    @Test(
        "a stock row beside a row that is not available: the invariant checker names it, and the diagnosis tells both reads' rows, their write times and the block's newest events"
    )
    func diagnosis() throws {
        let prefix = try IPPrefix(parsing: "10.0.1.0/26")
        let quarantined = NetworkRow(
            prefix: prefix, holding: .leased(NetworkRow.Lease(id: "lease-q", sessionId: "s-q"), vnet: nil)
        ).quarantined(at: Self.since)!
        let written = Self.since.addingTimeInterval(5)
        var network = quarantined.entity(partitionKey: Self.scope)
        network.timestamp = written
        var stock = Inventory.stockEntity(
            prefix, pool: nil, scope: Scope(subscriptionId: "11111111-1111-1111-1111-111111111111", region: "eastus"))
        stock.timestamp = written.addingTimeInterval(1)
        let event = TableEntity(
            partitionKey: Self.scope, rowKey: RowKeys.event(at: written),
            properties: ["Action": .string("release"), "Actor": .string("vendor@h:1"), "Cidr": .string("10.0.1.0/26")],
            timestamp: written)
        let first = [event, network, stock]
        let problems = SoakChecks.invariants(first, scopes: [Self.scope]).problems
        #expect(problems.contains("\(Self.scope): stock row for \(quarantined.rowKey), which is not available"))
        var available = NetworkRow.available(prefix, pool: nil).entity(partitionKey: Self.scope)
        available.timestamp = written.addingTimeInterval(2)
        let lines = SoakChecks.diagnose(problems, first: first, second: [event, available, stock])
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        #expect(line.hasPrefix("\(quarantined.rowKey): first read quarantined written \(EdmDateTime.format(written))"))
        #expect(line.contains("stock row \(stock.rowKey) written \(EdmDateTime.format(written.addingTimeInterval(1)))"))
        #expect(line.contains("events: release by vendor@h:1 at \(EdmDateTime.format(written))"))
        #expect(line.contains("second read available written \(EdmDateTime.format(written.addingTimeInterval(2)))"))
    }
}
