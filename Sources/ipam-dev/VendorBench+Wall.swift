import AzureCore
import Foundation
import HTTPTransport
import Synchronization

/// `ipam-dev bench vendor --azure-targets`: the Vendor against storage that enforces Azure's scalability targets
/// (docs/Performance.md, "At the partition's target").
extension VendorBench {
    /// What the Vendor's `/metrics` said at one moment: storage requests, throttled answers, entities.
    struct StorageCounters {
        var attempts = 0.0
        var throttled = 0.0
        var entities = 0.0
        var carves = 0.0
        var stockReads = 0.0

        static func - (a: StorageCounters, b: StorageCounters) -> StorageCounters {
            StorageCounters(
                attempts: a.attempts - b.attempts, throttled: a.throttled - b.throttled,
                entities: a.entities - b.entities,
                carves: a.carves - b.carves, stockReads: a.stockReads - b.stockReads)
        }
    }

    func storageCounters(_ url: String, _ transport: CurlTransport) async throws -> StorageCounters {
        let response = try await transport.execute(TransportRequest(method: "GET", url: url + "/metrics"))
        var counters = StorageCounters()
        for line in response.bodyText.split(separator: "\n") where !line.hasPrefix("#") {
            guard let value = Double(line.split(separator: " ").last ?? "") else { continue }
            if line.hasPrefix("ipam_storage_attempts_total{") {
                counters.attempts += value
                if line.contains(#"status="503""#) || line.contains(#"status="429""#) { counters.throttled += value }
            } else if line.hasPrefix("ipam_storage_entities_total ") {
                counters.entities = value
            } else if line.hasPrefix("ipam_vendor_carves_total ") {
                counters.carves = value
            } else if line.hasPrefix("ipam_vendor_stock_reads_total ") {
                counters.stockReads = value
            }
        }
        return counters
    }

    /// Errors by status, e.g. `none` or `503 x3`.
    func errorText(_ errors: [Int: Int]) -> String {
        errors.isEmpty
            ? "none" : errors.sorted { $0.key < $1.key }.map { "\($0.key) x\($0.value)" }.joined(separator: ", ")
    }

    func atTheWall() async throws {
        let transport = CurlTransport()
        let budget = Double(partitionEntitiesPerSecond)
        let run = UUID().uuidString.prefix(8)
        print(
            "vendor \(vendorURL) at the partition's target: \(partitionEntitiesPerSecond) entities/s per partition (one scope = one partition); \(seconds) s per figure"
        )
        print(String(repeating: "-", count: 100))
        let vendorURL = self.vendorURL
        let refusals = Refusals()
        let allocate: @Sendable (String) async throws -> (Bool, Double, Int, Int) = { session in
            let start = ContinuousClock.now
            let response = try await transport.execute(
                TransportRequest(
                    method: "POST", url: vendorURL + "/api/getNewNetwork",
                    headers: ["Content-Type": "application/json"],
                    body: Array(#"{"SessionId":"\#(session)","prefixLength":24}"#.utf8), timeout: .seconds(60)))
            guard response.status == 201 || response.status == 200 else {
                refusals.record(response, after: (ContinuousClock.now - start).seconds)
                return (false, 0, response.status, 0)
            }
            return (response.status == 201, (ContinuousClock.now - start).seconds, 0, 0)
        }
        var summary: [String] = []
        for count in callers {
            let before = try await storageCounters(vendorURL, transport)
            let started = ContinuousClock.now
            let sample = try await measure(callers: count) { caller, index in
                try await allocate("wall-\(run)-\(count)-\(caller)-\(index)")
            }
            // Rates over the whole time, the calls still out at the end included (at the wall they queue for seconds).
            let elapsed = (ContinuousClock.now - started).seconds
            let spent = try await storageCounters(vendorURL, transport) - before
            let done = Double(sample.latencies.count)
            let rate = done / elapsed
            let perAllocation = spent.entities / max(done, 1)
            print(
                String(
                    format:
                        "%3d callers: %7.1f allocations/s  p50 %7.2f ms  p99 %8.2f ms  entities/allocation %.2f  budget used %.0f %%  as allocations (4 entities each) %.0f %%  storage requests/allocation %.2f  throttled answers %.0f  carves %.0f  stock reads %.0f  client errors: %@",
                    count, rate, percentile(sample.latencies, 0.5) * 1000, percentile(sample.latencies, 0.99) * 1000,
                    perAllocation, 100 * spent.entities / elapsed / budget, 100 * rate * 4 / budget,
                    spent.attempts / max(done, 1), spent.throttled, spent.carves, spent.stockReads,
                    errorText(sample.errors)))
            summary.append(String(format: "%d: %.0f/s (%.0f %%)", count, rate, 100 * rate * 4 / budget))
            refusals.report()
        }

        // A replay storm: the same POSTs again (one point read each, counted against the partition too).
        let top = callers.max() ?? 32
        let sessions = (0..<replaySessions).map { "wall-\(run)-replay-\($0)" }
        let created = try await measure(callers: top, once: sessions.count) { _, index in
            try await allocate(sessions[index])
        }
        print("replays: \(created.latencies.count) sessions created for them")
        let before = try await storageCounters(vendorURL, transport)
        let replayStart = ContinuousClock.now
        let replays = try await measure(callers: top) { caller, index in
            let answer = try await allocate(sessions[(caller * 7919 + index * 31) % sessions.count])
            return (answer.0 ? false : answer.1 > 0, answer.1, answer.2, answer.3) // a replay answers 200
        }
        let replayElapsed = (ContinuousClock.now - replayStart).seconds
        let spent = try await storageCounters(vendorURL, transport) - before
        let replayed = Double(replays.latencies.count)
        print(
            String(
                format:
                    "%3d callers: %7.1f replays/s      p50 %7.2f ms  p99 %8.2f ms  entities/replay %.2f  budget used %.0f %%  storage requests/replay %.2f  throttled answers %.0f  client errors: %@",
                top, replayed / replayElapsed, percentile(replays.latencies, 0.5) * 1000,
                percentile(replays.latencies, 0.99) * 1000, spent.entities / max(replayed, 1),
                100 * spent.entities / replayElapsed / budget, spent.attempts / max(replayed, 1), spent.throttled,
                errorText(replays.errors)))
        refusals.report()

        // New allocations while the storm goes on: what it costs them.
        let half = max(1, top / 2)
        let mixedBefore = try await storageCounters(vendorURL, transport)
        let mixedStart = ContinuousClock.now
        let stormed = Mutex<Sample>(Sample())
        let mixed = try await measure(callers: top) { caller, index in
            guard caller < half else {
                let answer = try await allocate(sessions[(caller * 7919 + index * 31) % sessions.count])
                if answer.1 > 0 { stormed.withLock { $0.latencies.append(answer.1) } }
                return (answer.1 > 0, answer.1, answer.2, 0)
            }
            return try await allocate("wall-\(run)-mixed-\(caller)-\(index)")
        }
        let mixedElapsed = (ContinuousClock.now - mixedStart).seconds
        let mixedSpent = try await storageCounters(vendorURL, transport) - mixedBefore
        let stormCount = Double(stormed.withLock { $0.latencies.count })
        let allocationCount = Double(mixed.latencies.count) - stormCount
        print(
            String(
                format:
                    "%3d callers, half replaying: %7.1f allocations/s and %7.1f replays/s  budget used %.0f %%  throttled answers %.0f  client errors: %@",
                top, allocationCount / mixedElapsed, stormCount / mixedElapsed,
                100 * mixedSpent.entities / mixedElapsed / budget,
                mixedSpent.throttled, errorText(mixed.errors)))
        refusals.report()
        print(String(repeating: "-", count: 100))
        print(
            "at the target: allocations/s (share of the budget at 4 entities each) by callers: "
                + summary.joined(separator: ", "))
    }
}

/// The error answers callers saw at the wall, by status, code and message, with how long the slowest took: printed
/// under the figure they belong to, so a client-visible error says what it was (the deadline, contention, …).
final class Refusals: Sendable {
    private let seen = Mutex<[String: (count: Int, slowest: Double)]>([:])

    func record(_ response: TransportResponse, after seconds: Double) {
        var key = "\(response.status)"
        if let body = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] {
            let code = body["code"] as? String ?? "?"
            let message = (body["message"] as? String ?? "").prefix(160)
            key += " \(code): \(message)"
        }
        seen.withLock { seen in
            let old = seen[key] ?? (0, 0)
            seen[key] = (old.count + 1, max(old.slowest, seconds))
        }
    }

    /// Prints what was seen since the last report, and forgets it.
    func report() {
        let taken = seen.withLock { seen in
            defer { seen = [:] }
            return seen
        }
        for (key, value) in taken.sorted(by: { $0.value.count > $1.value.count }) {
            print(String(format: "    %d x %@ (the slowest answered after %.1f s)", value.count, key, value.slowest))
        }
    }
}
