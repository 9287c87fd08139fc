import Foundation
import IPAMCore
import NetworkMath
import Testing

let subscription = "11111111-1111-1111-1111-111111111111"
let sampleEnvironment: [String: String] = [
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
    "CIDR_SIZE_MIN": "20", "CIDR_SIZE_MAX": "26", "CIDR_SIZE_DEFAULT": "22", "LEASE_DURATION_HOURS": "0.5",
    "SUPERNETS_CONFIG": """
    [{"subscriptionId":"\(subscription)","regions":[
      {"region":"eastus","supernets":["10.64.0.0/14"],"exclude":["10.64.0.0/24"]},
      {"region":"westeurope","supernets":["10.72.0.0/14","fd00:72::/44"],"isolated":false}]}]
    """,
    "SCOPE_CONFIG_MANIFEST": """
    {"defaultScope":{"subscriptionId":"\(subscription)","region":"eastus"},
     "scopes":[{"subscriptionId":"\(subscription)","region":"eastus","stock":{"22":8,"24":16}}]}
    """,
]

@Suite("Configuration")
struct ConfigurationTests {
    @Test func loadsTheDesignExample() throws {
        let configuration = try IPAMConfiguration.load(environment: sampleEnvironment)
        #expect(configuration.scopes.count == 2)
        #expect(configuration.defaultScope == Scope(subscriptionId: subscription, region: "eastus"))
        #expect(configuration.stock[configuration.defaultScope] == [22: 8, 24: 16])
        #expect(configuration.leaseDuration == .seconds(1800))
        #expect(configuration.tableName == "networkCidr")
        #expect(configuration.scopes[configuration.defaultScope]?.exclude.map(\.description) == ["10.64.0.0/24"])
    }

    @Test("every problem is reported on its own line, naming the setting") func allProblems() {
        var environment = sampleEnvironment
        environment["CIDR_SIZE_MIN"] = "abc"
        environment["CIDR_SIZE_DEFAULT"] = "30"
        environment["LEASE_DURATION_HOURS"] = "-1"
        environment["AzureWebJobsStorage"] = nil
        environment["SUPERNETS_CONFIG"] =
            #"[{"subscriptionId":"s","regions":[{"region":"a","supernets":["10.0.0.0/8"]},{"region":"b","supernets":["10.1.0.0/16","10.2.0.1/16"]}]}]"#
        do {
            _ = try IPAMConfiguration.load(environment: environment)
            Issue.record("must fail")
        } catch {
            let text = error.lines.joined(separator: "\n")
            #expect(text.contains("CIDR_SIZE_MIN=abc"))
            #expect(text.contains("CIDR_SIZE_DEFAULT=30"))
            #expect(text.contains("LEASE_DURATION_HOURS=-1"))
            #expect(text.contains("AzureWebJobsStorage: missing"))
            #expect(text.contains("host bits are set"))
            #expect(text.contains("10.0.0.0/8 of s/a overlaps 10.1.0.0/16 of s/b"))
            #expect(text.contains("defaultScope"))
            #expect(error.lines.count >= 7)
        }
    }

    @Test(
        "a SUPERNETS_CONFIG that names no scope (an empty list, a subscription without regions) is refused, not loaded without the default scope (found by fuzzing: `s[]`)",
        arguments: ["[]", #"[{"subscriptionId":"s","regions":[]}]"#])
    func noScopeAtAll(supernets: String) {
        var environment = sampleEnvironment
        environment["SUPERNETS_CONFIG"] = supernets
        environment["SCOPE_CONFIG_MANIFEST"] = #"{"defaultScope":{"subscriptionId":"s","region":"eastus"}}"#
        let lines = IPAMConfiguration.problems(environment)
        #expect(
            lines.contains("SUPERNETS_CONFIG: names no scope (at least one subscription or account with a region)"),
            "\(lines)")
    }

    @Test func isolatedScopesMayOverlap() throws {
        var environment = sampleEnvironment
        environment["SUPERNETS_CONFIG"] =
            #"[{"subscriptionId":"\#(subscription)","regions":[{"region":"eastus","supernets":["10.0.0.0/16"],"isolated":true},{"region":"westus","supernets":["10.0.0.0/16"],"isolated":true}]}]"#
        environment["SCOPE_CONFIG_MANIFEST"] =
            #"{"defaultScope":{"subscriptionId":"\#(subscription)","region":"eastus"}}"#
        #expect(throws: Never.self) { _ = try IPAMConfiguration.load(environment: environment) }
    }
}

@Suite("Settings are listed once and documented")
struct SettingsListTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test("every setting ipam reads is in docs/Configuration.md, and every setting that page names is one ipam reads")
    func documented() throws {
        let page = try String(contentsOf: Self.root.appendingPathComponent("docs/Configuration.md"), encoding: .utf8)
        for setting in Setting.allCases {
            #expect(page.contains("`\(setting.rawValue)`"), "\(setting.rawValue) is not documented")
        }
        // Names in the page's setting tables (first column, upper case or AzureWebJobsStorage), before the
        // section on the test suite's own variables.
        let settingsPart = page.components(separatedBy: "\n## Tests")[0]
        let documented = settingsPart.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("| `") else { return nil }
            let name = line.dropFirst(3).prefix { $0 != "`" }
            return name.allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" }) || name == "AzureWebJobsStorage"
                ? String(name) : nil
        }
        let known = Set(Setting.allCases.map(\.rawValue))
        for name in documented where !name.hasPrefix("AzureWebJobsStorage__") {
            #expect(known.contains(name), "docs/Configuration.md names \(name), which no code reads")
        }
    }

    @Test(
        "no source outside the composition roots (the servers' bootstrap, the ipam client) reads the process environment"
    )
    func readOnce() throws {
        let sources = Self.root.appendingPathComponent("Sources")
        var offenders: [String] = []
        let roots = [
            "IPAMBootstrap", "ipam-dev", "AzureCore", "ipam", "ipam-mcp", "table-emulator", "arg-emulator",
            "arm-emulator",
        ]
        for target in try FileManager.default.contentsOfDirectory(atPath: sources.path) where !roots.contains(target) {
            let folder = sources.appendingPathComponent(target)
            for file in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            where file.hasSuffix(".swift") {
                let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
                if text.contains("ProcessInfo.processInfo.environment") { offenders.append("\(target)/\(file)") }
            }
        }
        #expect(offenders.isEmpty, "\(offenders)")
    }
}
