import AzureCore
import AzureTables
import Foundation
import TestSupport
import Testing

/// Runs the real `table-emulator` executable, kills it with SIGKILL and restarts it on the same data.
@Suite("table-emulator durability", .serialized)
struct DurabilityTests {
    static func launch(_ stack: ProcessStack, location: String, extra: [String] = []) async throws -> Int {
        try await stack.launch("table-emulator", arguments: ["--port", "0", "--location", location] + extra)
    }

    static func client(port: Int) throws -> TableServiceClient {
        try TableServiceClient(
            connectionString: StorageConnectionString(
                accountName: StorageConnectionString.developmentAccountName,
                accountKey: StorageConnectionString.developmentAccountKey,
                tableEndpoint: "http://127.0.0.1:\(port)/devstoreaccount1"), transport: TestStorage.transport,
            retryPolicy: .none)
    }

    @Test("every acknowledged write survives kill -9 and a restart on the same --location")
    func survivesSigkill() async throws {
        let location = NSTemporaryDirectory() + "ipam-durability-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: location) }
        let stack = ProcessStack()
        defer { stack.stopAll() }
        var port = try await Self.launch(stack, location: location)
        var service = try Self.client(port: port)
        try await service.createTable("durable")
        let writer = service.table("durable")
        var expected: [String: Int32] = [:]
        // Concurrent single writes, transactions, merges and deletes, each acknowledged before the kill.
        try await withThrowingTaskGroup(of: [(String, Int32)].self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var done: [(String, Int32)] = []
                    for i in 0..<40 {
                        let key = "w\(worker)-\(i)"
                        try await writer.insert(
                            TableEntity(partitionKey: "p\(worker)", rowKey: key, properties: ["v": .int32(Int32(i))]))
                        done.append(("p\(worker)/\(key)", Int32(i)))
                    }
                    try await writer.merge(
                        TableEntity(
                            partitionKey: "p\(worker)", rowKey: "w\(worker)-0", properties: ["v": .int32(1000)]),
                        ifMatch: .any)
                    done.append(("p\(worker)/w\(worker)-0", 1000))
                    try await writer.delete(partitionKey: "p\(worker)", rowKey: "w\(worker)-1")
                    done.append(("p\(worker)/w\(worker)-1", -1))
                    let actions = (0..<50).map {
                        TableTransactionAction.insert(
                            TableEntity(
                                partitionKey: "p\(worker)", rowKey: "batch-\($0)", properties: ["v": .int32(Int32($0))])
                        )
                    }
                    try await writer.submitTransaction(actions)
                    done.append(contentsOf: (0..<50).map { ("p\(worker)/batch-\($0)", Int32($0)) })
                    return done
                }
            }
            for try await results in group { for (key, value) in results { expected[key] = value } }
        }
        let first = stack.processes[0]
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(first.terminationReason == .uncaughtSignal)

        port = try await Self.launch(stack, location: location)
        service = try Self.client(port: port)
        let table = service.table("durable")
        let rows = try await table.queryAll()
        var found: [String: Int32] = [:]
        for row in rows { if case .int32(let v)? = row["v"] { found["\(row.partitionKey)/\(row.rowKey)"] = v } }
        let live = expected.filter { $0.value != -1 }
        #expect(found == live)
        #expect(rows.count == 8 * (40 - 1 + 50))
        // ETags keep working after the restart.
        let row = try #require(try await table.get(partitionKey: "p0", rowKey: "w0-2"))
        try await table.merge(
            TableEntity(partitionKey: "p0", rowKey: "w0-2", properties: ["v": .int32(7)]), ifMatch: .etag(row.etag!))
    }

    @Test("--in-memory starts quickly, prints its port and keeps nothing")
    func inMemory() async throws {
        let location = NSTemporaryDirectory() + "ipam-mem-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: location) }
        let stack = ProcessStack()
        defer { stack.stopAll() }
        // start-up time: scripts/bench, not asserted here
        let port = try await Self.launch(stack, location: location, extra: ["--in-memory"])
        #expect(port > 0)
        try await Self.client(port: port).createTable("mem")
        #expect(!FileManager.default.fileExists(atPath: location))
    }
}
