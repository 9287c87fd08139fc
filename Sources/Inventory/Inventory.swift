internal import AzureCore
package import AzureTables
internal import Foundation
package import IPAMCore
package import NetworkMath

/// The one storage boundary of ipam: every read and write of the inventory table, as typed domain
/// operations with domain outcomes.
///
/// Nothing outside this module builds an entity, a transaction or a filter, or sees a storage error:
/// callers get `ClaimOutcome`, `CarveOutcome`, `WriteOutcome` and the like, and `InventoryError` when
/// storage did not answer. The partition layout (docs/Design.md) lives here and only here.
package struct Inventory: Sendable {
    let table: TableClient
    let locks: TableClient
    /// Who writes (for audit events), e.g. `vendor@host:pid`.
    package let actor: String
    /// Claims of one scope that arrive while another is being committed share its next transaction.
    let claims: TransactionCombiner

    /// - Parameters:
    ///   - table: the inventory table (one partition per scope).
    ///   - locks: the table of singleton leases (`ipamLocks`).
    ///   - onClaimRound: told how many claims each group-commit transaction carried (for metrics).
    package init(
        table: TableClient, locks: TableClient? = nil, actor: String,
        onClaimRound: @escaping @Sendable (Int) -> Void = { _ in }
    ) {
        self.table = table
        self.locks = locks ?? table.service.table("ipamLocks")
        self.actor = actor
        self.claims = TransactionCombiner(table: table, onRound: onClaimRound)
    }

    /// Creates the inventory table and the locks table when they are missing. An identity whose role is
    /// scoped to the tables themselves may not create tables: then the tables must exist and be readable.
    package func ensureTables() async throws(InventoryError) {
        for client in [table, locks] {
            do {
                try await client.service.createTable(client.name, ifNotExists: true)
            } catch let error as AzureError where error.isUnauthorized {
                do { _ = try await client.query(top: 1).page(after: nil) } catch {
                    throw InventoryError(
                        kind: .unavailable,
                        detail:
                            "table \(client.name): \(error) (does this identity have Storage Table Data Contributor on the account or the table?)"
                    )
                }
            } catch {
                throw InventoryError(error)
            }
        }
    }

    /// The table's name (for start-up lines and diagnostics).
    package var tableName: String { table.name }

    /// Nil when storage answers a point read; otherwise what went wrong (for readiness probes).
    package func unreachableReason() async -> String? {
        do {
            _ = try await table.get(partitionKey: "probe", rowKey: "probe")
            return nil
        } catch {
            return "storage: \(error)"
        }
    }

    // MARK: Reads

    /// The session row of `id` (one point read), nil when the SessionId was never served in `scope`.
    package func session(_ id: String, in scope: Scope) async throws(InventoryError) -> SessionRow? {
        try await storage {
            try await table.get(partitionKey: scope.partitionKey, rowKey: RowKeys.session(id)).flatMap(
                SessionRow.init(entity:))
        }
    }

    /// One network row by its row key (one point read).
    package func network(_ rowKey: String, in scope: Scope) async throws(InventoryError) -> Stored<NetworkRow>? {
        try await storage {
            try await table.get(partitionKey: scope.partitionKey, rowKey: rowKey).flatMap(Stored.init(network:))
        }
    }

    /// The network row carrying lease `id`, nil when none in `scope` does: one point read when the id names its
    /// block (`LeaseIdentity`), else a query of the scope's network rows.
    package func network(leaseId id: String, in scope: Scope) async throws(InventoryError) -> Stored<NetworkRow>? {
        if let block = LeaseIdentity.block(named: id) {
            let row = try await network(RowKeys.network(block), in: scope)
            return row?.leaseId == id.lowercased() ? row : nil
        }
        let filter = "\(Self.networkRange(scope)) and LeaseId eq '\(TableQuery.quoted(id.lowercased()))'"
        // A dual-stack lease has two rows: it is answered through its IPv4 one.
        return try await storage {
            try await table.queryAll(filter: filter, Stored.init(network:)).sorted {
                !$0.isSecondHalf && $1.isSecondHalf
            }.first
        }
    }

    /// The scope's `head` row (the carve lock and its log), or nil before the first carve.
    package func head(of scope: Scope) async throws(InventoryError) -> Head? {
        try await storage {
            try await table.get(partitionKey: scope.partitionKey, rowKey: RowKeys.head).flatMap(Head.init(entity:))
        }
    }

    /// Every network row of the scope, in address order.
    package func networks(in scope: Scope) async throws(InventoryError) -> [Stored<NetworkRow>] {
        try await storage {
            try await table.queryAll(filter: Self.networkRange(scope), Stored.init(network:))
        }
    }

    /// The prefixes of every network row of the scope (any state): what a carve must not overlap.
    /// Reads only the keys, in pages of `occupiedPageSize`: against a throttled partition each page takes its turn
    /// for the entities it will answer, so a read of the whole scope is paced like any other request.
    package func occupiedPrefixes(in scope: Scope) async throws(InventoryError) -> [IPPrefix] {
        try await storage {
            var prefixes: [IPPrefix] = []
            for try await page in table.query(
                filter: Self.networkRange(scope), select: ["RowKey"], top: Self.occupiedPageSize)
            {
                prefixes += page.entities.compactMap { RowKeys.prefix(ofNetworkKey: $0.rowKey) }
            }
            return prefixes
        }
    }

    /// Rows per page of the occupied-space read: small enough that a page fits a throttled partition's budget
    /// (a page is charged, and refused, whole), large enough to keep the requests few (130 for 65,536 blocks).
    package static let occupiedPageSize = 500

    /// A stock index row: a free block of one size, with the ETag a claim must match.
    package struct StockCandidate: Sendable, Equatable {
        package let prefix: IPPrefix
        package let rowKey: String
        package let etag: String

        package init(prefix: IPPrefix, rowKey: String, etag: String) {
            self.prefix = prefix
            self.rowKey = rowKey
            self.etag = etag
        }
    }

    /// Up to `limit` free blocks of `length` from the stock index (one key-range read), in key order,
    /// starting after the stock row key `after` when given.
    package func availableCandidates(
        in scope: Scope, length: Int, version: IPVersion, pool: String? = nil, limit: Int, after: String? = nil
    ) async throws(InventoryError) -> [StockCandidate] {
        let range = RowKeys.stockRange(version: version, length: length, pool: pool)
        let start = after.map { "RowKey gt '\(TableQuery.quoted($0))'" } ?? "RowKey ge '\(range)'"
        let filter = "PartitionKey eq '\(TableQuery.quoted(scope.partitionKey))' and \(start) and RowKey lt '\(range)~'"
        return try await storage {
            var rows: [StockCandidate] = []
            var continuation: TableContinuation? = nil
            let query = table.query(filter: filter, top: limit)
            repeat {
                let page = try await query.page(after: continuation)
                for entity in page.entities {
                    guard let etag = entity.etag,
                        let prefix = entity["Cidr"]?.stringValue.flatMap({ try? IPPrefix(parsing: $0) })
                    else { continue }
                    rows.append(StockCandidate(prefix: prefix, rowKey: entity.rowKey, etag: etag))
                }
                continuation = page.continuation
            } while continuation != nil && rows.count < limit
            return Array(rows.prefix(limit))
        }
    }

    /// What the invariant checker finds wrong with the scope's partition (empty: nothing).
    package func violations(in scope: Scope) async throws(InventoryError) -> [String] {
        let filter = "PartitionKey eq '\(TableQuery.quoted(scope.partitionKey))'"
        return InvariantChecker.violations(in: try await storage { try await table.queryAll(filter: filter) })
    }

    static func networkRange(_ scope: Scope) -> String {
        "PartitionKey eq '\(TableQuery.quoted(scope.partitionKey))' and RowKey ge '\(RowKeys.networkPrefix)' and RowKey lt 'net`'"
    }

    // MARK: Deadlines

    /// Runs `body` with the time it may still wait for storage (`remaining`, read whenever a throttled partition
    /// would make it wait): throttled requests are retried at the partition's pace until then, not for a fixed
    /// number of attempts, and a turn further away than that is not waited for (`InventoryError.throttled`).
    package static func withDeadline<T: Sendable>(
        remaining: @escaping @Sendable () -> Duration, _ body: () async -> T
    ) async -> T {
        await StorageDeadline.$remaining.withValue(StorageDeadline.Remaining(remaining)) { await body() }
    }

    // MARK: Storage errors, mapped once

    /// Runs a storage call; any failure becomes `InventoryError.unavailable`.
    func storage<T>(_ body: () async throws -> T) async throws(InventoryError) -> T {
        do { return try await body() } catch { throw InventoryError(error) }
    }

    /// The audit event of a change to `row` (written in the same transaction as the change).
    /// Its actor is the caller of the request being served (`AuditContext.current`), else this process.
    func event(_ action: AuditAction, _ row: NetworkRow, before: NetworkState?, detail: String) -> AuditEvent {
        let blocks = row.blocks
        var event = AuditEvent(
            action: .known(action), actor: AuditContext.current?.actor ?? actor, cidr: blocks.primary.description,
            leaseId: row.leaseId ?? "",
            sessionId: row.sessionId ?? "", before: before.map(Recorded.known), after: .known(row.state),
            detail: detail,
            process: actor)
        event.cidrV6 = blocks.v6?.description
        return event
    }
}

/// Storage did not do what was asked, and the operation did not happen (or its outcome is reported
/// separately, as `outcomeUnknown`, by the operations that can tell).
package struct InventoryError: Error, Sendable, CustomStringConvertible {
    package enum Kind: Sendable, Equatable {
        /// Storage did not answer in time, refused, or answered an error no retry fixed.
        case unavailable
        /// The table does not exist (it is created at start-up: someone deleted it).
        case tableMissing
    }
    package let kind: Kind
    /// A short description of the storage failure (for logs and the error message).
    package let detail: String
    /// Storage asked for less load (503 `ServerBusy`, 429, 500 `OperationTimedOut`), or the partition's paced turn
    /// was further away than the request's deadline: a caller answers "busy", not "storage unavailable".
    package let throttled: Bool

    package init(kind: Kind, detail: String, throttled: Bool = false) {
        self.kind = kind
        self.detail = detail
        self.throttled = throttled
    }

    init(_ error: any Error) {
        if let error = error as? InventoryError {
            self = error
        } else if let azure = error as? AzureError {
            self.init(
                kind: azure.errorCode == "TableNotFound" ? .tableMissing : .unavailable, detail: azure.shortDescription,
                throttled: azure.slowsDown)
        } else {
            self.init(kind: .unavailable, detail: "\(error)")
        }
    }

    package var description: String { detail }
}

/// How a storage failure of a write reads in domain terms.
enum WriteFailure {
    /// 412, 404 or 409: a condition did not hold (someone else changed the row). A transaction that must
    /// tell which operation failed is built as an `InventoryTransaction`, whose failures name their slot.
    case conflict
    /// The answer was lost: the write may or may not have happened.
    case unknown
    /// Nothing was written and storage is not usable right now.
    case failed(InventoryError)

    init(_ error: any Error) {
        guard let azure = error as? AzureError else {
            self = .failed(InventoryError(error))
            return
        }
        if azure.isPreconditionFailed || azure.isConflict || (azure.isNotFound && azure.errorCode != "TableNotFound") {
            self = .conflict
        } else if azure.outcomeUnknown {
            self = .unknown
        } else {
            self = .failed(InventoryError(azure))
        }
    }
}
