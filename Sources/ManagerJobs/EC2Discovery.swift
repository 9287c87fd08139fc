package import AWSClient
package import IPAMCore
package import Logging

/// AWS's discovery: EC2 `DescribeVpcs` (every page) per account and region, each scope its own call.
///
/// A VPC counts for its account when the account owns it (`ownerId`): a VPC shared into the account by another
/// is the owner's, and listed under the owner's scope when that is configured. Only associated CIDR blocks
/// count (`EC2Client`). Any `AWSFailure` (`AuthFailure`, `UnauthorizedOperation`, `OptInRequired` for a region not
/// enabled, an unreachable endpoint, throttling past the retries, an answer it cannot read, no credentials)
/// makes that one account and region incomplete, named in the listing and the log: never a release.
package struct EC2Discovery: NetworkDiscovery {
    /// The client of each account and region this discovery lists, by scope.
    package let clients: [Scope: EC2Client]
    package let logger: Logger

    package init(clients: [EC2Client], logger: Logger) {
        var byScope: [Scope: EC2Client] = [:]
        for client in clients { byScope[Self.scope(account: client.account, region: client.region)] = client }
        self.clients = byScope
        self.logger = logger
    }

    package var provider: Cloud { .aws }

    package func lists(_ scope: Scope) -> Bool { clients[scope] != nil }

    package func discover(_ scopes: [Scope]) async -> DiscoveryListing {
        let asked = scopes.compactMap { scope in clients[scope].map { (scope, $0) } }
        var outcomes: [(Scope, Result<[VPC], AWSFailure>)] = []
        await withTaskGroup(of: (Scope, Result<[VPC], AWSFailure>).self) { group in
            for (scope, client) in asked {
                group.addTask { (scope, await Self.vpcs(listedBy: client)) }
            }
            for await outcome in group { outcomes.append(outcome) }
        }
        var listing = DiscoveryListing(pages: 0)
        for (scope, outcome) in outcomes.sorted(by: { $0.0 < $1.0 }) {
            let client = clients[scope]!
            switch outcome {
            case .success(let vpcs):
                listing.pages += 1
                for vpc in vpcs where vpc.ownerId.isEmpty || vpc.ownerId == client.account {
                    listing.networks.append(
                        DiscoveredNetwork(
                            provider: provider, account: client.account, region: client.region, id: vpc.id,
                            prefixes: vpc.ipv4CidrBlocks + vpc.ipv6CidrBlocks, tags: vpc.tags))
                }
            case .failure(let failure):
                logger.warning(
                    "AWS listing incomplete: nothing is released in this account and region this run",
                    metadata: [
                        "account": .string(failure.account), "region": .string(failure.region),
                        "code": .string(failure.code ?? "\(failure.kind)"), "error": .string(failure.description),
                    ])
                listing.markIncomplete([scope], because: failure.description)
            }
        }
        return listing
    }

    /// One account and region's VPCs, or why not.
    ///
    /// A function of its own, not the task group's closure: in release builds (Swift 6.3) a typed `do throws` inside
    /// the child task's closure handed the group a corrupt result (a crash copying the scope, or an empty listing);
    /// `ipam-dev bench manager-aws` on a release build shows it.
    static func vpcs(listedBy client: EC2Client) async -> Result<[VPC], AWSFailure> {
        do throws(AWSFailure) {
            return .success(try await client.describeVpcs())
        } catch {
            return .failure(error)
        }
    }

    /// The scope an account and region are listed for.
    package static func scope(account: String, region: String) -> Scope {
        Scope(awsAccountId: account, region: region)
    }
}
