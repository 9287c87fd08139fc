package import Foundation

extension API {
    /// `GET /api/networks` (`NetworkList` in `openapi/`): the networks (Azure VNets, AWS VPCs) each scope's cloud lists,
    /// with their compliance status as the Manager last judged it, a page at a time.
    package struct NetworkList: Sendable, Equatable, Codable {
        package var networks: [Network]
        /// The token of the next page; nil on the last.
        package var continuation: String?

        package init(networks: [Network], continuation: String?) {
            self.networks = networks
            self.continuation = continuation
        }
    }

    /// One listed network and how it stands with ipam (`Network` in `openapi/`).
    package struct Network: Sendable, Equatable, Codable {
        /// An Azure VNet's resource id, an AWS VPC's id.
        package var resourceId: String
        package var scope: String
        /// An Azure scope's subscription (nil for an AWS scope: `cloud` and `accountId` instead).
        package var subscription: String?
        package var cloud: String?
        package var accountId: String?
        package var region: String
        /// Its address prefixes, in address order.
        package var cidrs: [String]
        /// `compliant`, `unmanaged`, `noncompliant` or `ignored`.
        package var status: String
        /// Why, in words.
        package var reason: String
        /// The lease it belongs to (anchored to it, or tagged with it); nil when none.
        package var leaseId: String?
        /// Since when it has had this status (nil when the Manager did not record it).
        package var since: Date?

        package enum CodingKeys: String, CodingKey, OmittedWhenNil {
            case resourceId, scope, subscription, cloud, accountId, region, cidrs, status, reason, leaseId, since
            package static var omittedWhenNil: Set<String> { API.scopeOwnerMembers }
        }

        package init(
            resourceId: String, scope: String, subscription: String?, cloud: String? = nil, accountId: String? = nil,
            region: String, cidrs: [String], status: String, reason: String, leaseId: String?, since: Date?
        ) {
            self.resourceId = resourceId
            self.scope = scope
            self.subscription = subscription
            self.cloud = cloud
            self.accountId = accountId
            self.region = region
            self.cidrs = cidrs
            self.status = status
            self.reason = reason
            self.leaseId = leaseId
            self.since = since
        }
    }
}
