package import Logging
package import NIOCore
package import ServiceLifecycle
package import TableEmulator

/// A server a test started, stopped by graceful shutdown (`ServerHandle`).
package typealias TestServerHandle = ServerHandle

extension ServerHandle {
    /// Starts the server `make` builds on an ephemeral port and waits until it listens.
    /// - Parameter make: builds the server, handing its `onServerRunning` the callback that reports the port.
    /// - Returns: the handle that stops it, and the port.
    package static func start(
        logger: Logger,
        _ make: (_ onServerRunning: @escaping @Sendable (any Channel) async -> Void) throws -> some Service
    )
        async throws -> (server: TestServerHandle, port: Int)
    {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let server = TestServerHandle(
            try make { channel in continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        for await port in ports { return (server, port) }
        throw TestFailure("the server did not start")
    }
}
