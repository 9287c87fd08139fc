package import Foundation

extension API {
    /// `GET /api/history` (`AddressHistory` in `openapi/`): what held addresses overlapping a CIDR (or one lease's,
    /// or one VNet's), each holding with the states it went through, oldest first, a page at a time.
    package struct AddressHistory: Sendable, Equatable, Codable {
        package var entries: [HistoryEntry]
        /// The token of the next page; nil on the last.
        package var continuation: String?

        package init(entries: [HistoryEntry], continuation: String?) {
            self.entries = entries
            self.continuation = continuation
        }
    }

    /// One holding of one block (`HistoryEntry` in `openapi/`): a lease, an adoption, a reservation or a VNet's
    /// occupation, and its states with their times.
    package struct HistoryEntry: Sendable, Equatable, Codable {
        /// `lease`, `adoption`, `reservation` or `occupation`.
        package var kind: String
        package var cidr: String
        package var scope: String
        /// An Azure scope's subscription (nil for an AWS scope: `cloud` and `accountId` instead).
        package var subscription: String?
        package var cloud: String?
        package var accountId: String?
        package var region: String
        package var leaseId: String?
        package var sessionId: String?
        package var requester: String?
        /// The VNet (or VPC) when known: an anchored or adopted lease's, an occupation's.
        package var resourceId: String?
        package var reservationId: String?
        /// Oldest first; the last one's `to` is null while it lasts.
        package var states: [HistoryState]

        package enum CodingKeys: String, CodingKey, OmittedWhenNil {
            case kind, cidr, scope, subscription, cloud, accountId, region, leaseId, sessionId, requester, resourceId
            case reservationId, states
            package static var omittedWhenNil: Set<String> { API.scopeOwnerMembers }
        }

        package init(
            kind: String, cidr: String, scope: String, subscription: String?, cloud: String? = nil,
            accountId: String? = nil, region: String, leaseId: String?,
            sessionId: String?, requester: String?, resourceId: String?, reservationId: String?,
            states: [HistoryState]
        ) {
            self.kind = kind
            self.cidr = cidr
            self.scope = scope
            self.subscription = subscription
            self.cloud = cloud
            self.accountId = accountId
            self.region = region
            self.leaseId = leaseId
            self.sessionId = sessionId
            self.requester = requester
            self.resourceId = resourceId
            self.reservationId = reservationId
            self.states = states
        }
    }

    /// A state a holding was in, from when to when (`to` nil: still).
    package struct HistoryState: Sendable, Equatable, Codable {
        package var state: String
        package var from: Date
        package var to: Date?

        package init(state: String, from: Date, to: Date?) {
            self.state = state
            self.from = from
            self.to = to
        }
    }
}
