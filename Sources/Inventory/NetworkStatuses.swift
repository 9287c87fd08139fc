internal import AzureTables
package import Foundation
package import IPAMCore
internal import NetworkMath

/// One listed network's compliance as the Manager last judged it (docs/Design.md, "Network compliance"): a row
/// `compliance_{sortable CIDR of its first prefix}_{32 hex digits of SHA-256 of its lower-cased resource id}` in
/// its scope's partition, so a scope's rows list in address order, one per network its cloud lists there.
package struct NetworkStatus: Sendable, Equatable {
    /// The cloud's id: an Azure resource id, an AWS VPC id.
    package var resourceId: String
    /// Its address prefixes, host bits cleared, in address order; a prefix ipam cannot read is kept as listed, last.
    package var cidrs: [String]
    package var status: ComplianceStatus
    /// Why, in words (at most 1,000 characters are kept).
    package var reason: String
    /// The lease it belongs to (anchored to it, or tagged with it), nil when none.
    package var leaseId: String?
    /// When it took this status (kept while the status holds, whatever the reason says); nil until recorded.
    package var since: Date?

    package init(
        resourceId: String, cidrs: [String], status: ComplianceStatus, reason: String, leaseId: String? = nil,
        since: Date? = nil
    ) {
        self.resourceId = resourceId
        self.cidrs = cidrs
        self.status = status
        self.reason = String(reason.prefix(1_000))
        self.leaseId = leaseId
        self.since = since
    }

    /// Its row key: its first prefix's sortable text (`-` without one), then its resource id's digest.
    package var rowKey: String {
        let first = cidrs.first.flatMap { try? IPPrefix(parsing: $0) }.map(SortableKey.make) ?? "-"
        return RowKeys.networkStatusPrefix + first + "_"
            + LeaseRequest.sha256Hex(resourceId.lowercased()).prefix(32)
    }

    func entity(partitionKey: String) -> TableEntity {
        var properties: [String: TableValue] = [
            "ResourceId": .string(resourceId), "Cidrs": .string(cidrs.joined(separator: " ")),
            "Status": .string(status.rawValue), "Reason": .string(reason), "LeaseId": .string(leaseId ?? ""),
        ]
        if let since { properties["Since"] = .dateTime(since) }
        return TableEntity(partitionKey: partitionKey, rowKey: rowKey, properties: properties)
    }

    /// The status a row holds; nil for another row, or a status this build does not know.
    init?(entity: TableEntity) {
        guard entity.rowKey.hasPrefix(RowKeys.networkStatusPrefix),
            let id = entity["ResourceId"]?.stringValue, !id.isEmpty,
            let status = entity["Status"]?.stringValue.flatMap(ComplianceStatus.init(rawValue:))
        else { return nil }
        let lease = entity["LeaseId"]?.stringValue ?? ""
        self.init(
            resourceId: id, cidrs: (entity["Cidrs"]?.stringValue ?? "").split(separator: " ").map(String.init),
            status: status, reason: entity["Reason"]?.stringValue ?? "", leaseId: lease.isEmpty ? nil : lease,
            since: entity["Since"]?.dateValue)
    }
}

extension RowKeys {
    package static let networkStatusPrefix = "compliance_"
}

/// What recording a scope's network statuses wrote.
package struct NetworkStatusWrites: Sendable, Equatable {
    /// Rows inserted or replaced (a network seen for the first time, or judged otherwise than before).
    package var written = 0
    /// Rows deleted (a network no complete listing shows any more).
    package var deleted = 0
    package var transactions = 0
    /// Transactions that failed (left for the next run), and the first failure.
    package var failed = 0
    package var failure: String?

    package init() {}
}

extension Inventory {
    /// Every recorded network status of `scope`, in row-key order (one key-range read).
    package func networkStatuses(in scope: Scope) async throws(InventoryError) -> [Stored<NetworkStatus>] {
        try await storage {
            try await table.queryAll(filter: Self.networkStatusRange(scope)).compactMap {
                Stored(entity: $0, decode: NetworkStatus.init(entity:))
            }
        }
    }

    /// Up to `limit` recorded network statuses of `scope` (only `statuses`' when given), in row-key order (address
    /// order), starting after the row key `after`; and the row key to resume after (nil: no more).
    package func networkStatuses(
        in scope: Scope, statuses: Set<ComplianceStatus>?, limit: Int, after: String? = nil
    ) async throws(InventoryError) -> (statuses: [NetworkStatus], resumeAfter: String?) {
        var conditions = ["PartitionKey eq '\(TableQuery.quoted(scope.partitionKey))'"]
        if let after, after >= RowKeys.networkStatusPrefix {
            conditions.append("RowKey gt '\(TableQuery.quoted(after))'")
        } else {
            conditions.append("RowKey ge '\(RowKeys.networkStatusPrefix)'")
        }
        conditions.append("RowKey lt 'compliance`'")
        if let statuses, !statuses.isEmpty {
            conditions.append(
                "(" + statuses.map { "Status eq '\($0.rawValue)'" }.sorted().joined(separator: " or ") + ")")
        }
        return try await page(conditions.joined(separator: " and "), limit: limit) { NetworkStatus(entity: $0) }
    }

    /// Records the statuses one run judged for `scope`'s listed networks, writing only what changed: a network
    /// judged as recorded writes nothing (so an unchanged world writes nothing), one judged otherwise is replaced
    /// (`If-Match` the row read; its `since` kept while its status holds), a new one inserted, and, when `complete`
    /// (the scope's own listing was whole), the row of a network no longer listed deleted. Many changes share a
    /// transaction; a failed one (another writer) is left for the next run. Reads the scope's status rows once.
    package func recordNetworkStatuses(_ statuses: [NetworkStatus], in scope: Scope, complete: Bool, now: Date)
        async throws(InventoryError) -> NetworkStatusWrites
    {
        let partition = scope.partitionKey
        let entities = try await storage { try await table.queryAll(filter: Self.networkStatusRange(scope)) }
        var etags: [String: String] = [:]
        var recorded: [String: Stored<NetworkStatus>] = [:]
        for entity in entities {
            guard let etag = entity.etag else { continue }
            etags[entity.rowKey] = etag
            if let status = NetworkStatus(entity: entity) {
                recorded[status.resourceId.lowercased()] = Stored(status, etag: etag)
            }
        }
        var writes = NetworkStatusWrites()
        var groups: [[TableTransactionAction]] = []
        var kept = Set<String>()
        for var status in statuses {
            let id = status.resourceId.lowercased()
            let key = status.rowKey
            guard kept.insert(key).inserted else { continue }
            let previous = recorded[id]
            status.since = previous.flatMap { $0.status == status.status ? $0.since : nil } ?? now
            if let previous, previous.value.rowKey == key, previous.value == status { continue }
            var group: [TableTransactionAction] = []
            // Re-addressed: its key moved with its first prefix.
            if let previous, previous.value.rowKey != key {
                group.append(.delete(partitionKey: partition, rowKey: previous.value.rowKey, ifMatch: previous.ifMatch))
                etags[previous.value.rowKey] = nil
                writes.deleted += 1
            }
            let entity = status.entity(partitionKey: partition)
            group.append(etags[key].map { .replace(entity, ifMatch: .etag($0)) } ?? .insert(entity))
            writes.written += 1
            groups.append(group)
        }
        if complete {
            for (key, etag) in etags.sorted(by: { $0.key < $1.key }) where !kept.contains(key) {
                groups.append([.delete(partitionKey: partition, rowKey: key, ifMatch: .etag(etag))])
                writes.deleted += 1
            }
        }
        var batch: [TableTransactionAction] = []
        func submit() async {
            guard !batch.isEmpty else { return }
            let actions = batch
            batch = []
            writes.transactions += 1
            do { _ = try await table.submitTransaction(actions) } catch {
                writes.failed += 1
                writes.failure = writes.failure ?? InventoryError(error).detail
            }
        }
        for group in groups {
            if batch.count + group.count > 100 { await submit() }
            batch += group
        }
        await submit()
        return writes
    }

    static func networkStatusRange(_ scope: Scope) -> String {
        "PartitionKey eq '\(TableQuery.quoted(scope.partitionKey))' and RowKey ge '\(RowKeys.networkStatusPrefix)' and RowKey lt 'compliance`'"
    }
}
