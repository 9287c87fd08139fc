import Foundation
package import IPAMCore
package import Inventory
package import NetworkMath
import StrictJSON

/// Lease look-ups, release, renewal and pool statistics.
extension VendorService {
    /// Finds a lease by id (`scope` narrows the search to one partition).
    package func lease(id: String, scope: Scope?) async throws(DomainError) -> (NetworkRow, Scope) {
        let (row, found) = try await storedLease(id: id, scope: scope)
        return (row.value, found)
    }

    /// `lease(id:scope:)` as read, for a change written over it.
    func storedLease(id: String, scope: Scope?) async throws(DomainError) -> (Stored<NetworkRow>, Scope) {
        guard UUID(uuidString: id) != nil else {
            throw .invalidLeaseId(id)
        }
        let scopes = scope.map { [$0] } ?? configuration.scopes.keys.sorted()
        for candidate in scopes {
            if let row = try await storage({ () async throws(InventoryError) in
                try await inventory.network(leaseId: id, in: candidate)
            }) {
                return (row, candidate)
            }
        }
        throw .leaseNotFound(leaseId: id)
    }

    /// The lease of a SessionId.
    /// - Parameter caller: the principal asking; a session another principal created is refused (409
    ///   `SessionOwnedByAnother`, see `checkSessionOwner`), whatever the caller's role. Nil: not checked.
    package func lease(session id: String, scope: Scope, caller: Principal?) async throws(DomainError) -> (
        NetworkRow, SessionRow
    ) {
        let (row, session) = try await storedLease(session: id, scope: scope, caller: caller)
        return (row.value, session)
    }

    /// `lease(session:scope:caller:)` as read, for a change written over it.
    func storedLease(session id: String, scope: Scope, caller: Principal?) async throws(DomainError) -> (
        Stored<NetworkRow>, SessionRow
    ) {
        guard
            let session = try await storage({ () async throws(InventoryError) in
                try await inventory.session(id, in: scope)
            })
        else {
            throw .sessionNotFound(sessionId: id, scope: scope)
        }
        try Self.checkSessionOwner(session.ownerKey, session: id, caller: caller)
        let found = try await storage { () async throws(InventoryError) in
            try await inventory.network(session.networkRowKey, in: scope)
        }
        if session.ownerKey == nil, let row = found, row.leaseId == session.leaseId {
            // a session row from before owners were recorded in it
            try Self.checkSessionOwner(row.ownerKey, session: id, caller: caller)
        }
        guard let row = found, row.leaseId == session.leaseId else {
            throw .leaseGone(sessionId: id, leaseId: session.leaseId, state: nil)
        }
        return (row, session)
    }

    /// Releases a lease: it goes to `quarantined` (never straight back to stock). Idempotent: a
    /// repeat answers 410 with the lease's state.
    /// - Parameter caller: when given, a caller that is neither the lease's owner nor an admin is refused
    ///   (403 `NotAuthorized`); leases from before owners were recorded have none and are not checked.
    package func release(leaseId: String?, sessionId: String?, scope: Scope, caller: HostIPCaller? = nil)
        async throws(DomainError) -> NetworkRow
    {
        try await transition(leaseId: leaseId, sessionId: sessionId, scope: scope, caller: caller, action: .release) {
            row throws(DomainError) in
            try Self.checkOwner(row, caller, doing: "releasing")
            guard let released = released(row) else {
                throw .alreadyReleased(leaseId: row.leaseId ?? "", state: row.state)
            }
            return released
        }
    }

    /// A held lease (`leased`, `anchored`) as its release leaves it (`quarantined`); nil in any other state.
    /// Refuses a caller that neither owns `row`'s lease nor has the admin role.
    static func checkOwner(_ row: NetworkRow, _ caller: HostIPCaller?, doing what: String) throws(DomainError) {
        guard let caller, !mayChange(row, by: caller) else { return }
        throw .notLeaseOwner(leaseId: row.leaseId ?? "", doing: what)
    }

    /// Whether `caller` may release or renew `row`'s lease: its owner, an admin, or anyone for a lease from before
    /// owners were recorded (what `checkOwner` refuses, as a question: the console offers only what would work).
    package static func mayChange(_ row: NetworkRow, by caller: HostIPCaller) -> Bool {
        caller.isAdmin || row.ownerKey.map { $0 == caller.principal.key } ?? true
    }

    private func released(_ row: NetworkRow) -> NetworkRow? {
        guard row.state == .leased || row.state == .anchored else { return nil }
        return row.quarantined(at: time.now())
    }

    /// Extends `ExpiresAt` of a lease that is not anchored yet, to now + the lease duration.
    package func renew(leaseId: String?, sessionId: String?, scope: Scope, caller: HostIPCaller? = nil)
        async throws(DomainError) -> NetworkRow
    {
        try await transition(leaseId: leaseId, sessionId: sessionId, scope: scope, caller: caller, action: .renew) {
            row throws(DomainError) in
            try Self.checkOwner(row, caller, doing: "renewing")
            switch row.state {
            case .anchored: return nil
            case .leased:
                return row.leased(until: time.now().addingTimeInterval(configuration.leaseDuration.seconds))
            default:
                throw .leaseNotRenewable(leaseId: row.leaseId ?? "", state: row.state)
            }
        }
    }

    /// Reads the lease, asks `change` for its new version (nil: nothing to write) and commits it with
    /// its event under the row's ETag, reading again when someone else changed it first.
    private func transition(
        leaseId: String?, sessionId: String?, scope: Scope, caller: HostIPCaller?, action: AuditAction,
        _ change: (NetworkRow) throws(DomainError) -> NetworkRow?
    ) async throws(DomainError) -> NetworkRow {
        try await located(leaseId: leaseId, sessionId: sessionId, scope: scope, caller: caller, action: action, change)
            .0.value
    }

    /// `transition`, also answering the scope the lease was found in.
    private func located(
        leaseId: String?, sessionId: String?, scope: Scope, caller: HostIPCaller?, action: AuditAction,
        _ change: (NetworkRow) throws(DomainError) -> NetworkRow?
    ) async throws(DomainError) -> (Stored<NetworkRow>, Scope) {
        for _ in 0..<8 {
            let (row, rowScope) = try await locate(
                leaseId: leaseId, sessionId: sessionId, scope: scope, caller: caller?.principal)
            guard let updated = try change(row.value) else { return (row, rowScope) }
            let partner = try await self.partner(of: row.value, in: rowScope)
            let outcome = try await storage { () async throws(InventoryError) in
                try await inventory.transition(
                    row, to: updated, action: action, in: rowScope, now: time.now(), partner: partner)
            }
            switch outcome {
            case .done(let written): return (written, rowScope)
            case .changed: continue
            case .outcomeUnknown:
                throw .changeOutcomeUnknown(action)
            }
        }
        throw .busy("the lease kept changing during \(action)")
    }

    /// The lease a request names: by SessionId only among the caller's own sessions, else by lease id. Given both,
    /// they must name the same lease (else not found: a lease id never widens what a SessionId reaches).
    private func locate(leaseId: String?, sessionId: String?, scope: Scope, caller: Principal?)
        async throws(DomainError) -> (Stored<NetworkRow>, Scope)
    {
        if let sessionId {
            let row = try await storedLease(session: sessionId, scope: scope, caller: caller).0
            if let leaseId, row.value.leaseId?.lowercased() != leaseId.lowercased() {
                throw .leaseNotFound(leaseId: leaseId)
            }
            return (row, scope)
        }
        if let leaseId { return try await storedLease(id: leaseId, scope: nil) }
        throw .leaseUnnamed
    }

    /// Per scope and size: rows by state, plus the free address space of the scope.
    package func pools() async throws(DomainError) -> [PoolReport] {
        var result: [PoolReport] = []
        for (scope, supernets) in configuration.scopes.sorted(by: { $0.key < $1.key }) {
            let rows = try await storage { () async throws(InventoryError) in
                try await inventory.networks(in: scope)
            }
            let usage =
                configuration.pools.pools.isEmpty
                ? []
                : try await storage { () async throws(InventoryError) in
                    try await inventory.usageRows(in: scope)
                }
            // The scope's own space, then its pools, parents before their children.
            var areas: [Pool?] = [nil]
            func descend(_ parent: String?) {
                for pool in configuration.pools.children(of: parent, in: scope) {
                    areas.append(pool)
                    descend(pool.name)
                }
            }
            descend(nil)
            for pool in areas {
                let space = configuration.pools.space(for: pool?.name, in: supernets)
                var counts: [BlockSize: [NetworkState: Int]] = [:]
                for row in rows where row.pool == pool?.name {
                    counts[BlockSize(row.prefix), default: [:]][row.state, default: 0] += 1
                }
                let occupied = rows.map(\.prefix) + space.exclude
                var free: [IPVersion: UInt128] = [:]
                var largest: [IPVersion: Int] = [:]
                for supernet in space.supernets {
                    let blocks = FreeSpace.freeBlocks(in: supernet, occupied: occupied)
                    free[supernet.version, default: 0] += FreeSpace.addressCount(blocks)
                    if let best = blocks.map(\.length).min() {
                        largest[supernet.version] = min(largest[supernet.version] ?? best, best)
                    }
                }
                var targets: [BlockSize: Int] = [:]
                for version in [IPVersion.v4, .v6] {
                    for (length, target) in configuration.stockTargets(scope, pool: pool?.name, version: version) {
                        targets[BlockSize(version: version, length: length)] = target
                    }
                }
                result.append(
                    PoolReport(
                        scope: scope, pool: pool, sizes: counts, freeAddresses: free[.v4] ?? 0,
                        largestFreePrefixLength: largest[.v4] ?? 0,
                        freeAddressesV6: free[.v6] ?? 0, largestFreePrefixLengthV6: largest[.v6] ?? 0,
                        stockTargets: targets,
                        usage: pool.map { p in
                            usage.filter { $0.pool == p.name }.map {
                                PoolUsage(requester: holderLabel($0), leases: $0.leases, addresses: $0.addresses)
                            }
                        } ?? []))
            }
        }
        return result
    }
}

/// A block size: an IP version and a prefix length.
package struct BlockSize: Hashable, Comparable, Sendable {
    package let version: IPVersion
    package let length: Int

    package init(version: IPVersion, length: Int) {
        self.version = version
        self.length = length
    }

    package init(_ prefix: IPPrefix) { self.init(version: prefix.version, length: prefix.length) }

    package static func < (a: BlockSize, b: BlockSize) -> Bool {
        (a.version.rawValue, a.length) < (b.version.rawValue, b.length)
    }

    /// Addresses in one block of this size (as a Double: for charts and shares).
    package var addresses: Double { pow(2, Double(version.bitWidth - length)) }

    /// `24` for IPv4, `v6/56` for IPv6 (the manifest's stock keys).
    package var key: String { version == .v4 ? String(length) : "v6/\(length)" }
}

/// One scope's own space, or one pool of it: its blocks by size and state, its free space and its stock targets.
package struct PoolReport: Sendable {
    package let scope: Scope
    /// Nil for the scope's space outside its pools.
    package let pool: Pool?
    /// Block size → blocks of the area in each state.
    package let sizes: [BlockSize: [NetworkState: Int]]
    /// IPv4 addresses in no row, inside the area's space.
    package let freeAddresses: UInt128
    /// The shortest prefix length of a free IPv4 block (0: no free space).
    package let largestFreePrefixLength: Int
    /// The same for the area's IPv6 space (0 addresses when it has none).
    package let freeAddressesV6: UInt128
    package let largestFreePrefixLengthV6: Int
    package let stockTargets: [BlockSize: Int]
    /// What each caller holds against the pool's quota.
    package let usage: [PoolUsage]
}

/// What one caller holds against a pool's quota, as `GET /api/pools` shows it.
package struct PoolUsage: Sendable, Equatable {
    /// The holder: its principal name, or its key with `AUDIT_REDACT_ACTORS` (see `VendorService.holderLabel`).
    package let requester: String
    package let leases: Int
    package let addresses: UInt64
}

/// Where a lease listing continues: the scope and the row key of the last lease returned.
///
/// Sent to clients as an opaque token (`v1.` and the base64url of `{partitionKey}/{rowKey}`).
package struct LeaseCursor: Sendable, Equatable {
    package let partitionKey: String
    package let rowKey: String

    package init(partitionKey: String, rowKey: String) {
        self.partitionKey = partitionKey
        self.rowKey = rowKey
    }

    package var token: String {
        "v1." + ASCIIFormat.base64URL(Array("\(partitionKey)/\(rowKey)".utf8))
    }

    /// The cursor a token of a lease listing encodes (its row keys start with `net_`).
    package init?(token: String) { self.init(token: token, rowPrefix: RowKeys.networkPrefix) }

    /// The cursor a token encodes, when its row key starts with `rowPrefix` (the listing it came from).
    package init?(token: String, rowPrefix: String) {
        guard token.hasPrefix("v1."), token.count < 1024 else { return nil }
        // Split and compared as UTF-8, not as characters: a key that begins with a combining mark joins the `/` (or
        // the prefix's last character) into one character, and a cursor the Vendor made would not read back.
        guard let data = ASCIIFormat.base64URLDecoded(token.dropFirst(3)),
            let decoded = String(data: data, encoding: .utf8),
            let slash = decoded.utf8.firstIndex(of: UInt8(ascii: "/"))
        else { return nil }
        let key = String(decoded[decoded.utf8.index(after: slash)...])
        guard key.utf8.starts(with: rowPrefix.utf8) else { return nil }
        self.init(partitionKey: String(decoded[..<slash]), rowKey: key)
    }
}

extension VendorService {
    /// Leases of `scopes` (in scope order, address order within each) matching `filter`: up to `limit`,
    /// after `cursor` (a position in that order), and the cursor of the next page (nil: that was the last).
    package func leases(
        in scopes: [Scope], matching filter: LeaseFilter, limit: Int,
        from cursor: LeaseCursor?
    ) async throws(DomainError) -> (leases: [(NetworkRow, Scope)], next: LeaseCursor?) {
        try await paged(scopes, limit: limit, from: cursor, firstKey: RowKeys.networkPrefix) {
            scope, room, after throws(DomainError) in
            let page = try await storage { () async throws(InventoryError) in
                try await inventory.leases(in: scope, matching: filter, limit: room, after: after)
            }
            return (page.rows, page.resumeAfter)
        }
    }

    /// Audit events of `scopes` (in scope order, newest first within each) matching `filter`: up to `limit`,
    /// after `cursor`, and the cursor of the next page (nil: that was the last).
    package func events(
        in scopes: [Scope], matching filter: EventFilter, limit: Int,
        from cursor: LeaseCursor?
    ) async throws(DomainError) -> (events: [(AuditEvent, Scope)], next: LeaseCursor?) {
        let page = try await paged(scopes, limit: limit, from: cursor, firstKey: RowKeys.eventPrefix) {
            scope, room, after throws(DomainError) in
            let page = try await storage { () async throws(InventoryError) in
                try await inventory.events(in: scope, matching: filter, limit: room, after: after)
            }
            return (page.events, page.resumeAfter)
        }
        return (page.leases, page.next)
    }

    /// One page of a listing that walks `scopes` in order, each from its first key (or the cursor's), with
    /// `fetch` reading up to the room left in one scope after a key (and saying where it stopped).
    func paged<T>(
        _ scopes: [Scope], limit: Int, from cursor: LeaseCursor?, firstKey: String,
        _ fetch: (Scope, Int, String?) async throws(DomainError) -> ([T], String?)
    ) async throws(DomainError) -> (leases: [(T, Scope)], next: LeaseCursor?) {
        var result: [(T, Scope)] = []
        // A cursor is a position in (scope, key) order: the listing goes on from there.
        var remaining = scopes.sorted()
        if let cursor { remaining.removeAll { $0.partitionKey < cursor.partitionKey } }
        for (index, scope) in remaining.enumerated() {
            let after = scope.partitionKey == cursor?.partitionKey ? cursor?.rowKey : nil
            let (items, resume) = try await fetch(scope, limit - result.count, after)
            result += items.map { ($0, scope) }
            if let resume { return (result, LeaseCursor(partitionKey: scope.partitionKey, rowKey: resume)) }
            if result.count == limit {
                // This scope is done; the next page starts at the next scope (if any).
                guard index + 1 < remaining.count else { return (result, nil) }
                return (result, LeaseCursor(partitionKey: remaining[index + 1].partitionKey, rowKey: firstKey))
            }
        }
        return (result, nil)
    }

    /// Releases a lease for tools whose destroy step sends `DELETE`: like `release`, but idempotent in its
    /// answer: the first and every later call answer the lease's final state. Throws `LeaseNotFound` only
    /// for an id no scope has ever had.
    package func delete(leaseId id: String, caller: HostIPCaller? = nil) async throws(DomainError) -> (
        DeletedLease, Scope
    ) {
        guard UUID(uuidString: id) != nil else {
            throw .invalidLeaseId(id)
        }
        do {
            // Held: release it; in any other state it was released (or reaped) already: answer it as it is.
            let (row, scope) = try await located(
                leaseId: id, sessionId: nil, scope: configuration.defaultScope, caller: caller, action: .release
            ) { row throws(DomainError) in
                try Self.checkOwner(row, caller, doing: "releasing")
                return released(row)
            }
            return (.row(row.value), scope)
        } catch .leaseNotFound(let missing) {
            // Its block may have gone back to stock since: the audit trail still knows the lease.
            for scope in configuration.scopes.keys.sorted() {
                let found = try await storage { () async throws(InventoryError) in
                    try await inventory.lastEvent(ofLease: id, in: scope)
                }
                guard let event = found, let prefix = try? IPPrefix(parsing: event.cidr) else { continue }
                let past = PastLease(
                    leaseId: id.lowercased(), sessionId: event.sessionId.isEmpty ? nil : event.sessionId,
                    prefix: prefix, prefixV6: event.cidrV6.flatMap { try? IPPrefix(parsing: $0) },
                    state: event.after?.known ?? .quarantined)
                return (.past(past), scope)
            }
            throw .leaseNotFound(leaseId: missing)
        }
    }
}
