import AzureTables
import Foundation

@testable import TableEmulator

/// The table-emulator's `$filter` (a query parameter anyone with a key sends): text gives a filter or a
/// `ParseError`; a parsed filter evaluates against entities of every property type, `not f` matches exactly
/// what `f` does not, and the key bounds the store narrows its scan with never exclude an entity the filter
/// matches.
enum ODataFilterTarget: FuzzTarget {
    static let name = "odata-filter"

    static let entities: [[String: TableValue]] = [
        [
            "PartitionKey": .string("p1"), "RowKey": .string("net_10.0.0.0_24"), "Count": .int32(3),
            "Big": .int64(1 << 40),
            "Ratio": .double(0.5), "Active": .bool(true), "When": .dateTime(Date(timeIntervalSince1970: 1_700_000_000)),
            "Id": .guid(UUID(uuidString: "c0ffee00-0000-4000-8000-000000000001")!), "Blob": .binary([0xDE, 0xAD]),
        ],
        ["PartitionKey": .string("p2"), "RowKey": .string(""), "Name": .string("O'Brien"), "Active": .bool(false)],
        [
            "PartitionKey": .string("\u{E9}"), "RowKey": .string("e\u{301}"), "Count": .int32(-1),
            "Ratio": .double(-.infinity),
        ],
        ["PartitionKey": .string(""), "RowKey": .string("~"), "Big": .int64(.min), "Ratio": .double(.nan)],
    ]

    static func run(_ bytes: [UInt8]) {
        let filter: ODataFilter
        do { filter = try TableServiceHandler.parseFilter(text(bytes)) } catch {
            guard let refusal = error as? TableServiceError, refusal.status == 400 else {
                violated("parseFilter threw \(error)")
            }
            return
        }
        let bounds = filter.keyBounds
        for entity in entities {
            let matched = filter.matches { entity[$0] }
            guard ODataFilter.not(filter).matches({ entity[$0] }) == !matched else {
                violated("not(f) is not the complement of f")
            }
            guard matched, case .string(let pk)? = entity["PartitionKey"], case .string(let rk)? = entity["RowKey"]
            else { continue }
            let inside = [
                (bounds.partitionLow, pk, true), (bounds.partitionHigh, pk, false), (bounds.rowLow, rk, true),
                (bounds.rowHigh, rk, false),
            ]
            for case (let bound?, let key, let isLow) in inside
            where isLow ? KeyOrder.less(key, bound) : KeyOrder.less(bound, key) {
                violated("key bounds \(bounds) exclude the matched entity \(pk)/\(rk)")
            }
        }
    }
}
