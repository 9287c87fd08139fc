import AzureCore
import AzureTables
import FaultProxy
import Foundation
import HTTPTransport
import IPAMCore
import Inventory
import NetworkMath
import StrictJSON
import TestSupport
import Testing

/// The executables as Azure Functions custom handlers, fed the exact payloads the host sends.
@Suite("Azure Functions custom handlers", .serialized)
struct FunctionsHandlerTests {
    @Test("manager: the host's ping and timer invocation get the Outputs/Logs/ReturnValue answer")
    func managerTimer() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let storage = try await stack.startStorage()
        var environment = try await stack.managerEnvironment(table: TestStorage.uniqueName("fn"), storage: storage)
        environment["MANAGER_TIMER_SCHEDULE"] = "0 */5 * * * *"
        let port = try await stack.launch(
            "manager", arguments: ["serve-functions", "--port", "0", "--log-level", "error"], environment: environment)
        let ping = try await HTTPCalls.send("GET", "http://127.0.0.1:\(port)/")
        #expect(ping.status == 200)
        let invocation = #"""
            {"Data":{"myTimer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":null,"IsPastDue":false}},
             "Metadata":{"sys":{"MethodName":"Manager","UtcNow":"2026-11-25T10:00:00.16Z","RandGuid":"5b9c6a3e-0000-0000-0000-000000000000"}}}
            """#
        let answer = try await HTTPCalls.send(
            "POST", "http://127.0.0.1:\(port)/Manager", body: invocation,
            headers: ["X-Azure-Functions-InvocationId": UUID().uuidString, "User-Agent": "Azure-Functions-Host/4.0"])
        #expect(answer.status == 200, "\(answer.text)")
        #expect(answer.json?["Outputs"]?.objectValue?.isEmpty == true)
        #expect(answer.json?["ReturnValue"] == .null)
        let logs = answer.json?["Logs"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(logs.contains { $0.contains("manager run: complete=true") }, "\(logs)")
    }

    @Test("manager: the operators' Run HTTP trigger runs once and answers the report as the function's HTTP response")
    func managerRunTrigger() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let storage = try await stack.startStorage()
        let environment = try await stack.managerEnvironment(table: TestStorage.uniqueName("fnrun"), storage: storage)
        let port = try await stack.launch(
            "manager", arguments: ["serve-functions", "--port", "0", "--log-level", "error"], environment: environment)
        // What the host posts for an HTTP trigger without request forwarding: the request as the `req` binding.
        let invocation = #"""
            {"Data":{"req":{"Url":"https://ipam-manager.azurewebsites.net/run","Method":"POST","Query":{},"Headers":{"x-functions-key":["admin"]},
                     "Params":{},"Identities":[],"Body":""}},
             "Metadata":{"sys":{"MethodName":"Run","UtcNow":"2026-12-01T10:00:00Z","RandGuid":"5b9c6a3e-0000-0000-0000-000000000001"}}}
            """#
        let answer = try await HTTPCalls.send(
            "POST", "http://127.0.0.1:\(port)/Run", body: invocation,
            headers: ["X-Azure-Functions-InvocationId": UUID().uuidString])
        #expect(answer.status == 200, "\(answer.text)")
        let res = try #require(answer.json?["Outputs"]?["res"])
        #expect(res["statusCode"] == .number("200"))
        let body = try JSONValue.parse(Array((res["body"]?.stringValue ?? "").utf8))
        #expect(body["ran"] == .bool(true) && body["complete"] == .bool(true), "\(body)")
        #expect(body["stocked"]?.objectValue?.isEmpty == false, "the run replenished the sample stock: \(body)")
    }

    @Test("vendor: the host's ping and a forwarded getNewNetwork with the function key (header or ?code=)")
    func vendorForwarded() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let storage = try await stack.startStorage()
        var environment = SampleConfiguration.environment(
            table: TestStorage.uniqueName("fn"), connectionString: storage)
        environment["VENDOR_API_KEYS"] = "function-key"
        environment["FUNCTIONS_CUSTOMHANDLER_PORT"] = "0"
        let port = try await stack.launch(
            "vendor", arguments: ["serve", "--log-level", "error"], environment: environment)
        #expect(try await HTTPCalls.send("GET", "http://127.0.0.1:\(port)/").status == 200)
        let headers: HTTPHeaderList = [
            "X-Azure-Functions-InvocationId": UUID().uuidString, "X-Azure-Functions-HostVersion": "4.1037.0",
            "User-Agent": "Azure-Functions-Host/4.1037.0", "x-functions-key": "function-key",
        ]
        let forwarded = try await HTTPCalls.send(
            "POST", "http://127.0.0.1:\(port)/api/getNewNetwork", body: #"{"SessionId":"fn-1"}"#, headers: headers)
        #expect(forwarded.status == 201)
        let withCode = try await HTTPCalls.send(
            "POST", "http://127.0.0.1:\(port)/api/getNewNetwork?code=function-key", body: #"{"SessionId":"fn-1"}"#)
        #expect(withCode.status == 200 && withCode.string("leaseId") == forwarded.string("leaseId"))
    }
}

@Suite("Manager processes", .serialized)
struct ManagerProcessTests {
    @Test("two Managers started together: one runs the jobs, the other skips")
    func twoManagers() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let storage = try await stack.startStorage()
        let settings = try await stack.managerEnvironment(table: TestStorage.uniqueName("two"), storage: storage)
        // The lease holder's first Resource Graph query is held until the other process has finished, however
        // slow either is to start on a busy machine: the other one must find the lease taken.
        let graph = settings["RESOURCE_GRAPH_ENDPOINT"]!
        _ = try await HTTPCalls.send("POST", graph + "/admin/hold")
        let pipes = [Pipe(), Pipe()]
        let processes = try pipes.map {
            try stack.start(
                "manager", arguments: ["run", "--once", "--log-level", "error"], environment: settings, output: $0)
        }
        let started = ContinuousClock.now
        while processes.allSatisfy(\.isRunning), ContinuousClock.now - started < .seconds(60) {
            try await Task.sleep(for: .milliseconds(20))
        }
        _ = try await HTTPCalls.send("POST", graph + "/admin/release")
        for process in processes { await process.exited() }
        var outputs: [String] = []
        for pipe in pipes {
            outputs.append(String(decoding: await PipeReader.allOffPool(pipe.fileHandleForReading), as: UTF8.self))
        }
        #expect(outputs.filter { $0.contains("manager: run complete=") }.count == 1, "\(outputs)")
        #expect(outputs.filter { $0.contains("skipped") }.count == 1, "\(outputs)")
    }

    @Test(
        "two deployments in one storage account: while the Manager of one inventory table is inside its run, the Manager of another table runs; a second Manager of the first table skips"
    )
    func twoTablesOneAccount() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let storage = try await stack.startStorage()
        let names = [TestStorage.uniqueName("acctA"), TestStorage.uniqueName("acctB")]
        let first = try await stack.managerEnvironment(table: names[0], storage: storage)
        let second = try await stack.managerEnvironment(table: names[1], storage: storage) // its own Resource Graph
        let locks = try TableServiceClient(connectionString: storage, transport: TestStorage.transport).table(
            "ipamLocks")
        func held(_ table: String) async -> Bool {
            ((try? await locks.get(partitionKey: "lock", rowKey: SingletonLease.managerName(forTable: table))) ?? nil)
                != nil
        }
        // Table A's Manager takes its lease and stays inside its run: its first Resource Graph query is held.
        let graph = first["RESOURCE_GRAPH_ENDPOINT"]!
        _ = try await HTTPCalls.send("POST", graph + "/admin/hold")
        let pipe = Pipe()
        let managerA = try stack.start(
            "manager", arguments: ["run", "--once", "--log-level", "error"], environment: first, output: pipe)
        let started = ContinuousClock.now
        var inside = false
        while !inside, managerA.isRunning, ContinuousClock.now - started < .seconds(60) {
            inside = await held(names[0])
            if !inside { try await Task.sleep(for: .milliseconds(20)) }
        }
        try #require(inside, "table A's Manager holds its lease")
        let managerB = try await ProcessStack.runToCompletion(
            "manager", arguments: ["run", "--once", "--log-level", "error"], environment: second)
        #expect(
            managerB.status == 0 && managerB.output.contains("manager: run complete="),
            "table B's Manager runs meanwhile: \(managerB.output)")
        let againA = try await ProcessStack.runToCompletion(
            "manager", arguments: ["run", "--once", "--log-level", "error"], environment: first)
        #expect(
            againA.status == 0 && againA.output.contains("skipped"),
            "a second Manager of table A skips: \(againA.output)")
        #expect(managerA.isRunning, "table A's Manager was inside its run all along")
        _ = try await HTTPCalls.send("POST", graph + "/admin/release")
        await managerA.exited()
        let outputA = String(decoding: await PipeReader.allOffPool(pipe.fileHandleForReading), as: UTF8.self)
        #expect(outputA.contains("manager: run complete="), "\(outputA)")
        let leftA = await held(names[0])
        let leftB = await held(names[1])
        #expect(!leftA && !leftB, "each released its lease")
    }

    @Test(
        "manager run: /metrics and /healthz on --metrics-port; SIGTERM while it waits for the schedule ends it at once with status 0, leaving no lease behind"
    )
    func sigtermWhileWaiting() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let storage = try await stack.startStorage()
        let tableName = TestStorage.uniqueName("term")
        var environment = try await stack.managerEnvironment(table: tableName, storage: storage)
        environment["MANAGER_TIMER_SCHEDULE"] = "0 0 0 1 1 *" // once a year: it will be waiting
        let pipe = Pipe()
        let manager = try stack.start(
            "manager", arguments: ["run", "--log-level", "error", "--metrics-port", "0"], environment: environment,
            output: pipe)
        // Wait until it has started its loop (it prints the schedule) and its metrics server (it prints the port).
        var text = ""
        while !(text.contains("schedule") && text.contains("metrics port: ")) {
            let chunk = await PipeReader.chunkOffPool(pipe.fileHandleForReading)
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        let port = try #require(
            text.split(separator: "\n").first { $0.hasPrefix("metrics port: ") }.flatMap { Int($0.dropFirst(14)) })
        let metrics = try await HTTPCalls.send("GET", "http://127.0.0.1:\(port)/metrics")
        #expect(
            metrics.status == 200 && metrics.text.contains(#"ipam_manager_runs_total{result="complete"} 0"#),
            "\(metrics.text)")
        #expect(try await HTTPCalls.send("GET", "http://127.0.0.1:\(port)/healthz").status == 200)
        // The next occurrence is up to a year away: that it exits at all shows it does not wait for it.
        kill(manager.processIdentifier, SIGTERM)
        await manager.exited()
        #expect(manager.terminationStatus == 0)
        let service = try TableServiceClient(connectionString: storage, transport: TestStorage.transport)
        #expect(
            try await service.table("ipamLocks").get(
                partitionKey: "lock", rowKey: SingletonLease.managerName(forTable: tableName)) == nil)
    }

    @Test(
        "a Manager killed (SIGKILL) mid-run: the next one skips while the dead one's lease lasts, then finishes the work; nothing lost or doubled"
    )
    func killedMidRun() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let storage = try await stack.startStorage()
        let tableName = TestStorage.uniqueName("kill")
        let service = try TableServiceClient(connectionString: storage, transport: TestStorage.transport)
        try await service.createTable(tableName)
        let table = service.table(tableName)
        let scope = Scope(subscriptionId: SampleConfiguration.subscription, region: "eastus")
        // 400 leases that expired long ago and were never deployed: 400 reaps, about 50 to a transaction.
        let count = 400
        let expired = Date().addingTimeInterval(-86_400)
        var actions: [TableTransactionAction] = []
        for index in 0..<count {
            let prefix = IPPrefix(
                address: try IPPrefix(parsing: "10.64.\(1 + index / 4).\(64 * (index % 4))/26").address, length: 26)!
            let lease = NetworkRow.Lease(
                id: "lease-\(index)", sessionId: "kill-\(index)", leasedAt: expired.addingTimeInterval(-3600),
                expiresAt: expired)
            let row = NetworkRow(prefix: prefix, holding: .leased(lease, vnet: nil))
            actions += [
                .insert(row.entity(partitionKey: scope.partitionKey)),
                .insert(
                    SessionRow(
                        sessionId: row.sessionId!, leaseId: row.leaseId!, networkRowKey: row.rowKey, requestHash: "h",
                        createdAt: expired
                    ).entity(partitionKey: scope.partitionKey)),
                .insert(
                    AuditEvent(
                        action: "lease", actor: "test", cidr: prefix.description, leaseId: row.leaseId!,
                        sessionId: row.sessionId!, before: "", after: "leased"
                    )
                    .entity(partitionKey: scope.partitionKey, at: expired)),
            ]
            if actions.count == 99 || index == count - 1 {
                try await table.submitTransaction(actions)
                actions = []
            }
        }
        // The first Manager talks to storage through a proxy that slows every call, so it can be killed half-way.
        var slow = FaultProxy.Faults()
        slow.maxDelayMs = 400
        let (_, proxied) = try await stack.proxy(storage, faults: slow)
        var environment = try await stack.managerEnvironment(table: tableName, storage: storage, stock: "{}")
        environment["REAP_GRACE_SECONDS"] = "0"
        environment["MANAGER_LEASE_SECONDS"] = "3"
        var slowed = environment
        slowed["AzureWebJobsStorage"] = environment["AzureWebJobsStorage"]!.replacingOccurrences(
            of: storage.tableEndpoint, with: proxied.tableEndpoint)

        func quarantined() async throws -> Int {
            let rows = try await table.queryAll(
                filter: "PartitionKey eq '\(scope.partitionKey)' and State eq 'quarantined'", select: ["RowKey"])
            return rows.count
        }
        let first = try stack.start(
            "manager", arguments: ["run", "--once", "--log-level", "error"], environment: slowed)
        let started = ContinuousClock.now
        var done = 0
        while done == 0, first.isRunning, ContinuousClock.now - started < .seconds(60) {
            try await Task.sleep(for: .milliseconds(10))
            done = try await quarantined()
        }
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let atKill = try await quarantined()
        #expect(atKill > 0 && atKill < count, "killed part-way: \(atKill) of \(count) reaped")

        let second = try await ProcessStack.runToCompletion(
            "manager", arguments: ["run", "--once", "--log-level", "error"], environment: environment)
        #expect(second.output.contains("skipped"), "the dead Manager's lease still holds: \(second.output)")
        try await Task.sleep(for: .seconds(3.5)) // MANAGER_LEASE_SECONDS: the dead holder's lease runs out
        let third = try await ProcessStack.runToCompletion(
            "manager", arguments: ["run", "--once", "--log-level", "error"], environment: environment)
        #expect(third.output.contains("manager: run complete=true"), "\(third.output)")
        #expect(try await quarantined() == count, "every lease reaped")
        let reaps = try await table.queryAll(
            filter: "PartitionKey eq '\(scope.partitionKey)' and Action eq 'reap'", select: ["RowKey"])
        #expect(reaps.count == count, "one reap event per lease: nothing done twice")
        let rows = try await table.queryAll(filter: "PartitionKey eq '\(scope.partitionKey)'")
        let problems = InvariantChecker.violations(in: rows)
        #expect(problems.isEmpty, "\(problems.prefix(5).joined(separator: "\n"))")
    }
}
