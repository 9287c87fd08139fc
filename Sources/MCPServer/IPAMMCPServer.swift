import Crypto
import Foundation
import HTTPTypes
package import Hummingbird
package import IPAMCore
package import Logging
package import MCP
import NIOCore
import StrictJSON
package import VendorClient

/// The MCP server of ipam: the tools and resources of `IPAMTools`, over stdio or Streamable HTTP.
package enum IPAMMCPServer {
    package static let name = "ipam"
    package static let version = "0.1.0"

    /// A server whose handlers call the Vendor with `client(httpRequest)` (the HTTP request that carried
    /// the call, nil over stdio), so each HTTP caller's key is passed through.
    package static func make(client: @escaping @Sendable (MCP.HTTPRequest?) -> VendorClient) async -> Server {
        let server = Server(
            name: name, version: version, title: "ipam",
            instructions:
                "Lease IP networks for short-lived Azure environments. Call get_new_network with a stable sessionId; put the answer's tag on the VNet; release_network on teardown.",
            capabilities: .init(
                resources: .init(subscribe: false, listChanged: false), tools: .init(listChanged: false)))
        @Sendable func current() -> VendorClient { client(Server.currentHandlerContext?.httpContext) }
        await server.withMethodHandler(ListTools.self) { _ in .init(tools: IPAMTools.tools) }
        await server.withMethodHandler(CallTool.self) { params in
            await IPAMTools.call(params.name, arguments: params.arguments, client: current())
        }
        await server.withMethodHandler(ListResources.self) { _ in .init(resources: IPAMTools.resources, nextCursor: nil)
        }
        await server.withMethodHandler(ListResourceTemplates.self) { _ in .init(templates: IPAMTools.templates) }
        await server.withMethodHandler(ReadResource.self) { params in
            .init(contents: [
                .text(
                    try await IPAMTools.read(params.uri, client: current()), uri: params.uri,
                    mimeType: "application/json")
            ])
        }
        return server
    }

    /// The bearer key of an HTTP request, nil when it has none.
    static func bearer(_ authorization: String?) -> String? {
        guard let authorization, authorization.lowercased().hasPrefix("bearer ") else { return nil }
        let key = authorization.dropFirst(7).trimmingCharacters(in: .whitespaces)
        return key.isEmpty ? nil : key
    }
}

/// Streamable HTTP at one endpoint (`/mcp`): one MCP session (`Mcp-Session-Id`) per `initialize`, each
/// with its own server and transport; every request must carry a Vendor API key (or token) as a bearer
/// credential (checked with the Vendor, then passed through on every call) and, when it has an `Origin`, an
/// allowed one.
///
/// It fails closed: a credential the Vendor could not be asked about (unreachable, or answering an error) is
/// refused (503), never let in. A session belongs to the credential that opened it (its SHA-256 digest is kept,
/// never the credential): another one using or deleting it is refused (403). Sessions are capped per credential
/// (429) and in total (503), and a session idle for `Limits.idleTimeout` (on the injected clock) is closed.
package actor MCPHTTPSessions {
    /// How many sessions may be open and for how long; `ipam-mcp serve`'s flags.
    package struct Limits: Sendable {
        /// Sessions open at once, whoever opened them.
        package var maxSessions: Int
        /// Sessions open at once per credential (key or token).
        package var maxSessionsPerCaller: Int
        /// A session unused this long is closed (its next request gets 404, and its client starts another).
        package var idleTimeout: Duration
        /// How long a credential the Vendor accepted is trusted before it is asked again.
        package var verifiedFor: Duration

        package init(
            maxSessions: Int = 1000, maxSessionsPerCaller: Int = 32, idleTimeout: Duration = .seconds(600),
            verifiedFor: Duration = .seconds(60)
        ) {
            self.maxSessions = maxSessions
            self.maxSessionsPerCaller = maxSessionsPerCaller
            self.idleTimeout = idleTimeout
            self.verifiedFor = verifiedFor
        }
    }

    struct Session {
        let server: Server
        let transport: StatefulHTTPServerTransport
        /// The SHA-256 of the credential that opened it.
        let owner: [UInt8]
        /// When it was last used (`TimeSource.uptime`).
        var lastUsed: Duration
    }

    /// What the Vendor says of a credential.
    enum Verification { case accepted, refused, unverifiable }

    private var sessions: [String: Session] = [:]
    /// `initialize` requests between their cap check and their session's insertion, per credential: counted
    /// against the caps, so concurrent ones cannot overshoot them.
    private var opening: [[UInt8]: Int] = [:]
    /// Credentials (their digests) the Vendor accepted, and when it said so.
    private var verified: [[UInt8]: Duration] = [:]
    let vendor: VendorClient
    let allowedOrigins: Set<String>
    let logger: Logger
    let limits: Limits
    let time: TimeSource

    package init(
        vendor: VendorClient, allowedOrigins: Set<String>, logger: Logger, limits: Limits = Limits(),
        time: TimeSource = .system
    ) {
        self.vendor = vendor
        self.allowedOrigins = allowedOrigins
        self.logger = logger
        self.limits = limits
        self.time = time
    }

    /// Adds `POST`, `GET` and `DELETE` of `path` to `router`.
    package nonisolated func addRoutes(to router: Router<BasicRequestContext>, path: RouterPath = "/mcp") {
        for method in [HTTPTypes.HTTPRequest.Method.post, .get, .delete] {
            router.on(path, method: method) { request, _ in await self.respond(request) }
        }
    }

    /// How many sessions are open (for tests and logs).
    package var openSessions: Int { sessions.count }

    func respond(_ request: Request) async -> Response {
        closeIdle()
        if let origin = request.headers[.origin], !allowedOrigins.contains(origin) {
            return Self.plain(.forbidden, "Forbidden: origin not allowed")
        }
        guard let key = IPAMMCPServer.bearer(request.headers[.authorization]) else {
            var response = Self.plain(.unauthorized, "Unauthorized: send a Vendor API key as Authorization: Bearer")
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        let digest = Array(SHA256.hash(data: Data(key.utf8)))
        switch await verify(key, digest: digest) {
        case .accepted: break
        case .refused:
            var response = Self.plain(.unauthorized, "Unauthorized: the Vendor does not accept this key")
            response.headers[.wwwAuthenticate] = #"Bearer error="invalid_token""#
            return response
        case .unverifiable:
            let message = "Service Unavailable: the key could not be checked with the Vendor right now; try again later"
            var response = Self.plain(.serviceUnavailable, message)
            response.headers[.retryAfter] = "5"
            return response
        }
        var body = Data()
        if var buffer = try? await request.body.collect(upTo: 4 << 20),
            let bytes = buffer.readBytes(length: buffer.readableBytes)
        {
            body = Data(bytes)
        }
        var headers: [String: String] = [:]
        for field in request.headers {
            headers[field.name.canonicalName] =
                headers[field.name.canonicalName].map { $0 + ", " + field.value } ?? field.value
        }
        let mcpRequest = MCP.HTTPRequest(
            method: request.method.rawValue, headers: headers, body: body.isEmpty ? nil : body, path: request.uri.path)
        return Self.response(await handle(mcpRequest, owner: digest))
    }

    /// What the Vendor says of `key` (asked at most once per `verifiedFor` for a key it accepted). Only a 401 or
    /// 403 is a no; any other failure (unreachable, timed out, a 5xx) leaves the caller unverified, and refused.
    func verify(_ key: String, digest: [UInt8]) async -> Verification {
        let now = time.uptime()
        if let checked = verified[digest], now - checked < limits.verifiedFor { return .accepted }
        do {
            _ = try await vendor.with(key: key).call("GET", "/api/whoami")
        } catch {
            verified[digest] = nil
            if case .refused(let status, _) = error, status == 401 || status == 403 { return .refused }
            logger.warning(
                "could not check a caller's key with the Vendor: refused",
                metadata: ["error": .string(error.description)])
            return .unverifiable
        }
        if verified.count >= 4 * limits.maxSessions {
            verified = verified.filter { now - $0.value < limits.verifiedFor }
        }
        verified[digest] = time.uptime()
        return .accepted
    }

    func handle(_ request: MCP.HTTPRequest, owner: [UInt8]) async -> MCP.HTTPResponse {
        if let id = request.header(HTTPHeaderName.sessionID) {
            guard var session = sessions[id] else {
                return .error(statusCode: 404, .invalidRequest("Not Found: session not found or expired"))
            }
            guard Self.same(session.owner, owner) else {
                return .error(
                    statusCode: 403,
                    .invalidRequest(
                        "Forbidden: this session was opened with another key; open your own with initialize"))
            }
            session.lastUsed = time.uptime()
            sessions[id] = session
            let response = await session.transport.handleRequest(request)
            if request.method.uppercased() == "DELETE" && response.statusCode == 200 {
                sessions[id] = nil
                await session.transport.disconnect()
            }
            return response
        }
        guard request.method.uppercased() == "POST", let body = request.body, Self.isInitialize(body) else {
            return .error(statusCode: 400, .invalidRequest("Bad Request: missing \(HTTPHeaderName.sessionID) header"))
        }
        let mine = sessions.values.filter { Self.same($0.owner, owner) }.count + opening[owner, default: 0]
        guard mine < limits.maxSessionsPerCaller else {
            return .error(
                statusCode: 429,
                .invalidRequest(
                    "Too Many Requests: this key has \(mine) sessions open, the most one caller may have "
                        + "(\(limits.maxSessionsPerCaller)); end one (DELETE /mcp) or let one sit idle until it is closed"
                ))
        }
        guard sessions.count + opening.values.reduce(0, +) < limits.maxSessions else {
            let message =
                "Service Unavailable: the server has its most sessions open (\(limits.maxSessions)); try again later"
            return .error(statusCode: 503, .invalidRequest(message), extraHeaders: ["Retry-After": "30"])
        }
        opening[owner, default: 0] += 1
        defer { if let count = opening[owner], count > 1 { opening[owner] = count - 1 } else { opening[owner] = nil } }
        let id = UUID().uuidString.lowercased()
        let transport = StatefulHTTPServerTransport(
            sessionIDGenerator: FixedSessionID(id: id),
            validationPipeline: StandardValidationPipeline(validators: [
                AcceptHeaderValidator(mode: .sseRequired), ContentTypeValidator(),
                ProtocolVersionValidator(), SessionValidator(),
            ]),
            logger: logger)
        let vendor = self.vendor
        let server = await IPAMMCPServer.make { http in
            vendor.with(key: IPAMMCPServer.bearer(http?.header("Authorization")))
        }
        do { try await server.start(transport: transport) } catch {
            logger.error("could not start an MCP session", metadata: ["error": .string("\(error)")])
            return .error(statusCode: 500, .internalError("could not start the session"))
        }
        sessions[id] = Session(server: server, transport: transport, owner: owner, lastUsed: time.uptime())
        let response = await transport.handleRequest(request)
        if case .error = response {
            sessions[id] = nil
            await transport.disconnect()
        }
        return response
    }

    /// Closes every session unused for `limits.idleTimeout`.
    private func closeIdle() {
        let now = time.uptime()
        for (id, session) in sessions where now - session.lastUsed > limits.idleTimeout {
            sessions[id] = nil
            Task { await session.transport.disconnect() }
        }
    }

    /// Two digests compared in constant time.
    static func same(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.count == b.count && zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    struct FixedSessionID: SessionIDGenerator {
        let id: String
        func generateSessionID() -> String { id }
    }

    /// Whether a JSON-RPC body is an `initialize` request (alone or first in a batch).
    static func isInitialize(_ body: Data) -> Bool {
        guard let json = try? JSONValue.parse(Array(body)) else { return false }
        let first = json.arrayValue?.first ?? json
        return first["method"]?.stringValue == "initialize"
    }

    /// A JSON-RPC error answer (`id` null) outside any session.
    static func plain(_ status: HTTPTypes.HTTPResponse.Status, _ message: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        let error = JSONValue.object([("code", .number("-32600")), ("message", .string(message))])
        let body = JSONValue.object([("jsonrpc", .string("2.0")), ("error", error), ("id", .null)])
        return Response(
            status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body.serializedBytes)))
    }

    static func response(_ answer: MCP.HTTPResponse) -> Response {
        var headers = HTTPFields()
        for (name, value) in answer.headers { if let field = HTTPField.Name(name) { headers[field] = value } }
        let status = HTTPTypes.HTTPResponse.Status(code: answer.statusCode)
        switch answer {
        case .stream(let stream, _):
            return Response(
                status: status, headers: headers,
                body: ResponseBody { writer in
                    for try await chunk in stream { try await writer.write(ByteBuffer(bytes: chunk)) }
                    try await writer.finish(nil)
                })
        default:
            return Response(
                status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.bodyData ?? Data())))
        }
    }
}
