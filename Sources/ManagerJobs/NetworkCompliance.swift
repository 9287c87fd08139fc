package import IPAMCore
package import Inventory
import NetworkMath

/// The compliance of every network a scope's listing shows (docs/Design.md, "Network compliance"): a pure judgement
/// over one plan's observation and the rows as the plan leaves them, so the statuses a run stores, the drift report
/// and `manager drift` all say what the run saw and did.
///
/// In order, the first rule that holds decides:
/// 1. prefixes it cannot read, or none: `noncompliant`;
/// 2. a lease it belongs to (tagged with it, named by its resource id, or untagged with exactly its block):
///    `compliant` when its prefixes are exactly the lease's blocks and it overlaps no other network, else
///    `noncompliant` (a prefix mismatch, or the overlap);
/// 3. every prefix inside the scope's excluded ranges: `ignored`;
/// 4. a prefix outside the scope's supernets: `noncompliant`;
/// 5. tagged with a lease it does not belong to (unknown to the scope, released, another network's): `noncompliant`;
/// 6. overlapping another listed network: `noncompliant`;
/// 7. overlapping a live lease's block (vended before the network was seen): `noncompliant`;
/// 8. otherwise `unmanaged`: its space is held (occupied), never vended, while it is listed.
package enum NetworkCompliance {
    /// The statuses of `scope`'s own networks in `observation` (those of its cloud, account and region), in address
    /// order of their first prefix. `rows` are the scope's rows as the plan leaves them.
    package static func judge(
        scope: Scope, space: ScopeSupernets, rows: [NetworkRow], observation: Reconciliation.Observation
    ) -> [NetworkStatus] {
        let mine = observation.observed.filter {
            $0.vnet.provider == scope.cloud && $0.vnet.account == scope.account && $0.vnet.region == scope.region
        }
        guard !mine.isEmpty else { return [] }
        // Each lease's row (a dual-stack lease by its IPv4 row), and the network it belongs to.
        var leases: [String: NetworkRow] = [:]
        var leaseOf: [String: NetworkRow] = [:]
        var owner: [String: String] = [:]
        for row in rows where !row.isSecondHalf {
            guard let lease = row.leaseId?.lowercased() else { continue }
            leases[lease] = row
            guard let own = observation.vnets(for: row).own else { continue }
            let id = own.vnet.id.lowercased()
            owner[lease] = own.vnet.id
            if leaseOf[id] == nil { leaseOf[id] = row }
        }
        let live = PrefixIndex(
            rows.filter { $0.leaseId != nil && ($0.state == .leased || $0.state == .anchored) }.map { ($0.prefix, $0) })
        var statuses: [NetworkStatus] = []
        for entry in mine {
            let id = entry.vnet.id
            let prefixes = entry.prefixes.sorted()
            let unreadable = entry.vnet.prefixes.filter { (try? IPPrefix.parseNormalising($0)) == nil }
            let cidrs = Array(Set(prefixes)).sorted().map(\.description) + unreadable
            func record(_ status: ComplianceStatus, _ reason: String, lease: String? = nil) {
                statuses.append(
                    NetworkStatus(resourceId: id, cidrs: cidrs, status: status, reason: reason, leaseId: lease))
            }
            let overlap = firstOverlap(of: entry, in: observation)
            if prefixes.isEmpty || !unreadable.isEmpty {
                let what =
                    unreadable.isEmpty
                    ? "it lists no address space" : "ipam cannot read its prefix \(unreadable.joined(separator: ", "))"
                record(.noncompliant, what)
                continue
            }
            if let row = leaseOf[id.lowercased()], let lease = row.leaseId {
                let blocks = row.prefixes.map(\.description).joined(separator: " and ")
                let anchored = row.state == .anchored
                guard Set(prefixes) == Set(row.prefixes) else {
                    let has = cidrs.joined(separator: ", ")
                    record(
                        .noncompliant,
                        anchored
                            ? "prefix mismatch: anchored to lease \(lease), which holds \(blocks), but it has \(has)"
                            : "prefix mismatch: lease \(lease) (\(row.state.rawValue)) holds \(blocks), but it has \(has)",
                        lease: lease)
                    continue
                }
                if let overlap {
                    record(.noncompliant, overlap, lease: lease)
                } else {
                    record(
                        .compliant,
                        anchored
                            ? "anchored to lease \(lease) (\(blocks))"
                            : "lease \(lease) (\(blocks), \(row.state.rawValue)) is its own: the next run anchors it",
                        lease: lease)
                }
                continue
            }
            let excluded = prefixes.map { prefix in space.exclude.first { $0.contains(prefix) } }
            if excluded.allSatisfy({ $0 != nil }) {
                let ranges = Array(Set(excluded.compactMap { $0 })).sorted().map(\.description)
                record(.ignored, "in the excluded range \(ranges.joined(separator: ", ")): not judged")
                continue
            }
            let outside = zip(prefixes, excluded).filter { prefix, exclusion in
                exclusion == nil && !space.supernets.contains { $0.contains(prefix) }
            }.map(\.0)
            if !outside.isEmpty {
                let supernets = space.supernets.map(\.description).joined(separator: ", ")
                record(
                    .noncompliant,
                    "\(outside.map(\.description).joined(separator: ", ")) \(outside.count == 1 ? "is" : "are") outside the scope's supernets (\(supernets))"
                )
                continue
            }
            if let tag = entry.vnet.tags[LeaseTag.name], !tag.isEmpty {
                let why =
                    if let row = leases[tag.lowercased()], let other = owner[tag.lowercased()] {
                        "the lease of \(other) (\(row.prefixes.map(\.description).joined(separator: " and ")))"
                    } else {
                        "a lease this scope does not hold (unknown, of another scope, or gone back to stock)"
                    }
                record(.noncompliant, "tagged \(LeaseTag.name)=\(tag), \(why)")
                continue
            }
            if let overlap {
                record(.noncompliant, overlap)
                continue
            }
            let used = prefixes.flatMap { prefix in live.overlapping(prefix).map { (prefix, $0) } }
                .sorted { ($0.1.prefix, $0.0) < ($1.1.prefix, $1.0) }
            if let first = used.first {
                let (prefix, row) = first
                let more = used.count > 1 ? " (and \(used.count - 1) more)" : ""
                record(
                    .noncompliant,
                    "\(prefix) overlaps \(row.prefix) of lease \(row.leaseId ?? "") (\(row.state.rawValue)), vended before the network was seen\(more)"
                )
                continue
            }
            record(.unmanaged, "no lease names it: its space is held (occupied), never vended, while it is listed")
        }
        // Keys computed once (each is a digest), not at every comparison.
        return statuses.map { ($0.rowKey, $0) }.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// The first overlap of `entry`'s prefixes with another listed network (in address order), in words; nil when
    /// none overlaps.
    static func firstOverlap(of entry: Reconciliation.Observation.Entry, in observation: Reconciliation.Observation)
        -> String?
    {
        let id = entry.vnet.id.lowercased()
        var found: [(mine: IPPrefix, theirs: IPPrefix, id: String)] = []
        for prefix in entry.prefixes {
            for index in observation.index.overlapping(prefix)
            where observation.observed[index].vnet.id.lowercased() != id {
                let other = observation.observed[index]
                for theirs in other.prefixes where theirs.overlaps(prefix) {
                    found.append((prefix, theirs, other.vnet.id))
                }
            }
        }
        guard
            let first = found.min(by: { ($0.mine, $0.theirs, $0.id) < ($1.mine, $1.theirs, $1.id) })
        else { return nil }
        let others = Set(found.map { $0.id.lowercased() }).count
        let more = others > 1 ? " (and \(others - 1) more network\(others > 2 ? "s" : ""))" : ""
        return "\(first.mine) overlaps \(first.theirs) of \(first.id)\(more)"
    }
}
