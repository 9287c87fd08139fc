import AzureCore
import AzureTables
import FaultProxy
import Foundation
import HTTPTransport
import TableEmulator
import TestSupport
import Testing

/// The fault proxy in front of the tests' storage endpoint: each fault answered as Azure would, the rest forwarded,
/// and a change of upstream taking effect at once.
@Suite("Fault proxy")
struct FaultProxyTests {
    static func proxied(_ faults: FaultProxy.Faults = FaultProxy.Faults()) async throws -> (
        FaultProxy, StorageConnectionString, FaultProxy.Server
    ) {
        let storage = try await TestStorage.connectionString()
        let (proxy, through, server) = try await FaultProxy.inFront(
            of: storage, faults: faults, transport: TestStorage.transport)
        return (proxy, through, server)
    }

    static func get(_ storage: StorageConnectionString, _ path: String = "/Tables") async throws -> TransportResponse {
        try await TestStorage.transport.execute(
            TransportRequest(method: "GET", url: storage.tableEndpoint + path, timeout: .seconds(10)))
    }

    @Test("with no faults every request is forwarded: a table made through the proxy is in the storage")
    func forwards() async throws {
        let (proxy, storage, server) = try await Self.proxied()
        try await server.serving {
            let service = try TableServiceClient(connectionString: storage, transport: TestStorage.transport)
            let name = TestStorage.uniqueName("fp")
            try await service.createTable(name)
            try await service.table(name).insert(TableEntity(partitionKey: "p", rowKey: "r"))
            let read = try await service.table(name).get(partitionKey: "p", rowKey: "r")
            #expect(read?.rowKey == "r")
            #expect((proxy.counts["forwarded"] ?? 0) >= 3)
            #expect(proxy.counts["serverBusy"] == nil && proxy.counts["throttled"] == nil)
        }
    }

    @Test("serverBusy answers every request 503 ServerBusy with Retry-After, never forwarding it")
    func serverBusy() async throws {
        var faults = FaultProxy.Faults()
        faults.serverBusy = 1
        let (proxy, storage, server) = try await Self.proxied(faults)
        try await server.serving {
            for _ in 0..<5 {
                let answer = try await Self.get(storage)
                #expect(answer.status == 503)
                #expect(answer.headers["x-ms-error-code"] == "ServerBusy")
                #expect(answer.headers["Retry-After"] == "0")
            }
            #expect(proxy.counts["serverBusy"] == 5)
            #expect(proxy.counts["forwarded"] == nil)
        }
    }

    @Test("a 412 storm refuses transactions only: a $batch gets a 412 inside its changeset, a plain read goes through")
    func preconditionStorm() async throws {
        var faults = FaultProxy.Faults()
        faults.preconditionStorm = 1
        let (proxy, storage, server) = try await Self.proxied(faults)
        try await server.serving {
            let batch = try await TestStorage.transport.execute(
                TransportRequest(
                    method: "POST", url: storage.tableEndpoint + "/$batch",
                    headers: ["Content-Type": "multipart/mixed; boundary=batch_x"], body: Array("--batch_x--".utf8),
                    timeout: .seconds(10)))
            #expect(batch.status == 202)
            #expect(batch.bodyText.contains("412 Precondition Failed"))
            #expect(batch.bodyText.contains("UpdateConditionNotSatisfied"))
            let read = try await Self.get(storage)
            #expect(read.status != 202)
            #expect(proxy.counts["preconditionStorm"] == 1)
            #expect(proxy.counts["forwarded"] == 1)
        }
    }

    @Test("while the upstream is down the proxy answers 502; a new upstream serves at once")
    func upstreamChanges() async throws {
        let (proxy, storage, server) = try await Self.proxied()
        try await server.serving {
            let original = proxy.upstream
            proxy.upstream = "http://127.0.0.1:1" // nothing listens on port 1
            let down = try await Self.get(storage)
            #expect(down.status == 502)
            #expect(proxy.counts["upstreamDown"] == 1)
            proxy.upstream = original
            let service = try TableServiceClient(connectionString: storage, transport: TestStorage.transport)
            let name = TestStorage.uniqueName("fp")
            try await service.createTable(name)
            #expect((proxy.counts["forwarded"] ?? 0) >= 1)
        }
    }
}
