import ArgumentParser
import AzureCore
import AzureTables
import Foundation
import HTTPTransport
import IPAMBootstrap
import Synchronization

/// `ipam-dev bench vendor`: allocation throughput and latency against a running Vendor, beside the
/// raw rates of the same Table endpoint (the storage limit).
struct VendorBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vendor",
        abstract: "Vendor allocations/s, latency, retries, round trips; raw storage rates beside them.")
    @OptionGroup var storage: StorageOptions
    @Option(help: "Base URL of the Vendor.") var vendorURL = "http://127.0.0.1:7071"
    @Option(help: "Seconds per measurement.") var seconds = 5.0
    @Option(help: "Caller counts to measure.") var callers: [Int] = [1, 8, 32]
    @Option(help: "PID of the Table endpoint process, to report the storage CPU each allocation costs (Linux /proc).")
    var storagePid: Int32?
    @Option(help: "PID of the Vendor process, to report the Vendor CPU each allocation costs (Linux /proc).")
    var vendorPid: Int32?
    @Option(help: "Existing sessions the replay figures cycle through.") var replaySessions = 1000
    @Option(
        help:
            "A second Vendor that has served none of the sessions: replays through it show the cold path (a Vendor that never saw them)."
    )
    var freshVendorURL: String?
    @Flag(
        help:
            "The storage enforces Azure's scalability targets (table-emulator --azure-targets): report the Vendor at the partition's budget instead (allocations/s, the budget's share, entities and requests per allocation, errors, a replay storm)."
    )
    var azureTargets = false
    @Option(
        help:
            "With --azure-targets: the storage's entities per second per partition (the budget the figures are against)."
    )
    var partitionEntitiesPerSecond = 2000

    struct Sample: Sendable {
        var latencies: [Double] = []
        var attempts = 0
        var storageCalls = 0
        var failures = 0
        /// Failed calls by HTTP status (0: no answer).
        var errors: [Int: Int] = [:]
    }

    func run() async throws {
        if azureTargets { return try await atTheWall() }
        let opened = try storage.opened()
        let transport = opened.transport
        let connection = opened.connection
        let service = try opened.service()
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
        let vendorURL = self.vendorURL
        let allocate: @Sendable (String, String?) async throws -> (Bool, Double, Int, Int) = { session, url in
            // Sessions named `…-dual-…` ask for a dual-stack lease (a /24 and a /56 claimed in one transaction).
            let body =
                session.contains("-dual-")
                ? #"{"SessionId":"\#(session)","prefixLength":24,"dualStack":true}"#
                : #"{"SessionId":"\#(session)","prefixLength":24}"#
            let start = ContinuousClock.now
            let response = try await transport.execute(
                TransportRequest(
                    method: "POST", url: (url ?? vendorURL) + "/api/getNewNetwork",
                    headers: ["Content-Type": "application/json"], body: Array(body.utf8)))
            guard response.status == 201 || response.status == 200 else { return (false, 0, response.status, 0) }
            return (
                response.status == 201, (ContinuousClock.now - start).seconds,
                Int(response.headers["x-ipam-claim-attempts"] ?? "0") ?? 0,
                Int(response.headers["x-ipam-storage-calls"] ?? "0") ?? 0
            )
        }
        var cpuPerAllocation: CPU? = nil
        for count in callers {
            let cpuBefore = cpu()
            let sample = try await measure(callers: count) { caller, index in
                try await allocate("bench-\(run)-\(count)-\(caller)-\(index)", nil)
            }
            let done = Double(sample.latencies.count)
            if count == callers.max(), done > 0 { cpuPerAllocation = (cpu() - cpuBefore) / done }
            let row = (
                rate: done / seconds, p50: percentile(sample.latencies, 0.5), p99: percentile(sample.latencies, 0.99),
                retries: Double(sample.attempts) / max(done, 1), trips: Double(sample.storageCalls) / max(done, 1)
            )
            results[count] = row
            print(
                String(
                    format:
                        "%3d callers: %8.1f allocations/s  p50 %6.2f ms  p99 %7.2f ms  claim transactions/allocation %.2f  store round trips/allocation %.2f  failures %d",
                    count, row.rate, row.p50 * 1000, row.p99 * 1000, row.retries, row.trips, sample.failures))
        }

        // Dual-stack leases: two stocks read and carved, both blocks claimed in one transaction.
        let dualCallers = callers.max() ?? 32
        let dual = try await measure(callers: dualCallers) { caller, index in
            try await allocate("bench-\(run)-dual-\(caller)-\(index)", nil)
        }
        let dualDone = Double(dual.latencies.count)
        print(
            String(
                format:
                    "%3d callers: %8.1f dual-stack allocations/s  p50 %6.2f ms  p99 %7.2f ms  claim transactions/allocation %.2f  store round trips/allocation %.2f  failures %d",
                dualCallers, dualDone / seconds, percentile(dual.latencies, 0.5) * 1000,
                percentile(dual.latencies, 0.99) * 1000,
                Double(dual.attempts) / max(dualDone, 1), Double(dual.storageCalls) / max(dualDone, 1), dual.failures))

        // Replays: the same POST again (Terraform's http data source on every plan, apply and refresh).
        let sessions = (0..<replaySessions).map { "bench-\(run)-replay-\($0)" }
        let created = try await measure(callers: 32, once: sessions.count) { _, index in
            try await allocate(sessions[index], nil)
        }
        print("replays: \(created.latencies.count) sessions created for them")
        var replayResults: [Int: (rate: Double, p50: Double)] = [:]
        for count in callers {
            let before = try await counters(vendorURL, transport)
            let sample = try await measure(callers: count) { caller, index in
                let answer = try await allocate(sessions[(caller * 7919 + index * 31) % sessions.count], nil)
                // a replay answers 200, not 201
                return (answer.1 > 0 && !answer.0 ? true : false, answer.1, answer.2, answer.3)
            }
            let after = try await counters(vendorURL, transport)
            let done = Double(sample.latencies.count)
            replayResults[count] = (done / seconds, percentile(sample.latencies, 0.5))
            print(
                String(
                    format:
                        "%3d callers: %8.1f replays/s      p50 %6.2f ms  p99 %7.2f ms  store round trips/replay %.2f  failures %d  carves %.0f  stock reads %.0f",
                    count, done / seconds, percentile(sample.latencies, 0.5) * 1000,
                    percentile(sample.latencies, 0.99) * 1000,
                    Double(sample.storageCalls) / max(done, 1), sample.failures, after.carves - before.carves,
                    after.stockReads - before.stockReads))
        }
        if let freshVendorURL {
            let before = try await counters(freshVendorURL, transport)
            let started = ContinuousClock.now
            let sample = try await measure(callers: 32, once: sessions.count) { _, index in
                let answer = try await allocate(sessions[index], freshVendorURL)
                return (answer.1 > 0 && !answer.0 ? true : false, answer.1, answer.2, answer.3)
            }
            let elapsed = (ContinuousClock.now - started).seconds
            let after = try await counters(freshVendorURL, transport)
            print(
                String(
                    format:
                        "cold replays (a Vendor that never saw the sessions, each once, 32 callers): %.1f replays/s  p50 %.2f ms  store round trips/replay %.2f  failures %d  carves %.0f  stock reads %.0f",
                    Double(sample.latencies.count) / elapsed, percentile(sample.latencies, 0.5) * 1000,
                    Double(sample.storageCalls) / Double(max(sample.latencies.count, 1)), sample.failures,
                    after.carves - before.carves, after.stockReads - before.stockReads))
        }

        // The storage limit on the same endpoint: single conditional merges and 3-operation transactions.
        let maxCallers = callers.max() ?? 32
        var initial: [Int: String] = [:]
        for caller in 0..<maxCallers {
            initial[caller] = try await table.insertOrReplace(TableEntity(partitionKey: "raw", rowKey: "m\(caller)"))
        }
        let etags = EtagBox(initial)
        let merges = try await measure(callers: maxCallers) { caller, index in
            let start = ContinuousClock.now
            let tag = try await table.merge(
                TableEntity(partitionKey: "raw", rowKey: "m\(caller)", properties: ["n": .int32(Int32(index))]),
                ifMatch: .etag(etags.get(caller)))
            etags.set(caller, tag)
            return (true, (ContinuousClock.now - start).seconds, 0, 1)
        }
        // One caller alternating one allocation and one raw 3-operation transaction, each timed: the two p50s
        // (and the ratio the goal is about) come from the same moments of this shared, noisy machine.
        let pairedTransactions = Mutex<[Double]>([])
        let paired = try await measure(callers: 1) { caller, index in
            let allocation = try await allocate("bench-\(run)-paired-\(index)", nil)
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
        print(
            String(
                format:
                    "raw storage: %d callers: %.1f conditional merges/s; %.1f 3-op transactions/s; one 3-op transaction p50 %.2f ms (1 caller)",
                maxCallers, mergeRate, txRate, oneTx * 1000))
        let pairedAllocation = percentile(paired.latencies, 0.5)
        print(
            String(
                format: "1 caller, alternating: allocation p50 %.2f ms, one 3-op transaction p50 %.2f ms (%d pairs)",
                pairedAllocation * 1000, oneTx * 1000, single.count))
        if let perAllocation = cpuPerAllocation, let storage = perAllocation.storage,
            let rawStorage = cpuPerTransaction.storage
        {
            print(
                String(
                    format:
                        "storage CPU: %.3f ms per allocation (%d callers), %.3f ms per raw 3-op transaction: an allocation costs the storage %.2f x a raw transaction",
                    storage * 1000, maxCallers, rawStorage * 1000, storage / max(rawStorage, 1e-9)))
            if let vendor = perAllocation.vendor {
                // Everything shares this machine's cores: when they are the limit, rates go inversely with CPU per unit.
                let allocationTotal = perAllocation.client + vendor + storage
                let rawTotal = cpuPerTransaction.client + rawStorage
                print(
                    String(
                        format:
                            "CPU per allocation (%d callers): client %.3f + Vendor %.3f + storage %.3f = %.3f ms; per raw 3-op transaction: client %.3f + storage %.3f = %.3f ms; "
                            + "ceiling of the rate ratio while they share the cores: %.2f",
                        maxCallers, perAllocation.client * 1000, vendor * 1000, storage * 1000, allocationTotal * 1000,
                        cpuPerTransaction.client * 1000, rawStorage * 1000, rawTotal * 1000,
                        rawTotal / max(allocationTotal, 1e-9)))
            }
        }
        print(String(repeating: "-", count: 100))
        let top = results[maxCallers] ?? (0, 0, 0, 0, 0)
        let weighted = results.values.map(\.retries).max() ?? 0
        let replayTop = replayResults[maxCallers]?.rate ?? 0
        print(
            String(
                format:
                    "vendor: %d callers = %.2f x raw transaction rate; 1 caller p50 = %.2f x one transaction; retries/allocation = %.2f; replays = %.2f x new allocations at %d callers",
                maxCallers, top.rate / max(txRate, 0.001), pairedAllocation / max(oneTx, 1e-9), weighted,
                replayTop / max(top.rate, 0.001), maxCallers))
        let ratios = callers.map { count in
            String(
                format: "%d: %.2f (p50 %.2f)", count,
                (replayResults[count]?.rate ?? 0) / max(results[count]?.rate ?? 0, 0.001),
                (replayResults[count]?.p50 ?? 0) / max(results[count]?.p50 ?? 0, 1e-9))
        }
        print("replays / new allocations by callers: " + ratios.joined(separator: ", "))
    }

    /// CPU seconds (user + system) used so far by this client, the Vendor and the storage.
    struct CPU {
        var client: Double
        var vendor: Double?
        var storage: Double?
        static func - (a: CPU, b: CPU) -> CPU {
            CPU(
                client: a.client - b.client, vendor: a.vendor.flatMap { x in b.vendor.map { x - $0 } },
                storage: a.storage.flatMap { x in b.storage.map { x - $0 } })
        }
        static func / (a: CPU, n: Double) -> CPU {
            CPU(client: a.client / n, vendor: a.vendor.map { $0 / n }, storage: a.storage.map { $0 / n })
        }
    }

    func cpu() -> CPU {
        CPU(
            client: Self.cpuSeconds("self") ?? 0, vendor: vendorPid.flatMap { Self.cpuSeconds("\($0)") },
            storage: storagePid.flatMap { Self.cpuSeconds("\($0)") })
    }

    /// User + system CPU seconds process `pid` has used (Linux /proc; nil elsewhere).
    static func cpuSeconds(_ pid: String) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
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

    /// The Vendor's carve and stock-read counters (from `/metrics`).
    func counters(_ url: String, _ transport: CurlTransport) async throws -> (carves: Double, stockReads: Double) {
        let response = try await transport.execute(TransportRequest(method: "GET", url: url + "/metrics"))
        func value(_ name: String) -> Double {
            response.bodyText.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap {
                Double($0.split(separator: " ").last ?? "")
            } ?? 0
        }
        return (value("ipam_vendor_carves_total"), value("ipam_vendor_stock_reads_total"))
    }

    /// Runs `operation` from `callers` concurrent tasks for the configured time, or (`once`) over the
    /// indices `0..<once` shared among the callers, each once.
    func measure(
        callers: Int, once: Int? = nil,
        _ operation: @escaping @Sendable (Int, Int) async throws -> (Bool, Double, Int, Int)
    ) async throws -> Sample {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        let next = NextIndex()
        return try await withThrowingTaskGroup(of: Sample.self) { group in
            for caller in 0..<callers {
                group.addTask {
                    var sample = Sample()
                    var index = 0
                    while once == nil ? ContinuousClock.now < deadline : true {
                        if let once {
                            index = next.take()
                            guard index < once else { break }
                        }
                        let (ok, latency, attempts, trips) = try await operation(caller, index)
                        if once == nil { index += 1 }
                        if ok {
                            sample.latencies.append(latency)
                            sample.attempts += attempts
                            sample.storageCalls += trips
                        } else {
                            sample.failures += 1
                            sample.errors[attempts, default: 0] += 1 // a failed call's third value is its status
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
                total.errors.merge(part.errors, uniquingKeysWith: +)
            }
        }
    }
}

/// Hands out 0, 1, 2, … to concurrent callers.
final class NextIndex: Sendable {
    private let value = Mutex(0)
    func take() -> Int {
        value.withLock { current in
            defer { current += 1 }
            return current
        }
    }
}
