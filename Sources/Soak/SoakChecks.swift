package import AzureTables
package import Foundation
internal import IPAMCore
internal import Inventory
internal import NetworkMath

/// The soak's checks of a table against what its clients were told (docs/Scaling.md, "The chaos soak"): the
/// invariant checker over each scope, then no block held twice, no acknowledged lease lost, replays answered the
/// same, quotas exact, host addresses unique, reservations kept and every webhook event delivered.
///
/// The table is read between two snapshots of the ledger (`before`, then `after`): a lease counts as live when
/// it is live in both, released when its release was acknowledged before the read, so a release that lands while
/// the table is read is neither.
package enum SoakChecks {
    /// One check's verdict.
    package struct Result: Sendable, Equatable, Codable {
        package var name: String
        package var passed: Bool
        package var detail: String
        /// The first problems found (at most 20).
        package var problems: [String]

        package init(name: String, problems: [String], detail: String) {
            self.name = name
            passed = problems.isEmpty
            self.detail = detail
            self.problems = Array(problems.prefix(20))
        }
    }

    /// A pool's per-requester quota and the clients that lease from it under their own keys.
    package struct Quota: Sendable {
        package var pool: String
        package var limit: Int
        /// Client name → the prefix of every SessionId it sends.
        package var holders: [String: String]

        package init(pool: String, limit: Int, holders: [String: String]) {
            self.pool = pool
            self.limit = limit
            self.holders = holders
        }
    }

    /// What the in-process webhook receiver verified.
    package struct Deliveries: Sendable {
        /// Events in the scopes' trails at or after this moment must be delivered…
        package var since: Date
        /// …up to this moment (older than the dispatcher's settle time when the check runs).
        package var until: Date
        /// Verified deliveries per event id.
        package var counts: [String: Int]
        /// The end of the run: an event not delivered fails; at a checkpoint it is only counted as pending.
        package var final: Bool

        package init(since: Date, until: Date, counts: [String: Int], final: Bool) {
            self.since = since
            self.until = until
            self.counts = counts
            self.final = final
        }
    }

    package struct Inputs: Sendable {
        package var entities: [TableEntity]
        /// The scopes' partition keys.
        package var scopes: [String]
        package var before: SoakLedger.Snapshot
        package var after: SoakLedger.Snapshot
        package var quota: Quota?
        /// Quotas exact: each holder's live leases in the table are exactly those its ledger says (the end of the
        /// run); otherwise only never more than the limit.
        package var exact: Bool
        package var deliveries: Deliveries?

        package init(
            entities: [TableEntity], scopes: [String], before: SoakLedger.Snapshot, after: SoakLedger.Snapshot,
            quota: Quota? = nil, exact: Bool = true, deliveries: Deliveries? = nil
        ) {
            self.entities = entities
            self.scopes = scopes
            self.before = before
            self.after = after
            self.quota = quota
            self.exact = exact
            self.deliveries = deliveries
        }
    }

    /// The states of a lease that holds its block.
    static let liveStates: Set<NetworkState> = [.leased, .anchored]

    /// Every check, in a fixed order.
    package static func run(_ inputs: Inputs) -> [Result] {
        let scopes = Set(inputs.scopes)
        let scopeRows = inputs.entities.filter { scopes.contains($0.partitionKey) }
        var rows: [String: NetworkRow] = [:] // by block, e.g. "10.1.2.0/26"
        for entity in scopeRows where entity.rowKey.hasPrefix(RowKeys.networkPrefix) {
            if let row = NetworkRow(entity: entity) { rows[row.prefix.description] = row }
        }
        var results = [invariants(scopeRows, scopes: inputs.scopes)]
        results.append(blocksHeldOnce(inputs, rows: rows))
        results.append(leasesKept(inputs, rows: rows))
        results.append(
            Result(
                name: "replays answered the same", problems: inputs.after.contradictions,
                detail: "\(inputs.after.leases.count) leases acknowledged, each answered the same every time"))
        if let quota = inputs.quota { results.append(quotas(quota, inputs, rows: Array(rows.values))) }
        results.append(hostAddresses(inputs))
        results.append(reservations(inputs))
        if let deliveries = inputs.deliveries { results.append(webhooks(deliveries, scopeRows)) }
        return results
    }

    package static func invariants(_ rows: [TableEntity], scopes: [String]) -> Result {
        var problems: [String] = []
        for scope in scopes {
            let partition = rows.filter { $0.partitionKey == scope }
            problems += InvariantChecker.violations(in: partition).map { "\(scope): \($0)" }
        }
        return Result(
            name: "invariant checker", problems: problems,
            detail: "\(rows.count) rows in \(scopes.count) scope partition(s)")
    }

    /// Acknowledged leases live in both snapshots, by id.
    static func live(_ inputs: Inputs) -> [SoakLedger.Lease] {
        inputs.before.leases.values.filter { lease in
            !lease.released && inputs.after.leases[lease.leaseId].map { !$0.released } ?? false
        }
    }

    static func blocksHeldOnce(_ inputs: Inputs, rows: [String: NetworkRow]) -> Result {
        var problems: [String] = []
        let leases = live(inputs).compactMap { lease in (try? IPPrefix(parsing: lease.cidr)).map { ($0, lease) } }
            .sorted { $0.0 < $1.0 }
        // In address order a block overlaps a later one only if it contains its start.
        var open: [(IPPrefix, SoakLedger.Lease)] = []
        for (prefix, lease) in leases {
            open.removeAll { !$0.0.contains(prefix.address) }
            for (other, holder) in open {
                problems.append(
                    "\(other) (lease \(holder.leaseId), \(holder.holder)) and \(prefix) (lease \(lease.leaseId), \(lease.holder)) both acknowledged and held"
                )
            }
            open.append((prefix, lease))
        }
        for (_, lease) in leases {
            if let row = rows[lease.cidr], let other = row.leaseId, other != lease.leaseId,
                liveStates.contains(row.state)
            {
                problems.append("\(lease.cidr), acknowledged as lease \(lease.leaseId), is held by lease \(other)")
            }
        }
        return Result(
            name: "no block held twice", problems: problems, detail: "\(leases.count) live acknowledged leases")
    }

    static func leasesKept(_ inputs: Inputs, rows: [String: NetworkRow]) -> Result {
        var problems: [String] = []
        let kept = live(inputs)
        for lease in kept.sorted(by: { $0.leaseId < $1.leaseId }) {
            guard let row = rows[lease.cidr] else {
                problems.append("lease \(lease.leaseId) (\(lease.cidr), \(lease.holder)) lost: no row for its block")
                continue
            }
            if row.leaseId != lease.leaseId || !liveStates.contains(row.state) {
                problems.append(
                    "lease \(lease.leaseId) (\(lease.cidr), \(lease.holder)) lost: the row is \(row.state.rawValue) with lease \(row.leaseId ?? "none")"
                )
            }
        }
        let released = inputs.before.leases.values.filter(\.released)
        for lease in released {
            if let row = rows[lease.cidr], row.leaseId == lease.leaseId, liveStates.contains(row.state) {
                problems.append("lease \(lease.leaseId) (\(lease.cidr)) was released, yet is \(row.state.rawValue)")
            }
        }
        return Result(
            name: "no acknowledged lease lost", problems: problems,
            detail: "\(kept.count) live acknowledged leases in the table, \(released.count) acknowledged releases kept")
    }

    static func quotas(_ quota: Quota, _ inputs: Inputs, rows: [NetworkRow]) -> Result {
        var problems = inputs.after.wrongRefusals
        var counts: [String] = []
        for (holder, prefix) in quota.holders.sorted(by: { $0.key < $1.key }) {
            let held = rows.filter {
                $0.pool == quota.pool && liveStates.contains($0.state)
                    && ($0.sessionId ?? "").hasPrefix(prefix)
            }.count
            counts.append("\(holder) \(held)")
            if held > quota.limit {
                problems.append(
                    "\(holder) holds \(held) leases in pool \(quota.pool), past its quota of \(quota.limit)")
            }
            guard inputs.exact else { continue }
            let acknowledged = live(inputs).filter { $0.holder == holder && $0.pool == quota.pool }.count
            if held != acknowledged {
                problems.append(
                    "\(holder) holds \(held) leases in pool \(quota.pool); its acknowledged live leases are \(acknowledged)"
                )
            }
        }
        return Result(
            name: "quotas exact", problems: problems,
            detail: "pool \(quota.pool), \(quota.limit) leases per requester: " + counts.joined(separator: ", "))
    }

    static func hostAddresses(_ inputs: Inputs) -> Result {
        var problems: [String] = []
        var byLease: [String: [String]] = [:] // host-IP partition → addresses held
        for entity in inputs.entities
        where entity.partitionKey.hasPrefix(RowKeys.hostIPPartitionPrefix)
            && entity.rowKey.hasPrefix(RowKeys.hostIPPrefix)
        {
            for name in ["Ip", "IpV6"] {
                if let ip = entity[name]?.stringValue { byLease[entity.partitionKey, default: []].append(ip) }
            }
        }
        var total = 0
        for (partition, addresses) in byLease.sorted(by: { $0.key < $1.key }) {
            total += addresses.count
            let repeated = Dictionary(grouping: addresses, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
            for ip in repeated { problems.append("\(ip) is held twice in \(partition)") }
        }
        let liveLeases = Set(live(inputs).map(\.leaseId))
        var checked = 0
        for (leaseId, addresses) in inputs.before.hostAddresses where liveLeases.contains(leaseId) {
            for address in addresses.values where !address.released {
                guard inputs.after.hostAddresses[leaseId]?[address.principal].map({ !$0.released }) ?? false else {
                    continue
                }
                checked += 1
                if !(byLease[RowKeys.hostIPPartition(leaseId)] ?? []).contains(address.ip) {
                    problems.append("\(address.ip) of \(address.principal) in lease \(leaseId) acknowledged, not held")
                }
            }
        }
        return Result(
            name: "host addresses unique", problems: problems,
            detail: "\(total) host addresses in \(byLease.count) leases; \(checked) acknowledged ones held")
    }

    static func reservations(_ inputs: Inputs) -> Result {
        var held = Set<String>()
        for entity in inputs.entities where entity.rowKey.hasPrefix(RowKeys.reservationPrefix) {
            if let id = entity["ReservationId"]?.stringValue { held.insert(id) }
        }
        var problems: [String] = []
        var kept = 0
        for reservation in inputs.before.reservations.values.sorted(by: { $0.reservationId < $1.reservationId }) {
            if reservation.ended {
                if held.contains(reservation.reservationId) {
                    problems.append("reservation \(reservation.reservationId) was ended, yet is held")
                }
            } else if inputs.after.reservations[reservation.reservationId].map({ !$0.ended }) ?? false {
                kept += 1
                if !held.contains(reservation.reservationId) {
                    problems.append(
                        "reservation \(reservation.reservationId) (\(reservation.cidr)) acknowledged, not in the table")
                }
            }
        }
        return Result(
            name: "reservations kept", problems: problems, detail: "\(kept) acknowledged reservations held")
    }

    static func webhooks(_ deliveries: Deliveries, _ rows: [TableEntity]) -> Result {
        var expected: [String] = []
        for entity in rows where entity.rowKey.hasPrefix(RowKeys.eventPrefix) {
            guard let at = RowKeys.eventTime(ofKey: entity.rowKey), at >= deliveries.since, at <= deliveries.until
            else { continue }
            expected.append(entity.rowKey)
        }
        let missing = expected.filter { deliveries.counts[$0] == nil }.sorted()
        var problems = deliveries.counts.filter { $0.value > 2 }.keys.sorted().map {
            "event \($0) delivered \(deliveries.counts[$0] ?? 0) times"
        }
        if deliveries.final { problems += missing.map { "event \($0) never delivered" } }
        let duplicates = deliveries.counts.values.filter { $0 == 2 }.count
        return Result(
            name: "every webhook event delivered", problems: problems,
            detail:
                "\(expected.count) events due, \(expected.count - missing.count) delivered\(deliveries.final ? "" : ", \(missing.count) pending"); \(duplicates) delivered twice (same id); \(deliveries.counts.values.reduce(0, +)) deliveries verified"
        )
    }
}
