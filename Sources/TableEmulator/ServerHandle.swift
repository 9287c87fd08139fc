package import Logging
package import ServiceLifecycle

/// A server started in this process (an emulator, the fault proxy, a test's), stopped by graceful shutdown:
/// cancelling a Hummingbird server's task while a connection is open (a client's idle keep-alive one, say) can
/// trap in NIO ("Deinited NIOAsyncWriter without calling finish()", apple/swift-nio#3481), and took whole test
/// runs down with it.
package final class ServerHandle: Sendable {
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    /// Runs `service` until `stop` or `cancel`, with no shutdown signals of its own.
    package init(_ service: some Service, logger: Logger) {
        let group = ServiceGroup(configuration: .init(services: [service], gracefulShutdownSignals: [], logger: logger))
        self.group = group
        task = Task { try await group.run() }
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
