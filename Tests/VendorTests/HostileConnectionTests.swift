import Foundation
import Hummingbird
import Logging
import ServerLimits
import StrictJSON
import Synchronization
import TableEmulator
import TestSupport
import Testing

/// Clients that connect and wait, send half a request, or trickle one byte at a time, against the real executables
/// over real sockets: every server keeps answering fresh clients, closes the others within its (small, configured)
/// timeouts, refuses what it cannot serve with `503 TooManyConnections`, and stays up.
///
/// Waits are generous bounds on real timeouts of a second or two; nothing asserts how long anything took.
@Suite("Hostile connections", .serialized)
struct HostileConnectionTests {
    static let key = "flood-key-0123456789"
    /// A request line and one header, then nothing: the head never completes.
    static let halfSent = "POST /api/getNewNetwork HTTP/1.1\r\nHost: 127.0.0.1\r\n"

    /// The `IPAM_HTTP_*` settings.
    static func limits(idle: String, header: String, body: String, max: Int? = nil) -> [String: String] {
        var settings = [
            "IPAM_HTTP_IDLE_TIMEOUT_SECONDS": idle, "IPAM_HTTP_HEADER_TIMEOUT_SECONDS": header,
            "IPAM_HTTP_BODY_TIMEOUT_SECONDS": body,
        ]
        if let max { settings["IPAM_HTTP_MAX_CONNECTIONS"] = String(max) }
        return settings
    }

    /// A keyed `vendor` process on fresh storage: its port and its process.
    static func vendor(_ stack: ProcessStack, _ settings: [String: String], descriptorLimit: Int? = nil) async throws
        -> (port: Int, process: Process)
    {
        let storage = try await stack.startStorage()
        var environment = SampleConfiguration.environment(
            table: TestStorage.uniqueName("flood"), connectionString: storage)
        environment["VENDOR_API_KEYS"] = "flood=\(key)"
        environment.merge(settings) { _, new in new }
        let url = try await stack.startVendor(environment: environment, descriptorLimit: descriptorLimit)
        return (try #require(Int(url.split(separator: ":").last ?? "")), try #require(stack.processes.last))
    }

    static func lease(_ session: String) -> String {
        RawHTTP.request(
            "POST", "/api/getNewNetwork", headers: ["Authorization": "Bearer \(key)"],
            body: #"{"SessionId":"\#(session)","prefixLength":26}"#)
    }

    /// `ipam_http_connections_closed_total{reason}` on the Vendor's `/metrics`, by reason.
    static func closedConnections(port: Int) async throws -> [String: Int] {
        let answer = try await RawHTTP.exchange(
            port: port, RawHTTP.request("GET", "/metrics", headers: ["Authorization": "Bearer \(key)"]))
        let prefix = #"ipam_http_connections_closed_total{reason=""#
        var counts: [String: Int] = [:]
        for line in String(decoding: answer.body, as: UTF8.self).split(separator: "\n") where line.hasPrefix(prefix) {
            let rest = line.dropFirst(prefix.count)
            guard let quote = rest.firstIndex(of: "\""), let value = Double(rest.split(separator: " ").last ?? "")
            else { continue }
            counts[String(rest[..<quote])] = Int(value)
        }
        return counts
    }

    /// The connections this test holds at once fit in this process's descriptors.
    static func requireDescriptors(for connections: Int) throws {
        let available = DescriptorBudget.raiseSoftLimit()
        try #require(
            available > connections + 200, "this test holds \(connections) connections; ulimit -n is \(available)")
    }

    @Test(
        """
        with more idle and half-sent connections held than the Vendor may serve, and more than its descriptors could hold, \
        fresh requests are answered, every held connection is closed, and the Vendor stays up
        """)
    func flood() async throws {
        // 384 descriptors hold 64 connections (two each, and 256 kept for storage and files); 400 are held.
        try Self.requireDescriptors(for: 400)
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let (port, process) = try await Self.vendor(
            stack, Self.limits(idle: "2", header: "2", body: "2"), descriptorLimit: 384)
        var idle: [RawConnection] = []
        var halfSent: [RawConnection] = []
        for _ in 0..<200 {
            idle += try RawHTTP.open(1, port: port)
            halfSent += try RawHTTP.open(1, port: port, sending: Self.halfSent)
        }

        let health = try await RawHTTP.exchange(port: port, RawHTTP.request("GET", "/healthz"))
        #expect(health.status == 200)
        let leased = try await RawHTTP.exchange(port: port, Self.lease("flood-1"))
        #expect(leased.status == 201, "\(String(decoding: leased.body, as: UTF8.self))")
        #expect(leased.json?["cidr"]?.stringValue != nil)

        let stillOpen = await RawHTTP.waitUntilClosed(idle + halfSent, within: .seconds(60))
        #expect(stillOpen.isEmpty, "\(stillOpen.count) of 400 held connections are still open")
        #expect(idle.allSatisfy { $0.received.isEmpty }, "an idle connection is closed without a word")
        // A half-sent one made room for a newer one (503), or its head ran out of time (408); both say so and close.
        let answers = halfSent.compactMap(\.answer)
        for answer in answers {
            #expect(
                [503: "TooManyConnections", 408: "RequestTimeout"][answer.status] == answer.code,
                "\(answer.status) \(answer.code ?? "-")")
            #expect(answer.headers["connection"] == "close")
        }
        #expect(answers.contains { $0.status == 503 } && answers.contains { $0.status == 408 })
        let closed = try await Self.closedConnections(port: port)
        #expect(
            closed["evicted", default: 0] > 0 && closed["header", default: 0] > 0 && closed["idle", default: 0] > 0,
            "\(closed)")
        #expect(closed["refused"] == nil, "no request was under way, so no connection was refused: \(closed)")

        #expect(process.isRunning)
        #expect(try await RawHTTP.exchange(port: port, RawHTTP.request("GET", "/healthz")).status == 200)
    }

    @Test("a head trickled a byte at a time, and a body trickled likewise, are cut with 408 RequestTimeout")
    func slowloris() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        // Long idle timeouts: only the header and body deadlines can end these connections.
        let (port, process) = try await Self.vendor(stack, Self.limits(idle: "120", header: "1", body: "1"))
        let head = try RawConnection(port: port)
        head.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        let body = try RawConnection(port: port)
        body.send(
            "POST /api/getNewNetwork HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(Self.key)\r\n"
                + "Content-Type: application/json\r\nContent-Length: 400\r\n\r\n{")
        for _ in 0..<150 where !(head.closedByServer && body.closedByServer) {
            for connection in [head, body] where !connection.closedByServer {
                connection.send("a")
                connection.readAvailable()
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(head.closedByServer && body.closedByServer, "a trickle is cut within 30 s whatever its pace")
        for connection in [head, body] {
            _ = await RawHTTP.waitUntilClosed([connection], within: .seconds(5))
            #expect(
                connection.answer?.status == 408 && connection.answer?.code == "RequestTimeout",
                "\(String(decoding: connection.received, as: UTF8.self))")
        }
        #expect(process.isRunning)
        #expect(try await RawHTTP.exchange(port: port, RawHTTP.request("GET", "/healthz")).status == 200)
    }

    @Test(
        "when every connection the Vendor may serve has a request under way, one more gets 503 TooManyConnections and Connection: close"
    )
    func refusal() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let (port, process) = try await Self.vendor(stack, Self.limits(idle: "120", header: "120", body: "120", max: 4))
        // Authenticated requests whose bodies are still coming: the Vendor owes each an answer, so none makes room.
        let busyHead =
            "POST /api/getNewNetwork HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(Self.key)\r\n"
            + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        var busy = try RawHTTP.open(4, port: port, sending: busyHead)
        var refused: RawAnswer? = nil
        for _ in 0..<50 where refused == nil {
            let answer = try await RawHTTP.exchange(port: port, RawHTTP.request("GET", "/healthz"))
            if answer.status == 503 {
                refused = answer
                break
            }
            // The probe came before a busy head was read and took that connection's place: replace it, try again.
            for connection in busy { connection.readAvailable() }
            let lost = busy.filter(\.closedByServer).count
            busy.removeAll(where: \.closedByServer)
            busy += try RawHTTP.open(lost, port: port, sending: busyHead)
        }
        let answer = try #require(refused)
        #expect(
            answer.code == "TooManyConnections" && answer.headers["connection"] == "close"
                && answer.headers["retry-after"] == "1")
        #expect(
            answer.json?["message"]?.stringValue?.isEmpty == false
                && answer.json?["requestId"]?.stringValue?.isEmpty == false)
        for connection in busy { connection.readAvailable() }
        #expect(busy.allSatisfy { !$0.closedByServer }, "requests under way are never closed to make room")

        // Once they end, the Vendor serves again.
        for connection in busy { connection.close() }
        var health = 0
        for _ in 0..<300 where health != 200 {
            health = try await RawHTTP.exchange(port: port, RawHTTP.request("GET", "/healthz")).status
            if health != 200 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(health == 200)
        #expect(try await Self.closedConnections(port: port)["refused", default: 0] > 0)
        #expect(process.isRunning)
    }

    @Test(
        "ipam-mcp serve: idle and half-sent connections beyond its cap are closed, fresh ones answered, a trickle cut")
    func mcpServer() async throws {
        try Self.requireDescriptors(for: 60)
        let stack = ProcessStack()
        defer { stack.stopAll() }
        // /healthz needs no Vendor; none is listening at this address.
        let arguments = ["serve", "--port", "0", "--vendor-url", "http://127.0.0.1:9", "--log-level", "error"]
        let port = try await stack.launch(
            "ipam-mcp", arguments: arguments,
            environment: Self.limits(idle: "1", header: "1", body: "1", max: 8))
        let process = try #require(stack.processes.last)
        var held: [RawConnection] = []
        for _ in 0..<30 {
            held += try RawHTTP.open(1, port: port)
            held += try RawHTTP.open(1, port: port, sending: "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        }
        #expect(try await RawHTTP.exchange(port: port, RawHTTP.request("GET", "/healthz")).status == 200)
        let trickle = try RawConnection(port: port)
        trickle.send("GET /healthz HTTP/1.1\r\nX-Slow: ")
        for _ in 0..<150 where !trickle.closedByServer {
            trickle.send("a")
            trickle.readAvailable()
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(trickle.closedByServer)
        let stillOpen = await RawHTTP.waitUntilClosed(held + [trickle], within: .seconds(60))
        #expect(stillOpen.isEmpty, "\(stillOpen.count) of \(held.count + 1) connections are still open")
        #expect(trickle.answer?.code == "RequestTimeout")
        #expect(process.isRunning)
        #expect(try await RawHTTP.exchange(port: port, RawHTTP.request("GET", "/healthz")).status == 200)
    }

    @Test(
        "a client that stops reading a streamed answer is closed after the idle timeout, while the server still writes it"
    )
    func unreadAnswer() async throws {
        let router = Router()
        // 32 MiB in 64 KiB parts: the writer waits for the socket after the first few, so the answer never ends.
        router.get("/big") { _, _ in
            Response(
                status: .ok,
                body: ResponseBody(contentLength: 32 << 20) { writer in
                    for _ in 0..<512 { try await writer.write(ByteBuffer(repeating: 0x61, count: 64 << 10)) }
                    try await writer.finish(nil)
                })
        }
        let reasons = Mutex<[ConnectionClosing]>([])
        let limits = HTTPServerLimits(
            idleTimeout: .milliseconds(500), headerTimeout: .seconds(5), bodyTimeout: .seconds(5), maxConnections: 8)
        let logger = Logger(label: "unread", factory: { _ in SwiftLogNoOpLogHandler() })
        let recorded: @Sendable (ConnectionClosing) -> Void = { reason in reasons.withLock { $0.append(reason) } }
        let (server, port) = try await TestServerHandle.start(logger: logger) { running in
            Application(
                router: router, server: .http1(limits: limits, logger: logger, onClose: recorded),
                configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: running, logger: logger
            )
        }
        try await server.serving {
            let reader = try RawConnection(port: port, receiveBuffer: 4096)
            reader.send(RawHTTP.request("GET", "/big"))
            for _ in 0..<300 where reasons.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(100)) }
            #expect(reasons.withLock { $0 } == [.unread])
            let stillOpen = await RawHTTP.waitUntilClosed([reader], within: .seconds(30))
            #expect(stillOpen.isEmpty)
            #expect(reader.received.count < 32 << 20, "the answer was cut short")
        }
    }

    /// Every other server of the project, as its executable starts it.
    static let listeningExecutables: [(name: String, arguments: [String])] = [
        ("table-emulator", ["--port", "0", "--in-memory"]),
        ("arg-emulator", ["--port", "0"]),
        ("arm-emulator", ["--port", "0"]),
        ("ipam-dev", ["webhook-receiver", "--port", "0", "--secret", "a-long-enough-secret"]),
        ("manager", ["serve-functions", "--port", "0", "--log-level", "error"]),
    ]

    @Test(
        "every other server closes an idle connection and cuts a half-sent head with 408",
        arguments: listeningExecutables.map(\.name))
    func otherServers(_ name: String) async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        var environment = Self.limits(idle: "1", header: "1", body: "1")
        if name == "manager" {
            let storage = try await stack.startStorage()
            environment.merge(
                try await stack.managerEnvironment(table: TestStorage.uniqueName("mgrflood"), storage: storage)
            ) { mine, _ in mine }
        }
        let arguments = try #require(Self.listeningExecutables.first { $0.name == name }).arguments
        let port = try await stack.launch(name, arguments: arguments, environment: environment)
        let idle = try RawConnection(port: port)
        let halfSent = try RawConnection(port: port)
        halfSent.send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        let stillOpen = await RawHTTP.waitUntilClosed([idle, halfSent], within: .seconds(30))
        #expect(stillOpen.isEmpty)
        #expect(idle.received.isEmpty)
        #expect(
            halfSent.answer?.status == 408 && halfSent.answer?.code == "RequestTimeout",
            "\(String(decoding: halfSent.received, as: UTF8.self))")
        #expect(stack.processes.last?.isRunning == true)
    }

    @Test(
        "the settings are checked at start-up: a bad value, or a cap the descriptors cannot hold, is exit 2 naming the setting"
    )
    func settingsChecked() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let storage = try await stack.startStorage()
        var environment = SampleConfiguration.environment(
            table: TestStorage.uniqueName("floodcfg"), connectionString: storage)
        environment["VENDOR_API_KEYS"] = Self.key
        for (setting, value, expected) in [
            ("IPAM_HTTP_IDLE_TIMEOUT_SECONDS", "0", "IPAM_HTTP_IDLE_TIMEOUT_SECONDS=0"),
            ("IPAM_HTTP_HEADER_TIMEOUT_SECONDS", "ten", "IPAM_HTTP_HEADER_TIMEOUT_SECONDS=ten"),
            ("IPAM_HTTP_BODY_TIMEOUT_SECONDS", "-1", "IPAM_HTTP_BODY_TIMEOUT_SECONDS=-1"),
            ("IPAM_HTTP_MAX_CONNECTIONS", "0", "IPAM_HTTP_MAX_CONNECTIONS=0"),
        ] {
            var bad = environment
            bad[setting] = value
            let (status, output) = try await ProcessStack.runToCompletion(
                "vendor", arguments: ["serve", "--port", "0"], environment: bad, capture: .standardError)
            #expect(status == 2 && output.contains(expected), "\(setting)=\(value): \(status) \(output)")
        }
        // Under 384 descriptors, at most 64 connections: asking for 100 is refused.
        var tooMany = environment
        tooMany["IPAM_HTTP_MAX_CONNECTIONS"] = "100"
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = [
            "-c", "ulimit -Sn 384 && ulimit -Hn 384 && exec \"$0\" serve --port 0",
            ProcessStack.binDirectory + "/vendor",
        ]
        shell.environment = ProcessInfo.processInfo.environment.merging(tooMany) { _, new in new }
        let errors = Pipe()
        shell.standardError = errors
        shell.standardOutput = FileHandle.nullDevice
        try shell.run()
        let output = String(decoding: await PipeReader.allOffPool(errors.fileHandleForReading), as: UTF8.self)
        await shell.exited()
        #expect(
            shell.terminationStatus == 2 && output.contains("IPAM_HTTP_MAX_CONNECTIONS=100: at most 64"), "\(output)")
    }
}
