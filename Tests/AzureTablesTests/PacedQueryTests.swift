import AzureCore
import AzureTables
import Foundation
import HTTPTransport
import Synchronization
import TableEmulator
import TestSupport
import Testing

/// Queries of a throttled partition under the pipeline's admission control, against storage that charges a page
/// whole against Azure's targets (`ScalabilityTargets`, as table-emulator does). Time is virtual: it moves only
/// when the pipeline sleeps, so nothing here waits for or measures the wall clock.
@Suite("Paced queries (a page takes its turn for what it may answer)")
struct PacedQueryTests {
    final class VirtualTime: Sendable {
        private let state = Mutex<Duration>(.zero)
        var now: Duration { state.withLock { $0 } }
        var seconds: Double { Double(now.components.seconds) + Double(now.components.attoseconds) / 1e18 }
        var clock: RetryClock {
            RetryClock(uptime: { self.now }, sleep: { delay in self.state.withLock { $0 += delay } })
        }
    }

    /// The value of `name` in a request's query string.
    static func parameter(_ name: String, in query: String?) -> String? {
        query?.split(separator: "&").first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
    }

    @Test(
        "a page of a throttled partition's read takes its turn for its $top: it is not sent again and again into a budget it does not fit, and the pace is not cut to nothing"
    )
    func pageTakesItsTurnForItsTop() async throws {
        let time = VirtualTime()
        let targets = ScalabilityTargets(
            rates: .init(partitionEntitiesPerSecond: 600, accountEntitiesPerSecond: 6_000), now: { time.seconds })
        let rows = 2_000
        let attempts = Mutex(0)
        // The partition `p` of table `t` holds `rows` rows (keys 0 … rows-1); a page answers `$top` of them from its
        // continuation on, charged whole, and is refused whole (503 ServerBusy) when the budget cannot cover it.
        // After 300 attempts it answers 400: a client spinning on refusals fails here instead of never ending.
        let storage: @Sendable (EmulatorRequest) async -> EmulatorResponse = { request in
            guard
                attempts.withLock({
                    $0 += 1
                    return $0
                }) <= 300
            else {
                return TestServers.json(400, #"{"odata.error":{"code":"TooManyAttempts","message":{"value":"spun"}}}"#)
            }
            let top = Self.parameter("$top", in: request.query).flatMap { Int($0) } ?? 1_000
            let start = Self.parameter("NextRowKey", in: request.query).flatMap { Int($0) } ?? 0
            let count = min(top, rows - start)
            if targets.admit(
                account: "a", charges: [.init(table: "t", partitionKey: "p", entities: count)],
                accountEntities: count) != nil
            {
                return TestServers.json(
                    503, #"{"odata.error":{"code":"ServerBusy","message":{"lang":"en-US","value":"busy"}}}"#,
                    headers: ["x-ms-error-code": "ServerBusy"])
            }
            let values = (start..<start + count).map { #"{"PartitionKey":"p","RowKey":"\#($0)"}"# }
            var headers: HTTPHeaderList = [:]
            if start + count < rows {
                headers["x-ms-continuation-NextPartitionKey"] = "p"
                headers["x-ms-continuation-NextRowKey"] = "\(start + count)"
            }
            return TestServers.json(200, #"{"value":["# + values.joined(separator: ",") + "]}", headers: headers)
        }
        let admission = AdmissionControl()
        // The process sent 600 entities at once and storage throttled it: the partition is paced (480/s), and
        // others' reads have left storage's budget nearly empty (50 of 600).
        let primed = try #require(admission.take(.init(key: "t/p", entities: 600), now: .zero))
        admission.throttled("t/p", turn: primed, now: .zero)
        #expect(
            targets.admit(
                account: "a", charges: [.init(table: "t", partitionKey: "p", entities: 550)], accountEntities: 550)
                == nil)
        let pipeline = AzurePipeline(
            transport: TestStorage.transport, authorizer: AnonymousAuthorizer(),
            retryPolicy: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(5), maxDelay: .milliseconds(50)),
            clock: time.clock, admission: admission)
        let read = try await TestServers.withFakeServer(storage) { port in
            let table = TableServiceClient(endpoint: "http://127.0.0.1:\(port)/devstoreaccount1", pipeline: pipeline)
                .table("t")
            return try await StorageDeadline.$remaining.withValue(StorageDeadline.Remaining { .seconds(60) - time.now })
            {
                var keys: [String] = []
                for try await page in table.query(filter: "PartitionKey eq 'p'", select: ["RowKey"], top: 500) {
                    keys += page.entities.map(\.rowKey)
                }
                return keys
            }
        }
        #expect(read == (0..<rows).map { "\($0)" }, "every row, once, in order")
        let sent = attempts.withLock { $0 }
        #expect(sent <= 4 + 2, "4 pages and at most a refusal or two, not a retry storm: \(sent) attempts")
        let rate = try #require(admission.rate("t/p"))
        #expect(rate >= 300, "the pace was cut once or twice, not down to its floor: \(rate) entities/s")
        #expect(time.now < .seconds(10), "four pages of 500 at about 400 entities/s: \(time.now) of virtual time")
    }

    @Test("a page's turn is its $top, at most a page of 1,000; a query without $top takes a turn for one entity")
    func pageEntities() {
        #expect(TableQuery.pageEntities(top: 48) == 48)
        #expect(TableQuery.pageEntities(top: 5_000) == 1_000)
        #expect(TableQuery.pageEntities(top: 0) == 1)
        #expect(TableQuery.pageEntities(top: nil) == 1)
    }
}
