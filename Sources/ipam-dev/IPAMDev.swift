import ArgumentParser
import AzureCore
import AzureTables
import Foundation
import HTTPTransport
import IPAMBootstrap
import Synchronization

/// `ipam-dev`: developer tools — a storage smoke round trip and benchmarks.
@main
struct IPAMDev: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ipam-dev",
        abstract: "Developer tools for ipam: smoke round trips, benchmarks and the chaos soak against a local stack.",
        subcommands: [Smoke.self, Bench.self, Soak.self, WebhookReceiver.self, AWSTools.self])
}

/// Options naming the Table endpoint.
struct StorageOptions: ParsableArguments {
    @Option(help: "Storage connection string (default: AzureWebJobsStorage, else UseDevelopmentStorage=true).")
    var connectionString: String?

    /// The storage these options name, through the composition root.
    func opened() throws -> Bootstrap.DevelopmentStorage {
        try Bootstrap.developmentStorage(connectionString: connectionString)
    }
}

struct Smoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Round trip through the Table client: table, insert, conditional merge, 412, query, transaction.")
    @OptionGroup var storage: StorageOptions

    func run() async throws {
        let opened = try storage.opened()
        let connection = opened.connection
        let service = try opened.service()
        let name = "smoke" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10).lowercased()
        print("storage: \(connection.tableEndpoint)")
        try await service.createTable(name)
        print("created table \(name)")
        let table = service.table(name)
        let etag = try await table.insert(
            TableEntity(
                partitionKey: "demo", rowKey: "net_010.064.000.000_24", properties: ["State": .string("available")]))
        print("inserted demo/net_010.064.000.000_24 etag=\(etag)")
        let leased = try await table.merge(
            TableEntity(
                partitionKey: "demo", rowKey: "net_010.064.000.000_24",
                properties: ["State": .string("leased"), "LeaseId": .guid(UUID())]), ifMatch: .etag(etag))
        print("claimed it with If-Match: new etag=\(leased)")
        do {
            try await table.merge(
                TableEntity(
                    partitionKey: "demo", rowKey: "net_010.064.000.000_24", properties: ["State": .string("leased")]),
                ifMatch: .etag(etag))
            throw ValidationError("a stale ETag was accepted")
        } catch let error as AzureError where error.isPreconditionFailed {
            print("a second claim with the old etag got 412 \(error.errorCode ?? "")")
        }
        try await table.submitTransaction(
            (1...3).map {
                .insert(
                    TableEntity(
                        partitionKey: "demo", rowKey: "net_010.064.00\($0).000_24",
                        properties: ["State": .string("available")]))
            })
        let available = try await table.queryAll(filter: "PartitionKey eq 'demo' and State eq 'available'")
        print("transaction added 3 rows; available now: \(available.map(\.rowKey).joined(separator: ", "))")
        try await service.deleteTable(name)
        print("smoke: ok")
    }
}

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks that print figures (never asserted in tests).",
        subcommands: [
            StorageBench.self, VendorBench.self, ManagerBench.self, ManagerMemoryBench.self, ManagerAWSBench.self,
            PartitionBench.self,
        ])
}

struct StorageBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage",
        abstract:
            "Table endpoint throughput: insert, conditional merge, point read, 1,000-row query, 100-op transaction.")
    @OptionGroup var storage: StorageOptions
    @Option(help: "Concurrent workers.") var concurrency = 16
    @Option(help: "Seconds per measurement.") var seconds = 3.0

    func run() async throws {
        let opened = try storage.opened()
        let connection = opened.connection
        let service = try opened.service()
        let name = "bench" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10).lowercased()
        try await service.createTable(name)
        let table = service.table(name)
        print("endpoint: \(connection.tableEndpoint); \(concurrency) workers; \(seconds) s per figure")
        print(String(repeating: "-", count: 64))

        let inserts = try await measure("insert") { worker, i in
            try await table.insert(
                TableEntity(
                    partitionKey: "p\(worker)", rowKey: String(format: "r%08d", i),
                    properties: ["State": .string("available"), "n": .int32(Int32(i))]))
        }
        // One row per worker, merged with its current ETag (no conflicts: measures the conditional write path).
        let etags = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for worker in 0..<concurrency {
                group.addTask { (worker, try await table.insert(TableEntity(partitionKey: "m", rowKey: "w\(worker)"))) }
            }
            return try await group.reduce(into: [Int: String]()) { $0[$1.0] = $1.1 }
        }
        let current = EtagBox(etags)
        let merges = try await measure("conditional merge") { worker, i in
            let next = try await table.merge(
                TableEntity(partitionKey: "m", rowKey: "w\(worker)", properties: ["n": .int32(Int32(i))]),
                ifMatch: .etag(current.get(worker)))
            current.set(worker, next)
        }
        let reads = try await measure("point read") { worker, i in
            _ = try await table.get(partitionKey: "p\(worker)", rowKey: String(format: "r%08d", i % 100))
        }
        for chunk in 0..<10 {
            try await table.submitTransaction(
                (0..<100).map {
                    .insert(
                        TableEntity(
                            partitionKey: "q", rowKey: String(format: "r%05d", chunk * 100 + $0),
                            properties: ["v": .int32(Int32($0))]))
                })
        }
        let queries = try await measure("1,000-row partition query") { _, _ in
            let rows = try await table.queryAll(filter: "PartitionKey eq 'q'")
            precondition(rows.count == 1000)
        }
        let batches = try await measure("100-op transaction") { worker, i in
            try await table.submitTransaction(
                (0..<100).map { .insert(TableEntity(partitionKey: "b\(worker)-\(i)", rowKey: "r\($0)")) })
        }
        try await service.deleteTable(name)
        print(String(repeating: "-", count: 64))
        print(
            String(
                format: "storage: insert %.0f/s; merge %.0f/s; read %.0f/s; query(1000) %.1f/s; batch(100) %.1f/s",
                inserts, merges, reads, queries, batches))
    }

    /// Runs `operation` on all workers for the configured time; prints and returns operations per second.
    func measure(_ label: String, _ operation: @escaping @Sendable (Int, Int) async throws -> Void) async throws
        -> Double
    {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        let start = ContinuousClock.now
        let count = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var done = 0
                    while ContinuousClock.now < deadline {
                        try await operation(worker, done)
                        done += 1
                    }
                    return done
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = (ContinuousClock.now - start).seconds
        let rate = Double(count) / elapsed
        let padded = label.padding(toLength: 28, withPad: " ", startingAt: 0)
        print(padded + String(format: " %9.1f ops/s  (%d in %.2f s)", rate, count, elapsed))
        return rate
    }
}

/// Per-worker ETags shared by the merge benchmark's tasks.
final class EtagBox: Sendable {
    private let values: Mutex<[Int: String]>
    init(_ values: [Int: String]) { self.values = Mutex(values) }
    func get(_ worker: Int) -> String { values.withLock { $0[worker]! } }
    func set(_ worker: Int, _ value: String) { values.withLock { $0[worker] = value } }
}
