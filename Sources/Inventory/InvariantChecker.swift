package import AzureTables
internal import Foundation
internal import IPAMCore
internal import NetworkMath

/// Checks the invariants of one partition's rows: the rules every process relies on.
///
/// - network rows never overlap one another;
/// - every held row (`leased`, `anchored`, `quarantined`, `expired`, `released`) names a lease and a
///   session, and that session row points back at it with the same lease id;
/// - every session row points at a network row that carries its lease id (one block per session) and, when it
///   records its owner, the same owner;
/// - every held row has an audit event with its lease id;
/// - a lease is on one row, or on the two rows of a dual-stack lease: an IPv4 and an IPv6 row that name each
///   other, tell the same lease, session, state and expiry, and whose session row names both;
/// - a stock row exists exactly for each `available` network row;
/// - a reservation row exists exactly for each network row a reservation holds (`reserved`, `reservation:{id}`);
/// - a stock row is in its block's pool's stock (or the scope's, for a block of no pool);
/// - every usage row counts exactly the live leases (`leased`, `anchored`) that name it, and their addresses.
package enum InvariantChecker {
    package static func violations(in entities: [TableEntity]) -> [String] {
        var problems: [String] = []
        var networks: [NetworkRow] = []
        var sessions: [String: SessionRow] = [:]
        var eventLeases = Set<String>()
        var stockKeys = Set<String>()
        var stockPools: [String: String] = [:] // network row key → the pool its stock row is in ("" for none)
        var usage: [String: UsageRow] = [:]
        var reservations: [String: String] = [:] // reservation id → its network row key
        for entity in entities {
            if entity.rowKey.hasPrefix(RowKeys.networkPrefix) {
                guard let row = NetworkRow(entity: entity) else {
                    problems.append("\(entity.rowKey): unreadable network row")
                    continue
                }
                networks.append(row)
            } else if entity.rowKey.hasPrefix(RowKeys.sessionPrefix) {
                guard let row = SessionRow(entity: entity) else {
                    problems.append("\(entity.rowKey): unreadable session row")
                    continue
                }
                sessions[row.sessionId] = row
            } else if entity.rowKey.hasPrefix(RowKeys.stockPrefix) {
                guard let key = entity["NetworkRowKey"]?.stringValue, let prefix = RowKeys.prefix(ofNetworkKey: key),
                    RowKeys.stock(prefix, pool: entity["Pool"]?.stringValue) == entity.rowKey
                else {
                    problems.append("\(entity.rowKey): unreadable stock row")
                    continue
                }
                stockKeys.insert(key)
                stockPools[key] = entity["Pool"]?.stringValue ?? ""
            } else if entity.rowKey.hasPrefix(RowKeys.usagePrefix) {
                guard let row = UsageRow(entity: entity) else {
                    problems.append("\(entity.rowKey): unreadable usage row")
                    continue
                }
                usage[row.key] = row
            } else if entity.rowKey.hasPrefix(RowKeys.reservationPrefix) {
                guard let id = entity["ReservationId"]?.stringValue, let key = entity["NetworkRowKey"]?.stringValue
                else {
                    problems.append("\(entity.rowKey): unreadable reservation row")
                    continue
                }
                reservations[id] = key
            } else if entity.rowKey.hasPrefix(RowKeys.eventPrefix), let lease = entity["LeaseId"]?.stringValue,
                !lease.isEmpty
            {
                eventLeases.insert(lease)
            }
        }
        let sorted = networks.sorted { $0.prefix < $1.prefix }
        // In address order, a block overlaps a later one only if it contains its start.
        var open: [NetworkRow] = []
        for row in sorted {
            open.removeAll { !$0.prefix.contains(row.prefix.address) }
            for other in open {
                problems.append(
                    "\(other.prefix) (\(other.state.rawValue)) overlaps \(row.prefix) (\(row.state.rawValue))")
            }
            open.append(row)
        }
        let held: Set<NetworkState> = [.leased, .anchored, .quarantined, .expired, .released]
        var leaseOwners: [String: String] = [:]
        for row in networks where held.contains(row.state) {
            guard let lease = row.leaseId, let sessionId = row.sessionId else {
                problems.append("\(row.prefix) is \(row.state.rawValue) without a lease id or session id")
                continue
            }
            if let other = leaseOwners.updateValue(row.rowKey, forKey: lease), other != row.pairKey {
                problems.append("lease \(lease) is on both \(other) and \(row.prefix)")
            }
            if let session = sessions[sessionId] {
                if session.leaseId != lease {
                    problems.append(
                        "\(row.prefix) has lease \(lease) but session \(sessionId) names \(session.leaseId)")
                }
                let named = row.isSecondHalf ? session.networkRowKeyV6 : session.networkRowKey
                if named != row.rowKey {
                    problems.append("session \(sessionId) points at \(named ?? "no IPv6 row"), not \(row.rowKey)")
                }
                if let owner = session.ownerKey, owner != row.ownerKey {
                    problems.append(
                        "session \(sessionId) belongs to \(owner) but its lease on \(row.prefix) to \(row.ownerKey ?? "no owner")"
                    )
                }
            } else if row.state != .released {
                problems.append(
                    "\(row.prefix) (\(row.state.rawValue)) belongs to session \(sessionId), which has no session row")
            }
            if !eventLeases.contains(lease) { problems.append("\(row.prefix): no audit event for lease \(lease)") }
        }
        let availableKeys = Set(networks.filter { $0.state == .available }.map(\.rowKey))
        for key in availableKeys.subtracting(stockKeys).sorted() {
            problems.append("\(key) is available but has no stock row")
        }
        for key in stockKeys.subtracting(availableKeys).sorted() {
            problems.append("stock row for \(key), which is not available")
        }
        for row in networks where row.state == .available {
            if let pool = stockPools[row.rowKey], pool != (row.pool ?? "") {
                problems.append("\(row.prefix) belongs to pool '\(row.pool ?? "")' but its stock row is in '\(pool)'")
            }
        }
        var counted: [String: (leases: Int, addresses: UInt64)] = [:]
        for row in networks where row.countsInQuota {
            for key in row.quotaKeys {
                counted[key, default: (0, 0)].leases += 1
                counted[key, default: (0, 0)].addresses += UsageRow.addresses(in: row.prefix)
            }
        }
        for key in Set(counted.keys).union(usage.keys).sorted() {
            let live = counted[key] ?? (0, 0)
            let stored = usage[key]
            if (stored?.leases ?? 0) != live.leases || (stored?.addresses ?? 0) != live.addresses {
                problems.append(
                    "usage \(key) (\(stored.map { "\($0.pool), holder \($0.holderKey)" } ?? "no row")) counts \(stored?.leases ?? 0) leases / \(stored?.addresses ?? 0) addresses; the live leases naming it are \(live.leases) / \(live.addresses)"
                )
            }
        }
        let byKey = Dictionary(networks.map { ($0.rowKey, $0) }, uniquingKeysWith: { a, _ in a })
        for session in sessions.values {
            for key in [session.networkRowKey] + (session.networkRowKeyV6.map { [$0] } ?? []) {
                guard let row = byKey[key] else {
                    problems.append("session \(session.sessionId) points at missing row \(key)")
                    continue
                }
                if row.leaseId != session.leaseId {
                    problems.append(
                        "session \(session.sessionId) holds lease \(session.leaseId) but \(row.prefix) carries \(row.leaseId ?? "none")"
                    )
                }
            }
        }
        for row in networks {
            guard let key = row.pairKey else { continue }
            guard let partner = byKey[key] else {
                problems.append("\(row.prefix) names its dual-stack partner \(key), which is missing")
                continue
            }
            if partner.pairKey != row.rowKey {
                problems.append(
                    "\(row.prefix) names \(partner.prefix) as its partner, which names \(partner.pairKey ?? "none")")
            }
            if partner.prefix.version == row.prefix.version {
                problems.append("dual-stack rows \(row.prefix) and \(partner.prefix) are of one IP version")
            }
            if partner.leaseId != row.leaseId || partner.sessionId != row.sessionId || partner.state != row.state
                || partner.expiresAt != row.expiresAt
            {
                problems.append(
                    "dual-stack rows \(row.prefix) (\(row.state.rawValue), lease \(row.leaseId ?? "none")) and \(partner.prefix) (\(partner.state.rawValue), lease \(partner.leaseId ?? "none")) tell different leases"
                )
            }
        }
        var reservedRows: [String: String] = [:]
        for row in networks where row.state == .reserved {
            // configured before reservations existed
            guard let holder = row.lockedBy, holder.hasPrefix("reservation:") else { continue }
            reservedRows[String(holder.dropFirst("reservation:".count))] = row.rowKey
        }
        for (id, key) in reservations where reservedRows[id] != key {
            problems.append("reservation \(id) names \(key), which it does not hold")
        }
        for (id, key) in reservedRows where reservations[id] == nil {
            problems.append("\(key) is reserved by \(id), which has no reservation row")
        }
        return problems
    }
}
