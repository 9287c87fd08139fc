package import AzureTables
package import IPAMCore
package import NetworkMath

/// What one principal holds in one pool: the counter its quota is checked against, changed in the same
/// transaction as every lease that starts or stops counting (`usage_{pool}_{holder key}`).
///
/// The holder is the authenticated caller that made the leases, never a name from the request body: its key
/// (`HolderKey`, the principal's keyed hash) and its name sealed (`Holder`), so no row names it in clear. A row
/// written before (keyed by the SHA-256 of a `Requester` stored in clear) keeps counting the leases charged to
/// it (their `QuotaKeys` name it) until they end; nothing new is charged to it.
package struct UsageRow: Sendable, Equatable {
    package let key: String
    package let pool: String
    /// The holder's principal key; for a row from before, the SHA-256 part of its row key.
    package let holderKey: String
    /// The holder's name sealed (`PrincipalRedactor.seal`); nil in a row from before.
    package let sealedHolder: String?
    /// A row from before: the requester it counted, as stored (in clear).
    package let legacyRequester: String?
    /// Live leases (`leased`, `anchored`) and the addresses they hold.
    package var leases: Int
    package var addresses: UInt64
    /// Nil: the row was never written (a first lease inserts it).
    package var etag: String?

    /// The counter of the principal with `holderKey` (and `sealedHolder`, its sealed name) in `pool`.
    package init(
        pool: String, holderKey: String, sealedHolder: String?, leases: Int = 0, addresses: UInt64 = 0,
        etag: String? = nil
    ) {
        self.init(
            key: RowKeys.usage(pool: pool, holderKey: holderKey), pool: pool, holderKey: holderKey,
            sealedHolder: sealedHolder,
            legacyRequester: nil, leases: leases, addresses: addresses, etag: etag)
    }

    private init(
        key: String, pool: String, holderKey: String, sealedHolder: String?, legacyRequester: String?, leases: Int,
        addresses: UInt64, etag: String?
    ) {
        self.key = key
        self.pool = pool
        self.holderKey = holderKey
        self.sealedHolder = sealedHolder
        self.legacyRequester = legacyRequester
        self.leases = leases
        self.addresses = addresses
        self.etag = etag
    }

    init?(entity: TableEntity) {
        guard entity.rowKey.hasPrefix(RowKeys.usagePrefix), let pool = entity["Pool"]?.stringValue else { return nil }
        let leases = Int(entity["Leases"]?.int64Value ?? 0)
        let addresses = UInt64(max(0, entity["Addresses"]?.int64Value ?? 0))
        if let holderKey = entity["HolderKey"]?.stringValue {
            self.init(
                pool: pool, holderKey: holderKey, sealedHolder: entity["Holder"]?.stringValue, leases: leases,
                addresses: addresses, etag: entity.etag)
        } else if let requester = entity["Requester"]?.stringValue {
            let key = RowKeys.legacyUsage(pool: pool, requester: requester)
            self.init(
                key: key, pool: pool, holderKey: String(key.dropFirst(RowKeys.usage(pool: pool, holderKey: "").count)),
                sealedHolder: nil,
                legacyRequester: requester, leases: leases, addresses: addresses, etag: entity.etag)
        } else {
            return nil
        }
        guard key == entity.rowKey else { return nil }
    }

    package func entity(partitionKey: String) -> TableEntity {
        var properties: [String: TableValue] = [
            "Pool": .string(pool), "Leases": .int64(Int64(leases)),
            "Addresses": .int64(Int64(min(addresses, UInt64(Int64.max)))),
        ]
        if let legacyRequester {
            // rewritten as it was: its key is the SHA-256 of this name
            properties["Requester"] = .string(legacyRequester)
        } else {
            properties["HolderKey"] = .string(holderKey)
            if let sealedHolder { properties["Holder"] = .string(sealedHolder) }
        }
        return TableEntity(partitionKey: partitionKey, rowKey: key, properties: properties)
    }

    /// The addresses a block counts for (saturating: an IPv6 block may hold more than 64 bits say).
    package static func addresses(in prefix: IPPrefix) -> UInt64 {
        addresses(length: prefix.length, version: prefix.version)
    }

    /// The addresses a block of `length` counts for.
    package static func addresses(length: Int, version: IPVersion) -> UInt64 {
        let bits = version.bitWidth - length
        return bits >= 63 ? UInt64(Int64.max) : UInt64(1) << UInt64(max(0, bits))
    }

    /// The row after one lease of `prefix` starts (`+1`) or stops (`-1`) counting.
    func adding(_ delta: Int, for prefix: IPPrefix) -> UsageRow {
        var next = self
        let size = Self.addresses(in: prefix)
        next.leases = max(0, leases + delta)
        next.addresses =
            delta > 0 ? addresses.addingReportingOverflow(size).partialValue : (addresses > size ? addresses - size : 0)
        return next
    }

    /// The operation that writes `self` over what was read: `If-Match` its ETag, or an insert for a first row
    /// (two first leases at once: one insert fails and its transaction with it).
    func write(partitionKey: String) -> TableTransactionAction {
        etag.map { .replace(entity(partitionKey: partitionKey), ifMatch: .etag($0)) }
            ?? .insert(entity(partitionKey: partitionKey))
    }
}

extension Inventory {
    /// The usage rows of `charges` (the quotas a lease counts in), each as stored or, never written, at zero.
    package func usage(_ charges: [QuotaCharge], in scope: Scope) async throws(InventoryError) -> [UsageRow] {
        let stored = try await storedUsage(charges.map(\.key), in: scope)
        return zip(charges, stored).map { charge, row in
            row ?? UsageRow(pool: charge.pool, holderKey: charge.holderKey, sealedHolder: charge.sealedHolder)
        }
    }

    /// Point reads of the usage rows with these keys (nil where there is none).
    private func storedUsage(_ keys: [String], in scope: Scope) async throws(InventoryError) -> [UsageRow?] {
        var rows: [UsageRow?] = []
        for key in keys {
            rows.append(
                try await storage { try await table.get(partitionKey: scope.partitionKey, rowKey: key) }.flatMap(
                    UsageRow.init(entity:)))
        }
        return rows
    }

    /// Every usage row of the scope, in key order.
    package func usageRows(in scope: Scope) async throws(InventoryError) -> [UsageRow] {
        try await storage {
            try await table.queryAll(
                filter: Self.range(RowKeys.usagePrefix, in: scope.partitionKey), UsageRow.init(entity:))
        }
    }

    /// The usage rows a lease row counts in, read now (their pool and requester come from the stored rows;
    /// a key no row answers is skipped: there is nothing to take back from it).
    package func usage(of row: NetworkRow, in scope: Scope) async throws(InventoryError) -> [UsageRow] {
        try await storedUsage(row.quotaKeys, in: scope).compactMap { $0 }
    }

    /// How a change from `before` to `after` moves the lease's quota counters: +1 when it starts counting, -1 when it stops.
    static func quotaDelta(_ before: NetworkRow, _ after: NetworkRow?) -> Int {
        guard !before.quotaKeys.isEmpty || !(after?.quotaKeys.isEmpty ?? true) else { return 0 }
        return ((after?.countsInQuota ?? false) ? 1 : 0) - (before.countsInQuota ? 1 : 0)
    }
}

/// One quota a lease is charged to: its pool (a level of the hierarchy with a quota) and the principal holding it.
package struct QuotaCharge: Sendable, Equatable {
    package let pool: String
    /// The holder's principal key (`Principal.key`) and its sealed name.
    package let holderKey: String
    package let sealedHolder: String

    package init(pool: String, holderKey: String, sealedHolder: String) {
        self.pool = pool
        self.holderKey = holderKey
        self.sealedHolder = sealedHolder
    }

    /// The usage row's key.
    package var key: String { RowKeys.usage(pool: pool, holderKey: holderKey) }
}
