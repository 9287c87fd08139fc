import AzureTables
import Foundation
import IPAMCore
import Inventory
import ManagerJobs
import NetworkMath
import ResourceGraph
import ResourceGraphEmulator
import TestSupport
import Testing

/// Address space any listed VNet uses is never vended, whatever its `ipam-lease-id` tag says: a drifted VNet
/// (tagged with a lease, deployed with another prefix), a tag naming a lease ipam does not know, a VNet with a
/// prefix beside its lease's block, a VNet whose prefix covers rows and free space alike.
@Suite("Drifted and mis-tagged VNets: their space is held")
struct DriftedSpaceTests {
    typealias Decisions = ReconciliationDecisionTests
    static let scope = Scope(subscriptionId: "s", region: "eastus")
    static let space = ScopeSupernets(scope: scope, supernets: [try! IPPrefix(parsing: "10.64.0.0/16")])

    static func plan(
        _ rows: [NetworkRow], _ vnets: [DiscoveredNetwork], complete: Bool = true, at now: Date = Decisions.now
    ) -> Reconciliation.Plan {
        Reconciliation.plan(
            scope: scope, space: space, rows: rows.map(Decisions.stored), vnets: vnets, complete: complete, now: now,
            settings: Decisions.settings)
    }

    static func prefixes(_ texts: [String]) -> [IPPrefix] { texts.map { try! IPPrefix(parsing: $0) } }

    @Test(
        "the space of a tagged VNet no row covers is recorded as occupied: drifted, unknown lease, a prefix beside its lease; the drift finding says what ipam did"
    )
    func taggedSpaceRecorded() {
        let leased = Decisions.row("10.64.1.0/24", .leased, lease: "lease-1")
        let anchoredTwin = Decisions.row("10.64.2.0/24", .leased, lease: "lease-2")
        let vnets = [
            Decisions.vnet("drifted", ["10.64.9.0/24"], lease: "lease-1"),
            Decisions.vnet("unknown", ["10.64.10.0/24"], lease: "lease-that-ipam-never-issued"),
            Decisions.vnet("beside", ["10.64.2.0/24", "10.64.11.0/24"], lease: "lease-2"),
            Decisions.vnet("elsewhere", ["192.168.0.0/24"], lease: "lease-of-another-scope"),
        ]
        let plan = Self.plan([leased, anchoredTwin], vnets)
        #expect(
            plan.newOccupied.map(\.prefix) == Self.prefixes(["10.64.9.0/24", "10.64.10.0/24", "10.64.11.0/24"]),
            "\(plan.newOccupied)")
        #expect(plan.newOccupied.map { $0.resourceId.split(separator: "/").last! } == ["drifted", "unknown", "beside"])
        #expect(plan.decisions.first { $0.row.leaseId == "lease-2" }?.decision == .anchor(vnet: vnets[2].id))
        #expect(plan.drift.count == 1)
        let finding = plan.drift[0]
        #expect(
            finding.contains("ipam keeps 10.64.1.0/24 for the lease")
                && finding.contains("10.64.9.0/24 is held (not vended) while the VNet uses it"), "\(finding)")
    }

    @Test(
        "a VNet prefix that covers rows and free space: the free rest is recorded as its largest blocks, the stocked row is occupied, a live lease inside is named as an overlap"
    )
    func remainderAroundRows() {
        let stocked = Decisions.row("10.64.1.0/24", .available, lease: nil)
        let otherLease = Decisions.row("10.64.2.128/25", .anchored, lease: "lease-9")
        let own = Decisions.row("10.64.8.0/24", .leased, lease: "lease-1")
        let vnets = [Decisions.vnet("wide", ["10.64.0.0/22"], lease: "lease-1")]
        let plan = Self.plan([stocked, otherLease, own], vnets)
        #expect(
            plan.newOccupied.map(\.prefix) == Self.prefixes(["10.64.0.0/24", "10.64.2.0/25", "10.64.3.0/24"]),
            "\(plan.newOccupied)")
        #expect(plan.decisions.first { $0.row.prefix == stocked.prefix }?.decision == .occupy(vnet: vnets[0].id))
        #expect(
            plan.drift.count == 1 && plan.drift[0].contains("10.64.0.0/22 overlaps 10.64.2.128/25 of lease lease-9"),
            "\(plan.drift)")
    }

    @Test(
        "a dual-stack lease whose VNet carries its IPv4 block and another IPv6 prefix: drift, both blocks kept, the other IPv6 prefix held"
    )
    func dualStackPartnerDrift() {
        let v4 = try! IPPrefix(parsing: "10.64.1.0/24")
        let v6 = try! IPPrefix(parsing: "fd00:0:0:100::/56")
        let lease = NetworkRow.Lease(id: "lease-ds", sessionId: "session-lease-ds")
        var firstLease = lease
        firstLease.pairKey = RowKeys.network(v6)
        var secondLease = lease
        secondLease.pairKey = RowKeys.network(v4)
        let first = NetworkRow(prefix: v4, holding: .leased(firstLease, vnet: nil))
        let second = NetworkRow(prefix: v6, holding: .leased(secondLease, vnet: nil))
        let space = ScopeSupernets(scope: Self.scope, supernets: Self.prefixes(["10.64.0.0/16", "fd00::/48"]))
        let vnets = [Decisions.vnet("ds", ["10.64.1.0/24", "fd00:0:0:200::/56"], lease: "lease-ds")]
        let plan = Reconciliation.plan(
            scope: Self.scope, space: space, rows: [first, second].map(Decisions.stored), vnets: vnets, complete: true,
            now: Decisions.now,
            settings: Decisions.settings)
        #expect(plan.newOccupied.map(\.prefix) == Self.prefixes(["fd00:0:0:200::/56"]), "\(plan.newOccupied)")
        #expect(plan.changes.isEmpty, "neither block is anchored or let go")
        #expect(
            plan.drift.count == 1
                && plan.drift[0].contains("ipam keeps 10.64.1.0/24 and fd00:0:0:100::/56 for the lease")
                && plan.drift[0].contains("fd00:0:0:200::/56 is held (not vended)"), "\(plan.drift)")
    }

    @Test(
        "a quarantine that ends under a VNet using the block holds the block (nothing written) until the VNet is gone from a complete listing"
    )
    func quarantineHeldUnderVNet() {
        let quarantined = Decisions.row("10.64.5.0/24", .leased, lease: "lease-q")
            .quarantined(at: Decisions.now.addingTimeInterval(-2 * 86_400))!
        let squatter = Decisions.vnet("squatter", ["10.64.5.0/24"], lease: "lease-other")
        #expect(Decisions.decide(quarantined, [squatter]) == .holdForVNet(vnet: squatter.id))
        #expect(
            Decisions.decide(quarantined, [squatter]).change(to: Decisions.stored(quarantined), now: Decisions.now)
                == nil)
        #expect(
            Decisions.decide(quarantined, [], complete: false) == .unchanged(seen: false),
            "an incomplete listing never gives it back")
        #expect(Decisions.decide(quarantined, []) == .returnToStock, "gone from a complete listing: back to stock")
    }

    @Test(
        "an occupied block whose VNet is still listed but re-addressed away from it is missing, and freed after two complete Syncs"
    )
    func reAddressedVNetLetsGo() {
        let vnet = Decisions.vnet("drifted", ["10.64.1.0/24"], lease: "lease-1")
        var occupied = Decisions.occupied("10.64.9.0/24", by: vnet.id, origin: .known(.observed))
        #expect(Decisions.decide(occupied, [vnet], complete: false) == .unchanged(seen: false))
        #expect(Decisions.decide(occupied, [vnet]) == .missing(since: Decisions.now, count: 1))
        occupied = occupied.sighted {
            $0.missingSince = Decisions.now
            $0.missingCount = 1
        }
        #expect(Decisions.decide(occupied, [vnet]) == .forget(vnet: vnet.id))
        let still = Decisions.vnet("drifted", ["10.64.9.0/24"], lease: "lease-1")
        #expect(Decisions.decide(occupied, [still]) == .seenAgain)
    }

    // MARK: End to end: a Vendor over HTTP, the local Resource Graph, the Manager's run, the table.

    /// A small scope (eight /24s), so the callers below ask until it is exhausted.
    static let smallScope = [
        "SUPERNETS_CONFIG":
            #"[{"subscriptionId":"\#(SampleConfiguration.subscription)","regions":[{"region":"eastus","supernets":["10.64.0.0/21"]},{"region":"westeurope","supernets":["10.72.0.0/16"]}]}]"#
    ]

    /// The /24s of the scope no row covers.
    static func uncovered(_ world: TerraformGapTests.World) async throws -> [IPPrefix] {
        let rows = try await world.manager.inventory.networks(in: world.scope)
        return FreeSpace.freeBlocks(in: try IPPrefix(parsing: "10.64.0.0/21"), occupied: rows.map(\.prefix)).flatMap {
            $0.subnets(ofLength: 24) ?? []
        }
    }

    /// Asks for /24s until the scope is exhausted: the blocks handed out.
    static func drain(_ world: TerraformGapTests.World, _ session: String) async throws -> [IPPrefix] {
        var got: [IPPrefix] = []
        for index in 0..<12 {
            let answer = try await world.lease("\(session)-\(index)")
            if answer.status == 409 { break }
            #expect(answer.status == 201, "\(answer.text)")
            got.append(try IPPrefix(parsing: try #require(answer.string("cidr"))))
        }
        return got
    }

    @Test(
        "a drifted VNet, a VNet tagged with a lease ipam never issued, a VNet with a prefix beside its lease: after a Manager run no caller gets their space until the scope is exhausted; the VNets gone, it comes back on complete listings only"
    )
    func neverVendedUntilGone() async throws {
        try await TerraformGapTests.withWorld(environment: Self.smallScope) { world in
            let l1 = try await world.lease("d-1")
            let l2 = try await world.lease("d-2")
            let x1 = try #require(l1.string("cidr"))
            let x2 = try #require(l2.string("cidr"))
            let free = try await Self.uncovered(world)
            try #require(free.count >= 3, "\(free)")
            await world.deploy("vnet-drift", [free[0].description], lease: l1.string("leaseId"))
            await world.deploy("vnet-unknown", [free[1].description], lease: "4f6c1e2a-0000-4000-8000-000000000000")
            await world.deploy("vnet-beside", [x2, free[2].description], lease: l2.string("leaseId"))
            let used = [free[0], free[1], free[2]]
            let now = Date()
            let report = try await world.manager.run(now: now)
            #expect(report.complete)
            #expect(
                report.drift.count == 1 && report.drift[0].contains("\(free[0]) is held (not vended)"),
                "\(report.drift)")
            for prefix in used { #expect(try await world.row(prefix.description)?.state == .occupied, "\(prefix)") }
            #expect(try await world.row(x1)?.state == .leased, "the drifted lease keeps its block")
            #expect(try await world.row(x2)?.state == .anchored)
            let status = try #require(try await world.manager.inventory.managerStatus())
            #expect(
                status.drift.contains { $0.kind == "prefix-mismatch" && $0.detail.contains("is held (not vended)") },
                "\(status.drift)")

            let handedOut = try await Self.drain(world, "after")
            #expect(!handedOut.isEmpty, "the scope had free space left")
            for block in handedOut {
                #expect(!used.contains { $0.overlaps(block) }, "\(block) overlaps a deployed VNet")
            }
            try await world.invariants()

            // The VNets go: an incomplete listing holds everything, two complete ones give the space back.
            for name in ["vnet-drift", "vnet-unknown", "vnet-beside"] { await world.destroy(name) }
            await world.graph.inject(.error, count: 100)
            for step in 1...3 { _ = try await world.manager.run(now: now.addingTimeInterval(Double(step) * 10)) }
            for prefix in used {
                #expect(
                    try await world.row(prefix.description)?.state == .occupied,
                    "an incomplete listing frees nothing: \(prefix)")
            }
            await world.graph.clearFaults()
            _ = try await world.manager.run(now: now.addingTimeInterval(100))
            _ = try await world.manager.run(now: now.addingTimeInterval(200))
            for prefix in used {
                // Forgotten, and perhaps already carved into stock again by the run's Replenish.
                let row = try await world.row(prefix.description)
                #expect(
                    row == nil || row?.state == .available,
                    "two complete Syncs without the VNet: the space is free again: \(prefix) \(String(describing: row?.state))"
                )
            }
            try await world.invariants()
        }
    }

    @Test(
        "a carve between the Manager's read of the rows and its recording of a VNet's space: what the carve took is left out, the rest is recorded, no row overlaps another"
    )
    func carveBetweenReadAndRecord() async throws {
        try await TerraformGapTests.withWorld(environment: Self.smallScope) { world in
            _ = try await world.lease("r-0")
            let scopeSpace = try IPPrefix(parsing: "10.64.0.0/21")
            let rows = try await world.manager.inventory.networks(in: world.scope)
            let free = FreeSpace.freeBlocks(in: scopeSpace, occupied: rows.map(\.prefix))
            await world.deploy("vnet-late", free.map(\.description), lease: "0b8e33c1-0000-4000-8000-000000000000")
            let version = try await world.manager.inventory.head(of: world.scope)?.version ?? 0
            let plan = try await world.plan()
            #expect(plan.newOccupied.map(\.prefix) == free)
            // A Vendor carves before the Manager writes: it drains the stock, then carves inside the VNet's space.
            var carvedInside = false
            for index in 0..<6 where !carvedInside {
                let got = try IPPrefix(parsing: try #require(try await world.lease("r-\(index + 1)").string("cidr")))
                carvedInside = free.contains { $0.overlaps(got) }
            }
            try #require(carvedInside)
            let recorded = await world.manager.inventory.recordOccupied(
                plan.newOccupied, in: world.scope, now: Date(), knownVersion: version)
            #expect(recorded.failure == nil && recorded.written > 0, "\(recorded)")
            try await world.invariants()
            let after = try await world.manager.inventory.networks(in: world.scope).map(\.prefix)
            for block in free {
                #expect(
                    FreeSpace.freeBlocks(in: block, occupied: after).isEmpty, "every address of \(block) is under a row"
                )
            }
        }
    }

    @Test(
        "a drifted VNet moved back onto its lease's block: the lease anchors and the space it left is given back after two complete Syncs"
    )
    func driftCorrected() async throws {
        try await TerraformGapTests.withWorld(environment: Self.smallScope) { world in
            let lease = try await world.lease("c-1")
            let cidr = try #require(lease.string("cidr"))
            let wrong = try #require(try await Self.uncovered(world).first)
            await world.deploy("vnet-c", [wrong.description], lease: lease.string("leaseId"))
            let now = Date()
            _ = try await world.manager.run(now: now)
            #expect(try await world.row(wrong.description)?.state == .occupied)
            await world.deploy("vnet-c", [cidr], lease: lease.string("leaseId"))
            let fixed = try await world.manager.run(now: now.addingTimeInterval(10))
            #expect(fixed.drift.isEmpty)
            #expect(try await world.row(cidr)?.state == .anchored)
            _ = try await world.manager.run(now: now.addingTimeInterval(20))
            #expect(try await world.row(wrong.description) == nil, "the VNet no longer uses it")
            try await world.invariants()
        }
    }

    @Test(
        "an anchored lease whose VNet is re-addressed: the drift report says so and what ipam does; the new space is held, the lease keeps its block"
    )
    func anchoredVNetReAddressed() async throws {
        try await TerraformGapTests.withWorld(environment: Self.smallScope) { world in
            let lease = try await world.lease("a-1")
            let cidr = try #require(lease.string("cidr"))
            await world.deploy("vnet-a", [cidr], lease: lease.string("leaseId"))
            let now = Date()
            _ = try await world.manager.run(now: now)
            #expect(try await world.row(cidr)?.state == .anchored)
            let moved = try #require(try await Self.uncovered(world).first)
            await world.deploy("vnet-a", [moved.description], lease: lease.string("leaseId"))
            _ = try await world.manager.run(now: now.addingTimeInterval(10))
            #expect(try await world.row(cidr)?.state == .anchored, "the lease keeps its block")
            #expect(try await world.row(moved.description)?.state == .occupied, "the VNet's new space is held")
            let status = try #require(try await world.manager.inventory.managerStatus())
            #expect(
                status.drift.contains {
                    $0.kind == "prefix-mismatch" && $0.cidr == cidr && $0.detail.contains("now has \(moved)")
                }, "\(status.drift)")
            for got in try await Self.drain(world, "a-after") { #expect(!got.overlaps(moved)) }
            try await world.invariants()
        }
    }

    @Test(
        "a quarantine that ends while another VNet uses the block: held, reported, never handed out; the VNet gone (complete listing) → back to stock"
    )
    func quarantineUnderVNet() async throws {
        try await TerraformGapTests.withWorld(environment: Self.smallScope) { world in
            let lease = try await world.lease("q-1")
            let cidr = try #require(lease.string("cidr"))
            let now = Date()
            _ = try await world.manager.run(now: now.addingTimeInterval(3600 + 61))
            #expect(try await world.row(cidr)?.state == .quarantined)
            await world.deploy("vnet-squat", [cidr], lease: "7d0c2e11-0000-4000-8000-000000000000")
            let ended = now.addingTimeInterval(3600 + 61 + 601)
            _ = try await world.manager.run(now: ended)
            #expect(try await world.row(cidr)?.state == .quarantined, "held while the VNet uses it")
            let status = try #require(try await world.manager.inventory.managerStatus())
            #expect(status.drift.contains { $0.kind == "held-for-vnet" && $0.cidr == cidr }, "\(status.drift)")
            let block = try IPPrefix(parsing: cidr)
            for got in try await Self.drain(world, "q-after") { #expect(!got.overlaps(block)) }
            await world.destroy("vnet-squat")
            await world.graph.inject(.truncate, count: 100)
            _ = try await world.manager.run(now: ended.addingTimeInterval(10))
            #expect(try await world.row(cidr)?.state == .quarantined, "an incomplete listing gives nothing back")
            await world.graph.clearFaults()
            _ = try await world.manager.run(now: ended.addingTimeInterval(20))
            #expect(try await world.row(cidr)?.state == .available)
            try await world.invariants()
        }
    }
}
