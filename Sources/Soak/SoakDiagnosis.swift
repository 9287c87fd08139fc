package import AzureTables
internal import Foundation
internal import Inventory

extension SoakChecks {
    /// What the rows an invariant problem names looked like in two reads of the table, the second taken right after
    /// the first with the clients still paused: each network row's state and write time, the stock rows that point
    /// at it, and the newest events of its block. A problem that is gone from the second read, with rows written in
    /// between, was caught between two writes of a writer the gate does not pause (a Manager); one still there is
    /// the table's.
    package static func diagnose(_ problems: [String], first: [TableEntity], second: [TableEntity]) -> [String] {
        var keys: [String] = []
        for problem in problems {
            for word in problem.split(whereSeparator: { $0 == " " || $0 == "," || $0 == ":" })
            where word.hasPrefix(RowKeys.networkPrefix) && !keys.contains(String(word)) {
                keys.append(String(word))
            }
        }
        return keys.prefix(5).map { key in
            "\(key): first read \(describe(key, in: first)); second read \(describe(key, in: second))"
        }
    }

    /// The network row `key` (state, write time), the stock rows naming it, and its block's newest three events.
    static func describe(_ key: String, in rows: [TableEntity]) -> String {
        func written(_ entity: TableEntity) -> String { entity.timestamp.map(EdmDateTime.format) ?? entity.etag ?? "?" }
        let network = rows.first { $0.rowKey == key }
        var parts = [
            network.map { "\($0["State"]?.stringValue ?? "?") written \(written($0))" } ?? "no network row"
        ]
        let stock = rows.filter { $0.rowKey.hasPrefix(RowKeys.stockPrefix) && $0["NetworkRowKey"]?.stringValue == key }
        parts.append(
            stock.isEmpty
                ? "no stock row"
                : stock.map { "stock row \($0.rowKey) written \(written($0))" }.joined(
                    separator: ", "))
        if let cidr = network?["Cidr"]?.stringValue ?? stock.first?["Cidr"]?.stringValue {
            let events = rows.filter {
                $0.rowKey.hasPrefix(RowKeys.eventPrefix)
                    && ($0["Cidr"]?.stringValue ?? "").split(separator: " ").contains(Substring(cidr))
            }.prefix(3) // newest first in key order
            parts.append(
                "events: "
                    + (events.isEmpty
                        ? "none"
                        : events.map {
                            "\($0["Action"]?.stringValue ?? "?") by \($0["Actor"]?.stringValue ?? "?") at \(written($0))"
                        }.joined(separator: ", ")))
        }
        return parts.joined(separator: "; ")
    }
}
