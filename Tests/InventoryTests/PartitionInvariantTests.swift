import AzureTables
import Foundation
import IPAMCore
import Inventory
import NetworkMath
import Testing

/// The partition invariant checker finds each kind of damage to pools and quotas (so the tests that rely on
/// it can fail), and passes a consistent partition.
@Suite("Partition invariants: pools and quotas")
struct PartitionInvariantTests {
    static let scope = Scope(subscriptionId: "s", region: "r")
    static let partition = scope.partitionKey

    /// A consistent partition: one live lease of alice in team-a (counted), one stocked block of team-a.
    static let holderKey = "0123456789abcdef0123456789abcdef"

    /// - Parameters:
    ///   - legacyCounter: the counter as written before quotas counted principals (`Requester` in clear, keyed by its SHA-256).
    ///   - sessionOwner: the owner the session row records (the lease's is `holderKey`).
    static func partition(
        leases: Int = 1, addresses: UInt64 = 256, stockPool: String? = "team-a", rowPool: String? = "team-a",
        leaseState: NetworkState = .leased, legacyCounter: Bool = false, sessionOwner: String? = holderKey
    ) throws -> [TableEntity] {
        let key =
            legacyCounter
            ? RowKeys.legacyUsage(pool: "team-a", requester: "alice")
            : RowKeys.usage(pool: "team-a", holderKey: holderKey)
        let facts = NetworkRow.Lease(
            id: "lease-1", sessionId: "s-1", requester: "alice", ownerKey: holderKey, quotaKeys: [key])
        let lease = NetworkRow(
            prefix: try IPPrefix(parsing: "10.1.0.0/24"), holding: try #require(.lease(facts, in: leaseState)),
            pool: "team-a")
        var session = SessionRow(
            sessionId: "s-1", leaseId: "lease-1", networkRowKey: lease.rowKey, requestHash: "h", createdAt: Date())
        session.ownerKey = sessionOwner
        let counter =
            legacyCounter
            ? TableEntity(
                partitionKey: partition, rowKey: key,
                properties: [
                    "Pool": .string("team-a"), "Requester": .string("alice"),
                    "Leases": .int64(Int64(leases)), "Addresses": .int64(Int64(addresses)),
                ])
            : UsageRow(
                pool: "team-a", holderKey: holderKey, sealedHolder: "sealed", leases: leases, addresses: addresses
            ).entity(partitionKey: partition)
        let free = NetworkRow.available(try IPPrefix(parsing: "10.1.1.0/24"), pool: rowPool)
        let event = AuditEvent(
            action: "lease", actor: "t", cidr: lease.prefix.description, leaseId: "lease-1", sessionId: "s-1",
            before: "available", after: "leased")
        return [
            lease.entity(partitionKey: partition), session.entity(partitionKey: partition),
            event.entity(partitionKey: partition, at: Date()),
            free.entity(partitionKey: partition), Inventory.stockEntity(free.prefix, pool: stockPool, scope: scope),
            counter,
        ]
    }

    @Test(
        "a consistent partition with a pool, its stock and a counter has no violations; so has one whose counter and session row are from before principals"
    )
    func clean() throws {
        for entities in [try Self.partition(), try Self.partition(legacyCounter: true, sessionOwner: nil)] {
            let problems = InvariantChecker.violations(in: entities)
            #expect(problems.isEmpty, "\(problems)")
        }
    }

    @Test(
        "a counter off by a lease or by addresses, a released lease still counted, stock in another pool's index: each reported"
    )
    func damage() throws {
        let cases: [([TableEntity], String)] = [
            (try Self.partition(leases: 2), "counts 2 leases"),
            (try Self.partition(addresses: 512), "512 addresses"),
            (try Self.partition(leaseState: .quarantined), "the live leases naming it are 0"),
            (try Self.partition(stockPool: nil), "its stock row is in ''"),
            (try Self.partition(stockPool: "team-b"), "its stock row is in 'team-b'"),
            (try Self.partition(leases: 2, legacyCounter: true), "counts 2 leases"),
            (
                try Self.partition(sessionOwner: "ffffffffffffffffffffffffffffffff"),
                "session s-1 belongs to ffffffffffffffffffffffffffffffff"
            ),
        ]
        for (entities, expected) in cases {
            let problems = InvariantChecker.violations(in: entities)
            #expect(problems.contains { $0.contains(expected) }, "expected '\(expected)' in \(problems)")
        }
    }
}

/// The checker holds dual-stack leases to their shape: two rows, one of each version, naming each other,
/// telling one lease, with a session row that names both. Each kind of damage is reported.
@Suite("Partition invariants: dual-stack leases")
struct DualStackInvariantTests {
    static let partition = PartitionInvariantTests.partition

    /// A consistent dual-stack lease, with `damage` applied to its rows before they are written.
    static func lease(
        second: String = "fd00:1::/56",
        _ damage: (inout NetworkRow, inout NetworkRow, inout SessionRow) -> Void = { _, _, _ in }
    ) throws -> [TableEntity] {
        let draft = LeaseDraft(
            leaseId: "lease-d", sessionId: "s-d", requestHash: "h", requester: nil,
            leasedAt: Date(timeIntervalSince1970: 1_000),
            expiresAt: Date(timeIntervalSince1970: 5_000), subnets: [.init(name: "app", prefixLength: 26)])
        var (v4, v6, session) = draft.pairRows(
            v4: try IPPrefix(parsing: "10.1.0.0/24"), v6: try IPPrefix(parsing: second))
        damage(&v4, &v6, &session)
        var event = AuditEvent(
            action: "lease", actor: "t", cidr: v4.prefix.description, leaseId: "lease-d", sessionId: "s-d",
            before: "available", after: "leased")
        event.cidrV6 = v6.prefix.description
        return [
            v4.entity(partitionKey: partition), v6.entity(partitionKey: partition),
            session.entity(partitionKey: partition),
            event.entity(partitionKey: partition, at: Date()),
        ]
    }

    /// `row` naming `pairKey` as its partner.
    static func paired(_ row: NetworkRow, _ pairKey: String?) -> NetworkRow {
        var lease = row.lease!
        lease.pairKey = pairKey
        var paired = row
        paired.holding = row.holding.replacing(lease)
        return paired
    }

    @Test("a consistent dual-stack lease has no violations; its IPv6 row has a /64 per subnet and both name each other")
    func clean() throws {
        let entities = try Self.lease()
        #expect(InvariantChecker.violations(in: entities).isEmpty, "\(InvariantChecker.violations(in: entities))")
        let rows = entities.compactMap(NetworkRow.init(entity:))
        #expect(
            rows.count == 2 && rows[1].subnets == [.init(name: "app", prefixLength: 64)]
                && rows[0].partnerPrefix == rows[1].prefix && rows[1].partnerPrefix == rows[0].prefix)
        #expect(rows[1].isSecondHalf && !rows[0].isSecondHalf && rows[1].blocks.primary == rows[0].prefix)
    }

    @Test(
        "one row changed without the other, a partner that names another row, a missing partner, a session that names one row only, two rows of one version: each reported"
    )
    func damage() throws {
        let cases: [([TableEntity], String)] = [
            (
                try Self.lease { _, v6, _ in v6 = v6.quarantined(at: Date(timeIntervalSince1970: 6_000))! },
                "tell different leases"
            ),
            (
                try Self.lease { _, v6, _ in v6 = v6.leased(until: Date(timeIntervalSince1970: 9_000))! },
                "tell different leases"
            ),
            (
                try Self.lease { v4, _, _ in
                    v4 = Self.paired(v4, RowKeys.network(try! IPPrefix(parsing: "fd00:2::/56")))
                },
                "which is missing"
            ),
            (
                try Self.lease { _, v6, _ in
                    v6 = Self.paired(v6, RowKeys.network(try! IPPrefix(parsing: "10.9.0.0/24")))
                },
                "as its partner, which names"
            ),
            (try Self.lease { _, _, session in session.networkRowKeyV6 = nil }, "points at no IPv6 row"),
            (try Self.lease { _, v6, _ in v6 = Self.paired(v6, nil) }, "is on both"),
            (try Self.lease(second: "10.2.0.0/24"), "are of one IP version"),
        ]
        for (entities, expected) in cases {
            let problems = InvariantChecker.violations(in: entities)
            #expect(problems.contains { $0.contains(expected) }, "expected '\(expected)' in \(problems)")
        }
    }
}
