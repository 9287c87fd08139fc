import AzureCore
import Foundation
import Testing
import TestSupport
import HTTPTransport

/// The executables as Azure Functions custom handlers, fed the exact payloads the host sends.
@Suite("Azure Functions custom handlers", .serialized)
struct FunctionsHandlerTests {
    @Test("manager: the host's ping and timer invocation get the Outputs/Logs/ReturnValue answer")
    func managerTimer() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let storage = try stack.startStorage()
        let graph = try stack.launch("arg-emulator", arguments: ["--port", "0"])
        var environment = SampleConfiguration.environment(table: TestStorage.uniqueName("fn"), connectionString: storage)
        environment["RESOURCE_GRAPH_ENDPOINT"] = "http://127.0.0.1:\(graph)"
        environment["RESOURCE_GRAPH_TOKEN"] = "local"
        environment["MANAGER_TIMER_SCHEDULE"] = "0 */5 * * * *"
        let port = try stack.launch("manager", arguments: ["serve-functions", "--port", "0", "--log-level", "error"], environment: environment)
        let ping = try await HTTPCalls.send("GET", "http://127.0.0.1:\(port)/")
        #expect(ping.status == 200)
        let invocation = #"""
        {"Data":{"myTimer":{"Schedule":{"AdjustForDST":true},"ScheduleStatus":null,"IsPastDue":false}},
         "Metadata":{"sys":{"MethodName":"Manager","UtcNow":"2026-11-25T10:00:00.16Z","RandGuid":"5b9c6a3e-0000-0000-0000-000000000000"}}}
        """#
        let answer = try await HTTPCalls.send("POST", "http://127.0.0.1:\(port)/Manager", body: invocation,
                                              headers: ["X-Azure-Functions-InvocationId": UUID().uuidString, "User-Agent": "Azure-Functions-Host/4.0"])
        #expect(answer.status == 200, "\(answer.text)")
        #expect(answer.json?["Outputs"]?.objectValue?.isEmpty == true)
        #expect(answer.json?["ReturnValue"] == .null)
        let logs = answer.json?["Logs"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(logs.contains { $0.contains("manager run: complete=true") }, "\(logs)")
    }

    @Test("vendor: the host's ping and a forwarded getNewNetwork with the function key (header or ?code=)")
    func vendorForwarded() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let storage = try stack.startStorage()
        var environment = SampleConfiguration.environment(table: TestStorage.uniqueName("fn"), connectionString: storage)
        environment["VENDOR_API_KEYS"] = "function-key"
        environment["FUNCTIONS_CUSTOMHANDLER_PORT"] = "0"
        let port = try stack.launch("vendor", arguments: ["serve", "--log-level", "error"], environment: environment)
        #expect(try await HTTPCalls.send("GET", "http://127.0.0.1:\(port)/").status == 200)
        let headers: HTTPHeaderList = ["X-Azure-Functions-InvocationId": UUID().uuidString, "X-Azure-Functions-HostVersion": "4.1037.0",
                                       "User-Agent": "Azure-Functions-Host/4.1037.0", "x-functions-key": "function-key"]
        let forwarded = try await HTTPCalls.send("POST", "http://127.0.0.1:\(port)/api/getNewNetwork", body: #"{"SessionId":"fn-1"}"#, headers: headers)
        #expect(forwarded.status == 201)
        let withCode = try await HTTPCalls.send("POST", "http://127.0.0.1:\(port)/api/getNewNetwork?code=function-key", body: #"{"SessionId":"fn-1"}"#)
        #expect(withCode.status == 200 && withCode.string("leaseId") == forwarded.string("leaseId"))
    }
}

@Suite("Manager processes", .serialized)
struct ManagerProcessTests {
    @Test("two Managers started together: one runs the jobs, the other skips")
    func twoManagers() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let storage = try stack.startStorage()
        let graph = try stack.launch("arg-emulator", arguments: ["--port", "0"])
        // A throttled first page makes each run last over a second, so the two really overlap.
        _ = try await HTTPCalls.send("POST", "http://127.0.0.1:\(graph)/admin/faults", body: #"{"mode":"throttle","count":2}"#)
        var environment = SampleConfiguration.environment(table: TestStorage.uniqueName("two"), connectionString: storage)
        environment["RESOURCE_GRAPH_ENDPOINT"] = "http://127.0.0.1:\(graph)"
        environment["RESOURCE_GRAPH_TOKEN"] = "local"
        let settings = environment
        let outputs = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    try ProcessStack.runToCompletion("manager", arguments: ["run", "--once", "--log-level", "error"], environment: settings).output
                }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(outputs.filter { $0.contains("manager: run complete=") }.count == 1, "\(outputs)")
        #expect(outputs.filter { $0.contains("skipped") }.count == 1, "\(outputs)")
    }
}
