package import Foundation

extension API {
    /// How an answer names its scope's owner, after `scope`: an Azure scope's `subscription`; an AWS scope's
    /// `"cloud": "aws"` and `accountId` instead. The members a scope does not have are left out (never `null`),
    /// so an Azure answer is what it always was.
    package static let scopeOwnerMembers: Set<String> = ["subscription", "cloud", "accountId"]

    /// A lease as `getNewNetwork` and `adoptNetwork` answer it (`Lease` in `openapi/`).
    package struct Lease: Sendable, Equatable, Codable {
        package var leaseId: String
        package var sessionId: String
        package var cidr: String
        package var prefixLength: Int
        package var scope: String
        /// An Azure scope's subscription (nil for an AWS scope).
        package var subscription: String?
        /// `aws` for an AWS scope (nil for Azure).
        package var cloud: String?
        /// An AWS scope's account (nil for Azure).
        package var accountId: String?
        package var region: String
        package var state: String
        package var cidrV6: String?
        package var prefixLengthV6: Int?
        package var expiresAt: Date?
        /// The tag to put on the network (`ipam-lease-id` = the lease id).
        package var tag: Tag
        package var subnets: [Subnet]

        package enum CodingKeys: String, CodingKey, OmittedWhenNil {
            case leaseId, sessionId, cidr, prefixLength, scope, subscription, cloud, accountId, region, state, cidrV6
            case prefixLengthV6, expiresAt, tag, subnets
            package static var omittedWhenNil: Set<String> { API.scopeOwnerMembers }
        }

        package struct Tag: Sendable, Equatable, Codable {
            package var name: String
            package var value: String
            package init(name: String, value: String) {
                self.name = name
                self.value = value
            }
        }

        package struct Subnet: Sendable, Equatable, Codable {
            package var name: String
            package var cidr: String
            package var cidrV6: String?
            package init(name: String, cidr: String, cidrV6: String?) {
                self.name = name
                self.cidr = cidr
                self.cidrV6 = cidrV6
            }
        }

        package init(
            leaseId: String, sessionId: String, cidr: String, prefixLength: Int, scope: String, subscription: String?,
            cloud: String? = nil, accountId: String? = nil, region: String, state: String, cidrV6: String?,
            prefixLengthV6: Int?, expiresAt: Date?, tag: Tag, subnets: [Subnet]
        ) {
            self.leaseId = leaseId
            self.sessionId = sessionId
            self.cidr = cidr
            self.prefixLength = prefixLength
            self.scope = scope
            self.subscription = subscription
            self.cloud = cloud
            self.accountId = accountId
            self.region = region
            self.state = state
            self.cidrV6 = cidrV6
            self.prefixLengthV6 = prefixLengthV6
            self.expiresAt = expiresAt
            self.tag = tag
            self.subnets = subnets
        }
    }

    /// What `getNewNetwork` with `"dryRun": true` answers (`NetworkPreview` in `openapi/`): the block(s) the request
    /// would be handed now, or, in `heldLease`, the lease its SessionId holds already as a replay would answer it
    /// (null for a new block). Nothing was written or held.
    package struct NetworkPreview: Sendable, Equatable, Codable {
        /// Always true: this is a preview.
        package var dryRun: Bool
        package var sessionId: String
        package var cidr: String
        package var prefixLength: Int
        package var cidrV6: String?
        package var prefixLengthV6: Int?
        package var scope: String
        /// An Azure scope's subscription (nil for an AWS scope: `cloud` and `accountId` instead).
        package var subscription: String?
        package var cloud: String?
        package var accountId: String?
        package var region: String
        package var pool: String?
        package var subnets: [Lease.Subnet]
        /// The lease the SessionId holds already (its state and expiry as the replay would leave them); nil for a
        /// new block. Nested, so a preview of a new block carries no lease id at all.
        package var heldLease: HeldLease?

        package enum CodingKeys: String, CodingKey, OmittedWhenNil {
            case dryRun, sessionId, cidr, prefixLength, cidrV6, prefixLengthV6, scope, subscription, cloud, accountId
            case region, pool, subnets, heldLease
            package static var omittedWhenNil: Set<String> { API.scopeOwnerMembers }
        }

        package struct HeldLease: Sendable, Equatable, Codable {
            package var leaseId: String
            package var state: String
            /// None while anchored.
            package var expiresAt: Date?

            package init(leaseId: String, state: String, expiresAt: Date?) {
                self.leaseId = leaseId
                self.state = state
                self.expiresAt = expiresAt
            }
        }

        package init(
            sessionId: String, cidr: String, prefixLength: Int, cidrV6: String?, prefixLengthV6: Int?, scope: String,
            subscription: String?, cloud: String? = nil, accountId: String? = nil, region: String, pool: String?,
            subnets: [Lease.Subnet], heldLease: HeldLease?
        ) {
            self.dryRun = true
            self.sessionId = sessionId
            self.cidr = cidr
            self.prefixLength = prefixLength
            self.cidrV6 = cidrV6
            self.prefixLengthV6 = prefixLengthV6
            self.scope = scope
            self.subscription = subscription
            self.cloud = cloud
            self.accountId = accountId
            self.region = region
            self.pool = pool
            self.subnets = subnets
            self.heldLease = heldLease
        }
    }

    /// A lease as it stands in storage (`LeaseRecord` in `openapi/`): what reading, releasing, renewing and
    /// listing answer.
    package struct LeaseRecord: Sendable, Equatable, Codable {
        package var leaseId: String?
        package var sessionId: String?
        package var cidr: String
        package var prefixLength: Int
        package var cidrV6: String?
        package var scope: String
        /// An Azure scope's subscription (nil for an AWS scope).
        package var subscription: String?
        /// `aws` for an AWS scope (nil for Azure).
        package var cloud: String?
        /// An AWS scope's account (nil for Azure).
        package var accountId: String?
        package var region: String
        package var state: String
        package var leasedAt: Date?
        /// None while anchored (an anchored lease does not expire).
        package var expiresAt: Date?
        package var anchoredAt: Date?
        package var resourceId: String?
        package var requester: String?
        package var tags: [String: String]
        /// The pool whose space the block is in (its row's, as the console's leases table shows it); nil for the
        /// scope's own space, an adopted network and a lease no row holds any more.
        package var pool: String?

        package enum CodingKeys: String, CodingKey, OmittedWhenNil {
            case leaseId, sessionId, cidr, prefixLength, cidrV6, scope, subscription, cloud, accountId, region, state
            case leasedAt, expiresAt, anchoredAt, resourceId, requester, tags, pool
            package static var omittedWhenNil: Set<String> { API.scopeOwnerMembers }
        }

        package init(
            leaseId: String?, sessionId: String?, cidr: String, prefixLength: Int, cidrV6: String?, scope: String,
            subscription: String?, cloud: String? = nil, accountId: String? = nil, region: String, state: String,
            leasedAt: Date?, expiresAt: Date?, anchoredAt: Date?, resourceId: String?, requester: String?,
            tags: [String: String], pool: String?
        ) {
            self.leaseId = leaseId
            self.sessionId = sessionId
            self.cidr = cidr
            self.prefixLength = prefixLength
            self.cidrV6 = cidrV6
            self.scope = scope
            self.subscription = subscription
            self.cloud = cloud
            self.accountId = accountId
            self.region = region
            self.state = state
            self.leasedAt = leasedAt
            self.expiresAt = expiresAt
            self.anchoredAt = anchoredAt
            self.resourceId = resourceId
            self.requester = requester
            self.tags = tags
            self.pool = pool
        }
    }

    /// One page of `GET /api/leases`; `continuation` (nil on the last page) asks for the next.
    package struct LeaseList: Sendable, Equatable, Codable {
        package var leases: [LeaseRecord]
        package var continuation: String?
        package init(leases: [LeaseRecord], continuation: String?) {
            self.leases = leases
            self.continuation = continuation
        }
    }

    /// How `releaseNetwork` and `renewLease` name a lease: by `leaseId`, or by `SessionId` in a scope (the
    /// default one unless `subscriptionId` or `accountId`, and `region`, name another). Decoded strictly.
    package struct LeaseReference: Sendable, Equatable, Codable {
        package var sessionId: String?
        package var leaseId: String?
        package var subscriptionId: String?
        /// An AWS scope's account (12 digits), where an Azure scope's `subscriptionId` goes.
        package var accountId: String?
        package var region: String?

        package enum CodingKeys: String, CodingKey, CaseIterable {
            case sessionId = "SessionId"
            case leaseId, subscriptionId, accountId, region
        }

        package init(
            sessionId: String? = nil, leaseId: String? = nil, subscriptionId: String? = nil, accountId: String? = nil,
            region: String? = nil
        ) {
            self.sessionId = sessionId
            self.leaseId = leaseId
            self.subscriptionId = subscriptionId
            self.accountId = accountId
            self.region = region
        }

        /// Only the members given (a request names what it names).
        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            if let leaseId { try container.encode(leaseId, forKey: .leaseId) }
            if let sessionId { try container.encode(sessionId, forKey: .sessionId) }
            if let subscriptionId { try container.encode(subscriptionId, forKey: .subscriptionId) }
            if let accountId { try container.encode(accountId, forKey: .accountId) }
            if let region { try container.encode(region, forKey: .region) }
        }
    }
}
