package import Foundation
package import IPAMCore
package import Inventory
import NetworkMath
package import StrictJSON

/// What differs between the inventory and what the clouds' listings show (Resource Graph, EC2), without changing
/// anything.
package struct DriftReport: Sendable {
    package struct Item: Sendable {
        package let kind: String
        package let scope: String
        package let cidr: String
        package let detail: String
    }

    /// One listed network's compliance (`NetworkCompliance`), in its scope.
    package struct Network: Sendable, Equatable {
        package let scope: Scope
        package let status: NetworkStatus
    }

    package var complete: Bool
    package var items: [Item]
    /// Every network each scope's own listing shows, with its compliance status and why: scopes in order, each in
    /// address order.
    package var networks: [Network] = []

    /// The report a run stores: from the plans it applied (one per scope), each row as the run left it with
    /// what the next run will do about it (`Reconciliation.Plan.outlook`), and each network's compliance.
    package init(plans: [Scope: Reconciliation.Plan], complete: Bool) {
        self.complete = complete
        let ordered = plans.sorted(by: { $0.key < $1.key })
        items = ordered.flatMap { scope, plan in
            Self.items(scope: scope, entries: plan.outlook, observation: plan.observation)
        }
        networks = ordered.flatMap { scope, plan in plan.compliance.map { Network(scope: scope, status: $0) } }
    }

    /// Per scope that lists networks (in scope order), how many stood in each compliance status.
    package var networkCounts: [ManagerStatus.NetworkCount] {
        var counts: [Scope: [ComplianceStatus: Int]] = [:]
        for network in networks { counts[network.scope, default: [:]][network.status.status, default: 0] += 1 }
        return counts.sorted { $0.key < $1.key }.map {
            ManagerStatus.NetworkCount(scope: $0.key.partitionKey, counts: $0.value)
        }
    }

    /// The report over the rows as they are, without changing anything (`manager drift`): each scope planned
    /// once, as a run would plan it over `listing` (the same `Reconciliation` under the loaded settings), each
    /// item saying what the next run will do about it.
    package static func build(
        configuration: IPAMConfiguration, settings: ManagerSettings, rows: [Scope: [Stored<NetworkRow>]],
        listing: DiscoveryListing, now: Date
    ) -> DriftReport {
        var items: [Item] = []
        var networks: [Network] = []
        for (scope, scopeRows) in rows.sorted(by: { $0.key < $1.key }) {
            guard let space = configuration.scopes[scope] else { continue }
            let complete = Reconciliation.Completeness(scope, isolated: space.isolated, in: listing)
            let plan = Reconciliation.plan(
                scope: scope, space: space, rows: scopeRows,
                vnets: Reconciliation.vnets(listing.networks, in: scope, space: space), complete: complete.own,
                spaceComplete: complete.space, now: now, settings: settings)
            items += Self.items(scope: scope, entries: plan.decisions, observation: plan.observation)
            networks += plan.compliance.map { Network(scope: scope, status: $0) }
        }
        return DriftReport(complete: listing.isComplete, items: items, networks: networks)
    }

    init(complete: Bool, items: [Item], networks: [Network] = []) {
        self.complete = complete
        self.items = items
        self.networks = networks
    }

    /// One scope's findings: rows with the decision a run makes for them over `observation`.
    static func items(
        scope: Scope, entries: [(row: NetworkRow, decision: RowDecision)], observation: Reconciliation.Observation
    ) -> [Item] {
        let now = observation.now
        let settings = observation.settings
        var items: [Item] = []
        for (row, decision) in entries {
            let blocks = row.blocks
            let cidr = blocks.primary.description + (blocks.v6.map { " + \($0)" } ?? "")
            let next = decision.auditAction(from: row.state).map { "; next run: \($0.rawValue)" } ?? ""
            if case .drift(let text) = decision {
                items.append(Item(kind: "prefix-mismatch", scope: scope.partitionKey, cidr: cidr, detail: text))
                continue
            }
            if case .holdForVNet(let vnet) = decision {
                let detail =
                    "lease \(row.leaseId ?? "")'s quarantine is over, but VNet \(vnet) uses the block: "
                    + "it stays held (not vended) until the VNet is gone"
                items.append(Item(kind: "held-for-vnet", scope: scope.partitionKey, cidr: cidr, detail: detail))
                continue
            }
            switch row.state {
            case .anchored where decision.seen:
                // Its VNet is still there but was re-addressed away from the block: the lease keeps it, the VNet's
                // new space is held like any listed VNet's (Reconciliation.plan).
                guard let own = observation.vnets(for: row).own, !own.prefixes.contains(row.prefix) else { break }
                let current = own.prefixes.map(\.description).joined(separator: ", ")
                let detail =
                    "anchored lease \(row.leaseId ?? "") holds \(cidr) but VNet \(own.vnet.id) now has \(current); "
                    + "ipam keeps \(cidr) for the lease and holds the VNet's space (not vended) while the VNet uses it"
                items.append(Item(kind: "prefix-mismatch", scope: scope.partitionKey, cidr: cidr, detail: detail))
            case .occupied:
                items.append(
                    Item(
                        kind: "occupied", scope: scope.partitionKey, cidr: cidr,
                        detail: "used by \(row.lockedBy ?? "an unknown VNet")\(next)"))
            case .anchored where !decision.seen:
                items.append(
                    Item(
                        kind: "vnet-missing", scope: scope.partitionKey, cidr: cidr,
                        detail:
                            "anchored to \(row.resourceId ?? "?"), which \(Self.lister(of: scope)) does not list\(next)"
                    ))
            case .leased where (row.expiresAt ?? .distantFuture) < now:
                let when =
                    decision == .reap(expiredAt: row.expiresAt!)
                    ? "; next run: reap" : "; within the reap grace (\(Int(settings.reapGrace)) s)"
                items.append(
                    Item(
                        kind: "stale-lease", scope: scope.partitionKey, cidr: cidr,
                        detail:
                            "lease \(row.leaseId ?? "") of session \(row.sessionId ?? "") expired \(ISO8601.format(row.expiresAt!))\(when)"
                    ))
            default: break
            }
        }
        return items
    }

    /// What lists a scope's networks, as the report names it.
    static func lister(of scope: Scope) -> String {
        switch scope.cloud {
        case .azure: "Resource Graph"
        case .aws: "EC2"
        }
    }

    package var json: JSONValue {
        .object([
            ("complete", .bool(complete)),
            (
                "items",
                .array(
                    items.map {
                        .object([
                            ("kind", .string($0.kind)), ("scope", .string($0.scope)), ("cidr", .string($0.cidr)),
                            ("detail", .string($0.detail)),
                        ])
                    })
            ),
            (
                "networks",
                .array(
                    networks.map {
                        .object([
                            ("scope", .string($0.scope.partitionKey)), ("resourceId", .string($0.status.resourceId)),
                            ("cidrs", .array($0.status.cidrs.map(JSONValue.string))),
                            ("status", .string($0.status.status.rawValue)), ("reason", .string($0.status.reason)),
                            ("leaseId", $0.status.leaseId.map(JSONValue.string) ?? .null),
                        ])
                    })
            ),
        ])
    }

    /// A readable table: the findings, then each listed network's compliance.
    package var table: String {
        ([findingsTable] + (networks.isEmpty ? [] : [networksTable])).joined(separator: "\n\n")
    }

    /// The networks and their compliance, one a line: status, CIDRs, resource id, why.
    var networksTable: String {
        let statusWidth = max(6, networks.map(\.status.status.rawValue.count).max() ?? 0)
        let cidrs = networks.map { $0.status.cidrs.joined(separator: ",") }
        let cidrWidth = max(5, cidrs.map(\.count).max() ?? 0)
        var lines = [
            "Networks: "
                + ComplianceStatus.allCases.map { status in
                    "\(networks.filter { $0.status.status == status }.count) \(status.rawValue)"
                }.joined(separator: ", "),
            "STATUS".padding(toLength: statusWidth, withPad: " ", startingAt: 0) + "  "
                + "CIDRS".padding(toLength: cidrWidth, withPad: " ", startingAt: 0) + "  NETWORK  (REASON)",
        ]
        for (network, cidr) in zip(networks, cidrs) {
            lines.append(
                network.status.status.rawValue.padding(toLength: statusWidth, withPad: " ", startingAt: 0) + "  "
                    + cidr.padding(toLength: cidrWidth, withPad: " ", startingAt: 0) + "  "
                    + network.status.resourceId + "  (" + network.status.reason + ")")
        }
        return lines.joined(separator: "\n")
    }

    /// The findings, one a line.
    var findingsTable: String {
        var lines = ["Listing: \(complete ? "complete" : "INCOMPLETE (absences are not conclusive)")"]
        if items.isEmpty { return (lines + ["no drift"]).joined(separator: "\n") }
        let kindWidth = max(4, items.map(\.kind.count).max() ?? 0)
        let cidrWidth = max(4, items.map(\.cidr.count).max() ?? 0)
        lines.append(
            "KIND".padding(toLength: kindWidth, withPad: " ", startingAt: 0) + "  "
                + "CIDR".padding(toLength: cidrWidth, withPad: " ", startingAt: 0) + "  DETAIL")
        for item in items {
            lines.append(
                item.kind.padding(toLength: kindWidth, withPad: " ", startingAt: 0) + "  "
                    + item.cidr.padding(toLength: cidrWidth, withPad: " ", startingAt: 0) + "  " + item.detail)
        }
        return lines.joined(separator: "\n")
    }
}
