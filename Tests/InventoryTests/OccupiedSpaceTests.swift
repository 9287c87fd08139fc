import AzureTables
import Foundation
import IPAMCore
import NetworkMath
import TestSupport
import Testing

@testable import Inventory

@Suite("The head log and the occupied-space cache")
struct OccupiedSpaceTests {
    static func prefixes(_ texts: [String]) throws -> [IPPrefix] { try texts.map { try IPPrefix(parsing: $0) } }

    @Test("the log answers for a run of versions only when it holds every one of them")
    func logCoverage() throws {
        var head: Head? = nil
        for index in 0..<5 {
            head = Head.advanced(head, adding: try Self.prefixes(["10.0.\(index).0/24"]), etag: "e\(index)")
        }
        let current = try #require(head)
        #expect(current.version == 5)
        #expect(current.added(since: 5) == [])
        #expect(current.added(since: 3) == (try Self.prefixes(["10.0.3.0/24", "10.0.4.0/24"])))
        #expect(current.added(since: 0)?.count == 5)
        #expect(current.added(since: 6) == nil, "a head that went back is not trusted")
        let gap = Head(
            version: 5, etag: "x",
            logText: current.logText.split(separator: "\n").filter { !$0.hasPrefix("4 ") }.joined(separator: "\n"))
        #expect(gap.added(since: 2) == nil, "a version missing from the log means a full read")
    }

    @Test("the head a carve's transaction leaves is read back from the operation that took it")
    func headFromTakenAction() throws {
        let scope = Scope(subscriptionId: "11111111-1111-1111-1111-111111111111", region: "eastus")
        var head: Head? = nil
        for index in 0..<3 {
            let added = try Self.prefixes(["10.0.\(index).0/24", "10.1.\(index).0/24"])
            let action = Inventory.takeHead(head, adding: added, scope: scope, now: Date())
            let taken = try #require(Head(taken: action, etag: "e\(index)"))
            #expect(taken == Head.advanced(head, adding: added, etag: "e\(index)"))
            head = taken
        }
        #expect(head?.version == 3 && head?.added(since: 1)?.count == 4)
        #expect(Head(taken: .delete(partitionKey: "p", rowKey: "head", ifMatch: .any), etag: "x") == nil)
    }

    @Test("the log keeps the newest versions within its size limit")
    func logLimit() throws {
        var head: Head? = nil
        let many = (0..<200).map { try! IPPrefix(parsing: "10.\($0 / 256).\($0 % 256).0/24") }
        for round in 0..<40 {
            head = Head.advanced(
                head, adding: many.map { IPPrefix(address: $0.address, length: 24)! }, etag: "e\(round)")
        }
        let current = try #require(head)
        #expect(current.loggedVersions.last == 40)
        #expect(current.loggedVersions.count < 40, "old versions are dropped")
        #expect(
            current.loggedVersions == Array(Int64(41 - current.loggedVersions.count)...40), "the newest, without gaps")
        #expect(current.logText.utf8.count <= 24_000)
        #expect(current.added(since: 39)?.count == 200)
        #expect(current.added(since: 1) == nil)
    }

    @Test(
        "alternating writers (two Vendors' carves, the Manager's replenish): the cache matches the partition, mostly from the log"
    )
    func matchesPartition() async throws {
        let table = try await TestStorage.freshTable("occ")
        let inventory = Inventory(table: table, actor: "test")
        let scope = Scope(subscriptionId: SampleConfiguration.subscription, region: "eastus")
        let cacheA = OccupiedSpace()
        let cacheB = OccupiedSpace()
        var next = 0
        var fullReads = [0, 0]
        var logReads = [0, 0] // per cache
        for round in 0..<12 {
            let head = try await inventory.head(of: scope)
            let cache = round % 2 == 0 ? cacheA : cacheB
            let known = try await cache.prefixes(in: scope, head: head, inventory: inventory)
            #expect(
                known.readPartition == (round < 2), "round \(round): only each cache's first look reads the partition")
            if known.readPartition { fullReads[round % 2] += 1 } else { logReads[round % 2] += 1 }
            #expect(Set(known.prefixes) == Set(try await inventory.occupiedPrefixes(in: scope)), "round \(round)")
            // Write the next rows under the head, as a carve or a replenish does.
            let rows = (0..<(1 + round % 3)).map { _ -> NetworkRow in
                defer { next += 1 }
                return NetworkRow.available(
                    IPPrefix(address: try! IPPrefix(parsing: "10.64.\(next).0/24").address, length: 24)!)
            }
            let stocked = try await inventory.addStock(rows.map(\.prefix), in: scope, now: Date(), detail: "test")
            await cache.record(scope, from: head?.version ?? 0, added: rows.map(\.prefix))
            #expect(stocked.count == rows.count)
        }
        #expect(fullReads == [1, 1], "one full read each; every later carve learned the other's rows from the log")
        #expect(logReads[0] + logReads[1] == 10)
    }
}
