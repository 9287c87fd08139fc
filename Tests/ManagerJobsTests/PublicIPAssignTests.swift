import AzureCore
import AzureTables
import Foundation
import HTTPTransport
import Inventory
import Logging
import ManagerJobs
import PublicIPSchedule
import ResourceManager
import ResourceManagerEmulator
import StrictJSON
import TableEmulator
import TestSupport
import Testing

/// Assign end to end: the schedule, the Resource Manager client, a local Resource Manager (`ResourceManagerEmulator`)
/// and the audit trail in the table, with a clock the test moves through a whole day.
@Suite("Public-IP assignments against Resource Manager")
struct PublicIPAssignTests {
    static let subscription = "22222222-2222-2222-2222-222222222222"
    static let schedule = """
        schedule_timezone: "Europe/London"
        subscription_id: "\(subscription)"
        vms:
          linux:   {name: vm-linux, resource_group: rg-apps}
          adf:     {name: vm-adf, resource_group: rg-data}
          dotnine: {name: vm-dotnine, resource_group: rg-apps}
        public_ips:
          iaptus_ip:  {name: pip-iaptus, resource_group: rg-net}
          dotnine_ip: {name: pip-dotnine, resource_group: rg-net}
        schedule:
          - {start: "07:45", end: "08:30", vm: linux, ip: iaptus_ip}
          - {start: "08:30", end: "09:00", vm: linux, ip: dotnine_ip}
          - {start: "09:00", end: "17:00", vm: adf, ip: iaptus_ip}
          - {start: "09:00", end: "17:00", vm: dotnine, ip: dotnine_ip}
          - {start: "17:00", end: "23:59", vm: linux, ip: iaptus_ip}
        """

    struct World: Sendable {
        let state: ResourceManagerState
        let assign: PublicIPAssign
        let plan: PublicIPSchedule
        let arm: ResourceManagerClient
        let inventory: Inventory

        /// Public IP label → the VM label whose NIC holds it (nil: free); fails the test if one is on two NICs.
        func holders() async -> [String: String] {
            var result: [String: String] = [:]
            let all = await state.holders()
            for (label, ip) in plan.publicIPs {
                let configurations = all[ip.id.lowercased()] ?? []
                #expect(
                    configurations.count <= 1,
                    "\(label) is on \(configurations.count) IP configurations: \(configurations)")
                guard let configuration = configurations.first else { continue }
                let nic = configuration.components(separatedBy: "/ipConfigurations/")[0].lowercased()
                result[label] = plan.vms.first { nic.hasSuffix("/" + $0.value.name.lowercased() + "-nic") }?.key
            }
            return result
        }

        func at(_ time: String) -> Date { plan.instant(time: time, day: "2026-06-15", now: Date())! }
    }

    static func withWorld(_ body: @Sendable (World) async throws -> Void) async throws {
        var resources: [JSONValue] = []
        for (group, name, ip) in [
            ("rg-apps", "vm-linux", "10.0.0.4"), ("rg-data", "vm-adf", "10.0.0.5"),
            ("rg-apps", "vm-dotnine", "10.0.0.6"),
        ] {
            resources += ResourceManagerState.virtualMachine(
                subscription: subscription, resourceGroup: group, name: name, privateIP: ip)
        }
        resources.append(
            ResourceManagerState.publicIP(
                subscription: subscription, resourceGroup: "rg-net", name: "pip-iaptus", address: "20.0.0.10"))
        resources.append(
            ResourceManagerState.publicIP(
                subscription: subscription, resourceGroup: "rg-net", name: "pip-dotnine", address: "20.0.0.11"))
        let state = ResourceManagerState(resources: resources)
        let emulator = ResourceManagerEmulator(state: state)
        try await TestServers.withFakeServer({ await emulator.handle($0) }) { port in
            // Retries and polls wait on a clock that does not sleep: no test waits for a Retry-After.
            let instant = RetryClock(uptime: { .zero }, sleep: { _ in })
            let pipeline = AzurePipeline(
                transport: TestStorage.transport,
                authorizer: BearerTokenAuthorizer(credential: StaticTokenCredential("local"), scope: .management),
                retryPolicy: RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(1), maxDelay: .milliseconds(2)),
                clock: instant)
            let arm = ResourceManagerClient(
                endpoint: "http://127.0.0.1:\(port)", pipeline: pipeline, pollInterval: .milliseconds(1))
            let inventory = Inventory(table: try await TestStorage.freshTable("pip"), actor: "manager-test")
            let text = Self.schedule
            let assign = PublicIPAssign(
                schedule: { () throws(ScheduleError) in try PublicIPSchedule.parse(text) }, arm: arm,
                inventory: inventory,
                logger: Logger(label: "assign-test", factory: { _ in SwiftLogNoOpLogHandler() }))
            try await body(
                World(
                    state: state, assign: assign, plan: try PublicIPSchedule.parse(text), arm: arm, inventory: inventory
                ))
        }
    }

    @Test(
        "through a whole day: assignments change exactly at the window edges, runs in between write nothing, a hand-made move is undone, throttling and a failed PUT are survived, no IP is ever on two NICs"
    )
    func wholeDay() async throws {
        try await Self.withWorld { world in
            // An earlier assignment left a secondary configuration on linux's NIC: the first association there removes it.
            let linuxNIC =
                "/subscriptions/\(Self.subscription)/resourceGroups/rg-apps/providers/Microsoft.Network/networkInterfaces/vm-linux-nic"
            var nic = try #require(await world.state.resource(linuxNIC))
            nic = nic.updating("properties") { properties in
                properties!.updating("ipConfigurations") { list in
                    .array(
                        list!.arrayValue! + [
                            .object([
                                ("name", .string("ipam-old")), ("id", .string(linuxNIC + "/ipConfigurations/ipam-old")),
                                (
                                    "properties",
                                    .object([("primary", .bool(false)), ("privateIPAddress", .string("10.0.0.40"))])
                                ),
                            ])
                        ])
                }
            }
            await world.state.upsert(nic)

            var previous: [Assignment] = []
            var edges: [String] = []
            let minutes = Array(stride(from: 0, to: 24 * 60, by: 5)) + [7 * 60 + 45, 23 * 60 + 59]
            for minute in Set(minutes).sorted() {
                let time = String(format: "%02d:%02d", minute / 60, minute % 60)
                let now = world.at(time)
                if time == "10:30" {
                    // Someone moves iaptus_ip to linux by hand, through Resource Manager.
                    var adf = try await world.arm.networkInterface(
                        linuxNIC.replacingOccurrences(of: "rg-apps", with: "rg-data").replacingOccurrences(
                            of: "vm-linux", with: "vm-adf"))
                    adf.setPublicIP(nil, on: "ipconfig1")
                    _ = try await world.arm.update(adf)
                    var linux = try await world.arm.networkInterface(linuxNIC)
                    linux.setPublicIP(world.plan.publicIPs["iaptus_ip"]!.id, on: "ipconfig1")
                    _ = try await world.arm.update(linux)
                    #expect(await world.holders()["iaptus_ip"] == "linux")
                }
                if time == "12:00" { await world.state.inject(.throttle, count: 3) }
                if time == "17:00" { await world.state.inject(.failAfterAccept, count: 1) }
                let writesBefore = await world.state.puts
                let report = await world.assign.run(now: now)
                let writes = await world.state.puts - writesBefore
                let desired = world.plan.desired(at: now)
                #expect(report.desired == desired)
                if time == "17:00" {
                    #expect(report.failures.count == 1, "the accepted PUT failed: \(report)")
                } else {
                    #expect(report.failures.isEmpty, "\(time): \(report.failures)")
                    let holders = await world.holders()
                    for assignment in desired {
                        #expect(holders[assignment.ip] == assignment.vm, "\(time): \(assignment) (holders \(holders))")
                    }
                }
                if desired == previous && time != "10:30" && time != "17:05" {
                    #expect(writes == 0, "\(time): nothing changed, yet \(writes) writes")
                    #expect(report.converged.isEmpty)
                } else if desired.isEmpty {
                    #expect(writes == 0, "\(time): nothing is managed: left alone")
                } else if desired != previous {
                    edges.append(time)
                    #expect(writes > 0, "\(time): the schedule changed, so something is written")
                }
                if time == "10:30" {
                    #expect(
                        report.converged.map(\.description) == ["adf/iaptus_ip"],
                        "the hand-made move is undone: \(report)")
                }
                if time == "17:05" {
                    #expect(
                        report.converged.map(\.description) == ["linux/iaptus_ip"],
                        "the failed PUT is finished by the next run")
                }
                previous = desired
            }
            #expect(edges == ["07:45", "08:30", "09:00", "17:00"], "\(edges)")
            let linux = try await world.arm.networkInterface(linuxNIC)
            #expect(
                !linux.ipConfigurations.contains { $0.name == "ipam-old" },
                "the earlier assignment's secondary configuration is gone")
            let events = try await world.inventory.scheduleEvents()
            #expect(
                events.contains {
                    $0.action == "public-ip-associated" && $0.cidr == "20.0.0.10" && $0.detail.contains("vm linux")
                })
            #expect(events.contains { $0.action == "public-ip-disassociated" })
        }
    }

    @Test(
        "a manual assignment bypasses the schedule (audited); the next scheduled run converges back; after downtime a run goes straight to what is right then"
    )
    func manualAndNoBackfill() async throws {
        try await Self.withWorld { world in
            _ = await world.assign.run(now: world.at("10:00"))
            #expect(await world.holders() == ["iaptus_ip": "adf", "dotnine_ip": "dotnine"])
            let manual = await world.assign.assign(vm: "linux", ip: "iaptus_ip", now: world.at("10:10"))
            #expect(manual.converged.map(\.description) == ["linux/iaptus_ip"] && manual.failures.isEmpty, "\(manual)")
            #expect(await world.holders()["iaptus_ip"] == "linux")
            let events = try await world.inventory.scheduleEvents()
            #expect(events.contains { $0.detail.hasPrefix("manual:") })
            #expect(
                await world.assign.assign(vm: "nobody", ip: "iaptus_ip", now: world.at("10:11")).problems.count == 1)
            _ = await world.assign.run(now: world.at("10:15"))
            #expect(await world.holders()["iaptus_ip"] == "adf")
            // The Manager is down from 10:15 to 18:00: no replay of 17:00, just what 18:00 wants.
            let writes = await world.state.puts
            let late = await world.assign.run(now: world.at("18:00"))
            #expect(late.desired.map(\.description) == ["linux/iaptus_ip"] && late.converged.count == 1)
            #expect(await world.state.puts - writes == 2, "off adf, onto linux: two NIC writes")
            let holders = await world.holders()
            #expect(
                holders["iaptus_ip"] == "linux" && holders["dotnine_ip"] == "dotnine",
                "dotnine_ip is in no active entry: left alone")
        }
    }

    @Test("an invalid schedule at run time changes nothing")
    func invalidAtRunTime() async throws {
        try await Self.withWorld { world in
            let broken = PublicIPAssign(
                schedule: { () throws(ScheduleError) in
                    try PublicIPSchedule.parse("schedule_timezone: Nowhere/Else\nvms: {}\npublic_ips: {}\nschedule: []")
                },
                arm: world.arm, inventory: world.inventory,
                logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))
            let report = await broken.run(now: world.at("10:00"))
            #expect(!report.problems.isEmpty && report.desired.isEmpty)
            #expect(await world.state.puts == 0)
        }
    }

    @Test(
        "the local Resource Manager refuses what Azure refuses: an IP associated elsewhere, a stale ETag; a PUT that fails after accepting surfaces as an error and changes nothing"
    )
    func resourceManagerRules() async throws {
        try await Self.withWorld { world in
            let iaptus = world.plan.publicIPs["iaptus_ip"]!.id
            let nic = { (vm: String, group: String) in
                "/subscriptions/\(Self.subscription)/resourceGroups/\(group)/providers/Microsoft.Network/networkInterfaces/\(vm)-nic"
            }
            var adf = try await world.arm.networkInterface(nic("vm-adf", "rg-data"))
            adf.setPublicIP(iaptus, on: "ipconfig1")
            _ = try await world.arm.update(adf)
            var linux = try await world.arm.networkInterface(nic("vm-linux", "rg-apps"))
            linux.setPublicIP(iaptus, on: "ipconfig1")
            await #expect { _ = try await world.arm.update(linux) } throws: {
                ($0 as? AzureError)?.errorCode == "PublicIPAddressInUse"
            }
            let stale = adf // read before the update above: its ETag is old
            await #expect { _ = try await world.arm.update(stale) } throws: { ($0 as? AzureError)?.status == 412 }
            var fresh = try await world.arm.networkInterface(nic("vm-adf", "rg-data"))
            fresh.setPublicIP(nil, on: "ipconfig1")
            await world.state.inject(.failAfterAccept, count: 1)
            await #expect { _ = try await world.arm.update(fresh) } throws: {
                ($0 as? AzureError)?.errorCode == "InternalServerError"
            }
            #expect(
                try await world.arm.publicIPAddress(iaptus).networkInterfaceId?.lowercased()
                    == nic("vm-adf", "rg-data").lowercased(), "nothing changed")
            let vm = try await world.arm.virtualMachine(world.plan.vms["adf"]!.id)
            #expect(vm.primaryNetworkInterfaceId == nic("vm-adf", "rg-data"))
        }
    }

    @Test("an entry that fails (its VM is gone) is reported alone; the others still converge")
    func oneEntryFails() async throws {
        try await Self.withWorld { world in
            let text = Self.schedule.replacingOccurrences(of: "name: vm-dotnine", with: "name: vm-deleted")
            let assign = PublicIPAssign(
                schedule: { () throws(ScheduleError) in try PublicIPSchedule.parse(text) }, arm: world.arm,
                inventory: world.inventory,
                logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))
            let report = await assign.run(now: world.at("10:00"))
            #expect(
                report.failures.count == 1 && report.failures[0].hasPrefix("dotnine/dotnine_ip"), "\(report.failures)")
            #expect(report.converged.map(\.description) == ["adf/iaptus_ip"])
            #expect(await world.holders()["iaptus_ip"] == "adf")
        }
    }

    @Test("a long-running operation answered with 202 and Location is polled until it stops answering 202")
    func locationPolling() async throws {
        let polls = RequestLog()
        try await TestServers.withFakeServer({ request in
            if request.method == "PUT" {
                return EmulatorResponse(
                    status: 202, headers: ["Location": "http://\(request.headers["Host"] ?? "")/ops/1?api-version=1"],
                    body: [])
            }
            if request.rawPath.hasPrefix("/ops/") {
                return polls.record(request) < 3
                    ? EmulatorResponse(status: 202, headers: ["Retry-After": "0"], body: [])
                    : TestServers.json(200, "{}")
            }
            return TestServers.json(
                200,
                #"{"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/networkInterfaces/n", "etag": "W/\"1\"", "properties": {"ipConfigurations": []}}"#
            )
        }) { port in
            let pipeline = AzurePipeline(
                transport: TestStorage.transport,
                authorizer: BearerTokenAuthorizer(credential: StaticTokenCredential("local"), scope: .management),
                clock: RetryClock(uptime: { .zero }, sleep: { _ in }))
            let arm = ResourceManagerClient(
                endpoint: "http://127.0.0.1:\(port)", pipeline: pipeline, pollInterval: .milliseconds(1))
            let nic = try await arm.networkInterface(
                "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/networkInterfaces/n")
            _ = try await arm.update(nic)
            #expect(polls.count == 3, "polled until the operation stopped answering 202")
        }
    }
}
