internal import StrictJSON

extension API {
    /// `GET /api/pools` (`Pools` in `openapi/`).
    package struct Pools: Sendable, Equatable, Codable {
        package var pools: [Report]
        package init(pools: [Report]) { self.pools = pools }

        /// One scope, or one pool of a scope: free space, rows by size and state, stock targets, and for a pool
        /// its definition, rules, quota and usage.
        package struct Report: Sendable, Equatable, Codable {
            package var scope: String
            /// An Azure scope's subscription (nil for an AWS scope).
            package var subscription: String?
            /// `aws` for an AWS scope (nil for Azure).
            package var cloud: String?
            /// An AWS scope's account (nil for Azure).
            package var accountId: String?
            package var region: String
            package var pool: String?
            package var freeAddresses: UInt128
            /// The largest free block's prefix length; nil when nothing is free.
            package var largestFreePrefixLength: Int?
            package var freeAddressesV6: UInt128
            package var largestFreePrefixLengthV6: Int?
            package var sizes: [Size]
            /// Stock targets by size (`v4/24`), in the order of the sizes.
            package var stock: Counts
            /// The pool's definition and use; nil for a scope without pools.
            package var definition: Definition?

            package init(
                scope: String, subscription: String?, cloud: String? = nil, accountId: String? = nil, region: String,
                pool: String?, freeAddresses: UInt128, largestFreePrefixLength: Int?, freeAddressesV6: UInt128,
                largestFreePrefixLengthV6: Int?, sizes: [Size], stock: Counts, definition: Definition?
            ) {
                self.scope = scope
                self.subscription = subscription
                self.cloud = cloud
                self.accountId = accountId
                self.region = region
                self.pool = pool
                self.freeAddresses = freeAddresses
                self.largestFreePrefixLength = largestFreePrefixLength
                self.freeAddressesV6 = freeAddressesV6
                self.largestFreePrefixLengthV6 = largestFreePrefixLengthV6
                self.sizes = sizes
                self.stock = stock
                self.definition = definition
            }

            enum CodingKeys: String, CodingKey {
                case scope, subscription, cloud, accountId, region, pool, freeAddresses, largestFreePrefixLength
                case freeAddressesV6
                case largestFreePrefixLengthV6, sizes, stock
            }

            package init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                scope = try container.decode(String.self, forKey: .scope)
                subscription = try container.decodeIfPresent(String.self, forKey: .subscription)
                cloud = try container.decodeIfPresent(String.self, forKey: .cloud)
                accountId = try container.decodeIfPresent(String.self, forKey: .accountId)
                region = try container.decode(String.self, forKey: .region)
                pool = try container.decodeIfPresent(String.self, forKey: .pool)
                freeAddresses = try Self.amount(container, .freeAddresses)
                largestFreePrefixLength = try container.decodeIfPresent(Int.self, forKey: .largestFreePrefixLength)
                freeAddressesV6 = try Self.amount(container, .freeAddressesV6)
                largestFreePrefixLengthV6 = try container.decodeIfPresent(
                    Int.self, forKey: .largestFreePrefixLengthV6)
                sizes = try container.decode([Size].self, forKey: .sizes)
                stock = try container.decode(Counts.self, forKey: .stock)
                definition = pool == nil ? nil : try Definition(from: decoder)
            }

            /// An address count, up to 2^128 (a JSON number of any size).
            static func amount(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> UInt128 {
                guard case .number(let lexeme) = try container.decode(JSONValue.self, forKey: key),
                    let amount = UInt128(lexeme)
                else {
                    throw DecodingError.dataCorruptedError(
                        forKey: key, in: container, debugDescription: "not a count of addresses")
                }
                return amount
            }

            /// The members above, then (for a pool) the definition's, in one object.
            package func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(scope, forKey: .scope)
                // The scope's owner: a subscription on Azure, the cloud and account on AWS (`scopeOwnerMembers`).
                if let subscription { try container.encode(subscription, forKey: .subscription) }
                if let cloud { try container.encode(cloud, forKey: .cloud) }
                if let accountId { try container.encode(accountId, forKey: .accountId) }
                try container.encode(region, forKey: .region)
                try container.encodeIfPresent(pool, forKey: .pool)
                try container.encode(JSONValue.number(String(freeAddresses)), forKey: .freeAddresses)
                try container.encodeIfPresent(largestFreePrefixLength, forKey: .largestFreePrefixLength)
                try container.encode(JSONValue.number(String(freeAddressesV6)), forKey: .freeAddressesV6)
                try container.encodeIfPresent(largestFreePrefixLengthV6, forKey: .largestFreePrefixLengthV6)
                try container.encode(sizes, forKey: .sizes)
                try container.encode(stock, forKey: .stock)
                try definition?.encode(to: encoder)
            }
        }

        /// Rows of one size by state.
        package struct Size: Sendable, Equatable, Codable {
            package var prefixLength: Int
            /// `v4` or `v6`.
            package var ipVersion: String
            /// Rows by state, every state named (in the states' order).
            package var states: Counts

            package init(prefixLength: Int, ipVersion: String, states: Counts) {
                self.prefixLength = prefixLength
                self.ipVersion = ipVersion
                self.states = states
            }

            package init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: DynamicKey.self)
                prefixLength = try container.decode(Int.self, forKey: DynamicKey("prefixLength"))
                ipVersion = try container.decode(String.self, forKey: DynamicKey("ipVersion"))
                states = Counts(
                    try container.allKeys.filter { !["prefixLength", "ipVersion"].contains($0.stringValue) }.map {
                        Counts.Entry($0.stringValue, try container.decode(Int.self, forKey: $0))
                    })
            }

            package func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: DynamicKey.self)
                try container.encode(prefixLength, forKey: DynamicKey("prefixLength"))
                try container.encode(ipVersion, forKey: DynamicKey("ipVersion"))
                try states.encode(to: encoder)
            }
        }

        /// A pool's definition, rules, quota and usage.
        package struct Definition: Sendable, Equatable, Codable {
            package var parent: String?
            package var cidr: String
            package var owner: String?
            package var labels: [String: String]
            package var rules: Rules
            package var quota: Quota
            package var usage: [Usage]

            package init(
                parent: String?, cidr: String, owner: String?, labels: [String: String], rules: Rules, quota: Quota,
                usage: [Usage]
            ) {
                self.parent = parent
                self.cidr = cidr
                self.owner = owner
                self.labels = labels
                self.rules = rules
                self.quota = quota
                self.usage = usage
            }
        }

        package struct Rules: Sendable, Equatable, Codable {
            package var minPrefixLength: Int
            package var maxPrefixLength: Int
            package var defaultPrefixLength: Int
            /// The pool's and its ancestors' required tags.
            package var requiredTags: [String]
            /// nil: anyone.
            package var allowedRequesters: [String]?

            package init(
                minPrefixLength: Int, maxPrefixLength: Int, defaultPrefixLength: Int, requiredTags: [String],
                allowedRequesters: [String]?
            ) {
                self.minPrefixLength = minPrefixLength
                self.maxPrefixLength = maxPrefixLength
                self.defaultPrefixLength = defaultPrefixLength
                self.requiredTags = requiredTags
                self.allowedRequesters = allowedRequesters
            }
        }

        package struct Quota: Sendable, Equatable, Codable {
            package var maxLeasesPerRequester: Int?
            package var maxAddressesPerRequester: UInt64?
            package init(maxLeasesPerRequester: Int?, maxAddressesPerRequester: UInt64?) {
                self.maxLeasesPerRequester = maxLeasesPerRequester
                self.maxAddressesPerRequester = maxAddressesPerRequester
            }
        }

        package struct Usage: Sendable, Equatable, Codable {
            package var requester: String
            package var leases: Int
            package var addresses: UInt64
            package init(requester: String, leases: Int, addresses: UInt64) {
                self.requester = requester
                self.leases = leases
                self.addresses = addresses
            }
        }
    }
}
