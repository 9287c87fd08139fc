internal import AzureCore
internal import AzureTables
package import Foundation
package import IPAMCore
package import NetworkMath

/// The address history index (docs/Design.md, "Address history"): rows written in the same transaction as every
/// change of what holds a block, so "who held what overlapped this CIDR, and when" is a few key-range reads
/// whatever the size of the audit trail.
///
/// - `hist_{4|6}_{sortable CIDR}_{19-digit nanoseconds}_{random}`: a *mark*, the block's holding entering a state
///   (or ending: `Entered` = `ended`). Its properties are named apart from a network row's and an event's
///   (`Entered`, `Change`, `HeldBy`), so a query of the partition by `State` or `Action` never meets them. Keys sort by version, address, length, then time, so the blocks inside a CIDR
///   are one key range and each block containing it one key prefix.
/// - `hlease_{lease id}`: the blocks of a lease (`Cidr`, `CidrV6`), written with its first row; not for a lease whose
///   id names its block (`LeaseIdentity`).
/// - `hres_{32 hex digits of SHA-256 of the lower-cased resource id}_{sortable CIDR}`: a VNet's blocks, written
///   (insert or replace) whenever a row gets that resource id (anchor, adoption, occupation).
extension RowKeys {
    package static let historyPrefix = "hist_"
    package static let historyLeasePrefix = "hlease_"
    package static let historyResourcePrefix = "hres_"

    /// Every mark of `prefix` starts with this.
    package static func history(_ prefix: IPPrefix) -> String {
        historyPrefix + (prefix.version == .v4 ? "4_" : "6_") + SortableKey.make(prefix) + "_"
    }

    /// The address part of a mark's key for blocks starting at `address`: what comes before the length.
    static func historyAddress(_ address: IPAddress) -> String {
        let key = SortableKey.make(IPPrefix(address: address, length: address.version.bitWidth)!)
        return historyPrefix + (address.version == .v4 ? "4_" : "6_") + key[..<key.lastIndex(of: "_")!] + "_"
    }

    static func historyMark(_ prefix: IPPrefix, at date: Date) -> String {
        let nanos = Int64(max(0, min(date.timeIntervalSince1970, 9.2e9)) * 1e9)
        let digits = String(nanos)
        return history(prefix) + String(repeating: "0", count: 19 - digits.count) + digits + "_"
            + RandomID.uuid().prefix(8)
    }

    package static func historyLease(_ leaseId: String) -> String { historyLeasePrefix + leaseId.lowercased() }

    /// Every block row of one VNet starts with this.
    package static func historyResource(_ resourceId: String) -> String {
        historyResourcePrefix + LeaseRequest.sha256Hex(resourceId.lowercased()).prefix(32) + "_"
    }
}

/// One mark of the history index: a block's holding entering a state.
package struct HistoryMark: Sendable, Equatable {
    /// What holds a block, as the history answers it.
    package enum Kind: String, Sendable, CaseIterable {
        case lease, adoption, reservation, occupation
    }

    package var prefix: IPPrefix
    /// A `NetworkState` raw value, or `ended` (the holding let go of the block: back to stock, deleted).
    package var state: String
    package var kind: Kind?
    /// The holding's identity on this block: a lease id, `reservation:{id}`, or the occupying VNet.
    package var holder: String
    package var leaseId: String?
    package var sessionId: String?
    package var requester: String?
    package var resourceId: String?
    package var action: String
    package var at: Date
    package var rowKey: String

    package static let ended = "ended"

    init?(entity: TableEntity) {
        guard entity.rowKey.hasPrefix(RowKeys.historyPrefix),
            let cidr = entity["Cidr"]?.stringValue, let prefix = try? IPPrefix(parsing: cidr),
            let state = entity["Entered"]?.stringValue, let at = entity["At"]?.dateValue
        else { return nil }
        func text(_ name: String) -> String? { entity[name]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } }
        self.prefix = prefix
        self.state = state
        kind = text("Kind").flatMap(Kind.init(rawValue:))
        holder = text("HeldBy") ?? ""
        leaseId = text("LeaseId")
        sessionId = text("SessionId")
        requester = text("Requester")
        resourceId = text("ResourceId")
        action = text("Change") ?? ""
        self.at = at
        rowKey = entity.rowKey
    }
}

extension Inventory {
    // MARK: Writing (in the change's own transaction)

    /// The marks, lease row and VNet rows that record `rows` (as a change leaves them; `before`, the state each
    /// had, by row key) in the history index; nothing for a row whose holding and state did not change (a
    /// renewal, a sighting). A row left `available` ends its holding.
    static func historyActions(
        _ rows: [NetworkRow], before: [String: NetworkRow] = [:], action: AuditAction, scope: Scope, now: Date,
        newLease: Bool = false
    ) -> [TableTransactionAction] {
        var actions: [TableTransactionAction] = []
        for row in rows {
            let previous = before[row.rowKey]
            let changed =
                previous.map { $0.state != row.state || holder(of: $0)?.id != holder(of: row)?.id } ?? true
            if changed { actions.append(mark(row, action: action, scope: scope, now: now)) }
            if let resource = row.resourceId ?? row.holding.occupation?.vnet,
                previous.flatMap({ $0.resourceId ?? $0.holding.occupation?.vnet })?.lowercased()
                    != resource.lowercased()
            {
                actions.append(resourceRow(resource, row.prefix, scope: scope))
            }
        }
        if newLease, let first = rows.first, let lease = first.leaseId,
            rows.count > 1 || LeaseIdentity.block(named: lease) != first.prefix
        {
            var properties: [String: TableValue] = [
                "Cidr": .string(first.prefix.description), "LeaseId": .string(lease),
            ]
            if let partner = rows.dropFirst().first { properties["CidrV6"] = .string(partner.prefix.description) }
            actions.append(
                .insert(
                    TableEntity(
                        partitionKey: scope.partitionKey, rowKey: RowKeys.historyLease(lease), properties: properties)))
        }
        return actions
    }

    /// The mark of `prefix`'s holding ending (its row deleted, or returned to free space).
    static func historyEnd(_ prefix: IPPrefix, action: AuditAction, scope: Scope, now: Date) -> TableTransactionAction {
        .insert(
            TableEntity(
                partitionKey: scope.partitionKey, rowKey: RowKeys.historyMark(prefix, at: now),
                properties: [
                    "Cidr": .string(prefix.description), "Entered": .string(HistoryMark.ended),
                    "Change": .string(action.rawValue), "At": .dateTime(now),
                ]))
    }

    /// What holds `row`'s block, nil when nothing does (free, stocked).
    static func holder(of row: NetworkRow) -> (kind: HistoryMark.Kind, id: String)? {
        switch row.state {
        case .available: return nil
        case .reserved: return (.reservation, row.lockedBy ?? "")
        case .occupied: return (.occupation, "occupied:" + (row.lockedBy ?? "").lowercased())
        default: return row.leaseId.map { (.lease, $0) }
        }
    }

    static func mark(_ row: NetworkRow, action: AuditAction, scope: Scope, now: Date) -> TableTransactionAction {
        guard let (kind, id) = holder(of: row) else {
            return historyEnd(row.prefix, action: action, scope: scope, now: now)
        }
        var properties: [String: TableValue] = [
            "Cidr": .string(row.prefix.description), "Entered": .string(row.state.rawValue),
            "Kind": .string(action == .adopt ? HistoryMark.Kind.adoption.rawValue : kind.rawValue),
            "HeldBy": .string(id), "Change": .string(action.rawValue), "At": .dateTime(now),
        ]
        if let lease = row.leaseId { properties["LeaseId"] = .string(lease) }
        if let session = row.sessionId { properties["SessionId"] = .string(session) }
        if let requester = row.requester { properties["Requester"] = .string(requester) }
        if let resource = row.resourceId ?? row.holding.occupation?.vnet {
            properties["ResourceId"] = .string(resource)
        }
        return .insert(
            TableEntity(
                partitionKey: scope.partitionKey, rowKey: RowKeys.historyMark(row.prefix, at: now),
                properties: properties))
    }

    static func resourceRow(_ resourceId: String, _ prefix: IPPrefix, scope: Scope) -> TableTransactionAction {
        .insertOrReplace(
            TableEntity(
                partitionKey: scope.partitionKey,
                rowKey: RowKeys.historyResource(resourceId) + SortableKey.make(prefix),
                properties: ["ResourceId": .string(resourceId), "Cidr": .string(prefix.description)]))
    }

    // MARK: Reading

    /// What a history query read.
    package struct HistoryRead: Sendable {
        package var marks: [HistoryMark] = []
        /// Storage round trips (query pages and point reads) it took.
        package var roundTrips = 0
    }

    /// Every mark of a block that overlaps `range` in `scope`: the blocks inside it (one key range) and each block
    /// containing it down to the shortest of `lengths` (one key prefix each, read side by side).
    package func historyMarks(overlapping range: IPPrefix, in scope: Scope, shortest: Int) async throws(InventoryError)
        -> HistoryRead
    {
        var filters = [
            Self.keyRange(
                RowKeys.historyAddress(range.address), RowKeys.historyAddress(range.last) + "~", in: scope)
        ]
        if shortest < range.length {
            for length in shortest..<range.length {
                guard let containing = IPPrefix.enclosing(range.address, length: length) else { continue }
                // A containing block that starts where `range` does is in the key range already.
                guard containing.address != range.address else { continue }
                let key = RowKeys.history(containing)
                filters.append(Self.keyRange(key, key + "~", in: scope))
            }
        }
        return try await historyMarks(filters)
    }

    /// Every mark of exactly these blocks.
    package func historyMarks(of prefixes: [IPPrefix], in scope: Scope) async throws(InventoryError) -> HistoryRead {
        try await historyMarks(
            Set(prefixes).map { prefix in
                let key = RowKeys.history(prefix)
                return Self.keyRange(key, key + "~", in: scope)
            })
    }

    /// The blocks lease `id` held in `scope` (nil: none there), and the round trips that took: none when the id names
    /// its block (`LeaseIdentity`: whether the lease was in this scope, its marks tell), else one point read.
    package func historyBlocks(ofLease id: String, in scope: Scope) async throws(InventoryError) -> (
        [IPPrefix]?, Int
    ) {
        if let block = LeaseIdentity.block(named: id) { return ([block], 0) }
        let entity = try await storage {
            try await table.get(partitionKey: scope.partitionKey, rowKey: RowKeys.historyLease(id))
        }
        guard let entity else { return (nil, 1) }
        return (["Cidr", "CidrV6"].compactMap { entity[$0]?.stringValue.flatMap { try? IPPrefix(parsing: $0) } }, 1)
    }

    /// The blocks a VNet's resource id was recorded on in `scope`, with the round trips it took (one range).
    package func historyBlocks(ofResource resourceId: String, in scope: Scope) async throws(InventoryError) -> (
        [IPPrefix], Int
    ) {
        let start = RowKeys.historyResource(resourceId)
        var read = 0
        let entities: [TableEntity] = try await storage {
            var all: [TableEntity] = []
            for try await page in table.query(filter: Self.keyRange(start, start + "~", in: scope)) {
                read += 1
                all += page.entities
            }
            return all
        }
        return (entities.compactMap { $0["Cidr"]?.stringValue.flatMap { try? IPPrefix(parsing: $0) } }, read)
    }

    private func historyMarks(_ filters: [String]) async throws(InventoryError) -> HistoryRead {
        let table = self.table
        let pages = try await storage {
            try await withThrowingTaskGroup(of: ([TableEntity], Int).self) { group in
                for filter in filters {
                    group.addTask {
                        var all: [TableEntity] = []
                        var pages = 0
                        for try await page in table.query(filter: filter) {
                            pages += 1
                            all += page.entities
                        }
                        return (all, pages)
                    }
                }
                return try await group.reduce(into: [([TableEntity], Int)]()) { $0.append($1) }
            }
        }
        var read = HistoryRead()
        for (entities, count) in pages {
            read.roundTrips += count
            read.marks += entities.compactMap(HistoryMark.init(entity:))
        }
        return read
    }

    static func keyRange(_ lower: String, _ upper: String, in scope: Scope) -> String {
        "PartitionKey eq '\(TableQuery.quoted(scope.partitionKey))' and RowKey ge '\(TableQuery.quoted(lower))' and RowKey lt '\(TableQuery.quoted(upper))'"
    }
}
