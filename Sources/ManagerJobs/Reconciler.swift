import AzureCore
import AzureTables
import Foundation
import IPAMCore
import Inventory
import Logging
import NetworkMath
import ResourceGraph

/// Durations of the Manager's rules (all can go down to seconds for tests).
public struct ManagerSettings: Sendable {
    /// A `leased` row is reaped this long after `ExpiresAt` (`REAP_GRACE_SECONDS`).
    public var reapGrace: TimeInterval = 15 * 60
    /// An anchored row whose VNet vanished is released only after this long (`RELEASE_GRACE_SECONDS`).
    public var releaseGrace: TimeInterval = 60 * 60
    /// How long a row stays `quarantined` before it returns to stock (`QUARANTINE_SECONDS`).
    public var quarantine: TimeInterval = 24 * 60 * 60
    /// `LastSeenAt` of a row whose VNet is still there is refreshed when older than this
    /// (`LAST_SEEN_REFRESH_SECONDS`): a bounded heartbeat, so a Sync with nothing to change writes
    /// nothing for this long, yet an operator can tell when a VNet was last confirmed.
    public var lastSeenRefresh: TimeInterval = 24 * 60 * 60
    /// How long the singleton lease lasts without renewal (`MANAGER_LEASE_SECONDS`): a crashed
    /// Manager's lease frees itself after this; a running one renews it every third of it.
    public var singletonLease: TimeInterval = 60

    public init() {}

    public static func load(environment: [String: String]) throws(IPAMConfiguration.Problems) -> ManagerSettings {
        var settings = ManagerSettings()
        var problems: [String] = []
        func seconds(_ name: String, _ target: WritableKeyPath<ManagerSettings, TimeInterval>) {
            guard let text = environment[name], !text.isEmpty else { return }
            guard let value = Double(text), value >= 0, value.isFinite else { problems.append("\(name)=\(text): must be a number of seconds ≥ 0"); return }
            settings[keyPath: target] = value
        }
        seconds("REAP_GRACE_SECONDS", \.reapGrace)
        seconds("RELEASE_GRACE_SECONDS", \.releaseGrace)
        seconds("QUARANTINE_SECONDS", \.quarantine)
        seconds("LAST_SEEN_REFRESH_SECONDS", \.lastSeenRefresh)
        seconds("MANAGER_LEASE_SECONDS", \.singletonLease)
        if settings.singletonLease < 3 { problems.append("MANAGER_LEASE_SECONDS=\(settings.singletonLease): must be at least 3 seconds") }
        if !problems.isEmpty { throw IPAMConfiguration.Problems(lines: problems) }
        return settings
    }
}

/// One row change the reconciliation decided, with its reason.
public struct RowChange: Sendable {
    public let before: NetworkRow
    public let after: NetworkRow
    public let action: String
    public let detail: String
    /// The session row to delete with it (when a quarantine ends).
    public let deleteSession: String?
    /// Delete the row instead of writing `after` (an observed row whose VNet is gone).
    public var deleteRow = false
}

/// Sync + Anchor + Reap for one scope, as a pure decision over rows and observed VNets (DESIGN §5).
///
/// The Terraform gap's core rule: a listing that is not complete never releases anything and never
/// counts as "not seen".
public enum Reconciliation {
    public struct Plan: Sendable {
        public var changes: [RowChange] = []
        /// Rows whose VNet the listing shows and whose `LastSeenAt` is older than the refresh interval
        /// (no state change: only `LastSeenAt` is written, many rows per transaction).
        public var seen: [NetworkRow] = []
        /// Blocks an unmanaged VNet uses that no row covers yet: recorded as `occupied` rows.
        public var newOccupied: [(prefix: IPPrefix, resourceId: String)] = []
        /// Leases whose VNet was deployed with another prefix (reported, never fixed silently).
        public var drift: [String] = []
    }

    /// The VNet prefixes, parsed leniently (host bits cleared), with the VNet.
    public static func prefixes(of vnet: VirtualNetwork) -> [IPPrefix] {
        vnet.addressPrefixes.compactMap { try? IPPrefix.parseNormalising($0).prefix }
    }

    public static func plan(scope: Scope, space: ScopeSupernets, rows: [NetworkRow], vnets: [VirtualNetwork], complete: Bool,
                            now: Date, settings: ManagerSettings) -> Plan {
        var plan = Plan()
        let observed = vnets.map { (vnet: $0, prefixes: prefixes(of: $0)) }
        let byLease = Dictionary(observed.compactMap { entry in entry.vnet.tags[LeaseTag.name].map { ($0.lowercased(), entry) } }, uniquingKeysWith: { a, _ in a })
        let byID = Set(observed.map { $0.vnet.id.lowercased() })
        // Overlap look-ups through an index: rows × VNets comparisons do not scale to 100,000 VNets.
        let vnetIndex = PrefixIndex(observed.indices.flatMap { i in observed[i].prefixes.map { ($0, i) } })

        for row in rows {
            var next = row
            var action = ""
            var detail = ""
            var deleteSession: String? = nil
            var deleteRow = false
            var seen = false
            // The VNet that belongs to this row: tagged with its lease, or untagged with exactly its prefix.
            let overlapping = vnetIndex.overlapping(row.prefix).sorted().map { observed[$0] }
            let own = row.leaseId.flatMap { byLease[$0.lowercased()] }
                ?? overlapping.first { $0.vnet.tags[LeaseTag.name] == nil && $0.prefixes.contains(row.prefix) && row.leaseId != nil }
            let foreign = overlapping.first { $0.vnet.id.lowercased() != own?.vnet.id.lowercased() }
            switch row.state {
            case .leased, .quarantined, .expired, .released:
                if let own {
                    if own.prefixes.contains(row.prefix) {
                        seen = true
                        next.state = .anchored
                        next.resourceId = own.vnet.id
                        next.anchoredAt = now
                        next.expiresAt = nil
                        next.quarantinedAt = nil
                        next.missingSince = nil
                        next.missingCount = 0
                        action = row.state == .leased ? "anchor" : "re-anchor"
                        detail = "VNet \(own.vnet.id)"
                    } else {
                        plan.drift.append("lease \(row.leaseId ?? "") holds \(row.prefix) but VNet \(own.vnet.id) has \(own.prefixes.map(\.description).joined(separator: ", "))")
                        continue
                    }
                } else if complete, row.state == .leased, let expires = row.expiresAt, now.timeIntervalSince(expires) > settings.reapGrace {
                    next.state = .quarantined
                    next.quarantinedAt = now
                    action = "reap"
                    detail = "expired \(ISO(expires)) and never deployed"
                } else if complete, row.state != .leased, let since = row.quarantinedAt, now.timeIntervalSince(since) > settings.quarantine {
                    next = NetworkRow(prefix: row.prefix, state: .available)
                    next.etag = row.etag
                    action = "return-to-stock"
                    detail = "quarantine ended"
                    deleteSession = row.sessionId
                }
            case .anchored:
                let present = row.resourceId.map { byID.contains($0.lowercased()) } ?? false
                if present || own != nil {
                    seen = true
                    if row.missingSince != nil || row.missingCount != 0 {
                        next.missingSince = nil
                        next.missingCount = 0
                        action = "seen-again"
                    }
                } else if complete {
                    next.missingSince = row.missingSince ?? now
                    next.missingCount = row.missingCount + 1
                    action = "missing"
                    if next.missingCount >= 2, now.timeIntervalSince(next.missingSince!) >= settings.releaseGrace {
                        next.state = .quarantined
                        next.quarantinedAt = now
                        next.missingSince = nil
                        next.missingCount = 0
                        action = "release"
                        detail = "VNet \(row.resourceId ?? "") gone for two complete Syncs"
                    }
                }
            case .available:
                if let foreign {
                    next.state = .occupied
                    next.lockedBy = foreign.vnet.id
                    seen = true
                    action = "occupy"
                    detail = "unmanaged VNet \(foreign.vnet.id)"
                }
            case .occupied:
                if let locker = row.lockedBy, byID.contains(locker.lowercased()) || foreign != nil {
                    seen = true
                    if row.missingCount != 0 { next.missingCount = 0; next.missingSince = nil; action = "seen-again" }
                    if !byID.contains(locker.lowercased()), let foreign { next.lockedBy = foreign.vnet.id; action = "occupy" }
                } else if complete {
                    next.missingSince = row.missingSince ?? now
                    next.missingCount = row.missingCount + 1
                    action = "missing"
                    if next.missingCount >= 2 {
                        detail = "VNet \(row.lockedBy ?? "") gone for two complete Syncs"
                        if row.origin == "observed" {
                            deleteRow = true
                            action = "forget"
                        } else {
                            next = NetworkRow(prefix: row.prefix, state: .available)
                            next.etag = row.etag
                            action = "free"
                        }
                    }
                }
            case .reserved:
                continue
            }
            if seen {
                if !action.isEmpty {
                    next.lastSeenAt = now
                } else if row.lastSeenAt.map({ now.timeIntervalSince($0) >= settings.lastSeenRefresh }) ?? true {
                    next.lastSeenAt = now
                    plan.seen.append(next)
                }
            }
            if !action.isEmpty {
                var change = RowChange(before: row, after: next, action: action, detail: detail, deleteSession: deleteSession)
                change.deleteRow = deleteRow
                plan.changes.append(change)
            }
        }

        // Unmanaged VNets inside this scope's space that no row covers: record them so carving avoids them.
        let rowIndex = PrefixIndex(rows.map { ($0.prefix, ()) })
        var uncovered: [(prefix: IPPrefix, resourceId: String)] = []
        for entry in observed where entry.vnet.tags[LeaseTag.name] == nil {
            for prefix in entry.prefixes where space.supernets.contains(where: { $0.overlaps(prefix) }) && !rowIndex.hasOverlap(prefix) {
                uncovered.append((prefix, entry.vnet.id))
            }
        }
        // Keep the outermost of overlapping VNet prefixes (in address order, an overlap is a containment).
        for candidate in uncovered.sorted(by: { $0.prefix < $1.prefix }) {
            if let kept = plan.newOccupied.last, kept.prefix.overlaps(candidate.prefix) { continue }
            plan.newOccupied.append(candidate)
        }
        return plan
    }

    static func ISO(_ date: Date) -> String { EdmDateTime.format(date) }
}

/// The tag a deployed VNet carries to name its lease.
public enum LeaseTag {
    public static let name = "ipam-lease-id"
}
