package import AzureCore
import Foundation
package import HTTPTransport
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
package import TableEmulator

/// An HTTP proxy between a Vendor and the Table endpoint that injects faults: throttling and 503s
/// (not forwarded), 412 storms on transactions (not forwarded), 500s and timeouts *after* forwarding
/// (so the write may have happened: an unknown outcome), and delays. The tests and `ipam-dev soak` use it.
///
/// Its upstream can change while it serves (`upstream`): a storage process restarted on another port stays
/// behind the same proxy address. While the upstream does not answer, the proxy answers 502.
package final class FaultProxy: Sendable {
    package struct Faults: Sendable, Equatable {
        /// Share of requests answered 429 or 503 `ServerBusy` (either, at random) without forwarding.
        package var throttle = 0.0
        /// Share of requests answered 503 `ServerBusy` (Azure past its scalability targets) without forwarding.
        package var serverBusy = 0.0
        package var preconditionStorm = 0.0
        package var errorAfterForward = 0.0
        package var timeoutAfterForward = 0.0
        package var maxDelayMs = 0
        /// How long a "timeout" answer is held back (longer than the client's request timeout).
        package var hold: Duration = .milliseconds(1500)
        package init() {}

        /// Throttling (4 %), 412 storms (8 %) and 500s after the write went through (5 %), a few ms of delay:
        /// the mix the concurrency tests of host addresses and quotas run under.
        package static var mixed: Faults {
            var faults = Faults()
            faults.throttle = 0.04
            faults.preconditionStorm = 0.08
            faults.errorAfterForward = 0.05
            faults.maxDelayMs = 3
            return faults
        }
    }

    private struct State {
        var upstream: String
        var faults = Faults()
        var counts: [String: Int] = [:]
    }

    private let state: Mutex<State>
    private let transport: any HTTPTransport

    /// - Parameters:
    ///   - upstream: the Table endpoint's scheme, host and port (`http://127.0.0.1:10002`), without its path.
    ///   - transport: how requests are forwarded (a fresh `CurlTransport` unless given).
    package init(upstream: String, transport: (any HTTPTransport)? = nil) {
        state = Mutex(State(upstream: upstream))
        self.transport = transport ?? CurlTransport()
    }

    package var upstream: String {
        get { state.withLock { $0.upstream } }
        set { state.withLock { $0.upstream = newValue } }
    }
    package var faults: Faults {
        get { state.withLock { $0.faults } }
        set { state.withLock { $0.faults = newValue } }
    }
    /// How many requests met each fault (`throttled`, `serverBusy`, `preconditionStorm`, `errorAfterForward`,
    /// `timeoutAfterForward`), were `forwarded`, or found the upstream down (`upstreamDown`).
    package var counts: [String: Int] { state.withLock { $0.counts } }
    private func count(_ name: String) { state.withLock { $0.counts[name, default: 0] += 1 } }

    /// A proxy's server, stopped by graceful shutdown.
    package typealias Server = ServerHandle

    package struct StartFailure: Error, CustomStringConvertible {
        package var description: String { "the fault proxy did not start" }
    }

    /// Serves on an ephemeral port of 127.0.0.1 until the returned server is stopped; returns the port.
    package func start() async throws -> (port: Int, task: Server) {
        let responder = CallbackResponder<BasicRequestContext> { [self] request, _ in
            let raw = try await TableEmulatorServer.emulatorRequest(request, maxBodyBytes: 16 * 1024 * 1024)
            return try await self.answer(raw)
        }
        let logger = Logger(label: "fault-proxy", factory: { _ in SwiftLogNoOpLogHandler() })
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let server = Server(
            Application(
                responder: responder, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger),
            logger: logger)
        for await port in ports { return (port, server) }
        throw StartFailure()
    }

    /// One request: a fault, or the upstream's answer (perhaps followed by a fault).
    private func answer(_ raw: EmulatorRequest) async throws -> Response {
        let (faults, upstream) = state.withLock { ($0.faults, $0.upstream) }
        var random = SystemRandomNumberGenerator()
        let roll = Double.random(in: 0..<1, using: &random)
        let isBatch = raw.rawPath.contains("$batch")
        if faults.maxDelayMs > 0 {
            try? await Task.sleep(for: .milliseconds(Int.random(in: 0...faults.maxDelayMs)))
        }
        var threshold = faults.throttle
        if roll < threshold {
            count("throttled")
            return Self.serverBusy(status: Bool.random() ? 429 : 503, "injected throttling")
        }
        threshold += faults.serverBusy
        if roll < threshold {
            count("serverBusy")
            return Self.serverBusy(status: 503, "injected: the partition is past its scalability target")
        }
        threshold += isBatch ? faults.preconditionStorm : 0
        if roll < threshold {
            count("preconditionStorm")
            let text =
                "--batchresponse_x\r\nContent-Type: multipart/mixed; boundary=changesetresponse_y\r\n\r\n--changesetresponse_y\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 412 Precondition Failed\r\nContent-ID: 0\r\nContent-Type: application/json;odata=minimalmetadata;streaming=true;charset=utf-8\r\n\r\n{\"odata.error\":{\"code\":\"UpdateConditionNotSatisfied\",\"message\":{\"lang\":\"en-US\",\"value\":\"0:injected 412\"}}}\r\n--changesetresponse_y--\r\n--batchresponse_x--\r\n"
            return Self.answer(202, ["Content-Type": "multipart/mixed; boundary=batchresponse_x"], text)
        }
        var headers = HTTPHeaderList()
        for field in raw.headers
        where !["host", "content-length", "connection", "transfer-encoding"].contains(field.name.lowercased()) {
            headers.add(name: field.name, value: field.value)
        }
        let forwarded: TransportResponse
        do {
            forwarded = try await transport.execute(
                TransportRequest(
                    method: raw.method, url: upstream + raw.rawPath + (raw.query.map { "?" + $0 } ?? ""),
                    headers: headers,
                    body: ["GET", "DELETE"].contains(raw.method) ? nil : raw.body, timeout: .seconds(30)))
        } catch {
            count("upstreamDown")
            return Self.answer(502, [:], "upstream failed: \(error)")
        }
        let writes = raw.method != "GET"
        threshold += writes ? faults.errorAfterForward : 0
        if roll < threshold {
            count("errorAfterForward")
            return Self.answer(
                500, ["x-ms-error-code": "InternalError", "Content-Type": "application/json"],
                #"{"odata.error":{"code":"InternalError","message":{"lang":"en-US","value":"injected error after the write was forwarded"}}}"#
            )
        }
        threshold += writes ? faults.timeoutAfterForward : 0
        if roll < threshold {
            count("timeoutAfterForward")
            try? await Task.sleep(for: faults.hold)
        }
        var out = HTTPHeaderList()
        for field in forwarded.headers
        where !["content-length", "transfer-encoding", "connection"].contains(field.name.lowercased()) {
            out.add(name: field.name, value: field.value)
        }
        count("forwarded")
        return Self.answer(forwarded.status, out, forwarded.body)
    }

    /// A proxy in front of `storage` (already started), the connection string that goes through it, and the
    /// server to stop when done (`cancel()` from a `defer`: a graceful shutdown).
    package static func inFront(
        of storage: StorageConnectionString, faults: Faults = Faults(), transport: (any HTTPTransport)? = nil
    ) async throws
        -> (proxy: FaultProxy, storage: StorageConnectionString, task: Server)
    {
        let proxy = FaultProxy(
            upstream: storage.tableEndpoint.replacingOccurrences(of: storage.endpointPath, with: ""),
            transport: transport)
        proxy.faults = faults
        let (port, task) = try await proxy.start()
        let proxied = StorageConnectionString(
            accountName: storage.accountName, accountKey: storage.accountKey,
            tableEndpoint: "http://127.0.0.1:\(port)\(storage.endpointPath)")
        return (proxy, proxied, task)
    }

    /// Azure's answer past its targets (or throttling): `ServerBusy` with `Retry-After: 0`.
    static func serverBusy(status: Int, _ message: String) -> Response {
        answer(
            status, ["x-ms-error-code": "ServerBusy", "Retry-After": "0", "Content-Type": "application/json"],
            #"{"odata.error":{"code":"ServerBusy","message":{"lang":"en-US","value":"\#(message)"}}}"#)
    }

    static func answer(_ status: Int, _ headers: HTTPHeaderList, _ body: String) -> Response {
        answer(status, headers, Array(body.utf8))
    }

    static func answer(_ status: Int, _ headers: HTTPHeaderList, _ body: [UInt8]) -> Response {
        TableEmulatorServer.response(EmulatorResponse(status: status, headers: headers, body: body))
    }
}
