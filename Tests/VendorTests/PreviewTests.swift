import AzureTables
import Foundation
import HTTPTransport
import IPAMCore
import Inventory
import NetworkMath
import StrictJSON
import TestSupport
import Testing

/// `"dryRun": true` on `POST /api/getNewNetwork` over a real Vendor and storage: it writes nothing (the table's
/// rows byte for byte), answers the block the real request then gets, refuses exactly as the real request does,
/// answers a held session's lease as a replay would, and racing real allocations never doubles a block.
@Suite("getNewNetwork dry runs", .serialized)
struct PreviewTests {
    static let partition = "\(SampleConfiguration.subscription)_eastus"
    static let dual =
        #"[{"subscriptionId":"\#(SampleConfiguration.subscription)","regions":[{"region":"eastus","supernets":["10.64.0.0/16","fd00:64::/48"],"exclude":["10.64.0.0/24"]},{"region":"westeurope","supernets":["10.72.0.0/16"]}]}]"#

    static func post(_ url: String, _ body: String, key: String? = nil) async throws -> HTTPAnswer {
        try await HTTPCalls.send(
            "POST", url + "/api/getNewNetwork", body: body,
            headers: key.map { ["x-functions-key": $0] } ?? [:], timeout: .seconds(60))
    }

    /// `body` with `"dryRun": true` added.
    static func dry(_ body: String) -> String { String(body.dropLast()) + #","dryRun":true}"# }

    /// An error answer without its request id (which differs per call).
    static func refusal(_ answer: HTTPAnswer) -> [String] {
        let members = answer.json?.objectValue?.filter { $0.0 != "requestId" } ?? []
        return ["\(answer.status)"] + members.map { "\($0.0)=\($0.1.serialized())" }
    }

    @Test(
        "many dry runs (new sessions, a held one, a pool, dual-stack, subnets, refusals) leave every row of the table exactly as it was, ETags and timestamps included"
    )
    func writesNothing() async throws {
        try await VendorHarness.withVendor(
            environment: ["SUPERNETS_CONFIG": Self.dual, "POOLS_CONFIG": PoolTests.pools], roleKeys: PoolTests.keys
        ) { url, table, _ in
            let post = { (body: String) in try await Self.post(url, body, key: "alice-key-1") }
            // Some state first: a carve, stock, a lease, a dual-stack lease.
            #expect(try await post(#"{"SessionId":"held"}"#).status == 201)
            #expect(try await post(#"{"SessionId":"held-dual","dualStack":true}"#).status == 201)
            let before = try await table.queryAll()
            #expect(!before.isEmpty)
            var answers: [HTTPAnswer] = []
            for index in 0..<20 {
                answers.append(try await post(Self.dry(#"{"SessionId":"dry-\#(index)"}"#)))
                answers.append(
                    try await post(
                        Self.dry(
                            #"{"SessionId":"dry-s-\#(index)","prefixLength":\#(22 + index % 4),"subnets":[{"name":"app","prefixLength":27}]}"#
                        )))
                answers.append(
                    try await post(Self.dry(#"{"SessionId":"dry-d-\#(index)","dualStack":true}"#)))
                answers.append(
                    try await post(Self.dry(#"{"SessionId":"dry-p-\#(index)","pool":"team-a","tags":{"env":"dev"}}"#)))
                answers.append(try await post(Self.dry(#"{"SessionId":"dry-w-\#(index)","region":"westeurope"}"#)))
            }
            answers.append(try await post(Self.dry(#"{"SessionId":"held"}"#)))
            answers.append(try await post(Self.dry(#"{"SessionId":"held","prefixLength":25}"#)))
            #expect(answers.last?.code == "SessionConflict")
            #expect(
                answers.dropLast().allSatisfy { $0.status == 200 && $0.json?["dryRun"] == .bool(true) },
                "\(answers.filter { $0.status != 200 }.map(\.text).prefix(3))")
            let after = try await table.queryAll()
            #expect(after == before, "a dry run wrote to the table")
            #expect(after.count == before.count)
        }
    }

    @Test(
        "a dry run names the block the real request then gets: carved from an empty scope, from stock, with subnets, dual-stack; nothing held in between"
    )
    func agreesWithTheRealRequest() async throws {
        // Time stands still, so the stock this process read stays fresh between the two calls.
        let time = ManualTime()
        try await VendorHarness.withVendor(environment: ["SUPERNETS_CONFIG": Self.dual], time: time.source) {
            url, table, _ in
            let bodies = [
                #"{"SessionId":"agree-0"}"#, #"{"SessionId":"agree-1"}"#, #"{"SessionId":"agree-2","prefixLength":22}"#,
                #"{"SessionId":"agree-3","subnets":[{"name":"app","prefixLength":26},{"name":"db","prefixLength":27}]}"#,
                // A pair comes from stock only (see Design.md, "Previews"): one dual-stack lease first makes some.
                #"{"SessionId":"warm-dual","dualStack":true}"#,
                #"{"SessionId":"agree-4","dualStack":true,"subnets":[{"name":"app","prefixLength":26}]}"#,
                #"{"SessionId":"agree-5"}"#, #"{"SessionId":"agree-6","prefixLength":22}"#,
            ]
            for body in bodies {
                if body.contains("warm-dual") {
                    #expect(try await Self.post(url, body).status == 201)
                    continue
                }
                let preview = try await Self.post(url, Self.dry(body))
                #expect(
                    preview.status == 200 && preview.json?["heldLease"] == .null && preview.json?["leaseId"] == nil,
                    "\(preview.text)")
                let real = try await Self.post(url, body)
                #expect(real.status == 201, "\(real.text)")
                for member in ["cidr", "prefixLength", "cidrV6", "scope", "subnets"] {
                    #expect(
                        preview.json?[member] == real.json?[member],
                        "\(body): the dry run said \(preview.json?[member]?.serialized() ?? "-"), the lease has \(real.json?[member]?.serialized() ?? "-")"
                    )
                }
                // Now the session holds it: the dry run answers that lease as a replay would.
                let again = try await Self.post(url, Self.dry(body))
                let replay = try await Self.post(url, body)
                #expect(again.status == 200 && replay.status == 200)
                for member in ["cidr", "cidrV6", "subnets"] {
                    #expect(again.json?[member] == replay.json?[member], "\(member): \(again.text) vs \(replay.text)")
                }
                for member in ["leaseId", "state", "expiresAt"] {
                    #expect(
                        again.json?["heldLease"]?[member] == replay.json?[member],
                        "\(member): \(again.text) vs \(replay.text)")
                }
            }
            let rows = try await table.queryAll(filter: "PartitionKey eq '\(Self.partition)'")
            #expect(InvariantChecker.violations(in: rows).isEmpty)
        }
    }

    @Test(
        "a held lease that is due: the dry run answers the renewed expiry (or the revived state) without writing; the replay then writes it"
    )
    func heldLeaseDue() async throws {
        let time = ManualTime()
        try await VendorHarness.withVendor(time: time.source) { url, table, _ in
            let made = try await Self.post(url, #"{"SessionId":"due"}"#)
            #expect(made.status == 201)
            time.advance(by: .seconds(3 * 3600)) // 1 h of 4 left: due for renewal
            let before = try await table.queryAll()
            let preview = try await Self.post(url, Self.dry(#"{"SessionId":"due"}"#))
            #expect(try await table.queryAll() == before, "the dry run renewed nothing")
            let replay = try await Self.post(url, #"{"SessionId":"due"}"#)
            #expect(
                preview.json?["heldLease"]?["expiresAt"] != made.json?["expiresAt"], "the renewal the replay would make"
            )
            #expect(
                preview.json?["heldLease"]?["expiresAt"] == replay.json?["expiresAt"] && replay.status == 200,
                "\(preview.text)")
            #expect(try await table.queryAll() != before, "the replay itself renewed")
        }
    }

    @Test(
        "refusals are the real request's, status, code, message, field and details: quota exceeded, a pool's rules, exhausted, unknown scope and pool, bad values, another caller's session, a different body"
    )
    func refusalsAreTheRealOnes() async throws {
        try await VendorHarness.withVendor(
            environment: [
                "POOLS_CONFIG": PoolTests.pools,
                "SUPERNETS_CONFIG":
                    #"[{"subscriptionId":"\#(SampleConfiguration.subscription)","regions":[{"region":"eastus","supernets":["10.64.0.0/16"],"exclude":["10.64.0.0/24"]},{"region":"westeurope","supernets":["10.72.0.0/22"]}]}]"#,
            ], roleKeys: PoolTests.keys
        ) { url, table, _ in
            // Fill the small region and the ci pool's address quota (256 addresses: four /26).
            for index in 0..<4 {
                #expect(
                    try await Self.post(url, #"{"SessionId":"w-\#(index)","region":"westeurope"}"#, key: "alice-key-1")
                        .status == 201)
                #expect(
                    try await Self.post(
                        url,
                        #"{"SessionId":"ci-\#(index)","pool":"team-a-ci","tags":{"env":"ci"},"prefixLength":26}"#,
                        key: "ci-key-1"
                    ).status == 201)
            }
            let cases: [(String, String, String)] = [
                (
                    "quota", #"{"SessionId":"ci-9","pool":"team-a-ci","tags":{"env":"ci"},"prefixLength":26}"#,
                    "ci-key-1"
                ),
                ("not allowed", #"{"SessionId":"m-1","pool":"team-a","tags":{"env":"dev"}}"#, "mallory-key-1"),
                ("tag required", #"{"SessionId":"t-1","pool":"team-a"}"#, "alice-key-1"),
                ("exhausted", #"{"SessionId":"w-9","region":"westeurope"}"#, "alice-key-1"),
                ("unknown scope", #"{"SessionId":"u-1","region":"mars"}"#, "alice-key-1"),
                ("unknown pool", #"{"SessionId":"u-2","pool":"team-z"}"#, "alice-key-1"),
                ("bad length", #"{"SessionId":"u-3","prefixLength":8}"#, "alice-key-1"),
                ("another's session", #"{"SessionId":"w-0","region":"westeurope"}"#, "bob-key-1"),
                ("another body", #"{"SessionId":"w-0","region":"westeurope","prefixLength":23}"#, "alice-key-1"),
                ("unknown member", #"{"SessionId":"u-4","color":"red"}"#, "alice-key-1"),
            ]
            let before = try await table.queryAll()
            for (name, body, key) in cases {
                let preview = try await Self.post(url, Self.dry(body), key: key)
                #expect(preview.status >= 400, "\(name): \(preview.text)")
                let real = try await Self.post(url, body, key: key)
                #expect(Self.refusal(preview) == Self.refusal(real), "\(name): \(preview.text) vs \(real.text)")
            }
            #expect(try await table.queryAll() == before, "refused requests wrote nothing either way")
            let wrongType = try await Self.post(url, #"{"SessionId":"x-1","dryRun":"yes"}"#, key: "alice-key-1")
            #expect(
                wrongType.status == 400 && wrongType.string("field") == "dryRun", "a dryRun that is not a boolean")
            let nullDry = try await Self.post(url, #"{"SessionId":"x-2","dryRun":null}"#, key: "alice-key-1")
            #expect(nullDry.status == 400 && nullDry.string("field") == "dryRun", "\(nullDry.text)")
            let falseDry = try await Self.post(url, #"{"SessionId":"x-3","dryRun":false}"#, key: "alice-key-1")
            #expect(falseDry.status == 201 && falseDry.json?["dryRun"] == nil, "dryRun false is a real request")
            let reader = try await HTTPCalls.send(
                "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"x-4","dryRun":true}"#)
            #expect(reader.status == 401, "no key, no preview")
        }
    }

    @Test(
        "dry runs racing real allocations: every real answer a distinct block, every dry run answered, and the table's invariants hold"
    )
    func racingRealAllocations() async throws {
        try await VendorHarness.withVendor(environment: ["SUPERNETS_CONFIG": Self.dual]) { url, table, _ in
            let answers = try await withThrowingTaskGroup(of: (Bool, HTTPAnswer).self) { group in
                for index in 0..<24 {
                    let dual = index % 4 == 3 ? #","dualStack":true"# : ""
                    group.addTask {
                        // Busy (contention outlasting a deadline on a loaded machine) is retried like a client.
                        let body = #"{"SessionId":"race-\#(index)"\#(dual)}"#
                        return (
                            false, try await HTTPCalls.sendRetryingBusy("POST", url + "/api/getNewNetwork", body: body)
                        )
                    }
                    group.addTask {
                        (true, try await Self.post(url, Self.dry(#"{"SessionId":"race-dry-\#(index)"\#(dual)}"#)))
                    }
                    group.addTask {
                        (true, try await Self.post(url, Self.dry(#"{"SessionId":"race-\#(index)"\#(dual)}"#)))
                    }
                }
                return try await group.reduce(into: [(Bool, HTTPAnswer)]()) { $0.append($1) }
            }
            let real = answers.filter { !$0.0 }.map(\.1)
            let dry = answers.filter(\.0).map(\.1)
            #expect(real.allSatisfy { $0.status == 201 }, "\(real.filter { $0.status != 201 }.map(\.text))")
            #expect(dry.allSatisfy { $0.status == 200 }, "\(dry.filter { $0.status != 200 }.map(\.text))")
            let blocks = real.flatMap { [$0.string("cidr"), $0.string("cidrV6")].compactMap { $0 } }
            #expect(Set(blocks).count == blocks.count, "a block leased twice: \(blocks.sorted())")
            let rows = try await table.queryAll(filter: "PartitionKey eq '\(Self.partition)'")
            let problems = InvariantChecker.violations(in: rows)
            #expect(problems.isEmpty, "\(problems.prefix(10))")
            let leased = rows.filter {
                $0.rowKey.hasPrefix(RowKeys.networkPrefix) && $0["State"]?.stringValue == "leased"
            }
            #expect(leased.count == blocks.count, "only the real requests hold blocks")
            #expect(!rows.contains { ($0["SessionId"]?.stringValue ?? "").hasPrefix("race-dry") })
        }
    }
}
