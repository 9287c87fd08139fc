import Foundation
import IPAMCore
import NetworkMath
import Testing

/// Low-space thresholds (`alerts`) in `POOLS_CONFIG` and `SCOPE_CONFIG_MANIFEST`: parsed strictly, every mistake
/// named by its field at start-up; the sizes they name are sampled.
@Suite("Low-space thresholds")
struct SpaceThresholdsTests {
    static func environment(pools: String?, manifest: String?) -> [String: String] {
        var environment = sampleEnvironment
        if let pools { environment["POOLS_CONFIG"] = pools }
        if let manifest { environment["SCOPE_CONFIG_MANIFEST"] = manifest }
        return environment
    }

    static func load(pools: String? = nil, manifest: String? = nil) throws(IPAMConfiguration.Problems)
        -> IPAMConfiguration
    {
        try IPAMConfiguration.load(environment: environment(pools: pools, manifest: manifest))
    }

    static func problems(pools: String? = nil, manifest: String? = nil) -> [String] {
        IPAMConfiguration.problems(environment(pools: pools, manifest: manifest))
    }

    static func manifest(_ alerts: String) -> String {
        """
        {"defaultScope":{"subscriptionId":"\(subscription)","region":"eastus"},
         "scopes":[{"subscriptionId":"\(subscription)","region":"eastus","stock":{"24":16},"alerts":\(alerts)}]}
        """
    }

    @Test("a pool's and a scope's thresholds load; their block sizes are sampled beside the stock sizes")
    func loads() throws {
        let configuration = try Self.load(
            pools:
                #"[{"name":"team","cidr":"10.64.128.0/17","stock":{"26":4},"alerts":{"minFreePercent":12.5,"minDaysLeft":30,"minFreeBlocks":{"24":2}}}]"#,
            manifest: Self.manifest(#"{"MinFreePercent":5,"minFreeBlocks":{"22":1}}"#))
        let east = Scope(subscriptionId: subscription, region: "eastus")
        #expect(
            configuration.spaceThresholds(east, pool: "team")
                == SpaceThresholds(minFreePercent: 12.5, minDaysLeft: 30, minFreeBlocks: [24: 2]))
        #expect(
            configuration.spaceThresholds(east, pool: nil) == SpaceThresholds(minFreePercent: 5, minFreeBlocks: [22: 1])
        )
        let west = Scope(subscriptionId: subscription, region: "westeurope")
        #expect(configuration.spaceThresholds(west, pool: nil).isEmpty)
        #expect(configuration.usageArea(of: east, pool: "team", version: .v4)?.sizes == [24, 26])
        #expect(configuration.usageArea(of: east, pool: nil, version: .v4)?.sizes == [22, 24])
    }

    @Test("every mistake in alerts is refused at start-up, naming the field")
    func strict() {
        let cases: [(String, String)] = [
            (#"{"minFree":5}"#, "POOLS_CONFIG[0] (team).alerts.minFree: unknown field"),
            (#"{"minFreePercent":0}"#, "POOLS_CONFIG[0] (team).alerts.minFreePercent: must be a number above 0"),
            (#"{"minFreePercent":101}"#, "POOLS_CONFIG[0] (team).alerts.minFreePercent: must be a number above 0"),
            (#"{"minFreePercent":"5"}"#, "POOLS_CONFIG[0] (team).alerts.minFreePercent: must be a number above 0"),
            (#"{"minDaysLeft":-1}"#, "POOLS_CONFIG[0] (team).alerts.minDaysLeft: must be a number of days"),
            (#"{"minDaysLeft":null}"#, "POOLS_CONFIG[0] (team).alerts.minDaysLeft: must be a number of days"),
            (
                #"{"minFreeBlocks":{"33":1}}"#,
                "POOLS_CONFIG[0] (team).alerts.minFreeBlocks.33: the key must be a prefix length 1–32"
            ),
            (
                #"{"minFreeBlocks":{"24":0}}"#,
                "POOLS_CONFIG[0] (team).alerts.minFreeBlocks.24: must be a whole number from 1"
            ),
            (
                #"{"minFreeBlocks":{"24":1.5}}"#,
                "POOLS_CONFIG[0] (team).alerts.minFreeBlocks.24: must be a whole number from 1"
            ),
            (#"{"minFreeBlocks":[24]}"#, "POOLS_CONFIG[0] (team).alerts.minFreeBlocks: must be an object"),
            (#"[1]"#, "POOLS_CONFIG[0] (team).alerts: must be an object"),
        ]
        for (alerts, expected) in cases {
            let problems = Self.problems(pools: #"[{"name":"team","cidr":"10.64.128.0/17","alerts":\#(alerts)}]"#)
            #expect(problems.contains { $0.hasPrefix(expected) }, "\(alerts): \(problems)")
        }
        let manifest = Self.problems(manifest: Self.manifest(#"{"minFreePercent":5,"perHour":1}"#))
        #expect(
            manifest.contains { $0.hasPrefix("SCOPE_CONFIG_MANIFEST.scopes[0].alerts.perHour: unknown field") },
            "\(manifest)")
        let twice = Self.problems(manifest: Self.manifest(#"{"minFreePercent":5,"MINFREEPERCENT":6}"#))
        #expect(
            twice.contains { $0.hasPrefix("SCOPE_CONFIG_MANIFEST.scopes[0].alerts.") && $0.contains("given twice") },
            "\(twice)")
    }
}
