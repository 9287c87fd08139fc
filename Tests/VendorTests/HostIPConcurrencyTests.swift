import AzureCore
import AzureTables
import FaultProxy
import Foundation
import HTTPTransport
import IPAMCore
import Inventory
import NetworkMath
import StrictJSON
import Synchronization
import TestSupport
import Testing

/// Host-IP leases with real `vendor` processes: many callers at once on one lease, faults between the
/// Vendors and storage, and the invariant checker over the lease's partition afterwards.
@Suite("Host-IP leases under concurrency and faults", .serialized)
struct HostIPConcurrencyTests {
    static let ownerKey: HTTPHeaderList = ["x-functions-key": "owner-secret-1"]

    static func environment(_ storage: StorageConnectionString, table: String) -> [String: String] {
        var environment = SampleConfiguration.environment(
            table: table, connectionString: storage, stock: #"{"24":2,"27":2}"#)
        environment["VENDOR_API_KEYS"] = "owner=owner-secret-1"
        return environment
    }

    /// Sends to `vendors[start]`, moving on when one cannot be reached.
    static func send(_ vendors: [String], start: Int, _ method: String, _ path: String, body: String? = nil) async
        -> HTTPAnswer?
    {
        for hop in 0..<vendors.count {
            if let answer = try? await HTTPCalls.send(
                method, vendors[(start + hop) % vendors.count] + path, body: body, headers: ownerKey,
                timeout: .seconds(60))
            {
                return answer
            }
        }
        return nil
    }

    static func lease(_ vendor: String, prefixLength: Int) async throws -> (id: String, block: IPPrefix) {
        let answer = try await HTTPCalls.send(
            "POST", vendor + "/api/getNewNetwork",
            body: #"{"SessionId":"env-\#(prefixLength)","prefixLength":\#(prefixLength)}"#, headers: ownerKey)
        #expect(answer.status == 201, "\(answer.text)")
        return (try #require(answer.string("leaseId")), try IPPrefix(parsing: try #require(answer.string("cidr"))))
    }

    static func checkInvariants(_ storage: StorageConnectionString, table: String, leaseId: String) async throws {
        let client = try TableServiceClient(connectionString: storage, transport: TestStorage.transport).table(table)
        let problems = try await Inventory(table: client, actor: "test").hostIPViolations(leaseId: leaseId)
        #expect(problems.isEmpty, "\(problems.prefix(20).joined(separator: "\n"))")
    }

    @Test(
        "4 Vendor processes x 64 principals at once on one /24, each asking twice through different Vendors: 64 distinct addresses, one per principal, stable on replay; a /28 exhausted exactly at 11"
    )
    func sixtyFourPrincipals() async throws {
        try await LoadTests.exclusive {
            let stack = ProcessStack()
            defer { stack.stopAll() }
            let storage = try await stack.startStorage()
            let table = TestStorage.uniqueName("hip")
            let vendors = try await stack.startVendors(4, environment: Self.environment(storage, table: table))
            let (leaseId, block) = try await Self.lease(vendors[0], prefixLength: 24)
            let path = "/api/leases/\(leaseId)/ips"
            let answers = await withTaskGroup(of: (String, HTTPAnswer?).self) { group in
                for index in 0..<128 {
                    let principal = "vm-\(index % 64)"
                    group.addTask {
                        (
                            principal,
                            await Self.send(
                                vendors, start: index % 4, "POST", path, body: #"{"principal":"\#(principal)"}"#)
                        )
                    }
                }
                return await group.reduce(into: [(String, HTTPAnswer?)]()) { $0.append($1) }
            }
            let failed = answers.filter { ![200, 201].contains($0.1?.status ?? 0) }
            #expect(failed.isEmpty, "\(failed.prefix(5).map { "\($0.0): \($0.1?.text ?? "unreachable")" })")
            var byPrincipal: [String: Set<String>] = [:]
            for (principal, answer) in answers {
                byPrincipal[principal, default: []].insert(answer?.string("ip") ?? "")
            }
            #expect(
                byPrincipal.count == 64 && byPrincipal.values.allSatisfy { $0.count == 1 },
                "both answers of a principal name the same address")
            #expect(
                answers.filter { $0.1?.status == 201 }.count == 64,
                "exactly one of each principal's two calls created it")
            let addresses = byPrincipal.values.compactMap(\.first)
            #expect(Set(addresses).count == 64, "no address twice")
            let hosts = HostAddresses(subnet: block)
            #expect(
                Set(addresses) == Set((4..<68).map { hosts.address(at: $0).description }),
                "the 64 lowest usable offsets")
            // Replays through every Vendor: the same address, nothing written.
            for (index, principal) in byPrincipal.keys.sorted().enumerated() {
                let again = await Self.send(
                    vendors, start: index % 4, "POST", path, body: #"{"principal":"\#(principal)"}"#)
                #expect(again?.status == 200 && again?.string("ip") == byPrincipal[principal]?.first)
            }
            let listing = await Self.send(vendors, start: 1, "GET", path)
            #expect(listing?.json?["ips"]?.arrayValue?.count == 64)
            try await Self.checkInvariants(storage, table: table, leaseId: leaseId)

            // A /28 holds 11 addresses: 32 principals at once through the 4 Vendors get exactly 11 of them.
            let (small, smallBlock) = try await Self.lease(vendors[1], prefixLength: 28)
            let race = await withTaskGroup(of: HTTPAnswer?.self) { group in
                for index in 0..<32 {
                    group.addTask {
                        await Self.send(
                            vendors, start: index % 4, "POST", "/api/leases/\(small)/ips",
                            body: #"{"principal":"node-\#(index)"}"#)
                    }
                }
                return await group.reduce(into: [HTTPAnswer?]()) { $0.append($1) }
            }
            let granted = race.compactMap { $0 }.filter { $0.status == 201 }
            #expect(
                granted.count == 11 && race.compactMap { $0 }.filter { $0.code == "IPExhausted" }.count == 21,
                "\(race.map { $0?.status ?? 0 })")
            #expect(
                Set(granted.compactMap { $0.string("ip") })
                    == Set((4...14).map { HostAddresses(subnet: smallBlock).address(at: $0).description }))
            try await Self.checkInvariants(storage, table: table, leaseId: small)
        }
    }

    @Test(
        "a dual-stack lease: 3 Vendor processes x 48 principals at once get an IPv4 and an IPv6 address each, the IPv6 one in the /64 of the same subnet, at the same lowest offsets; releases return both and LIFO reuse gives both back"
    )
    func dualStackPrincipals() async throws {
        try await LoadTests.exclusive {
            let stack = ProcessStack()
            defer { stack.stopAll() }
            let storage = try await stack.startStorage()
            let table = TestStorage.uniqueName("hipds")
            var environment = SampleConfiguration.environment(
                table: table, connectionString: storage, eastus: #"10.64.0.0/16","fd00:64::/44"#)
            environment["VENDOR_API_KEYS"] = "owner=owner-secret-1"
            let vendors = try await stack.startVendors(3, environment: environment)
            let made = try await HTTPCalls.send(
                "POST", vendors[0] + "/api/getNewNetwork",
                body:
                    #"{"SessionId":"env-ds","dualStack":true,"subnets":[{"name":"app","prefixLength":25},{"name":"db","prefixLength":26}]}"#,
                headers: Self.ownerKey)
            let leaseId = try #require(made.string("leaseId"), "\(made.text)")
            let app = made.json?["subnets"]?.arrayValue?.first { $0["name"]?.stringValue == "app" }
            let (appV4, appV6) = (
                try IPPrefix(parsing: try #require(app?["cidr"]?.stringValue)),
                try IPPrefix(parsing: try #require(app?["cidrV6"]?.stringValue))
            )
            let path = "/api/leases/\(leaseId)/ips"
            let answers = await withTaskGroup(of: (String, HTTPAnswer?).self) { group in
                for index in 0..<48 {
                    group.addTask {
                        (
                            "vm-\(index)",
                            await Self.send(
                                vendors, start: index % 3, "POST", path,
                                body: #"{"principal":"vm-\#(index)","subnet":"app"}"#)
                        )
                    }
                }
                return await group.reduce(into: [(String, HTTPAnswer?)]()) { $0.append($1) }
            }
            #expect(
                answers.allSatisfy { $0.1?.status == 201 },
                "\(answers.filter { $0.1?.status != 201 }.prefix(3).map { "\($0.0): \($0.1?.text ?? "unreachable")" })")
            let (v4Hosts, v6Hosts) = (HostAddresses(subnet: appV4), HostAddresses(subnet: appV6))
            #expect(
                Set(answers.compactMap { $0.1?.string("ip") })
                    == Set((4..<52).map { v4Hosts.address(at: $0).description }))
            #expect(
                Set(answers.compactMap { $0.1?.string("ipV6") })
                    == Set((4..<52).map { v6Hosts.address(at: $0).description }),
                "the same lowest offsets of the subnet's /64")
            #expect(answers.allSatisfy { $0.1?.string("subnetCidrV6") == appV6.description })
            try await Self.checkInvariants(storage, table: table, leaseId: leaseId)

            // Two go back; the next two principals get both of their addresses back, last released first.
            let released = answers.prefix(2).map { $0.0 }
            for principal in released {
                #expect(await Self.send(vendors, start: 1, "DELETE", path + "/\(principal)")?.status == 200)
            }
            let lastV4 = try #require(answers[1].1?.string("ip"))
            let lastV6 = try #require(answers[1].1?.string("ipV6"))
            let next = await Self.send(vendors, start: 2, "POST", path, body: #"{"principal":"late-1","subnet":"app"}"#)
            #expect(
                next?.string("ip") == lastV4 && next?.string("ipV6") == lastV6,
                "LIFO on both sides: \(next?.text ?? "")")
            let listing = await Self.send(vendors, start: 0, "GET", path)
            #expect(listing?.json?["ips"]?.arrayValue?.allSatisfy { $0["ipV6"]?.stringValue != nil } == true)
            try await Self.checkInvariants(storage, table: table, leaseId: leaseId)
        }
    }

    /// What one client knows about one of its principals.
    enum Known: Sendable, Equatable {
        case holds(String)
        case none, unknown
    }

    @Test(
        "2,000 random allocations and releases from 32 clients through 4 Vendors, with throttling, 412 storms and 500s after the write: the invariants hold and every answer was true"
    )
    func randomOperationsUnderFaults() async throws {
        try await LoadTests.exclusive {
            let stack = ProcessStack()
            defer { stack.stopAll() }
            let storage = try await stack.startStorage()
            let (proxy, proxied) = try await stack.proxy(storage)
            let table = TestStorage.uniqueName("hipf")
            var environment = Self.environment(proxied, table: table)
            environment["IPAM_STORAGE_TIMEOUT_MS"] = "1500"
            let vendors = try await stack.startVendors(4, environment: environment)
            // 27 usable addresses for 64 principals
            let (leaseId, block) = try await Self.lease(vendors[0], prefixLength: 27)
            let path = "/api/leases/\(leaseId)/ips"
            proxy.faults = .mixed

            let results = await withTaskGroup(of: (wrong: [String], known: [String: Known], exhausted: Int).self) {
                group in
                for client in 0..<32 {
                    group.addTask {
                        var wrong: [String] = []
                        var exhausted = 0
                        // each principal has one client: its state is known exactly
                        let mine = ["c\(client)-a", "c\(client)-b"]
                        var known: [String: Known] = Dictionary(uniqueKeysWithValues: mine.map { ($0, Known.none) })
                        var random = SystemRandomNumberGenerator()
                        for step in 0..<63 where client * 63 + step < 2000 {
                            let principal = mine[Int.random(in: 0..<2, using: &random)]
                            let start = Int.random(in: 0..<4, using: &random)
                            if Bool.random(using: &random) {
                                guard
                                    let answer = await Self.send(
                                        vendors, start: start, "POST", path, body: #"{"principal":"\#(principal)"}"#)
                                else {
                                    known[principal] = .unknown
                                    continue
                                }
                                switch answer.status {
                                case 201:
                                    if case .holds(let ip) = known[principal] {
                                        wrong.append(
                                            "\(principal) held \(ip) and was given a new \(answer.string("ip") ?? "")")
                                    }
                                    known[principal] = .holds(answer.string("ip") ?? "")
                                case 200:
                                    if case .holds(let ip) = known[principal], ip != answer.string("ip") {
                                        wrong.append("\(principal) held \(ip), told \(answer.string("ip") ?? "")")
                                    }
                                    if known[principal] == Known.none {
                                        wrong.append(
                                            "\(principal) held nothing, told it holds \(answer.string("ip") ?? "")")
                                    }
                                    known[principal] = .holds(answer.string("ip") ?? "")
                                case 409 where answer.code == "IPExhausted":
                                    exhausted += 1
                                    if case .holds = known[principal] {
                                        wrong.append("\(principal) holds an address but was told the lease is full")
                                    }
                                case 503: known[principal] = .unknown // storage did not confirm: the next answer tells
                                default: wrong.append("POST \(principal): \(answer.status) \(answer.text)")
                                }
                            } else {
                                guard
                                    let answer = await Self.send(
                                        vendors, start: start, "DELETE", path + "/\(principal)")
                                else {
                                    known[principal] = .unknown
                                    continue
                                }
                                switch answer.status {
                                case 200:
                                    let released = answer.json?["released"] == .bool(true)
                                    if released, known[principal] == Known.none {
                                        wrong.append(
                                            "\(principal) held nothing, yet released \(answer.string("ip") ?? "")")
                                    }
                                    if !released, case .holds = known[principal] {
                                        wrong.append("\(principal) held an address, yet nothing was released")
                                    }
                                    if released, case .holds(let ip) = known[principal], ip != answer.string("ip") {
                                        wrong.append("\(principal) held \(ip), released \(answer.string("ip") ?? "")")
                                    }
                                    known[principal] = Known.none
                                case 503: known[principal] = .unknown
                                default: wrong.append("DELETE \(principal): \(answer.status) \(answer.text)")
                                }
                            }
                        }
                        return (wrong, known, exhausted)
                    }
                }
                return await group.reduce(into: (wrong: [String](), known: [String: Known](), exhausted: 0)) {
                    $0.wrong += $1.wrong
                    $0.known.merge($1.known) { a, _ in a }
                    $0.exhausted += $1.exhausted
                }
            }
            proxy.faults = FaultProxy.Faults()
            let counts = proxy.counts
            #expect(
                counts["errorAfterForward", default: 0] > 0 && counts["preconditionStorm", default: 0] > 0
                    && counts["throttled", default: 0] > 0, "\(counts)")
            #expect(results.wrong.isEmpty, "\(results.wrong.prefix(10).joined(separator: "\n"))")
            #expect(results.exhausted > 0, "64 principals on 27 addresses: some asked when it was full")

            // The table agrees with what every client was last told, and with itself.
            try await Self.checkInvariants(storage, table: table, leaseId: leaseId)
            let listing = await Self.send(vendors, start: 0, "GET", path)
            let items: [JSONValue] = listing?.json?["ips"]?.arrayValue ?? []
            var held: [String: String] = [:]
            for item in items { held[item["principal"]?.stringValue ?? ""] = item["ip"]?.stringValue ?? "" }
            #expect(Set(held.values).count == held.count && held.count <= HostAddresses(subnet: block).usableCount)
            for (principal, state) in results.known {
                switch state {
                case .holds(let ip): #expect(held[principal] == ip, "\(principal) was told \(ip)")
                case .none: #expect(held[principal] == nil, "\(principal) was told it holds nothing")
                case .unknown: break
                }
            }
            print(
                "host IPs under faults: proxy \(counts); \(results.exhausted) IPExhausted; \(held.count) held at the end"
            )
        }
    }
}
