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
    static func partition(leases: Int = 1, addresses: UInt64 = 256, stockPool: String? = "team-a", rowPool: String? = "team-a",
                          leaseState: NetworkState = .leased) throws -> [TableEntity] {
        let key = RowKeys.usage(pool: "team-a", requester: "alice")
        var lease = NetworkRow(prefix: try IPPrefix(parsing: "10.1.0.0/24"), state: leaseState)
        lease.leaseId = "lease-1"
        lease.sessionId = "s-1"
        lease.pool = "team-a"
        lease.requester = "alice"
        lease.quotaKeys = [key]
        let session = SessionRow(sessionId: "s-1", leaseId: "lease-1", networkRowKey: lease.rowKey, requestHash: "h", createdAt: Date())
        var free = NetworkRow(prefix: try IPPrefix(parsing: "10.1.1.0/24"), state: .available)
        free.pool = rowPool
        let event = AuditEvent(action: "lease", actor: "t", cidr: lease.prefix.description, leaseId: "lease-1", sessionId: "s-1", before: "available", after: "leased")
        return [lease.entity(partitionKey: partition), session.entity(partitionKey: partition), event.entity(partitionKey: partition, at: Date()),
                free.entity(partitionKey: partition), Inventory.stockEntity(free.prefix, pool: stockPool, scope: scope),
                UsageRow(pool: "team-a", requester: "alice", leases: leases, addresses: addresses).entity(partitionKey: partition)]
    }

    @Test("a consistent partition with a pool, its stock and a counter has no violations")
    func clean() throws {
        let problems = InvariantChecker.violations(in: try Self.partition())
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test("a counter off by a lease or by addresses, a released lease still counted, stock in another pool's index: each reported")
    func damage() throws {
        let cases: [([TableEntity], String)] = [
            (try Self.partition(leases: 2), "counts 2 leases"),
            (try Self.partition(addresses: 512), "512 addresses"),
            (try Self.partition(leaseState: .quarantined), "the live leases naming it are 0"),
            (try Self.partition(stockPool: nil), "its stock row is in ''"),
            (try Self.partition(stockPool: "team-b"), "its stock row is in 'team-b'"),
        ]
        for (entities, expected) in cases {
            let problems = InvariantChecker.violations(in: entities)
            #expect(problems.contains { $0.contains(expected) }, "expected '\(expected)' in \(problems)")
        }
    }
}
