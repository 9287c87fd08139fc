import Foundation
import IPAMCore
import Inventory
import Testing

@testable import VendorDomain

/// `SessionCache` holds at most its capacity, the oldest entries going first, per scope.
@Suite("Session cache")
struct SessionCacheTests {
    static let east = Scope(subscriptionId: "11111111-1111-1111-1111-111111111111", region: "eastus")
    static let west = Scope(subscriptionId: "11111111-1111-1111-1111-111111111111", region: "westus")

    static func row(_ sessionId: String) -> SessionRow {
        SessionRow(
            sessionId: sessionId, leaseId: "lease-\(sessionId)", networkRowKey: "net-\(sessionId)",
            requestHash: "hash", createdAt: Date(timeIntervalSince1970: 0))
    }

    @Test(
        "never more than its capacity, however many sessions pass: the oldest go first, a known one is not counted twice"
    )
    func bounded() async {
        let cache = SessionCache(capacity: 100)
        for index in 0..<10_000 {
            await cache.remember(Self.row("s-\(index)"), in: index.isMultiple(of: 2) ? Self.east : Self.west)
            await cache.remember(Self.row("s-\(index)"), in: index.isMultiple(of: 2) ? Self.east : Self.west)
            #expect(await cache.count <= 100)
        }
        #expect(await cache.count == 100)
        #expect(await cache.lookup("s-9899", in: Self.west) == nil, "older than the last 100: gone")
        #expect(await cache.lookup("s-9900", in: Self.east) == Self.row("s-9900"))
        #expect(await cache.lookup("s-9999", in: Self.west) == Self.row("s-9999"))
        #expect(await cache.lookup("s-9999", in: Self.east) == nil, "scopes apart")
        await cache.forget("s-9999", in: Self.west)
        #expect(await cache.lookup("s-9999", in: Self.west) == nil)
        #expect(await cache.count == 99)
    }
}
