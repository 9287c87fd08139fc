package import AzureTables
public import IPAMCore
public import NetworkMath

/// What one requester holds in one pool: the counter its quota is checked against, changed in the same
/// transaction as every lease that starts or stops counting (`usage_{pool}_{requester key}`).
public struct UsageRow: Sendable, Equatable {
    public let key: String
    public let pool: String
    public let requester: String
    /// Live leases (`leased`, `anchored`) and the addresses they hold.
    public var leases: Int
    public var addresses: UInt64
    /// Nil: the row was never written (a first lease inserts it).
    public var etag: String?

    public init(pool: String, requester: String, leases: Int = 0, addresses: UInt64 = 0, etag: String? = nil) {
        self.key = RowKeys.usage(pool: pool, requester: requester)
        self.pool = pool
        self.requester = requester
        self.leases = leases
        self.addresses = addresses
        self.etag = etag
    }

    init?(entity: TableEntity) {
        guard entity.rowKey.hasPrefix(RowKeys.usagePrefix), let pool = entity["Pool"]?.stringValue, let requester = entity["Requester"]?.stringValue else { return nil }
        self.init(pool: pool, requester: requester, leases: Int(entity["Leases"]?.int64Value ?? 0),
                  addresses: UInt64(max(0, entity["Addresses"]?.int64Value ?? 0)), etag: entity.etag)
        guard key == entity.rowKey else { return nil }
    }

    package func entity(partitionKey: String) -> TableEntity {
        TableEntity(partitionKey: partitionKey, rowKey: key, properties: [
            "Pool": .string(pool), "Requester": .string(requester),
            "Leases": .int64(Int64(leases)), "Addresses": .int64(Int64(min(addresses, UInt64(Int64.max)))),
        ])
    }

    /// The addresses a block counts for (saturating: an IPv6 block may hold more than 64 bits say).
    public static func addresses(in prefix: IPPrefix) -> UInt64 { addresses(length: prefix.length, version: prefix.version) }

    /// The addresses a block of `length` counts for.
    public static func addresses(length: Int, version: IPVersion) -> UInt64 {
        let bits = version.bitWidth - length
        return bits >= 63 ? UInt64(Int64.max) : UInt64(1) << UInt64(max(0, bits))
    }

    /// The row after one lease of `prefix` starts (`+1`) or stops (`-1`) counting.
    func adding(_ delta: Int, for prefix: IPPrefix) -> UsageRow {
        var next = self
        let size = Self.addresses(in: prefix)
        next.leases = max(0, leases + delta)
        next.addresses = delta > 0 ? addresses.addingReportingOverflow(size).partialValue : (addresses > size ? addresses - size : 0)
        return next
    }

    /// The operation that writes `self` over what was read: `If-Match` its ETag, or an insert for a first row
    /// (two first leases at once: one insert fails and its transaction with it).
    func write(partitionKey: String) -> TableTransactionAction {
        etag.map { .replace(entity(partitionKey: partitionKey), ifMatch: .etag($0)) } ?? .insert(entity(partitionKey: partitionKey))
    }
}

extension Inventory {
    /// The usage rows named by `keys` (the quotas a lease counts in), each as stored or, never written, at zero.
    public func usage(_ keys: [(pool: String, requester: String)], in scope: Scope) async throws(InventoryError) -> [UsageRow] {
        let stored = try await storedUsage(keys.map { RowKeys.usage(pool: $0.pool, requester: $0.requester) }, in: scope)
        return zip(keys, stored).map { key, row in row ?? UsageRow(pool: key.pool, requester: key.requester) }
    }

    /// Point reads of the usage rows with these keys (nil where there is none).
    private func storedUsage(_ keys: [String], in scope: Scope) async throws(InventoryError) -> [UsageRow?] {
        var rows: [UsageRow?] = []
        for key in keys {
            rows.append(try await storage { try await table.get(partitionKey: scope.partitionKey, rowKey: key) }.flatMap(UsageRow.init(entity:)))
        }
        return rows
    }

    /// Every usage row of the scope, in key order.
    public func usageRows(in scope: Scope) async throws(InventoryError) -> [UsageRow] {
        try await storage { try await table.queryAll(filter: Self.range(RowKeys.usagePrefix, in: scope.partitionKey)).compactMap(UsageRow.init(entity:)) }
    }

    /// The usage rows a lease row counts in, read now (their pool and requester come from the stored rows;
    /// a key no row answers is skipped: there is nothing to take back from it).
    public func usage(of row: NetworkRow, in scope: Scope) async throws(InventoryError) -> [UsageRow] {
        try await storedUsage(row.quotaKeys, in: scope).compactMap { $0 }
    }

    /// How a change from `before` to `after` moves the lease's quota counters: +1 when it starts counting, -1 when it stops.
    static func quotaDelta(_ before: NetworkRow, _ after: NetworkRow?) -> Int {
        guard !before.quotaKeys.isEmpty || !(after?.quotaKeys.isEmpty ?? true) else { return 0 }
        return ((after?.countsInQuota ?? false) ? 1 : 0) - (before.countsInQuota ? 1 : 0)
    }
}
