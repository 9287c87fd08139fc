import AzureTables
import Foundation
import IPAMCore
import Inventory
import NetworkMath
import ResourceGraph
import StrictJSON

/// What differs between the inventory and what Resource Graph sees, without changing anything.
public struct DriftReport: Sendable {
    public struct Item: Sendable {
        public let kind: String
        public let scope: String
        public let cidr: String
        public let detail: String
    }

    public var complete: Bool
    public var items: [Item]

    /// Builds the report from the rows of every scope and one listing.
    public static func build(configuration: IPAMConfiguration, rows: [Scope: [NetworkRow]], listing: VirtualNetworkListing, now: Date) -> DriftReport {
        var items: [Item] = []
        let ids = Set(listing.networks.map { $0.id.lowercased() })
        for (scope, scopeRows) in rows.sorted(by: { $0.key < $1.key }) {
            guard let space = configuration.scopes[scope] else { continue }
            let plan = Reconciliation.plan(scope: scope, space: space, rows: scopeRows, vnets: listing.networks, complete: listing.isComplete,
                                           now: now, settings: ManagerSettings())
            for text in plan.drift { items.append(Item(kind: "prefix-mismatch", scope: scope.partitionKey, cidr: "", detail: text)) }
            for row in scopeRows {
                switch row.state {
                case .occupied:
                    items.append(Item(kind: "occupied", scope: scope.partitionKey, cidr: row.prefix.description, detail: "used by \(row.lockedBy ?? "an unknown VNet")"))
                case .anchored where !(row.resourceId.map { ids.contains($0.lowercased()) } ?? false):
                    items.append(Item(kind: "vnet-missing", scope: scope.partitionKey, cidr: row.prefix.description,
                                      detail: "anchored to \(row.resourceId ?? "?"), which Resource Graph does not list"))
                case .leased where (row.expiresAt ?? .distantFuture) < now:
                    items.append(Item(kind: "stale-lease", scope: scope.partitionKey, cidr: row.prefix.description,
                                      detail: "lease \(row.leaseId ?? "") of session \(row.sessionId ?? "") expired \(EdmDateTime.format(row.expiresAt!))"))
                default: break
                }
            }
        }
        return DriftReport(complete: listing.isComplete, items: items)
    }

    public var json: JSONValue {
        .object([("complete", .bool(complete)), ("items", .array(items.map {
            .object([("kind", .string($0.kind)), ("scope", .string($0.scope)), ("cidr", .string($0.cidr)), ("detail", .string($0.detail))])
        }))])
    }

    /// A readable table.
    public var table: String {
        var lines = ["Resource Graph listing: \(complete ? "complete" : "INCOMPLETE (absences are not conclusive)")"]
        if items.isEmpty { return (lines + ["no drift"]).joined(separator: "\n") }
        let kindWidth = max(4, items.map(\.kind.count).max() ?? 0)
        let cidrWidth = max(4, items.map(\.cidr.count).max() ?? 0)
        lines.append("KIND".padding(toLength: kindWidth, withPad: " ", startingAt: 0) + "  " + "CIDR".padding(toLength: cidrWidth, withPad: " ", startingAt: 0) + "  DETAIL")
        for item in items {
            lines.append(item.kind.padding(toLength: kindWidth, withPad: " ", startingAt: 0) + "  " + item.cidr.padding(toLength: cidrWidth, withPad: " ", startingAt: 0) + "  " + item.detail)
        }
        return lines.joined(separator: "\n")
    }
}
