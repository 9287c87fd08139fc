import Foundation
import Inventory
import StrictJSON
import Testing

/// The drift findings the Manager's status keeps: the first ones, as many as one string property holds.
@Suite("Manager status findings")
struct ManagerStatusFindingsTests {
    static func finding(_ index: Int, detail: String) -> ManagerStatus.Finding {
        ManagerStatus.Finding(
            kind: "occupied", scope: "11111111-1111-1111-1111-111111111111_eastus",
            cidr: "10.64.\(index / 256).\(index % 256)/32",
            detail: detail)
    }

    @Test("short findings: the first 200 kept whole, in order; the JSON reads back as them")
    func short() throws {
        let drift = (0..<300).map { Self.finding($0, detail: "used by vnet\($0)") }
        let (kept, json) = Inventory.storedFindings(drift)
        #expect(kept == Array(drift.prefix(200)))
        let read = try #require(try JSONValue.parse(json).arrayValue)
        #expect(read.map { $0["cidr"]?.stringValue } == kept.map(\.cidr))
        #expect(read.map { $0["detail"]?.stringValue } == kept.map(\.detail))
    }

    @Test(
        "long findings (a VNet's resource id is long): only as many as fit a 64 KiB string property, none cut in half")
    func long() throws {
        let vnet =
            "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-network-prod/providers/Microsoft.Network/virtualNetworks/"
        let drift = (0..<1_000).map { Self.finding($0, detail: "used by \(vnet)vnet\($0)") }
        let (kept, json) = Inventory.storedFindings(drift)
        #expect(json.utf16.count <= 32_000 && json.utf16.count < 32 * 1024, "\(json.utf16.count)")
        #expect(kept.count > 50 && kept.count < 200, "\(kept.count)")
        #expect(kept == Array(drift.prefix(kept.count)), "the first ones, in order")
        let read = try #require(try JSONValue.parse(json).arrayValue)
        #expect(read.count == kept.count && read.last?["detail"]?.stringValue == kept.last?.detail)
        // One more would not have fit.
        let (more, _) = Inventory.storedFindings(Array(drift.prefix(kept.count + 1)))
        #expect(more.count == kept.count)
    }

    @Test("a detail is cut to 500 characters, multi-unit characters counted as UTF-16 units")
    func cut() throws {
        let (kept, json) = Inventory.storedFindings([Self.finding(0, detail: String(repeating: "𝔁", count: 2_000))])
        #expect(kept.count == 1 && kept[0].detail.count == 500)
        let (many, manyJSON) = Inventory.storedFindings(
            (0..<200).map { Self.finding($0, detail: String(repeating: "𝔁", count: 2_000)) })
        #expect(manyJSON.utf16.count <= 32_000 && many.count < 40, "\(many.count): 1,000 units a detail")
        #expect(try JSONValue.parse(json).arrayValue?.first?["detail"]?.stringValue == kept[0].detail)
        #expect(Inventory.storedFindings([]).kept.isEmpty && Inventory.storedFindings([]).json == "[]")
    }
}
