internal import AzureCore
internal import AzureTables
package import Foundation
package import IPAMCore
package import NetworkMath
internal import StrictJSON

/// A principal's role in one network lease. Each role includes the ones before it.
package enum MemberRole: String, Sendable, CaseIterable, Comparable {
    /// Gets, looks up and releases its own host addresses.
    case member
    /// Also adds and removes members and releases anyone's address.
    case admin
    /// The identity that created the network lease (an admin that cannot be removed).
    case owner

    package static func < (a: MemberRole, b: MemberRole) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// One subnet of a network lease as host addresses are handed out of it.
package struct HostSubnet: Sendable, Equatable {
    /// The subnet's name in the lease's layout; nil for the whole block of a lease without a layout.
    package let name: String?
    package var pool: HostAddressPool
    package var prefix: IPPrefix { pool.addresses.subnet }

    package init(name: String?, pool: HostAddressPool) {
        self.name = name
        self.pool = pool
    }
}

/// The head of a lease's host-IP partition: where the lease lives, and per subnet the next offset and
/// the LIFO free list. Its ETag orders every change of the partition.
package struct HostIPHead: Sendable, Equatable {
    package let leaseId: String
    package let scope: Scope
    /// The network row of the lease in the scope's partition.
    package let networkRowKey: String
    package var subnets: [HostSubnet]
    /// A dual-stack lease's IPv6 side: for each of `subnets`, the subnet's /64 (the same name, the same index),
    /// or the whole IPv6 block for a lease without a layout. Empty for a lease of one block: then a principal
    /// holds one address; with them, one of each version.
    package var v6Subnets: [HostSubnet] = []
    /// Bumped by every change.
    package var version: Int
    /// nil for a head not stored yet (the first change inserts it).
    package var etag: String?

    /// The head the first host-IP change of a lease creates: one pool per subnet of its layout, or one
    /// for the whole block when it has none.
    package init(lease row: NetworkRow, scope: Scope) {
        self.init(
            leaseId: row.leaseId ?? "", scope: scope, networkRowKey: row.rowKey,
            subnets: Self.subnets(row.subnetLayout, block: row.prefix), version: 0, etag: nil)
        if let v6 = row.partnerPrefix, v6.version == .v6 { v6Subnets = Self.subnets(row.subnetLayoutV6, block: v6) }
    }

    /// A pool per subnet of `layout`, or one for the whole `block` when there is no layout.
    static func subnets(_ layout: [(name: String, prefix: IPPrefix)], block: IPPrefix) -> [HostSubnet] {
        layout.isEmpty
            ? [HostSubnet(name: nil, pool: HostAddressPool(addresses: HostAddresses(subnet: block)))]
            : layout.map {
                HostSubnet(name: $0.name, pool: HostAddressPool(addresses: HostAddresses(subnet: $0.prefix)))
            }
    }

    init(leaseId: String, scope: Scope, networkRowKey: String, subnets: [HostSubnet], version: Int, etag: String?) {
        self.leaseId = leaseId
        self.scope = scope
        self.networkRowKey = networkRowKey
        self.subnets = subnets
        self.version = version
        self.etag = etag
    }

    /// Characters per free-list property (a string property holds at most 32 Ki UTF-16 units).
    static let freeChunk = 30_000

    func entity() -> TableEntity {
        var p: [String: TableValue] = [
            "LeaseId": .string(leaseId), "SubscriptionId": .string(scope.account),
            "Region": .string(scope.region),
            "NetworkRowKey": .string(networkRowKey), "Version": .int64(Int64(version)),
        ]
        scope.writeCloud(into: &p)
        Self.write(subnets, as: "", into: &p)
        if !v6Subnets.isEmpty { Self.write(v6Subnets, as: "V6", into: &p) }
        return TableEntity(partitionKey: RowKeys.hostIPPartition(leaseId), rowKey: RowKeys.head, properties: p)
    }

    /// One side's subnets as properties: `Subnets{side}` (names and ranges), `Next{side}{i}` and the free list in
    /// chunks, `Free{side}{i}_{chunk}`.
    static func write(_ subnets: [HostSubnet], as side: String, into p: inout [String: TableValue]) {
        p["Subnets" + side] = .string(
            JSONValue.array(
                subnets.map {
                    .object([
                        ("name", $0.name.map(JSONValue.string) ?? .null), ("cidr", .string($0.prefix.description)),
                    ])
                }
            ).serialized())
        for (index, subnet) in subnets.enumerated() {
            p["Next\(side)\(index)"] = .int64(Int64(subnet.pool.next))
            let text = subnet.pool.free.map(String.init).joined(separator: ",")
            var chunk = 0
            var rest = Substring(text)
            while !rest.isEmpty {
                var cut =
                    rest.index(rest.startIndex, offsetBy: Self.freeChunk, limitedBy: rest.endIndex) ?? rest.endIndex
                // Cut after a comma so every chunk holds whole numbers.
                if cut != rest.endIndex, let comma = rest[..<cut].lastIndex(of: ",") { cut = rest.index(after: comma) }
                p["Free\(side)\(index)_\(chunk)"] = .string(String(rest[..<cut]))
                rest = rest[cut...]
                chunk += 1
            }
        }
    }

    /// One side's subnets read back (nil: unreadable; an absent side is empty).
    static func read(_ entity: TableEntity, side: String) -> [HostSubnet]? {
        guard let text = entity["Subnets" + side]?.stringValue else { return side.isEmpty ? nil : [] }
        guard let layout = (try? JSONValue.parse(text))?.arrayValue else { return nil }
        var subnets: [HostSubnet] = []
        for (index, item) in layout.enumerated() {
            guard let prefix = item["cidr"]?.stringValue.flatMap({ try? IPPrefix(parsing: $0) }) else { return nil }
            var free: [Int] = []
            var chunk = 0
            while let text = entity["Free\(side)\(index)_\(chunk)"]?.stringValue {
                free += text.split(separator: ",").compactMap { Int($0) }
                chunk += 1
            }
            let next = (entity["Next\(side)\(index)"]?.int64Value).map { Int($0) }
            subnets.append(
                HostSubnet(
                    name: item["name"]?.stringValue,
                    pool: HostAddressPool(addresses: HostAddresses(subnet: prefix), next: next, free: free)))
        }
        return subnets
    }

    init?(entity: TableEntity) {
        guard entity.rowKey == RowKeys.head, let leaseId = entity["LeaseId"]?.stringValue,
            let account = entity["SubscriptionId"]?.stringValue, let region = entity["Region"]?.stringValue,
            let scope = Scope(storedCloud: entity["Cloud"]?.stringValue, account: account, region: region),
            let networkRowKey = entity["NetworkRowKey"]?.stringValue,
            let subnets = Self.read(entity, side: ""), let v6Subnets = Self.read(entity, side: "V6")
        else { return nil }
        self.init(
            leaseId: leaseId, scope: scope, networkRowKey: networkRowKey,
            subnets: subnets,
            version: Int(entity["Version"]?.int64Value ?? 0), etag: entity.etag)
        self.v6Subnets = v6Subnets
    }
}

/// One host address held by a principal.
package struct HostIPAllocation: Sendable, Equatable {
    package let principalKey: String
    package let sealedPrincipal: String
    /// Which of the head's subnets, and the offset in it.
    package let subnetIndex: Int
    package let offset: Int
    package let address: IPAddress
    /// A dual-stack lease's IPv6 address for the same principal: its offset in the head's `v6Subnets[subnetIndex]`.
    package var offsetV6: Int? = nil
    package var addressV6: IPAddress? = nil
    package let allocatedAt: Date
    /// The key of the principal that asked for it (the principal itself, or the owner or an admin).
    package let allocatedBy: String

    package init(
        principalKey: String, sealedPrincipal: String, subnetIndex: Int, offset: Int, address: IPAddress,
        allocatedAt: Date, allocatedBy: String
    ) {
        self.principalKey = principalKey
        self.sealedPrincipal = sealedPrincipal
        self.subnetIndex = subnetIndex
        self.offset = offset
        self.address = address
        self.allocatedAt = allocatedAt
        self.allocatedBy = allocatedBy
    }

    func entity(leaseId: String) -> TableEntity {
        var properties: [String: TableValue] = [
            "PrincipalKey": .string(principalKey), "Principal": .string(sealedPrincipal),
            "SubnetIndex": .int32(Int32(subnetIndex)),
            "Offset": .int64(Int64(offset)), "Ip": .string(address.description), "AllocatedAt": .dateTime(allocatedAt),
            "AllocatedBy": .string(allocatedBy),
        ]
        if let offsetV6, let addressV6 {
            properties["OffsetV6"] = .int64(Int64(offsetV6))
            properties["IpV6"] = .string(addressV6.description)
        }
        return TableEntity(
            partitionKey: RowKeys.hostIPPartition(leaseId), rowKey: RowKeys.hostIP(principalKey), properties: properties
        )
    }

    init?(entity: TableEntity) {
        guard entity.rowKey.hasPrefix(RowKeys.hostIPPrefix), let key = entity["PrincipalKey"]?.stringValue,
            let sealed = entity["Principal"]?.stringValue,
            let index = entity["SubnetIndex"]?.int64Value, let offset = entity["Offset"]?.int64Value,
            let address = entity["Ip"]?.stringValue.flatMap(IPAddress.init)
        else { return nil }
        self.init(
            principalKey: key, sealedPrincipal: sealed, subnetIndex: Int(index), offset: Int(offset), address: address,
            allocatedAt: entity["AllocatedAt"]?.dateValue ?? .distantPast,
            allocatedBy: entity["AllocatedBy"]?.stringValue ?? "")
        offsetV6 = (entity["OffsetV6"]?.int64Value).map { Int($0) }
        addressV6 = entity["IpV6"]?.stringValue.flatMap(IPAddress.init)
    }
}

/// A principal's membership of a network lease.
package struct LeaseMember: Sendable, Equatable {
    package let principalKey: String
    package let sealedPrincipal: String
    package var role: MemberRole
    package var addedAt: Date
    package var addedBy: String

    package init(principalKey: String, sealedPrincipal: String, role: MemberRole, addedAt: Date, addedBy: String) {
        self.principalKey = principalKey
        self.sealedPrincipal = sealedPrincipal
        self.role = role
        self.addedAt = addedAt
        self.addedBy = addedBy
    }

    func entity(leaseId: String) -> TableEntity {
        TableEntity(
            partitionKey: RowKeys.hostIPPartition(leaseId), rowKey: RowKeys.member(principalKey),
            properties: [
                "PrincipalKey": .string(principalKey), "Principal": .string(sealedPrincipal),
                "Role": .string(role.rawValue),
                "AddedAt": .dateTime(addedAt), "AddedBy": .string(addedBy),
            ])
    }

    init?(entity: TableEntity) {
        guard entity.rowKey.hasPrefix(RowKeys.memberPrefix), let key = entity["PrincipalKey"]?.stringValue,
            let sealed = entity["Principal"]?.stringValue,
            let role = entity["Role"]?.stringValue.flatMap(MemberRole.init(rawValue:))
        else { return nil }
        self.init(
            principalKey: key, sealedPrincipal: sealed, role: role,
            addedAt: entity["AddedAt"]?.dateValue ?? .distantPast,
            addedBy: entity["AddedBy"]?.stringValue ?? "")
    }
}

/// What one host-IP operation read: the head, and the rows of the principal it is about and of the caller.
package struct HostIPView: Sendable {
    /// nil before the lease's first host-IP change.
    package let head: HostIPHead?
    /// The principal's address, nil when it holds none.
    package let allocation: Stored<HostIPAllocation>?
    package let principal: Stored<LeaseMember>?
    package let caller: Stored<LeaseMember>?
}

/// One change of a lease's host-IP partition: written as one transaction under the head's ETag.
package struct HostIPChange: Sendable {
    /// The head as the change leaves it; its `etag` is the one read (nil: the head is inserted).
    package var head: HostIPHead
    package var allocate: HostIPAllocation?
    package var release: Stored<HostIPAllocation>?
    /// Inserted or replaced (under the head, which orders every change).
    package var putMembers: [LeaseMember] = []
    package var removeMember: Stored<LeaseMember>?
    /// The caller's membership, which the change relies on: it must still be as read (`If-Match`).
    package var confirm: Stored<LeaseMember>?
    package var events: [AuditEvent] = []

    package init(head: HostIPHead) { self.head = head }
}

/// How a host-IP change ended.
package enum HostIPWrite: Sendable, Equatable {
    case done
    /// Another change got in first (the head, the principal's row or the caller's membership moved):
    /// read again.
    case changed
    /// The answer was lost: the change may or may not have happened.
    case outcomeUnknown
}

extension RowKeys {
    package static let hostIPPartitionPrefix = "ips_"
    package static let hostIPPrefix = "ip_"
    package static let memberPrefix = "member_"
    /// `ips_{leaseId}`: every host address, member and host-IP event of one network lease.
    package static func hostIPPartition(_ leaseId: String) -> String { hostIPPartitionPrefix + leaseId.lowercased() }
    package static func hostIP(_ principalKey: String) -> String { hostIPPrefix + principalKey }
    package static func member(_ principalKey: String) -> String { memberPrefix + principalKey }
}

extension Inventory {
    /// The head, the principal's address and membership and the caller's membership (four point reads,
    /// side by side).
    package func hostIPView(leaseId: String, principalKey: String, callerKey: String) async throws(InventoryError)
        -> HostIPView
    {
        let partition = RowKeys.hostIPPartition(leaseId)
        return try await storage {
            async let head = table.get(partitionKey: partition, rowKey: RowKeys.head)
            async let allocation = table.get(partitionKey: partition, rowKey: RowKeys.hostIP(principalKey))
            async let principal = table.get(partitionKey: partition, rowKey: RowKeys.member(principalKey))
            async let caller =
                callerKey == principalKey ? nil : table.get(partitionKey: partition, rowKey: RowKeys.member(callerKey))
            let member = try await principal.flatMap { Stored(entity: $0, decode: LeaseMember.init(entity:)) }
            return HostIPView(
                head: try await head.flatMap(HostIPHead.init(entity:)),
                allocation: try await allocation.flatMap { Stored(entity: $0, decode: HostIPAllocation.init(entity:)) },
                principal: member,
                caller: callerKey == principalKey
                    ? member : try await caller.flatMap { Stored(entity: $0, decode: LeaseMember.init(entity:)) })
        }
    }

    /// Every host address of a lease, in principal-key order.
    package func hostIPAllocations(leaseId: String) async throws(InventoryError) -> [HostIPAllocation] {
        try await storage {
            try await table.queryAll(
                filter: Self.range(RowKeys.hostIPPrefix, in: RowKeys.hostIPPartition(leaseId)),
                HostIPAllocation.init(entity:))
        }
    }

    /// Every member of a lease, in principal-key order.
    package func members(leaseId: String) async throws(InventoryError) -> [LeaseMember] {
        try await storage {
            try await table.queryAll(
                filter: Self.range(RowKeys.memberPrefix, in: RowKeys.hostIPPartition(leaseId)),
                LeaseMember.init(entity:))
        }
    }

    /// The host-IP events of a lease, newest first.
    package func hostIPEvents(leaseId: String) async throws(InventoryError) -> [AuditEvent] {
        try await storage {
            try await table.queryAll(
                filter: Self.range(RowKeys.eventPrefix, in: RowKeys.hostIPPartition(leaseId)), AuditEvent.init(entity:))
        }
    }

    /// Commits one host-IP change as one transaction: the head `If-Match` (or inserted), the address
    /// inserted or deleted `If-Match`, the membership put or deleted, the caller's membership confirmed,
    /// and the events.
    package func commit(_ change: HostIPChange, now: Date) async throws(InventoryError) -> HostIPWrite {
        let lease = change.head.leaseId
        let partition = RowKeys.hostIPPartition(lease)
        var head = change.head
        head.version += 1
        var actions: [TableTransactionAction] = [
            change.head.etag.map { .replace(head.entity(), ifMatch: .etag($0)) } ?? .insert(head.entity())
        ]
        if let allocation = change.allocate { actions.append(.insert(allocation.entity(leaseId: lease))) }
        if let allocation = change.release {
            actions.append(
                .delete(
                    partitionKey: partition, rowKey: RowKeys.hostIP(allocation.principalKey),
                    ifMatch: allocation.ifMatch)
            )
        }
        for member in change.putMembers { actions.append(.insertOrReplace(member.entity(leaseId: lease))) }
        if let member = change.removeMember {
            actions.append(
                .delete(partitionKey: partition, rowKey: RowKeys.member(member.principalKey), ifMatch: member.ifMatch))
        }
        if let member = change.confirm, !change.putMembers.contains(where: { $0.principalKey == member.principalKey }),
            member.principalKey != change.removeMember?.principalKey
        {
            actions.append(
                .merge(
                    TableEntity(partitionKey: partition, rowKey: RowKeys.member(member.principalKey), properties: [:]),
                    ifMatch: member.ifMatch))
        }
        // Events of one change share a timestamp; their keys differ by their uuid.
        for event in change.events {
            actions.append(.insert(event.entity(partitionKey: partition, at: EventClock.stamp(now))))
        }
        do {
            _ = try await submit(actions)
            return .done
        } catch {
            switch WriteFailure(error) {
            case .conflict: return .changed
            case .unknown: return .outcomeUnknown
            case .failed(let failure): throw failure
            }
        }
    }

    /// The heads of every lease that has host-IP rows (one query over the table's `ips_` partitions).
    package func hostIPHeads() async throws(InventoryError) -> [HostIPHead] {
        let filter =
            "PartitionKey ge '\(RowKeys.hostIPPartitionPrefix)' and PartitionKey lt 'ips`' and RowKey eq '\(RowKeys.head)'"
        return try await storage { try await table.queryAll(filter: filter, HostIPHead.init(entity:)) }
    }

    /// Ends the host addresses and memberships of a lease that ended: deletes them 100 to a transaction,
    /// then the head (`If-Match` as read, with a `host-ips-cleared` event), keeping the events. A change
    /// that slipped in meanwhile fails the last step; the next run clears again. A head that was never stored
    /// (no ETag) has nothing to clear.
    package func clearHostIPs(_ head: HostIPHead, reason: String, now: Date) async -> BatchResult {
        var result = BatchResult()
        guard let headETag = head.etag else { return result }
        let partition = RowKeys.hostIPPartition(head.leaseId)
        do {
            let rows = try await table.queryAll(
                filter: "PartitionKey eq '\(TableQuery.quoted(partition))'", select: ["RowKey"])
            let keys = rows.map(\.rowKey).filter {
                $0.hasPrefix(RowKeys.hostIPPrefix) || $0.hasPrefix(RowKeys.memberPrefix)
            }
            for start in stride(from: 0, to: keys.count, by: 100) {
                let actions = keys[start..<min(start + 100, keys.count)].map {
                    TableTransactionAction.delete(partitionKey: partition, rowKey: $0, ifMatch: .any)
                }
                result.transactions += 1
                _ = try await submit(actions)
                result.written += actions.count
            }
            let event = AuditEvent(
                action: .known(.hostIPsCleared), actor: actor,
                cidr: (head.subnets + head.v6Subnets).map(\.prefix.description).joined(separator: " "),
                leaseId: head.leaseId, sessionId: "", before: nil, after: nil, detail: reason)
            result.transactions += 1
            _ = try await submit([
                .delete(partitionKey: partition, rowKey: RowKeys.head, ifMatch: .etag(headETag)),
                .insert(event.entity(partitionKey: partition, at: EventClock.stamp(now))),
            ])
            result.applied[.hostIPsCleared, default: 0] += 1
        } catch {
            switch WriteFailure(error) {
            case .conflict: result.conflicts += 1
            case .unknown:
                result.failure = InventoryError(
                    kind: .unavailable, detail: "clearing host IPs of \(head.leaseId): outcome unknown")
            case .failed(let failure): result.failure = failure
            }
        }
        return result
    }

    /// What the invariant checker finds wrong with a lease's host-IP partition (empty: nothing): every
    /// offset below `next` is either allocated or free and never both, no address is held twice, none is
    /// reserved, every address sits at its offset, and every holder is a member.
    package func hostIPViolations(leaseId: String) async throws(InventoryError) -> [String] {
        let partition = RowKeys.hostIPPartition(leaseId)
        let rows = try await storage {
            try await table.queryAll(filter: "PartitionKey eq '\(TableQuery.quoted(partition))'")
        }
        guard let head = rows.first(where: { $0.rowKey == RowKeys.head }).flatMap(HostIPHead.init(entity:)) else {
            let live = rows.filter {
                $0.rowKey.hasPrefix(RowKeys.hostIPPrefix) || $0.rowKey.hasPrefix(RowKeys.memberPrefix)
            }
            return live.isEmpty ? [] : ["\(live.count) host-IP rows without a head"]
        }
        let allocations = rows.compactMap(HostIPAllocation.init(entity:))
        let members = Set(rows.compactMap(LeaseMember.init(entity:)).map(\.principalKey))
        return HostIPInvariants.violations(head: head, allocations: allocations, members: members)
    }

    /// The filter for the row keys of `partition` that start with `prefix` (ending in an ASCII character).
    static func range(_ prefix: String, in partition: String) -> String {
        let last = prefix.unicodeScalars.last!.value
        let upper = String(prefix.dropLast()) + String(UnicodeScalar(UInt8(last + 1))) // e.g. `_` + 1 is "`"
        return "PartitionKey eq '\(TableQuery.quoted(partition))' and RowKey ge '\(prefix)' and RowKey lt '\(upper)'"
    }
}

/// The invariants of one lease's host-IP partition (pure, so tests can check states they build).
package enum HostIPInvariants {
    package static func violations(head: HostIPHead, allocations: [HostIPAllocation], members: Set<String>) -> [String]
    {
        var problems: [String] = []
        for allocation in allocations where !members.contains(allocation.principalKey) {
            problems.append("\(allocation.principalKey) holds \(allocation.address) but is not a member")
        }
        problems += side(
            head.subnets, allocations.map { ($0.principalKey, $0.subnetIndex, $0.offset, $0.address) }, label: "")
        // A dual-stack lease's principals hold one address of each version, in the subnet of the same index.
        let dual = allocations.filter { $0.offsetV6 != nil && $0.addressV6 != nil }
        if head.v6Subnets.isEmpty {
            for allocation in dual {
                problems.append(
                    "\(allocation.principalKey) holds IPv6 \(allocation.addressV6!) in a lease without IPv6 subnets")
            }
        } else {
            for allocation in allocations where allocation.offsetV6 == nil || allocation.addressV6 == nil {
                problems.append(
                    "\(allocation.principalKey) holds \(allocation.address) but no IPv6 address in a dual-stack lease")
            }
            problems += side(
                head.v6Subnets, dual.map { ($0.principalKey, $0.subnetIndex, $0.offsetV6!, $0.addressV6!) },
                label: "IPv6 ")
        }
        return problems
    }

    /// One version's subnets against what is held in them: every offset below `next` either held or free and
    /// never both, none held twice, none reserved, every address at its offset.
    static func side(
        _ subnets: [HostSubnet], _ held: [(who: String, subnet: Int, offset: Int, address: IPAddress)], label: String
    ) -> [String] {
        var problems: [String] = []
        var taken: [Int: Set<Int>] = [:]
        var addresses = Set<IPAddress>()
        for (who, index, offset, address) in held {
            guard subnets.indices.contains(index) else {
                problems.append("\(who): \(label)subnet \(index) does not exist")
                continue
            }
            let pool = subnets[index].pool
            if !pool.addresses.isUsable(offset) {
                problems.append("\(who): \(label)offset \(offset) is reserved or outside the subnet")
            }
            if offset >= pool.next {
                problems.append("\(who): \(label)offset \(offset) is not below next (\(pool.next))")
            }
            if pool.addresses.address(at: offset) != address {
                problems.append("\(who): \(address) is not at \(label)offset \(offset)")
            }
            if !addresses.insert(address).inserted { problems.append("\(address) is held twice") }
            if !taken[index, default: []].insert(offset).inserted {
                problems.append("\(label)offset \(offset) of subnet \(index) is held twice")
            }
        }
        for (index, subnet) in subnets.enumerated() {
            let free = subnet.pool.free
            if Set(free).count != free.count {
                problems.append("\(label)subnet \(index): the free list repeats an offset")
            }
            for offset in free where !subnet.pool.addresses.isUsable(offset) || offset >= subnet.pool.next {
                problems.append("\(label)subnet \(index): free offset \(offset) was never handed out")
            }
            let inUse = taken[index, default: []]
            for offset in Set(free).intersection(inUse) {
                problems.append("\(label)subnet \(index): offset \(offset) is both free and held")
            }
            let expected = Set(subnet.pool.addresses.firstUsable..<subnet.pool.next)
            let missing = expected.subtracting(inUse).subtracting(free)
            if !missing.isEmpty {
                problems.append(
                    "\(label)subnet \(index): offsets \(missing.sorted().prefix(8).map(String.init).joined(separator: ",")) are neither free nor held (lost)"
                )
            }
        }
        return problems
    }
}
