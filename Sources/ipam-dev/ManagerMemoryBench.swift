import ArgumentParser
import AzureTables
import Foundation
import IPAMBootstrap
import IPAMCore
import Inventory
import Logging
import ManagerJobs
import NetworkMath
import ResourceGraphEmulator
import Soak

/// `ipam-dev bench manager-memory`: what a Manager's run holds in memory for each row of its scope.
///
/// A run reads and plans over every network row of its scope at once, so its peak resident memory follows the
/// partition's size. This fills a scope with leased rows shaped as the Vendor writes them (lease id, session,
/// request hash, requester, owner, tags, quota keys), runs the Manager in this process over an empty, complete
/// listing (nothing to change: every lease is unexpired) and reports the peak resident memory of each run above
/// what the process held before it.
struct ManagerMemoryBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manager-memory",
        abstract: "A Manager run's peak resident memory per network row of its scope (Linux).")
    @OptionGroup var storage: StorageOptions
    @Option(help: "Leased network rows in the scope (/28s of 10.0.0.0/8).") var rows = 200_000
    @Option(help: "Runs measured, one after another.") var runs = 3

    func run() async throws {
        let opened = try storage.opened()
        let service = try opened.service()
        let tableName = "benchmem" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(8).lowercased()
        try await service.createTable(tableName)
        let subscription = "11111111-1111-1111-1111-111111111111"
        let configuration = try IPAMConfiguration.load(environment: [
            "AzureWebJobsStorage": "x", "IPAM_TABLE_NAME": tableName,
            "SUPERNETS_CONFIG":
                #"[{"subscriptionId":"\#(subscription)","regions":[{"region":"eastus","supernets":["10.0.0.0/8"]}]}]"#,
            "SCOPE_CONFIG_MANIFEST": #"{"defaultScope":{"subscriptionId":"\#(subscription)","region":"eastus"}}"#,
        ])
        let scope = configuration.defaultScope
        let table = service.table(tableName)
        print("writing \(rows) leased rows ...")
        try await Self.fill(table, partitionKey: scope.partitionKey, rows: rows, now: Date())

        let (graph, server) = try await ManagerBench.resourceGraph(ResourceGraphState(), transport: opened.transport)
        defer { server.cancel() }
        let manager = ManagerRun(
            configuration: configuration, settings: ManagerSettings(),
            inventory: Inventory(table: table, actor: "bench"), resourceGraph: graph,
            logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }))
        for index in 1...max(1, runs) {
            let before = Self.resetPeak()
            let report = try await manager.run()
            let peak = MemorySamples.residentKiB(pid: getpid(), field: "VmHWM") ?? 0
            let after = MemorySamples.residentKiB(pid: getpid()) ?? 0
            let held = Double(max(0, peak - before))
            print(
                String(
                    format:
                        "run %d over %d rows: resident %.1f MiB before, peak %.1f MiB (+%.1f MiB: %.2f KiB per row), "
                        + "%.1f MiB after; actions %@",
                    index, rows, Double(before) / 1024, Double(peak) / 1024, held / 1024, held / Double(rows),
                    Double(after) / 1024, "\(report.actions)" as NSString))
        }
        try await service.deleteTable(tableName)
    }

    /// Resets this process's peak resident memory (`VmHWM`) to its current resident memory (Linux's
    /// `/proc/self/clear_refs`), and answers that, in KiB.
    static func resetPeak() -> Int {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
        return MemorySamples.residentKiB(pid: getpid()) ?? 0
    }

    /// `rows` leased /28 rows in `partitionKey`, 100 to a transaction, four transactions at a time.
    static func fill(_ table: TableClient, partitionKey: String, rows: Int, now: Date) async throws {
        let batches = stride(from: 0, to: rows, by: 100).map { $0..<min($0 + 100, rows) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (number, batch) in batches.enumerated() {
                if number >= 4 { try await group.next() }
                group.addTask {
                    try await table.submitTransaction(
                        batch.map { .insertOrReplace(leasedRow($0, now: now).entity(partitionKey: partitionKey)) })
                }
            }
            try await group.waitForAll()
        }
    }

    /// The `index`th /28 of 10.0.0.0/8, leased for four hours with the facts a Vendor's claim writes.
    static func leasedRow(_ index: Int, now: Date) -> NetworkRow {
        let prefix = IPPrefix(address: IPAddress(v4: 0x0A00_0000 | UInt32(index) << 4), length: 28)!
        let id = String(format: "%032x", index)
        let lease = NetworkRow.Lease(
            id: id, sessionId: "soak-\(UUID().uuidString.lowercased())",
            requestHash: String(repeating: id, count: 2), requester: "client-\(index % 8)", leasedAt: now,
            expiresAt: now.addingTimeInterval(4 * 3600), ownerKey: "key:\(String(format: "%016x", index % 8))",
            sealedOwner: "sealed:\(String(repeating: "ab", count: 16))",
            tags: ["env": "bench", "owner": "team-\(index % 5)"])
        return NetworkRow(prefix: prefix, holding: .leased(lease, vnet: nil))
    }
}
