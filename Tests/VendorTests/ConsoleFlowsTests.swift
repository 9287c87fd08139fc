import AzureTables
import Foundation
import HTTPTransport
import IPAMCore
import Inventory
import StrictJSON
import TestSupport
import Testing
import VendorAPI
import VendorHTTP

/// The console's lease flows over HTTP (the browser drives them in Tests/conformance/test_console_flows.py):
/// every change allowed to exactly the API's roles for it, refused without the session's CSRF token, written
/// under the signed-in caller, and each release, removal and reservation confirmed on a page naming its CIDR.
@Suite("Console lease flows over HTTP")
struct ConsoleFlowsTests {
    static let keys = APIKeys(
        reader: "auditor=reader-key-1", lease: "alice=alice-key-1,bob=bob-key-1", admin: "operator=admin-key-1")
    static let secret = ["CONSOLE_SESSION_SECRET": "console-flows-secret-0123456789abcdefgh"]
    static let roles: [(key: String, role: Role)] = [
        ("reader-key-1", .reader), ("alice-key-1", .lease), ("admin-key-1", .admin),
    ]

    /// A signed-in browser: its cookie and its session's CSRF token (the sign-out form's, which every form shares).
    struct Browser {
        let url: String
        let cookie: String
        let csrf: String

        init(_ url: String, key: String) async throws {
            self.url = url
            cookie = try #require(try await ConsoleTests.signIn(url, key: key))
            let page = try await HTTPCalls.send("GET", url + "/console", headers: ["Cookie": cookie])
            csrf = try #require(page.text.firstMatch(of: /name="csrf" value="([^"]+)"/).map { String($0.1) })
        }

        func get(_ path: String) async throws -> HTTPAnswer {
            try await HTTPCalls.send("GET", url + path, headers: ["Cookie": cookie])
        }

        /// POSTs a form; `csrf` nil sends this session's token, "" sends none.
        func post(_ path: String, _ fields: [(String, String)] = [], csrf: String? = nil) async throws -> HTTPAnswer {
            let token = csrf ?? self.csrf
            let all = (token.isEmpty ? [] : [("csrf", token)]) + fields
            return try await HTTPCalls.send(
                "POST", url + path, body: ConsoleFlowsTests.form(all), headers: ["Cookie": cookie],
                contentType: "application/x-www-form-urlencoded")
        }
    }

    static func form(_ fields: [(String, String)]) -> String {
        let allowed = CharacterSet.alphanumerics
        return fields.map {
            ($0.0.addingPercentEncoding(withAllowedCharacters: allowed) ?? "") + "="
                + ($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
        }.joined(separator: "&")
    }

    static func api(_ method: String, _ url: String, _ path: String, key: String, body: String? = nil) async throws
        -> HTTPAnswer
    {
        try await HTTPCalls.send(method, url + path, body: body, headers: ["x-functions-key": key])
    }

    /// A lease made through the API by `key`'s caller.
    static func lease(_ url: String, key: String = "alice-key-1", _ extra: String = "") async throws -> (
        id: String, cidr: String
    ) {
        let made = try await api(
            "POST", url, "/api/getNewNetwork", key: key,
            body: #"{"SessionId":"flows-\#(UUID().uuidString.prefix(8))","prefixLength":26\#(extra)}"#)
        return (try #require(made.string("leaseId"), "\(made.text)"), try #require(made.string("cidr")))
    }

    /// The table's rows outside the console's own sessions, with their ETags: what a refused change must leave.
    static func snapshot(_ table: TableClient) async throws -> Set<String> {
        Set(
            try await table.queryAll().filter { $0.partitionKey != "console" }.map {
                "\($0.partitionKey)|\($0.rowKey)|\($0.etag ?? "")"
            })
    }

    /// The events of a lease as the API lists them: (action, actor).
    static func events(_ url: String, lease: String) async throws -> [(String, String)] {
        let listed = try await api("GET", url, "/api/events?leaseId=\(lease)", key: "reader-key-1")
        return (listed.json?["events"]?.arrayValue ?? []).map {
            ($0["action"]?.stringValue ?? "", $0["actor"]?.stringValue ?? "")
        }
    }

    @Test(
        "each page that changes something is refused to exactly the roles the API's route refuses, changing nothing; every POST without a session is refused"
    )
    func rolesAreTheAPIs() async throws {
        try await VendorHarness.withVendor(environment: Self.secret, roleKeys: Self.keys) { url, table, _ in
            let (leaseId, _) = try await Self.lease(url)
            let reserved = try await Self.api(
                "POST", url, "/api/reservations", key: "admin-key-1",
                body: #"{"cidr":"10.64.90.0/24","owner":"ops","reason":"held"}"#)
            let reservationId = try #require(reserved.string("reservationId"), "\(reserved.text)")
            let values = ["leaseId": leaseId, "reservationId": reservationId]
            var browsers: [Role: Browser] = [:]
            for (key, role) in Self.roles { browsers[role] = try await Browser(url, key: key) }
            let before = try await Self.snapshot(table)
            #expect(Set(API.Console.performs.keys).isSubset(of: Set(API.Console.routes)))
            for (page, route) in API.Console.performs.sorted(by: { $0.key.description < $1.key.description }) {
                let needed = try #require(Role(needed: route.access), "\(route) needs a role")
                let path = page.path(values)
                for (_, role) in Self.roles where role < needed || page.method == .get {
                    let browser = try #require(browsers[role])
                    let answer =
                        page.method == .get
                        ? try await browser.get(path)
                        : try await browser.post(path, [("principal", "bob"), ("cidr", "10.64.91.0/24")])
                    if role < needed {
                        #expect(answer.status == 403, "\(page) as \(role): \(answer.status)")
                        #expect(
                            answer.text.contains("needs the \(needed) role (as \(route) does); you have \(role)"),
                            "\(page) as \(role)")
                        #expect(
                            !answer.text.contains("id=\"confirm-form\"") && !answer.text.contains("id=\"request-form\"")
                        )
                    } else {
                        #expect(!answer.text.contains("role (as "), "\(page) as \(role) is allowed: \(answer.status)")
                    }
                }
            }
            // No session: every POST of the console is refused before anything is read.
            for route in API.Console.routes where route.method == .post {
                let answer = try await HTTPCalls.send(
                    "POST", url + route.path(values), body: "csrf=x&principal=bob",
                    contentType: "application/x-www-form-urlencoded")
                #expect(answer.status == 403, "\(route) without a session: \(answer.status)")
            }
            #expect(try await Self.snapshot(table) == before, "no refused attempt changed a row")
        }
    }

    @Test(
        "requesting a network: the result names the CIDR, lease id and tag the API answers, owned by and audited under the caller; a repeat replays; refusals are the API's, keep the form and lease nothing"
    )
    func request() async throws {
        var environment = Self.secret
        environment["POOLS_CONFIG"] =
            #"[{"name":"team-a","cidr":"10.64.128.0/17","rules":{"requiredTags":["cost"]}}]"#
        try await VendorHarness.withVendor(environment: environment, roleKeys: Self.keys) { url, table, configuration in
            let alice = try await Browser(url, key: "alice-key-1")
            let form = try await alice.get("/console/request")
            #expect(form.status == 200 && form.text.contains("id=\"request-form\""), "\(form.text.prefix(300))")
            #expect(form.text.contains(#"<option value="pool:team-a""#))
            let session = try #require(
                form.text.firstMatch(of: /name="sessionId" value="([^"]+)"/).map { String($0.1) })
            let scope = configuration.defaultScope.partitionKey
            let fields = [
                ("sessionId", session), ("area", "scope:\(scope)"), ("prefixLength", "26"), ("ipVersion", "v4"),
                ("requester", "team-x"), ("tags", "env=dev\r\n cost = 42 \r\n\r\n"),
            ]
            // A preview (dry run) names the block and writes nothing.
            let unwritten = try await Self.snapshot(table)
            let preview = try await alice.post("/console/request", fields + [("preview", "1")])
            let previewed = try #require(
                preview.text.firstMatch(of: /id="preview">Would lease ([0-9.]+\/26) now/).map { String($0.1) },
                "\(preview.text)")
            #expect(preview.status == 200 && preview.text.contains("id=\"request-form\""))
            #expect(try await Self.snapshot(table) == unwritten, "the preview wrote nothing")
            let made = try await alice.post("/console/request", fields)
            #expect(made.status == 201, "\(made.text)")
            #expect(made.text.contains("<th scope=\"row\">CIDR</th><td>\(previewed)</td>"), "the previewed block")
            let id = try #require(
                made.text.firstMatch(of: /<code id="tag">ipam-lease-id=([0-9a-f-]{36})<\/code>/).map { String($0.1) },
                "\(made.text)")
            let lease = try await Self.api("GET", url, "/api/leases/\(id)", key: "reader-key-1")
            let cidr = try #require(lease.string("cidr"))
            #expect(made.text.contains("<th scope=\"row\">CIDR</th><td>\(cidr)</td>"))
            #expect(made.text.contains("<th scope=\"row\">Lease</th><td>\(id)</td>"))
            #expect(
                cidr.hasSuffix("/26") && lease.string("requester") == "team-x" && lease.string("sessionId") == session)
            #expect(
                lease.json?["tags"]?["env"]?.stringValue == "dev" && lease.json?["tags"]?["cost"]?.stringValue == "42")
            #expect(try await Self.events(url, lease: id).contains { $0.1 == "alice" }, "the event names alice")
            // The caller owns it: bob (the same role) may not release it through the API; alice may.
            let byBob = try await Self.api(
                "POST", url, "/api/releaseNetwork", key: "bob-key-1", body: #"{"leaseId":"\#(id)"}"#)
            #expect(byBob.status == 403, "\(byBob.text)")

            // The same SessionId again answers the same lease (a replay), not a second one.
            let again = try await alice.post("/console/request", fields)
            #expect(again.status == 200 && again.text.contains("id=\"replayed\"") && again.text.contains(id))
            let held = try await alice.post("/console/request", fields + [("preview", "1")])
            #expect(held.text.contains("This SessionId holds lease \(id) (\(cidr), leased) already"), "\(held.text)")
            // Another caller's SessionId is theirs: the API's refusal, in the form.
            let bob = try await Browser(url, key: "bob-key-1")
            let taken = try await bob.post("/console/request", fields)
            #expect(taken.status == 409 && taken.text.contains("id=\"problem\""), "\(taken.status)")

            // Refusals: the API's message and status, the form kept with what was sent, nothing leased.
            let before = try await Self.snapshot(table)
            let refusals: [([(String, String)], Int, String)] = [
                ([("prefixLength", "8")], 400, "&#39;prefixLength&#39; must be between 20 and 28"),
                ([("prefixLength", "2x")], 400, "&#39;prefixLength&#39; must be a whole number"),
                ([("prefixLength", "99999999999999999999")], 400, "must be a whole number"),
                ([("tags", "no-equals")], 400, "has no &#39;=&#39;"),
                ([("tags", "a=1\na=2")], 400, "tag &#39;a&#39; is given twice"),
                ([("area", "scope:nowhere_eastus")], 404, "no scope or pool &#39;scope:nowhere_eastus&#39;"),
                ([("area", "pool:nope")], 422, "nope"),
                ([("area", "pool:team-a")], 422, "requires the tag &#39;cost&#39;"),
                ([("area", "pool:team-a"), ("dualStack", "on"), ("tags", "cost=1")], 422, "dual-stack"),
                ([("dualStack", "on")], 422, "no IPv6 supernet"),
                ([("sessionId", "")], 400, "SessionId"),
                ([("sessionId", "<script>x</script>")], 400, "SessionId"),
            ]
            for (changes, status, message) in refusals {
                var sent = ["sessionId": "flows-refused"]
                for (name, value) in changes { sent[name] = value }
                let answer = try await alice.post("/console/request", sent.sorted { $0.key < $1.key })
                #expect(answer.status == status, "\(changes): \(answer.status)")
                #expect(answer.text.contains(message), "\(changes): \(answer.text.prefix(600))")
                #expect(answer.text.contains("id=\"request-form\""), "the form is shown again")
                #expect(!answer.text.contains("<script>x"), "escaped")
            }
            let kept = try await alice.post(
                "/console/request", [("sessionId", "flows-kept"), ("prefixLength", "8"), ("requester", "kept-r")])
            #expect(kept.text.contains(#"value="kept-r""#) && kept.text.contains(#"value="flows-kept""#))
            // Without the session's token, or with another session's, nothing is leased.
            #expect(try await alice.post("/console/request", fields, csrf: "").status == 403)
            #expect(try await alice.post("/console/request", fields, csrf: bob.csrf).status == 403)
            #expect(try await alice.post("/console/request", [("sessionId", "flows-forged")], csrf: "").status == 403)
            #expect(try await Self.snapshot(table) == before, "no refused request changed a row")
            // A reader gets no form.
            let reader = try await Browser(url, key: "reader-key-1")
            let refused = try await reader.get("/console/request")
            #expect(refused.status == 403 && !refused.text.contains("id=\"request-form\""))
            let readerPreview = try await reader.post("/console/request", fields + [("preview", "1")])
            #expect(readerPreview.status == 403 && !readerPreview.text.contains("id=\"preview\""))
        }
    }

    @Test(
        "renewing and releasing from the lease page: offered to the owner and admins only, release confirmed on a page naming its CIDR, each audited under the caller, nothing without the token"
    )
    func renewAndRelease() async throws {
        try await VendorHarness.withVendor(environment: Self.secret, roleKeys: Self.keys) { url, table, _ in
            let (id, cidr) = try await Self.lease(url)
            let alice = try await Browser(url, key: "alice-key-1")
            let bob = try await Browser(url, key: "bob-key-1")
            let admin = try await Browser(url, key: "admin-key-1")
            let reader = try await Browser(url, key: "reader-key-1")
            for (browser, offered) in [(alice, true), (admin, true), (bob, false), (reader, false)] {
                let page = try await browser.get("/console/leases/\(id)")
                #expect(page.status == 200)
                #expect(
                    page.text.contains(#"id="renew""#) == offered && page.text.contains(#"id="release""#) == offered)
                #expect(page.text.contains("href=\"/console/leases/\(id)/members\""))
            }
            // Bob's own valid token does not renew or release alice's lease: the domain's refusal.
            let before = try await Self.snapshot(table)
            #expect(try await bob.post("/console/leases/\(id)/renew").status == 403)
            #expect(try await bob.post("/console/leases/\(id)/release").status == 403)
            #expect(try await alice.post("/console/leases/\(id)/release", csrf: "").status == 403)
            #expect(try await alice.post("/console/leases/\(id)/release", csrf: bob.csrf).status == 403)
            #expect(try await alice.post("/console/leases/\(id)/renew", csrf: "").status == 403)
            #expect(try await Self.snapshot(table) == before)

            let renewed = try await alice.post("/console/leases/\(id)/renew")
            let location = try #require(renewed.headers["Location"])
            #expect(renewed.status == 303 && location.hasPrefix("/console/leases/\(id)?done=Renewed"))
            let shown = try await alice.get(location)
            #expect(shown.text.contains("Renewed \(cidr) until "), "the lease page says so")

            let confirm = try await alice.get("/console/leases/\(id)/release")
            #expect(confirm.status == 200 && confirm.text.contains("<h1>Release \(cidr)?</h1>"))
            #expect(
                confirm.text.contains(
                    #"<form method="post" action="/console/leases/\#(id)/release" id="confirm-form">"#))
            #expect(confirm.text.contains("<button type=\"submit\" id=\"confirm\">Release \(cidr)</button>"))
            let still = try await Self.api("GET", url, "/api/leases/\(id)", key: "reader-key-1")
            #expect(still.string("state") == "leased", "the confirmation page released nothing")
            let released = try await alice.post("/console/leases/\(id)/release")
            #expect(released.status == 303 && released.headers["Location"]?.contains("done=Released") == true)
            let after = try await Self.api("GET", url, "/api/leases/\(id)", key: "reader-key-1")
            #expect(after.string("state") == "quarantined")
            let events = try await Self.events(url, lease: id)
            #expect(events.contains { $0 == ("renew", "alice") } && events.contains { $0 == ("release", "alice") })
            // Once released: nothing to confirm, and a repeat is the API's 410.
            let gone = try await alice.get("/console/leases/\(id)/release")
            #expect(gone.text.contains("id=\"blocked\"") && !gone.text.contains("id=\"confirm-form\""))
            #expect(try await alice.post("/console/leases/\(id)/release").status == 410)
            // A lease id that is not one: the API's answer.
            #expect(try await alice.get("/console/leases/not-a-lease/release").status == 400)
            #expect(try await alice.post("/console/leases/\(UUID())/renew").status == 404)
        }
    }

    @Test(
        "members: the owner adds and removes a member (confirmed, naming the principal and the CIDR), each audited under the caller; a non-member sees nothing, a member only itself removable"
    )
    func members() async throws {
        try await VendorHarness.withVendor(environment: Self.secret, roleKeys: Self.keys) { url, table, _ in
            let (id, cidr) = try await Self.lease(url)
            let alice = try await Browser(url, key: "alice-key-1")
            let bob = try await Browser(url, key: "bob-key-1")
            let reader = try await Browser(url, key: "reader-key-1")
            #expect(try await bob.get("/console/leases/\(id)/members").status == 403, "bob is no member yet")
            let page = try await alice.get("/console/leases/\(id)/members")
            #expect(page.status == 200 && page.text.contains("<h1>Members of \(cidr)</h1>"))
            #expect(page.text.contains(#"<tr data-principal="alice"><td>alice</td><td>owner</td>"#))
            #expect(page.text.contains(#"id="member-form""#))
            let before = try await Self.snapshot(table)
            #expect(
                try await alice.post("/console/leases/\(id)/members", [("principal", "bob")], csrf: "").status == 403)
            #expect(try await bob.post("/console/leases/\(id)/members", [("principal", "bob")]).status == 403)
            #expect(try await reader.post("/console/leases/\(id)/members", [("principal", "x")]).status == 403)
            let hostile = try await alice.post("/console/leases/\(id)/members", [("principal", "<b>x</b>")])
            #expect(hostile.status == 400 && !hostile.text.contains("<b>x"))
            let badRole = try await alice.post(
                "/console/leases/\(id)/members", [("principal", "bob"), ("role", "owner")])
            #expect(badRole.status == 400 && badRole.text.contains("must be member or admin"))
            #expect(try await Self.snapshot(table) == before)

            let added = try await alice.post(
                "/console/leases/\(id)/members", [("principal", "bob"), ("role", "member")])
            #expect(added.status == 303 && added.headers["Location"]?.contains("done=Added") == true, "\(added.text)")
            let listed = try await Self.api("GET", url, "/api/leases/\(id)/members", key: "alice-key-1")
            let members = (listed.json?["members"]?.arrayValue ?? []).compactMap { $0["principal"]?.stringValue }
            #expect(members == ["alice", "bob"], "\(listed.text)")
            // Bob sees the members, no add form, and only his own membership removable.
            let asBob = try await bob.get("/console/leases/\(id)/members")
            #expect(asBob.status == 200 && !asBob.text.contains(#"id="member-form""#))
            #expect(asBob.text.contains("members/remove?principal=bob") && !asBob.text.contains("principal=alice"))

            let confirm = try await alice.get("/console/leases/\(id)/members/remove?principal=bob")
            #expect(confirm.status == 200 && confirm.text.contains("<h1>Remove bob from \(cidr)?</h1>"))
            #expect(confirm.text.contains(#"<input type="hidden" name="principal" value="bob">"#))
            let owner = try await alice.get("/console/leases/\(id)/members/remove?principal=alice")
            #expect(owner.text.contains("id=\"blocked\"") && !owner.text.contains("id=\"confirm-form\""))
            let removed = try await alice.post("/console/leases/\(id)/members/remove", [("principal", "bob")])
            #expect(removed.status == 303 && removed.headers["Location"]?.contains("done=Removed") == true)
            #expect(try await bob.get("/console/leases/\(id)/members").status == 403, "bob is no member any more")
            // Audited under the caller, as the API audits it (in the lease's host-address partition): the
            // principal's key of the signed-in caller.
            let alicesKey = PrincipalRedactor(salt: SampleConfiguration.auditSalt).principal("alice").key
            let events = try await Inventory(table: table, actor: "test").hostIPEvents(leaseId: id).map {
                ($0.action.rawValue, $0.actor)
            }
            #expect(events.contains { $0 == ("member-added", alicesKey) }, "\(events)")
            #expect(events.contains { $0 == ("member-removed", alicesKey) }, "\(events)")
        }
    }

    @Test(
        "reservations: reserving and releasing each go through a confirmation page naming the CIDR, checked as the API checks; the admin's reserve and release are audited under the caller"
    )
    func reservations() async throws {
        try await VendorHarness.withVendor(environment: Self.secret, roleKeys: Self.keys) { url, _, _ in
            let admin = try await Browser(url, key: "admin-key-1")
            func listed() async throws -> [JSONValue] {
                try await Self.api("GET", url, "/api/reservations", key: "reader-key-1").json?["reservations"]?
                    .arrayValue ?? []
            }
            let confirm = try await admin.get("/console/reservations/new?cidr=10.64.77.0%2F24&owner=ops&reason=held")
            #expect(confirm.status == 200 && confirm.text.contains("<h1>Reserve 10.64.77.0/24?</h1>"))
            #expect(confirm.text.contains(#"<input type="hidden" name="cidr" value="10.64.77.0/24">"#))
            #expect(
                !(try await listed()).contains { $0["cidr"]?.stringValue == "10.64.77.0/24" }, "nothing reserved yet")
            let hostBits = try await admin.get("/console/reservations/new?cidr=10.64.77.1%2F24&owner=ops&reason=held")
            #expect(
                hostBits.status == 400 && hostBits.text.contains("id=\"blocked\"")
                    && !hostBits.text.contains("confirm-form"))
            let unknown = try await admin.get(
                "/console/reservations/new?scope=nowhere&cidr=10.64.77.0%2F24&owner=o&reason=r")
            #expect(unknown.status == 404 && unknown.text.contains("No scope &#39;nowhere&#39; is configured"))
            let made = try await admin.post(
                "/console/reservations", [("cidr", "10.64.77.0/24"), ("owner", "ops"), ("reason", "held")])
            #expect(made.status == 303)
            let reservation = try #require((try await listed()).first { $0["cidr"]?.stringValue == "10.64.77.0/24" })
            #expect(reservation["createdBy"]?.stringValue == "operator")
            let id = try #require(reservation["reservationId"]?.stringValue)
            let page = try await admin.get("/console/reservations")
            #expect(page.text.contains("href=\"/console/reservations/\(id)/release\""))
            let release = try await admin.get("/console/reservations/\(id)/release")
            #expect(release.status == 200 && release.text.contains("<h1>Release reservation 10.64.77.0/24?</h1>"))
            #expect(release.text.contains("Release 10.64.77.0/24</button>"))
            #expect((try await listed()).contains { $0["cidr"]?.stringValue == "10.64.77.0/24" }, "not released yet")
            let done = try await admin.post("/console/reservations/\(id)/release")
            #expect(done.status == 303 && done.headers["Location"]?.contains("Released") == true)
            #expect(!(try await listed()).contains { $0["cidr"]?.stringValue == "10.64.77.0/24" })
            let events = try await Self.api(
                "GET", url, "/api/events?action=reserve&action=unreserve", key: "reader-key-1")
            let actors = (events.json?["events"]?.arrayValue ?? []).map { $0["actor"]?.stringValue ?? "" }
            #expect(actors.count == 2 && actors.allSatisfy { $0 == "operator" }, "\(events.text)")
            // Gone: nothing to confirm.
            #expect(try await admin.get("/console/reservations/\(id)/release").status == 404)
        }
    }
}
