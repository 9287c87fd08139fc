internal import AzureTables
internal import Foundation
package import IPAMCore
package import NetworkMath

/// The scope's `head` row: the carve lock (its ETag), a version that every carve bumps, and the log of
/// the network rows the most recent versions inserted.
///
/// Network rows are only ever inserted by a transaction that takes the head (carves, stocking, rows the
/// Manager records for unmanaged VNets); claims and state changes update rows that exist. So a process
/// that knows every row of version `v` can learn those of a later version from the log alone, instead of
/// reading every row of the partition again.
package struct Head: Sendable, Equatable {
    package let version: Int64
    package let etag: String
    /// The log as stored: one line per version, oldest first, `"{version} {cidr} {cidr}…"`. Kept as text
    /// and read from the end only as far back as a caller needs (it is read on every carve).
    package let logText: String

    package init(version: Int64, etag: String, logText: String = "") {
        self.version = version
        self.etag = etag
        self.logText = logText
    }

    /// The head property that holds the log.
    static let logProperty = "Added"
    /// The log keeps the newest lines within this many bytes (a string property holds 32K characters).
    static let logLimit = 24_000

    init?(entity: TableEntity) {
        guard let etag = entity.etag else { return nil }
        self.init(
            version: entity["Version"]?.int64Value ?? 0, etag: etag,
            logText: entity[Self.logProperty]?.stringValue ?? "")
    }

    /// The head a committed transaction left: the row its first operation (`Inventory.takeHead`'s) wrote,
    /// with the ETag the transaction returned for it. Nil when that operation does not write the head.
    init?(taken action: TableTransactionAction, etag: String) {
        switch action {
        case .insert(var entity), .replace(var entity, _):
            guard entity.rowKey == RowKeys.head else { return nil }
            entity.etag = etag
            self.init(entity: entity)
        default:
            return nil
        }
    }

    /// The head as it is after our transaction that inserted `added` (committed with `etag`).
    package static func advanced(_ head: Head?, adding added: [IPPrefix], etag: String) -> Head {
        let next = (head?.version ?? 0) + 1
        return Head(version: next, etag: etag, logText: logText(after: head, next: next, added: added))
    }

    /// The versions the log holds, oldest first (for tests and diagnostics).
    package var loggedVersions: [Int64] {
        logText.split(separator: "\n").compactMap { $0.split(separator: " ", maxSplits: 1).first.flatMap { Int64($0) } }
    }

    /// The prefixes inserted after `earlier` up to this head's version, or nil when the log does not reach
    /// back that far, has a gap, or `earlier` is not an earlier version.
    package func added(since earlier: Int64) -> [IPPrefix]? {
        guard earlier <= version else { return nil }
        guard earlier < version else { return [] }
        var expected = version
        var lines: [[IPPrefix]] = []
        // Newest line first, back to the first version after `earlier`.
        for line in logText.split(separator: "\n").reversed() {
            let words = line.split(separator: " ")
            guard let first = words.first, Int64(first) == expected else { return nil }
            var prefixes: [IPPrefix] = []
            for word in words.dropFirst() {
                guard let prefix = try? IPPrefix(parsing: String(word)) else { return nil }
                prefixes.append(prefix)
            }
            lines.append(prefixes)
            expected -= 1
            if expected == earlier { return lines.reversed().flatMap { $0 } }
        }
        return nil
    }

    /// The log text after a transaction that inserts `added` as version `next`: the head's lines, the
    /// new one, and as many of the newest as fit in `logLimit`.
    private static func logText(after head: Head?, next: Int64, added: [IPPrefix]) -> String {
        let line = "\(next) " + added.map(\.description).joined(separator: " ")
        let text = head.map { $0.logText.isEmpty ? line : $0.logText + "\n" + line } ?? line
        let utf8 = text.utf8
        guard utf8.count > logLimit else { return text }
        // Drop whole lines from the front until the rest fits (the newest line always stays).
        var dropped = 0
        for index in utf8.indices where utf8[index] == UInt8(ascii: "\n") {
            dropped = utf8.distance(from: utf8.startIndex, to: index) + 1
            if utf8.count - dropped <= logLimit { break }
        }
        return String(text[utf8.index(utf8.startIndex, offsetBy: dropped)...])
    }
}

/// What a Vendor knows of a scope's occupied space (every network row's prefix, any state), kept up to
/// date from the `head` log so a carve reads one row instead of the whole partition.
///
/// A superset is safe (a carve only avoids more space); a missing prefix is not, so anything the log
/// cannot vouch for (a gap in versions, a head that went back, an entry older than `maxAge`) means one
/// full read. Rows deleted meanwhile (the Manager forgets space an unmanaged VNet no longer uses) stay
/// in the set until that full read.
package actor OccupiedSpace {
    /// Per scope: the head version the set is current to, the prefixes in ascending order, and when the
    /// partition was last read in full.
    private struct Known {
        var version: Int64
        var prefixes: [IPPrefix]
        let readAt: ContinuousClock.Instant
    }

    private var scopes: [Scope: Known] = [:]
    private let maxAge: Duration
    /// Per scope: the head as this process's last lease carve left it, and how many carves must read the head
    /// before it is tried again unread (after one found it changed: another process carves the scope too).
    private var heads: [Scope: (head: Head, readsBeforeTrust: Int)] = [:]

    /// - Parameter maxAge: how long knowledge the log kept current may go before one full read again. The full read
    ///   only drops prefixes of rows deleted meanwhile (space a carve may then use again; keeping them is safe), and
    ///   costs the partition one entity per network row (at 65,536 rows, half a minute of a partition's 2,000
    ///   entities/s): ten minutes keeps it to a few percent of the budget.
    package init(maxAge: Duration = .seconds(600)) { self.maxAge = maxAge }

    /// Every prefix of a network row in `scope`, as of `head` (which the caller read first), in ascending
    /// order, and whether that took a read of the partition (false: the head's log was enough).
    package func prefixes(in scope: Scope, head: Head?, inventory: Inventory) async throws(InventoryError) -> (
        prefixes: [IPPrefix], readPartition: Bool
    ) {
        let answer = try await withPrefixes(in: scope, head: head, inventory: inventory) { $0 }
        return (answer.result, answer.readPartition)
    }

    /// `body` run on the prefixes `prefixes(in:head:inventory:)` would return, lent rather than copied:
    /// a big scope's set (tens of thousands of prefixes) is then neither copied nor sorted per carve.
    package func withPrefixes<T: Sendable>(
        in scope: Scope, head: Head?, inventory: Inventory,
        _ body: @Sendable ([IPPrefix]) -> T
    ) async throws(InventoryError) -> (result: T, readPartition: Bool) {
        if let head, let known = scopes[scope], ContinuousClock.now - known.readAt < maxAge,
            let added = head.added(since: known.version)
        {
            add(added, to: scope, version: head.version)
            return (body(scopes[scope]!.prefixes), false)
        }
        let started = ContinuousClock.now
        let prefixes = try await inventory.occupiedPrefixes(in: scope).sorted()
        // Rows read after the head was read: at least everything up to head.version.
        scopes[scope] = Known(version: head?.version ?? 0, prefixes: prefixes, readAt: started)
        return (body(scopes[scope]!.prefixes), true)
    }

    /// The head this process's last lease carve of `scope` left, to try instead of reading it; nil when there is
    /// none, when the set knows a later version (this process read a newer head since), or while the scope is
    /// carved by others too (the last head tried unread had changed).
    package func lastHead(_ scope: Scope) -> Head? {
        guard let known = heads[scope], scopes[scope]?.version == known.head.version else { return nil }
        guard known.readsBeforeTrust == 0 else {
            heads[scope]!.readsBeforeTrust -= 1
            return nil
        }
        return known.head
    }

    /// Our own lease carve left `head`.
    package func remember(_ head: Head, in scope: Scope) {
        heads[scope] = (head, heads[scope]?.readsBeforeTrust ?? 0)
    }

    /// The head tried unread had changed (another process carved): read it for the next 32 carves of the scope.
    /// A refused transaction costs the partition every entity it holds (up to 100), a head read one.
    package func distrustHead(in scope: Scope) {
        guard let known = heads[scope] else { return }
        heads[scope] = (known.head, 32)
    }

    /// Our own transaction took the head from `version` to `version + 1` inserting `added`.
    package func record(_ scope: Scope, from version: Int64, added: [IPPrefix]) {
        guard scopes[scope]?.version == version else { return }
        add(added, to: scope, version: version + 1)
    }

    /// Inserts each in place where it belongs: a carve adds at most a few hundred to a set of tens of thousands,
    /// mostly past its last (fresh space), so a binary search each beats a pass over the whole set.
    private func add(_ added: [IPPrefix], to scope: Scope, version: Int64) {
        scopes[scope]!.version = version
        for prefix in added { scopes[scope]!.prefixes.insertSorted(prefix) }
    }
}
