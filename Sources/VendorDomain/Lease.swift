public import Foundation
public import IPAMCore
import Inventory
public import NetworkMath

/// The lease a caller holds, as answered by the API.
public struct LeaseAnswer: Sendable, Equatable {
    public var leaseId: String
    public var sessionId: String
    public var scope: Scope
    public var prefix: IPPrefix
    public var state: NetworkState
    public var expiresAt: Date?
    public var subnets: [(name: String, prefix: IPPrefix)]
    /// True when this call created the lease (201), false for a replay (200).
    public var created: Bool
    /// A dual-stack lease's IPv6 block, and its subnets' /64s (by the same names as `subnets`).
    public var prefixV6: IPPrefix? = nil
    public var subnetsV6: [(name: String, prefix: IPPrefix)] = []

    public init(
        leaseId: String, sessionId: String, scope: Scope, prefix: IPPrefix, state: NetworkState, expiresAt: Date?,
        subnets: [(name: String, prefix: IPPrefix)], created: Bool
    ) {
        self.leaseId = leaseId
        self.sessionId = sessionId
        self.scope = scope
        self.prefix = prefix
        self.state = state
        self.expiresAt = expiresAt
        self.subnets = subnets
        self.created = created
    }

    public static func == (a: LeaseAnswer, b: LeaseAnswer) -> Bool {
        a.leaseId == b.leaseId && a.sessionId == b.sessionId && a.scope == b.scope && a.prefix == b.prefix
            && a.state == b.state
            && a.expiresAt == b.expiresAt && a.created == b.created && a.prefixV6 == b.prefixV6
            && a.subnets.map(\.name) == b.subnets.map(\.name) && a.subnets.map(\.prefix) == b.subnets.map(\.prefix)
            && a.subnetsV6.map(\.prefix) == b.subnetsV6.map(\.prefix)
    }

    /// Tag the VNet must carry so the Manager binds it to this lease.
    public static let tagName = LeaseTag.name
}
