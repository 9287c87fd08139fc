import AWSClient
import AzureCore
import Foundation
import IPAMBootstrap
import IPAMCore
import Inventory
import Logging
import ManagerJobs
import TestSupport
import Testing

/// The composition root builds what `manager` runs; a cycle runs any job's result under the singleton lease.
@Suite("Composition root and the cycle's result")
struct CompositionRootTests {
    @Test("ManagerComposition: every problem with the settings at once, exit 2, before storage is touched")
    func everyProblemAtOnce() async throws {
        var environment = SampleConfiguration.environment(table: "composition", connectionString: .development)
        environment[Setting.managerLease.rawValue] = "1"
        environment[Setting.managerSchedule.rawValue] = "not a schedule"
        environment[Setting.webhookPollSeconds.rawValue] = "0"
        // Storage nobody listens on: a failure to reach it would be exit 1, not this.
        environment[Setting.storage.rawValue] =
            "DefaultEndpointsProtocol=http;AccountName=x;AccountKey=eA==;TableEndpoint=http://127.0.0.1:1/x"
        do {
            _ = try await ManagerComposition.load(logLevel: "error", environment: environment)
            Issue.record("a composition with invalid settings")
        } catch {
            #expect(error.exitCode == 2)
            #expect(error.message.hasPrefix("manager: invalid configuration:\n"), "\(error.message)")
            for setting in [
                "MANAGER_LEASE_SECONDS=1", "MANAGER_TIMER_SCHEDULE=not a schedule", "WEBHOOK_POLL_SECONDS=0",
            ] {
                #expect(error.message.contains("  \(setting)"), "\(setting): \(error.message)")
            }
        }
    }

    /// The sample configuration with an AWS account's region beside its Azure scopes, and `extra` over it.
    static func withAWS(_ extra: [String: String]) -> [String: String] {
        var environment = SampleConfiguration.environment(table: "composition", connectionString: .development)
        let azure = environment["SUPERNETS_CONFIG"]!
        environment["SUPERNETS_CONFIG"] =
            String(azure.dropLast())
            + #",{"cloud":"aws","accountId":"123456789012","roleArn":"arn:aws:iam::123456789012:role/ipam-reader","externalId":"ipam-1","regions":[{"region":"us-east-1","supernets":["10.80.0.0/16"]}]}]"#
        environment.merge(extra) { _, new in new }
        return environment
    }

    @Test(
        "Bootstrap.awsDiscovery: the AWS scopes' clients (none without AWS scopes); a credential or endpoint setting it cannot use is a start-up error (exit 2) naming the variable"
    )
    func awsDiscovery() async throws {
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let keys = ["AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret"]
        let discovery = try #require(try Bootstrap(environment: Self.withAWS(keys)).awsDiscovery(logger: logger))
        #expect(Array(discovery.clients.keys) == [Scope(awsAccountId: "123456789012", region: "us-east-1")])
        #expect(discovery.clients.values.first?.endpoint == "https://ec2.us-east-1.amazonaws.com")
        #expect(!discovery.lists(Scope(subscriptionId: SampleConfiguration.subscription, region: "eastus")))
        let azureOnly = SampleConfiguration.environment(table: "composition", connectionString: .development)
        #expect(try Bootstrap(environment: azureOnly).awsDiscovery(logger: logger) == nil)
        let overridden = try #require(
            try Bootstrap(
                environment: Self.withAWS(keys.merging(["AWS_ENDPOINT_URL_EC2": "http://127.0.0.1:4566"]) { $1 })
            )
            .awsDiscovery(logger: logger))
        #expect(overridden.clients.values.first?.endpoint == "http://127.0.0.1:4566")

        for (extra, named) in [
            (["AWS_ACCESS_KEY_ID": "AKIDTEST"], "AWS_SECRET_ACCESS_KEY"),
            (keys.merging(["AWS_ENDPOINT_URL_EC2": "ftp://ec2.local"]) { $1 }, "AWS_ENDPOINT_URL_EC2"),
            (keys.merging(["AWS_ENDPOINT_URL": "not a url"]) { $1 }, "AWS_ENDPOINT_URL"),
        ] {
            do {
                _ = try await ManagerComposition.load(logLevel: "error", environment: Self.withAWS(extra))
                Issue.record("started with \(extra)")
            } catch {
                #expect(error.exitCode == 2, "\(error.message)")
                #expect(error.message.contains("AWS: \(named)"), "\(named): \(error.message)")
            }
        }
    }

    @Test("ManagerComposition: storage that is not usable is exit 1, naming the endpoint")
    func storageNotUsable() async throws {
        var environment = SampleConfiguration.environment(table: "composition", connectionString: .development)
        environment[Setting.storage.rawValue] =
            "DefaultEndpointsProtocol=http;AccountName=x;AccountKey=eA==;TableEndpoint=http://127.0.0.1:1/x"
        environment[Setting.storageTimeoutMs.rawValue] = "500"
        do {
            _ = try await ManagerComposition.load(logLevel: "error", environment: environment)
            Issue.record("storage nobody listens on was usable")
        } catch {
            #expect(error.exitCode == 1)
            #expect(
                error.message.contains("manager: storage at http://127.0.0.1:1/x is not usable"), "\(error.message)")
        }
    }

    @Test("a cycle over Assign alone reports PublicIPAssign.Report: counted as a complete run, no Sync time recorded")
    func assignUnderTheLease() async throws {
        let table = try await TestStorage.freshTable("locks")
        let clock = ManualClock()
        let metrics = ManagerMetrics()
        let cycle = ManagerCycle(
            lease: SingletonLease(table: table, owner: "manager-a", duration: .seconds(30), now: { clock.date }),
            clock: clock, logger: quiet, metrics: metrics
        ) {
            var report = PublicIPAssign.Report()
            report.writes = 2
            return report
        }
        let report = try #require(try await cycle.runOnce())
        #expect(report.writes == 2)
        #expect(report.logMetadata["writes"] == .stringConvertible(2))
        let lines = Set(String(decoding: metrics.exposition(), as: UTF8.self).split(separator: "\n").map(String.init))
        #expect(lines.contains(#"ipam_manager_runs_total{result="complete"} 1"#), "\(lines.sorted())")
        #expect(
            !lines.contains {
                $0.hasPrefix("ipam_manager_last_complete_sync_timestamp_seconds ") && !$0.hasSuffix(" 0")
                    && !$0.hasSuffix(" 0.0")
            }, "\(lines.sorted())")
    }
}
