import AzureCore
import AzureTables
import Foundation
import IPAMCore
import Inventory
import Logging
import ManagerJobs
import NetworkMath
import ResourceGraph
import ResourceGraphEmulator
import StrictJSON
import TestSupport
import Testing

/// End to end: a Vendor over HTTP, the local Resource Graph (playing Terraform through its state),
/// the Manager's run, and the table. Time moves through `run(now:)`, not sleeps.
@Suite("Terraform gap")
struct TerraformGapTests {
    struct World: Sendable {
        let vendorURL: String
        let table: TableClient
        let configuration: IPAMConfiguration
        let graph: ResourceGraphState
        let manager: ManagerRun
        let writes: WriteCounter
        var scope: Scope { configuration.defaultScope }

        func lease(_ session: String, _ body: String? = nil) async throws -> HTTPAnswer {
            try await HTTPCalls.send(
                "POST", vendorURL + "/api/getNewNetwork",
                body: body ?? #"{"SessionId":"\#(session)","prefixLength":24}"#)
        }

        func row(_ cidr: String) async throws -> NetworkRow? {
            try await table.get(partitionKey: scope.partitionKey, rowKey: RowKeys.network(try IPPrefix(parsing: cidr)))
                .flatMap(NetworkRow.init(entity:))
        }

        func session(_ id: String) async throws -> TableEntity? {
            try await table.get(partitionKey: scope.partitionKey, rowKey: RowKeys.session(id))
        }

        func deploy(_ name: String, _ prefixes: [String], lease: String? = nil) async {
            await graph.upsert(
                VirtualNetwork(
                    id:
                        "/subscriptions/\(SampleConfiguration.subscription)/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/\(name)",
                    name: name, subscriptionId: SampleConfiguration.subscription, resourceGroup: "rg",
                    location: "eastus",
                    tags: lease.map { [LeaseTag.name: $0] } ?? [:], addressPrefixes: prefixes))
        }

        func destroy(_ name: String) async {
            await graph.remove(
                id:
                    "/subscriptions/\(SampleConfiguration.subscription)/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/\(name)"
            )
        }

        /// `count` leases (sessions `{prefix}-0`, `{prefix}-1`, …), each deployed as a VNet tagged with it, as
        /// Terraform would: their blocks and lease ids, in order.
        func deployedLeases(_ prefix: String, count: Int) async throws -> [(cidr: String, leaseId: String)] {
            var leases: [(cidr: String, leaseId: String)] = []
            for index in 0..<count {
                let answer = try await lease("\(prefix)-\(index)")
                let deployed = (
                    cidr: try #require(answer.string("cidr")), leaseId: try #require(answer.string("leaseId"))
                )
                await deploy("vnet-\(prefix)\(index)", [deployed.cidr], lease: deployed.leaseId)
                leases.append(deployed)
            }
            return leases
        }

        /// What a Manager run would plan right now (the rows and the listing as they are), without applying it.
        func plan() async throws -> Reconciliation.Plan {
            let rows = try await manager.inventory.networks(in: scope)
            let listing = await manager.discovery.discover([scope])
            return Reconciliation.plan(
                scope: scope, space: configuration.scopes[scope]!, rows: rows, vnets: listing.networks,
                complete: listing.isComplete, now: Date(), settings: manager.settings)
        }

        func invariants() async throws {
            let rows = try await table.queryAll(filter: "PartitionKey eq '\(scope.partitionKey)'")
            let problems = InvariantChecker.violations(in: rows)
            #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        }
    }

    /// - Parameter environment: settings over the world's (a one-hour lease, stock of two /24s).
    static func withWorld(environment extra: [String: String] = [:], _ body: @Sendable (World) async throws -> Void)
        async throws
    {
        var environment = [
            "LEASE_DURATION_HOURS": "1",
            "SCOPE_CONFIG_MANIFEST":
                #"{"defaultScope":{"subscriptionId":"\#(SampleConfiguration.subscription)","region":"eastus"},"scopes":[{"subscriptionId":"\#(SampleConfiguration.subscription)","region":"eastus","stock":{"24":2}}]}"#,
        ]
        environment.merge(extra) { _, new in new }
        try await VendorHarness.withVendor(environment: environment) { url, table, configuration in
            let graph = ResourceGraphState()
            let emulator = ResourceGraphEmulator(state: graph, pageSize: 2)
            try await TestServers.withFakeServer({ await emulator.handle($0) }) { port in
                let writes = WriteCounter()
                let service = try await TestStorage.service(onAttempt: { writes.observe($0) })
                let pipeline = AzurePipeline(
                    transport: TestStorage.transport,
                    authorizer: BearerTokenAuthorizer(credential: StaticTokenCredential("local"), scope: .management),
                    retryPolicy: RetryPolicy(
                        maxAttempts: 2, baseDelay: .milliseconds(5), maxDelay: .milliseconds(20), deadline: .seconds(5))
                )
                var settings = ManagerSettings()
                settings.reapGrace = 60
                settings.releaseGrace = 120
                settings.quarantine = 600
                let manager = ManagerRun(
                    configuration: configuration, settings: settings,
                    inventory: Inventory(table: service.table(table.name), actor: "manager-test"),
                    resourceGraph: ResourceGraphClient(endpoint: "http://127.0.0.1:\(port)", pipeline: pipeline),
                    logger: Logger(label: "manager-test", factory: { _ in SwiftLogNoOpLogHandler() }))
                try await body(
                    World(
                        vendorURL: url, table: table, configuration: configuration, graph: graph, manager: manager,
                        writes: writes))
            }
        }
    }

    @Test(
        "leased, VNet appears tagged → anchored, no expiry; free rows it overlaps → occupied; a second run writes nothing"
    )
    func anchorByTag() async throws {
        try await Self.withWorld { world in
            let lease = try await world.lease("env-a")
            let cidr = try #require(lease.string("cidr"))
            // The VNet also spans the next /24, which is stock.
            let block = try IPPrefix(parsing: cidr)
            let stock = try await world.table.queryAll(
                filter: "PartitionKey eq '\(world.scope.partitionKey)' and State eq 'available'"
            ).compactMap(NetworkRow.init(entity:))
            let neighbour = try #require(stock.first).prefix
            await world.deploy("vnet-a", [cidr, neighbour.description], lease: lease.string("leaseId"))
            let report = try await world.manager.run()
            #expect(report.complete)
            let anchored = try #require(try await world.row(cidr))
            #expect(
                anchored.state == .anchored && anchored.expiresAt == nil
                    && anchored.resourceId?.hasSuffix("vnet-a") == true)
            #expect(try await world.row(neighbour.description)?.state == .occupied)
            _ = block
            try await world.invariants()
            let before = world.writes.value
            let again = try await world.manager.run()
            #expect(again.actions.isEmpty)
            #expect(world.writes.value == before, "nothing changed in the world: nothing written")
        }
    }

    @Test(
        "a VNet spanning two scopes' space: its lease is anchored in one partition, the free row it overlaps in the other is locked"
    )
    func acrossPartitions() async throws {
        try await Self.withWorld { world in
            let west = Scope(subscriptionId: SampleConfiguration.subscription, region: "westeurope")
            _ = try await world.lease(
                // stock in westeurope
                "west-seed", #"{"SessionId":"west-seed","region":"westeurope","prefixLength":24}"#)
            let westStock = try await world.table.queryAll(
                filter: "PartitionKey eq '\(west.partitionKey)' and State eq 'available'"
            ).compactMap(NetworkRow.init(entity:))
            let foreign = try #require(westStock.first).prefix
            let lease = try await world.lease("east-1")
            let cidr = try #require(lease.string("cidr"))
            await world.deploy("vnet-span", [cidr, foreign.description], lease: lease.string("leaseId"))
            let report = try await world.manager.run()
            #expect(report.complete)
            #expect(try await world.row(cidr)?.state == .anchored)
            let locked = try #require(
                try await world.table.get(partitionKey: west.partitionKey, rowKey: RowKeys.network(foreign)).flatMap(
                    NetworkRow.init(entity:)))
            #expect(locked.state == .occupied && locked.lockedBy?.hasSuffix("vnet-span") == true)
            // Never handed out while the VNet holds it.
            for index in 0..<4 {
                let answer = try await world.lease(
                    "west-\(index)", #"{"SessionId":"west-\#(index)","region":"westeurope","prefixLength":24}"#)
                #expect(try IPPrefix(parsing: try #require(answer.string("cidr"))) != foreign)
            }
            let westRows = try await world.table.queryAll(filter: "PartitionKey eq '\(west.partitionKey)'")
            #expect(InvariantChecker.violations(in: westRows).isEmpty)
            try await world.invariants()
        }
    }

    @Test(
        "LastSeenAt: set when a row is anchored or occupied, refreshed (one transaction for all rows) only once it is older than the refresh interval"
    )
    func lastSeen() async throws {
        try await Self.withWorld { world in
            let now = Date()
            var cidrs: [String] = []
            for index in 0..<3 {
                let lease = try await world.lease("seen-\(index)")
                cidrs.append(try #require(lease.string("cidr")))
                await world.deploy("vnet-seen\(index)", [cidrs[index]], lease: lease.string("leaseId"))
            }
            _ = try await world.manager.run(now: now)
            for cidr in cidrs {
                #expect(
                    abs((try await world.row(cidr)?.lastSeenAt ?? .distantPast).timeIntervalSince(now)) < 0.01,
                    "set with the anchor")
            }
            let before = world.writes.value
            let within = try await world.manager.run(
                now: now.addingTimeInterval(world.manager.settings.lastSeenRefresh - 1))
            #expect(
                within.actions.isEmpty && world.writes.value == before, "within the refresh interval: nothing written")
            let later = now.addingTimeInterval(world.manager.settings.lastSeenRefresh + 1)
            let refreshed = try await world.manager.run(now: later)
            #expect(refreshed.actions == ["seen": 3])
            #expect(
                world.writes.value == before + 2,
                "one transaction for the three rows, and the Manager's status row on the same heartbeat")
            await world.destroy("vnet-seen0")
            _ = try await world.manager.run(now: later.addingTimeInterval(world.manager.settings.lastSeenRefresh + 1))
            let gone = try #require(try await world.row(cidrs[0]))
            #expect(
                abs((gone.lastSeenAt ?? .distantPast).timeIntervalSince(later)) < 0.01,
                "a VNet not in the listing is not refreshed")
            #expect(gone.missingSince != nil)
            try await world.invariants()
        }
    }

    @Test(
        "leased, never deployed → quarantined after expiry + grace → available after the quarantine; the session row goes only then"
    )
    func neverDeployed() async throws {
        try await Self.withWorld { world in
            let lease = try await world.lease("env-b")
            let cidr = try #require(lease.string("cidr"))
            let now = Date()
            _ = try await world.manager.run(now: now.addingTimeInterval(3600 + 30)) // expired, within grace
            #expect(try await world.row(cidr)?.state == .leased)
            _ = try await world.manager.run(now: now.addingTimeInterval(3600 + 61))
            #expect(try await world.row(cidr)?.state == .quarantined)
            #expect(try await world.session("env-b") != nil, "the session row stays during the quarantine")
            // A caller asking for that size during the quarantine gets another block.
            let other = try await world.lease("env-c")
            #expect(other.string("cidr") != cidr)
            _ = try await world.manager.run(now: now.addingTimeInterval(3600 + 61 + 601))
            #expect(try await world.row(cidr)?.state == .available)
            #expect(try await world.session("env-b") == nil)
            try await world.invariants()
        }
    }

    @Test(
        "late deploy: the lease expired and was quarantined, then the VNet appears → re-anchored, never vended meanwhile"
    )
    func lateDeploy() async throws {
        try await Self.withWorld { world in
            let lease = try await world.lease("env-late")
            let cidr = try #require(lease.string("cidr"))
            let now = Date()
            _ = try await world.manager.run(now: now.addingTimeInterval(3600 + 61))
            #expect(try await world.row(cidr)?.state == .quarantined)
            for index in 0..<4 { #expect(try await world.lease("other-\(index)").string("cidr") != cidr) }
            await world.deploy("vnet-late", [cidr], lease: lease.string("leaseId"))
            _ = try await world.manager.run(now: now.addingTimeInterval(3600 + 120))
            let row = try #require(try await world.row(cidr))
            #expect(row.state == .anchored && row.leaseId == lease.string("leaseId"))
            try await world.invariants()
        }
    }

    @Test("anchored, VNet deleted → released only after two complete Syncs and the release grace")
    func vnetDeleted() async throws {
        try await Self.withWorld { world in
            let lease = try await world.lease("env-d")
            let cidr = try #require(lease.string("cidr"))
            await world.deploy("vnet-d", [cidr], lease: lease.string("leaseId"))
            let now = Date()
            _ = try await world.manager.run(now: now)
            await world.destroy("vnet-d")
            _ = try await world.manager.run(now: now.addingTimeInterval(10))
            #expect(try await world.row(cidr)?.state == .anchored, "one complete Sync is not enough")
            _ = try await world.manager.run(now: now.addingTimeInterval(20))
            #expect(try await world.row(cidr)?.state == .anchored, "two Syncs but inside the release grace")
            _ = try await world.manager.run(now: now.addingTimeInterval(10 + 121))
            #expect(try await world.row(cidr)?.state == .quarantined)
            try await world.invariants()
        }
    }

    @Test(
        "Resource Graph fails, throttles past the retries, truncates, or a page fails mid-way → nothing is released; the next complete Sync converges",
        arguments: [ResourceGraphState.FaultMode.error, .truncate, .failPage, .throttle])
    func incompleteListings(mode: ResourceGraphState.FaultMode) async throws {
        try await Self.withWorld { world in
            let first = try await world.lease("env-x")
            let cidr = try #require(first.string("cidr"))
            await world.deploy("vnet-x", [cidr], lease: first.string("leaseId"))
            for index in 0..<3 { await world.deploy("filler-\(index)", ["10.99.\(index).0/24"]) } // more than one page
            let now = Date()
            _ = try await world.manager.run(now: now)
            await world.destroy("vnet-x")
            await world.graph.inject(mode, count: 100)
            for step in 1...3 {
                let report = try await world.manager.run(now: now.addingTimeInterval(Double(step) * 1000))
                #expect(!report.complete)
            }
            #expect(try await world.row(cidr)?.state == .anchored, "an incomplete listing never releases")
            let neverDeployed = try await world.lease("env-y")
            _ = try await world.manager.run(now: now.addingTimeInterval(3600 + 1000))
            #expect(try await world.row(try #require(neverDeployed.string("cidr")))?.state == .leased, "nor reaps")
            await world.graph.clearFaults()
            _ = try await world.manager.run(now: now.addingTimeInterval(5000))
            _ = try await world.manager.run(now: now.addingTimeInterval(5200))
            #expect(try await world.row(cidr)?.state == .quarantined, "two complete Syncs later it converges")
            try await world.invariants()
        }
    }

    @Test("untagged VNet with exactly the leased prefix → anchored; a tagged one with another prefix → drift")
    func untaggedAndDrift() async throws {
        try await Self.withWorld { world in
            let a = try await world.lease("env-u")
            let b = try await world.lease("env-v")
            let cidrA = try #require(a.string("cidr"))
            await world.deploy("vnet-u", [cidrA])
            await world.deploy("vnet-v", ["10.64.250.0/24"], lease: b.string("leaseId"))
            let report = try await world.manager.run()
            #expect(try await world.row(cidrA)?.state == .anchored)
            #expect(try await world.row(try #require(b.string("cidr")))?.state == .leased)
            #expect(report.drift.count == 1 && report.drift[0].contains("10.64.250.0/24"))
            try await world.invariants()
        }
    }

    @Test(
        "unmanaged VNet over stock → occupied; gone for two complete Syncs → available again; its space is never carved"
    )
    func unmanagedVNet() async throws {
        try await Self.withWorld { world in
            _ = try await world.lease("seed") // creates stock
            let stock = try await world.table.queryAll(
                filter: "PartitionKey eq '\(world.scope.partitionKey)' and State eq 'available'"
            ).compactMap(NetworkRow.init(entity:))
            let target = try #require(stock.first).prefix
            await world.deploy("vnet-unmanaged", [target.description, "10.64.200.0/22"])
            _ = try await world.manager.run()
            #expect(try await world.row(target.description)?.state == .occupied)
            #expect(try await world.row("10.64.200.0/22")?.state == .occupied, "space no row covered is recorded")
            for index in 0..<6 {
                let answer = try await world.lease("after-\(index)")
                let got = try IPPrefix(parsing: try #require(answer.string("cidr")))
                let recorded = try IPPrefix(parsing: "10.64.200.0/22")
                #expect(!got.overlaps(target) && !got.overlaps(recorded))
            }
            await world.destroy("vnet-unmanaged")
            _ = try await world.manager.run()
            #expect(try await world.row(target.description)?.state == .occupied)
            _ = try await world.manager.run()
            #expect(try await world.row(target.description)?.state == .available)
            #expect(try await world.row("10.64.200.0/22") == nil, "the observed row is forgotten")
            try await world.invariants()
        }
    }

    @Test("an expired reservation is freed by the Manager (its event says so); one not expired yet stays")
    func reservationsExpire() async throws {
        try await Self.withWorld { world in
            let soon = ISO8601.format(Date().addingTimeInterval(120))
            let later = ISO8601.format(Date().addingTimeInterval(7200))
            let short = try await HTTPCalls.send(
                "POST", world.vendorURL + "/api/reservations",
                body: #"{"cidr":"10.64.240.0/24","owner":"ops","reason":"short","expiresAt":"\#(soon)"}"#)
            let long = try await HTTPCalls.send(
                "POST", world.vendorURL + "/api/reservations",
                body: #"{"cidr":"10.64.241.0/24","owner":"ops","reason":"long","expiresAt":"\#(later)"}"#)
            #expect(short.status == 201 && long.status == 201, "\(short.text) \(long.text)")
            let early = try await world.manager.run(now: Date())
            #expect(early.actions["reservation-expired"] == nil)
            let report = try await world.manager.run(now: Date().addingTimeInterval(600))
            #expect(report.actions["reservation-expired"] == 1, "\(report.actions)")
            #expect(try await world.row("10.64.240.0/24") == nil, "its range is free space again")
            #expect(try await world.row("10.64.241.0/24")?.state == .reserved)
            let listed = try await HTTPCalls.send("GET", world.vendorURL + "/api/reservations")
            #expect(
                listed.json?["reservations"]?.arrayValue?.compactMap { $0["cidr"]?.stringValue }.contains(
                    "10.64.240.0/24") == false)
            let events = try await HTTPCalls.send("GET", world.vendorURL + "/api/events?action=reservation-expired")
            #expect(events.json?["events"]?.arrayValue?.first?["cidr"]?.stringValue == "10.64.240.0/24")
            try await world.invariants()
        }
    }

    @Test(
        "host addresses end with their network lease (released: cleared in batches, events kept); anchored and renewed leases keep theirs; the block's next lease starts empty"
    )
    func hostIPsEndWithTheLease() async throws {
        try await Self.withWorld { world in
            let kept = try await world.lease("hosts-kept")
            let ended = try await world.lease("hosts-ended")
            let keptId = try #require(kept.string("leaseId"))
            let endedId = try #require(ended.string("leaseId"))
            let endedBlock = try #require(ended.string("cidr"))
            // 130 addresses: more than one transaction's worth of rows
            for (id, count) in [(keptId, 3), (endedId, 130)] {
                for index in 0..<count {
                    let answer = try await HTTPCalls.send(
                        "POST", world.vendorURL + "/api/leases/\(id)/ips", body: #"{"principal":"vm-\#(index)"}"#)
                    #expect(answer.status == 201, "\(answer.text)")
                }
            }
            await world.deploy("vnet-kept", [try #require(kept.string("cidr"))], lease: keptId)
            #expect(
                try await HTTPCalls.send(
                    "POST", world.vendorURL + "/api/renewLease", body: #"{"SessionId":"hosts-ended"}"#
                ).status == 200)
            let first = try await world.manager.run()
            #expect(first.hostIPs.cleared == 0, "an anchored and a renewed lease keep their addresses")
            let inventory = world.manager.inventory
            #expect(try await inventory.hostIPAllocations(leaseId: keptId).count == 3)

            #expect(
                try await HTTPCalls.send(
                    "POST", world.vendorURL + "/api/releaseNetwork", body: #"{"SessionId":"hosts-ended"}"#
                ).status == 200)
            let second = try await world.manager.run()
            #expect(
                second.hostIPs.cleared == 1 && second.hostIPs.rowsDeleted == 261,
                "130 addresses, their 130 members and the owner's row: \(second.hostIPs)")
            let left = try await world.table.queryAll(filter: "PartitionKey eq 'ips_\(endedId)'")
            #expect(left.allSatisfy { $0.rowKey.hasPrefix(RowKeys.eventPrefix) }, "only the events stay")
            #expect(left.contains { $0["Action"]?.stringValue == "host-ips-cleared" })
            #expect(try await inventory.hostIPAllocations(leaseId: keptId).count == 3)
            #expect(try await inventory.hostIPViolations(leaseId: keptId) == [])
            let third = try await world.manager.run()
            #expect(third.hostIPs == HostIPCleanup.Report(), "nothing left to clear")
            let gone = try await HTTPCalls.send("GET", world.vendorURL + "/api/leases/\(endedId)/ips")
            #expect(gone.status == 410 && gone.code == "LeaseEnded")

            // After the quarantine the block is stock again; whoever leases it next starts with no addresses.
            let returned = try await world.manager.run(
                now: Date().addingTimeInterval(world.manager.settings.quarantine + 60))
            #expect(try await world.row(endedBlock)?.state == .available, "\(returned.actions)")
            var next: HTTPAnswer? = nil
            for index in 0..<40 {
                let answer = try await world.lease("hosts-next-\(index)")
                if answer.string("cidr") == endedBlock {
                    next = answer
                    break
                }
            }
            let again = try #require(next, "the released block is handed out again")
            let nextId = try #require(again.string("leaseId"))
            #expect(
                try await HTTPCalls.send("GET", world.vendorURL + "/api/leases/\(nextId)/ips").json?["ips"]?.arrayValue?
                    .count == 0)
            let fresh = try await HTTPCalls.send("POST", world.vendorURL + "/api/leases/\(nextId)/ips", body: "{}")
            #expect(
                fresh.string("ip")
                    == HostAddresses(subnet: try IPPrefix(parsing: endedBlock)).address(at: 4).description)
            try await world.invariants()
        }
    }
}

@Suite("Missing Reader role")
struct MissingReaderTests {
    @Test(
        "the identity loses Reader on the subscription: its VNets vanish from Resource Graph, yet no anchored lease is counted missing or released"
    )
    func readerRoleMissing() async throws {
        try await TerraformGapTests.withWorld { world in
            let answer = try await world.lease("reader-1")
            let cidr = try #require(answer.string("cidr"))
            let lease = try #require(answer.string("leaseId"))
            await world.deploy("vnet-reader", [cidr], lease: lease)
            #expect(try await world.manager.run().actions["anchor"] == 1)
            await world.graph.deny([SampleConfiguration.subscription])
            var later = Date()
            for _ in 0..<3 {
                later = later.addingTimeInterval(3600) // far past the release grace each time
                let report = try await world.manager.run(now: later)
                #expect(!report.complete && report.problems.contains { $0.contains("Reader") }, "\(report.problems)")
                #expect(report.actions["missing"] == nil && report.actions["release"] == nil)
            }
            let row = try #require(try await world.row(cidr))
            #expect(row.state == .anchored && row.missingCount == 0, "never concluded from a listing it could not see")
            try await world.invariants()
        }
    }

}

@Suite("Manager interrupted mid-run")
struct InterruptedRunTests {
    @Test("a run that applied only part of its changes (killed) is finished by the next run: nothing lost or doubled")
    func resumes() async throws {
        try await TerraformGapTests.withWorld { world in
            let leases = try await world.deployedLeases("k", count: 6)
            // The first Manager got as far as half of its row changes, then died.
            let plan = try await world.plan()
            #expect(plan.changes.count == 6)
            var partial = ManagerRun.Report()
            try await world.manager.apply(
                Array(plan.changes.prefix(3)), scope: world.scope, now: Date(), report: &partial)
            #expect(partial.actions["anchor"] == 3)
            let report = try await world.manager.run()
            #expect(report.actions["anchor"] == 3, "the next run does exactly the rest")
            for (cidr, lease) in leases {
                let row = try #require(try await world.row(cidr))
                #expect(row.state == .anchored && row.leaseId == lease)
            }
            let events = try await world.table.queryAll(
                filter: "PartitionKey eq '\(world.scope.partitionKey)' and Action eq 'anchor'")
            #expect(events.count == 6, "one anchor event per lease: nothing doubled")
            try await world.invariants()
        }
    }

    @Test(
        "many row changes share transactions; one whose row changed meanwhile is left for the next run without holding back the rest"
    )
    func batchedChanges() async throws {
        try await TerraformGapTests.withWorld { world in
            let leases = try await world.deployedLeases("b", count: 40)
            let plan = try await world.plan()
            #expect(plan.changes.count == 40)
            // A Vendor renews one lease after the plan was made: that row's ETag no longer matches.
            let renewed = try await HTTPCalls.send(
                "POST", world.vendorURL + "/api/renewLease", body: #"{"SessionId":"b-7"}"#)
            #expect(renewed.status == 200, "\(renewed.text)")
            var report = ManagerRun.Report()
            try await world.manager.apply(plan.changes, scope: world.scope, now: Date(), report: &report)
            #expect(report.actions["anchor"] == 39 && report.conflicts == 1)
            #expect(report.transactions < 10, "\(report.transactions) transactions for 40 changes")
            #expect(try await world.row(leases[7].0)?.state == .leased)
            let next = try await world.manager.run()
            #expect(next.actions["anchor"] == 1, "the next run anchors the one left")
            try await world.invariants()
        }
    }

}

@Suite("Manager status in the table")
struct ManagerStatusTests {
    @Test(
        "each run's status and drift report are stored: written when they change (or on the heartbeat), the last complete Sync kept through incomplete runs"
    )
    func stored() async throws {
        try await TerraformGapTests.withWorld { world in
            let lease = try await world.lease("status-1")
            let cidr = try #require(lease.string("cidr"))
            await world.deploy("vnet-status", [cidr], lease: lease.string("leaseId"))
            // space ipam does not manage: the drift report names it
            await world.deploy("vnet-unmanaged", ["10.64.250.0/24"])
            let now = Date()
            _ = try await world.manager.run(now: now)
            let first = try #require(try await world.manager.inventory.managerStatus())
            #expect(first.complete && first.lastCompleteSyncAt.map { abs($0.timeIntervalSince(now)) < 0.01 } == true)
            #expect(first.drift.contains { $0.kind == "occupied" && $0.cidr == "10.64.250.0/24" }, "\(first.drift)")
            // the newly recorded occupied row gets its LastSeenAt
            _ = try await world.manager.run(now: now.addingTimeInterval(30))
            let before = world.writes.value
            let third = try await world.manager.run(now: now.addingTimeInterval(60))
            #expect(world.writes.value == before, "nothing changed: nothing written (\(third.actions))")
            await world.graph.inject(.error, count: 10)
            _ = try await world.manager.run(now: now.addingTimeInterval(120))
            let incomplete = try #require(try await world.manager.inventory.managerStatus())
            #expect(!incomplete.complete && !incomplete.problems.isEmpty)
            #expect(
                incomplete.lastCompleteSyncAt.map { abs($0.timeIntervalSince(now)) < 0.01 } == true,
                "the last complete Sync is kept")
            await world.graph.clearFaults()
        }
    }
}
