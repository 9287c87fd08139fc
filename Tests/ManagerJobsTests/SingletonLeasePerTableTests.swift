import AzureTables
import Foundation
import IPAMCore
import Inventory
import ManagerJobs
import TestSupport
import Testing

/// The Manager's singleton lease is per inventory table: deployments sharing a storage account (and so the
/// locks table `ipamLocks`) do not block each other.
@Suite("Manager singleton lease per inventory table")
struct SingletonLeasePerTableTests {
    @Test(
        "two Managers of two inventory tables in one storage account run at the same time; a second Manager of one table still skips"
    )
    func twoTablesAtOnce() async throws {
        let service = try await TestStorage.service()
        let names = [TestStorage.uniqueName("lockA"), TestStorage.uniqueName("lockB")]
        let inventories = names.map { Inventory(table: service.table($0), actor: "manager-test") }
        // the inventory table and the account's shared `ipamLocks`
        for inventory in inventories { try await inventory.ensureTables() }
        let clock = ManualClock()
        let cycle = {
            @Sendable (inventory: Inventory, owner: String, jobs: @escaping @Sendable () async -> Void) -> ManagerCycle<
                ManualClock, ManagerRun.Report
            > in
            ManagerCycle(
                lease: inventory.singletonLease(owner: owner, duration: .seconds(30), now: { clock.date }),
                clock: clock, logger: quiet
            ) {
                await jobs()
                return ManagerRun.Report()
            }
        }
        let inside = Door()
        let finish = Door()
        let first = Task {
            try await cycle(inventories[0], "manager-a1") {
                inside.open()
                await finish.wait()
            }.runOnce()
        }
        await inside.wait() // manager-a1 holds table A's lease and is running its jobs
        let locks = service.table("ipamLocks")
        let rowA = try #require(
            try await locks.get(partitionKey: "lock", rowKey: SingletonLease.managerName(forTable: names[0])))
        #expect(rowA["Owner"]?.stringValue == "manager-a1")

        let otherTable = try await cycle(inventories[1], "manager-b1") {}.runOnce()
        #expect(otherTable != nil, "the Manager of another table runs while table A's Manager runs")
        let sameTable = try await cycle(inventories[0], "manager-a2") {}.runOnce()
        #expect(sameTable == nil, "a second Manager of table A skips while the first holds the lease")
        // Another handle on table A, its name spelt in other case (Azure table names are case-insensitive): the same lease.
        let otherCase = Inventory(table: service.table(names[0].uppercased()), actor: "manager-test")
        #expect(try await cycle(otherCase, "manager-a3") {}.runOnce() == nil)

        finish.open()
        #expect(try await first.value != nil)
        #expect(
            try await cycle(inventories[0], "manager-a2") {}.runOnce() != nil,
            "released at the end: the next Manager of table A runs")
    }

    @Test(
        "the default table keeps the row every Manager used before (`lock/manager`): a deployment on it keeps one lease through an upgrade"
    )
    func defaultTableKeepsItsRow() {
        #expect(SingletonLease.managerName(forTable: IPAMConfiguration.defaultTableName) == "manager")
        #expect(SingletonLease.managerName(forTable: "NETWORKCIDR") == "manager")
        #expect(SingletonLease.managerName(forTable: "teamB") == "manager-teamb")
        #expect(SingletonLease.managerName(forTable: "TeamB") == SingletonLease.managerName(forTable: "teamb"))
    }
}
