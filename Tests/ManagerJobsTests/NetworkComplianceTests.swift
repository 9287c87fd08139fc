import Foundation
import IPAMCore
import Inventory
import ManagerJobs
import NetworkMath
import ResourceGraph
import ResourceGraphEmulator
import StrictJSON
import TestSupport
import Testing

/// Each listed network's compliance (docs/Design.md, "Network compliance"): judged from one plan, stored by the run
/// only when it changed, answered by `GET /api/networks`.
@Suite("Network compliance")
struct NetworkComplianceTests {
    typealias Decisions = ReconciliationDecisionTests
    static let scope = Scope(subscriptionId: "s", region: "eastus")
    static let space = ScopeSupernets(
        scope: scope, supernets: [try! IPPrefix(parsing: "10.64.0.0/16")],
        exclude: [try! IPPrefix(parsing: "10.64.0.0/24")])

    static func judged(_ rows: [NetworkRow], _ vnets: [DiscoveredNetwork]) -> [String: NetworkStatus] {
        let plan = Reconciliation.plan(
            scope: scope, space: space, rows: rows.map(Decisions.stored), vnets: vnets, complete: true,
            now: Decisions.now, settings: Decisions.settings)
        var byName: [String: NetworkStatus] = [:]
        for status in plan.compliance { byName[String(status.resourceId.split(separator: "/").last!)] = status }
        #expect(byName.count == plan.compliance.count, "one status per network")
        return byName
    }

    @Test(
        "one network of each status, each with its reason: anchored, re-addressed, drifted, unmanaged, excluded, outside, overlapping, mis-tagged, over another lease, unreadable; another scope's network is not judged here"
    )
    func everyStatus() throws {
        let other = DiscoveredNetwork(
            provider: .azure, account: "s", region: "westeurope", id: "/subscriptions/s/vnet-elsewhere",
            prefixes: ["10.64.60.0/24"])
        let rows = [
            Decisions.row("10.64.1.0/24", .leased, lease: "lease-1"),
            Decisions.anchored("10.64.2.0/24", lease: "lease-2", to: Decisions.vnet("moved", []).id),
            Decisions.row("10.64.4.0/24", .leased, lease: "lease-3"),
            Decisions.row("10.64.40.0/24", .leased, lease: "lease-6"),
        ]
        let statuses = Self.judged(
            rows,
            [
                Decisions.vnet("app", ["10.64.1.0/24"], lease: "lease-1"),
                Decisions.vnet("moved", ["10.64.3.0/24"]),
                Decisions.vnet("drifted", ["10.64.5.0/24"], lease: "lease-3"),
                Decisions.vnet("hub", ["10.64.10.0/24"]),
                Decisions.vnet("gateway", ["10.64.0.0/26"]),
                Decisions.vnet("outside", ["192.168.0.0/24", "10.64.11.0/24"]),
                Decisions.vnet("left", ["10.64.20.0/24"]),
                Decisions.vnet("right", ["10.64.20.128/25"]),
                Decisions.vnet("stranger", ["10.64.30.0/24"], lease: "lease-never-issued"),
                Decisions.vnet("copycat", ["10.64.31.0/24"], lease: "LEASE-1"),
                Decisions.vnet("squatter", ["10.64.40.0/23"]),
                Decisions.vnet("broken", ["10.64.50.0/33"]),
                other,
            ])
        #expect(statuses["vnet-elsewhere"] == nil, "a network of another scope is that scope's to judge")
        func expect(_ name: String, _ status: ComplianceStatus, _ reason: String, lease: String? = nil) {
            let found = statuses[name]
            #expect(found?.status == status, "\(name): \(String(describing: found))")
            #expect(found?.reason.contains(reason) == true, "\(name): \(found?.reason ?? "none")")
            #expect(found?.leaseId == lease, "\(name)'s lease")
        }
        expect("app", .compliant, "anchored to lease lease-1 (10.64.1.0/24)", lease: "lease-1")
        #expect(statuses["app"]?.cidrs == ["10.64.1.0/24"])
        expect(
            "moved", .noncompliant,
            "prefix mismatch: anchored to lease lease-2, which holds 10.64.2.0/24, but it has 10.64.3.0/24",
            lease: "lease-2")
        expect(
            "drifted", .noncompliant,
            "prefix mismatch: lease lease-3 (leased) holds 10.64.4.0/24, but it has 10.64.5.0/24",
            lease: "lease-3")
        expect("hub", .unmanaged, "no lease names it")
        expect("gateway", .ignored, "in the excluded range 10.64.0.0/24")
        expect("outside", .noncompliant, "192.168.0.0/24 is outside the scope's supernets (10.64.0.0/16)")
        #expect(statuses["outside"]?.cidrs == ["10.64.11.0/24", "192.168.0.0/24"], "address order")
        expect("left", .noncompliant, "10.64.20.0/24 overlaps 10.64.20.128/25 of \(Decisions.vnet("right", []).id)")
        expect("right", .noncompliant, "10.64.20.128/25 overlaps 10.64.20.0/24 of \(Decisions.vnet("left", []).id)")
        expect("stranger", .noncompliant, "tagged ipam-lease-id=lease-never-issued, a lease this scope does not hold")
        expect("copycat", .noncompliant, "tagged ipam-lease-id=LEASE-1, the lease of \(Decisions.vnet("app", []).id)")
        expect(
            "squatter", .noncompliant,
            "10.64.40.0/23 overlaps 10.64.40.0/24 of lease lease-6 (leased), vended before the network was seen")
        expect("broken", .noncompliant, "ipam cannot read its prefix 10.64.50.0/33")
        #expect(statuses["broken"]?.cidrs == ["10.64.50.0/33"])
    }

    @Test(
        "a compliant network that overlaps another is noncompliant, lease kept; a dual-stack lease's VNet with both blocks is compliant; one with its IPv4 block and more is a prefix mismatch"
    )
    func leasesAndOverlaps() throws {
        let space = ScopeSupernets(
            scope: Self.scope, supernets: [try IPPrefix(parsing: "10.64.0.0/16"), try IPPrefix(parsing: "fd00::/48")])
        let v4 = try IPPrefix(parsing: "10.64.1.0/24")
        let v6 = try IPPrefix(parsing: "fd00:0:0:100::/56")
        var first = NetworkRow.Lease(id: "lease-ds", sessionId: "session-ds")
        first.pairKey = RowKeys.network(v6)
        var second = NetworkRow.Lease(id: "lease-ds", sessionId: "session-ds")
        second.pairKey = RowKeys.network(v4)
        let rows = [
            NetworkRow(prefix: v4, holding: .leased(first, vnet: nil)),
            NetworkRow(prefix: v6, holding: .leased(second, vnet: nil)),
            Decisions.row("10.64.2.0/24", .leased, lease: "lease-2"),
            Decisions.row("10.64.3.0/24", .leased, lease: "lease-3"),
        ]
        let plan = Reconciliation.plan(
            scope: Self.scope, space: space, rows: rows.map(Decisions.stored),
            vnets: [
                Decisions.vnet("dual", ["fd00:0:0:100::/56", "10.64.1.0/24"], lease: "lease-ds"),
                Decisions.vnet("anchored", ["10.64.2.0/24"], lease: "lease-2"),
                Decisions.vnet("intruder", ["10.64.2.128/25"]),
                Decisions.vnet("wider", ["10.64.3.0/24", "10.64.9.0/24"], lease: "lease-3"),
            ], complete: true, now: Decisions.now, settings: Decisions.settings)
        let byName = Dictionary(
            uniqueKeysWithValues: plan.compliance.map { (String($0.resourceId.split(separator: "/").last!), $0) })
        #expect(byName["dual"]?.status == .compliant && byName["dual"]?.leaseId == "lease-ds", "\(byName["dual"]!)")
        #expect(byName["dual"]?.cidrs == ["10.64.1.0/24", "fd00:0:0:100::/56"])
        #expect(byName["dual"]?.reason == "anchored to lease lease-ds (10.64.1.0/24 and fd00:0:0:100::/56)")
        #expect(byName["anchored"]?.status == .noncompliant && byName["anchored"]?.leaseId == "lease-2")
        #expect(byName["anchored"]?.reason.hasPrefix("10.64.2.0/24 overlaps 10.64.2.128/25") == true)
        #expect(byName["intruder"]?.status == .noncompliant && byName["intruder"]?.leaseId == nil)
        #expect(
            byName["wider"]?.status == .noncompliant
                && byName["wider"]?.reason.contains("but it has 10.64.3.0/24, 10.64.9.0/24") == true,
            "anchored by its IPv4 block, but it uses more than its lease: \(byName["wider"]!)")
    }

    /// The statuses of `scope` as stored, by VNet name.
    static func stored(_ world: TerraformGapTests.World, _ scope: Scope? = nil) async throws -> [String: NetworkStatus]
    {
        let rows = try await world.manager.inventory.networkStatuses(in: scope ?? world.scope)
        return Dictionary(
            uniqueKeysWithValues: rows.map { (String($0.value.resourceId.split(separator: "/").last!), $0.value) })
    }

    @Test(
        "a run stores every listed network's status and reason, GET /api/networks answers them (filtered, paged, per scope); a change of status is stored with its time, a gone network's row deleted only by a complete listing; an unchanged world writes nothing"
    )
    func storedAndAnswered() async throws {
        try await TerraformGapTests.withWorld { world in
            let app = try await world.lease("compliance-app")
            let appCidr = try #require(app.string("cidr"))
            let appLease = try #require(app.string("leaseId"))
            await world.deploy("vnet-app", [appCidr], lease: appLease)
            await world.deploy("vnet-hub", ["10.64.200.0/24"])
            let drifted = try await world.lease("compliance-drift")
            let driftLease = try #require(drifted.string("leaseId"))
            await world.deploy("vnet-drift", ["10.64.201.0/24"], lease: driftLease)
            await world.deploy("vnet-gw", ["10.64.0.0/27"])
            await world.deploy("vnet-far", ["192.168.10.0/24"])
            await world.graph.upsert(
                VirtualNetwork(
                    id:
                        "/subscriptions/\(SampleConfiguration.subscription)/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet-west",
                    name: "vnet-west", subscriptionId: SampleConfiguration.subscription, resourceGroup: "rg",
                    location: "westeurope", tags: [:], addressPrefixes: ["10.72.5.0/24"]))
            let west = Scope(subscriptionId: SampleConfiguration.subscription, region: "westeurope")
            let start = Date()
            let first = try await world.manager.run(now: start)
            #expect(first.complete)
            #expect(first.networkStatuses.written == 6 && first.networkStatuses.failed == 0, "\(first.networkStatuses)")
            var statuses = try await Self.stored(world)
            #expect(
                statuses.mapValues(\.status)
                    == [
                        "vnet-app": .compliant, "vnet-hub": .unmanaged, "vnet-drift": .noncompliant,
                        "vnet-gw": .ignored, "vnet-far": .noncompliant,
                    ], "\(statuses)")
            #expect(statuses["vnet-app"]?.leaseId == appLease && statuses["vnet-drift"]?.leaseId == driftLease)
            #expect(statuses.values.allSatisfy { abs(($0.since ?? .distantPast).timeIntervalSince(start)) < 0.01 })
            #expect(try await Self.stored(world, west).mapValues(\.status) == ["vnet-west": .unmanaged])
            #expect(first.noncompliant.count == 2, "\(first.noncompliant)")

            // The Manager's status counts them per scope; the drift report lists each.
            let status = try #require(try await world.manager.inventory.managerStatus())
            let counts = try #require(status.networks.first { $0.scope == world.scope.partitionKey })
            #expect(
                counts[.compliant] == 1 && counts[.unmanaged] == 1 && counts[.noncompliant] == 2
                    && counts[.ignored] == 1)
            #expect(status.networks.first { $0.scope == west.partitionKey }?[.unmanaged] == 1)

            // The route: every field, the scope's own networks only, in address order.
            let base = world.vendorURL + "/api/networks?subscriptionId=\(SampleConfiguration.subscription)"
            let eastus = try await HTTPCalls.send("GET", base + "&region=eastus")
            #expect(eastus.status == 200, "\(eastus.text)")
            let listed = try #require(eastus.json?["networks"]?.arrayValue)
            #expect(listed.count == 5 && eastus.json?["continuation"] == .null)
            #expect(
                listed.compactMap { $0["resourceId"]?.stringValue?.split(separator: "/").last.map(String.init) }
                    == ["vnet-gw", "vnet-app", "vnet-hub", "vnet-drift", "vnet-far"], "address order: \(eastus.text)")
            let appAnswer = try #require(listed.first { $0["status"]?.stringValue == "compliant" })
            #expect(
                appAnswer.objectValue?.map(\.0) == [
                    "resourceId", "scope", "subscription", "region", "cidrs", "status", "reason", "leaseId", "since",
                ])
            #expect(appAnswer["cidrs"] == .array([.string(appCidr)]) && appAnswer["leaseId"]?.stringValue == appLease)
            #expect(appAnswer["scope"]?.stringValue == world.scope.partitionKey)
            #expect(appAnswer["reason"]?.stringValue == "anchored to lease \(appLease) (\(appCidr))")
            let noncompliant = try await HTTPCalls.send("GET", base + "&region=eastus&status=noncompliant")
            #expect(
                Set(
                    noncompliant.json?["networks"]?.arrayValue?.compactMap {
                        $0["resourceId"]?.stringValue?.split(separator: "/").last.map(String.init)
                    } ?? []) == ["vnet-drift", "vnet-far"], "\(noncompliant.text)")
            let two = try await HTTPCalls.send("GET", base + "&region=eastus&status=compliant,ignored&status=ignored")
            #expect(two.json?["networks"]?.arrayValue?.count == 2, "\(two.text)")
            let westAnswer = try await HTTPCalls.send("GET", base + "&region=westeurope")
            #expect(
                westAnswer.json?["networks"]?.arrayValue?.map { $0["scope"]?.stringValue } == [west.partitionKey],
                "\(westAnswer.text)")
            // Paged one at a time across both scopes: each network once.
            var seen: [String] = []
            var continuation: String? = nil
            repeat {
                let query = continuation.map { "&continuation=\(QueryEncoding.encode($0))" } ?? ""
                let page = try await HTTPCalls.send("GET", world.vendorURL + "/api/networks?limit=1" + query)
                #expect(page.status == 200, "\(page.text)")
                seen += page.json?["networks"]?.arrayValue?.compactMap { $0["resourceId"]?.stringValue } ?? []
                continuation = page.json?["continuation"]?.stringValue
            } while continuation != nil && seen.count < 20
            #expect(seen.count == 6 && Set(seen).count == 6, "\(seen)")

            // Nothing changed: nothing written at all (the rows the first run recorded occupied have their
            // `LastSeenAt` already), and a run after that writes nothing either.
            var before = world.writes.value
            let again = try await world.manager.run(now: start.addingTimeInterval(1))
            #expect(again.networkStatuses == NetworkStatusWrites(), "\(again.networkStatuses)")
            #expect(world.writes.value == before, "\(again.actions)")
            before = world.writes.value
            let unchanged = try await world.manager.run(now: start.addingTimeInterval(1.5))
            #expect(
                unchanged.networkStatuses == NetworkStatusWrites() && world.writes.value == before,
                "\(unchanged.actions)")

            // The anchored VNet is re-addressed: noncompliant since this run, its row moved with its first prefix.
            await world.deploy("vnet-app", ["10.64.202.0/24"], lease: appLease)
            let moved = start.addingTimeInterval(2)
            let third = try await world.manager.run(now: moved)
            #expect(
                third.networkStatuses.written == 1 && third.networkStatuses.deleted == 1, "\(third.networkStatuses)")
            statuses = try await Self.stored(world)
            let readdressed = try #require(statuses["vnet-app"])
            #expect(readdressed.status == .noncompliant && readdressed.leaseId == appLease)
            #expect(
                readdressed.reason
                    == "prefix mismatch: anchored to lease \(appLease), which holds \(appCidr), but it has 10.64.202.0/24"
            )
            #expect(abs((readdressed.since ?? .distantPast).timeIntervalSince(moved)) < 0.01, "the change's time")
            #expect(statuses.count == 5, "its old row is gone: \(statuses.keys.sorted())")
            #expect(abs((statuses["vnet-hub"]?.since ?? .distantPast).timeIntervalSince(start)) < 0.01, "unchanged")

            // Gone from a complete listing: its row goes; from an incomplete one, nothing is concluded.
            await world.destroy("vnet-hub")
            _ = try await world.manager.run(now: start.addingTimeInterval(3))
            #expect(try await Self.stored(world)["vnet-hub"] == nil)
            await world.destroy("vnet-far")
            await world.graph.deny([SampleConfiguration.subscription])
            let blind = try await world.manager.run(now: start.addingTimeInterval(4))
            #expect(!blind.complete && blind.networkStatuses.deleted == 0)
            #expect(try await Self.stored(world)["vnet-far"]?.status == .noncompliant, "kept while not seen whole")
            await world.graph.deny([])
            _ = try await world.manager.run(now: start.addingTimeInterval(5))
            #expect(try await Self.stored(world)["vnet-far"] == nil)
            try await world.invariants()
        }
    }
}

/// The same on AWS: VPCs listed by EC2 (moto_server), their statuses stored in the AWS scope's partition and answered
/// with the scope's `cloud` and `accountId`.
@Suite(
    "Network compliance on AWS",
    .enabled(if: MotoServer.shouldRun, "moto_server is not installed (scripts/setup-python)"))
struct AWSNetworkComplianceTests {
    @Test(
        "a VPC tagged with its lease is compliant, an unmanaged VPC unmanaged, one outside the scope's space noncompliant"
    )
    func vpcs() async throws {
        try await AWSManagerTests.withWorld { world in
            let manager = try world.manager()
            let lease = try await world.lease("aws-compliance")
            let cidr = try #require(lease.string("cidr"))
            let leaseId = try #require(lease.string("leaseId"))
            let own = try await EC2DiscoveryTests.createVpc(
                world.moto, region: "us-east-1", cidr: cidr, tags: [LeaseTag.name: leaseId])
            let unmanaged = try await EC2DiscoveryTests.createVpc(world.moto, region: "us-east-1", cidr: "10.80.3.0/24")
            let outside = try await EC2DiscoveryTests.createVpc(
                world.moto, region: "us-east-1", cidr: "192.168.50.0/24")
            let report = try await manager.run(now: Date())
            #expect(report.complete, "\(report.problems)")
            let stored = try await world.inventory.networkStatuses(in: AWSManagerTests.east).map(\.value)
            let byId = Dictionary(uniqueKeysWithValues: stored.map { ($0.resourceId, $0) })
            #expect(byId[own]?.status == .compliant && byId[own]?.leaseId == leaseId, "\(stored)")
            #expect(byId[unmanaged]?.status == .unmanaged, "\(stored)")
            #expect(
                byId[outside]?.status == .noncompliant
                    && byId[outside]?.reason == "192.168.50.0/24 is outside the scope's supernets (10.80.0.0/22)",
                "\(stored)")
            // moto also lists the region's default VPC (172.31.0.0/16): outside the scope's space too.
            #expect(
                stored.allSatisfy { [own, unmanaged, outside].contains($0.resourceId) || $0.status == .noncompliant })
            let answer = try await HTTPCalls.send(
                "GET", world.vendorURL + "/api/networks?accountId=\(AWSManagerTests.account)&region=us-east-1")
            let networks = try #require(answer.json?["networks"]?.arrayValue, "\(answer.text)")
            #expect(networks.count == stored.count)
            let first = try #require(networks.first { $0["resourceId"]?.stringValue == own })
            #expect(
                first.objectValue?.map(\.0).prefix(6) == [
                    "resourceId", "scope", "cloud", "accountId", "region", "cidrs",
                ])
            #expect(first["cloud"]?.stringValue == "aws" && first["accountId"]?.stringValue == AWSManagerTests.account)
            #expect(first["status"]?.stringValue == "compliant" && first["subscription"] == nil)
            let azure = try await HTTPCalls.send("GET", world.vendorURL + "/api/networks?region=eastus")
            #expect(azure.status == 200 && azure.json?["networks"]?.arrayValue?.isEmpty == true, "\(azure.text)")
        }
    }
}

/// Percent-encoding of a query value (a continuation token is base64url, but a test should not rely on it).
enum QueryEncoding {
    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~")))
            ?? text
    }
}
