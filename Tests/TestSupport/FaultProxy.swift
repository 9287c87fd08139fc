package import AzureCore
import Foundation
import HTTPTransport
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization
import TableEmulator

/// An HTTP proxy between a Vendor and the Table endpoint that injects faults: throttling and 503s
/// (not forwarded), 412 storms on transactions (not forwarded), 500s and timeouts *after* forwarding
/// (so the write may have happened: an unknown outcome), and delays.
package final class FaultProxy: Sendable {
    package struct Faults: Sendable {
        package var throttle = 0.0
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

    package let upstream: String
    private let state = Mutex<(faults: Faults, counts: [String: Int])>((Faults(), [:]))
    package init(upstream: String) { self.upstream = upstream }

    package var faults: Faults {
        get { state.withLock { $0.faults } }
        set { state.withLock { $0.faults = newValue } }
    }
    package var counts: [String: Int] { state.withLock { $0.counts } }
    private func count(_ name: String) { state.withLock { $0.counts[name, default: 0] += 1 } }

    /// Serves until the returned server is stopped; returns the port.
    package func start() async throws -> (port: Int, task: TestServerHandle) {
        let responder = CallbackResponder<BasicRequestContext> { [self] request, _ in
            let raw = try await TableEmulatorServer.emulatorRequest(request, maxBodyBytes: 16 * 1024 * 1024)
            let faults = self.faults
            var random = SystemRandomNumberGenerator()
            let roll = Double.random(in: 0..<1, using: &random)
            let isBatch = raw.rawPath.contains("$batch")
            if faults.maxDelayMs > 0 {
                try? await Task.sleep(for: .milliseconds(Int.random(in: 0...faults.maxDelayMs)))
            }
            var threshold = faults.throttle
            if roll < threshold {
                self.count("throttled")
                let status = Bool.random() ? 429 : 503
                return Self.answer(
                    status, ["x-ms-error-code": "ServerBusy", "Retry-After": "0", "Content-Type": "application/json"],
                    #"{"odata.error":{"code":"ServerBusy","message":{"lang":"en-US","value":"injected throttling"}}}"#)
            }
            threshold += isBatch ? faults.preconditionStorm : 0
            if roll < threshold {
                self.count("preconditionStorm")
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
                forwarded = try await TestStorage.transport.execute(
                    TransportRequest(
                        method: raw.method, url: self.upstream + raw.rawPath + (raw.query.map { "?" + $0 } ?? ""),
                        headers: headers,
                        body: ["GET", "DELETE"].contains(raw.method) ? nil : raw.body, timeout: .seconds(30)))
            } catch {
                return Self.answer(502, [:], "upstream failed: \(error)")
            }
            let writes = raw.method != "GET"
            threshold += writes ? faults.errorAfterForward : 0
            if roll < threshold {
                self.count("errorAfterForward")
                return Self.answer(
                    500, ["x-ms-error-code": "InternalError", "Content-Type": "application/json"],
                    #"{"odata.error":{"code":"InternalError","message":{"lang":"en-US","value":"injected error after the write was forwarded"}}}"#
                )
            }
            threshold += writes ? faults.timeoutAfterForward : 0
            if roll < threshold {
                self.count("timeoutAfterForward")
                try? await Task.sleep(for: faults.hold)
            }
            var out = HTTPHeaderList()
            for field in forwarded.headers
            where !["content-length", "transfer-encoding", "connection"].contains(field.name.lowercased()) {
                out.add(name: field.name, value: field.value)
            }
            self.count("forwarded")
            return Self.answer(forwarded.status, out, forwarded.body)
        }
        let logger = Logger(label: "fault-proxy", factory: { _ in SwiftLogNoOpLogHandler() })
        let (server, port) = try await TestServerHandle.start(logger: logger) { running in
            Application(
                responder: responder, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: running, logger: logger)
        }
        return (port, server)
    }

    /// A proxy in front of `storage` (already started), the connection string that goes through it, and the
    /// server to stop when done (`cancel()` from a `defer`: a graceful shutdown).
    package static func inFront(of storage: StorageConnectionString, faults: Faults = Faults()) async throws
        -> (proxy: FaultProxy, storage: StorageConnectionString, task: TestServerHandle)
    {
        let proxy = FaultProxy(upstream: storage.tableEndpoint.replacingOccurrences(of: storage.endpointPath, with: ""))
        proxy.faults = faults
        let (port, task) = try await proxy.start()
        let proxied = StorageConnectionString(
            accountName: storage.accountName, accountKey: storage.accountKey,
            tableEndpoint: "http://127.0.0.1:\(port)\(storage.endpointPath)")
        return (proxy, proxied, task)
    }

    static func answer(_ status: Int, _ headers: HTTPHeaderList, _ body: String) -> Response {
        answer(status, headers, Array(body.utf8))
    }

    static func answer(_ status: Int, _ headers: HTTPHeaderList, _ body: [UInt8]) -> Response {
        TableEmulatorServer.response(EmulatorResponse(status: status, headers: headers, body: body))
    }
}
