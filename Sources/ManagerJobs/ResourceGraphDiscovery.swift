package import IPAMCore
package import ResourceGraph

/// Azure's discovery: one Resource Graph listing of the scopes' subscriptions. Resource Graph answers for all of
/// them at once, so anything that makes its listing incomplete (a failed page, a truncated answer, throttling
/// past the retries, a subscription the identity cannot see) makes every Azure scope asked for incomplete.
package struct ResourceGraphDiscovery: NetworkDiscovery {
    package let client: ResourceGraphClient

    package init(client: ResourceGraphClient) { self.client = client }

    package var provider: Cloud { .azure }

    package func lists(_ scope: Scope) -> Bool { scope.cloud == .azure }

    package func discover(_ scopes: [Scope]) async -> DiscoveryListing {
        let subscriptions = Set(scopes.compactMap(\.subscriptionId))
        let found = await client.virtualNetworks(subscriptions: Array(subscriptions))
        var listing = DiscoveryListing(networks: found.networks.map(DiscoveredNetwork.init), pages: found.pages)
        for problem in found.problems { listing.markIncomplete(scopes, because: problem) }
        if !found.isComplete && found.problems.isEmpty {
            listing.markIncomplete(scopes, because: "Resource Graph listing incomplete")
        }
        return listing
    }
}

extension DiscoveredNetwork {
    /// A VNet as Resource Graph reports it: its subscription, location, id, address prefixes and tags.
    package init(_ vnet: VirtualNetwork) {
        self.init(
            provider: .azure, account: vnet.subscriptionId, region: vnet.location, id: vnet.id,
            prefixes: vnet.addressPrefixes, tags: vnet.tags)
    }
}
