import Foundation
import IPAMCore
import Inventory
import StrictJSON
import Testing
import VendorAPI

@testable import VendorConsole
@testable import VendorHTTP

/// The lease flows' forms and page models: the request form as the API body it stands for, the members page's
/// offers per caller, the confirmation page, all escaped.
@Suite("Console lease flows: forms and pages")
struct ConsoleFlowPagesTests {
    static let azure = Scope(subscriptionId: "11111111-1111-1111-1111-111111111111", region: "eastus")
    static let aws = Scope(awsAccountId: "123456789012", region: "us-east-1")
    static let hostile = ConsolePageTests.hostile
    static let escaped = ConsolePageTests.escaped
    static let lease = API.Lease(
        leaseId: "0b0e5f3c-1111-4a4a-8b8b-222222222222", sessionId: hostile, cidr: "10.64.3.0/24", prefixLength: 24,
        scope: aws.partitionKey, subscription: nil, cloud: "aws", accountId: "123456789012", region: "us-east-1",
        state: "leased", cidrV6: "fd00:128::/64", prefixLengthV6: 64, expiresAt: Date(timeIntervalSince1970: 0),
        tag: .init(name: "ipam-lease-id", value: "0b0e5f3c-1111-4a4a-8b8b-222222222222"),
        subnets: [.init(name: hostile, cidr: "10.64.3.0/25", cidrV6: nil)])

    /// A model of each flow page, for the test that holds every name a template uses to its model.
    static var samples: [(ConsoleTemplates.Name, Any)] {
        [
            (
                .request,
                RequestPage(
                    configuration: configuration, csrf: "c", problem: "p",
                    preview: .init(cidr: "c", cidrV6: "d", held: "h"))
            ),
            (.requested, RequestedPage(lease, created: false, scope: aws)),
            (
                .members,
                MembersPage(
                    leaseId: "l", cidr: "c", members: [("p", .owner, nil)], caller: "p", csrf: "c", mayAdd: true,
                    mayRemove: true, isAdmin: false)
            ),
            (
                .confirm,
                ConfirmPage<LeasesSection>(
                    consequence: "x", fields: [ConsoleField(name: "n", value: "v")], action: "/a", csrf: "c",
                    hidden: [ConsoleField(name: "n", value: "v")], button: "b", cancel: "/c", blocked: "no")
            ),
        ]
    }

    static let configuration = try! IPAMConfiguration.load(environment: [
        "AzureWebJobsStorage": "UseDevelopmentStorage=true",
        "SUPERNETS_CONFIG":
            #"[{"subscriptionId":"11111111-1111-1111-1111-111111111111","regions":[{"region":"eastus","supernets":["10.64.0.0/16"]}]},{"cloud":"aws","accountId":"123456789012","regions":[{"region":"us-east-1","supernets":["10.128.0.0/16"]}]}]"#,
        "SCOPE_CONFIG_MANIFEST":
            #"{"defaultScope":{"subscriptionId":"11111111-1111-1111-1111-111111111111","region":"eastus"}}"#,
        "POOLS_CONFIG": #"[{"name":"team-a","cidr":"10.64.128.0/17"}]"#,
    ])

    static func body(_ form: NetworkRequestForm) throws -> JSONValue {
        try JSONValue.parse(form.getNewNetworkBody(scopes: [azure, aws]))
    }

    @Test(
        "every console page that changes something but the session's own (sign-in, sign-out) names the API route it performs, which needs a role"
    )
    func everyChangeNamesItsAPIRoute() {
        let own = [API.Console.signIn, API.Console.signOut]
        for route in API.Console.routes where route.method != .get && !own.contains(route) {
            let performed = API.Console.performs[route]
            #expect(performed.flatMap { Role(needed: $0.access) } != nil, "\(route) names no API route with a role")
        }
        for (page, route) in API.Console.performs {
            #expect(API.Console.routes.contains(page) && API.routes.contains(route), "\(page) → \(route)")
        }
    }

    @Test(
        "the request form becomes the getNewNetwork body: a scope by its owner and region, a pool by name, numbers, tags in order"
    )
    func requestBody() throws {
        var form = NetworkRequestForm(
            csrf: "t", sessionId: " s-1 ", area: "scope:\(Self.aws.partitionKey)", prefixLength: " 26 ",
            ipVersion: "v4", dualStack: nil, prefixLengthV6: "", requester: "team", tags: "env = dev\r\n\r\ncost=4=2\n")
        #expect(
            try Self.body(form).serialized()
                == #"{"SessionId":"s-1","accountId":"123456789012","region":"us-east-1","prefixLength":26,"requester":"team","tags":{"env":"dev","cost":"4=2"}}"#
        )
        form.area = "scope:\(Self.azure.partitionKey)"
        form.ipVersion = "v6"
        form.dualStack = "on"
        form.prefixLengthV6 = "56"
        form.tags = nil
        form.requester = "  "
        #expect(
            try Self.body(form).serialized()
                == #"{"SessionId":"s-1","subscriptionId":"11111111-1111-1111-1111-111111111111","region":"eastus","prefixLength":26,"ipVersion":"v6","dualStack":true,"prefixLengthV6":56}"#
        )
        form = NetworkRequestForm(sessionId: "s", area: "pool:team-a")
        #expect(try Self.body(form).serialized() == #"{"SessionId":"s","pool":"team-a"}"#)
        // The scope's name works as its key does; nothing names the default scope.
        form = NetworkRequestForm(sessionId: "s", area: "scope:aws/123456789012/us-east-1")
        #expect(try Self.body(form)["accountId"]?.stringValue == "123456789012")
        #expect(try Self.body(NetworkRequestForm(sessionId: "s")).serialized() == #"{"SessionId":"s"}"#)
    }

    @Test("what the form cannot mean is refused naming the field: an unknown area, non-numbers, bad tag lines")
    func requestRefusals() {
        let cases: [(NetworkRequestForm, String, String)] = [
            (NetworkRequestForm(sessionId: "s", area: "scope:nowhere"), "area", "no scope or pool 'scope:nowhere'"),
            (NetworkRequestForm(sessionId: "s", area: "team-a"), "area", "no scope or pool 'team-a'"),
            (NetworkRequestForm(sessionId: "s", prefixLength: "2x"), "prefixLength", "must be a whole number"),
            (NetworkRequestForm(sessionId: "s", prefixLength: "-1000"), "prefixLength", "must be a whole number"),
            (NetworkRequestForm(sessionId: "s", prefixLengthV6: "1e3"), "prefixLengthV6", "must be a whole number"),
            (NetworkRequestForm(sessionId: "s", tags: "a=1\nnothing"), "tags", "'nothing' has no '='"),
            (NetworkRequestForm(sessionId: "s", tags: "=v"), "tags", "a tag needs a key"),
            (NetworkRequestForm(sessionId: "s", tags: "a=1\n a =2"), "tags.a", "tag 'a' is given twice"),
        ]
        for (form, field, message) in cases {
            do throws(RequestProblem) {
                _ = try form.getNewNetworkBody(scopes: [Self.azure, Self.aws])
                Issue.record("\(form) was accepted")
            } catch {
                #expect(error.field == field && error.message.contains(message), "\(error)")
            }
        }
        // A negative length that fits is a number: the API's validation refuses its range.
        #expect(throws: Never.self) {
            try NetworkRequestForm(sessionId: "s", prefixLength: "-1").getNewNetworkBody(scopes: [])
        }
    }

    @Test("the reserve form names its scope as the API does; an unknown one is refused, never the default")
    func reserveBody() throws {
        let form = ReservationForm(
            csrf: "t", scope: Self.aws.partitionKey, cidr: "10.128.9.0/24", owner: "o", reason: "r", expiresAt: "")
        #expect(
            try JSONValue.parse(form.reserveBody(scopes: [Self.azure, Self.aws])).serialized()
                == #"{"cidr":"10.128.9.0/24","owner":"o","reason":"r","accountId":"123456789012","region":"us-east-1"}"#
        )
        var unknown = form
        unknown.scope = "nowhere"
        #expect(throws: RequestProblem.self) { try unknown.reserveBody(scopes: [Self.azure]) }
    }

    @Test(
        "members: the owner and admin members add and remove anyone but the owner; a member only itself; a reader-role session nothing"
    )
    func membersOffers() {
        let members: [(principal: String, role: MemberRole, addedAt: Date?)] = [
            ("alice", .owner, nil), ("bob", .admin, Date(timeIntervalSince1970: 0)), ("carol", .member, nil),
        ]
        func page(_ caller: String, add: Bool = true, remove: Bool = true, admin: Bool = false) -> MembersPage {
            MembersPage(
                leaseId: "l", cidr: "10.0.0.0/24", members: members, caller: caller, csrf: "c", mayAdd: add,
                mayRemove: remove, isAdmin: admin)
        }
        func removable(_ page: MembersPage) -> [String] { page.rows.filter { $0.remove != nil }.map(\.principal) }
        #expect(page("alice").canAdd && removable(page("alice")) == ["bob", "carol"])
        #expect(page("bob").canAdd && removable(page("bob")) == ["bob", "carol"])
        #expect(!page("carol").canAdd && removable(page("carol")) == ["carol"])
        #expect(page("operator", admin: true).canAdd && removable(page("operator", admin: true)) == ["bob", "carol"])
        #expect(!page("dave").canAdd && removable(page("dave")).isEmpty)
        #expect(!page("alice", add: false, remove: false).canAdd && removable(page("alice", remove: false)).isEmpty)
        #expect(page("alice").rows[2].remove == "/console/leases/l/members/remove?principal=carol")
        #expect(page("alice").rows[1].addedAt == "1970-01-01T00:00:00.000Z")
    }

    @Test("the result names the CIDRs, the lease and the tag for a VPC; a replay says so; hostile values escaped")
    func requestedPage() {
        let html = ConsoleTemplates.render(
            RequestedPage(Self.lease, created: false, scope: Self.aws), title: "t", notice: nil,
            session: ConsolePageTests.session(current: .request))
        #expect(html.contains(#"<code id="tag">ipam-lease-id=0b0e5f3c-1111-4a4a-8b8b-222222222222</code>"#))
        #expect(html.contains("The tag to put on the VPC") && html.contains("uses 10.64.3.0/24 and fd00:128::/64"))
        #expect(html.contains(#"id="replayed""#))
        #expect(!html.contains(Self.hostile) && html.contains(Self.escaped))
        #expect(html.contains(#"<a href="/console/request" aria-current="page">Request</a>"#))
        let created = ConsoleTemplates.render(
            RequestedPage(Self.lease, created: true, scope: Self.azure), title: "t", notice: nil, session: nil)
        #expect(!created.contains(#"id="replayed""#) && created.contains("The tag to put on the VNet"))
    }

    @Test("the request form: a refusal and a preview shown above the form, which keeps what was sent, escaped")
    func requestForm() {
        let form = NetworkRequestForm(
            sessionId: Self.hostile, area: "pool:team-a", prefixLength: "26", ipVersion: "v6", dualStack: "on",
            requester: Self.hostile, tags: "a=\(Self.hostile)")
        let page = RequestPage(
            configuration: Self.configuration, csrf: "tok", form: form, problem: Self.hostile,
            preview: .init(cidr: "10.64.128.0/26", cidrV6: nil, held: nil))
        let html = ConsoleTemplates.render(page, title: "t", notice: nil, session: nil)
        #expect(!html.contains(Self.hostile) && html.contains("Not leased: \(Self.escaped)"))
        #expect(
            html.contains(
                #"<option value="pool:team-a" selected>pool team-a (10.64.128.0/17) in 11111111-1111-1111-1111-111111111111_eastus</option>"#
            ))
        #expect(
            html.contains(#"<option value="v6" selected>"#) && html.contains(#"name="dualStack" value="on" checked"#))
        #expect(html.contains(#"id="preview">Would lease 10.64.128.0/26 now."#))
        #expect(html.contains(#"name="sessionId" value="\#(Self.escaped)""#))
        let fresh = ConsoleTemplates.render(
            RequestPage(configuration: Self.configuration, csrf: "tok"), title: "t", notice: nil, session: nil)
        #expect(fresh.contains(#"<option value="scope:11111111-1111-1111-1111-111111111111_eastus" selected>"#))
        #expect(fresh.firstMatch(of: /name="sessionId" value="console-[0-9a-f-]{36}"/) != nil)
        #expect(!fresh.contains(#"id="preview""#) && !fresh.contains(#"id="problem""#))
    }

    @Test("a confirmation page posts its hidden values with the token, or, blocked, shows why and no form")
    func confirmPage() {
        let open = ConfirmPage<ReservationsSection>(
            consequence: "c", fields: [ConsoleField(name: "CIDR", value: "10.0.0.0/24")], action: "/console/x",
            csrf: "tok", hidden: [ConsoleField(name: "owner", value: Self.hostile)], button: "Release 10.0.0.0/24",
            cancel: "/console/reservations")
        let html = ConsoleTemplates.render(open, title: "t", notice: nil, session: nil)
        #expect(html.contains(#"<form method="post" action="/console/x" id="confirm-form">"#))
        #expect(html.contains(#"<input type="hidden" name="csrf" value="tok">"#))
        #expect(html.contains(#"<input type="hidden" name="owner" value="\#(Self.escaped)">"#))
        #expect(html.contains(#"<button type="submit" id="confirm">Release 10.0.0.0/24</button>"#))
        let blocked = ConfirmPage<LeasesSection>(
            consequence: "c", fields: [], action: "/console/x", csrf: "tok", button: "b", cancel: "/back",
            blocked: "nothing to release")
        let refused = ConsoleTemplates.render(blocked, title: "t", notice: nil, session: nil)
        #expect(
            !refused.contains("<form") && refused.contains("nothing to release") && refused.contains(#"href="/back""#))
    }

    @Test(
        "the lease page's actions: renew and release only when offered, the members link while the lease is held (an ended lease's members page is 410); the partial names its model's members"
    )
    func leaseActions() {
        let row = NetworkRow(
            prefix: ConsolePageTests.prefix("10.0.0.0/24"),
            holding: .lease(
                .init(id: "l-1", sessionId: "s", requester: nil, expiresAt: nil, pairKey: nil), in: .leased)!)
        var page = LeasePage(row, scope: Self.azure, events: [])
        let none = ConsoleTemplates.render(page, title: "t", notice: nil, session: nil)
        #expect(!none.contains("lease-actions"))
        page.actions = LeaseActions(leaseId: "l-1", csrf: "tok", renewable: true, releasable: false, held: true)
        let html = ConsoleTemplates.render(page, title: "t", notice: nil, session: nil)
        #expect(
            html.contains(
                #"<form method="post" action="/console/leases/l-1/renew"><input type="hidden" name="csrf" value="tok">"#
            ))
        #expect(!html.contains(#"id="release""#) && html.contains(#"href="/console/leases/l-1/members""#))
        page.actions = LeaseActions(leaseId: "l-1", csrf: "tok", renewable: false, releasable: false, held: false)
        let ended = ConsoleTemplates.render(page, title: "t", notice: nil, session: nil)
        #expect(!ended.contains("/members") && ended.contains("The lease has ended"))
        let members = ConsolePageTests.members(
            of: LeaseActions(leaseId: "", csrf: "", renewable: true, releasable: true, held: true))
        for used in ConsolePageTests.names(in: ConsoleTemplates.leaseActions) {
            #expect(members.contains(used), "the lease actions use '\(used)'")
        }
    }
}
