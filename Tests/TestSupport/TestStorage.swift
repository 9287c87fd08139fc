package import AzureCore
package import AzureTables
import Foundation
package import HTTPTransport
import TableEmulator

/// The Table endpoint the tests talk to: a `TableEmulator` started in this process on an ephemeral
/// port, unless `IPAM_TEST_STORAGE` holds a connection string (real Azurite or a storage account),
/// in which case every test runs unchanged against that endpoint.
package enum TestStorage {
    /// One transport for the whole test process.
    package static let transport = CurlTransport()

    private static let endpoint: Task<StorageConnectionString, any Error> = Task {
        if let configured = ProcessInfo.processInfo.environment["IPAM_TEST_STORAGE"], !configured.isEmpty {
            return try StorageConnectionString(parsing: configured)
        }
        let port = try await TestServers.startEmulator(configuration: .init(port: 0, location: nil))
        return StorageConnectionString(
            accountName: StorageConnectionString.developmentAccountName,
            accountKey: StorageConnectionString.developmentAccountKey,
            tableEndpoint: "http://127.0.0.1:\(port)/\(StorageConnectionString.developmentAccountName)")
    }

    /// True when the tests run against an outside endpoint rather than the in-process emulator.
    package static var isExternal: Bool { !(ProcessInfo.processInfo.environment["IPAM_TEST_STORAGE"] ?? "").isEmpty }

    package static func connectionString() async throws -> StorageConnectionString { try await endpoint.value }

    package static func service(
        retryPolicy: RetryPolicy = .init(maxAttempts: 3, baseDelay: .milliseconds(20)),
        onAttempt: (@Sendable (AzurePipeline.AttemptRecord) -> Void)? = nil
    ) async throws -> TableServiceClient {
        try TableServiceClient(
            connectionString: try await connectionString(), transport: transport,
            retryPolicy: retryPolicy, onAttempt: onAttempt)
    }

    /// A fresh table for one test (letters and digits only, unique per call).
    package static func freshTable(_ prefix: String = "t") async throws -> TableClient {
        let name = uniqueName(prefix)
        let service = try await service()
        try await service.createTable(name)
        return service.table(name)
    }

    package static func uniqueName(_ prefix: String) -> String {
        prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
    }
}
