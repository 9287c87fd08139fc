import AzureCore
import AzureTables
import Foundation
import HTTPTransport
import IPAMCore
import Inventory
import Logging
import NetworkMath
import StrictJSON
import TestSupport
import Testing

@Suite("Vendor over HTTP")
struct VendorHTTPTests {
    static func allRows(_ table: TableClient) async throws -> [TableEntity] { try await table.queryAll() }

    static func assertInvariants(_ table: TableClient) async throws {
        let problems = InvariantChecker.violations(in: try await allRows(table))
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    @Test("the smallest body gets a default-size block of the default scope")
    func happyPath() async throws {
        try await VendorHarness.withVendor { url, table, configuration in
            let answer = try await HTTPCalls.send(
                "POST", url + "/api/getNewNetwork", body: #"{"SessionId": "test-123"}"#)
            #expect(answer.status == 201)
            let cidr = try IPPrefix(parsing: try #require(answer.string("cidr")))
            #expect(cidr.length == 24)
            #expect(try IPPrefix(parsing: "10.64.0.0/16").contains(cidr))
            #expect(!cidr.overlaps(try IPPrefix(parsing: "10.64.0.0/24")), "excluded range is never vended")
            #expect(answer.string("sessionId") == "test-123")
            #expect(answer.string("scope") == configuration.defaultScope.partitionKey)
            #expect(answer.json?["tag"]?["name"]?.stringValue == "ipam-lease-id")
            #expect(answer.json?["tag"]?["value"]?.stringValue == answer.string("leaseId"))
            #expect(answer.string("expiresAt") != nil)
            #expect(answer.headers["x-request-id"]?.isEmpty == false)
            try await Self.assertInvariants(table)
        }
    }

    @Test(
        "every validation error gets its status and code (400, or 404 unknown scope, 422 subnets that cannot fit), and writes nothing"
    )
    func validationErrors() async throws {
        try await VendorHarness.withVendor { url, table, _ in
            let cases: [(String, String, Int)] = [
                ("{}", "MissingField", 400), (#"{"SessionId":""}"#, "InvalidSessionId", 400),
                (#"{"SessionId":"a b"}"#, "InvalidSessionId", 400),
                (#"{"SessionId":"s","prefixLength":8}"#, "InvalidPrefixLength", 400),
                (#"{"SessionId":"s","prefixLength":"24"}"#, "InvalidField", 400),
                (#"{"SessionId":"s","region":"mars"}"#, "UnknownScope", 404),
                (#"{"SessionId":"s","extra":1}"#, "UnknownField", 400),
                ("not json", "InvalidJSON", 400), ("[]", "InvalidJSON", 400),
                (#"{"SessionId":"s","region":null}"#, "InvalidField", 400),
                (
                    #"{"SessionId":"s","prefixLength":24,"subnets":[{"name":"a","prefixLength":23}]}"#,
                    "SubnetsDoNotFit", 422
                ),
            ]
            for (body, code, status) in cases {
                let answer = try await HTTPCalls.send("POST", url + "/api/getNewNetwork", body: body)
                #expect(answer.status == status, "\(body)")
                #expect(answer.code == code, "\(body): \(answer.text)")
                #expect(answer.string("message")?.isEmpty == false)
                #expect(answer.string("requestId") != nil)
            }
            let wrongType = try await HTTPCalls.send(
                "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"s"}"#, contentType: "text/plain")
            #expect(wrongType.status == 415 && wrongType.code == "UnsupportedMediaType")
            let huge = try await HTTPCalls.send(
                "POST", url + "/api/getNewNetwork",
                body: #"{"SessionId":"s","requester":""# + String(repeating: "x", count: 70_000) + "\"}")
            #expect(huge.status == 413 && huge.code == "PayloadTooLarge")
            let missing = try await HTTPCalls.send("GET", url + "/api/nothing-here")
            #expect(missing.status == 404 && missing.code == "NotFound")
            #expect(try await table.queryAll().isEmpty, "no validation failure writes anything")
        }
    }

    @Test("a replay answers the same lease; a different body with the same SessionId is a 409")
    func replayAndConflict() async throws {
        try await VendorHarness.withVendor { url, table, _ in
            let body =
                #"{"SessionId":"mcp-7f3a","prefixLength":26,"requester":"terraform-mcp","tags":{"env":"dev"},"subnets":[{"name":"app","prefixLength":27},{"name":"db","prefixLength":28}]}"#
            let first = try await HTTPCalls.send("POST", url + "/api/getNewNetwork", body: body)
            #expect(first.status == 201)
            let subnets = first.json?["subnets"]?.arrayValue ?? []
            #expect(subnets.count == 2)
            let block = try IPPrefix(parsing: try #require(first.string("cidr")))
            let app = try IPPrefix(parsing: try #require(subnets[0]["cidr"]?.stringValue))
            let db = try IPPrefix(parsing: try #require(subnets[1]["cidr"]?.stringValue))
            #expect(block.contains(app) && block.contains(db) && !app.overlaps(db))
            for _ in 0..<3 {
                let again = try await HTTPCalls.send("POST", url + "/api/getNewNetwork", body: body)
                #expect(again.status == 200)
                #expect(
                    again.string("leaseId") == first.string("leaseId") && again.string("cidr") == first.string("cidr"))
                #expect(again.json?["subnets"] == first.json?["subnets"])
            }
            let conflict = try await HTTPCalls.send(
                "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"mcp-7f3a","prefixLength":25}"#)
            #expect(conflict.status == 409 && conflict.code == "SessionConflict")
            let held = try await table.queryAll(
                filter: "RowKey ge 'net_' and RowKey lt 'net`' and State ne 'available'")
            #expect(held.count == 1, "one block for one session")
            try await Self.assertInvariants(table)
        }
    }

    @Test("callers authenticate with x-functions-key or a bearer key; health checks are open")
    func authentication() async throws {
        try await VendorHarness.withVendor(keys: ["k1-secret", "k2-secret"]) { url, _, _ in
            let none = try await HTTPCalls.send("POST", url + "/api/getNewNetwork", body: #"{"SessionId":"a1"}"#)
            #expect(none.status == 401 && none.code == "Unauthorized")
            let wrong = try await HTTPCalls.send(
                "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"a1"}"#, headers: ["x-functions-key": "nope"])
            #expect(wrong.status == 401)
            let functionsKey = try await HTTPCalls.send(
                "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"a1"}"#,
                headers: ["x-functions-key": "k2-secret"])
            #expect(functionsKey.status == 201)
            let bearer = try await HTTPCalls.send(
                "GET", url + "/api/pools", headers: ["Authorization": "Bearer k1-secret"])
            #expect(bearer.status == 200)
            #expect(try await HTTPCalls.send("GET", url + "/healthz").status == 200)
            #expect(try await HTTPCalls.send("GET", url + "/readyz").status == 200)
            #expect(try await HTTPCalls.send("GET", url + "/metrics").status == 401)
        }
    }

    @Test(
        "/metrics: Prometheus text with allocations (created, replayed), group-commit rounds, HTTP requests by route, storage attempts"
    )
    func metrics() async throws {
        try await VendorHarness.withVendor(keys: ["m-key"]) { url, _, _ in
            let key: HTTPHeaderList = ["x-functions-key": "m-key"]
            for index in 0..<3 {
                #expect(
                    try await HTTPCalls.send(
                        "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"m-\#(index)"}"#, headers: key
                    ).status == 201)
            }
            #expect(
                try await HTTPCalls.send(
                    "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"m-0"}"#, headers: key
                ).status == 200)
            #expect(
                try await HTTPCalls.send("GET", url + "/api/leases/00000000-0000-4000-8000-000000000000", headers: key)
                    .status == 404)
            let answer = try await HTTPCalls.send("GET", url + "/metrics", headers: key)
            #expect(
                answer.status == 200 && answer.headers["Content-Type"]?.hasPrefix("text/plain; version=0.0.4") == true)
            let lines = Set(answer.text.split(separator: "\n").map(String.init))
            #expect(lines.contains(#"ipam_vendor_allocations_total{result="created"} 3"#), "\(answer.text)")
            #expect(lines.contains(#"ipam_vendor_allocations_total{result="replayed"} 1"#))
            #expect(
                lines.contains(#"ipam_http_requests_total{route="/api/getNewNetwork",method="POST",status="201"} 3"#))
            #expect(
                lines.contains(#"ipam_http_requests_total{route="/api/leases/{leaseId}",method="GET",status="404"} 1"#))
            #expect(
                lines.contains {
                    $0.hasPrefix("ipam_vendor_claim_transactions_total ") || $0.hasPrefix("ipam_vendor_carves_total 1")
                })
            #expect(
                lines.contains {
                    $0.hasPrefix(#"ipam_storage_attempts_total{method="POST",status="202",retried="false"}"#)
                }, "batches answer 202")
            #expect(lines.contains { $0.hasPrefix(#"ipam_vendor_allocation_duration_seconds_count"#) })
            #expect(lines.contains("# TYPE ipam_vendor_allocations_total counter"))
        }
    }

    @Test("look-ups, release to quarantine, idempotent repeats, revive by replay, renew")
    func lifecycle() async throws {
        try await VendorHarness.withVendor { url, table, configuration in
            let body = #"{"SessionId":"life-1","prefixLength":25}"#
            let lease = try await HTTPCalls.send("POST", url + "/api/getNewNetwork", body: body)
            let leaseId = try #require(lease.string("leaseId"))
            let byId = try await HTTPCalls.send("GET", url + "/api/leases/\(leaseId)")
            #expect(
                byId.status == 200 && byId.string("cidr") == lease.string("cidr") && byId.string("state") == "leased")
            let bySession = try await HTTPCalls.send("GET", url + "/api/sessions/life-1?region=eastus")
            #expect(bySession.status == 200 && bySession.string("leaseId") == leaseId)
            #expect(try await HTTPCalls.send("GET", url + "/api/sessions/unknown-session").status == 404)
            #expect(try await HTTPCalls.send("GET", url + "/api/leases/\(UUID().uuidString)").code == "LeaseNotFound")
            #expect(try await HTTPCalls.send("GET", url + "/api/leases/not-a-uuid").status == 400)

            let renewed = try await HTTPCalls.send("POST", url + "/api/renewLease", body: #"{"leaseId":"\#(leaseId)"}"#)
            #expect(renewed.status == 200 && renewed.string("expiresAt")! >= lease.string("expiresAt")!)

            let released = try await HTTPCalls.send(
                "POST", url + "/api/releaseNetwork", body: #"{"SessionId":"life-1"}"#)
            #expect(released.status == 200 && released.string("state") == "quarantined")
            let repeated = try await HTTPCalls.send(
                "POST", url + "/api/releaseNetwork", body: #"{"leaseId":"\#(leaseId)"}"#)
            #expect(repeated.status == 410 && repeated.code == "AlreadyReleased")
            #expect(repeated.json?["details"]?["state"]?.stringValue == "quarantined")
            #expect(
                try await HTTPCalls.send("POST", url + "/api/renewLease", body: #"{"SessionId":"life-1"}"#).status
                    == 410)

            // Another caller asking for that size during the quarantine gets another block.
            let other = try await HTTPCalls.send(
                "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"life-2","prefixLength":25}"#)
            #expect(other.status == 201 && other.string("cidr") != lease.string("cidr"))

            // A replay during quarantine revives the same lease rather than handing out another block.
            let revived = try await HTTPCalls.send("POST", url + "/api/getNewNetwork", body: body)
            #expect(
                revived.status == 200 && revived.string("leaseId") == leaseId && revived.string("state") == "leased")
            #expect(try await HTTPCalls.send("POST", url + "/api/releaseNetwork", body: "{}").code == "MissingField")
            _ = configuration
            try await Self.assertInvariants(table)
        }
    }

    @Test("every log line of a request carries its request id, and no key or secret")
    func requestIDsInLogs() async throws {
        let capture = LogCapture()
        try await VendorHarness.withVendor(keys: ["k-secret"], logger: capture.logger(level: .debug)) { url, _, _ in
            let answer = try await HTTPCalls.send(
                "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"logged-1"}"#,
                headers: ["x-functions-key": "k-secret", "x-request-id": "req-abc-123"])
            #expect(answer.status == 201 && answer.headers["x-request-id"] == "req-abc-123")
            let lines = capture.captured.filter { $0.metadata["request_id"] == "req-abc-123" }
            #expect(lines.contains { $0.message == "leased" }, "the service's own log line carries the request id")
            #expect(lines.contains { $0.message == "request" })
            #expect(!capture.captured.contains { "\($0.message) \($0.metadata)".contains("k-secret") })
        }
    }

    @Test("a tiny supernet runs out: 409 PoolExhausted, nothing half-written")
    func exhaustion() async throws {
        try await VendorHarness.withVendor(environment: [
            "SUPERNETS_CONFIG":
                #"[{"subscriptionId":"\#(SampleConfiguration.subscription)","regions":[{"region":"eastus","supernets":["10.99.0.0/22"],"exclude":["10.99.3.0/24"]},{"region":"westeurope","supernets":["10.72.0.0/16"]}]}]"#
        ]) { url, table, _ in
            var cidrs: [String] = []
            for index in 0..<3 {
                let answer = try await HTTPCalls.send(
                    "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"x\#(index)","prefixLength":24}"#)
                #expect(answer.status == 201)
                cidrs.append(answer.string("cidr") ?? "")
            }
            #expect(Set(cidrs) == ["10.99.0.0/24", "10.99.1.0/24", "10.99.2.0/24"])
            let before = try await table.queryAll().count
            let full = try await HTTPCalls.send(
                "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"x9","prefixLength":24}"#)
            #expect(full.status == 409 && full.code == "PoolExhausted")
            #expect(full.json?["details"]?["prefixLength"]?.stringValue == "24")
            #expect(try await table.queryAll().count == before, "nothing half-written")
            // A smaller size still fits nowhere, a bigger one neither; another scope still works.
            #expect(
                try await HTTPCalls.send(
                    "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"x10","prefixLength":25}"#
                ).code == "PoolExhausted")
            #expect(
                try await HTTPCalls.send(
                    "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"x11","region":"westeurope"}"#
                ).status == 201)
            try await Self.assertInvariants(table)
        }
    }

    @Test(
        "the last blocks of a full scope go to concurrent callers: every block is handed out before anyone hears PoolExhausted"
    )
    func lastBlocksUnderConcurrency() async throws {
        // 10.98.0.0/18 minus one /24: 63 blocks. The first caller carves and stocks them all; then, with this
        // Vendor's stock cache gone stale, 63 callers at once: more than one page of stock, much of it in flight.
        let time = ManualTime()
        try await VendorHarness.withVendor(
            environment: [
                "SUPERNETS_CONFIG":
                    #"[{"subscriptionId":"\#(SampleConfiguration.subscription)","regions":[{"region":"eastus","supernets":["10.98.0.0/18"],"exclude":["10.98.63.0/24"]},{"region":"westeurope","supernets":["10.72.0.0/16"]}]}]"#,
                "SCOPE_CONFIG_MANIFEST":
                    #"{"defaultScope":{"subscriptionId":"\#(SampleConfiguration.subscription)","region":"eastus"},"scopes":[{"subscriptionId":"\#(SampleConfiguration.subscription)","region":"eastus","stock":{"24":63}}]}"#,
            ],
            time: time.source
        ) { url, table, _ in
            #expect(
                try await HTTPCalls.send("POST", url + "/api/getNewNetwork", body: #"{"SessionId":"last-0"}"#).status
                    == 201)
            time.advance(by: .milliseconds(2100)) // the stock cache's entries expire (2 s)
            let statuses = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
                for index in 1...63 {
                    group.addTask {
                        let answer = try await HTTPCalls.sendRetryingBusy(
                            "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"last-\#(index)"}"#)
                        return (answer.status, answer.string("cidr"))
                    }
                }
                return try await group.reduce(into: [(Int, String?)]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0.0 == 201 }.count == 62, "\(statuses.filter { $0.0 != 201 })")
            #expect(statuses.filter { $0.0 == 409 }.count == 1, "only the sixty-fourth session finds the scope full")
            #expect(Set(statuses.compactMap(\.1)).count == 62)
            try await Self.assertInvariants(table)
        }
    }

    @Test("stocked rows are claimed before anything is carved")
    func claimsFromStock() async throws {
        try await VendorHarness.withVendor { url, table, configuration in
            let scope = configuration.defaultScope
            let stocked = ["10.64.200.0/24", "10.64.201.0/24", "10.64.202.0/24"]
            _ = try await Inventory(table: table, actor: "test").addStock(
                try stocked.map { try IPPrefix(parsing: $0) }, in: scope, now: Date(), detail: "test stock")
            var got: [String] = []
            for index in 0..<3 {
                let answer = try await HTTPCalls.send(
                    "POST", url + "/api/getNewNetwork", body: #"{"SessionId":"stock-\#(index)"}"#)
                #expect(answer.status == 201)
                got.append(answer.string("cidr") ?? "")
            }
            #expect(Set(got) == Set(stocked))
            let head = try await table.get(partitionKey: scope.partitionKey, rowKey: "head")
            #expect(
                head?["Version"]?.int64Value == 1,
                "no carve happened: the head is still at the version the seeding took it to")
            let pools = try await HTTPCalls.send("GET", url + "/api/pools")
            #expect(pools.status == 200)
            try await Self.assertInvariants(table)
        }
    }
}
