import AWSClient
import AzureTables
import Foundation
import IPAMCore
import Inventory
import Logging
import ManagerJobs
import NetworkMath
import TestSupport
import Testing

/// The Manager on AWS scopes, against moto_server (AWS's API emulator) playing EC2: a Vendor over HTTP vends from an
/// AWS scope, VPCs are made and deleted through EC2's own API, and the Manager's runs (time moved through
/// `run(now:)`, never slept) anchor, release, occupy and hold as on Azure.
@Suite("The Manager on AWS", .enabled(if: MotoServer.shouldRun, "moto_server is not installed (scripts/setup-python)"))
struct AWSManagerTests {
    static let account = EC2DiscoveryTests.account
    static let east = Scope(awsAccountId: account, region: "us-east-1")
    static let west = Scope(awsAccountId: account, region: "us-west-2")

    struct World: Sendable {
        let vendorURL: String
        let table: TableClient
        let configuration: IPAMConfiguration
        let moto: MotoServer
        let settings: ManagerSettings
        let inventory: Inventory

        /// A run over every configured scope: the Azure ones listed (empty) by a scripted provider, the AWS ones by
        /// `EC2Discovery` on moto, except a region given a dead endpoint.
        func manager(deadRegions: Set<String> = []) throws -> ManagerRun {
            let azure = ScriptedDiscovery(
                provider: .azure, scopes: Set(configuration.scopes.keys.filter { $0.cloud == .azure }))
            var clients: [EC2Client] = []
            for scope in configuration.scopes.keys where scope.cloud == .aws {
                let endpoint =
                    deadRegions.contains(scope.region) ? "http://127.0.0.1:\(try MotoServer.freePort())" : moto.url
                clients.append(EC2DiscoveryTests.client(endpoint, region: scope.region))
            }
            return ManagerRun(
                configuration: configuration, settings: settings, inventory: inventory,
                discovery: [azure, EC2Discovery(clients: clients, logger: EC2DiscoveryTests.quiet)],
                logger: EC2DiscoveryTests.quiet)
        }

        func lease(_ session: String) async throws -> HTTPAnswer {
            try await HTTPCalls.send(
                "POST", vendorURL + "/api/getNewNetwork", body: #"{"SessionId":"\#(session)","prefixLength":24}"#)
        }

        func row(_ cidr: String, in scope: Scope = AWSManagerTests.east) async throws -> NetworkRow? {
            try await table.get(partitionKey: scope.partitionKey, rowKey: RowKeys.network(try IPPrefix(parsing: cidr)))
                .flatMap(NetworkRow.init(entity:))
        }

        func rows(_ state: NetworkState, in scope: Scope = AWSManagerTests.east) async throws -> [NetworkRow] {
            try await table.queryAll(filter: "PartitionKey eq '\(scope.partitionKey)' and State eq '\(state.rawValue)'")
                .compactMap(NetworkRow.init(entity:))
        }
    }

    /// A Vendor whose default scope is AWS account 123456789012 in us-east-1 (a /22: four /24s, two in stock), with
    /// us-west-2 beside it and the sample's Azure scopes; moto_server fresh.
    static func withWorld(_ body: @Sendable (World) async throws -> Void) async throws {
        let azure = SampleConfiguration.subscription
        let environment = [
            "LEASE_DURATION_HOURS": "1",
            "SUPERNETS_CONFIG": """
            [{"subscriptionId":"\(azure)","regions":[{"region":"eastus","supernets":["10.64.0.0/16"]}]},
             {"cloud":"aws","accountId":"\(account)","regions":[{"region":"us-east-1","supernets":["10.80.0.0/22"]},
              {"region":"us-west-2","supernets":["10.81.0.0/22"]}]}]
            """,
            "SCOPE_CONFIG_MANIFEST": """
            {"defaultScope":{"cloud":"aws","accountId":"\(account)","region":"us-east-1"},
             "scopes":[{"cloud":"aws","accountId":"\(account)","region":"us-east-1","stock":{"24":2}}]}
            """,
        ]
        try await MotoServer.with { moto in
            try await VendorHarness.withVendor(environment: environment) { url, table, configuration in
                let service = try await TestStorage.service()
                var settings = ManagerSettings()
                settings.reapGrace = 60
                settings.releaseGrace = 120
                settings.quarantine = 600
                try await body(
                    World(
                        vendorURL: url, table: table, configuration: configuration, moto: moto, settings: settings,
                        inventory: Inventory(table: service.table(table.name), actor: "manager-test")))
            }
        }
    }

    @Test(
        "a VPC tagged with its lease anchors it; deleted, the lease is released after two complete Syncs and the grace, its block quarantined; an unmanaged VPC's space is recorded occupied and never vended"
    )
    func anchorReleaseOccupy() async throws {
        try await Self.withWorld { world in
            let manager = try world.manager()
            let lease = try await world.lease("aws-env-a")
            #expect(lease.status == 201, "\(lease.text)")
            let cidr = try #require(lease.string("cidr"))
            let leaseId = try #require(lease.string("leaseId"))
            let vpc = try await EC2DiscoveryTests.createVpc(
                world.moto, region: "us-east-1", cidr: cidr, tags: [LeaseTag.name: leaseId, "Name": "env-a"])
            // An unmanaged VPC (no lease) over a block in stock.
            let stocked = try #require(try await world.rows(.available).first).prefix
            let unmanaged = try await EC2DiscoveryTests.createVpc(
                world.moto, region: "us-east-1", cidr: stocked.description)

            let start = Date()
            let first = try await manager.run(now: start)
            #expect(first.complete, "\(first.problems)")
            let anchored = try #require(try await world.row(cidr))
            #expect(anchored.state == .anchored && anchored.resourceId == vpc && anchored.expiresAt == nil)
            let occupied = try #require(try await world.row(stocked.description))
            #expect(occupied.state == .occupied && occupied.lockedBy == unmanaged)
            #expect(try await manager.run(now: start.addingTimeInterval(1)).actions.isEmpty, "nothing changed")

            // Every other block is vended; none is the unmanaged VPC's.
            var vended: [String] = []
            for index in 0..<4 {
                let answer = try await world.lease("aws-fill-\(index)")
                guard answer.status == 201, let block = answer.string("cidr") else { break }
                vended.append(block)
            }
            #expect(!vended.isEmpty && !vended.contains(stocked.description), "\(vended)")
            for block in vended { #expect(!(try IPPrefix(parsing: block)).overlaps(stocked)) }

            // Terraform destroys the lease's VPC: missing once, then released after the grace.
            try await EC2DiscoveryTests.deleteVpc(world.moto, region: "us-east-1", id: vpc)
            let grace = world.settings.releaseGrace
            let once = try await manager.run(now: start.addingTimeInterval(10))
            #expect(once.actions[AuditAction.missing.rawValue] == 1, "\(once.actions)")
            #expect(try await world.row(cidr)?.state == .anchored)
            let twice = try await manager.run(now: start.addingTimeInterval(10 + grace + 1))
            #expect(twice.actions[AuditAction.release.rawValue] == 1, "\(twice.actions)")
            #expect(try await world.row(cidr)?.state == .quarantined)
            // The unmanaged VPC is still there: its block stays occupied.
            #expect(try await world.row(stocked.description)?.state == .occupied)
            let events = try await HTTPCalls.send("GET", world.vendorURL + "/api/events?leaseId=\(leaseId)")
            #expect(events.text.contains("release") && events.text.contains(vpc), "\(events.text)")
        }
    }

    @Test(
        "a region answering no one (a dead endpoint): its scope incomplete and named, nothing released there however long; the other region complete; answering again, the release follows the rules"
    )
    func deadRegionReleasesNothing() async throws {
        try await Self.withWorld { world in
            let healthy = try world.manager()
            let lease = try await world.lease("aws-env-b")
            let cidr = try #require(lease.string("cidr"))
            let vpc = try await EC2DiscoveryTests.createVpc(
                world.moto, region: "us-east-1", cidr: cidr,
                tags: [LeaseTag.name: try #require(lease.string("leaseId"))])
            let start = Date()
            _ = try await healthy.run(now: start)
            #expect(try await world.row(cidr)?.state == .anchored)

            try await EC2DiscoveryTests.deleteVpc(world.moto, region: "us-east-1", id: vpc)
            let dead = try world.manager(deadRegions: ["us-east-1"])
            let grace = world.settings.releaseGrace
            for offset in [10, 20 + grace, 30 + 2 * grace] {
                let report = try await dead.run(now: start.addingTimeInterval(offset))
                #expect(!report.complete && report.incompleteScopes == [Self.east], "\(report.incompleteScopes)")
                #expect(
                    report.problems.contains { $0.contains("AWS account \(Self.account) region us-east-1") },
                    "\(report.problems)")
                let row = try await world.row(cidr)
                #expect(row?.state == .anchored && row?.missingCount == 0)
            }
            let status = try #require(try await world.inventory.managerStatus())
            #expect(!status.complete && status.problems.contains { $0.contains("region us-east-1") })

            // The region answers again: two complete Syncs and the grace release it.
            _ = try await healthy.run(now: start.addingTimeInterval(40 + 2 * grace))
            _ = try await healthy.run(now: start.addingTimeInterval(50 + 3 * grace + 1))
            #expect(try await world.row(cidr)?.state == .quarantined)
        }
    }
}
