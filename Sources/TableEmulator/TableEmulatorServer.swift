import AzureCore
import Foundation
import HTTPTransport
import HTTPTypes
package import Hummingbird
package import Logging
import NIOCore
package import ServerLimits
import ServiceLifecycle
package import UnixSignals

/// The Azurite-compatible Table endpoint as an HTTP server (Hummingbird).
package struct TableEmulatorServer: Sendable {
    /// Server settings; the defaults are Azurite's.
    package struct Configuration: Sendable {
        package var host: String
        /// 0 picks a free port (reported through `onReady`).
        package var port: Int
        /// Folder for durable data; `nil` keeps everything in memory.
        package var location: String?
        /// `fsync` every acknowledged write (survives power loss, not just process death).
        package var syncEveryWrite: Bool
        /// account name → base64 key.
        package var accounts: [String: String]
        /// Largest request body accepted (a transaction is at most 4 MiB).
        package var maxBodyBytes: Int
        /// Also accept any well-formed bearer token (a JWT's shape), as Azurite's OAuth mode does: for
        /// testing identity-based connections against a local token endpoint.
        package var acceptBearerTokens: Bool
        /// Timeouts and the connection cap (`IPAM_HTTP_*`, as every server of the project).
        package var limits: HTTPServerLimits
        /// Azure's scalability targets to enforce (503 `ServerBusy` beyond them); nil enforces none.
        package var targets: ScalabilityTargets.Rates?

        package init(
            host: String = "127.0.0.1", port: Int = 10002, location: String? = nil, syncEveryWrite: Bool = false,
            accounts: [String: String] = [
                StorageConnectionString.developmentAccountName: StorageConnectionString.developmentAccountKey
            ],
            maxBodyBytes: Int = 8 * 1024 * 1024, acceptBearerTokens: Bool = false, limits: HTTPServerLimits = .defaults,
            targets: ScalabilityTargets.Rates? = nil
        ) {
            self.targets = targets
            self.acceptBearerTokens = acceptBearerTokens
            self.limits = limits
            self.host = host
            self.port = port
            self.location = location
            self.syncEveryWrite = syncEveryWrite
            self.accounts = accounts
            self.maxBodyBytes = maxBodyBytes
        }
    }

    package let configuration: Configuration
    package let handler: TableServiceHandler
    package let logger: Logger

    package init(configuration: Configuration, logger: Logger = Logger(label: "table-emulator")) throws {
        self.configuration = configuration
        self.logger = logger
        let store = try TableStore(location: configuration.location, syncEveryWrite: configuration.syncEveryWrite)
        self.handler = try TableServiceHandler(
            store: store, accounts: configuration.accounts, acceptBearerTokens: configuration.acceptBearerTokens,
            targets: configuration.targets.map { ScalabilityTargets(rates: $0) })
    }

    /// Serves until the task is cancelled or, with `gracefulShutdownSignals`, until SIGTERM/SIGINT.
    /// - Parameter onReady: called with the bound port once the server listens.
    package func run(
        gracefulShutdownSignals: [UnixSignal] = [], onReady: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let handler = self.handler
        let limit = configuration.maxBodyBytes
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            let raw: EmulatorRequest
            do { raw = try await Self.emulatorRequest(request, maxBodyBytes: limit) } catch {
                let error = TableServiceError(
                    status: 413, code: "RequestBodyTooLarge", message: "The request body is too large.")
                return Self.response(TableServiceHandler.errorResponse(error, requestID: RandomID.uuid()))
            }
            return Self.response(await handler.handle(raw))
        }
        let app = Application(
            responder: responder,
            server: .http1(limits: configuration.limits, logger: logger),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in await onReady(channel.localAddress?.port ?? 0) },
            logger: logger)
        try await app.runService(gracefulShutdownSignals: gracefulShutdownSignals)
    }

    /// Serves `handle` (an emulator: a request in, an answer out) under `limits` until cancelled, or until
    /// SIGTERM/SIGINT with `gracefulShutdown`; `onReady` gets the bound port.
    package static func serve(
        host: String, port: Int, logger: Logger, gracefulShutdown: Bool = false, maxBodyBytes: Int = 4 * 1024 * 1024,
        limits: HTTPServerLimits = .defaults,
        handle: @escaping @Sendable (EmulatorRequest) async -> EmulatorResponse,
        onReady: @escaping @Sendable (Int) async -> Void
    ) async throws {
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            response(await handle(try await emulatorRequest(request, maxBodyBytes: maxBodyBytes)))
        }
        let app = Application(
            responder: responder, server: .http1(limits: limits, logger: logger),
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in await onReady(channel.localAddress?.port ?? port) }, logger: logger)
        try await app.runService(gracefulShutdownSignals: gracefulShutdown ? [.sigterm, .sigint] : [])
    }

    /// A Hummingbird request as a raw `EmulatorRequest` (path as sent, body collected up to the limit).
    package static func emulatorRequest(_ request: Request, maxBodyBytes: Int) async throws -> EmulatorRequest {
        var buffer = try await request.body.collect(upTo: maxBodyBytes)
        let body = buffer.readBytes(length: buffer.readableBytes) ?? []
        let target = request.head.path ?? "/"
        let (path, query) =
            target.firstIndex(of: "?").map { (String(target[..<$0]), String(target[target.index(after: $0)...])) } ?? (
                target, nil
            )
        var headers = HTTPHeaderList()
        for field in request.headers { headers.add(name: field.name.rawName, value: field.value) }
        if headers["Host"] == nil, let authority = request.head.authority { headers["Host"] = authority }
        return EmulatorRequest(
            method: request.method.rawValue, rawPath: path, query: query, headers: headers, body: body)
    }

    /// A raw `EmulatorResponse` as a Hummingbird response.
    package static func response(_ answer: EmulatorResponse) -> Response {
        var fields = HTTPFields()
        for field in answer.headers {
            if let name = HTTPField.Name(field.name) { fields.append(HTTPField(name: name, value: field.value)) }
        }
        var buffer = ByteBuffer()
        buffer.writeBytes(answer.body)
        return Response(status: .init(code: answer.status), headers: fields, body: .init(byteBuffer: buffer))
    }
}
