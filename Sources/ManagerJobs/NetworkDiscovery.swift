package import IPAMCore

/// A network as a cloud reports it (an Azure VNet, an AWS VPC): what the Manager's decisions read.
package struct DiscoveredNetwork: Sendable, Equatable {
    /// The cloud that reported it.
    package var provider: Cloud
    /// The Azure subscription or the AWS account it belongs to (lower-cased).
    package var account: String
    /// Its region as its cloud names it (lower-cased).
    package var region: String
    /// The cloud's id: an Azure resource id, an AWS VPC id.
    package var id: String
    /// Every IPv4 and IPv6 CIDR it uses, as the cloud reports them (host bits may be set).
    package var prefixes: [String]
    package var tags: [String: String]

    package init(
        provider: Cloud, account: String, region: String, id: String, prefixes: [String],
        tags: [String: String] = [:]
    ) {
        self.provider = provider
        self.account = account.lowercased()
        self.region = region.lowercased()
        self.id = id
        self.prefixes = prefixes
        self.tags = tags
    }
}

/// What one discovery produced: the networks, and which scopes' listings are not whole.
///
/// A scope is incomplete when anything that could hide one of its networks failed: a page, its region or its
/// account, throttling past the retries, an identity that cannot see its account. Only a complete listing may
/// conclude that a network is gone: an incomplete scope has nothing released, reaped or counted missing.
package struct DiscoveryListing: Sendable {
    package var networks: [DiscoveredNetwork]
    /// The incomplete scopes, each with why (every reason names the account and region, or the page).
    package var incomplete: [Scope: [String]]
    /// Every reason, in the order found (for the log and the stored status).
    package var problems: [String]
    /// Pages (or calls) the listing took.
    package var pages: Int

    package init(
        networks: [DiscoveredNetwork] = [], incomplete: [Scope: [String]] = [:], problems: [String] = [],
        pages: Int = 0
    ) {
        self.networks = networks
        self.incomplete = incomplete
        self.problems = problems
        self.pages = pages
    }

    /// True when every scope asked for was listed whole.
    package var isComplete: Bool { incomplete.isEmpty }

    /// True when `scope`'s own listing is whole.
    package func isComplete(_ scope: Scope) -> Bool { incomplete[scope] == nil }

    /// Marks `scopes` incomplete for `reason` (recorded once among the problems).
    package mutating func markIncomplete(_ scopes: some Sequence<Scope>, because reason: String) {
        for scope in scopes { incomplete[scope, default: []].append(reason) }
        problems.append(reason)
    }

    /// Adds another provider's listing to this one.
    package mutating func merge(_ other: DiscoveryListing) {
        networks += other.networks
        for (scope, reasons) in other.incomplete { incomplete[scope, default: []] += reasons }
        problems += other.problems
        pages += other.pages
    }
}

/// One cloud's discovery of networks: the provider interface of the Manager (docs/Providers.md).
///
/// An implementation lists, for the scopes it is given, every network of each scope's account (or subscription)
/// and region, and says which scopes it could not list whole. It never throws: a failure makes the scopes it
/// touches incomplete (and names them), so one cloud's failure leaves the other clouds' scopes complete.
package protocol NetworkDiscovery: Sendable {
    /// The cloud whose networks it lists.
    var provider: Cloud { get }
    /// Whether this provider lists `scope` (a configured scope of its cloud).
    func lists(_ scope: Scope) -> Bool
    /// The networks of `scopes` (each one this provider lists), and which of them are incomplete.
    func discover(_ scopes: [Scope]) async -> DiscoveryListing
}

extension Array where Element == any NetworkDiscovery {
    /// One listing of every scope of `scopes` across these providers (each scope listed by the first provider that
    /// lists it, the providers at once). A scope no provider lists is incomplete: its networks cannot be seen.
    package func discover(_ scopes: [Scope]) async -> DiscoveryListing {
        var assigned: [[Scope]] = [[Scope]](repeating: [], count: count)
        var unlisted: [Scope] = []
        for scope in scopes.sorted() {
            if let index = firstIndex(where: { $0.lists(scope) }) {
                assigned[index].append(scope)
            } else {
                unlisted.append(scope)
            }
        }
        var listing = DiscoveryListing()
        await withTaskGroup(of: (Int, DiscoveryListing).self) { group in
            for (index, provider) in enumerated() where !assigned[index].isEmpty {
                let scopes = assigned[index]
                group.addTask { (index, await provider.discover(scopes)) }
            }
            var results: [(Int, DiscoveryListing)] = []
            for await result in group { results.append(result) }
            // In the providers' order, so problems read the same from run to run.
            for (_, result) in results.sorted(by: { $0.0 < $1.0 }) { listing.merge(result) }
        }
        for scope in unlisted {
            listing.markIncomplete([scope], because: "scope \(scope): no discovery is configured for its cloud")
        }
        return listing
    }
}
