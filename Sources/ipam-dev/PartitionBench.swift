import ArgumentParser
import AzureCore
import AzureTables
import Foundation
import HTTPTransport
import IPAMBootstrap
import Synchronization

/// `ipam-dev bench partitions`: the simulation of docs/Scaling.md. A scope's allocations spread over 1, 2, 4, 8
/// partitions (a requester's always in the same one), against storage that enforces Azure's scalability targets.
///
/// Each allocation is a transaction shaped like today's claim (the session row inserted, a stock row deleted, the
/// network row written, the event inserted: 4 entities), sent by group commit (`TransactionCombiner`) through a
/// pipeline paced by the Vendor's `AdmissionControl`, one pace per partition: the storage path of the Vendor,
/// without its HTTP edge, its stock cache or its carves (the stock is written before the clock starts).
struct PartitionBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "partitions",
        abstract:
            "A scope split over several partitions under Azure's targets: allocation-shaped transactions by group commit, paced per partition."
    )
    @OptionGroup var storage: StorageOptions
    @Option(help: "Partition counts to measure.") var partitions: [Int] = [1, 2, 4, 8]
    @Option(help: "Concurrent callers.") var callers = 64
    @Option(help: "Seconds per measurement.") var seconds = 5.0
    @Option(help: "Requesters: each one's allocations go to one partition (its number modulo the partitions).")
    var requesters = 256
    @Option(help: "The storage's entities per second per partition (what the figures are against).")
    var partitionEntitiesPerSecond = 2000
    @Option(help: "The storage's entities per second per account.") var accountEntitiesPerSecond = 20000

    final class Tally: Sendable {
        private let state = Mutex<(entities: Int, attempts: Int, throttled: Int)>((0, 0, 0))
        func entities(_ count: Int) { state.withLock { $0.entities += count } }
        func attempt(_ record: AzurePipeline.AttemptRecord) {
            state.withLock {
                $0.attempts += 1
                if record.status == 503 || record.status == 429 { $0.throttled += 1 }
            }
        }
        var value: (entities: Int, attempts: Int, throttled: Int) { state.withLock { $0 } }
    }

    func run() async throws {
        let opened = try storage.opened()
        let budget = Double(partitionEntitiesPerSecond)
        print(
            "partitions: \(callers) callers, \(requesters) requesters, \(partitionEntitiesPerSecond) entities/s per partition, \(accountEntitiesPerSecond) per account; \(seconds) s per figure"
        )
        print(String(repeating: "-", count: 100))
        var lines: [String] = []
        for count in partitions where count > 0 {
            let tally = Tally()
            let service = try TableServiceClient(
                connectionString: opened.connection, transport: opened.transport,
                retryPolicy: RetryPolicy(
                    maxAttempts: 5, baseDelay: .milliseconds(50), maxDelay: .seconds(2), deadline: .seconds(10)),
                onAttempt: { tally.attempt($0) }, admission: AdmissionControl(onEntities: { tally.entities($0) }))
            let name =
                "scale\(count)x" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(8).lowercased()
            try await service.createTable(name)
            let table = service.table(name)
            // Enough stock in every partition for what its budget allows in the measurement, and a margin.
            let perPartition = Int(seconds * budget / 4 * 1.3) + 100
            try await StorageDeadline.$remaining.withValue(StorageDeadline.Remaining { .seconds(120) }) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for partition in 0..<count {
                        group.addTask {
                            for chunk in stride(from: 0, to: perPartition, by: 100) {
                                try await table.submitTransaction(
                                    (chunk..<min(chunk + 100, perPartition)).map {
                                        .insert(
                                            TableEntity(
                                                partitionKey: "scope_\(partition)",
                                                rowKey: String(format: "stock_%06d", $0),
                                                properties: [
                                                    "Cidr": .string("10.\(partition).\($0 / 256).\($0 % 256)/32")
                                                ]))
                                    })
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            try await Task.sleep(for: .milliseconds(1200)) // the budgets refill before the clock starts
            let seeded = tally.value
            let rounds = Mutex(0)
            let combiner = TransactionCombiner(table: table, onRound: { _ in rounds.withLock { $0 += 1 } })
            let next = (0..<count).map { _ in NextIndex() }
            let started = ContinuousClock.now
            let deadline = started + .milliseconds(Int64(seconds * 1000))
            let results = try await withThrowingTaskGroup(of: (latencies: [Double], errors: [String: Int]).self) {
                group in
                for caller in 0..<callers {
                    group.addTask {
                        var latencies: [Double] = []
                        var errors: [String: Int] = [:]
                        var request = caller
                        while ContinuousClock.now < deadline {
                            request += callers
                            let requester = (request &* 2_654_435_761) % requesters
                            let partition = requester % count
                            let index = next[partition].take()
                            guard index < perPartition else { break }
                            let id = UUID().uuidString.lowercased()
                            let key = "scope_\(partition)"
                            let start = ContinuousClock.now
                            let end = start + .seconds(20)
                            do {
                                _ = try await StorageDeadline.$remaining.withValue(
                                    StorageDeadline.Remaining {
                                        ContinuousClock.now.duration(to: end)
                                    }
                                ) {
                                    try await combiner.submit([
                                        .insert(TableEntity(partitionKey: key, rowKey: "session_\(id)")),
                                        .delete(
                                            partitionKey: key, rowKey: String(format: "stock_%06d", index),
                                            ifMatch: .any),
                                        .insertOrReplace(
                                            TableEntity(
                                                partitionKey: key, rowKey: String(format: "net_%06d", index),
                                                properties: [
                                                    "State": .string("leased"), "SessionId": .string(id),
                                                    "Requester": .string("r\(requester)"),
                                                ])),
                                        .insert(
                                            TableEntity(
                                                partitionKey: key, rowKey: "event_\(id)",
                                                properties: ["Action": .string("lease")])),
                                    ])
                                }
                                latencies.append((ContinuousClock.now - start).seconds)
                            } catch let error as AzureError {
                                errors[error.shortDescription, default: 0] += 1
                            } catch {
                                errors["\(error)", default: 0] += 1
                            }
                        }
                        return (latencies, errors)
                    }
                }
                return try await group.reduce(into: (latencies: [Double](), errors: [String: Int]())) {
                    $0.latencies += $1.latencies
                    $0.errors.merge($1.errors, uniquingKeysWith: +)
                }
            }
            let elapsed = (ContinuousClock.now - started).seconds
            let spent = tally.value
            let done = Double(results.latencies.count)
            let entities = Double(spent.entities - seeded.entities)
            let sorted = results.latencies.sorted()
            func percentile(_ q: Double) -> Double {
                sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * q))]
            }
            let errorText =
                results.errors.isEmpty
                ? "none"
                : results.errors.sorted { $0.key < $1.key }.map { "\($0.key) x\($0.value)" }.joined(separator: ", ")
            print(
                String(
                    format:
                        "%d partition%@: %8.1f allocations/s  %8.0f entities/s = %3.0f %% of %d x the partition budget  p50 %7.2f ms  p99 %8.2f ms  storage requests/allocation %.3f  transactions %d  throttled answers %d  errors: %@",
                    count, count == 1 ? " " : "s", done / elapsed, entities / elapsed,
                    100 * entities / elapsed / (budget * Double(count)), count, percentile(0.5) * 1000,
                    percentile(0.99) * 1000, Double(spent.attempts - seeded.attempts) / max(done, 1),
                    rounds.withLock { $0 }, spent.throttled - seeded.throttled, errorText))
            lines.append(String(format: "%d: %.0f/s", count, done / elapsed))
            try? await service.deleteTable(name)
        }
        print(String(repeating: "-", count: 100))
        print("partitions: allocations/s by partitions: " + lines.joined(separator: ", "))
    }
}
