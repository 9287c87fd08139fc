import Foundation
import IPAMCore
import Inventory
import NetworkMath
import TestSupport
import Testing
import VendorDomain
import VendorHTTP

@Suite("Stock cache")
struct StockCacheTests {
    static func candidates(_ count: Int) -> [Inventory.StockCandidate] {
        (0..<count).map {
            Inventory.StockCandidate(
                prefix: try! IPPrefix(parsing: "10.1.\($0).0/24"), rowKey: "stock_\($0)", etag: "e\($0)")
        }
    }

    @Test("each candidate goes to one caller; one given back goes to the next; none is handed out twice")
    func giveBack() async {
        let time = ManualTime()
        let cache = StockCache(time: time.source)
        await cache.fill("k", Self.candidates(3))
        let first = await cache.take("k")!
        await cache.giveBack("k", first)
        var seen: [String] = []
        while let taken = await cache.take("k") { seen.append(taken.candidate.rowKey) }
        #expect(seen.sorted() == ["stock_0", "stock_1", "stock_2"], "the given-back block is offered again, once")
        await cache.fill("k", Self.candidates(3))
        #expect(await cache.take("k") == nil, "blocks handed out are not taken back in by a racing read")
    }

    @Test("entries older than the maximum age are dropped; handed-out blocks may come back after it")
    func ageing() async {
        let time = ManualTime()
        let cache = StockCache(maxAge: .seconds(2), time: time.source)
        await cache.fill("k", Self.candidates(2))
        time.advance(by: .milliseconds(1999))
        #expect(await cache.count("k") == 2)
        time.advance(by: .milliseconds(2))
        #expect(await cache.count("k") == 0)
        #expect(await cache.take("k") == nil)
        await cache.fill("k", Self.candidates(1))
        let taken = await cache.take("k")
        #expect(taken != nil)
        await cache.fill("k", Self.candidates(1))
        #expect(await cache.take("k") == nil)
        time.advance(by: .seconds(3))
        await cache.fill("k", Self.candidates(1))
        #expect(await cache.take("k")?.candidate.rowKey == "stock_0", "after the maximum age a read may offer it again")
    }
}
