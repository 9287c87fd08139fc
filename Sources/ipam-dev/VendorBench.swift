import ArgumentParser
import AzureCore
import AzureTables
import Foundation
import HTTPTransport
import Synchronization

/// `ipam-dev bench vendor`: allocation throughput and latency against a running Vendor, beside the
/// raw rates of the same Table endpoint (the storage limit).
struct VendorBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "vendor", abstract: "Vendor allocations/s, latency, retries, round trips; raw storage rates beside them.")
    @OptionGroup var storage: StorageOptions
    @Option(help: "Base URL of the Vendor.") var vendorURL = "http://127.0.0.1:7071"
    @Option(help: "Seconds per measurement.") var seconds = 5.0
    @Option(help: "Caller counts to measure.") var callers: [Int] = [1, 8, 32]
    @Option(help: "PID of the Table endpoint process, to report the storage CPU each allocation costs (Linux /proc).") var storagePid: Int32?
    @Option(help: "PID of the Vendor process, to report the Vendor CPU each allocation costs (Linux /proc).") var vendorPid: Int32?

    struct Sample: Sendable {
        var latencies: [Double] = []
        var attempts = 0
        var storageCalls = 0
        var failures = 0
    }

    func run() async throws {
        let transport = CurlTransport()
        let connection = try storage.resolved()
        let service = try TableServiceClient(connectionString: connection, transport: transport)
        print("vendor \(vendorURL); storage \(connection.tableEndpoint); \(seconds) s per figure")
        print(String(repeating: "-", count: 100))

        var results: [Int: (rate: Double, p50: Double, p99: Double, retries: Double, trips: Double)] = [:]
        let run = UUID().uuidString.prefix(8)
        let tableName = "benchraw" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(8).lowercased()
        try await service.createTable(tableName)
        let table = service.table(tableName)
        let transaction: @Sendable (Int, Int) async throws -> (Bool, Double, Int, Int) = { caller, index in
            let start = ContinuousClock.now
            let pk = "tx\(caller)"
            let unique = UUID().uuidString
            try await table.submitTransaction([
                .insertOrReplace(TableEntity(partitionKey: pk, rowKey: "net", properties: ["n": .int32(Int32(index))])),
                .insert(TableEntity(partitionKey: pk, rowKey: "session-\(unique)")),
                .insert(TableEntity(partitionKey: pk, rowKey: "event-\(unique)")),
            ])
            return (true, (ContinuousClock.now - start).seconds, 0, 1)
        }
        let allocate: @Sendable (String) async throws -> (Bool, Double, Int, Int) = { session in
            let body = #"{"SessionId":"\#(session)","prefixLength":24}"#
            let start = ContinuousClock.now
            let response = try await transport.execute(TransportRequest(method: "POST", url: vendorURL + "/api/getNewNetwork",
                                                                        headers: ["Content-Type": "application/json"], body: Array(body.utf8)))
            return (response.status == 201, (ContinuousClock.now - start).seconds, Int(response.headers["x-ipam-claim-attempts"] ?? "0") ?? 0,
                    Int(response.headers["x-ipam-storage-calls"] ?? "0") ?? 0)
        }
        var cpuPerAllocation: CPU? = nil
        for count in callers {
            let cpuBefore = cpu()
            let sample = try await measure(callers: count) { caller, index in try await allocate("bench-\(run)-\(count)-\(caller)-\(index)") }
            let done = Double(sample.latencies.count)
            if count == callers.max(), done > 0 { cpuPerAllocation = (cpu() - cpuBefore) / done }
            let row = (rate: done / seconds, p50: percentile(sample.latencies, 0.5), p99: percentile(sample.latencies, 0.99),
                       retries: Double(sample.attempts) / max(done, 1), trips: Double(sample.storageCalls) / max(done, 1))
            results[count] = row
            print(String(format: "%3d callers: %8.1f allocations/s  p50 %6.2f ms  p99 %7.2f ms  claim transactions/allocation %.2f  store round trips/allocation %.2f  failures %d",
                         count, row.rate, row.p50 * 1000, row.p99 * 1000, row.retries, row.trips, sample.failures))
        }

        // The storage limit on the same endpoint: single conditional merges and 3-operation transactions.
        let maxCallers = callers.max() ?? 32
        var initial: [Int: String] = [:]
        for caller in 0..<maxCallers { initial[caller] = try await table.insertOrReplace(TableEntity(partitionKey: "raw", rowKey: "m\(caller)")) }
        let etags = EtagBox(initial)
        let merges = try await measure(callers: maxCallers) { caller, index in
            let start = ContinuousClock.now
            let tag = try await table.merge(TableEntity(partitionKey: "raw", rowKey: "m\(caller)", properties: ["n": .int32(Int32(index))]),
                                            ifMatch: .etag(etags.get(caller)))
            etags.set(caller, tag)
            return (true, (ContinuousClock.now - start).seconds, 0, 1)
        }
        // One caller alternating one allocation and one raw 3-operation transaction, each timed: the two p50s
        // (and the ratio the goal is about) come from the same moments of this shared, noisy machine.
        let pairedTransactions = Mutex<[Double]>([])
        let paired = try await measure(callers: 1) { caller, index in
            let allocation = try await allocate("bench-\(run)-paired-\(index)")
            let raw = try await transaction(caller, index)
            pairedTransactions.withLock { $0.append(raw.1) }
            return allocation
        }
        let single = pairedTransactions.withLock { $0 }
        let cpuBefore = cpu()
        let parallel = try await measure(callers: maxCallers, transaction)
        let cpuPerTransaction = (cpu() - cpuBefore) / Double(max(1, parallel.latencies.count))
        try await service.deleteTable(tableName)
        let mergeRate = Double(merges.latencies.count) / seconds
        let txRate = Double(parallel.latencies.count) / seconds
        let oneTx = percentile(single, 0.5)
        print(String(format: "raw storage: %d callers: %.1f conditional merges/s; %.1f 3-op transactions/s; one 3-op transaction p50 %.2f ms (1 caller)",
                     maxCallers, mergeRate, txRate, oneTx * 1000))
        let pairedAllocation = percentile(paired.latencies, 0.5)
        print(String(format: "1 caller, alternating: allocation p50 %.2f ms, one 3-op transaction p50 %.2f ms (%d pairs)",
                     pairedAllocation * 1000, oneTx * 1000, single.count))
        if let perAllocation = cpuPerAllocation, let storage = perAllocation.storage, let rawStorage = cpuPerTransaction.storage {
            print(String(format: "storage CPU: %.3f ms per allocation (%d callers), %.3f ms per raw 3-op transaction: an allocation costs the storage %.2f x a raw transaction",
                         storage * 1000, maxCallers, rawStorage * 1000, storage / max(rawStorage, 1e-9)))
            if let vendor = perAllocation.vendor {
                // Everything shares this machine's cores: when they are the limit, rates go inversely with CPU per unit.
                let allocationTotal = perAllocation.client + vendor + storage, rawTotal = cpuPerTransaction.client + rawStorage
                print(String(format: "CPU per allocation (%d callers): client %.3f + Vendor %.3f + storage %.3f = %.3f ms; per raw 3-op transaction: client %.3f + storage %.3f = %.3f ms; "
                             + "ceiling of the rate ratio while they share the cores: %.2f",
                             maxCallers, perAllocation.client * 1000, vendor * 1000, storage * 1000, allocationTotal * 1000,
                             cpuPerTransaction.client * 1000, rawStorage * 1000, rawTotal * 1000, rawTotal / max(allocationTotal, 1e-9)))
            }
        }
        print(String(repeating: "-", count: 100))
        let top = results[maxCallers] ?? (0, 0, 0, 0, 0)
        let weighted = results.values.map(\.retries).max() ?? 0
        print(String(format: "vendor: %d callers = %.2f x raw transaction rate; 1 caller p50 = %.2f x one transaction; retries/allocation = %.2f",
                     maxCallers, top.rate / max(txRate, 0.001), pairedAllocation / max(oneTx, 1e-9), weighted))
    }

    /// CPU seconds (user + system) used so far by this client, the Vendor and the storage.
    struct CPU {
        var client: Double
        var vendor: Double?
        var storage: Double?
        static func - (a: CPU, b: CPU) -> CPU {
            CPU(client: a.client - b.client, vendor: a.vendor.flatMap { x in b.vendor.map { x - $0 } }, storage: a.storage.flatMap { x in b.storage.map { x - $0 } })
        }
        static func / (a: CPU, n: Double) -> CPU { CPU(client: a.client / n, vendor: a.vendor.map { $0 / n }, storage: a.storage.map { $0 / n }) }
    }

    func cpu() -> CPU { CPU(client: Self.cpuSeconds("self") ?? 0, vendor: vendorPid.flatMap { Self.cpuSeconds("\($0)") }, storage: storagePid.flatMap { Self.cpuSeconds("\($0)") }) }

    /// User + system CPU seconds process `pid` has used (Linux /proc; nil elsewhere).
    static func cpuSeconds(_ pid: String) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = text.lastIndex(of: ")") else { return nil }
        // Fields after the command name: state is field 3, utime 14 and stime 15 (1-based, whole line).
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    func percentile(_ values: [Double], _ q: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * q))]
    }

    /// Runs `operation` from `callers` concurrent tasks for the configured time.
    func measure(callers: Int, _ operation: @escaping @Sendable (Int, Int) async throws -> (Bool, Double, Int, Int)) async throws -> Sample {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        return try await withThrowingTaskGroup(of: Sample.self) { group in
            for caller in 0..<callers {
                group.addTask {
                    var sample = Sample()
                    var index = 0
                    while ContinuousClock.now < deadline {
                        let (ok, latency, attempts, trips) = try await operation(caller, index)
                        index += 1
                        if ok {
                            sample.latencies.append(latency)
                            sample.attempts += attempts
                            sample.storageCalls += trips
                        } else {
                            sample.failures += 1
                        }
                    }
                    return sample
                }
            }
            return try await group.reduce(into: Sample()) { total, part in
                total.latencies += part.latencies
                total.attempts += part.attempts
                total.storageCalls += part.storageCalls
                total.failures += part.failures
            }
        }
    }
}
