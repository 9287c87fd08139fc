import AzureCore
package import AzureTables
package import FaultProxy
import TableEmulator

/// A fresh table in the tests' storage, reached two ways: directly, and through a fault proxy whose faults the test
/// sets (with no retries, so each fault reaches the caller as it happened).
package struct FaultProxiedTable: Sendable {
    /// The table without the proxy (for setting up and checking what storage holds).
    package let direct: TableClient
    /// The same table through the proxy.
    package let through: TableClient
    package let proxy: FaultProxy

    /// Runs `body` with a new table named from `prefix` and a proxy in front of the storage, stopped after it.
    package static func with(_ prefix: String, _ body: (FaultProxiedTable) async throws -> Void) async throws {
        let storage = try await TestStorage.connectionString()
        let name = TestStorage.uniqueName(prefix)
        let service = try TableServiceClient(connectionString: storage, transport: TestStorage.transport)
        try await service.createTable(name)
        let (proxy, proxied, server) = try await FaultProxy.inFront(of: storage, transport: TestStorage.transport)
        try await server.serving {
            let through = try TableServiceClient(
                connectionString: proxied, transport: TestStorage.transport, retryPolicy: .none
            ).table(name)
            try await body(FaultProxiedTable(direct: service.table(name), through: through, proxy: proxy))
        }
    }
}
