import AzureCore
import AzureTables
import Foundation
import IPAMCore
import Inventory
import NetworkMath
import Synchronization
import TestSupport
import Testing

/// Real `vendor` processes against `table-emulator --azure-targets` with a small partition budget: storage answers
/// 503 `ServerBusy` as Azure does past its targets, and the Vendors adapt (docs/Design.md, "At the partition's
/// target"). Nothing here asserts a rate or a time: only what every caller was told and what the table holds.
@Suite("Vendors at the partition's scalability target", .serialized)
struct AzureTargetsTests {
    /// Starts `table-emulator --azure-targets` with `partitionRate` entities per second per partition.
    static func startThrottledStorage(_ stack: ProcessStack, partitionRate: Int) async throws -> StorageConnectionString
    {
        let port = try await stack.launch(
            "table-emulator",
            arguments: [
                "--port", "0", "--in-memory", "--azure-targets", "--partition-entities-per-second", "\(partitionRate)",
            ])
        return StorageConnectionString(
            accountName: StorageConnectionString.developmentAccountName,
            accountKey: StorageConnectionString.developmentAccountKey,
            tableEndpoint: "http://127.0.0.1:\(port)/devstoreaccount1")
    }

    /// Runs `body` with two Vendors on a fresh table of `table-emulator --azure-targets` at `partitionRate`, the scope's
    /// stock target `stock`: the storage's connection string, the table's name and the Vendors' URLs.
    static func withTwoVendors(
        _ prefix: String, partitionRate: Int, stock: String,
        _ body: @Sendable (StorageConnectionString, String, [String]) async throws -> Void
    ) async throws {
        try await LoadTests.exclusive {
            let stack = ProcessStack()
            defer { stack.stopAll() }
            let storage = try await Self.startThrottledStorage(stack, partitionRate: partitionRate)
            let tableName = TestStorage.uniqueName(prefix)
            let environment = SampleConfiguration.environment(
                table: tableName, connectionString: storage, eastus: "10.64.0.0/14", stock: stock)
            let vendors = try await stack.startVendors(2, environment: environment)
            try await body(storage, tableName, vendors)
        }
    }

    /// Every row of the scope's partition, checked by the invariant checker.
    ///
    /// The partition's budget is spent and a page of rows costs one entity each: this reader waits its turn as long
    /// as it takes (the Vendors' deadlines do not apply to it), so a throttled page is never a failure.
    static func checkedRows(_ storage: StorageConnectionString, _ tableName: String) async throws -> [TableEntity] {
        let patient = RetryPolicy(
            maxAttempts: 200, baseDelay: .milliseconds(250), maxDelay: .seconds(2), deadline: .seconds(600))
        let table = try TableServiceClient(
            connectionString: storage, transport: TestStorage.transport, retryPolicy: patient
        ).table(tableName)
        let rows = try await table.queryAll(filter: "PartitionKey eq '\(SampleConfiguration.subscription)_eastus'")
        let problems = InvariantChecker.violations(in: rows)
        #expect(problems.isEmpty, "\(problems.prefix(20).joined(separator: "\n"))")
        return rows
    }

    struct Outcome: Sendable {
        let session: String
        let status: Int
        let code: String?
        let leaseId: String?
        let cidr: String?
        var message: String? = nil
    }

    static func allocate(_ vendor: String, session: String) async -> Outcome {
        do {
            let answer = try await HTTPCalls.send(
                "POST", vendor + "/api/getNewNetwork", body: #"{"SessionId":"\#(session)","prefixLength":26}"#,
                timeout: .seconds(90))
            return Outcome(
                session: session, status: answer.status, code: answer.code, leaseId: answer.string("leaseId"),
                cidr: answer.string("cidr"), message: answer.string("message"))
        } catch {
            return Outcome(session: session, status: 0, code: "\(error)", leaseId: nil, cidr: nil)
        }
    }

    @Test(
        "2 Vendors x 48 callers at a partition target of 300 entities/s: only leases or 503 Busy, and retrying Busy gives each session exactly one block"
    )
    func concurrentAtTheTarget() async throws {
        try await Self.withTwoVendors("wall", partitionRate: 300, stock: #"{"26":8}"#) { storage, tableName, vendors in
            let sessions = (0..<240).map { "wall-\($0)" }
            let first = await Self.firstAnswers(vendors, sessions, workers: 48)
            #expect(first.count == sessions.count)
            // Throttled past a request's deadline is 503 Busy; nothing else but a lease is ever answered.
            let unexpected = first.filter { !($0.status == 201 || ($0.status == 503 && $0.code == "Busy")) }
            #expect(
                unexpected.isEmpty, "\(unexpected.prefix(5).map { "\($0.session): \($0.status) \($0.code ?? "")" })")
            // Busy ones try again with the same SessionId (as Terraform's retry would): each ends with one lease.
            var final = Dictionary(uniqueKeysWithValues: first.map { ($0.session, $0) })
            for _ in 0..<10 {
                let pending = final.values.filter { $0.status != 201 && $0.status != 200 }.map(\.session)
                if pending.isEmpty { break }
                for session in pending { final[session] = await Self.allocate(vendors[0], session: session) }
            }
            let outcomes = Array(final.values)
            #expect(outcomes.allSatisfy { $0.status == 201 || $0.status == 200 }, "every session got its lease")
            #expect(Set(outcomes.compactMap(\.leaseId)).count == sessions.count, "one lease per session")
            let blocks = try outcomes.compactMap(\.cidr).map { try IPPrefix(parsing: $0) }.sorted()
            for (a, b) in zip(blocks, blocks.dropFirst()) { #expect(!a.overlaps(b), "\(a) overlaps \(b)") }

            let rows = try await Self.checkedRows(storage, tableName)
            let held = rows.compactMap(NetworkRow.init(entity:)).filter { $0.state == .leased }
            #expect(held.count == sessions.count, "no lease lost or doubled")
            let bySession = Dictionary(held.map { ($0.sessionId ?? "", $0.prefix.description) }) { a, _ in a }
            for outcome in outcomes { #expect(bySession[outcome.session] == outcome.cidr, "\(outcome.session)") }
            let statuses = Dictionary(grouping: first, by: \.status).mapValues(\.count)
            print("concurrentAtTheTarget: first answers by status \(statuses)")
        }
    }

    /// Each session's first answer, from `workers` callers at once, the i-th session sent to the Vendor
    /// `vendors[i % vendors.count]`.
    static func firstAnswers(_ vendors: [String], _ sessions: [String], workers: Int) async -> [Outcome] {
        await withTaskGroup(of: [Outcome].self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var mine: [Outcome] = []
                    for index in stride(from: worker, to: sessions.count, by: workers) {
                        mine.append(await Self.allocate(vendors[index % vendors.count], session: sessions[index]))
                    }
                    return mine
                }
            }
            return await group.reduce(into: [Outcome]()) { $0 += $1 }
        }
    }

    /// Sends each session to `vendor` from `workers` callers at once; Busy answers try again (as Terraform's retry
    /// would) until every session has its answer, or 10 passes.
    static func allocateAll(_ vendor: String, _ sessions: [String], workers: Int) async -> [String: Outcome] {
        let first = await firstAnswers([vendor], sessions, workers: workers)
        var final = Dictionary(uniqueKeysWithValues: first.map { ($0.session, $0) })
        for _ in 0..<10 {
            let pending = final.values.filter { $0.status == 503 && $0.code == "Busy" }.map(\.session)
            if pending.isEmpty { break }
            for session in pending { final[session] = await Self.allocate(vendor, session: session) }
        }
        return final
    }

    @Test(
        "paced, blocks are carved in rounds of callers: every session one block, a session another Vendor served is answered its lease from the round (never a second block), and the table holds"
    )
    func roundsOfCallers() async throws {
        try await Self.withTwoVendors("rounds", partitionRate: 400, stock: #"{"26":4}"#) {
            storage, tableName, vendors in
            // More than the stock the first carves leave (up to 192 blocks, carved before storage first throttles):
            // the rest are carved in rounds once the scope is paced.
            let served = (0..<320).map { "served-\($0)" }
            let firstPass = await Self.allocateAll(vendors[0], served, workers: 32)
            #expect(
                firstPass.values.allSatisfy { $0.status == 201 },
                "\(firstPass.values.filter { $0.status != 201 }.prefix(3))")
            let rounds = try await VendorReplayTests.metric(vendors[0], "ipam_vendor_leases_carved_in_rounds_total")
            #expect(rounds > 0, "the paced Vendor carved leases in rounds")

            // The other Vendor knows none of these sessions: half of its callers replay one, half ask anew, at once.
            let fresh = (0..<96).map { "fresh-\($0)" }
            let replayed = Array(served.prefix(fresh.count))
            let mixed = zip(replayed, fresh).flatMap { [$0, $1] }
            let secondPass = await Self.allocateAll(vendors[1], mixed, workers: 32)
            for session in replayed {
                let again = secondPass[session]
                #expect(again?.status == 200, "\(session): \(again?.status ?? 0) \(again?.code ?? "")")
                #expect(again?.leaseId == firstPass[session]?.leaseId && again?.cidr == firstPass[session]?.cidr)
            }
            for session in fresh { #expect(secondPass[session]?.status == 201, "\(session)") }

            let roundsB = try await VendorReplayTests.metric(vendors[1], "ipam_vendor_leases_carved_in_rounds_total")
            print(
                "roundsOfCallers: leases carved in rounds: \(rounds) of \(served.count), then \(roundsB) of \(fresh.count)"
            )

            let rows = try await Self.checkedRows(storage, tableName)
            let held = rows.compactMap(NetworkRow.init(entity:)).filter { $0.state == .leased }
            #expect(held.count == served.count + fresh.count, "one lease per session, none doubled")
            let bySession = Dictionary(grouping: held, by: { $0.sessionId ?? "" })
            #expect(bySession.values.allSatisfy { $0.count == 1 })
            let sorted = held.map(\.prefix).sorted()
            for (a, b) in zip(sorted, sorted.dropFirst()) { #expect(!a.overlaps(b), "\(a) overlaps \(b)") }
        }
    }
}
