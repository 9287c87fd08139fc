import AzureCore
import AzureTables
import NetworkMath
import Testing

@testable import Inventory

/// Transactions built by named slots: what storage answers by an operation's index comes back by the slot
/// it was added under (no storage: the answers are made here).
@Suite("Inventory transactions by slot")
struct InventoryTransactionTests {
    static let v4 = try! IPPrefix(parsing: "10.1.0.0/24")
    static let v6 = try! IPPrefix(parsing: "fd00:1::/56")

    /// A dual-stack claim's shape, with a quota counter: one operation per slot.
    static var claim: InventoryTransaction {
        var transaction = InventoryTransaction()
        transaction.add(.session, .insert(TableEntity(partitionKey: "p", rowKey: "session_s")))
        transaction.add(.stock(v4), .delete(partitionKey: "p", rowKey: "stock_4", ifMatch: .etag("a")))
        transaction.add(.stock(v6), .delete(partitionKey: "p", rowKey: "stock_6", ifMatch: .etag("b")))
        transaction.add(.network(v4), .replace(TableEntity(partitionKey: "p", rowKey: "net_4"), ifMatch: .any))
        transaction.add(.network(v6), .replace(TableEntity(partitionKey: "p", rowKey: "net_6"), ifMatch: .any))
        transaction.add(.event, .insert(TableEntity(partitionKey: "p", rowKey: "event_1")))
        transaction.add(.usage("usage_k"), .insert(TableEntity(partitionKey: "p", rowKey: "usage_k")))
        return transaction
    }

    static func failing(_ status: Int, at index: Int?, code: String? = nil) async -> InventoryTransaction.Failure? {
        do {
            _ = try await claim.commit { _ in
                throw AzureError(status: status, errorCode: code, message: "test", failedOperationIndex: index)
            }
            return nil
        } catch {
            return error
        }
    }

    @Test("a refused operation is reported by the slot it was added under, whatever its position")
    func refusalsByName() async {
        let slots: [InventoryTransaction.Slot] = [
            .session, .stock(Self.v4), .stock(Self.v6), .network(Self.v4), .network(Self.v6), .event,
            .usage("usage_k"),
        ]
        #expect(Self.claim.slots == slots)
        for (index, slot) in slots.enumerated() {
            #expect(await Self.failing(412, at: index)?.kind == .refused(slot, .changed))
            #expect(await Self.failing(409, at: index)?.kind == .refused(slot, .exists))
            #expect(await Self.failing(404, at: index, code: "ResourceNotFound")?.kind == .refused(slot, .missing))
        }
    }

    @Test("no index, or one outside the transaction, is a refusal of no slot; lost answers and faults keep their kind")
    func refusalsWithoutSlot() async {
        #expect(await Self.failing(412, at: nil)?.kind == .refused(nil, .changed))
        #expect(await Self.failing(409, at: 7)?.kind == .refused(nil, .exists))
        #expect(await Self.failing(504, at: nil)?.kind == .unknown)
        let refusedAccess = await Self.failing(403, at: nil, code: "AuthorizationFailure")
        #expect(refusedAccess?.kind == .failed)
        #expect(refusedAccess?.error.kind == .unavailable)
        let missingTable = await Self.failing(404, at: nil, code: "TableNotFound")
        #expect(missingTable?.kind == .failed)
        #expect(missingTable?.error.kind == .tableMissing)
    }

    @Test(
        "throttling (503 ServerBusy, 429, 500 OperationTimedOut, a paced turn past the deadline) is marked throttled; other faults are not"
    )
    func throttledFailures() async {
        #expect(await Self.failing(503, at: nil, code: "ServerBusy")?.error.throttled == true)
        #expect(await Self.failing(429, at: nil)?.error.throttled == true)
        let timedOut = await Self.failing(500, at: nil, code: "OperationTimedOut")
        #expect(timedOut?.error.throttled == true && timedOut?.kind == .unknown, "throttled, and its outcome unknown")
        #expect(await Self.failing(500, at: nil, code: "InternalError")?.error.throttled == false)
        #expect(await Self.failing(403, at: nil, code: "AuthorizationFailure")?.error.throttled == false)
        #expect(await Self.failing(412, at: 1)?.error.throttled == false)
        let paced = InventoryError(AzureError.notAdmitted("networkcidr/s_eastus"))
        #expect(paced.throttled && paced.kind == .unavailable)
    }

    @Test("a committed transaction's ETags are read by slot (the first operation of a slot that repeats)")
    func etagsByName() async throws {
        var transaction = Self.claim
        transaction.add(.event, .insert(TableEntity(partitionKey: "p", rowKey: "event_2")))
        let committed = try await transaction.commit { actions in actions.indices.map { "e\($0)" } }
        #expect(committed.etag(.session) == "e0")
        #expect(committed.etag(.network(Self.v4)) == "e3")
        #expect(committed.etag(.network(Self.v6)) == "e4")
        #expect(committed.etag(.event) == "e5")
        #expect(committed.etag(.usage("usage_k")) == "e6")
        #expect(committed.etag(.head) == nil)
    }

    @Test("slots of added transactions keep their names in the combined one")
    func combined() {
        var first = InventoryTransaction()
        first.add(.head, .insert(TableEntity(partitionKey: "p", rowKey: "head")))
        var rest = InventoryTransaction()
        rest.add(
            .taken,
            [
                .delete(partitionKey: "p", rowKey: "net_a", ifMatch: .etag("x")),
                .delete(partitionKey: "p", rowKey: "stock_a", ifMatch: .any),
            ])
        rest.add(.reservation("r1"), .insert(TableEntity(partitionKey: "p", rowKey: "reservation_r1")))
        first.add(rest)
        #expect(first.count == 4)
        #expect(first.slots == [.head, .taken, .taken, .reservation("r1")])
        #expect(first.slot(at: 2) == .taken)
        #expect(first.slot(at: 4) == nil)
    }
}
