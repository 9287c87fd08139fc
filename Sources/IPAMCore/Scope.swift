package import NetworkMath

/// A (subscription, region) pair: the unit that owns supernets and one table partition.
package struct Scope: Sendable, Hashable, Comparable, CustomStringConvertible {
    package let subscriptionId: String
    /// Lower-cased Azure region name, e.g. `eastus`.
    package let region: String

    package init(subscriptionId: String, region: String) {
        self.subscriptionId = subscriptionId.lowercased()
        self.region = region.lowercased()
    }

    /// The table partition of this scope: `{subscription}_{region}`.
    package var partitionKey: String { "\(subscriptionId)_\(region)" }
    package var description: String { "\(subscriptionId)/\(region)" }

    package static func < (lhs: Scope, rhs: Scope) -> Bool { lhs.partitionKey < rhs.partitionKey }
}

/// The address space one scope carves networks from.
package struct ScopeSupernets: Sendable, Equatable {
    package let scope: Scope
    package let supernets: [IPPrefix]
    /// Ranges never vended (gateways, on-premises space).
    package let exclude: [IPPrefix]
    /// A separate routing domain: its supernets may overlap other isolated scopes'.
    package let isolated: Bool

    package init(scope: Scope, supernets: [IPPrefix], exclude: [IPPrefix] = [], isolated: Bool = false) {
        self.scope = scope
        self.supernets = supernets
        self.exclude = exclude
        self.isolated = isolated
    }
}

/// Life-cycle states of a network row. Only `available` is ever handed out.
package enum NetworkState: String, Sendable, CaseIterable, Codable {
    case available, leased, anchored, released, quarantined, expired, occupied, reserved
}
