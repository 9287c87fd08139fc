package import Foundation
package import IPAMCore
package import Inventory
import Logging
package import NetworkMath

/// Who calls a host-IP operation.
package struct HostIPCaller: Sendable {
    package let principal: Principal
    /// A caller with the `admin` role acts as an admin member of every lease.
    package let isAdmin: Bool

    package init(principal: Principal, isAdmin: Bool) {
        self.principal = principal
        self.isAdmin = isAdmin
    }
}

/// A host address as the API answers it.
package struct HostIPAnswer: Sendable, Equatable {
    package let leaseId: String
    package let ip: IPAddress
    package let principal: String
    /// The subnet's name in the lease's layout (nil: the lease has none and the address is in its block).
    package let subnet: String?
    package let subnetPrefix: IPPrefix
    package let allocatedAt: Date
    /// A dual-stack lease's IPv6 address for the principal, and the /64 (or block) it is in.
    package var ipV6: IPAddress? = nil
    package var subnetPrefixV6: IPPrefix? = nil
}

/// A member of a network lease as the API answers it.
package struct MemberAnswer: Sendable, Equatable {
    package let principal: String
    package let role: MemberRole
    package let addedAt: Date?
}

/// Host-IP leases inside a network lease (docs/Design.md, "Host addresses"): each principal gets one
/// address of the lease's block (of each of its blocks, for a dual-stack lease: the IPv6 one in the /64 of the same subnet), stable across retries, back on the LIFO free list when released. Every
/// change is one transaction of the lease's `ips_{leaseId}` partition under its head's ETag; inside this
/// process changes of one lease queue (`hostIPLocks`) instead of racing for it.
extension VendorService {
    /// Gives `principal` (default: the caller) an address in `subnet` (default: the first), or answers the
    /// one it holds (`created` false).
    package func allocateHostIP(leaseId: String, principal name: String?, subnet: String?, caller: HostIPCaller)
        async throws(DomainError) -> (HostIPAnswer, created: Bool)
    {
        let principal = try target(name, caller: caller)
        // An attempt whose answer was lost (or retried after a 5xx) may have committed: a later read that
        // finds exactly that allocation answers it as created.
        var attempted: HostIPAllocation? = nil
        return try await changing(leaseId) { () async throws(DomainError) -> (HostIPAnswer, created: Bool)? in
            let lease = try await hostIPLease(leaseId, principal: principal, caller: caller)
            let role = try lease.requireMember()
            if principal.key != caller.principal.key && role < .admin {
                throw .memberRefused(.getAddress(principal: principal.name), leaseId: leaseId)
            }
            let index = try subnetIndex(subnet, in: lease.head, leaseId: leaseId)
            if let held = lease.view.allocation {
                if subnet != nil, held.subnetIndex != index {
                    throw .principalHasIP(
                        principal: principal.name, address: held.address.description, leaseId: leaseId)
                }
                let ours =
                    attempted.map {
                        $0.address == held.address && $0.allocatedBy == held.allocatedBy
                            && abs($0.allocatedAt.timeIntervalSince(held.allocatedAt)) < 0.001
                    } ?? false
                return (answer(held.value, principal: principal, head: lease.head), ours)
            }
            var change = lease.change()
            guard let offset = change.head.subnets[index].pool.allocate() else {
                let chosen = lease.head.subnets[index]
                throw .addressesExhausted(
                    leaseId: leaseId, subnet: chosen.name, cidr: chosen.prefix,
                    usable: chosen.pool.addresses.usableCount, version: .v4)
            }
            let now = time.now()
            var allocation = HostIPAllocation(
                principalKey: principal.key, sealedPrincipal: redactor.seal(principal), subnetIndex: index,
                offset: offset,
                address: lease.head.subnets[index].pool.addresses.address(at: offset), allocatedAt: now,
                allocatedBy: caller.principal.key)
            if change.head.v6Subnets.indices.contains(index) {
                // A dual-stack lease: an IPv6 address too, in the subnet's /64, in the same transaction.
                guard let offsetV6 = change.head.v6Subnets[index].pool.allocate() else {
                    let chosen = lease.head.v6Subnets[index]
                    throw .addressesExhausted(
                        leaseId: leaseId, subnet: chosen.name, cidr: chosen.prefix,
                        usable: chosen.pool.addresses.usableCount, version: .v6)
                }
                allocation.offsetV6 = offsetV6
                allocation.addressV6 = change.head.v6Subnets[index].pool.addresses.address(at: offsetV6)
            }
            change.allocate = allocation
            if lease.view.principal == nil && !change.putMembers.contains(where: { $0.principalKey == principal.key }) {
                // Whoever holds an address is a member: the owner or an admin naming a VM makes it one.
                change.putMembers.append(
                    LeaseMember(
                        principalKey: principal.key, sealedPrincipal: redactor.seal(principal), role: .member,
                        addedAt: now, addedBy: caller.principal.key))
                change.events.append(
                    event(
                        .memberAdded, lease, principal: principal, caller: caller,
                        detail: "role=member (with its address)"))
            }
            var allocated = event(.ipAllocated, lease, principal: principal, caller: caller, subnet: index)
            allocated.ip = Self.addresses(allocation)
            change.events.append(allocated)
            attempted = allocation
            guard try await commit(change) else { return nil }
            return (answer(allocation, principal: principal, head: change.head), true)
        }
    }

    /// Gives `principal`'s address back (to the LIFO free list). Nil when it held none: nothing was done.
    package func releaseHostIP(leaseId: String, principal name: String, caller: HostIPCaller) async throws(DomainError)
        -> HostIPAnswer?
    {
        let principal = try target(name, caller: caller)
        // A release whose answer was lost (or retried after a 5xx) may have committed: if the address is
        // gone when read again, this call released it.
        var attempted: HostIPAnswer? = nil
        return try await changing(leaseId) { () async throws(DomainError) -> HostIPAnswer?? in
            let lease = try await hostIPLease(leaseId, principal: principal, caller: caller)
            let role = try lease.requireMember()
            if principal.key != caller.principal.key && role < .admin {
                throw .memberRefused(.releaseAddress(principal: principal.name), leaseId: leaseId)
            }
            guard let held = lease.view.allocation else { return .some(attempted) }
            var change = lease.change()
            releasing(held, principal: principal, lease: lease, caller: caller, into: &change)
            attempted = answer(held.value, principal: principal, head: lease.head)
            guard try await commit(change) else { return nil }
            return .some(answer(held.value, principal: principal, head: lease.head))
        }
    }

    /// `principal`'s address in the lease (members only).
    package func hostIP(leaseId: String, principal name: String, caller: HostIPCaller) async throws(DomainError)
        -> HostIPAnswer
    {
        let principal = try target(name, caller: caller)
        let lease = try await hostIPLease(leaseId, principal: principal, caller: caller)
        _ = try lease.requireMember()
        guard let held = lease.view.allocation else {
            throw .hostIPNotFound(principal: principal.name, leaseId: leaseId)
        }
        return answer(held.value, principal: principal, head: lease.head)
    }

    /// Every address of the lease, in address order (members only).
    package func hostIPs(leaseId: String, caller: HostIPCaller) async throws(DomainError) -> [HostIPAnswer] {
        let lease = try await hostIPLease(leaseId, principal: caller.principal, caller: caller)
        _ = try lease.requireMember()
        let rows = try await storage { () async throws(InventoryError) in
            try await inventory.hostIPAllocations(leaseId: leaseId)
        }
        return rows.map { row in
            answer(row, principal: redactor.open(row.sealedPrincipal) ?? unreadable(row.principalKey), head: lease.head)
        }
        .sorted { $0.ip < $1.ip }
    }

    /// Makes `principal` a member of the lease with `role` (the owner or an admin member only).
    package func putMember(leaseId: String, principal name: String, role: MemberRole, caller: HostIPCaller)
        async throws(DomainError) -> (MemberAnswer, created: Bool)
    {
        let principal = try target(name, caller: caller)
        return try await changing(leaseId) { () async throws(DomainError) -> (MemberAnswer, created: Bool)? in
            let lease = try await hostIPLease(leaseId, principal: principal, caller: caller)
            guard try lease.requireMember() >= .admin else {
                throw .memberRefused(.addMembers, leaseId: leaseId)
            }
            if principal.key == lease.row.ownerKey {
                throw .ownerUnchangeable(principal: principal.name, leaseId: leaseId, removing: false)
            }
            if let member = lease.view.principal, member.role == role {
                return (MemberAnswer(principal: principal.name, role: role, addedAt: member.addedAt), false)
            }
            let now = time.now()
            var change = lease.change()
            change.putMembers.append(
                LeaseMember(
                    principalKey: principal.key, sealedPrincipal: redactor.seal(principal), role: role, addedAt: now,
                    addedBy: caller.principal.key))
            change.events.append(
                event(.memberAdded, lease, principal: principal, caller: caller, detail: "role=\(role.rawValue)"))
            guard try await commit(change) else { return nil }
            return (MemberAnswer(principal: principal.name, role: role, addedAt: now), lease.view.principal == nil)
        }
    }

    /// Ends `principal`'s membership (the owner or an admin member, or the member itself), releasing its
    /// address with it. False when it was no member: nothing was done.
    package func removeMember(leaseId: String, principal name: String, caller: HostIPCaller) async throws(DomainError)
        -> Bool
    {
        let principal = try target(name, caller: caller)
        return try await changing(leaseId) { () async throws(DomainError) -> Bool? in
            let lease = try await hostIPLease(leaseId, principal: principal, caller: caller)
            let role = try lease.requireMember()
            if principal.key != caller.principal.key && role < .admin {
                throw .memberRefused(.removeMembers, leaseId: leaseId)
            }
            if principal.key == lease.row.ownerKey {
                throw .ownerUnchangeable(principal: principal.name, leaseId: leaseId, removing: true)
            }
            guard let member = lease.view.principal else { return false }
            var change = lease.change()
            change.removeMember = member
            change.events.append(
                event(
                    .memberRemoved, lease, principal: principal, caller: caller, detail: "role=\(member.role.rawValue)")
            )
            if let held = lease.view.allocation {
                releasing(held, principal: principal, lease: lease, caller: caller, into: &change)
            }
            guard try await commit(change) else { return nil }
            return true
        }
    }

    /// The members of the lease, the owner first (members only).
    package func members(leaseId: String, caller: HostIPCaller) async throws(DomainError) -> [MemberAnswer] {
        let lease = try await hostIPLease(leaseId, principal: caller.principal, caller: caller)
        _ = try lease.requireMember()
        var members: [MemberAnswer] = []
        if lease.head.etag == nil, let owner = lease.row.sealedOwner.flatMap(redactor.open) {
            members.append(MemberAnswer(principal: owner.name, role: .owner, addedAt: lease.row.leasedAt))
        } else {
            let rows = try await storage { () async throws(InventoryError) in
                try await inventory.members(leaseId: leaseId)
            }
            members = rows.map {
                MemberAnswer(
                    principal: (redactor.open($0.sealedPrincipal) ?? unreadable($0.principalKey)).name, role: $0.role,
                    addedAt: $0.addedAt)
            }
        }
        return members.sorted { ($0.role == .owner ? 0 : 1, $0.principal) < ($1.role == .owner ? 0 : 1, $1.principal) }
    }

    // MARK: Pieces

    /// What a host-IP operation read of a lease: its network row (held), its head (stored, or the one its
    /// first change inserts), the rows of the principal and the caller, and the caller's role in it.
    struct HostIPLease {
        let row: NetworkRow
        let head: HostIPHead
        let view: HostIPView
        /// The caller's role, nil when it is no member.
        let role: MemberRole?
        /// The owner's member row, inserted with the head by the lease's first change.
        let owner: LeaseMember?

        func requireMember() throws(DomainError) -> MemberRole {
            guard let role else {
                throw .notAMember(leaseId: head.leaseId)
            }
            return role
        }

        /// A change of this lease: under the head as read, inserting the owner's row with a new head, and
        /// relying on the caller's membership as read.
        func change() -> HostIPChange {
            var change = HostIPChange(head: head)
            if let owner { change.putMembers.append(owner) }
            change.confirm = view.caller
            return change
        }
    }

    func hostIPLease(_ leaseId: String, principal: Principal, caller: HostIPCaller) async throws(DomainError)
        -> HostIPLease
    {
        let id = try Self.validLeaseId(leaseId)
        let view = try await storage { () async throws(InventoryError) in
            try await inventory.hostIPView(leaseId: id, principalKey: principal.key, callerKey: caller.principal.key)
        }
        let row: NetworkRow
        var head: HostIPHead
        if let stored = view.head {
            let found = try await storage { () async throws(InventoryError) in
                try await inventory.network(stored.networkRowKey, in: stored.scope)
            }
            guard let found, found.leaseId == id else { throw ended(id, state: nil) }
            row = found.value
            head = stored
        } else {
            do {
                let (found, scope) = try await lease(id: id, scope: nil)
                row = found
                head = HostIPHead(lease: found, scope: scope)
            } catch .leaseNotFound(let missing) {
                // Its block may have gone back to stock since: the audit trail still knows the lease.
                for scope in configuration.scopes.keys.sorted() {
                    if try await storage({ () async throws(InventoryError) in
                        try await inventory.lastEvent(ofLease: id, in: scope)
                    })
                        != nil
                    {
                        throw ended(id, state: nil)
                    }
                }
                throw .leaseNotFound(leaseId: missing)
            }
        }
        guard row.state == .leased || row.state == .anchored else { throw ended(id, state: row.state) }
        var owner: LeaseMember? = nil
        if view.head == nil, let key = row.ownerKey, let sealed = row.sealedOwner {
            owner = LeaseMember(
                principalKey: key, sealedPrincipal: sealed, role: .owner, addedAt: row.leasedAt ?? time.now(),
                addedBy: key)
        }
        var role: MemberRole? = caller.principal.key == row.ownerKey ? .owner : view.caller?.role
        if caller.isAdmin { role = max(role ?? .admin, .admin) }
        head.etag = view.head?.etag
        return HostIPLease(row: row, head: head, view: view, role: role, owner: owner)
    }

    /// Runs `attempt` holding the lease's lock until it gives an answer (nil: another change got in first;
    /// read again), backing off between tries.
    private func changing<T: Sendable>(_ leaseId: String, _ attempt: () async throws(DomainError) -> T?)
        async throws(DomainError) -> T
    {
        let id = try Self.validLeaseId(leaseId)
        return try await hostIPLocks.withLock(id) { () async throws(DomainError) -> T in
            for round in 0..<64 {
                if let answer = try await attempt() { return answer }
                let ceiling = min(100, 2 << min(round, 6))
                try? await Task.sleep(for: .milliseconds(Int.random(in: 1...ceiling)))
            }
            throw .busy("lease \(id) kept changing")
        }
    }

    /// Commits a change: true when it was written, false when it must be read again (another change got
    /// in first, or the answer was lost: reading again tells).
    private func commit(_ change: HostIPChange) async throws(DomainError) -> Bool {
        let outcome = try await storage { () async throws(InventoryError) in
            try await inventory.commit(change, now: time.now())
        }
        switch outcome {
        case .done: return true
        case .changed: return false
        case .outcomeUnknown:
            logger.warning(
                "host-IP change outcome unknown; reading again", metadata: ["leaseId": .string(change.head.leaseId)])
            return false
        }
    }

    private func releasing(
        _ held: Stored<HostIPAllocation>, principal: Principal, lease: HostIPLease, caller: HostIPCaller,
        into change: inout HostIPChange
    ) {
        change.head.subnets[held.subnetIndex].pool.release(held.offset)
        if let offsetV6 = held.offsetV6, change.head.v6Subnets.indices.contains(held.subnetIndex) {
            change.head.v6Subnets[held.subnetIndex].pool.release(offsetV6)
        }
        change.release = held
        var released = event(.ipReleased, lease, principal: principal, caller: caller, subnet: held.subnetIndex)
        released.ip = Self.addresses(held.value)
        if principal.key != caller.principal.key { released.releasedFor = principal.key }
        change.events.append(released)
    }

    /// The principal an operation is about: the named one, or the caller.
    private func target(_ name: String?, caller: HostIPCaller) throws(DomainError) -> Principal {
        guard let name else { return caller.principal }
        guard Principal.isValidName(name) else {
            throw .invalidPrincipal
        }
        return redactor.principal(name)
    }

    private func subnetIndex(_ name: String?, in head: HostIPHead, leaseId: String) throws(DomainError) -> Int {
        guard let name else { return 0 }
        if let index = head.subnets.firstIndex(where: { $0.name == name }) { return index }
        let names = head.subnets.compactMap(\.name)
        throw .unknownSubnet(leaseId: leaseId, name: name, subnets: names)
    }

    static func validLeaseId(_ id: String) throws(DomainError) -> String {
        guard UUID(uuidString: id) != nil else {
            throw .invalidLeaseId(id)
        }
        return id.lowercased()
    }

    private func ended(_ id: String, state: NetworkState?) -> DomainError {
        .leaseEnded(leaseId: id, state: state)
    }

    /// An event of the lease's partition: actor and principal as keys, never names.
    private func event(
        _ action: AuditAction, _ lease: HostIPLease, principal: Principal, caller: HostIPCaller, subnet: Int? = nil,
        detail: String = ""
    ) -> AuditEvent {
        var event = AuditEvent(
            action: .known(action), actor: caller.principal.key,
            cidr: subnet.map { lease.head.subnets[$0].prefix.description } ?? lease.row.prefix.description,
            leaseId: lease.head.leaseId, sessionId: "", before: nil, after: nil,
            detail: [detail, "by \(inventory.actor)"].filter { !$0.isEmpty }.joined(separator: "; "))
        event.principal = principal.key
        return event
    }

    private func answer(_ row: HostIPAllocation, principal: Principal, head: HostIPHead) -> HostIPAnswer {
        let subnet = head.subnets.indices.contains(row.subnetIndex) ? head.subnets[row.subnetIndex] : head.subnets[0]
        var answer = HostIPAnswer(
            leaseId: head.leaseId, ip: row.address, principal: principal.name, subnet: subnet.name,
            subnetPrefix: subnet.prefix, allocatedAt: row.allocatedAt)
        if let v6 = row.addressV6, head.v6Subnets.indices.contains(row.subnetIndex) {
            answer.ipV6 = v6
            answer.subnetPrefixV6 = head.v6Subnets[row.subnetIndex].prefix
        }
        return answer
    }

    /// The address (both, a dual-stack lease's) as the audit event records it: `10.64.4.4 fd00:64:0:100::4`.
    static func addresses(_ row: HostIPAllocation) -> String {
        ([row.address] + (row.addressV6.map { [$0] } ?? [])).map(\.description).joined(separator: " ")
    }

    /// A sealed name this Vendor cannot open (another `AUDIT_SALT`): shown by its key.
    private func unreadable(_ key: String) -> Principal { Principal(name: "key:" + key, key: key) }
}
