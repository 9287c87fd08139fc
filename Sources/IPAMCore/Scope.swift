import NetworkMath

/// A (subscription, region) pair: the unit that owns supernets and one table partition.
public struct Scope: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let subscriptionId: String
    /// Lower-cased Azure region name, e.g. `eastus`.
    public let region: String

    public init(subscriptionId: String, region: String) {
        self.subscriptionId = subscriptionId.lowercased()
        self.region = region.lowercased()
    }

    /// The table partition of this scope: `{subscription}_{region}`.
    public var partitionKey: String { "\(subscriptionId)_\(region)" }
    public var description: String { "\(subscriptionId)/\(region)" }

    public static func < (lhs: Scope, rhs: Scope) -> Bool { lhs.partitionKey < rhs.partitionKey }
}

/// The address space one scope carves networks from.
public struct ScopeSupernets: Sendable, Equatable {
    public let scope: Scope
    public let supernets: [IPPrefix]
    /// Ranges never vended (gateways, on-premises space).
    public let exclude: [IPPrefix]
    /// A separate routing domain: its supernets may overlap other isolated scopes'.
    public let isolated: Bool

    public init(scope: Scope, supernets: [IPPrefix], exclude: [IPPrefix] = [], isolated: Bool = false) {
        self.scope = scope
        self.supernets = supernets
        self.exclude = exclude
        self.isolated = isolated
    }
}

/// Life-cycle states of a network row. Only `available` is ever handed out.
public enum NetworkState: String, Sendable, CaseIterable, Codable {
    case available, leased, anchored, released, quarantined, expired, occupied, reserved
}
