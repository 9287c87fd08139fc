import AzureTables
import Foundation
import IPAMCore
import NetworkMath
import Testing

@testable import Inventory

/// A row read from storage carries its ETag, and every write over it is `If-Match` that ETag; the only write
/// without one is spelled out (no storage: the operations are built and read back here).
@Suite("Stored rows and their writes")
struct StoredTests {
    static let prefix = try! IPPrefix(parsing: "10.2.0.0/24")

    static let leased = NetworkRow(prefix: prefix, holding: .leased(.init(id: "l1", sessionId: "s1"), vnet: nil))

    static func entity(etag: String?) -> TableEntity {
        let row = NetworkRow(prefix: prefix, holding: .leased(.init(id: "l1", sessionId: "s1"), vnet: nil))
        var entity = row.entity(partitionKey: "p")
        entity.etag = etag
        return entity
    }

    @Test("a row read with an ETag is stored with it; an entity without one is no stored row")
    func readRequiresETag() throws {
        let stored = try #require(Stored(network: Self.entity(etag: "W/\"1\"")))
        #expect(stored.etag == "W/\"1\"")
        #expect(stored.prefix == Self.prefix && stored.state == .leased && stored.leaseId == "l1")
        #expect(Stored(network: Self.entity(etag: nil)) == nil)
        #expect(Stored(network: TableEntity(partitionKey: "p", rowKey: "head", etag: "x")) == nil, "not a network row")
    }

    @Test("writes over a stored row are If-Match its ETag: replace, merge, delete")
    func conditionalWrites() throws {
        let stored = Stored(Self.leased, etag: "e1")
        let updated = try #require(stored.value.quarantined(at: Date(timeIntervalSince1970: 1)))
        guard case .replace(let written, let condition) = stored.replaced(by: updated, partitionKey: "p") else {
            Issue.record("a replace")
            return
        }
        #expect(condition == .etag("e1"))
        #expect(written["State"] == .string("quarantined") && written.rowKey == stored.rowKey)
        guard case .merge(let merged, let mergeCondition) = stored.merged(["LastSeenAt": .int32(1)], partitionKey: "p")
        else {
            Issue.record("a merge")
            return
        }
        #expect(mergeCondition == .etag("e1") && merged.properties.keys.sorted() == ["LastSeenAt"])
        guard case .delete(_, let rowKey, let deleteCondition) = stored.deleted(partitionKey: "p") else {
            Issue.record("a delete")
            return
        }
        #expect(deleteCondition == .etag("e1") && rowKey == stored.rowKey)
    }

    @Test("the one unconditional write says so: If-Match *")
    func unconditionalWrite() {
        guard
            case .replace(_, let condition) = Self.leased.replacingUnconditionally(partitionKey: "p")
        else {
            Issue.record("a replace")
            return
        }
        #expect(condition == .any)
    }

    @Test("a committed write gives the row back stored with the ETag of its slot; none is an error, not a fallback")
    func committedRows() async throws {
        var transaction = InventoryTransaction()
        let row = Self.leased
        transaction.add(.network(Self.prefix), .insert(row.entity(partitionKey: "p")))
        transaction.add(.stock(Self.prefix), .delete(partitionKey: "p", rowKey: "stock", ifMatch: .any))
        let committed = try await transaction.commit { _ in ["n1", nil] }
        #expect(try committed.stored(row, .network(Self.prefix)) == Stored(row, etag: "n1"))
        #expect(throws: InventoryError.self) { try committed.stored(row, .stock(Self.prefix)) }
    }
}
