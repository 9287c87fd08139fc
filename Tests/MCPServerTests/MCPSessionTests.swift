import Foundation
import HTTPTransport
import Hummingbird
import IPAMCore
import Logging
import MCPServer
import TableEmulator
import TestSupport
import Testing
import VendorClient
import VendorDomain
import VendorHTTP

/// `ipam-mcp serve`'s sessions over real sockets, against a real Vendor: it fails closed when a key cannot be
/// checked, a session belongs to the key that opened it, sessions are capped per key and in total, and idle
/// ones end on the injected clock.
@Suite("MCP over HTTP: sessions")
struct MCPSessionTests {
    static let keys = APIKeys(reader: nil, lease: "alice=mcp-key-alice,bob=mcp-key-bob,carol=mcp-key-carol", admin: nil)
    static let initialize =
        #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#

    /// An MCP server in this process (real HTTP on an ephemeral port) for the Vendor at `vendorURL`.
    static func withMCP<T: Sendable>(
        vendor vendorURL: String, limits: MCPHTTPSessions.Limits = .init(), time: TimeSource = .system,
        _ body: @Sendable (_ url: String, _ sessions: MCPHTTPSessions) async throws -> T
    ) async throws -> T {
        let logger = Logger(label: "mcp-test", factory: { _ in SwiftLogNoOpLogHandler() })
        let sessions = MCPHTTPSessions(
            vendor: VendorClient(baseURL: vendorURL, key: nil), allowedOrigins: [], logger: logger, limits: limits,
            time: time)
        let router = Router()
        sessions.addRoutes(to: router)
        let (server, port) = try await TestServerHandle.start(logger: logger) { running in
            Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: running, logger: logger)
        }
        return try await server.serving { try await body("http://127.0.0.1:\(port)/mcp", sessions) }
    }

    static func send(_ method: String, _ url: String, key: String, session: String? = nil, body: String? = nil)
        async throws -> HTTPAnswer
    {
        var headers: HTTPHeaderList = [
            "Authorization": "Bearer \(key)", "Accept": "application/json, text/event-stream",
        ]
        if let session {
            headers["Mcp-Session-Id"] = session
            headers["Mcp-Protocol-Version"] = "2025-06-18"
        }
        return try await HTTPCalls.send(method, url, body: body, headers: headers)
    }

    /// Opens a session with `key`: its id, or nil with the refusal.
    static func open(_ url: String, key: String) async throws -> (id: String?, answer: HTTPAnswer) {
        let answer = try await send("POST", url, key: key, body: initialize)
        guard answer.status == 200, let id = answer.headers["Mcp-Session-Id"] else { return (nil, answer) }
        _ = try await send(
            "POST", url, key: key, session: id, body: #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        return (id, answer)
    }

    static func listTools(_ url: String, key: String, session: String) async throws -> HTTPAnswer {
        try await send(
            "POST", url, key: key, session: session, body: #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#)
    }

    @Test("a session belongs to the key that opened it: another valid key can neither use nor end it")
    func boundToItsKey() async throws {
        try await VendorHarness.withVendor(roleKeys: Self.keys) { vendor, _, _ in
            try await Self.withMCP(vendor: vendor) { url, _ in
                let id = try #require(try await Self.open(url, key: "mcp-key-alice").id)
                let used = try await Self.listTools(url, key: "mcp-key-bob", session: id)
                #expect(
                    used.status == 403 && used.text.contains("another key") && !used.text.contains("get_new_network"),
                    "\(used.status) \(used.text)")
                let call =
                    #"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_new_network","arguments":{"sessionId":"mcp-steal","prefixLength":24}}}"#
                #expect(try await Self.send("POST", url, key: "mcp-key-bob", session: id, body: call).status == 403)
                #expect(
                    try await Self.send("DELETE", url, key: "mcp-key-bob", session: id).status == 403,
                    "bob cannot end alice's session")
                let mine = try await Self.listTools(url, key: "mcp-key-alice", session: id)
                #expect(
                    mine.status == 200 && mine.text.contains("get_new_network"),
                    "alice's session is still hers: \(mine.status)")
                #expect(try await Self.send("DELETE", url, key: "mcp-key-alice", session: id).status == 200)
                #expect(try await Self.listTools(url, key: "mcp-key-alice", session: id).status == 404)
            }
        }
    }

    @Test("sessions are capped per key (429) and in total (503); ending one makes room")
    func caps() async throws {
        try await VendorHarness.withVendor(roleKeys: Self.keys) { vendor, _, _ in
            try await Self.withMCP(vendor: vendor, limits: .init(maxSessions: 3, maxSessionsPerCaller: 2)) {
                url, sessions in
                let first = try #require(try await Self.open(url, key: "mcp-key-alice").id)
                #expect(try await Self.open(url, key: "mcp-key-alice").id != nil)
                let third = try await Self.open(url, key: "mcp-key-alice")
                #expect(
                    third.id == nil && third.answer.status == 429 && third.answer.text.contains("(2)"),
                    "\(third.answer.status) \(third.answer.text)")
                #expect(try await Self.open(url, key: "mcp-key-bob").id != nil, "another key has room of its own")
                let full = try await Self.open(url, key: "mcp-key-carol")
                #expect(
                    full.id == nil && full.answer.status == 503 && full.answer.headers["Retry-After"] != nil,
                    "\(full.answer.status) \(full.answer.text)")
                #expect(await sessions.openSessions == 3)
                #expect(try await Self.send("DELETE", url, key: "mcp-key-alice", session: first).status == 200)
                #expect(try await Self.open(url, key: "mcp-key-carol").id != nil, "room again")
                #expect(await sessions.openSessions == 3)
            }
        }
    }

    @Test(
        "a session unused for the idle timeout is closed (on the injected clock), and no longer counts against the caps"
    )
    func idleSessionsEnd() async throws {
        let time = ManualTime()
        try await VendorHarness.withVendor(roleKeys: Self.keys) { vendor, _, _ in
            try await Self.withMCP(
                vendor: vendor, limits: .init(maxSessionsPerCaller: 1, idleTimeout: .seconds(600)), time: time.source
            ) { url, sessions in
                let id = try #require(try await Self.open(url, key: "mcp-key-alice").id)
                time.advance(by: .seconds(599))
                #expect(try await Self.listTools(url, key: "mcp-key-alice", session: id).status == 200)
                time.advance(by: .seconds(599))
                #expect(
                    try await Self.listTools(url, key: "mcp-key-alice", session: id).status == 200, "used 599 s ago")
                #expect(try await Self.open(url, key: "mcp-key-alice").answer.status == 429, "one session per key here")
                time.advance(by: .seconds(601))
                #expect(
                    try await Self.listTools(url, key: "mcp-key-alice", session: id).status == 404,
                    "closed after 601 s unused")
                #expect(await sessions.openSessions == 0)
                #expect(try await Self.open(url, key: "mcp-key-alice").id != nil, "its place is free again")
            }
        }
    }

    @Test(
        "fails closed: with the Vendor unreachable a made-up key gets no session (503, nothing internal said); a key the Vendor refuses gets 401"
    )
    func failsClosed() async throws {
        try await Self.withMCP(vendor: "http://127.0.0.1:9") { url, sessions in
            let answer = try await Self.send("POST", url, key: "made-up-key", body: Self.initialize)
            #expect(answer.status == 503 && answer.headers["Mcp-Session-Id"] == nil, "\(answer.status) \(answer.text)")
            #expect(
                answer.text.contains("could not be checked") && !answer.text.contains("127.0.0.1")
                    && !answer.text.contains(":9"), "\(answer.text)")
            #expect(await sessions.openSessions == 0)
        }
        try await VendorHarness.withVendor(roleKeys: Self.keys) { vendor, _, _ in
            try await Self.withMCP(vendor: vendor) { url, _ in
                let refused = try await Self.send("POST", url, key: "made-up-key", body: Self.initialize)
                #expect(refused.status == 401)
            }
        }
    }

    @Test("ipam-mcp serve fails closed too, and takes its session limits as flags")
    func processFailsClosed() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let port = try await stack.launch(
            "ipam-mcp",
            arguments: [
                "serve", "--port", "0", "--vendor-url", "http://127.0.0.1:9", "--max-sessions", "5",
                "--max-sessions-per-caller", "2", "--session-idle-seconds", "120", "--log-level", "error",
            ])
        let answer = try await Self.send(
            "POST", "http://127.0.0.1:\(port)/mcp", key: "made-up-key", body: Self.initialize)
        #expect(answer.status == 503 && answer.headers["Mcp-Session-Id"] == nil, "\(answer.status) \(answer.text)")
        let refused = try await ProcessStack.runToCompletion(
            "ipam-mcp", arguments: ["serve", "--max-sessions", "0"], environment: [:], capture: .standardError)
        #expect(refused.status != 0 && refused.output.contains("--max-sessions"), "\(refused.output)")
    }
}
