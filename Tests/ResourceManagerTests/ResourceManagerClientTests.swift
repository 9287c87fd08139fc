import AzureCore
import Foundation
import ResourceManager
import ResourceManagerEmulator
import TestSupport
import Testing

/// `ResourceManagerClient` against the local Resource Manager over a real socket: reads, a NIC written whole
/// under `If-Match`, long-running operations followed to their end, and the ways a write fails.
@Suite("Resource Manager client")
struct ResourceManagerClientTests {
    static let subscription = "33333333-3333-3333-3333-333333333333"

    struct World {
        let state: ResourceManagerState
        let client: ResourceManagerClient
        let vmId: String
        let pipId: String
        let otherPipId: String

        /// The id of the VM's primary NIC, as the VM names it.
        func nicId() async throws -> String {
            try #require(try await client.virtualMachine(vmId).primaryNetworkInterfaceId)
        }
    }

    /// One VM with its NIC and two free public IPs, behind a client whose retries and polls never wait.
    static func withWorld(_ body: @Sendable (World) async throws -> Void) async throws {
        var resources = ResourceManagerState.virtualMachine(
            subscription: subscription, resourceGroup: "rg", name: "vm1", privateIP: "10.1.0.4")
        resources += ResourceManagerState.virtualMachine(
            subscription: subscription, resourceGroup: "rg", name: "vm2", privateIP: "10.1.0.5")
        let pip = ResourceManagerState.publicIP(
            subscription: subscription, resourceGroup: "rg", name: "pip1", address: "20.0.0.1")
        let other = ResourceManagerState.publicIP(
            subscription: subscription, resourceGroup: "rg", name: "pip2", address: "20.0.0.2")
        resources += [pip, other]
        let state = ResourceManagerState(resources: resources)
        let vmId = resources[0]["id"]!.stringValue!
        let emulator = ResourceManagerEmulator(state: state)
        try await TestServers.withFakeServer({ await emulator.handle($0) }) { port in
            let pipeline = AzurePipeline(
                transport: TestStorage.transport,
                authorizer: BearerTokenAuthorizer(credential: StaticTokenCredential("local"), scope: .management),
                retryPolicy: RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(1), maxDelay: .milliseconds(2)),
                clock: RetryClock(uptime: { .zero }, sleep: { _ in }))
            let client = ResourceManagerClient(
                endpoint: "http://127.0.0.1:\(port)/", pipeline: pipeline, pollInterval: .milliseconds(1), maxPolls: 5)
            try await body(
                World(
                    state: state, client: client, vmId: vmId,
                    pipId: pip["id"]!.stringValue!, otherPipId: other["id"]!.stringValue!))
        }
    }

    @Test("a VM names its primary NIC; a NIC written with a public IP is read back with it, and the IP names its NIC")
    func associate() async throws {
        try await Self.withWorld { world in
            let vm = try await world.client.virtualMachine(world.vmId)
            let nicId = try #require(vm.primaryNetworkInterfaceId)
            var nic = try await world.client.networkInterface(nicId)
            #expect(nic.etag != nil)
            let primary = try #require(nic.primaryConfiguration)
            #expect(primary.name == "ipconfig1" && primary.publicIPAddressId == nil)
            #expect(try await world.client.publicIPAddress(world.pipId).networkInterfaceId == nil)
            nic.setPublicIP(world.pipId, on: "ipconfig1")
            let written = try await world.client.update(nic)
            #expect(written.primaryConfiguration?.publicIPAddressId == world.pipId)
            #expect(written.etag != nic.etag, "a write gives the NIC a new ETag")
            let address = try await world.client.publicIPAddress(world.pipId)
            #expect(address.networkInterfaceId?.lowercased() == nicId.lowercased())
            #expect(address.ipAddress == "20.0.0.1")
        }
    }

    @Test("a NIC written with a stale ETag is refused with 412 and nothing changes")
    func staleETag() async throws {
        try await Self.withWorld { world in
            let nicId = try await world.nicId()
            let read = try await world.client.networkInterface(nicId)
            var first = read
            first.setPublicIP(world.pipId, on: "ipconfig1")
            _ = try await world.client.update(first)
            var second = read
            second.setPublicIP(world.otherPipId, on: "ipconfig1")
            let error = await #expect(throws: AzureError.self) { _ = try await world.client.update(second) }
            #expect(error?.isPreconditionFailed == true)
            let now = try await world.client.networkInterface(nicId)
            #expect(now.primaryConfiguration?.publicIPAddressId == world.pipId)
        }
    }

    @Test("an operation that fails after it was accepted throws its error, and the NIC keeps what it had")
    func failedOperation() async throws {
        try await Self.withWorld { world in
            let nicId = try await world.nicId()
            var nic = try await world.client.networkInterface(nicId)
            nic.setPublicIP(world.pipId, on: "ipconfig1")
            await world.state.inject(.failAfterAccept, count: 1)
            let error = await #expect(throws: AzureError.self) { _ = try await world.client.update(nic) }
            #expect(error?.errorCode == "InternalServerError")
            #expect(try await world.client.networkInterface(nicId).primaryConfiguration?.publicIPAddressId == nil)
        }
    }

    @Test("throttling and a 500 before anything is applied are retried; the write lands once")
    func retried() async throws {
        try await Self.withWorld { world in
            let nicId = try await world.nicId()
            var nic = try await world.client.networkInterface(nicId)
            nic.setPublicIP(world.pipId, on: "ipconfig1")
            await world.state.inject(.throttle, count: 1)
            await world.state.inject(.error, count: 1)
            let before = await world.state.puts
            let written = try await world.client.update(nic)
            #expect(written.primaryConfiguration?.publicIPAddressId == world.pipId)
            #expect(
                await world.state.puts - before == 1, "the refused attempts applied nothing; the retry applied it once")
        }
    }

    @Test("a public IP another NIC holds is refused (PublicIPAddressInUse), as Azure refuses it")
    func inUse() async throws {
        try await Self.withWorld { world in
            let nicId = try await world.nicId()
            var nic = try await world.client.networkInterface(nicId)
            nic.setPublicIP(world.pipId, on: "ipconfig1")
            _ = try await world.client.update(nic)
            let otherNicId = nicId.replacingOccurrences(of: "/vm1-nic", with: "/vm2-nic")
            var other = try await world.client.networkInterface(otherNicId)
            other.setPublicIP(world.pipId, on: "ipconfig1")
            let error = await #expect(throws: AzureError.self) { _ = try await world.client.update(other) }
            #expect(error?.errorCode == "PublicIPAddressInUse")
        }
    }

    @Test("a missing resource is 404 ResourceNotFound")
    func missing() async throws {
        try await Self.withWorld { world in
            let error = await #expect(throws: AzureError.self) {
                _ = try await world.client.networkInterface(
                    "/subscriptions/\(Self.subscription)/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/none"
                )
            }
            #expect(error?.status == 404)
        }
    }
}
