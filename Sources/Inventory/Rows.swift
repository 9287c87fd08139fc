internal import AzureCore
package import AzureTables
package import Foundation
package import IPAMCore
package import NetworkMath
internal import StrictJSON

/// Row keys of the partition layout (docs/Design.md, "Storage layout").
package enum RowKeys {
    package static let head = "head"
    package static let networkPrefix = "net_"
    package static let sessionPrefix = "session_"
    package static let eventPrefix = "event_"
    package static let stockPrefix = "stock_"
    package static func network(_ prefix: IPPrefix) -> String { networkPrefix + SortableKey.make(prefix) }
    /// The block a network row key names (nil for any other key).
    package static func prefix(ofNetworkKey key: String) -> IPPrefix? {
        key.hasPrefix(networkPrefix) ? SortableKey.parse(String(key.dropFirst(networkPrefix.count))) : nil
    }
    /// Stock index: `stock_{version}_{length, 3 digits}_{sortable CIDR}`. Exists exactly while the
    /// network row is `available`, so a claim finds free blocks with a key-range read, however many
    /// leased rows the partition holds.
    /// A pool's stock has keys of its own, `stock_p_{pool}_{version}_…`, so a claim in the pool reads only its blocks.
    package static func stock(_ prefix: IPPrefix, pool: String? = nil) -> String {
        stockRange(version: prefix.version, length: prefix.length, pool: pool) + SortableKey.make(prefix)
    }
    /// The common start of every stock key of one size (in one pool, or in the scope's own space).
    package static func stockRange(version: IPVersion, length: Int, pool: String? = nil) -> String {
        let digits = String(length)
        return stockPrefix + (pool.map { "p_\($0)_" } ?? "") + "\(version.rawValue)_"
            + String(repeating: "0", count: 3 - digits.count) + digits + "_"
    }
    package static let usagePrefix = "usage_"
    /// `usage_{pool}_{holder key}`: what one principal holds in one pool (its quota's counter), by the
    /// principal's key (`Principal.key`, keyed under `AUDIT_SALT`).
    package static func usage(pool: String, holderKey: String) -> String { usagePrefix + pool + "_" + holderKey }
    /// The key of a usage row written before quotas counted principals: by the SHA-256 of the requester's name.
    package static func legacyUsage(pool: String, requester: String) -> String {
        usage(pool: pool, holderKey: String(LeaseRequest.sha256Hex(requester).prefix(32)))
    }
    package static func session(_ id: String) -> String { sessionPrefix + id }
    /// `event_{inverted nanoseconds}_{uuid}`: newest first in key order.
    package static func event(at date: Date) -> String {
        // Clamped to what the 19 digits can say (1970 to 2262): a filter may name any date.
        let nanos = Int64(max(0, min(date.timeIntervalSince1970, 9.2e9)) * 1e9)
        let inverted = String(Int64.max - nanos)
        return eventPrefix + String(repeating: "0", count: 19 - inverted.count) + inverted + "_" + RandomID.uuid()
    }

    /// When the event (or boundary) with this key happened, to the microsecond or so; nil for another key.
    package static func eventTime(ofKey key: String) -> Date? {
        guard key.hasPrefix(eventPrefix), let inverted = Int64(key.dropFirst(eventPrefix.count).prefix(19)) else {
            return nil
        }
        return Date(timeIntervalSince1970: Double(Int64.max - inverted) / 1e9)
    }
}

/// One network block row.
package struct NetworkRow: Sendable, Equatable {
    package var prefix: IPPrefix
    package var state: NetworkState
    package var leaseId: String?
    package var sessionId: String?
    package var requestHash: String?
    package var requester: String?
    package var leasedAt: Date?
    package var expiresAt: Date?
    package var anchoredAt: Date?
    package var resourceId: String?
    package var lockedBy: String?
    package var quarantinedAt: Date?
    package var lastSeenAt: Date?
    package var missingSince: Date?
    /// Complete Syncs in a row that did not see the VNet this row depends on.
    package var missingCount: Int = 0
    /// `observed` for rows the Manager created to record space an unmanaged VNet uses (never stock); another
    /// stored value is kept as it is.
    package var origin: Recorded<RowOrigin>?
    /// The key of the principal that created the lease (`Principal.key`) and its name sealed
    /// (`PrincipalRedactor.seal`): the lease's owner, for host-IP leases inside it.
    package var ownerKey: String?
    package var sealedOwner: String?
    /// The subnet layout the lease was asked with (its subnets are placed by `FreeSpace.layout`).
    package var subnets: [LeaseRequest.SubnetRequest] = []
    /// The tags the lease was asked with.
    package var tags: [String: String] = [:]
    /// The pool the block belongs to (its stock and its lease); nil for the scope's own space.
    package var pool: String?
    /// The usage rows the lease counts in while it is live (`leased`, `anchored`): its pool's and its
    /// ancestors' quotas, as charged when it was made.
    package var quotaKeys: [String] = []
    /// The row key of the other block of a dual-stack lease (its IPv4 row names the IPv6 one and back);
    /// nil for a lease of one block. Both rows carry the lease's id, session and lifecycle, and every
    /// change writes both in one transaction.
    package var pairKey: String?

    package init(prefix: IPPrefix, state: NetworkState) {
        self.prefix = prefix
        self.state = state
    }

    package var rowKey: String { RowKeys.network(prefix) }

    /// The other block of a dual-stack lease (read from `pairKey`).
    package var partnerPrefix: IPPrefix? {
        pairKey.flatMap(RowKeys.prefix(ofNetworkKey:))
    }

    /// This row's block and, for a dual-stack lease, its other block (for logs and messages).
    package var prefixes: [IPPrefix] { [prefix] + (partnerPrefix.map { [$0] } ?? []) }

    /// The IPv6 row of a dual-stack lease: the lease is answered, listed and changed through its IPv4 row.
    package var isSecondHalf: Bool { pairKey != nil && prefix.version == .v6 }

    /// The lease's IPv4 and IPv6 blocks in the API's terms (`cidr`, `cidrV6`): a dual-stack lease's blocks from
    /// either of its rows; a lease of one block has `prefix` alone.
    package var blocks: (primary: IPPrefix, v6: IPPrefix?) {
        guard let partner = partnerPrefix else { return (prefix, nil) }
        return prefix.version == .v4 ? (prefix, partner) : (partner, prefix)
    }

    /// `partner` (the other row of this dual-stack lease) carrying this row's lease lifecycle: state, expiry,
    /// anchoring and the Manager's marks, so the two rows never tell different stories.
    package func mirrored(onto partner: NetworkRow) -> NetworkRow {
        var mirrored = partner
        mirrored.state = state
        mirrored.expiresAt = expiresAt
        mirrored.quarantinedAt = quarantinedAt
        mirrored.anchoredAt = anchoredAt
        mirrored.resourceId = resourceId
        mirrored.lastSeenAt = lastSeenAt
        mirrored.missingSince = missingSince
        mirrored.missingCount = missingCount
        return mirrored
    }

    /// One row as read and as it is to be written.
    package struct Update: Sendable {
        package let before: Stored<NetworkRow>
        package let after: NetworkRow
        package init(before: Stored<NetworkRow>, after: NetworkRow) {
            self.before = before
            self.after = after
        }
    }

    /// Whether the lease counts in its quotas: it holds the block live.
    package var countsInQuota: Bool { state == .leased || state == .anchored }

    /// The row as an entity; absent optionals are simply not written (a merge keeps older values,
    /// so transitions that clear a field set it to an empty value explicitly via `cleared`).
    package func entity(partitionKey: String) -> TableEntity {
        var p: [String: TableValue] = [
            "Cidr": .string(prefix.description), "PrefixLength": .int32(Int32(prefix.length)),
            "IPVersion": .int32(Int32(prefix.version.rawValue)), "State": .string(state.rawValue),
        ]
        p["LeaseId"] = .string(leaseId ?? "")
        p["SessionId"] = .string(sessionId ?? "")
        p["RequestHash"] = .string(requestHash ?? "")
        if let requester { p["Requester"] = .string(requester) }
        for (name, date) in [
            ("LeasedAt", leasedAt), ("ExpiresAt", expiresAt), ("AnchoredAt", anchoredAt),
            ("QuarantinedAt", quarantinedAt),
            ("LastSeenAt", lastSeenAt), ("MissingSince", missingSince),
        ] {
            if let date { p[name] = .dateTime(date) }
        }
        if missingCount > 0 { p["MissingCount"] = .int32(Int32(missingCount)) }
        if let origin { p["Origin"] = .string(origin.rawValue) }
        if let resourceId { p["ResourceId"] = .string(resourceId) }
        if let lockedBy { p["LockedBy"] = .string(lockedBy) }
        if let ownerKey { p["OwnerKey"] = .string(ownerKey) }
        if let sealedOwner { p["Owner"] = .string(sealedOwner) }
        if let pool { p["Pool"] = .string(pool) }
        if !quotaKeys.isEmpty { p["QuotaKeys"] = .string(quotaKeys.joined(separator: " ")) }
        if let pairKey { p["PairKey"] = .string(pairKey) }
        if !tags.isEmpty {
            p["Tags"] = .string(JSONValue.object(tags.keys.sorted().map { ($0, .string(tags[$0]!)) }).serialized())
        }
        if !subnets.isEmpty {
            p["Subnets"] = .string(
                JSONValue.array(
                    subnets.map {
                        .object([("name", .string($0.name)), ("prefixLength", .number(String($0.prefixLength)))])
                    }
                ).serialized())
        }
        return TableEntity(partitionKey: partitionKey, rowKey: rowKey, properties: p)
    }

    package init?(entity: TableEntity) {
        guard let prefix = RowKeys.prefix(ofNetworkKey: entity.rowKey),
            let state = entity["State"]?.stringValue.flatMap(NetworkState.init(rawValue:))
        else { return nil }
        self.prefix = prefix
        self.state = state
        func text(_ name: String) -> String? { entity[name]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } }
        leaseId = text("LeaseId")
        sessionId = text("SessionId")
        requestHash = text("RequestHash")
        requester = text("Requester")
        resourceId = text("ResourceId")
        lockedBy = text("LockedBy")
        leasedAt = entity["LeasedAt"]?.dateValue
        expiresAt = entity["ExpiresAt"]?.dateValue
        anchoredAt = entity["AnchoredAt"]?.dateValue
        quarantinedAt = entity["QuarantinedAt"]?.dateValue
        lastSeenAt = entity["LastSeenAt"]?.dateValue
        missingSince = entity["MissingSince"]?.dateValue
        missingCount = Int(entity["MissingCount"]?.int64Value ?? 0)
        origin = text("Origin").map(Recorded.init(rawValue:))
        ownerKey = text("OwnerKey")
        sealedOwner = text("Owner")
        pool = text("Pool")
        quotaKeys = text("QuotaKeys")?.split(separator: " ").map(String.init) ?? []
        pairKey = text("PairKey")
        if let text = text("Tags"), let object = try? JSONValue.parse(Array(text.utf8)).objectValue {
            for (key, value) in object { if let value = value.stringValue { tags[key] = value } }
        }
        if let layout = text("Subnets"), let items = try? JSONValue.parse(Array(layout.utf8)).arrayValue {
            subnets = items.compactMap { item in
                guard let name = item["name"]?.stringValue, case .number(let text)? = item["prefixLength"],
                    let length = Int(text)
                else { return nil }
                return LeaseRequest.SubnetRequest(name: name, prefixLength: length)
            }
        }
    }

    /// The lease's subnets placed in its block (empty when it was asked without a layout).
    package var subnetLayout: [(name: String, prefix: IPPrefix)] {
        FreeSpace.layout(subnets.map { ($0.name, $0.prefixLength) }, in: prefix) ?? []
    }

    /// A dual-stack lease's subnets in its IPv6 block, read from its IPv4 row: a /64 for each, by the same
    /// names (empty for a lease of one block, or without a layout).
    package var subnetLayoutV6: [(name: String, prefix: IPPrefix)] {
        guard let v6 = partnerPrefix, v6.version == .v6 else { return [] }
        return FreeSpace.layout(subnets.map { ($0.name, 64) }, in: v6) ?? []
    }
}

/// The idempotency record of one SessionId.
package struct SessionRow: Sendable, Equatable {
    package var sessionId: String
    package var leaseId: String
    package var networkRowKey: String
    package var requestHash: String
    package var createdAt: Date
    /// The IPv6 row of a dual-stack lease (`networkRowKey` is its IPv4 row); nil for a lease of one block.
    package var networkRowKeyV6: String?
    /// The key of the principal that created the session (`OwnerKey`, as the lease's network row has it): only
    /// it may use the SessionId. Nil in rows written before sessions recorded it (their network row tells).
    package var ownerKey: String?
    package var etag: String?

    package init(sessionId: String, leaseId: String, networkRowKey: String, requestHash: String, createdAt: Date) {
        self.sessionId = sessionId
        self.leaseId = leaseId
        self.networkRowKey = networkRowKey
        self.requestHash = requestHash
        self.createdAt = createdAt
    }

    package func entity(partitionKey: String) -> TableEntity {
        var properties: [String: TableValue] = [
            "SessionId": .string(sessionId), "LeaseId": .string(leaseId), "NetworkRowKey": .string(networkRowKey),
            "RequestHash": .string(requestHash), "CreatedAt": .dateTime(createdAt),
        ]
        if let networkRowKeyV6 { properties["NetworkRowKeyV6"] = .string(networkRowKeyV6) }
        if let ownerKey { properties["OwnerKey"] = .string(ownerKey) }
        return TableEntity(partitionKey: partitionKey, rowKey: RowKeys.session(sessionId), properties: properties)
    }

    package init?(entity: TableEntity) {
        guard let id = entity["SessionId"]?.stringValue, let lease = entity["LeaseId"]?.stringValue,
            let key = entity["NetworkRowKey"]?.stringValue, let hash = entity["RequestHash"]?.stringValue
        else { return nil }
        self.init(
            sessionId: id, leaseId: lease, networkRowKey: key, requestHash: hash,
            createdAt: entity["CreatedAt"]?.dateValue ?? .distantPast)
        networkRowKeyV6 = entity["NetworkRowKeyV6"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        ownerKey = entity["OwnerKey"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        etag = entity.etag
    }
}

/// An audit record, written in the same transaction as the change it describes.
package struct AuditEvent: Sendable {
    package var action: Recorded<AuditAction>
    package var actor: String
    package var cidr: String
    /// The IPv6 block of a dual-stack lease (`cidr` is its IPv4 block): one event tells of both.
    package var cidrV6: String?
    package var leaseId: String
    package var sessionId: String
    /// The row's state before and after the change (nil: none, stored as an empty string).
    package var before: Recorded<NetworkState>?
    package var after: Recorded<NetworkState>?
    package var detail: String
    /// When it happened (set on events read back).
    package var at: Date?
    /// Host-IP events: the principal the address is for and, when someone else released it, the one
    /// who did (both principal keys, never names), and the address.
    package var principal: String?
    package var releasedFor: String?
    package var ip: String?
    /// The process that wrote it (`vendor@host:pid`), when the actor is a caller.
    package var process: String?
    /// The request it was written for (`AuditContext.current` when it was built).
    package var requestId: String?
    /// Its row key: a stable id, newest first in key order (set on events read back).
    package var id: String?

    package init(
        action: Recorded<AuditAction>, actor: String, cidr: String, leaseId: String, sessionId: String,
        before: Recorded<NetworkState>?, after: Recorded<NetworkState>?, detail: String = "",
        process: String? = nil, requestId: String? = AuditContext.current?.requestId
    ) {
        self.action = action
        self.actor = actor
        self.cidr = cidr
        self.leaseId = leaseId
        self.sessionId = sessionId
        self.before = before
        self.after = after
        self.detail = detail
        self.process = process
        self.requestId = requestId
    }

    package init?(entity: TableEntity) {
        guard entity.rowKey.hasPrefix(RowKeys.eventPrefix), let action = entity["Action"]?.stringValue else {
            return nil
        }
        func text(_ name: String) -> String { entity[name]?.stringValue ?? "" }
        func state(_ name: String) -> Recorded<NetworkState>? {
            entity[name]?.stringValue.flatMap { $0.isEmpty ? nil : Recorded(rawValue: $0) }
        }
        self.init(
            action: Recorded(rawValue: action), actor: text("Actor"), cidr: text("Cidr"), leaseId: text("LeaseId"),
            sessionId: text("SessionId"),
            before: state("Before"), after: state("After"), detail: text("Detail"))
        at = entity["At"]?.dateValue
        principal = entity["Principal"]?.stringValue
        releasedFor = entity["ReleasedFor"]?.stringValue
        ip = entity["Ip"]?.stringValue
        cidrV6 = entity["CidrV6"]?.stringValue
        process = entity["Process"]?.stringValue
        requestId = entity["RequestId"]?.stringValue
        id = entity.rowKey
    }

    package func entity(partitionKey: String, at date: Date) -> TableEntity {
        var properties: [String: TableValue] = [
            "Action": .string(action.rawValue), "Actor": .string(actor), "Cidr": .string(cidr),
            "LeaseId": .string(leaseId), "SessionId": .string(sessionId), "Before": .string(before?.rawValue ?? ""),
            "After": .string(after?.rawValue ?? ""),
            "Detail": .string(detail),
            "At": .dateTime(date),
        ]
        if let principal { properties["Principal"] = .string(principal) }
        if let releasedFor { properties["ReleasedFor"] = .string(releasedFor) }
        if let ip { properties["Ip"] = .string(ip) }
        if let cidrV6 { properties["CidrV6"] = .string(cidrV6) }
        if let process { properties["Process"] = .string(process) }
        if let requestId { properties["RequestId"] = .string(requestId) }
        return TableEntity(partitionKey: partitionKey, rowKey: RowKeys.event(at: date), properties: properties)
    }
}
