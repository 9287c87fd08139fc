import Foundation
import IPAMCore
import NetworkMath
import TestSupport
import Testing
import VendorDomain
import VendorHTTP

/// `RequestValidation` (the API's request types, then the validation) against the decoders it replaced
/// (`LegacyRequestDecoder`): for every body, the same request or the same refusal (code, field, message). The
/// bodies are the fuzz corpus's and thousands of generated ones, each member absent, right, mistyped, `null` or
/// out of bounds, several faults at once, in any member order.
@Suite("Request validation answers as the old decoders did")
struct LegacyRequestDecoderTests {
    static let subscription = "11111111-1111-1111-1111-111111111111"
    /// Two scopes (one dual-stack), pools with rules, a child pool and an IPv6 pool (the fuzz target's).
    static let configuration: IPAMConfiguration = try! IPAMConfiguration.load(environment: [
        "AzureWebJobsStorage": "UseDevelopmentStorage=true",
        "SUPERNETS_CONFIG": """
        [{"subscriptionId":"\(subscription)","regions":[
          {"region":"eastus","supernets":["10.64.0.0/14"],"exclude":["10.64.0.0/24"]},
          {"region":"westeurope","supernets":["10.72.0.0/14","fd00:72::/44"],"isolated":false}]}]
        """,
        "SCOPE_CONFIG_MANIFEST": #"{"defaultScope":{"subscriptionId":"\#(subscription)","region":"eastus"}}"#,
        "POOLS_CONFIG": """
        [{"name":"team-a","subscriptionId":"\(subscription)","region":"eastus","cidr":"10.64.128.0/17",
          "rules":{"minPrefixLength":24,"maxPrefixLength":26,"defaultPrefixLength":24,"requiredTags":["env"]},
          "quota":{"maxLeasesPerRequester":10}},
         {"name":"team-a-ci","parent":"team-a","cidr":"10.64.192.0/18"},
         {"name":"v6","subscriptionId":"\(subscription)","region":"westeurope","cidr":"fd00:72::/48"}]
        """,
    ])
    static let now = Date(timeIntervalSince1970: 1_780_000_000)

    /// Draws from a seeded generator, so a failure names a body that comes back.
    struct Generator {
        var generator: SeededGenerator
        init(state: UInt64) { generator = SeededGenerator(seed: state) }
        mutating func next() -> UInt64 { generator.next() }
        mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }
        mutating func chance(_ percent: UInt64) -> Bool { next() % 100 < percent }
    }

    /// A member: its names (spellings), how often a body has it (percent), and the JSON texts it may hold, the
    /// first `good` of them right ones.
    struct Member {
        let names: [String]
        let presence: UInt64
        let good: Int
        let values: [String]
        init(_ names: [String], presence: UInt64 = 35, good: Int, _ values: [String]) {
            (self.names, self.presence, self.good, self.values) = (names, presence, good, values)
        }
    }

    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    static let texts = ["5", "null", "true", "[]", "{}"]
    static let scopeMembers: [Member] = [
        Member(
            ["subscriptionId", "SUBSCRIPTIONID"], good: 2,
            [quoted(subscription), quoted(subscription.uppercased()), quoted("other")] + texts),
        Member(
            ["region", "Region"], good: 3,
            [quoted("eastus"), quoted("westeurope"), quoted("EastUS"), quoted("mars")] + texts),
    ]
    static let tagValues =
        [
            #"{"env":"dev"}"#, #"{"env":"dev","team":"a"}"#, #"{"a":1}"#, #"{"":"x"}"#, #"{"a\u0000":"x"}"#,
            #"{"a":"x\u202Ey"}"#, #"{"env":"dev","env":"prod"}"#, "{\"env\":\"\(String(repeating: "v", count: 257))\"}",
            "{\"\(String(repeating: "k", count: 129))\":\"v\"}",
            "{" + (0..<33).map { "\"t\($0)\":\"v\"" }.joined(separator: ",") + "}",
            "{\"a\":\"\(String(repeating: "v", count: 300))\",\"a\":\"ok\"}",
        ] + texts
    static let requesterValues =
        [quoted("me"), quoted(String(repeating: "r", count: 257)), #""a\u2028b""#, #""a\u0085""#] + texts

    static let newNetworkMembers: [Member] =
        [
            Member(
                ["SessionId", "sessionid"], presence: 90, good: 1,
                [quoted("s-1"), quoted("bad id"), quoted(""), quoted(String(repeating: "s", count: 129))] + texts
            ),
            Member(
                ["prefixLength", "PrefixLength"], good: 3,
                ["24", "22", "26", "27", "19", "48", "56", "64", "24.0", "24.5", "1e12", "-1", #""24""#] + texts
            ),
            Member(["requester"], good: 1, requesterValues),
            Member(["tags"], good: 2, tagValues),
            Member(
                ["subnets", "Subnets"], good: 3,
                [
                    "[]", #"[{"name":"app","prefixLength":26}]"#,
                    #"[{"Name":"app","PrefixLength":27},{"name":"db","prefixLength":28}]"#,
                    #"[{"name":"a","prefixLength":20}]"#, #"[{"name":"a","prefixLength":26},{"name":1}]"#,
                    #"[{"name":"","prefixLength":30}]"#, #"[{"name":"a","prefixLength":65}]"#, #"[{"x":1}]"#, "[5]",
                    "[null]", #"[{"name":"a","prefixLength":26},{"name":"a","prefixLength":26}]"#,
                    #"[{"name":"a","prefixLength":64}]"#, #"[{"name":"a"}]"#, #"[{"prefixLength":"x"}]"#,
                    #"[{"name":"a","prefixLength":30},{"name":"b","prefixLength":"x"}]"#,
                    #"[{"name":"a","name":"b","prefixLength":26}]"#, #"[{"name":"a","prefixLength":29.0}]"#,
                    #"[{"name":"a","prefixLength":25},{"name":"b","prefixLength":25},{"name":"c","prefixLength":26}]"#,
                    "[" + (0..<65).map { "{\"name\":\"n\($0)\",\"prefixLength\":29}" }.joined(separator: ",") + "]",
                    "[" + (0..<5).map { "{\"name\":\"n\($0)\",\"prefixLength\":28}" }.joined(separator: ",") + "]",
                    "[{\"name\":\"\(String(repeating: "n", count: 81))\",\"prefixLength\":26}]",
                ] + texts
            ),
            Member(
                ["pool", "Pool"], presence: 20, good: 1,
                [quoted("team-a"), quoted("team-a-ci"), quoted("v6"), quoted("nope")] + texts),
            Member(
                ["ipVersion", "IPVERSION"], good: 1, [quoted("v4"), quoted("v6"), quoted("V6"), quoted("v5")] + texts),
            Member(["dualStack", "DualStack"], good: 1, ["false", "true", "1"] + texts),
            Member(
                ["prefixLengthV6", "prefixlengthv6"], presence: 15, good: 0,
                ["56", "60", "64", "65", "47", #""56""#, "56.0"] + texts),
        ] + scopeMembers

    static let adoptionMembers: [Member] =
        [
            Member(["SessionId", "SESSIONID"], presence: 90, good: 1, [quoted("s-1"), quoted("bad id")] + texts),
            Member(
                ["cidr", "Cidr"], presence: 90, good: 2,
                [
                    quoted("10.64.240.0/22"), quoted("10.72.0.0/22"), quoted("10.64.240.1/22"), quoted("bad"),
                    quoted("fd00:72::/48"), quoted(""),
                ] + texts
            ),
            Member(
                ["cidrV6", "CIDRV6"], presence: 20, good: 1,
                [quoted("fd00:72:1::/56"), quoted("10.0.0.0/8"), quoted("bad")] + texts),
            Member(["requester"], good: 1, requesterValues),
            Member(["tags"], good: 2, tagValues),
            Member(
                ["resourceId", "resourceid"], good: 1,
                [
                    quoted("/subscriptions/x/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v"),
                    quoted("/subscriptions/x"),
                    quoted("/subscriptions//resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v"),
                    quoted(
                        "/subscriptions/x/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/"
                            + String(repeating: "v", count: 1000)),
                ] + texts
            ),
        ] + scopeMembers

    static let reservationMembers: [Member] =
        [
            Member(
                ["cidr", "CIDR"], presence: 50, good: 2,
                [
                    quoted("10.64.200.0/24"), quoted("10.64.130.0/24"), quoted("bad"), quoted(""), quoted("a\nb"),
                    quoted(String(repeating: "1", count: 65)),
                ] + texts
            ),
            Member(
                ["prefixLength", "prefixlength"], presence: 50, good: 2,
                ["24", "0", "129", "128", "24.0", #""24""#, "-3"] + texts),
            Member(["pool"], presence: 20, good: 1, [quoted("team-a"), quoted("v6"), quoted("nope")] + texts),
            Member(
                ["owner", "Owner"], presence: 90, good: 1,
                [quoted("o"), quoted(""), quoted("a\nb"), quoted(String(repeating: "o", count: 129))] + texts),
            Member(
                ["reason", "REASON"], presence: 90, good: 1,
                [quoted("r"), quoted(""), quoted(String(repeating: "r", count: 257))] + texts),
            Member(
                ["expiresAt", "expiresat"], good: 1,
                [
                    quoted("2030-01-01T00:00:00Z"), quoted("2020-01-01T00:00:00Z"), quoted("soon"),
                    quoted(String(repeating: "2", count: 65)),
                ] + texts
            ),
        ] + scopeMembers

    /// A body of some of `members` (some twice, in other spellings), in a random order, now and then with a
    /// member no request has; now and then not an object at all.
    static func body(_ members: [Member], _ generator: inout Generator) -> String {
        if generator.chance(1) { return generator.pick(["", "[1]", "{", "null", "\"x\""]) }
        var parts: [String] = []
        func value(_ member: Member) -> String {
            member.good > 0 && generator.chance(75)
                ? member.values[Int(generator.next() % UInt64(member.good))] : generator.pick(member.values)
        }
        for member in members where generator.chance(member.presence) {
            parts.append("\(quoted(generator.pick(member.names))):\(value(member))")
            if generator.chance(2) { parts.append("\(quoted(generator.pick(member.names))):\(value(member))") }
        }
        if generator.chance(3) { parts.append(#""colour":"red""#) }
        for index in parts.indices.reversed() where index > 0 {
            parts.swapAt(index, Int(generator.next() % UInt64(index + 1)))
        }
        return "{" + parts.joined(separator: ",") + "}"
    }

    /// A decoder's request or refusal.
    static func outcome<T>(_ decode: () throws(RequestProblem) -> T) -> Result<T, RequestProblem> {
        do throws(RequestProblem) { return .success(try decode()) } catch { return .failure(error) }
    }

    /// The two outcomes agree: the same request, or the same refusal (code, field, message).
    static func agree<T: Equatable>(_ old: Result<T, RequestProblem>, _ new: Result<T, RequestProblem>) -> Bool {
        switch (old, new) {
        case (.success(let a), .success(let b)): a == b
        case (.failure(let a), .failure(let b)): a == b
        default: false
        }
    }

    /// A reservation's values, for comparing.
    struct Reservation: Equatable {
        let scope: Scope
        let prefix: IPPrefix?
        let prefixLength: Int
        let owner: String
        let reason: String
        let expiresAt: Date?
        let pool: String?
        init(_ request: ReservationRequest) {
            (scope, prefix, prefixLength, owner, reason, expiresAt, pool) = (
                request.scope, request.prefix, request.prefixLength, request.owner, request.reason,
                request.expiresAt, request.pool
            )
        }
    }

    /// Each body through both decoders of each kind; the first few differences recorded. Returns, per route,
    /// how many bodies were accepted and which codes refused the others (so a test sees it tried both).
    @discardableResult
    static func compare(_ bodies: [String]) -> [String: (accepted: Int, codes: Set<String>)] {
        let configuration = Self.configuration
        var differences = 0
        var seen: [String: (accepted: Int, codes: Set<String>)] = [:]
        func record<T: Equatable>(
            _ route: String, _ body: String, _ old: Result<T, RequestProblem>, _ new: Result<T, RequestProblem>
        ) {
            switch new {
            case .success: seen[route, default: (0, [])].accepted += 1
            case .failure(let problem): seen[route, default: (0, [])].codes.insert(problem.code.rawValue)
            }
            guard !agree(old, new) else { return }
            differences += 1
            if differences <= 10 { Issue.record("\(route) \(body)\n  before: \(old)\n  now:    \(new)") }
        }
        for body in bodies {
            let bytes = Array(body.utf8)
            record(
                "getNewNetwork", body,
                outcome { () throws(RequestProblem) in
                    try LegacyRequestDecoder.decode(bytes, configuration: configuration)
                },
                outcome { () throws(RequestProblem) in try RequestValidation.lease(bytes, configuration: configuration)
                })
            record(
                "adoptNetwork", body,
                outcome { () throws(RequestProblem) in
                    try LegacyRequestDecoder.decodeAdoption(bytes, configuration: configuration)
                },
                outcome { () throws(RequestProblem) in
                    try RequestValidation.adoption(bytes, configuration: configuration)
                })
            record(
                "reserve", body,
                outcome { () throws(RequestProblem) in
                    Reservation(
                        try LegacyRequestDecoder.decodeReservation(bytes, configuration: configuration, now: now))
                },
                outcome { () throws(RequestProblem) in
                    Reservation(try RequestValidation.reservation(bytes, configuration: configuration, now: now))
                })
        }
        #expect(differences == 0, "\(differences) answers differ")
        return seen
    }

    @Test("the fuzz corpus's request bodies")
    func corpus() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
                "Fuzzing/Corpus/request-body")
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
        #expect(files.count >= 8)
        Self.compare(try files.map { String(decoding: try Data(contentsOf: $0), as: UTF8.self) })
    }

    @Test(
        "generated bodies: every member absent, right, mistyped, null or out of bounds, several faults at once",
        arguments: [("getNewNetwork", 1), ("adoptNetwork", 2), ("reserve", 3)])
    func generated(kind: String, seed: UInt64) {
        let members =
            switch kind {
            case "getNewNetwork": Self.newNetworkMembers
            case "adoptNetwork": Self.adoptionMembers
            default: Self.reservationMembers
            }
        var generator = Generator(state: seed)
        let seen = Self.compare((0..<6000).map { _ in Self.body(members, &generator) })[kind]
        #expect((seen?.accepted ?? 0) >= 20, "\(kind): some bodies are requests")
        #expect((seen?.codes.count ?? 0) >= 6, "\(kind): refused for many reasons: \(seen?.codes.sorted() ?? [])")
    }
}
