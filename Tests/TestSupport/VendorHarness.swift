package import AzureCore
package import AzureTables
package import FaultProxy
package import Foundation
package import HTTPTransport
import Hummingbird
package import IPAMCore
import Inventory
package import Logging
package import StrictJSON
import TableEmulator
import VendorConsole
import VendorDomain
package import VendorHTTP

/// A sample configuration in the shape of docs/Configuration.md, small enough to exhaust in tests.
package enum SampleConfiguration {
    package static let subscription = "11111111-1111-1111-1111-111111111111"
    package static let auditSalt = "test-audit-salt-0123456789"

    /// Environment for one test: its own table on the test storage endpoint.
    package static func environment(
        table: String, connectionString: StorageConnectionString,
        eastus: String = "10.64.0.0/16", exclude: String = "10.64.0.0/24",
        stock: String = #"{"22":2,"24":4}"#, leaseHours: String = "4"
    ) -> [String: String] {
        [
            "AzureWebJobsStorage":
                "DefaultEndpointsProtocol=http;AccountName=\(connectionString.accountName);AccountKey=\(connectionString.accountKey ?? "");TableEndpoint=\(connectionString.tableEndpoint);",
            "IPAM_TABLE_NAME": table, "AUDIT_SALT": auditSalt,
            "CIDR_SIZE_MIN": "20", "CIDR_SIZE_MAX": "28", "CIDR_SIZE_DEFAULT": "24", "LEASE_DURATION_HOURS": leaseHours,
            "SUPERNETS_CONFIG":
                #"[{"subscriptionId":"\#(subscription)","regions":[{"region":"eastus","supernets":["\#(eastus)"],"exclude":["\#(exclude)"]},{"region":"westeurope","supernets":["10.72.0.0/16"]}]}]"#,
            "SCOPE_CONFIG_MANIFEST":
                #"{"defaultScope":{"subscriptionId":"\#(subscription)","region":"eastus"},"scopes":[{"subscriptionId":"\#(subscription)","region":"eastus","stock":\#(stock)}]}"#,
        ]
    }
}

/// A JSON answer from an HTTP call.
package struct HTTPAnswer: Sendable {
    package let status: Int
    package let headers: HTTPHeaderList
    package let json: JSONValue?
    package let text: String
    package var code: String? { json?["code"]?.stringValue }
    package func string(_ key: String) -> String? { json?[key]?.stringValue }
}

package enum HTTPCalls {
    package static func send(
        _ method: String, _ url: String, body: String? = nil, headers: HTTPHeaderList = [:],
        contentType: String? = "application/json", timeout: Duration = .seconds(30)
    ) async throws -> HTTPAnswer {
        var all = headers
        if body != nil, let contentType, all["Content-Type"] == nil { all["Content-Type"] = contentType }
        let response = try await TestStorage.transport.execute(
            TransportRequest(
                method: method, url: url, headers: all, body: body.map { Array($0.utf8) }, timeout: timeout))
        return HTTPAnswer(
            status: response.status, headers: response.headers, json: try? JSONValue.parse(response.body),
            text: response.bodyText)
    }

    /// `send`, repeated while the answer is 503 `Busy` — nothing was claimed, so the same body (same SessionId) is
    /// safe to send again, as a client's retry would.
    ///
    /// For tests whose claim is the final outcome of a race (every block held once, one lease per session), not
    /// whether contention on a loaded machine outlasted one request's deadline.
    package static func sendRetryingBusy(
        _ method: String, _ url: String, body: String, headers: HTTPHeaderList = [:], attempts: Int = 6
    ) async throws -> HTTPAnswer {
        var answer = try await send(method, url, body: body, headers: headers)
        for _ in 1..<max(attempts, 1) where answer.status == 503 && answer.code == "Busy" {
            try await Task.sleep(for: .milliseconds(200))
            answer = try await send(method, url, body: body, headers: headers)
        }
        return answer
    }
}

/// Runs a Vendor in this process (real HTTP on an ephemeral port) against the test storage endpoint.
package enum VendorHarness {
    package static func withVendor<T: Sendable>(
        environment overrides: [String: String] = [:], keys: [String]? = nil, roleKeys: APIKeys? = nil,
        tokens: TokenAuthentication? = nil,
        logger injected: Logger? = nil, time: TimeSource = .system, redactActors: Bool = false,
        readiness: @escaping @Sendable () async -> String? = { nil },
        _ body:
            @Sendable (_ baseURL: String, _ table: TableClient, _ configuration: IPAMConfiguration) async throws -> T
    ) async throws -> T {
        let connection = try await TestStorage.connectionString()
        let tableName = TestStorage.uniqueName("v")
        var environment = SampleConfiguration.environment(table: tableName, connectionString: connection)
        environment.merge(overrides) { _, new in new }
        let configuration = try IPAMConfiguration.load(environment: environment)
        let metrics = VendorMetrics()
        let service = try await TestStorage.service(
            retryPolicy: RetryPolicy(
                maxAttempts: 4, baseDelay: .milliseconds(10), maxDelay: .milliseconds(200), deadline: .seconds(5)),
            onAttempt: { metrics.recordStorageAttempt(StorageAttempt($0)) })
        let table = service.table(configuration.tableName)
        let inventory = Inventory(
            table: table, actor: "vendor-test", onClaimRound: { metrics.recordClaimTransaction(members: $0) })
        try await inventory.ensureTables()
        let logger = injected ?? Logger(label: "vendor-test", factory: { _ in SwiftLogNoOpLogHandler() })
        let vendor = VendorService(
            configuration: configuration, inventory: inventory,
            redactor: PrincipalRedactor(salt: environment["AUDIT_SALT"] ?? SampleConfiguration.auditSalt),
            logger: logger, metrics: metrics, deadline: .seconds(10), time: time, redactActors: redactActors)
        let router = VendorRouter.build(
            service: vendor, keys: roleKeys ?? keys.map { APIKeys(keys: $0) }, tokens: tokens,
            adding: [
                ConsoleRegistrar(service: vendor, sessions: try ConsoleSessions.load { environment[setting: $0] })
            ],
            logger: logger, readiness: readiness)
        let (server, port) = try await TestServerHandle.start(logger: logger) { running in
            Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: running, logger: logger)
        }
        return try await server.serving { try await body("http://127.0.0.1:\(port)", table, configuration) }
    }
}

/// Real processes: `table-emulator` (unless IPAM_TEST_STORAGE is set) and any number of `vendor`s.
package final class ProcessStack: @unchecked Sendable {
    // @unchecked: `processes` is only touched by the test that owns the stack, before and after its concurrent phase.
    package private(set) var processes: [Process] = []
    /// In-process servers the processes talk to (fault proxies): stopped after them.
    private var servers: [FaultProxy.Server] = []
    package private(set) var storage: StorageConnectionString?

    package init() {}

    package static var binDirectory: String {
        if let dir = ProcessInfo.processInfo.environment["IPAM_BIN_DIR"] { return dir }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent(".build/debug").path
    }

    /// Starts an executable and returns the port it prints as `port: N`.
    ///
    /// Its output is read on a thread of its own, never on the concurrency pool: while the child starts, the
    /// test's in-process servers (a fault proxy in front of its storage, say) need the pool's few threads to
    /// answer it, and a read blocking them there deadlocks both until the child gives up.
    /// - Parameter descriptorLimit: start it with this limit on open descriptors (soft and hard; `ulimit -n`).
    package func launch(
        _ name: String, arguments: [String], environment: [String: String] = [:], descriptorLimit: Int? = nil
    ) async throws -> Int {
        let path = Self.binDirectory + "/" + name
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestFailure("\(path) is missing: run `swift build` first (scripts/test does)")
        }
        let process = Process()
        if let descriptorLimit {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments =
                ["-c", "ulimit -Sn \(descriptorLimit) && ulimit -Hn \(descriptorLimit) && exec \"$0\" \"$@\"", path]
                + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = arguments
        }
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        // Standard error goes to a file, so a process that dies at start-up says why in the failure.
        let errorPath = NSTemporaryDirectory() + "ipam-\(name)-\(UUID().uuidString).stderr"
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        let errorFile = FileHandle(forWritingAtPath: errorPath)
        process.standardError = errorFile ?? FileHandle.nullDevice
        defer { try? errorFile?.close() }
        try process.run()
        processes.append(process)
        let output = pipe.fileHandleForReading
        let reported: (port: Int?, text: String) = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var text = ""
                while true {
                    let chunk = PipeReader.chunk(output)
                    if chunk.isEmpty { break }
                    text += String(decoding: chunk, as: UTF8.self)
                    if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("port: ") }),
                        let port = Int(line.dropFirst(6))
                    {
                        continuation.resume(returning: (port, text))
                        // keep draining: the child never blocks on a full pipe
                        while !PipeReader.chunk(output).isEmpty {}
                        return
                    }
                }
                continuation.resume(returning: (nil, text))
            }
        }
        if let port = reported.port {
            try? FileManager.default.removeItem(atPath: errorPath) // the process keeps writing to it, unlinked
            return port
        }
        let errors = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: errorPath)
        throw TestFailure(
            "\(name) did not report a port: \(reported.text)\(errors.isEmpty ? "" : "; its standard error: " + String(errors.suffix(2000)))"
        )
    }

    /// Starts one of our executables without waiting for anything (stopped with the stack); its standard
    /// output goes to `output` when given.
    package func start(_ name: String, arguments: [String], environment: [String: String], output: Pipe? = nil) throws
        -> Process
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binDirectory + "/" + name)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardOutput = output ?? FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        processes.append(process)
        return process
    }

    /// A Manager's environment: the sample configuration on `storage`, and a local Resource Graph
    /// (`arg-emulator`) started for it.
    package func managerEnvironment(
        table: String, storage: StorageConnectionString, stock: String = #"{"22":2,"24":4}"#
    )
        async throws -> [String: String]
    {
        let graph = try await launch("arg-emulator", arguments: ["--port", "0"])
        var environment = SampleConfiguration.environment(table: table, connectionString: storage, stock: stock)
        environment["RESOURCE_GRAPH_ENDPOINT"] = "http://127.0.0.1:\(graph)"
        environment["RESOURCE_GRAPH_TOKEN"] = "local"
        return environment
    }

    package enum Stream: Sendable { case standardOutput, standardError }

    /// Runs one of our executables to completion and returns its exit status and the captured stream.
    ///
    /// The reading and waiting happen on a thread of their own: blocking a thread of Swift's cooperative pool
    /// (as wide as the machine has cores, and shared by every test running at once) for a child's lifetime can
    /// starve the in-process servers the child talks to, and with them every other test.
    /// - Parameter inherit: start from this process's environment (otherwise only `environment`).
    package static func runToCompletion(
        _ name: String, arguments: [String], environment: [String: String],
        inherit: Bool = true, capture: Stream = .standardOutput
    ) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binDirectory + "/" + name)
        process.arguments = arguments
        var env = inherit ? ProcessInfo.processInfo.environment : [:]
        env.merge(environment) { _, new in new }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = capture == .standardOutput ? pipe : FileHandle.nullDevice
        process.standardError = capture == .standardError ? pipe : FileHandle.nullDevice
        try process.run()
        let text = await PipeReader.allOffPool(pipe.fileHandleForReading)
        await process.exited()
        return (process.terminationStatus, String(decoding: text, as: UTF8.self))
    }

    /// The storage endpoint for the stack: IPAM_TEST_STORAGE, or a fresh table-emulator process.
    package func startStorage() async throws -> StorageConnectionString {
        if let configured = ProcessInfo.processInfo.environment["IPAM_TEST_STORAGE"], !configured.isEmpty {
            storage = try StorageConnectionString(parsing: configured)
        } else {
            let port = try await launch("table-emulator", arguments: ["--port", "0", "--in-memory"])
            storage = StorageConnectionString(
                accountName: StorageConnectionString.developmentAccountName,
                accountKey: StorageConnectionString.developmentAccountKey,
                tableEndpoint: "http://127.0.0.1:\(port)/devstoreaccount1")
        }
        return storage!
    }

    /// A fault proxy in front of `storage`, and the connection string that goes through it; stopped by `stopAll`
    /// after the processes that use it.
    package func proxy(_ storage: StorageConnectionString, faults: FaultProxy.Faults = FaultProxy.Faults()) async throws
        -> (FaultProxy, StorageConnectionString)
    {
        let (proxy, proxied, server) = try await FaultProxy.inFront(
            of: storage, faults: faults, transport: TestStorage.transport)
        servers.append(server)
        return (proxy, proxied)
    }

    /// Starts a `vendor` process; without keys in `environment` (`VENDOR_API_KEYS` and the like) it serves
    /// with authentication disabled.
    package func startVendor(environment: [String: String], descriptorLimit: Int? = nil) async throws -> String {
        let keyed = [Setting.vendorAPIKeys, .vendorAdminKeys, .vendorReaderKeys].contains {
            environment[$0.rawValue] != nil
        }
        let port = try await launch(
            "vendor",
            arguments: ["serve", "--port", "0", "--log-level", "error"] + (keyed ? [] : ["--insecure-no-auth"]),
            environment: environment,
            descriptorLimit: descriptorLimit)
        return "http://127.0.0.1:\(port)"
    }

    /// `count` Vendors with one environment, started one after another: their URLs.
    package func startVendors(_ count: Int, environment: [String: String]) async throws -> [String] {
        var urls: [String] = []
        for _ in 0..<count { urls.append(try await startVendor(environment: environment)) }
        return urls
    }

    package func stopAll() {
        for process in processes where process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        processes.removeAll()
        // Only now, with no process left holding a connection to them, the proxies (graceful shutdown).
        for server in servers { server.cancel() }
        servers.removeAll()
    }

    deinit { stopAll() }
}
