import Foundation
import Inventory
import VendorDomain
import VendorHTTP

/// Continuation tokens of the listings (`GET /api/leases`, `/api/events`, the console): a token a caller sends
/// gives a cursor or nil (the route's `invalidContinuation`); a cursor it gives prints to a token that reads
/// back as the same cursor; a cursor the Vendor makes from a row (short keys, a partition without `/`) reads
/// back from its token.
enum ContinuationTarget: FuzzTarget {
    static let name = "continuation"

    static func run(_ bytes: [UInt8]) {
        let token = text(bytes)
        for prefix in ["net_", "evt_", ""] {
            if let cursor = LeaseCursor(token: token, rowPrefix: prefix) {
                // Row keys are ordered and ranged by their bytes (UTF-8), not by characters: `net_` then a combining
                // mark is inside `net_` although `hasPrefix` (graphemes) says no.
                guard cursor.rowKey.utf8.starts(with: prefix.utf8) else {
                    violated("cursor row key '\(cursor.rowKey)' outside '\(prefix)'")
                }
                guard LeaseCursor(token: cursor.token, rowPrefix: prefix) == cursor else {
                    violated("token → cursor → token → cursor changed it")
                }
            }
        }
        let (head, rest) = bytes.split(at: UInt8(ascii: "/"))
        let cursor = LeaseCursor(partitionKey: text(head), rowKey: "net_" + text(rest))
        if cursor.token.count < 1024, LeaseCursor(token: cursor.token) != cursor {
            violated("the cursor of \(cursor) does not read back")
        }
    }
}
