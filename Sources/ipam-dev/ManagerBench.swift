import ArgumentParser
import AzureCore
import AzureTables
import Foundation
import HTTPTransport
import IPAMBootstrap
import IPAMCore
import Inventory
import Logging
import ManagerJobs
import NetworkMath
import ResourceGraph
import ResourceGraphEmulator
import Synchronization
import TableEmulator

/// `ipam-dev bench manager`: Sync cost at scale — a scope of 65,536 blocks, 100,000 VNets.
struct ManagerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manager",
        abstract: "First Sync, unchanged Sync and one-change Sync over 65,536 blocks and 100,000 VNets.")
    @OptionGroup var storage: StorageOptions
    @Option(help: "Blocks in the scope (/24s of 10.0.0.0/8).") var blocks = 65_536
    @Option(help: "VNets in Resource Graph.") var vnets = 100_000
    @Option(help: "Of those, VNets that overlap blocks of the scope (unmanaged).") var overlapping = 1_000

    final class Counts: Sendable {
        private let state = Mutex<(reads: Int, writes: Int)>((0, 0))
        func observe(_ record: AzurePipeline.AttemptRecord) {
            state.withLock { if record.method == "GET" { $0.reads += 1 } else { $0.writes += 1 } }
        }
        func take() -> (reads: Int, writes: Int) {
            state.withLock {
                let value = $0
                $0 = (0, 0)
                return value
            }
        }
    }

    func run() async throws {
        let opened = try storage.opened()
        let counts = Counts()
        let transport = opened.transport
        let service = try opened.service(onAttempt: { counts.observe($0) })
        let tableName = "benchmgr" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(8).lowercased()
        try await service.createTable(tableName)
        let subscription = "11111111-1111-1111-1111-111111111111"
        let environment: [String: String] = [
            "AzureWebJobsStorage": "x", "IPAM_TABLE_NAME": tableName,
            "SUPERNETS_CONFIG":
                #"[{"subscriptionId":"\#(subscription)","regions":[{"region":"eastus","supernets":["10.0.0.0/8"]}]}]"#,
            "SCOPE_CONFIG_MANIFEST": #"{"defaultScope":{"subscriptionId":"\#(subscription)","region":"eastus"}}"#,
        ]
        let configuration = try IPAMConfiguration.load(environment: environment)
        let scope = configuration.defaultScope
        let inventory = Inventory(table: service.table(tableName), actor: "bench")

        print("populating \(blocks) /24 blocks (with stock rows) ...")
        let started = ContinuousClock.now
        let all = (0..<blocks).map { IPPrefix(address: IPAddress(v4: 0x0A00_0000 | UInt32($0) << 8), length: 24)! }
        _ = try await inventory.addStock(all, in: scope, now: Date(), detail: "bench")
        print(String(format: "populated in %.1f s", (ContinuousClock.now - started).seconds))

        var observed: [VirtualNetwork] = []
        for index in 0..<vnets {
            let inside = index < overlapping
            // Inside: distinct /24s spread over the scope; outside: /27s of 100.64.0.0/10, which the scope does not use.
            let prefix =
                inside
                ? "\(IPAddress(v4: 0x0A00_0000 | UInt32((index * 37) % blocks) << 8))/24"
                : "\(IPAddress(v4: 0x6440_0000 | UInt32(index) << 5))/27"
            observed.append(
                VirtualNetwork(
                    id:
                        "/subscriptions/\(subscription)/resourceGroups/rg\(index % 50)/providers/Microsoft.Network/virtualNetworks/vnet\(index)",
                    name: "vnet\(index)", subscriptionId: subscription, resourceGroup: "rg\(index % 50)",
                    location: "eastus", addressPrefixes: [prefix]))
        }
        let state = ResourceGraphState(vnets: observed)
        let (graph, server) = try await Self.resourceGraph(state, transport: transport)
        defer { server.cancel() }
        let manager = ManagerRun(
            configuration: configuration, settings: ManagerSettings(), inventory: inventory, resourceGraph: graph,
            logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }))
        print(String(repeating: "-", count: 90))
        _ = counts.take()
        func measure(_ label: String) async throws -> (Double, Int, Int, ManagerRun.Report) {
            let pagesBefore = await state.pageCount()
            let start = ContinuousClock.now
            let report = try await manager.run()
            let seconds = (ContinuousClock.now - start).seconds
            let (reads, writes) = counts.take()
            print(
                String(
                    format:
                        "%-34@ %7.2f s  store reads %6d  store writes (transactions) %6d  Resource Graph pages %d  actions %@",
                    label as NSString, seconds, reads, writes, await state.pageCount() - pagesBefore,
                    "\(report.actions)" as NSString))
            return (seconds, reads, writes, report)
        }
        let first = try await measure("first Sync")
        let second = try await measure("second Sync, nothing changed")
        await state.upsert(
            VirtualNetwork(
                id:
                    "/subscriptions/\(subscription)/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/new-one",
                name: "new-one", subscriptionId: subscription, resourceGroup: "rg", location: "eastus",
                addressPrefixes: ["10.255.255.0/24"]))
        let third = try await measure("one change among \(vnets) VNets")
        print(String(repeating: "-", count: 90))
        print(
            String(
                format:
                    "manager: first sync %.1f s / %d writes; unchanged sync %.1f s / %d writes; one change %.1f s / %d writes",
                first.0, first.2, second.0, second.2, third.0, third.2))
        try await service.deleteTable(tableName)
    }

    /// A Resource Graph emulator over `state`, served on a free local port by this process, and a client of it.
    static func resourceGraph(_ state: ResourceGraphState, transport: any HTTPTransport) async throws -> (
        ResourceGraphClient, Task<Void, any Error>
    ) {
        let emulator = ResourceGraphEmulator(state: state, pageSize: 1000)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let server = Task {
            try await emulator.run(
                host: "127.0.0.1", port: 0, logger: Logger(label: "arg", factory: { _ in SwiftLogNoOpLogHandler() })
            ) { continuation.yield($0) }
        }
        var port = 0
        for await value in ports {
            port = value
            break
        }
        let client = ResourceGraphClient(
            endpoint: "http://127.0.0.1:\(port)",
            pipeline: AzurePipeline(
                transport: transport,
                authorizer: BearerTokenAuthorizer(credential: StaticTokenCredential("local"), scope: .management)))
        return (client, server)
    }
}
