import AzureCore
import Foundation
package import HTTPTransport
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization
package import TableEmulator

let quietLogger = Logger(label: "test-server", factory: { _ in SwiftLogNoOpLogHandler() })

/// Local servers for tests: the emulator, and small scripted HTTP fakes.
package enum TestServers {
    /// Starts a `TableEmulatorServer` in this process for the rest of the run; returns its port.
    package static func startEmulator(configuration: TableEmulatorServer.Configuration) async throws -> Int {
        let server = try TableEmulatorServer(configuration: configuration, logger: quietLogger)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        Task.detached {
            do {
                try await server.run { port in continuation.yield(port) }
            } catch {
                continuation.finish()
            }
        }
        for await port in ports { return port }
        throw TestFailure("emulator did not start")
    }

    /// Runs a fake HTTP server answering with `handler` while `body` runs; returns `body`'s result.
    package static func withFakeServer<T: Sendable>(
        _ handler: @escaping @Sendable (EmulatorRequest) async -> EmulatorResponse,
        _ body: @Sendable (Int) async throws -> T
    ) async throws -> T {
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            let raw = try await TableEmulatorServer.emulatorRequest(request, maxBodyBytes: 16 * 1024 * 1024)
            return TableEmulatorServer.response(await handler(raw))
        }
        let (server, port) = try await TestServerHandle.start(logger: quietLogger) { running in
            Application(
                responder: responder, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: running, logger: quietLogger)
        }
        return try await server.serving { try await body(port) }
    }

    /// A JSON answer.
    package static func json(_ status: Int, _ text: String, headers: HTTPHeaderList = [:]) -> EmulatorResponse {
        var all = headers
        all["Content-Type"] = "application/json"
        return EmulatorResponse(status: status, headers: all, body: Array(text.utf8))
    }
}

/// Counts and records what a fake server saw (thread-safe).
package final class RequestLog: Sendable {
    private let state = Mutex<[EmulatorRequest]>([])
    package init() {}
    package func record(_ request: EmulatorRequest) -> Int {
        state.withLock {
            $0.append(request)
            return $0.count
        }
    }
    package var requests: [EmulatorRequest] { state.withLock { $0 } }
    package var count: Int { state.withLock { $0.count } }
}

package struct TestFailure: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}
