import AzureCore
import AzureTables
import Foundation
import IPAMCore
import Inventory
import Logging
import ManagerJobs
import NetworkMath
import ResourceGraph
import StrictJSON
import Synchronization
import TestSupport
import Testing

/// Counts the writes a client sends (every method but GET).
final class WriteCounter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func observe(_ record: AzurePipeline.AttemptRecord) { if record.method != "GET" { count.withLock { $0 += 1 } } }
}

@Suite("Manager singleton lease")
struct SingletonLeaseTests {
    @Test("one Manager holds the lease; the other skips until it is released or expires")
    func exclusive() async throws {
        let table = try await TestStorage.freshTable("locks")
        let clock = ManualClock(start: Date())
        let a = SingletonLease(table: table, owner: "manager-a", duration: .seconds(30), now: { clock.date })
        let b = SingletonLease(table: table, owner: "manager-b", duration: .seconds(30), now: { clock.date })
        let held = try await a.acquire()
        await #expect(throws: SingletonLease.HeldElsewhere.self) { _ = try await b.acquire() }
        let renewed = try await a.renew(held)
        #expect(renewed.etag != held.etag)
        // a stale proof is refused
        await #expect(throws: SingletonLease.HeldElsewhere.self) { _ = try await a.renew(held) }
        try await a.release(renewed)
        let taken = try await b.acquire()
        clock.advance(by: .seconds(31)) // b "crashes": it stops renewing and its lease runs out
        let takeover = try await a.acquire()
        await #expect(throws: SingletonLease.HeldElsewhere.self) { _ = try await b.renew(taken) }
        try await a.release(takeover)
    }

    @Test("two Managers started together: exactly one gets the lease")
    func race() async throws {
        let table = try await TestStorage.freshTable("locks")
        let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<8 {
                group.addTask {
                    do {
                        _ = try await SingletonLease(table: table, owner: "m\(index)").acquire()
                        return true
                    } catch is SingletonLease.HeldElsewhere {
                        return false
                    }
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(winners == 1)
    }
}

@Suite("Replenish")
struct ReplenishTests {
    @Test("meets every stock target, never carves over excluded or held space, and a second run writes nothing")
    func meetsTargets() async throws {
        let connection = try await TestStorage.connectionString()
        let tableName = TestStorage.uniqueName("rep")
        var environment = SampleConfiguration.environment(
            table: tableName, connectionString: connection, stock: #"{"24":10,"26":60}"#)
        environment["IPAM_TABLE_NAME"] = tableName
        let configuration = try IPAMConfiguration.load(environment: environment)
        let writes = WriteCounter()
        let service = try await TestStorage.service(onAttempt: { writes.observe($0) })
        try await service.createTable(tableName)
        let table = service.table(tableName)
        let inventory = Inventory(table: table, actor: "manager-test")
        let scope = configuration.defaultScope
        // A held block in the middle of the space: replenish must go around it.
        let held = NetworkRow(
            prefix: try IPPrefix(parsing: "10.64.1.0/24"),
            holding: .anchored(
                .init(id: UUID().uuidString.lowercased(), sessionId: "held"), vnet: .init(resourceId: "")))
        try await table.submitTransaction([
            .insert(held.entity(partitionKey: scope.partitionKey)),
            .insert(
                SessionRow(
                    sessionId: "held", leaseId: held.leaseId!, networkRowKey: held.rowKey, requestHash: "h",
                    createdAt: Date()
                ).entity(partitionKey: scope.partitionKey)),
            .insert(
                AuditEvent(
                    action: "lease", actor: "test", cidr: "10.64.1.0/24", leaseId: held.leaseId!, sessionId: "held",
                    before: "", after: "anchored"
                ).entity(partitionKey: scope.partitionKey, at: Date())),
        ])
        let replenish = Replenish(
            configuration: configuration, inventory: inventory,
            logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))
        let first = try await replenish.run()
        #expect(first.stocked["\(scope.partitionKey)/24"] == 10)
        #expect(first.stocked["\(scope.partitionKey)/26"] == 60)
        #expect(first.transactions >= 3, "60 rows need more than one transaction")
        let rows = try await table.queryAll(filter: "PartitionKey eq '\(scope.partitionKey)'")
        #expect(InvariantChecker.violations(in: rows).isEmpty, "\(InvariantChecker.violations(in: rows))")
        let available = rows.compactMap(NetworkRow.init(entity:)).filter { $0.state == .available }
        let excluded = try IPPrefix(parsing: "10.64.0.0/24")
        #expect(!available.contains { $0.prefix.overlaps(excluded) || $0.prefix.overlaps(held.prefix) })

        let before = writes.value
        let second = try await replenish.run()
        #expect(second.transactions == 0 && second.stocked.isEmpty)
        #expect(writes.value == before, "a run with nothing to do writes nothing")
    }
}

@Suite("Drift report")
struct DriftReportTests {
    @Test("names occupied blocks and by what, prefix mismatches, vanished VNets and stale leases")
    func report() throws {
        let connection = StorageConnectionString.development
        let environment = SampleConfiguration.environment(table: "drift", connectionString: connection)
        let configuration = try IPAMConfiguration.load(environment: environment)
        let scope = configuration.defaultScope
        let occupied = NetworkRow(
            prefix: try IPPrefix(parsing: "10.64.8.0/24"), holding: .occupied(.init(vnet: "/subscriptions/x/vnet-hub")))
        let anchored = NetworkRow(
            prefix: try IPPrefix(parsing: "10.64.9.0/24"),
            holding: .anchored(.init(id: "l1", sessionId: "s1"), vnet: .init(resourceId: "/subscriptions/x/vnet-gone")))
        let stale = NetworkRow(
            prefix: try IPPrefix(parsing: "10.64.10.0/24"),
            holding: .leased(.init(id: "l2", sessionId: "s2", expiresAt: Date(timeIntervalSinceNow: -60)), vnet: nil))
        let mismatched = NetworkRow(
            prefix: try IPPrefix(parsing: "10.64.11.0/24"),
            holding: .leased(.init(id: "l3", sessionId: "s3", expiresAt: Date(timeIntervalSinceNow: 600)), vnet: nil))
        let vnet = VirtualNetwork(
            id: "/subscriptions/x/vnet-wrong", name: "vnet-wrong", subscriptionId: SampleConfiguration.subscription,
            resourceGroup: "rg",
            location: "eastus", tags: [LeaseTag.name: "l3"], addressPrefixes: ["10.64.12.0/24"])
        let listing = DiscoveryListing(networks: [DiscoveredNetwork(vnet)], pages: 1)
        let report = DriftReport.build(
            configuration: configuration, settings: ManagerSettings(),
            rows: [scope: [occupied, anchored, stale, mismatched].map(ReconciliationDecisionTests.stored)],
            listing: listing, now: Date())
        #expect(Set(report.items.map(\.kind)) == ["occupied", "vnet-missing", "stale-lease", "prefix-mismatch"])
        #expect(report.table.contains("vnet-hub") && report.table.contains("10.64.12.0/24"))
        #expect(report.json["items"]?.arrayValue?.count == 4)
        // The loaded settings decide what the next run does: within the reap grace, or past it.
        #expect(report.items.first { $0.kind == "stale-lease" }?.detail.contains("within the reap grace") == true)
        var eager = ManagerSettings()
        eager.reapGrace = 0
        let due = DriftReport.build(
            configuration: configuration, settings: eager, rows: [scope: [ReconciliationDecisionTests.stored(stale)]],
            listing: listing, now: Date())
        #expect(due.items.first?.detail.hasSuffix("next run: reap") == true, "\(due.items)")
    }
}
