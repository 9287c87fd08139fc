import Foundation
import IPAMCore
import NetworkMath
import Testing

/// `POOLS_CONFIG`: the issue's example loads; every mistake is named on its own line; the space of each pool
/// (and of the scope outside its pools) is what requests vend from.
@Suite("Pool configuration")
struct PoolConfigurationTests {
    static let example = """
        [ { "name": "team-a", "subscriptionId": "\(subscription)", "region": "eastus",
            "cidr": "10.64.128.0/17", "owner": "team-a", "labels": { "cost-center": "42" },
            "rules": { "minPrefixLength": 24, "maxPrefixLength": 26, "defaultPrefixLength": 24, "requiredTags": ["env"] },
            "quota": { "maxLeasesPerRequester": 10 } },
          { "name": "team-a-ci", "parent": "team-a", "cidr": "10.64.192.0/18", "stock": { "26": 8 } } ]
        """

    static func environment(_ pools: String) -> [String: String] {
        var environment = sampleEnvironment
        environment["POOLS_CONFIG"] = pools
        return environment
    }

    static func load(_ pools: String) throws(IPAMConfiguration.Problems) -> IPAMConfiguration {
        try IPAMConfiguration.load(environment: environment(pools))
    }

    static func problems(_ pools: String) -> [String] { IPAMConfiguration.problems(environment(pools)) }

    @Test("the issue's example: scopes, inheritance of limits and tags, and the space each area vends from")
    func example() throws {
        let configuration = try Self.load(Self.example)
        let plan = configuration.pools
        let east = Scope(subscriptionId: subscription, region: "eastus")
        #expect(
            plan.pools["team-a"]?.scope == east && plan.pools["team-a-ci"]?.scope == east,
            "a child is in its parent's scope")
        #expect(plan.lineage("team-a-ci").map(\.name) == ["team-a-ci", "team-a"])
        #expect(configuration.lengths(pool: "team-a-ci") == (24, 26, 24), "limits inherited from the parent")
        #expect(configuration.lengths(pool: nil) == (20, 26, 22))
        #expect(
            plan.pools["team-a"]?.quota.maxLeasesPerRequester == 10
                && plan.pools["team-a"]?.labels == ["cost-center": "42"])
        let teamA = try #require(configuration.space(east, pool: "team-a"))
        #expect(
            teamA.supernets.map(\.description) == ["10.64.128.0/17"]
                && teamA.exclude.map(\.description) == ["10.64.192.0/18"], "a pool without its children")
        let outside = try #require(configuration.space(east, pool: nil))
        #expect(
            outside.exclude.map(\.description) == ["10.64.0.0/24", "10.64.128.0/17"], "the scope without its root pools"
        )
        #expect(plan.owner(of: try IPPrefix(parsing: "10.64.200.0/26"), in: east)?.name == "team-a-ci")
        #expect(plan.owner(of: try IPPrefix(parsing: "10.64.130.0/24"), in: east)?.name == "team-a")
        #expect(plan.owner(of: try IPPrefix(parsing: "10.65.0.0/24"), in: east) == nil)
    }

    @Test(
        "mistakes, each named on its own line",
        arguments: [
            (
                #"[{"name":"a","cidr":"10.64.128.0/17"},{"name":"b","cidr":"10.64.192.0/18"}]"#,
                "pools 'a' (10.64.128.0/17) and 'b' (10.64.192.0/18) overlap"
            ),
            (
                #"[{"name":"a","cidr":"10.64.128.0/17"},{"name":"b","parent":"a","cidr":"10.65.0.0/24"}]"#,
                "is not inside its parent 'a'"
            ),
            (#"[{"name":"b","parent":"nobody","cidr":"10.64.0.0/24"}]"#, "no pool is named 'nobody'"),
            (#"[{"name":"a","cidr":"192.168.0.0/24"}]"#, "is not inside a supernet"),
            (#"[{"name":"a","cidr":"10.64.128.0/17","color":"red"}]"#, ".color: unknown field"),
            (#"[{"name":"A_1","cidr":"10.64.128.0/17"}]"#, ".name: missing, or not"),
            (#"[{"name":"a","cidr":"10.64.128.0/17"},{"name":"a","cidr":"10.65.0.0/17"}]"#, "the name is used twice"),
            (
                #"[{"name":"a","cidr":"10.64.128.0/17","rules":{"minPrefixLength":26,"maxPrefixLength":24}}]"#,
                "minPrefixLength /26 is longer than maxPrefixLength /24"
            ),
            (
                #"[{"name":"a","cidr":"10.64.128.0/24","rules":{"minPrefixLength":20}}]"#,
                "is larger than the pool itself"
            ),
            (
                #"[{"name":"a","cidr":"10.64.128.0/17","rules":{"maxPrefixLength":25},"stock":{"26":4}}]"#,
                "stock.26: outside the pool's prefix lengths"
            ),
            (
                #"[{"name":"a","cidr":"10.64.128.0/17","quota":{"maxLeasesPerRequester":-1}}]"#,
                "quota.maxLeasesPerRequester: must be a whole number"
            ),
            (#"[{"name":"a","region":"mars","cidr":"10.64.128.0/17"}]"#, "names no single configured scope"),
            (#"{"name":"a"}"#, "not a JSON array"),
        ])
    func mistakes(_ pools: String, _ expected: String) {
        let lines = Self.problems(pools)
        #expect(lines.contains { $0.contains("POOLS_CONFIG") && $0.contains(expected) }, "\(lines)")
    }

    @Test("nesting: seven levels load, eight do not; a cycle is refused")
    func nesting() {
        func chain(_ depth: Int) -> String {
            "["
                + (0..<depth).map { level in
                    let parent = level == 0 ? "" : #","parent":"p\#(level - 1)""#
                    return #"{"name":"p\#(level)","cidr":"10.64.\#(128 + level * 0).0/\#(17 + level)"\#(parent)}"#
                }.joined(separator: ",") + "]"
        }
        #expect(Self.problems(chain(7)).isEmpty, "\(Self.problems(chain(7)))")
        #expect(
            Self.problems(chain(8)).contains { $0.contains("nested more than 7 levels") }, "\(Self.problems(chain(8)))")
        let cycle =
            #"[{"name":"a","parent":"b","cidr":"10.64.128.0/17"},{"name":"b","parent":"a","cidr":"10.64.128.0/18"}]"#
        #expect(!Self.problems(cycle).isEmpty)
    }
}

/// `WEBHOOKS_CONFIG`: a valid receiver loads; each mistake is named on its own line, never with the secret.
@Suite("Webhook configuration")
struct WebhookConfigurationTests {
    static func problems(_ webhooks: String) -> [String] {
        var environment = sampleEnvironment
        environment["WEBHOOKS_CONFIG"] = webhooks
        return IPAMConfiguration.problems(environment)
    }

    @Test("a receiver loads with its events")
    func loads() throws {
        var environment = sampleEnvironment
        environment["WEBHOOKS_CONFIG"] =
            #"[{"name":"ops","url":"https://hooks.example.com/ipam","secret":"0123456789abcdef","events":["leased","released"]}]"#
        let hook = try #require(try IPAMConfiguration.load(environment: environment).webhooks.first)
        #expect(
            hook.name == "ops" && hook.wants(action: "carve-lease") && hook.wants(action: "release")
                && !hook.wants(action: "reserve"))
    }

    @Test(
        "mistakes, each named on its own line",
        arguments: [
            (#"[{"name":"ops","url":"ftp://x","secret":"0123456789abcdef","events":["leased"]}]"#, "(ops).url"),
            (
                #"[{"name":"ops","url":"https://x","secret":"short","events":["leased"]}]"#,
                "(ops).secret: missing or shorter than 16"
            ),
            (
                #"[{"name":"ops","url":"https://x","secret":"0123456789abcdef","events":["leased","ip-allocated"]}]"#,
                "unknown ip-allocated"
            ),
            (#"[{"name":"ops","url":"https://x","secret":"0123456789abcdef","events":[]}]"#, "(ops).events"),
            (#"[{"name":"Ops!","url":"https://x","secret":"0123456789abcdef","events":["*"]}]"#, ".name"),
            (
                #"[{"name":"ops","url":"https://x","secret":"0123456789abcdef","events":["*"],"retries":3}]"#,
                ".retries: unknown field"
            ),
            (#"{"name":"ops"}"#, "not a JSON array"),
        ])
    func mistakes(_ webhooks: String, _ expected: String) {
        let lines = Self.problems(webhooks)
        #expect(lines.contains { $0.contains("WEBHOOKS_CONFIG") && $0.contains(expected) }, "\(lines)")
        #expect(
            !lines.contains { $0.contains("0123456789abcdef") || $0.contains("short") && $0.contains("secret\":") },
            "no secret in a message")
    }

    @Test("a duplicate name is refused")
    func duplicate() {
        let hook = #"{"name":"ops","url":"https://x","secret":"0123456789abcdef","events":["*"]}"#
        #expect(Self.problems("[\(hook),\(hook)]").contains { $0.contains("the name is used twice") })
    }
}
