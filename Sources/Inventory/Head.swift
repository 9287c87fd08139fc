import AzureTables
import Foundation
import IPAMCore
import NetworkMath

/// The scope's `head` row: the carve lock (its ETag), a version that every carve bumps, and the log of
/// the network rows the most recent versions inserted.
///
/// Network rows are only ever inserted by a transaction that takes the head (carves, stocking, rows the
/// Manager records for unmanaged VNets); claims and state changes update rows that exist. So a process
/// that knows every row of version `v` can learn those of a later version from the log alone, instead of
/// reading every row of the partition again.
public struct Head: Sendable, Equatable {
    public let version: Int64
    public let etag: String
    /// `(version, prefixes inserted by it)` for the newest versions, oldest first, ending at `version`.
    public let log: [(version: Int64, added: [IPPrefix])]

    public init(version: Int64, etag: String, log: [(version: Int64, added: [IPPrefix])] = []) {
        self.version = version
        self.etag = etag
        self.log = log
    }

    public static func == (lhs: Head, rhs: Head) -> Bool {
        lhs.version == rhs.version && lhs.etag == rhs.etag && lhs.log.map(\.version) == rhs.log.map(\.version)
            && lhs.log.map(\.added) == rhs.log.map(\.added)
    }

    /// The head property that holds the log: one line per version, `"{version} {cidr} {cidr}…"`.
    static let logProperty = "Added"
    /// The log keeps the newest lines within this many characters (a string property holds 32K).
    static let logLimit = 24_000

    init?(entity: TableEntity) {
        guard let etag = entity.etag else { return nil }
        version = entity["Version"]?.int64Value ?? 0
        self.etag = etag
        log = Self.parseLog(entity[Self.logProperty]?.stringValue ?? "")
    }

    /// The head as it is after our transaction that inserted `added` (committed with `etag`).
    public static func advanced(_ head: Head?, adding added: [IPPrefix], etag: String) -> Head {
        let next = (head?.version ?? 0) + 1
        return Head(version: next, etag: etag, log: parseLog(logText(after: head, next: next, added: added)))
    }

    static func parseLog(_ text: String) -> [(version: Int64, added: [IPPrefix])] {
        text.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ")
            guard let first = words.first, let version = Int64(first) else { return nil }
            let added = words.dropFirst().compactMap { try? IPPrefix(parsing: String($0)) }
            return added.count == words.count - 1 ? (version, added) : nil
        }
    }

    /// The prefixes inserted after `version` up to this head's, or nil when the log does not reach back
    /// that far (or the version is not an earlier one).
    public func added(since earlier: Int64) -> [IPPrefix]? {
        guard earlier <= version else { return nil }
        guard earlier < version else { return [] }
        let wanted = log.filter { $0.version > earlier }
        // Every version from earlier+1 to version must be there, with nothing missing in between.
        guard wanted.count == Int(version - earlier), wanted.map(\.version) == Array((earlier + 1)...version) else { return nil }
        return wanted.flatMap(\.added)
    }

    /// The log text after a transaction that inserts `added` as version `next`.
    static func logText(after head: Head?, next: Int64, added: [IPPrefix]) -> String {
        var lines = (head?.log ?? []).filter { $0.version < next }.map { "\($0.version) " + $0.added.map(\.description).joined(separator: " ") }
        lines.append("\(next) " + added.map(\.description).joined(separator: " "))
        var total = 0
        var kept: [String] = []
        for line in lines.reversed() {
            total += line.utf8.count + 1
            guard total <= logLimit || kept.isEmpty else { break }
            kept.append(line)
        }
        return kept.reversed().joined(separator: "\n")
    }
}

/// What a Vendor knows of a scope's occupied space (every network row's prefix, any state), kept up to
/// date from the `head` log so a carve reads one row instead of the whole partition.
///
/// A superset is safe (a carve only avoids more space); a missing prefix is not, so anything the log
/// cannot vouch for (a gap in versions, a head that went back, an entry older than `maxAge`) means one
/// full read. Rows deleted meanwhile (the Manager forgets space an unmanaged VNet no longer uses) stay
/// in the set until that full read.
public actor OccupiedSpace {
    private var scopes: [Scope: (version: Int64, prefixes: [IPPrefix], readAt: ContinuousClock.Instant)] = [:]
    private let maxAge: Duration
    /// Full reads of the partition and answers from the log (for tests and the benchmark).
    public private(set) var fullReads = 0
    public private(set) var logReads = 0

    public init(maxAge: Duration = .seconds(60)) { self.maxAge = maxAge }

    /// Every prefix of a network row in `scope`, as of `head` (which the caller read first).
    public func prefixes(in scope: Scope, head: Head?, inventory: Inventory) async throws -> [IPPrefix] {
        if let head, let known = scopes[scope], ContinuousClock.now - known.readAt < maxAge, let added = head.added(since: known.version) {
            logReads += 1
            let prefixes = known.prefixes + added
            scopes[scope] = (head.version, prefixes, known.readAt)
            return prefixes
        }
        fullReads += 1
        let started = ContinuousClock.now
        let prefixes = try await inventory.occupiedPrefixes(in: scope)
        // Rows read after the head was read: at least everything up to head.version.
        scopes[scope] = (head?.version ?? 0, prefixes, started)
        return prefixes
    }

    /// Our own transaction took the head from `version` to `version + 1` inserting `added`.
    public func record(_ scope: Scope, from version: Int64, added: [IPPrefix]) {
        guard let known = scopes[scope], known.version == version else { return }
        scopes[scope] = (version + 1, known.prefixes + added, known.readAt)
    }
}
