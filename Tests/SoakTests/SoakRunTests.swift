import Foundation
import Soak
import TestSupport
import Testing

/// `ipam-dev soak` for a short run: every process started, every fault of the schedule run once, every check
/// passed at every checkpoint and at the end. Nothing here asserts a time or a rate.
@Suite("ipam-dev soak", .serialized)
struct SoakRunTests {
    @Test("a 45-second soak runs every fault and passes every check; its report says so")
    func shortSoak() async throws {
        try await LoadTests.exclusive {
            let report = NSTemporaryDirectory() + "soak-\(UUID().uuidString).json"
            defer { try? FileManager.default.removeItem(atPath: report) }
            let (status, output) = try await ProcessStack.runToCompletion(
                "ipam-dev",
                arguments: [
                    "soak", "--seconds", "45", "--clients", "3", "--report", report, "--bin-dir",
                    ProcessStack.binDirectory,
                ],
                environment: [:])
            let data = try #require(FileManager.default.contents(atPath: report), "no report; output: \(output)")
            let result = try SoakReport.decode(data)
            let failed = result.checkpoints.flatMap { point in point.checks.filter { !$0.passed } }
            #expect(failed.isEmpty, "\(failed.map { "\($0.name): \($0.problems.prefix(5))" })")
            #expect(result.problems.isEmpty, "\(result.problems)")
            #expect(result.passed)
            #expect(status == 0, "\(output)")
            #expect(output.contains("soak: PASSED"))
            #expect(Set(result.faults.map(\.fault)) == Set(SoakSchedule.Fault.allCases.map(\.rawValue)))
            #expect(result.checkpoints.last?.final == true)
            #expect((result.operations["new leases"] ?? 0) > 0)
            #expect((result.operations["replays"] ?? 0) > 0)
            #expect((result.operations["pooled leases"] ?? 0) > 0)
            #expect((result.operations["MCP tool calls"] ?? 0) > 0)
            let sampled = Set(result.memory.map(\.process))
            for process in ["table-emulator", "vendor-0", "vendor-1", "manager-0", "manager-1", "ipam-mcp"] {
                #expect(sampled.contains(process), "no memory samples of \(process)")
            }
        }
    }

    @Test("an invalid length is refused before anything starts")
    func refusesBadOptions() async throws {
        for arguments in [["soak"], ["soak", "--seconds", "5"], ["soak", "--minutes", "1", "--seconds", "60"]] {
            let (status, _) = try await ProcessStack.runToCompletion(
                "ipam-dev", arguments: arguments, environment: [:], capture: .standardError)
            #expect(status != 0, "\(arguments)")
        }
    }
}
