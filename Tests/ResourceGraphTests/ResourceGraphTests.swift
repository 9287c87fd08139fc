import AzureCore
import Foundation
import HTTPTransport
import Logging
import ResourceGraph
import ResourceGraphEmulator
import TableEmulator
import TestSupport
import Testing

@Suite("Resource Graph client against the local Resource Graph endpoint")
struct ResourceGraphTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/arg/vnets.json").path

    static func vnet(_ index: Int, subscription: String = "11111111-1111-1111-1111-111111111111") -> VirtualNetwork {
        VirtualNetwork(
            id:
                "/subscriptions/\(subscription)/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v\(String(format: "%03d", index))",
            name: "v\(index)", subscriptionId: subscription, resourceGroup: "rg", location: "eastus",
            tags: index % 2 == 0 ? ["ipam-lease-id": "lease-\(index)"] : [:], addressPrefixes: ["10.64.\(index).0/24"])
    }

    /// Runs the emulator in-process and hands a client (fixed bearer token, fast retries) to `body`.
    static func withEndpoint<T: Sendable>(
        vnets: [VirtualNetwork], pageSize: Int, batch: Int = 100,
        _ body: @Sendable (ResourceGraphClient, ResourceGraphState, String) async throws -> T
    ) async throws -> T {
        let state = ResourceGraphState(vnets: vnets)
        let emulator = ResourceGraphEmulator(state: state, pageSize: pageSize)
        return try await TestServers.withFakeServer({ await emulator.handle($0) }) { port in
            let pipeline = AzurePipeline(
                transport: TestStorage.transport,
                authorizer: BearerTokenAuthorizer(credential: StaticTokenCredential("local"), scope: .management),
                retryPolicy: RetryPolicy(
                    maxAttempts: 3, baseDelay: .milliseconds(10), maxDelay: .seconds(2), deadline: .seconds(10)))
            let client = ResourceGraphClient(
                endpoint: "http://127.0.0.1:\(port)", pipeline: pipeline, subscriptionBatchSize: batch, pageSize: 1000)
            return try await body(client, state, "http://127.0.0.1:\(port)")
        }
    }

    @Test("the fixture in the documented response format loads")
    func fixtureLoads() throws {
        let vnets = try ResourceGraphEmulator.loadVNets(path: Self.fixture)
        #expect(vnets.count == 3)
        #expect(vnets[0].tags["ipam-lease-id"] == "9868f808-8907-4871-ba22-f7172bda379d")
        #expect(vnets[1].addressPrefixes == ["10.64.128.0/20", "fd00:72::/48"])
    }

    @Test("pages with $skipToken and batches subscriptions; the listing is complete")
    func paging() async throws {
        let vnets =
            (0..<7).map { Self.vnet($0) }
            + (0..<3).map { Self.vnet(100 + $0, subscription: "22222222-2222-2222-2222-222222222222") }
        try await Self.withEndpoint(vnets: vnets, pageSize: 2, batch: 1) { client, state, _ in
            let listing = await client.virtualNetworks(subscriptions: [
                "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222",
            ])
            #expect(listing.isComplete, "\(listing.problems)")
            #expect(listing.networks.count == 10)
            #expect(Set(listing.networks.map(\.id)).count == 10)
            #expect(
                listing.pages == (1 + 4) + (1 + 2),
                "per batch: the visible subscriptions, then 7 rows in pages of 2, then 3 rows in pages of 2")
            #expect(await state.queries == 8)
            let only = await client.virtualNetworks(subscriptions: ["22222222-2222-2222-2222-222222222222"])
            #expect(only.networks.count == 3 && only.isComplete)
        }
    }

    @Test("throttling (429 with quota headers) is waited out; the listing still completes")
    func throttled() async throws {
        try await Self.withEndpoint(vnets: (0..<3).map { Self.vnet($0) }, pageSize: 2) { client, state, _ in
            await state.inject(.throttle, count: 1)
            let listing = await client.virtualNetworks(subscriptions: ["11111111-1111-1111-1111-111111111111"])
            #expect(listing.isComplete && listing.networks.count == 3)
            #expect(await state.queries == 4, "the throttled subscriptions query, it again, then two pages")
        }
    }

    @Test(
        "a subscription the identity cannot read (no Reader role) makes the listing incomplete, though Resource Graph answers without an error"
    )
    func invisibleSubscription() async throws {
        let vnets =
            (0..<3).map { Self.vnet($0) } + [Self.vnet(100, subscription: "22222222-2222-2222-2222-222222222222")]
        try await Self.withEndpoint(vnets: vnets, pageSize: 10) { client, state, _ in
            await state.deny(["22222222-2222-2222-2222-222222222222"])
            let listing = await client.virtualNetworks(subscriptions: [
                "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222",
            ])
            #expect(!listing.isComplete)
            #expect(
                listing.problems.contains {
                    $0.contains("22222222-2222-2222-2222-222222222222") && $0.contains("Reader")
                }, "\(listing.problems)")
            #expect(listing.networks.count == 3, "what can be read is still listed")
            await state.deny([])
            #expect(await client.virtualNetworks(subscriptions: ["22222222-2222-2222-2222-222222222222"]).isComplete)
        }
    }

    @Test(
        "errors, truncation and a page failing mid-way make the listing incomplete",
        arguments: [
            ResourceGraphState.FaultMode.error, .truncate, .failPage,
        ])
    func incomplete(mode: ResourceGraphState.FaultMode) async throws {
        try await Self.withEndpoint(vnets: (0..<5).map { Self.vnet($0) }, pageSize: 2) { client, state, _ in
            await state.inject(mode, count: 5)
            let listing = await client.virtualNetworks(subscriptions: ["11111111-1111-1111-1111-111111111111"])
            #expect(!listing.isComplete)
            #expect(!listing.problems.isEmpty)
        }
    }

    @Test("the admin API adds, lists and deletes VNets (how tests play Terraform)")
    func adminAPI() async throws {
        try await Self.withEndpoint(vnets: [], pageSize: 10) { client, _, url in
            let row = Self.vnet(7).json.serialized()
            let answer1 = try await HTTPCalls.send("POST", url + "/admin/vnets", body: row)
            #expect(answer1.status == 201)
            var listing = await client.virtualNetworks(subscriptions: ["11111111-1111-1111-1111-111111111111"])
            #expect(listing.networks.map(\.name) == ["v7"] && listing.networks[0].tags["ipam-lease-id"] == nil)
            let id = PercentEncoding.encode(Self.vnet(7).id)
            let answer2 = try await HTTPCalls.send("DELETE", url + "/admin/vnets?id=\(id)")
            #expect(answer2.status == 204)
            let answer3 = try await HTTPCalls.send("DELETE", url + "/admin/vnets?id=\(id)")
            #expect(answer3.status == 404)
            listing = await client.virtualNetworks(subscriptions: ["11111111-1111-1111-1111-111111111111"])
            #expect(listing.networks.isEmpty && listing.isComplete)
            let answer4 = try await HTTPCalls.send("POST", url + "/admin/faults", body: #"{"mode":"nope"}"#)
            #expect(answer4.status == 400)
            let answer5 = try await HTTPCalls.send(
                "POST", url + "/admin/faults", body: #"{"mode":"throttle","count":1}"#)
            #expect(answer5.status == 204)
        }
    }

    @Test func resetsAfterParsing() {
        #expect(ResourceGraphClient.parseResetsAfter("00:00:05") == .seconds(5))
        #expect(ResourceGraphClient.parseResetsAfter("00:01:00.5") == .milliseconds(60_500))
        #expect(ResourceGraphClient.parseResetsAfter("soon") == nil)
    }
}
