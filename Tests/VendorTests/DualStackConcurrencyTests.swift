import AzureCore
import AzureTables
import FaultProxy
import Foundation
import IPAMCore
import Inventory
import NetworkMath
import TestSupport
import Testing

/// Dual-stack leases under concurrency and faults: a lease holds both of its blocks or neither, never
/// shares either with anyone, and a SessionId gets exactly one pair, across Vendor processes.
@Suite("Dual-stack leases under concurrency and faults", .serialized)
struct DualStackConcurrencyTests {
    static let partition = "\(SampleConfiguration.subscription)_eastus"

    /// One session's request and the final answer it got.
    typealias Answered = (session: String, dual: Bool, body: String, answer: HTTPAnswer?)

    static func environment(table: String, storage: StorageConnectionString, v6: String = "fd00:64::/44") -> [String:
        String]
    {
        // The sample scope with an IPv6 supernet beside its IPv4 one (small stock: most blocks are carved as the run goes).
        SampleConfiguration.environment(
            table: table, connectionString: storage, eastus: #"10.64.0.0/14","\#(v6)"#, stock: #"{"24":4}"#)
    }

    /// The final answer for a session: 503s (storage did not confirm) and unreachable Vendors are retried with
    /// the same SessionId, as a client would.
    static func settle(_ vendors: [String], _ session: String, body: String, start: Int) async -> HTTPAnswer? {
        for attempt in 0..<24 {
            guard
                let answer = try? await HTTPCalls.send(
                    "POST", vendors[(start + attempt) % vendors.count] + "/api/getNewNetwork", body: body,
                    timeout: .seconds(60))
            else { continue }
            if answer.status != 503 { return answer }
        }
        return nil
    }

    /// Checks every answered lease against the table: each dual-stack session's two rows carry its lease and
    /// the blocks it was told, each single one its one row; no two blocks overlap (the invariant checker too).
    static func check(_ table: TableClient, _ answers: [Answered]) async throws {
        let entities = try await table.queryAll(filter: "PartitionKey eq '\(partition)'")
        let problems = InvariantChecker.violations(in: entities)
        #expect(problems.isEmpty, "\(problems.prefix(20).joined(separator: "\n"))")
        let rows = entities.compactMap(NetworkRow.init(entity:))
        var bySession: [String: [NetworkRow]] = [:]
        for row in rows where row.sessionId != nil { bySession[row.sessionId!, default: []].append(row) }
        var told: [IPPrefix] = []
        for (session, dual, _, answer) in answers {
            let answer = try #require(answer, "\(session): no answer")
            #expect([200, 201].contains(answer.status), "\(session): \(answer.text)")
            let held = bySession[session] ?? []
            let v4 = try #require(answer.string("cidr"))
            told.append(try IPPrefix(parsing: v4))
            if dual {
                let v6 = try #require(answer.string("cidrV6"), "\(session): \(answer.text)")
                told.append(try IPPrefix(parsing: v6))
                #expect(
                    Set(held.map(\.prefix.description)) == [v4, v6]
                        && held.allSatisfy { $0.leaseId == answer.string("leaseId") && $0.pairKey != nil },
                    "\(session) was told \(v4) + \(v6); the table holds \(held.map(\.prefix))")
            } else {
                #expect(
                    held.map(\.prefix.description) == [v4] && held.first?.pairKey == nil,
                    "\(session) was told \(v4); the table holds \(held.map(\.prefix))")
            }
        }
        told.sort()
        for (a, b) in zip(told, told.dropFirst()) { #expect(!a.overlaps(b), "\(a) overlaps \(b)") }
    }

    @Test(
        "3 Vendor processes x 48 callers: 240 dual-stack, 120 IPv4 and 120 IPv6 sessions competing for the same stock, one Vendor SIGKILLed mid-run: every session one lease, both blocks of each dual-stack lease, nothing shared"
    )
    func mixedAcrossProcesses() async throws {
        try await LoadTests.exclusive {
            let stack = ProcessStack()
            defer { stack.stopAll() }
            let storage = try await stack.startStorage()
            let tableName = TestStorage.uniqueName("dual")
            let vendors = try await stack.startVendors(
                3, environment: Self.environment(table: tableName, storage: storage))
            let table = try TableServiceClient(connectionString: storage, transport: TestStorage.transport).table(
                tableName)
            let progress = Progress()
            let answers = await withTaskGroup(of: [Answered].self) { group in
                for worker in 0..<48 {
                    group.addTask {
                        var mine: [Answered] = []
                        for index in stride(from: worker, to: 480, by: 48) {
                            let kind = index % 4 // 0, 1: dual-stack; 2: IPv4; 3: IPv6
                            let session = "mix-\(index)"
                            let body = [
                                #"{"SessionId":"\#(session)","dualStack":true,"subnets":[{"name":"app","prefixLength":26}]}"#,
                                #"{"SessionId":"\#(session)","dualStack":true,"prefixLength":25,"prefixLengthV6":60}"#,
                                #"{"SessionId":"\#(session)"}"#, #"{"SessionId":"\#(session)","ipVersion":"v6"}"#,
                            ][kind]
                            mine.append(
                                (session, kind < 2, body, await Self.settle(vendors, session, body: body, start: index))
                            )
                            // the second Vendor dies mid-run
                            if progress.finishOne() == 150 { kill(stack.processes[2].processIdentifier, SIGKILL) }
                        }
                        return mine
                    }
                }
                return await group.reduce(into: []) { $0 += $1 }
            }
            #expect(answers.count == 480)
            try await Self.check(table, answers)
            // A replay of each dual-stack session gets the same pair back (200), whichever Vendor it reaches.
            for (index, entry) in answers.enumerated() where entry.dual {
                let again = await Self.settle(vendors, entry.session, body: entry.body, start: index)
                #expect(
                    again?.status == 200 && again?.string("cidr") == entry.answer?.string("cidr")
                        && again?.string("cidrV6") == entry.answer?.string("cidrV6"),
                    "\(entry.session): \(again?.text ?? "no answer")")
            }
        }
    }

    @Test(
        "faults between Vendors and storage (throttling, 412 storms, 500s and timeouts after the write): 160 dual-stack sessions through 2 Vendors; what was told is what the table holds, and a retry of each ends with exactly one pair"
    )
    func underFaults() async throws {
        try await LoadTests.exclusive {
            let stack = ProcessStack()
            defer { stack.stopAll() }
            let storage = try await stack.startStorage()
            let (proxy, proxied) = try await stack.proxy(storage)
            let tableName = TestStorage.uniqueName("dualf")
            var environment = Self.environment(table: tableName, storage: proxied)
            environment["IPAM_STORAGE_TIMEOUT_MS"] = "1500"
            let vendors = try await stack.startVendors(2, environment: environment)
            let table = try TableServiceClient(connectionString: storage, transport: TestStorage.transport).table(
                tableName)
            proxy.faults = .mixed
            let first = await withTaskGroup(of: [(String, HTTPAnswer?)].self) { group in
                for worker in 0..<32 {
                    group.addTask {
                        var mine: [(String, HTTPAnswer?)] = []
                        for index in stride(from: worker, to: 160, by: 32) {
                            // One attempt each: an answer under faults must be true whatever it is.
                            let answer = try? await HTTPCalls.send(
                                "POST", vendors[index % 2] + "/api/getNewNetwork",
                                body: #"{"SessionId":"df-\#(index)","dualStack":true}"#, timeout: .seconds(60))
                            mine.append(("df-\(index)", answer))
                        }
                        return mine
                    }
                }
                return await group.reduce(into: []) { $0 += $1 }
            }
            proxy.faults = FaultProxy.Faults()
            let counts = proxy.counts
            #expect(
                counts["errorAfterForward", default: 0] > 0 && counts["preconditionStorm", default: 0] > 0, "\(counts)")
            // What each session was told holds in the table: a lease told is both rows; a refusal holds nothing
            // (only OutcomeUnknown may hold a pair the caller was not told of).
            let rows = try await table.queryAll(filter: "PartitionKey eq '\(Self.partition)'").compactMap(
                NetworkRow.init(entity:))
            let held = Dictionary(grouping: rows.filter { $0.sessionId != nil }, by: { $0.sessionId! })
            for (session, answer) in first {
                switch answer?.status {
                case 200?, 201?:
                    #expect(
                        Set(held[session]?.map(\.prefix.description) ?? [])
                            == Set([answer?.string("cidr"), answer?.string("cidrV6")].compactMap { $0 }), "\(session)")
                case 503? where answer?.code == "OutcomeUnknown", nil:
                    #expect([0, 2].contains(held[session]?.count ?? 0), "\(session): a pair or nothing")
                default:
                    #expect(
                        held[session] == nil,
                        "\(session) was told \(answer?.text ?? "") but holds \(held[session]?.map(\.prefix) ?? [])")
                }
            }
            var settled: [Answered] = []
            for (index, (session, answer)) in first.enumerated() {
                let body = #"{"SessionId":"\#(session)","dualStack":true}"#
                let again = await Self.settle(vendors, session, body: body, start: index)
                if [200, 201].contains(answer?.status ?? 0) {
                    #expect(again?.status == 200 && again?.string("leaseId") == answer?.string("leaseId"), "\(session)")
                }
                settled.append((session, true, body, again))
            }
            try await Self.check(table, settled)
            print(
                "dual-stack under faults: proxy \(counts); \(first.filter { ($0.1?.status ?? 0) >= 400 }.count) failed first answers"
            )
        }
    }

    @Test(
        "an IPv6 space with room for 4 /56s and plenty of IPv4: 10 concurrent dual-stack requests give exactly 4 leases and 6 PoolExhausted naming IPv6; the refused hold no IPv4 block"
    )
    func exhaustedV6() async throws {
        try await VendorHarness.withVendor(environment: [
            "SUPERNETS_CONFIG":
                #"[{"subscriptionId":"\#(SampleConfiguration.subscription)","regions":[{"region":"eastus","supernets":["10.64.0.0/16","fd00:64::/54"]}]}]"#
        ]) { url, table, _ in
            let answers = try await withThrowingTaskGroup(of: HTTPAnswer.self) { group in
                for index in 0..<10 {
                    group.addTask {
                        try await HTTPCalls.sendRetryingBusy(
                            "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"ex-\#(index)","dualStack":true}"#)
                    }
                }
                return try await group.reduce(into: [HTTPAnswer]()) { $0.append($1) }
            }
            let leased = answers.filter { $0.status == 201 }
            let refused = answers.filter { $0.code == "PoolExhausted" }
            #expect(leased.count == 4 && refused.count == 6, "\(answers.map { "\($0.status) \($0.code ?? "")" })")
            #expect(
                refused.allSatisfy { $0.status == 409 && $0.json?["details"]?["ipVersion"]?.stringValue == "v6" },
                "\(refused.first?.text ?? "")")
            let rows = try await table.queryAll(filter: "PartitionKey eq '\(Self.partition)'")
            #expect(InvariantChecker.violations(in: rows).isEmpty, "\(InvariantChecker.violations(in: rows))")
            let networks = rows.compactMap(NetworkRow.init(entity:))
            #expect(
                networks.filter { $0.state == .leased }.count == 8,
                "4 pairs: \(networks.filter { $0.state == .leased }.map(\.prefix))")
            #expect(
                networks.filter { $0.state == .leased && $0.prefix.version == .v4 }.allSatisfy { $0.pairKey != nil },
                "no IPv4 block is held without its IPv6 one")
        }
    }
}
