import AzureCore
import AzureTables
import Foundation
import HTTPTransport
import IPAMCore
import Logging
import TestSupport
import Testing
import VendorAPI

@testable import VendorDomain
@testable import VendorHTTP

/// The role a request needs is the role of the route the router resolved: however a path is spelled
/// (`/x/`, `//x`, `/a//b`, `%2F`, upper case), it either reaches no route (404) or is the canonical route,
/// role included. Also the headers every answer carries, the slow-down of failed keys and `/readyz`.
@Suite("Route access")
struct RouteAccessTests {
    static let keys = APIKeys(
        reader: "auditor=reader-key-1", lease: "builder=lease-key-1", admin: "operator=admin-key-1")
    static let reader: HTTPHeaderList = ["x-functions-key": "reader-key-1"]
    static let lease: HTTPHeaderList = ["x-functions-key": "lease-key-1"]

    /// Every spelling of `path` that is not the canonical one.
    static func variants(_ path: String) -> [String] {
        var result = [path + "/", "/" + path, path + "//", path.uppercased()]
        if let inner = path.dropFirst().firstIndex(of: "/") {
            result.append(path.replacingCharacters(in: inner...inner, with: "//"))
            result.append(path.replacingCharacters(in: inner...inner, with: "%2F"))
            result.append(path.replacingCharacters(in: inner...inner, with: "%2f"))
        }
        return result
    }

    @Test(
        "a reader key reaches no lease or admin route through a trailing slash, doubled slashes, %2F or upper case; nothing is written"
    )
    func readerCannotEscalateThroughPathVariants() async throws {
        try await VendorHarness.withVendor(roleKeys: Self.keys) { url, table, _ in
            let admin: HTTPHeaderList = ["x-functions-key": "admin-key-1"]
            let reserved = try await HTTPCalls.send(
                "POST", url + "/api/reservations", body: #"{"prefixLength":28,"owner":"ops","reason":"held"}"#,
                headers: admin)
            #expect(reserved.status == 201, "\(reserved.text)")
            let reservationId = try #require(reserved.string("reservationId"))
            let before = try await table.queryAll().map { "\($0.partitionKey)|\($0.rowKey)|\($0.etag ?? "")" }.sorted()
            let attempts: [(String, String, String?, HTTPHeaderList)] = [
                ("POST", "/api/reservations", #"{"prefixLength":28,"owner":"ops","reason":"escalation"}"#, Self.reader),
                ("DELETE", "/api/reservations/\(reservationId)", nil, Self.reader),
                ("POST", "/api/adoptNetwork", #"{"SessionId":"adopt-1","cidr":"10.64.40.0/24"}"#, Self.reader),
                ("GET", "/api/webhooks/ops/deliveries", nil, Self.reader),
                ("POST", "/api/getNewNetwork", #"{"SessionId":"escalation-1"}"#, Self.reader),
                ("POST", "/api/reservations", #"{"prefixLength":28,"owner":"ops","reason":"escalation"}"#, Self.lease),
                ("DELETE", "/api/reservations/\(reservationId)", nil, Self.lease),
                ("POST", "/api/adoptNetwork", #"{"SessionId":"adopt-2","cidr":"10.64.41.0/24"}"#, Self.lease),
            ]
            for (method, path, body, key) in attempts {
                let canonical = try await HTTPCalls.send(method, url + path, body: body, headers: key)
                #expect(
                    canonical.status == 403 && canonical.code == "Forbidden",
                    "\(method) \(path): \(canonical.status) \(canonical.text)")
                for variant in Self.variants(path) {
                    let answer = try await HTTPCalls.send(method, url + variant, body: body, headers: key)
                    let sameAsCanonical = answer.status == 403 && answer.code == "Forbidden"
                    let noRoute = answer.status == 404 && answer.code == "NotFound"
                    #expect(sameAsCanonical || noRoute, "\(method) \(variant): \(answer.status) \(answer.text)")
                }
            }
            let after = try await table.queryAll().map { "\($0.partitionKey)|\($0.rowKey)|\($0.etag ?? "")" }.sorted()
            #expect(before == after, "a refused request writes nothing")
            // The variants that resolve are the canonical route for the keys that may use it too.
            let created = try await HTTPCalls.send(
                "POST", url + "//api//getNewNetwork/", body: #"{"SessionId":"variant-ok"}"#, headers: Self.lease)
            #expect(created.status == 201, "\(created.text)")
            let released = try await HTTPCalls.send(
                "DELETE", url + "/api/reservations/\(reservationId)/", headers: admin)
            #expect(released.status == 200 && released.json?["released"] == .bool(true), "\(released.text)")
        }
    }

    @Test(
        "a path no route serves is 404 without asking for a key; a served path answers other methods 405 with Allow; metrics label the resolved route"
    )
    func unmatchedPathsAndMethods() async throws {
        try await VendorHarness.withVendor(roleKeys: Self.keys) { url, _, _ in
            for path in ["/api/nothing", "/api/reservations/a/b", "/API/leases", "/api", "/console/x"] {
                let answer = try await HTTPCalls.send("GET", url + path, headers: Self.reader)
                #expect(answer.status == 404 && answer.code == "NotFound", "\(path): \(answer.status) \(answer.text)")
            }
            #expect(
                try await HTTPCalls.send("POST", url + "/api/nothing").status == 404,
                "no route: nothing to authenticate for")
            let wrongMethod = try await HTTPCalls.send("PATCH", url + "/api/reservations/", headers: Self.reader)
            #expect(wrongMethod.status == 405 && wrongMethod.code == "MethodNotAllowed", "\(wrongMethod.text)")
            #expect(wrongMethod.headers["Allow"] == "POST, GET")
            #expect(try await HTTPCalls.send("POST", url + "/healthz").headers["Allow"] == "GET")
            for method in ["QUERY", "TRACE"] { // not only the methods routes are registered for
                let answer = try await HTTPCalls.send(method, url + "//api/leases/")
                #expect(
                    answer.status == 405 && answer.headers["Allow"] == "GET",
                    "\(method): \(answer.status) \(answer.text)")
            }
            #expect(try await HTTPCalls.send("QUERY", url + "/api/nothing").status == 404)
            #expect(
                try await HTTPCalls.send(
                    "GET", url + "/api/leases/00000000-0000-4000-8000-000000000000/", headers: Self.reader
                ).status == 404)
            let metrics = try await HTTPCalls.send("GET", url + "/metrics", headers: Self.reader)
            let lines = Set(metrics.text.split(separator: "\n").map(String.init))
            #expect(
                lines.contains(#"ipam_http_requests_total{route="/api/leases/{leaseId}",method="GET",status="404"} 1"#),
                "\(metrics.text)")
            #expect(
                lines.contains(#"ipam_http_requests_total{route="/api/reservations",method="PATCH",status="405"} 1"#))
            #expect(lines.contains(#"ipam_http_requests_total{route="other",method="GET",status="404"} 5"#))
            #expect(
                lines.contains(#"ipam_http_requests_total{route="/api/leases",method="other",status="405"} 2"#),
                "unknown methods share one label")
        }
    }

    @Test("every answer carries nosniff and no-store: successes, errors, refusals, unknown paths, health checks")
    func securityHeaders() async throws {
        try await VendorHarness.withVendor(roleKeys: Self.keys) { url, _, _ in
            let answers = [
                try await HTTPCalls.send("GET", url + "/api/leases", headers: Self.reader),
                try await HTTPCalls.send("POST", url + "/api/reservations", body: "{}", headers: Self.reader),
                try await HTTPCalls.send("GET", url + "/api/leases"),
                try await HTTPCalls.send("GET", url + "/api/leases", headers: ["x-functions-key": "wrong"]),
                try await HTTPCalls.send("GET", url + "/nowhere"),
                try await HTTPCalls.send("DELETE", url + "/healthz"),
                try await HTTPCalls.send("GET", url + "/healthz"),
                try await HTTPCalls.send("GET", url + "/metrics", headers: Self.reader),
            ]
            for answer in answers {
                #expect(
                    answer.headers["X-Content-Type-Options"] == "nosniff", "\(answer.status) \(answer.text.prefix(80))")
                #expect(answer.headers["Cache-Control"] == "no-store", "\(answer.status) \(answer.text.prefix(80))")
            }
        }
    }

    @Test(
        "failed keys from one address are slowed down after a burst, a valid key from it is answered at once, and a pause refills the allowance"
    )
    func failedKeysAreSlowedDown() async throws {
        let time = ManualTime()
        try await VendorHarness.withVendor(roleKeys: Self.keys, time: time.source) { url, _, _ in
            func delays() -> [Duration] { time.sleeps.filter { $0 >= .milliseconds(100) } }
            let burst = FailedKeyThrottle.Policy().burst
            for attempt in 0..<burst {
                let answer = try await HTTPCalls.send(
                    "GET", url + "/api/leases", headers: ["x-functions-key": "guess-\(attempt)"])
                #expect(answer.status == 401)
            }
            #expect(delays().isEmpty, "the burst is answered at once")
            for attempt in 0..<3 {
                let answer = try await HTTPCalls.send(
                    "GET", url + "/api/leases", headers: ["Authorization": "Bearer guess-more-\(attempt)"])
                #expect(answer.status == 401 && answer.code == "Unauthorized")
                // Between guesses the valid key is answered without waiting.
                let valid = try await HTTPCalls.send("GET", url + "/api/whoami", headers: Self.reader)
                #expect(valid.status == 200 && valid.string("caller") == "auditor")
            }
            #expect(
                delays() == [.seconds(1), .seconds(1), .seconds(1)],
                "each guess beyond the burst waits for its turn: \(time.sleeps)")
            // A request without any key is no guess.
            #expect(try await HTTPCalls.send("GET", url + "/api/leases").status == 401)
            #expect(delays().count == 3)
            time.advance(by: .seconds(60))
            #expect(
                try await HTTPCalls.send("GET", url + "/api/leases", headers: ["x-functions-key": "after-pause"]).status
                    == 401)
            #expect(delays().count == 3, "a pause refills the allowance")
        }
    }

    @Test("failed keys at the console's sign-in are slowed down the same way; a valid key still signs in at once")
    func consoleSignInFailuresAreSlowedDown() async throws {
        let time = ManualTime()
        let secret = ["CONSOLE_SESSION_SECRET": "route-access-console-secret-0123456789"]
        try await VendorHarness.withVendor(environment: secret, roleKeys: Self.keys, time: time.source) { url, _, _ in
            func delays() -> [Duration] { time.sleeps.filter { $0 >= .milliseconds(100) } }
            for attempt in 0..<FailedKeyThrottle.Policy().burst {
                let answer = try await ConsoleTests.signIn(url, key: "guess-\(attempt)")
                #expect(answer == nil)
            }
            #expect(delays().isEmpty)
            let refused = try await ConsoleTests.signIn(url, key: "guess-beyond")
            #expect(refused == nil)
            #expect(delays() == [.seconds(1)], "\(time.sleeps)")
            let signedIn = try await ConsoleTests.signIn(url, key: "reader-key-1")
            #expect(signedIn != nil)
            #expect(delays() == [.seconds(1)], "a valid key is not delayed")
        }
    }

    @Test("the throttle keeps addresses apart, bounds each wait, and remembers at most its capacity of addresses")
    func throttleBounds() {
        let time = ManualTime()
        let policy = FailedKeyThrottle.Policy(burst: 2, interval: .seconds(1), maxDelay: .seconds(3), capacity: 100)
        let throttle = FailedKeyThrottle(policy: policy, uptime: time.source.uptime)
        #expect(throttle.delay(afterFailureFrom: "10.0.0.1") == .zero)
        #expect(throttle.delay(afterFailureFrom: "10.0.0.1") == .zero)
        #expect(throttle.delay(afterFailureFrom: "10.0.0.1") == .seconds(1))
        #expect(throttle.delay(afterFailureFrom: "10.0.0.2") == .zero, "another address has its own allowance")
        // Concurrent guesses pile up debt, but no answer waits longer than maxDelay.
        let waits = (0..<20).map { _ in throttle.delay(afterFailureFrom: "10.0.0.1") }
        #expect(waits.last == .seconds(3) && waits.allSatisfy { $0 <= .seconds(3) })
        for index in 0..<1000 { _ = throttle.delay(afterFailureFrom: "192.0.2.\(index)") }
        #expect(throttle.trackedAddresses <= 100)
    }

    @Test("/readyz says only that storage is unavailable; the detail (host, port, error) goes to the log")
    func readinessHidesStorageDetail() async throws {
        let capture = LogCapture()
        let detail = "storage: connection refused (http://10.20.30.40:10002/devstoreaccount1/networkCidr)"
        try await VendorHarness.withVendor(logger: capture.logger(level: .info), readiness: { detail }) { url, _, _ in
            let answer = try await HTTPCalls.send("GET", url + "/readyz")
            #expect(
                answer.status == 503 && answer.string("status") == "unavailable"
                    && answer.string("reason") == "storage unavailable")
            #expect(!answer.text.contains("10.20.30.40") && !answer.text.contains("10002"), "\(answer.text)")
            #expect(
                capture.captured.contains { $0.metadata["reason"] == detail },
                "the operator still finds the cause in the log")
        }
        // The real Vendor, its storage gone after start-up.
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let storagePort = try await stack.launch("table-emulator", arguments: ["--port", "0", "--in-memory"])
        let storage = StorageConnectionString(
            accountName: StorageConnectionString.developmentAccountName,
            accountKey: StorageConnectionString.developmentAccountKey,
            tableEndpoint: "http://127.0.0.1:\(storagePort)/devstoreaccount1")
        let environment = SampleConfiguration.environment(
            table: TestStorage.uniqueName("ready"), connectionString: storage)
        let vendor = try await stack.startVendor(environment: environment)
        #expect(try await HTTPCalls.send("GET", vendor + "/readyz").status == 200)
        let emulator = try #require(stack.processes.first)
        emulator.terminate()
        emulator.waitUntilExit()
        let down = try await HTTPCalls.send("GET", vendor + "/readyz")
        #expect(down.status == 503 && down.string("reason") == "storage unavailable", "\(down.text)")
        #expect(!down.text.contains("127.0.0.1") && !down.text.contains(String(storagePort)), "\(down.text)")
    }

    @Test("console: no spelling of a console path skips its session check; one that resolves is the canonical route")
    func consolePathVariants() async throws {
        let secret = ["CONSOLE_SESSION_SECRET": "route-access-console-secret-0123456789"]
        try await VendorHarness.withVendor(environment: secret, roleKeys: Self.keys) { url, table, _ in
            // Every page the route table declares (a page added later included), canonical and in every spelling:
            // without a session, nothing but the way to sign in.
            let pages = API.Console.routes.filter { $0.method == .get && $0.path != API.Console.signInPage.path }
                .map { route in
                    route.path(
                        Dictionary(uniqueKeysWithValues: route.parameters.map { ($0, String($0.dropLast(2)) + "-1") }))
                }
            for path in pages + pages.flatMap(Self.variants) {
                let answer = try await HTTPCalls.send("GET", url + path)
                #expect(
                    [303, 404].contains(answer.status)
                        && answer.headers["Location"].map { $0 == "/console/signin" } ?? true
                        && !answer.text.contains("<table"),
                    "\(path): \(answer.status)")
                if pages.contains(path) { #expect(answer.status == 303, "\(path): \(answer.status)") }
            }
            for path in ["/console/leases/", "//console/leases", "/console//leases", "/console/audit/", "//console"] {
                let answer = try await HTTPCalls.send("GET", url + path)
                #expect(
                    answer.status == 303 && answer.headers["Location"] == "/console/signin", "\(path): \(answer.status)"
                )
            }
            let readerCookie = try #require(try await ConsoleTests.signIn(url, key: "reader-key-1"))
            let page = try await HTTPCalls.send("GET", url + "/console/reservations", headers: ["Cookie": readerCookie])
            let csrf = page.text.firstMatch(of: /name="csrf" value="([^"]+)"/).map { String($0.1) } ?? ""
            let form = "csrf=\(csrf)&cidr=10.64.50.0%2F28&owner=ops&reason=escalation"
            for path in ["/console/reservations"] + Self.variants("/console/reservations") {
                for cookie in [nil, readerCookie] {
                    let answer = try await HTTPCalls.send(
                        "POST", url + path, body: form, headers: cookie.map { ["Cookie": $0] } ?? [:],
                        contentType: "application/x-www-form-urlencoded")
                    let who = cookie == nil ? "without a session" : "as a reader"
                    #expect(answer.status == 403 || answer.status == 404, "\(path) \(who): \(answer.status)")
                }
            }
            #expect(
                try await table.queryAll(filter: "RowKey ge 'reservation_' and RowKey lt 'reservation`'").isEmpty,
                "no reservation was made")
            // An admin's session through a spelling that resolves gets exactly the canonical route.
            let adminCookie = try #require(try await ConsoleTests.signIn(url, key: "admin-key-1"))
            let adminPage = try await HTTPCalls.send(
                "GET", url + "/console//reservations/", headers: ["Cookie": adminCookie])
            let adminCSRF = adminPage.text.firstMatch(of: /name="csrf" value="([^"]+)"/).map { String($0.1) } ?? ""
            let made = try await HTTPCalls.send(
                "POST", url + "//console/reservations/",
                body: "csrf=\(adminCSRF)&cidr=10.64.50.0%2F28&owner=ops&reason=held",
                headers: ["Cookie": adminCookie], contentType: "application/x-www-form-urlencoded")
            let location = made.headers["Location"] ?? ""
            #expect(
                made.status == 303 && location.hasPrefix("/console/reservations?done=Reserved"),
                "\(made.status) \(made.text)")
            #expect(
                try await table.queryAll(filter: "RowKey ge 'reservation_' and RowKey lt 'reservation`'").count == 1)
        }
    }

    @Test("ipam-mcp serve: no spelling of /mcp opens a session without a key the Vendor accepts")
    func mcpPathVariants() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let storage = try await stack.startStorage()
        var environment = SampleConfiguration.environment(
            table: TestStorage.uniqueName("mcpv"), connectionString: storage)
        environment["VENDOR_API_KEYS"] = "mcp-variant-key"
        let vendor = try await stack.startVendor(environment: environment)
        let port = try await stack.launch(
            "ipam-mcp", arguments: ["serve", "--port", "0", "--vendor-url", vendor, "--log-level", "error"])
        let initialize =
            #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"#
            + #""clientInfo":{"name":"t","version":"1"}}}"#
        for path in ["/mcp", "/mcp/", "//mcp", "/mcp//", "//mcp/", "/MCP", "/mcp%2F"] {
            for key in [nil, "not-a-vendor-key"] {
                var headers: HTTPHeaderList = ["Accept": "application/json, text/event-stream"]
                if let key { headers["Authorization"] = "Bearer \(key)" }
                let answer = try await HTTPCalls.send(
                    "POST", "http://127.0.0.1:\(port)" + path, body: initialize, headers: headers, timeout: .seconds(20)
                )
                #expect(
                    answer.status == 401 || answer.status == 404,
                    "\(path) with \(key ?? "no key"): \(answer.status) \(answer.text)")
                #expect(answer.headers["Mcp-Session-Id"] == nil)
                #expect(
                    answer.headers["X-Content-Type-Options"] == "nosniff"
                        && answer.headers["Cache-Control"] == "no-store", "\(path)")
            }
        }
        let health = try await HTTPCalls.send("GET", "http://127.0.0.1:\(port)/healthz", timeout: .seconds(20))
        #expect(
            health.status == 200 && health.headers["X-Content-Type-Options"] == "nosniff"
                && health.headers["Cache-Control"] == "no-store")
    }
}
