import AzureCore
import AzureTables
import Foundation
import IPAMCore
import NetworkMath

/// `IPAMCore`'s rows over Azure Table Storage: reads, and one function per state transition that
/// builds its entity group transaction (with the audit event inside it).
public struct Inventory: Sendable {
    public let table: TableClient
    /// Who writes (for audit events), e.g. `vendor@host:pid`.
    public let actor: String

    public init(table: TableClient, actor: String) {
        self.table = table
        self.actor = actor
    }

    /// Creates the table when it is missing.
    public func ensureTable() async throws {
        try await table.service.createTable(table.name, ifNotExists: true)
    }

    // MARK: Reads

    public func session(_ id: String, in scope: Scope) async throws -> SessionRow? {
        try await table.get(partitionKey: scope.partitionKey, rowKey: RowKeys.session(id)).flatMap(SessionRow.init(entity:))
    }

    public func network(_ rowKey: String, in scope: Scope) async throws -> NetworkRow? {
        try await table.get(partitionKey: scope.partitionKey, rowKey: rowKey).flatMap(NetworkRow.init(entity:))
    }

    /// The scope's `head` row (the carve lock and its log), or nil before the first carve.
    public func head(of scope: Scope) async throws -> Head? {
        try await table.get(partitionKey: scope.partitionKey, rowKey: RowKeys.head).flatMap(Head.init(entity:))
    }

    /// Every network row of the scope, in address order.
    public func networks(in scope: Scope) async throws -> [NetworkRow] {
        let filter = "PartitionKey eq '\(TableQuery.quoted(scope.partitionKey))' and RowKey ge 'net_' and RowKey lt 'net`'"
        return try await table.queryAll(filter: filter).compactMap(NetworkRow.init(entity:))
    }

    /// The prefixes of every network row of the scope (any state): what a carve must not overlap.
    /// Reads only the keys, so it stays cheap as the partition grows.
    public func occupiedPrefixes(in scope: Scope) async throws -> [IPPrefix] {
        let filter = "PartitionKey eq '\(TableQuery.quoted(scope.partitionKey))' and RowKey ge 'net_' and RowKey lt 'net`'"
        return try await table.queryAll(filter: filter, select: ["RowKey"]).compactMap {
            SortableKey.parse(String($0.rowKey.dropFirst(RowKeys.networkPrefix.count)))
        }
    }

    /// A stock index row: a free block of one size.
    public struct StockCandidate: Sendable, Equatable {
        public let prefix: IPPrefix
        public let rowKey: String
        public let etag: String

        public init(prefix: IPPrefix, rowKey: String, etag: String) {
            self.prefix = prefix
            self.rowKey = rowKey
            self.etag = etag
        }
    }

    /// Up to `limit` free blocks of `length` from the stock index (one key-range read), in key order,
    /// starting after the stock row key `after` when given.
    public func availableCandidates(in scope: Scope, length: Int, version: IPVersion, limit: Int, after: String? = nil) async throws -> [StockCandidate] {
        let range = RowKeys.stockRange(version: version, length: length)
        let start = after.map { "RowKey gt '\(TableQuery.quoted($0))'" } ?? "RowKey ge '\(range)'"
        return try await collect(filter: "PartitionKey eq '\(TableQuery.quoted(scope.partitionKey))' and \(start) and RowKey lt '\(range)~'", limit: limit)
    }

    private func collect(filter: String, limit: Int) async throws -> [StockCandidate] {
        var rows: [StockCandidate] = []
        var continuation: TableContinuation? = nil
        let query = table.query(filter: filter, top: limit)
        repeat {
            let page = try await query.page(after: continuation)
            for entity in page.entities {
                guard let etag = entity.etag, let prefix = entity["Cidr"]?.stringValue.flatMap({ try? IPPrefix(parsing: $0) }) else { continue }
                rows.append(StockCandidate(prefix: prefix, rowKey: entity.rowKey, etag: etag))
            }
            continuation = page.continuation
        } while continuation != nil && rows.count < limit
        return Array(rows.prefix(limit))
    }


    // MARK: Transitions (each one entity group transaction)

    /// available → leased, claiming a stocked block: its stock row is deleted with `If-Match` (412 =
    /// someone else won it), the network row replaced (a stock row exists only while its network row is
    /// `available`, and both change in one transaction), the session row inserted (409 = this SessionId
    /// is already served) and the event recorded. The session row's index is 2.
    public func claimActions(candidate: StockCandidate, leased: NetworkRow, session: SessionRow, scope: Scope, now: Date) -> [TableTransactionAction] {
        [
            .delete(partitionKey: scope.partitionKey, rowKey: candidate.rowKey, ifMatch: .etag(candidate.etag)),
            .replace(leased.entity(partitionKey: scope.partitionKey), ifMatch: .any),
            .insert(session.entity(partitionKey: scope.partitionKey)),
            .insert(event("lease", leased, before: .available, scope: scope, now: now, detail: "from stock").entity(partitionKey: scope.partitionKey, at: now)),
        ]
    }

    /// Carve on demand under the `head` lock: head (insert or `If-Match` merge), the new row as
    /// `leased`, the session row and the event, then any `stock` rows as `available` (one event for them).
    public func carveActions(head: Head?, leased: NetworkRow, session: SessionRow, stock: [NetworkRow] = [],
                             scope: Scope, now: Date) -> [TableTransactionAction] {
        return [
            Self.takeHead(head, adding: [leased.prefix] + stock.map(\.prefix), scope: scope, now: now),
            .insert(leased.entity(partitionKey: scope.partitionKey)),
            .insert(session.entity(partitionKey: scope.partitionKey)),
            .insert(event("carve-lease", leased, before: nil, scope: scope, now: now, detail: "carved on demand").entity(partitionKey: scope.partitionKey, at: now)),
        ] + stockActions(stock, scope: scope, now: now, detail: "stocked while carving")
    }

    /// Inserts `rows` as `available` network rows with their stock index rows, and one event listing them
    /// (2 operations per row plus 1: at most 49 rows per transaction).
    public func stockActions(_ rows: [NetworkRow], scope: Scope, now: Date, detail: String) -> [TableTransactionAction] {
        guard !rows.isEmpty else { return [] }
        let event = AuditEvent(action: "stock", actor: actor, cidr: rows.map(\.prefix.description).joined(separator: " "), leaseId: "", sessionId: "",
                               before: "", after: NetworkState.available.rawValue, detail: detail)
        var actions: [TableTransactionAction] = []
        for row in rows {
            var available = row
            available.state = .available
            actions.append(.insert(available.entity(partitionKey: scope.partitionKey)))
            actions.append(.insert(Self.stockEntity(row.prefix, scope: scope)))
        }
        return actions + [.insert(event.entity(partitionKey: scope.partitionKey, at: now))]
    }

    /// More stock under the carve lock: the `head` row merged `If-Match` its current ETag (a 412 means
    /// another carve got in), then the rows and their stock rows, then one event.
    public func stockUnderHeadActions(_ rows: [NetworkRow], head: Head, scope: Scope, now: Date) -> [TableTransactionAction] {
        [Self.takeHead(head, adding: rows.map(\.prefix), scope: scope, now: now)] + stockActions(rows, scope: scope, now: now, detail: "stocked while carving")
    }

    /// The carve lock as the first operation of a transaction: the `head` row replaced `If-Match` the
    /// ETag read before computing free space (or inserted, before the scope's first carve), bumping
    /// `Version` and logging the network rows this transaction inserts (`added`, every one of them: the
    /// log is how other processes learn them without reading the partition). Any other carve committed
    /// in between makes the whole transaction fail (412 / 409).
    public static func takeHead(_ head: Head?, adding added: [IPPrefix], scope: Scope, now: Date) -> TableTransactionAction {
        let next = Head.advanced(head, adding: added, etag: "") // its ETag comes with the transaction's answer
        let entity = TableEntity(partitionKey: scope.partitionKey, rowKey: RowKeys.head, properties: [
            "Version": .int64(next.version), "UpdatedAt": .dateTime(now), Head.logProperty: .string(next.logText),
        ])
        return head.map { .replace(entity, ifMatch: .etag($0.etag)) } ?? .insert(entity)
    }

    /// The stock index row of a free block.
    public static func stockEntity(_ prefix: IPPrefix, scope: Scope) -> TableEntity {
        TableEntity(partitionKey: scope.partitionKey, rowKey: RowKeys.stock(prefix), properties: [
            "Cidr": .string(prefix.description), "NetworkRowKey": .string(RowKeys.network(prefix)),
        ])
    }

    /// A state change of one row (renew, revive, release), with its event.
    public func transitionActions(from row: NetworkRow, to updated: NetworkRow, action: String, scope: Scope, now: Date, detail: String = "") -> [TableTransactionAction] {
        [
            .replace(updated.entity(partitionKey: scope.partitionKey), ifMatch: .etag(row.etag ?? "*")),
            .insert(event(action, updated, before: row.state, scope: scope, now: now, detail: detail).entity(partitionKey: scope.partitionKey, at: now)),
        ]
    }

    func event(_ action: String, _ row: NetworkRow, before: NetworkState?, scope: Scope, now: Date, detail: String) -> AuditEvent {
        AuditEvent(action: action, actor: actor, cidr: row.prefix.description, leaseId: row.leaseId ?? "", sessionId: row.sessionId ?? "",
                   before: before?.rawValue ?? "", after: row.state.rawValue, detail: detail)
    }
}
