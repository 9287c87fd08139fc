package import Foundation
package import IPAMCore
package import Inventory
package import NetworkMath

/// The lease a caller holds, as answered by the API.
package struct LeaseAnswer: Sendable, Equatable {
    package var leaseId: String
    package var sessionId: String
    package var scope: Scope
    package var prefix: IPPrefix
    package var state: NetworkState
    package var expiresAt: Date?
    package var subnets: [(name: String, prefix: IPPrefix)]
    /// True when this call created the lease (201), false for a replay (200).
    package var created: Bool
    /// A dual-stack lease's IPv6 block, and its subnets' /64s (by the same names as `subnets`).
    package var prefixV6: IPPrefix? = nil
    package var subnetsV6: [(name: String, prefix: IPPrefix)] = []

    package init(
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

    package static func == (a: LeaseAnswer, b: LeaseAnswer) -> Bool {
        a.leaseId == b.leaseId && a.sessionId == b.sessionId && a.scope == b.scope && a.prefix == b.prefix
            && a.state == b.state
            && a.expiresAt == b.expiresAt && a.created == b.created && a.prefixV6 == b.prefixV6
            && a.subnets.map(\.name) == b.subnets.map(\.name) && a.subnets.map(\.prefix) == b.subnets.map(\.prefix)
            && a.subnetsV6.map(\.prefix) == b.subnetsV6.map(\.prefix)
    }

    /// Tag the VNet must carry so the Manager binds it to this lease.
    package static let tagName = LeaseTag.name
}

/// What `DELETE` of a lease ends with: its row as the release left it, or, once no row holds the lease (its block
/// went back to stock), the lease as its last audit event tells it.
package enum DeletedLease: Sendable, Equatable {
    case row(NetworkRow)
    case past(PastLease)
}

/// A lease no row holds any more, as its last audit event tells it: its id, session, blocks and the state the
/// event left its block in.
package struct PastLease: Sendable, Equatable {
    package let leaseId: String
    package let sessionId: String?
    package let prefix: IPPrefix
    package let prefixV6: IPPrefix?
    package let state: NetworkState

    package init(leaseId: String, sessionId: String?, prefix: IPPrefix, prefixV6: IPPrefix?, state: NetworkState) {
        self.leaseId = leaseId
        self.sessionId = sessionId
        self.prefix = prefix
        self.prefixV6 = prefixV6
        self.state = state
    }
}
