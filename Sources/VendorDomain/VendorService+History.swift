package import Foundation
package import IPAMCore
package import Inventory
package import NetworkMath

/// What an address history query asks for (docs/Design.md, "Address history"): exactly one of `cidr`, `leaseId`
/// and `resourceId`, in `scopes`, optionally within a time window.
package struct HistoryQuery: Sendable {
    package enum Subject: Sendable, Equatable {
        case cidr(IPPrefix)
        case lease(String)
        case resource(String)
    }

    package var subject: Subject
    package var scopes: [Scope]
    package var since: Date?
    package var until: Date?
    package var limit: Int
    package var after: HistoryCursor?

    package init(subject: Subject, scopes: [Scope], limit: Int) {
        self.subject = subject
        self.scopes = scopes
        self.limit = limit
    }
}

/// One holding of one block and the states it went through.
package struct HistoryEntry: Sendable, Equatable {
    package var scope: Scope
    package var prefix: IPPrefix
    package var kind: HistoryMark.Kind
    /// The holding's identity on the block (a lease id, `reservation:{id}`, `occupied:{VNet}`).
    package var holder: String
    package var leaseId: String?
    package var sessionId: String?
    package var requester: String?
    package var resourceId: String?
    /// Every resource id its marks named (an entry matches a `resourceId` query by any of them).
    package var resourceIds: Set<String> = []
    package var states: [State]

    package struct State: Sendable, Equatable {
        package var state: String
        package var from: Date
        package var to: Date?
    }

    package var reservationId: String? {
        holder.hasPrefix("reservation:") ? String(holder.dropFirst("reservation:".count)) : nil
    }
    package var start: Date { states.first?.from ?? .distantPast }
    /// When it ended; nil while it lasts.
    package var end: Date? { states.last?.to }

    /// Where it sorts: oldest first, then by scope, block and holder (the order pages follow).
    package var cursor: HistoryCursor {
        HistoryCursor(
            nanos: HistoryCursor.nanos(start), partition: scope.partitionKey, block: SortableKey.make(prefix),
            holder: holder)
    }
}

/// A position in the oldest-first order of history entries: a page continues after the entry it names.
package struct HistoryCursor: Sendable, Comparable {
    package var nanos: Int64
    package var partition: String
    package var block: String
    package var holder: String

    package static func nanos(_ date: Date) -> Int64 {
        Int64(max(0, min(date.timeIntervalSince1970, 9.2e9)) * 1e9)
    }

    package static func < (a: HistoryCursor, b: HistoryCursor) -> Bool {
        (a.nanos, a.partition, a.block, a.holder) < (b.nanos, b.partition, b.block, b.holder)
    }

    /// The opaque continuation token (base64url of the four parts).
    package var token: String {
        let text = [String(nanos), partition, block, holder].joined(separator: "\n")
        return Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// A cursor from a token `token` made; nil for anything else.
    package init?(token: String) {
        guard token.count <= 2048, token.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }),
            token.allSatisfy(\.isASCII)
        else { return nil }
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8) else {
            return nil
        }
        let parts = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, let nanos = Int64(parts[0]), nanos >= 0, !parts[1].isEmpty,
            SortableKey.parse(parts[2]) != nil
        else { return nil }
        self.init(nanos: nanos, partition: parts[1], block: parts[2], holder: parts[3])
    }

    package init(nanos: Int64, partition: String, block: String, holder: String) {
        self.nanos = nanos
        self.partition = partition
        self.block = block
        self.holder = holder
    }
}

/// One page of history: entries oldest first, where the next page starts, and what it cost.
package struct HistoryPage: Sendable {
    package var entries: [HistoryEntry]
    package var next: HistoryCursor?
    /// Storage round trips this page took (the figure docs/Performance.md states).
    package var roundTrips: Int
}

/// Marks to entries: pure, so the tests can hold it to a brute-force reading of the audit trail.
package enum HistoryAssembly {
    /// The holdings the marks of one scope tell, oldest first per block. On one block, a mark of another holder
    /// (or an end) closes the holding before it; a mark of the same holder in another state closes that state.
    package static func entries(_ marks: [HistoryMark], scope: Scope) -> [HistoryEntry] {
        var entries: [HistoryEntry] = []
        let byBlock = Dictionary(grouping: marks, by: \.prefix)
        for (prefix, blockMarks) in byBlock {
            var open: HistoryEntry? = nil
            func close(at date: Date) {
                guard var entry = open else { return }
                if entry.states[entry.states.count - 1].to == nil { entry.states[entry.states.count - 1].to = date }
                entries.append(entry)
                open = nil
            }
            for mark in blockMarks.sorted(by: { ($0.at, $0.rowKey) < ($1.at, $1.rowKey) }) {
                guard mark.state != HistoryMark.ended, mark.state != NetworkState.available.rawValue else {
                    close(at: mark.at)
                    continue
                }
                if var entry = open, entry.holder == mark.holder {
                    if entry.states[entry.states.count - 1].state != mark.state {
                        entry.states[entry.states.count - 1].to = mark.at
                        entry.states.append(.init(state: mark.state, from: mark.at, to: nil))
                    }
                    entry.resourceId = mark.resourceId ?? entry.resourceId
                    if let resource = mark.resourceId { entry.resourceIds.insert(resource.lowercased()) }
                    entry.requester = entry.requester ?? mark.requester
                    open = entry
                    continue
                }
                close(at: mark.at)
                var entry = HistoryEntry(
                    scope: scope, prefix: prefix, kind: mark.kind ?? .lease, holder: mark.holder,
                    leaseId: mark.leaseId, sessionId: mark.sessionId, requester: mark.requester,
                    resourceId: mark.resourceId, states: [.init(state: mark.state, from: mark.at, to: nil)])
                if let resource = mark.resourceId { entry.resourceIds.insert(resource.lowercased()) }
                open = entry
            }
            if let entry = open { entries.append(entry) }
        }
        return entries.sorted { $0.cursor < $1.cursor }
    }

    /// Whether `entry` was held at some time within [since, until].
    package static func overlaps(_ entry: HistoryEntry, since: Date?, until: Date?) -> Bool {
        if let until, entry.start > until { return false }
        if let since, let end = entry.end, end < since { return false }
        return true
    }
}

extension VendorService {
    /// A page of address history (docs/Design.md, "Address history"): read from the history index, never the
    /// audit trail, so its cost is the history of the addresses asked about, whatever else the scope holds.
    package func history(_ query: HistoryQuery) async throws(DomainError) -> HistoryPage {
        var all: [HistoryEntry] = []
        var roundTrips = 0
        for scope in query.scopes {
            let read: Inventory.HistoryRead
            var keep: (HistoryEntry) -> Bool = { _ in true }
            switch query.subject {
            case .cidr(let range):
                let supernets = (configuration.scopes[scope]?.supernets ?? []).filter { $0.overlaps(range) }
                guard !supernets.isEmpty else { continue }
                let shortest = supernets.map(\.length).min() ?? range.length
                read = try await storage { () async throws(InventoryError) in
                    try await inventory.historyMarks(overlapping: range, in: scope, shortest: shortest)
                }
            case .lease(let id):
                let (blocks, reads) = try await storage { () async throws(InventoryError) in
                    try await inventory.historyBlocks(ofLease: id, in: scope)
                }
                roundTrips += reads
                guard let blocks, !blocks.isEmpty else { continue }
                read = try await storage { () async throws(InventoryError) in
                    try await inventory.historyMarks(of: blocks, in: scope)
                }
                keep = { $0.leaseId?.lowercased() == id.lowercased() }
            case .resource(let id):
                let (blocks, reads) = try await storage { () async throws(InventoryError) in
                    try await inventory.historyBlocks(ofResource: id, in: scope)
                }
                roundTrips += reads
                guard !blocks.isEmpty else { continue }
                read = try await storage { () async throws(InventoryError) in
                    try await inventory.historyMarks(of: blocks, in: scope)
                }
                let wanted = id.lowercased()
                keep = { $0.resourceIds.contains(wanted) }
            }
            roundTrips += read.roundTrips
            all += HistoryAssembly.entries(read.marks, scope: scope).filter {
                keep($0) && HistoryAssembly.overlaps($0, since: query.since, until: query.until)
            }
        }
        all.sort { $0.cursor < $1.cursor }
        if let after = query.after { all = all.filter { after < $0.cursor } }
        let page = Array(all.prefix(query.limit))
        return HistoryPage(
            entries: page, next: all.count > query.limit ? page.last?.cursor : nil, roundTrips: roundTrips)
    }
}
