package import Logging
package import NIOCore
package import ServiceLifecycle

/// A server a test started, stopped by graceful shutdown: cancelling a Hummingbird server's task while a
/// connection is open (a client's idle keep-alive one, say) can trap in NIO ("Deinited NIOAsyncWriter
/// without calling finish()", apple/swift-nio#3481), and took whole test runs down with it.
package final class TestServerHandle: Sendable {
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    package init(_ service: some Service, logger: Logger) {
        let group = ServiceGroup(configuration: .init(services: [service], gracefulShutdownSignals: [], logger: logger))
        self.group = group
        task = Task { try await group.run() }
    }

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

    /// Shuts the server down gracefully (open connections are closed properly) and waits until it has.
    package func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }

    /// Starts the graceful shutdown without waiting for it (for a `defer`).
    package func cancel() {
        let group = self.group
        Task { await group.triggerGracefulShutdown() }
    }

    /// Runs `body`, then stops the server gracefully, whatever `body` did.
    package func serving<T>(_ body: () async throws -> T) async throws -> T {
        let result: Result<T, any Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        await stop()
        return try result.get()
    }
}
