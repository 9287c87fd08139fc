import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MCP
import NIOCore
import StrictJSON
import VendorClient

/// The MCP server of ipam: the tools and resources of `IPAMTools`, over stdio or Streamable HTTP.
public enum IPAMMCPServer {
    public static let name = "ipam"
    public static let version = "0.1.0"

    /// A server whose handlers call the Vendor with `client(httpRequest)` (the HTTP request that carried
    /// the call, nil over stdio), so each HTTP caller's key is passed through.
    public static func make(client: @escaping @Sendable (MCP.HTTPRequest?) -> VendorClient) async -> Server {
        let server = Server(name: name, version: version, title: "ipam",
                            instructions: "Lease IP networks for short-lived Azure environments. Call get_new_network with a stable sessionId; put the answer's tag on the VNet; release_network on teardown.",
                            capabilities: .init(resources: .init(subscribe: false, listChanged: false), tools: .init(listChanged: false)))
        @Sendable func current() -> VendorClient { client(Server.currentHandlerContext?.httpContext) }
        await server.withMethodHandler(ListTools.self) { _ in .init(tools: IPAMTools.tools) }
        await server.withMethodHandler(CallTool.self) { params in await IPAMTools.call(params.name, arguments: params.arguments, client: current()) }
        await server.withMethodHandler(ListResources.self) { _ in .init(resources: IPAMTools.resources, nextCursor: nil) }
        await server.withMethodHandler(ListResourceTemplates.self) { _ in .init(templates: IPAMTools.templates) }
        await server.withMethodHandler(ReadResource.self) { params in
            .init(contents: [.text(try await IPAMTools.read(params.uri, client: current()), uri: params.uri, mimeType: "application/json")])
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
/// with its own server and transport; every request must carry a Vendor API key as a bearer token
/// (checked with the Vendor, then passed through on every call) and, when it has an `Origin`, an allowed one.
public actor MCPHTTPSessions {
    struct Session {
        let server: Server
        let transport: StatefulHTTPServerTransport
        var lastUsed: Date
    }

    private var sessions: [String: Session] = [:]
    private var validKeys: [[UInt8]: Date] = [:]
    let vendor: VendorClient
    let allowedOrigins: Set<String>
    let logger: Logger
    /// A session unused this long is closed.
    let idleTimeout: TimeInterval

    public init(vendor: VendorClient, allowedOrigins: Set<String>, logger: Logger, idleTimeout: TimeInterval = 3600) {
        self.vendor = vendor
        self.allowedOrigins = allowedOrigins
        self.logger = logger
        self.idleTimeout = idleTimeout
    }

    /// Adds `POST`, `GET` and `DELETE` of `path` to `router`.
    public nonisolated func addRoutes(to router: Router<BasicRequestContext>, path: RouterPath = "/mcp") {
        for method in [HTTPTypes.HTTPRequest.Method.post, .get, .delete] {
            router.on(path, method: method) { request, _ in await self.respond(request) }
        }
    }

    func respond(_ request: Request) async -> Response {
        if let origin = request.headers[.origin], !allowedOrigins.contains(origin) {
            return Self.plain(.forbidden, #"{"jsonrpc":"2.0","error":{"code":-32600,"message":"Forbidden: origin not allowed"},"id":null}"#)
        }
        guard let key = IPAMMCPServer.bearer(request.headers[.authorization]) else {
            var response = Self.plain(.unauthorized, #"{"jsonrpc":"2.0","error":{"code":-32600,"message":"Unauthorized: send a Vendor API key as Authorization: Bearer"},"id":null}"#)
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        guard await accepts(key) else {
            var response = Self.plain(.unauthorized, #"{"jsonrpc":"2.0","error":{"code":-32600,"message":"Unauthorized: the Vendor does not accept this key"},"id":null}"#)
            response.headers[.wwwAuthenticate] = #"Bearer error="invalid_token""#
            return response
        }
        var body = Data()
        if var buffer = try? await request.body.collect(upTo: 4 << 20), let bytes = buffer.readBytes(length: buffer.readableBytes) { body = Data(bytes) }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = headers[field.name.canonicalName].map { $0 + ", " + field.value } ?? field.value }
        let mcpRequest = MCP.HTTPRequest(method: request.method.rawValue, headers: headers, body: body.isEmpty ? nil : body, path: request.uri.path)
        return Self.response(await handle(mcpRequest))
    }

    /// Whether the Vendor accepts `key` (asked once a minute per key; an unreachable Vendor is not a no:
    /// the calls themselves then report `VendorUnavailable`).
    func accepts(_ key: String) async -> Bool {
        let digest = Array(SHA256.hash(data: Data(key.utf8)))
        if let checked = validKeys[digest], Date().timeIntervalSince(checked) < 60 { return true }
        do {
            _ = try await vendor.with(key: key).call("GET", "/api/whoami")
            validKeys[digest] = Date()
            return true
        } catch {
            if case .refused(let status, _) = error, status == 401 || status == 403 { return false }
            return true
        }
    }

    func handle(_ request: MCP.HTTPRequest) async -> MCP.HTTPResponse {
        closeIdle()
        if let id = request.header(HTTPHeaderName.sessionID) {
            guard var session = sessions[id] else { return .error(statusCode: 404, .invalidRequest("Not Found: session not found or expired")) }
            session.lastUsed = Date()
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
        let id = UUID().uuidString.lowercased()
        let transport = StatefulHTTPServerTransport(
            sessionIDGenerator: FixedSessionID(id: id),
            validationPipeline: StandardValidationPipeline(validators: [AcceptHeaderValidator(mode: .sseRequired), ContentTypeValidator(),
                                                                        ProtocolVersionValidator(), SessionValidator()]),
            logger: logger)
        let vendor = self.vendor
        let server = await IPAMMCPServer.make { http in vendor.with(key: IPAMMCPServer.bearer(http?.header("Authorization"))) }
        do { try await server.start(transport: transport) } catch {
            return .error(statusCode: 500, .internalError("could not start the session: \(error)"))
        }
        sessions[id] = Session(server: server, transport: transport, lastUsed: Date())
        let response = await transport.handleRequest(request)
        if case .error = response {
            sessions[id] = nil
            await transport.disconnect()
        }
        return response
    }

    private func closeIdle() {
        let now = Date()
        for (id, session) in sessions where now.timeIntervalSince(session.lastUsed) > idleTimeout {
            sessions[id] = nil
            Task { await session.transport.disconnect() }
        }
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

    static func plain(_ status: HTTPTypes.HTTPResponse.Status, _ json: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: json)))
    }

    static func response(_ answer: MCP.HTTPResponse) -> Response {
        var headers = HTTPFields()
        for (name, value) in answer.headers { if let field = HTTPField.Name(name) { headers[field] = value } }
        let status = HTTPTypes.HTTPResponse.Status(code: answer.statusCode)
        switch answer {
        case .stream(let stream, _):
            return Response(status: status, headers: headers, body: ResponseBody { writer in
                for try await chunk in stream { try await writer.write(ByteBuffer(bytes: chunk)) }
                try await writer.finish(nil)
            })
        default:
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.bodyData ?? Data())))
        }
    }
}
