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

    package var complete: Bool
    package var items: [Item]

    /// The report a run stores: from the plans it applied (one per scope), each row as the run left it with
    /// what the next run will do about it (`Reconciliation.Plan.outlook`).
    package init(plans: [Scope: Reconciliation.Plan], complete: Bool) {
        self.complete = complete
        items = plans.sorted(by: { $0.key < $1.key }).flatMap { scope, plan in
            Self.items(scope: scope, entries: plan.outlook, observation: plan.observation)
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
        for (scope, scopeRows) in rows.sorted(by: { $0.key < $1.key }) {
            guard let space = configuration.scopes[scope] else { continue }
            let complete = Reconciliation.Completeness(scope, isolated: space.isolated, in: listing)
            let plan = Reconciliation.plan(
                scope: scope, space: space, rows: scopeRows,
                vnets: Reconciliation.vnets(listing.networks, in: scope, space: space), complete: complete.own,
                spaceComplete: complete.space, now: now, settings: settings)
            items += Self.items(scope: scope, entries: plan.decisions, observation: plan.observation)
        }
        return DriftReport(complete: listing.isComplete, items: items)
    }

    init(complete: Bool, items: [Item]) {
        self.complete = complete
        self.items = items
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
        ])
    }

    /// A readable table.
    package var table: String {
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
