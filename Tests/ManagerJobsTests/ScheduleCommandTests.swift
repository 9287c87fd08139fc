import AzureCore
import Foundation
import StrictJSON
import TestSupport
import Testing

/// `manager schedule` and `manager assign` as processes: the schedule alone, exit codes, and one Assign run
/// against an `arm-emulator` process.
@Suite("manager schedule and manager assign")
struct ScheduleCommandTests {
    static let document = #"""
        {"schedule_timezone": "Europe/London", "subscription_id": "11111111-1111-1111-1111-111111111111",
         "vms": {"adf": {"name": "vm-adf", "resource_group": "rg-data"}, "linux": {"name": "vm-linux", "resource_group": "rg-apps"}},
         "public_ips": {"iaptus_ip": {"name": "pip-iaptus", "resource_group": "rg-net"}},
         "schedule": [{"start": "09:00", "end": "17:00", "vm": "adf", "ip": "iaptus_ip"}, {"start": "17:00", "end": "09:00", "vm": "linux", "ip": "iaptus_ip"}]}
        """#

    /// The IP on `adf` all day (two windows meeting at noon and midnight): what `assign --once` converges to does
    /// not depend on when the test runs.
    static let allDay = #"""
        {"schedule_timezone": "Europe/London", "subscription_id": "11111111-1111-1111-1111-111111111111",
         "vms": {"adf": {"name": "vm-adf", "resource_group": "rg-data"}, "linux": {"name": "vm-linux", "resource_group": "rg-apps"}},
         "public_ips": {"iaptus_ip": {"name": "pip-iaptus", "resource_group": "rg-net"}},
         "schedule": [{"start": "00:00", "end": "12:00", "vm": "adf", "ip": "iaptus_ip"}, {"start": "12:00", "end": "00:00", "vm": "adf", "ip": "iaptus_ip"}]}
        """#

    @Test(
        "manager schedule prints the desired state at a moment (JSON with the zone's offset, or a table) from the schedule alone"
    )
    func schedule() async throws {
        // No storage and no Azure settings at all: the schedule is all it reads.
        let environment = ["PUBLIC_IP_SCHEDULE": Self.document]
        let summer = try await ProcessStack.runToCompletion(
            "manager", arguments: ["schedule", "--at", "10:00", "--date", "2026-06-15", "--json"],
            environment: environment, inherit: false)
        #expect(summer.status == 0, "\(summer.output)")
        let json = try JSONValue.parse(Array(summer.output.utf8))
        #expect(json["at"]?.stringValue == "2026-06-15T10:00:00+01:00")
        #expect(json["assignments"] == .array([.object([("vm", .string("adf")), ("ip", .string("iaptus_ip"))])]))
        let winter = try await ProcessStack.runToCompletion(
            "manager", arguments: ["schedule", "--at", "17:00", "--date", "2026-01-15"], environment: environment,
            inherit: false)
        #expect(
            winter.status == 0 && winter.output.contains("2026-01-15T17:00:00+00:00")
                && winter.output.contains("linux  iaptus_ip"), "\(winter.output)")
        let bad = try await ProcessStack.runToCompletion(
            "manager", arguments: ["schedule", "--at", "7pm"], environment: environment, inherit: false,
            capture: .standardError)
        #expect(bad.status == 2)
    }

    @Test("an invalid schedule stops the Manager at start-up with exit code 2, every problem on its own line")
    func invalidAtStartUp() async throws {
        let broken =
            #"{"schedule_timezone": "Europe/Londn", "vms": {}, "public_ips": {}, "schedule": [{"start": "9", "end": "17:00", "vm": "x", "ip": "y"}]}"#
        let schedule = try await ProcessStack.runToCompletion(
            "manager", arguments: ["schedule"], environment: ["PUBLIC_IP_SCHEDULE": broken], inherit: false,
            capture: .standardError)
        #expect(schedule.status == 2)
        let lines = schedule.output.split(separator: "\n").filter { $0.hasPrefix("  ") }
        #expect(
            lines.count >= 4 && schedule.output.contains("Europe/Londn")
                && schedule.output.contains("schedule[0]: start '9'") && schedule.output.contains("unknown vm 'x'"),
            "\(schedule.output)")
        var environment = SampleConfiguration.environment(
            table: TestStorage.uniqueName("sch"),
            connectionString: .init(accountName: "a", accountKey: "a2V5", tableEndpoint: "http://127.0.0.1:9/a"))
        environment["PUBLIC_IP_SCHEDULE"] = broken
        let run = try await ProcessStack.runToCompletion(
            "manager", arguments: ["run", "--once"], environment: environment, capture: .standardError)
        #expect(run.status == 2 && run.output.contains("PUBLIC_IP_SCHEDULE: schedule[0]"), "\(run.output)")
    }

    @Test(
        "manager assign --once converges on an arm-emulator process; --vm/--ip assigns now; a second --once writes nothing"
    )
    func assignOnce() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let storage = try await stack.startStorage()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("schedule-\(UUID().uuidString).json")
            .path
        try Data(Self.allDay.utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let arm = try await stack.launch("arm-emulator", arguments: ["--port", "0", "--seed-schedule", file])
        var environment = try await stack.managerEnvironment(table: TestStorage.uniqueName("asg"), storage: storage)
        environment["PUBLIC_IP_SCHEDULE"] = file
        environment["RESOURCE_MANAGER_ENDPOINT"] = "http://127.0.0.1:\(arm)"
        environment["RESOURCE_MANAGER_TOKEN"] = "local"
        let first = try await ProcessStack.runToCompletion(
            "manager", arguments: ["assign", "--once", "--log-level", "error"], environment: environment)
        #expect(
            first.status == 0 && first.output.contains("converged adf/iaptus_ip")
                && !first.output.contains("NIC writes 0"), "\(first.output)")
        let again = try await ProcessStack.runToCompletion(
            "manager", arguments: ["assign", "--once", "--log-level", "error"], environment: environment)
        #expect(
            again.status == 0 && again.output.contains("unchanged 1") && again.output.contains("NIC writes 0"),
            "\(again.output)")
        let manual = try await ProcessStack.runToCompletion(
            "manager", arguments: ["assign", "--vm", "linux", "--ip", "iaptus_ip", "--log-level", "error"],
            environment: environment)
        #expect(manual.status == 0 && manual.output.contains("converged linux/iaptus_ip"), "\(manual.output)")
        let state = try await HTTPCalls.send("GET", "http://127.0.0.1:\(arm)/admin/state")
        let pip = state.json?["resources"]?.arrayValue?.first { $0["name"]?.stringValue == "pip-iaptus" }
        #expect(pip?["properties"]?["ipConfiguration"]?["id"]?.stringValue?.contains("vm-linux-nic") == true)
        let unknown = try await ProcessStack.runToCompletion(
            "manager", arguments: ["assign", "--vm", "nobody", "--ip", "iaptus_ip"], environment: environment,
            capture: .standardError)
        #expect(unknown.status == 2 && unknown.output.contains("unknown vm 'nobody'"), "\(unknown.output)")
        #expect(
            try await ProcessStack.runToCompletion(
                "manager", arguments: ["assign"], environment: environment, capture: .standardError
            ).status != 0, "--once or --vm/--ip")
    }
}
