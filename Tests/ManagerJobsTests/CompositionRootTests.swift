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
