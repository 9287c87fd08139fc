import Foundation
import IPAMCore
import Inventory
import ManagerJobs
import NetworkMath
import ResourceGraph
import Testing

/// `Reconciliation.decide` is pure: one decision per row from its state and one listing. These pin the
/// rules of each state, the Terraform gap's (nothing is concluded from an incomplete listing), and what
/// each decision writes.
@Suite("Reconciliation decisions")
struct ReconciliationDecisionTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static var settings: ManagerSettings {
        var settings = ManagerSettings()
        settings.reapGrace = 600
        settings.releaseGrace = 3600
        settings.quarantine = 86_400
        return settings
    }

    /// A row of `cidr` in `state`: a lease's (`lease`, its session `session-{lease}`), or a bare stocked, occupied
    /// (by no VNet) or reserved one.
    static func row(_ cidr: String, _ state: NetworkState, lease: String? = "lease-1") -> NetworkRow {
        let facts = NetworkRow.Lease(id: lease ?? "", sessionId: lease.map { "session-\($0)" } ?? "")
        let bare: NetworkRow.Holding =
            switch state {
            case .occupied: .occupied(.init(vnet: nil))
            case .reserved: .reserved(.init(lockedBy: nil))
            default: .available
            }
        return NetworkRow(prefix: try! IPPrefix(parsing: cidr), holding: .lease(facts, in: state) ?? bare)
    }

    /// An anchored lease's row, anchored to `vnet`.
    static func anchored(_ cidr: String, lease: String = "lease-1", to vnet: String) -> NetworkRow {
        row(cidr, .leased, lease: lease).anchored(to: vnet, at: now.addingTimeInterval(-86_400))!
    }

    /// A row occupied by `vnet`.
    static func occupied(_ cidr: String, by vnet: String, origin: Recorded<RowOrigin>? = nil) -> NetworkRow {
        NetworkRow(prefix: try! IPPrefix(parsing: cidr), holding: .occupied(.init(vnet: vnet, origin: origin)))
    }

    /// `row` as read from storage (a change is written over it).
    static func stored(_ row: NetworkRow) -> Stored<NetworkRow> { Stored(row, etag: "etag") }

    static func vnet(_ name: String, _ prefixes: [String], lease: String? = nil) -> DiscoveredNetwork {
        DiscoveredNetwork(
            VirtualNetwork(
                id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/\(name)",
                name: name,
                subscriptionId: "s",
                resourceGroup: "rg", location: "eastus", tags: lease.map { [LeaseTag.name: $0] } ?? [:],
                addressPrefixes: prefixes))
    }

    static func decide(_ row: NetworkRow, _ vnets: [DiscoveredNetwork], complete: Bool = true, at now: Date = now)
        -> RowDecision
    {
        Reconciliation.decide(
            row, Reconciliation.Observation(vnets: vnets, complete: complete, now: now, settings: settings))
    }

    @Test(
        "a held lease: anchored by its tagged VNet (re-anchored from quarantine), drift on another prefix, otherwise untouched while its grace lasts"
    )
    func held() {
        let tagged = Self.vnet("v1", ["10.0.1.0/24"], lease: "lease-1")
        #expect(Self.decide(Self.row("10.0.1.0/24", .leased), [tagged]) == .anchor(vnet: tagged.id))
        #expect(
            Self.decide(Self.row("10.0.1.0/24", .quarantined), [tagged]).auditAction(from: .quarantined) == .reanchor)
        #expect(Self.decide(Self.row("10.0.1.0/24", .leased), [tagged]).auditAction(from: .leased) == .anchor)
        let untagged = Self.vnet("v2", ["10.0.1.0/24"])
        #expect(
            Self.decide(Self.row("10.0.1.0/24", .leased), [untagged]) == .anchor(vnet: untagged.id),
            "untagged with exactly the leased prefix")
        guard
            case .drift = Self.decide(
                Self.row("10.0.1.0/24", .leased), [Self.vnet("v3", ["10.0.2.0/24"], lease: "lease-1")])
        else {
            Issue.record("a tagged VNet with another prefix is drift")
            return
        }
        let fresh = Self.row("10.0.1.0/24", .leased).leased(until: Self.now.addingTimeInterval(-599))!
        #expect(Self.decide(fresh, []) == .unchanged(seen: false), "inside the reap grace")
    }

    @Test("reap and the end of quarantine need a complete listing")
    func terraformGap() {
        let expired = Self.row("10.0.1.0/24", .leased).leased(until: Self.now.addingTimeInterval(-601))!
        #expect(Self.decide(expired, []) == .reap(expiredAt: expired.expiresAt!))
        #expect(Self.decide(expired, [], complete: false) == .unchanged(seen: false))
        let quarantined = Self.row("10.0.1.0/24", .leased).quarantined(at: Self.now.addingTimeInterval(-86_401))!
        #expect(Self.decide(quarantined, []) == .returnToStock)
        #expect(Self.decide(quarantined, [], complete: false) == .unchanged(seen: false))
        let change = RowDecision.returnToStock.change(to: Self.stored(quarantined), now: Self.now)
        #expect(
            change?.after.state == .available && change?.after.leaseId == nil
                && change?.deleteSession == "session-lease-1")
    }

    @Test(
        "an anchored lease: missing counted over complete listings, released after two and the release grace, seen again when it returns"
    )
    func anchored() {
        var row = Self.anchored("10.0.1.0/24", to: Self.vnet("v1", []).id)
        #expect(Self.decide(row, [Self.vnet("v1", ["10.0.1.0/24"])]) == .unchanged(seen: true))
        #expect(Self.decide(row, [], complete: false) == .unchanged(seen: false))
        #expect(Self.decide(row, []) == .missing(since: Self.now, count: 1))
        row = row.sighted {
            $0.missingCount = 1
            $0.missingSince = Self.now.addingTimeInterval(-3599)
        }
        #expect(
            Self.decide(row, []) == .missing(since: row.missingSince!, count: 2),
            "two Syncs, but the release grace is not over")
        row = row.sighted { $0.missingSince = Self.now.addingTimeInterval(-3600) }
        #expect(Self.decide(row, []) == .release(vnet: row.resourceId!))
        #expect(Self.decide(row, [Self.vnet("v1", ["10.0.1.0/24"])]) == .seenAgain)
        let release = RowDecision.release(vnet: row.resourceId!).change(to: Self.stored(row), now: Self.now)
        #expect(release?.after.state == .quarantined && release?.after.missingCount == 0 && release?.action == .release)
    }

    @Test(
        "free space: occupied by an unmanaged VNet; freed (or, when recorded for it, forgotten) after two complete listings without it"
    )
    func occupied() {
        let hub = Self.vnet("hub", ["10.0.0.0/16"])
        #expect(Self.decide(Self.row("10.0.1.0/24", .available, lease: nil), [hub]) == .occupy(vnet: hub.id))
        #expect(Self.decide(Self.row("10.0.1.0/24", .available, lease: nil), []) == .unchanged(seen: false))
        var occupied = Self.occupied("10.0.1.0/24", by: hub.id)
        #expect(Self.decide(occupied, [hub]) == .unchanged(seen: true))
        let other = Self.vnet("other", ["10.0.1.0/24"])
        #expect(Self.decide(occupied, [other]) == .occupy(vnet: other.id), "another VNet uses it now")
        #expect(Self.decide(occupied, []) == .missing(since: Self.now, count: 1))
        #expect(Self.decide(occupied, [], complete: false) == .unchanged(seen: false))
        occupied = occupied.sighted { $0.missingCount = 1 }
        #expect(Self.decide(occupied, []) == .free(vnet: hub.id))
        occupied.holding = .occupied(.init(vnet: hub.id, origin: .known(.observed), sighting: .init(missingCount: 1)))
        #expect(Self.decide(occupied, []) == .forget(vnet: hub.id))
        #expect(RowDecision.forget(vnet: hub.id).change(to: Self.stored(occupied), now: Self.now)?.deleteRow == true)
        #expect(
            Self.decide(Self.row("10.0.1.0/24", .reserved, lease: nil), [hub]) == .unchanged(seen: false),
            "reserved rows are never touched")
    }

    @Test("every change a decision makes names its audit action, and a seen VNet's LastSeenAt comes with it")
    func changes() {
        let tagged = Self.vnet("v1", ["10.0.1.0/24"], lease: "lease-1")
        let change = Self.decide(Self.row("10.0.1.0/24", .leased), [tagged]).change(
            to: Self.stored(Self.row("10.0.1.0/24", .leased)), now: Self.now)
        #expect(
            change?.action == .anchor && change?.after.state == .anchored && change?.after.lastSeenAt == Self.now
                && change?.after.expiresAt == nil)
        #expect(
            RowDecision.unchanged(seen: true).change(to: Self.stored(Self.row("10.0.1.0/24", .anchored)), now: Self.now)
                == nil)
        #expect(RowDecision.drift("x").auditAction(from: .leased) == nil)
    }
}
