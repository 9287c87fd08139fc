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

/// One network block row: its block, its state with the facts that state carries (`Holding`), and its pool.
///
/// The stored entity is flat (docs/Design.md, "Storage layout"); `init?(entity:)` groups its properties by state
/// and `entity(partitionKey:)` writes them back as they were. The flat members below (`leaseId`, `expiresAt`,
/// `lockedBy`…) only read across states; a row changes through `holding` and the transitions
/// (`anchored(to:at:)`, `quarantined(at:)`, `leased(until:)`, `occupied(by:)`, `sighted(_:)`).
package struct NetworkRow: Sendable, Equatable {
    package var prefix: IPPrefix
    /// The state and its facts. Setting a different state drops `unheld`.
    package var holding: Holding {
        didSet { if holding.state != oldValue.state { unheld = [:] } }
    }
    /// The pool the block belongs to (its stock and its lease); nil for the scope's own space.
    package var pool: String?
    /// Properties of a network row that this row's state does not hold (a row written by hand, or damaged):
    /// never read, written back as stored while the row keeps its state.
    package private(set) var unheld: [String: TableValue] = [:]

    package init(prefix: IPPrefix, holding: Holding, pool: String? = nil) {
        self.prefix = prefix
        self.holding = holding
        self.pool = pool
    }

    /// A stocked block.
    package static func available(_ prefix: IPPrefix, pool: String? = nil) -> NetworkRow {
        NetworkRow(prefix: prefix, holding: .available, pool: pool)
    }

    package var state: NetworkState { holding.state }
    package var rowKey: String { RowKeys.network(prefix) }

    // MARK: Reading across states

    package var lease: Lease? { holding.lease }
    package var leaseId: String? { lease.flatMap { $0.id.isEmpty ? nil : $0.id } }
    package var sessionId: String? { lease.flatMap { $0.sessionId.isEmpty ? nil : $0.sessionId } }
    package var requestHash: String? { lease.flatMap { $0.requestHash.isEmpty ? nil : $0.requestHash } }
    /// The lease's requester, or the reservation's owner.
    package var requester: String? { lease?.requester ?? holding.reservedHold?.owner }
    /// When the lease was made, or the reservation.
    package var leasedAt: Date? { lease?.leasedAt ?? holding.reservedHold?.since }
    /// When the lease expires unless renewed, or the reservation ends.
    package var expiresAt: Date? { lease?.expiresAt ?? holding.reservedHold?.expiresAt }
    package var ownerKey: String? { lease?.ownerKey }
    package var sealedOwner: String? { lease?.sealedOwner }
    package var subnets: [LeaseRequest.SubnetRequest] { lease?.subnets ?? [] }
    package var tags: [String: String] { lease?.tags ?? [:] }
    package var quotaKeys: [String] { lease?.quotaKeys ?? [] }
    package var pairKey: String? { lease?.pairKey }
    package var quarantinedAt: Date? { holding.quarantinedAt }
    package var anchoredAt: Date? { holding.vnet?.anchoredAt }
    /// The VNet the lease is (or was) deployed in.
    package var resourceId: String? { holding.vnet.flatMap { $0.resourceId.isEmpty ? nil : $0.resourceId } }
    /// The unmanaged VNet occupying the block, or what holds a reserved one.
    package var lockedBy: String? { holding.occupation?.vnet ?? holding.reservedHold?.lockedBy }
    package var origin: Recorded<RowOrigin>? { holding.occupation?.origin }
    package var lastSeenAt: Date? { holding.sighting?.lastSeenAt }
    package var missingSince: Date? { holding.sighting?.missingSince }
    /// Complete Syncs in a row that did not see the VNet this row depends on.
    package var missingCount: Int { holding.sighting?.missingCount ?? 0 }

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
    /// anchoring and the Manager's marks, so the two rows never tell different stories. The partner keeps its
    /// own lease facts (its subnets, its `pairKey`); a partner no lease holds, or a row without one, leaves the
    /// partner as it is.
    package func mirrored(onto partner: NetworkRow) -> NetworkRow {
        guard let lease, var partnerLease = partner.lease else { return partner }
        partnerLease.expiresAt = lease.expiresAt
        var mirrored = partner
        mirrored.holding = holding.replacing(partnerLease)
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

    // MARK: The stored entity

    /// The properties a network row may have besides its block's (`Cidr`, `PrefixLength`, `IPVersion`).
    static let propertyNames: Set<String> = [
        "State", "LeaseId", "SessionId", "RequestHash", "Requester", "LeasedAt", "ExpiresAt", "AnchoredAt",
        "QuarantinedAt", "LastSeenAt", "MissingSince", "MissingCount", "Origin", "ResourceId", "LockedBy",
        "OwnerKey", "Owner", "Pool", "QuotaKeys", "PairKey", "Tags", "Subnets",
    ]

    /// The properties `holding` writes when it is `state` (the rest of `propertyNames` are `unheld`).
    static func heldPropertyNames(_ state: NetworkState) -> Set<String> {
        let always: Set<String> = ["State", "Pool"]
        let lease: Set<String> = [
            "LeaseId", "SessionId", "RequestHash", "Requester", "LeasedAt", "ExpiresAt", "OwnerKey", "Owner",
            "Subnets", "Tags", "QuotaKeys", "PairKey", "ResourceId", "AnchoredAt", "LastSeenAt", "MissingSince",
            "MissingCount",
        ]
        switch state {
        case .available: return always
        case .leased, .anchored: return always.union(lease)
        case .quarantined, .expired, .released: return always.union(lease).union(["QuarantinedAt"])
        case .occupied: return always.union(["LockedBy", "Origin", "LastSeenAt", "MissingSince", "MissingCount"])
        case .reserved: return always.union(["LockedBy", "Requester", "ExpiresAt", "LeasedAt"])
        }
    }

    /// The row as an entity, written whole (a replace): what its state does not hold is not written, except
    /// `unheld` (and `LeaseId`, `SessionId`, `RequestHash`, written empty on a row no lease holds).
    package func entity(partitionKey: String) -> TableEntity {
        var p = unheld
        p["Cidr"] = .string(prefix.description)
        p["PrefixLength"] = .int32(Int32(prefix.length))
        p["IPVersion"] = .int32(Int32(prefix.version.rawValue))
        p["State"] = .string(state.rawValue)
        // Every row names a lease, session and request hash, empty when none holds it.
        for (name, value) in [
            ("LeaseId", lease?.id), ("SessionId", lease?.sessionId), ("RequestHash", lease?.requestHash),
        ] where value != nil || p[name] == nil {
            p[name] = .string(value ?? "")
        }
        if let pool { p["Pool"] = .string(pool) }
        switch holding {
        case .available: break
        case .occupied(let occupation):
            if let vnet = occupation.vnet { p["LockedBy"] = .string(vnet) }
            if let origin = occupation.origin { p["Origin"] = .string(origin.rawValue) }
            Self.write(occupation.sighting, to: &p)
        case .reserved(let hold):
            if let lockedBy = hold.lockedBy { p["LockedBy"] = .string(lockedBy) }
            if let owner = hold.owner { p["Requester"] = .string(owner) }
            if let date = hold.expiresAt { p["ExpiresAt"] = .dateTime(date) }
            if let date = hold.since { p["LeasedAt"] = .dateTime(date) }
        case .leased(let lease, _), .anchored(let lease, _), .quarantined(let lease, _, _), .expired(let lease, _, _),
            .released(let lease, _, _):
            Self.write(lease, to: &p)
            if let vnet = holding.vnet {
                if !vnet.resourceId.isEmpty { p["ResourceId"] = .string(vnet.resourceId) }
                if let date = vnet.anchoredAt { p["AnchoredAt"] = .dateTime(date) }
                Self.write(vnet.sighting, to: &p)
            }
            if let date = holding.quarantinedAt { p["QuarantinedAt"] = .dateTime(date) }
        }
        return TableEntity(partitionKey: partitionKey, rowKey: rowKey, properties: p)
    }

    private static func write(_ lease: Lease, to p: inout [String: TableValue]) {
        if let requester = lease.requester { p["Requester"] = .string(requester) }
        if let date = lease.leasedAt { p["LeasedAt"] = .dateTime(date) }
        if let date = lease.expiresAt { p["ExpiresAt"] = .dateTime(date) }
        if let ownerKey = lease.ownerKey { p["OwnerKey"] = .string(ownerKey) }
        if let sealedOwner = lease.sealedOwner { p["Owner"] = .string(sealedOwner) }
        if !lease.quotaKeys.isEmpty { p["QuotaKeys"] = .string(lease.quotaKeys.joined(separator: " ")) }
        if let pairKey = lease.pairKey { p["PairKey"] = .string(pairKey) }
        if !lease.tags.isEmpty {
            p["Tags"] = .string(
                JSONValue.object(lease.tags.keys.sorted().map { ($0, .string(lease.tags[$0]!)) }).serialized())
        }
        if !lease.subnets.isEmpty {
            p["Subnets"] = .string(
                JSONValue.array(
                    lease.subnets.map {
                        .object([("name", .string($0.name)), ("prefixLength", .number(String($0.prefixLength)))])
                    }
                ).serialized())
        }
    }

    private static func write(_ sighting: Sighting, to p: inout [String: TableValue]) {
        if let date = sighting.lastSeenAt { p["LastSeenAt"] = .dateTime(date) }
        if let date = sighting.missingSince { p["MissingSince"] = .dateTime(date) }
        if sighting.missingCount > 0 { p["MissingCount"] = .int32(Int32(sighting.missingCount)) }
    }

    /// The row an entity stores; nil for another row, or a state this build does not know (such a row is never
    /// written by this build, so it stays as stored).
    package init?(entity: TableEntity) {
        guard let prefix = RowKeys.prefix(ofNetworkKey: entity.rowKey),
            let state = entity["State"]?.stringValue.flatMap(NetworkState.init(rawValue:))
        else { return nil }
        func text(_ name: String) -> String? { entity[name]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } }
        func date(_ name: String) -> Date? { entity[name]?.dateValue }
        let sighting = Sighting(
            lastSeenAt: date("LastSeenAt"), missingSince: date("MissingSince"),
            missingCount: Int(entity["MissingCount"]?.int64Value ?? 0))
        switch state {
        case .available: holding = .available
        case .occupied:
            holding = .occupied(
                Occupation(
                    vnet: text("LockedBy"), origin: text("Origin").map(Recorded.init(rawValue:)), sighting: sighting))
        case .reserved:
            holding = .reserved(
                ReservedHold(
                    lockedBy: text("LockedBy"), owner: text("Requester"), expiresAt: date("ExpiresAt"),
                    since: date("LeasedAt")))
        case .leased, .anchored, .quarantined, .expired, .released:
            let lease = Self.lease(from: entity, text: text, date: date)
            let resourceId = text("ResourceId")
            let vnet =
                resourceId != nil || date("AnchoredAt") != nil || !sighting.isEmpty
                ? Anchor(resourceId: resourceId ?? "", anchoredAt: date("AnchoredAt"), sighting: sighting) : nil
            let since = date("QuarantinedAt")
            switch state {
            case .leased: holding = .leased(lease, vnet: vnet)
            case .anchored: holding = .anchored(lease, vnet: vnet ?? Anchor(resourceId: ""))
            case .quarantined: holding = .quarantined(lease, vnet: vnet, since: since)
            case .expired: holding = .expired(lease, vnet: vnet, since: since)
            default: holding = .released(lease, vnet: vnet, since: since)
            }
        }
        self.prefix = prefix
        pool = text("Pool")
        let held = Self.heldPropertyNames(state)
        for (name, value) in entity.properties where Self.propertyNames.contains(name) && !held.contains(name) {
            if value.stringValue?.isEmpty == true { continue } // an empty text reads as absent
            unheld[name] = value
        }
    }

    private static func lease(
        from entity: TableEntity, text: (String) -> String?, date: (String) -> Date?
    ) -> Lease {
        var tags: [String: String] = [:]
        if let text = text("Tags"), let object = try? JSONValue.parse(Array(text.utf8)).objectValue {
            for (key, value) in object { if let value = value.stringValue { tags[key] = value } }
        }
        var subnets: [LeaseRequest.SubnetRequest] = []
        if let layout = text("Subnets"), let items = try? JSONValue.parse(Array(layout.utf8)).arrayValue {
            subnets = items.compactMap { item in
                guard let name = item["name"]?.stringValue, case .number(let text)? = item["prefixLength"],
                    let length = Int(text)
                else { return nil }
                return LeaseRequest.SubnetRequest(name: name, prefixLength: length)
            }
        }
        return Lease(
            id: text("LeaseId") ?? "", sessionId: text("SessionId") ?? "", requestHash: text("RequestHash") ?? "",
            requester: text("Requester"), leasedAt: date("LeasedAt"), expiresAt: date("ExpiresAt"),
            ownerKey: text("OwnerKey"), sealedOwner: text("Owner"), subnets: subnets, tags: tags,
            quotaKeys: text("QuotaKeys")?.split(separator: " ").map(String.init) ?? [], pairKey: text("PairKey"))
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
