import Foundation
import IPAMCore
import Inventory
import NetworkMath
import StrictJSON

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

    public static func == (a: LeaseAnswer, b: LeaseAnswer) -> Bool {
        a.leaseId == b.leaseId && a.sessionId == b.sessionId && a.scope == b.scope && a.prefix == b.prefix && a.state == b.state
            && a.expiresAt == b.expiresAt && a.created == b.created
            && a.subnets.map(\.name) == b.subnets.map(\.name) && a.subnets.map(\.prefix) == b.subnets.map(\.prefix)
    }

    /// Tag the VNet must carry so the Manager binds it to this lease.
    public static let tagName = "ipam-lease-id"

    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("leaseId", .string(leaseId)), ("sessionId", .string(sessionId)), ("cidr", .string(prefix.description)),
            ("prefixLength", .number(String(prefix.length))), ("scope", .string(scope.partitionKey)),
            ("subscription", .string(scope.subscriptionId)), ("region", .string(scope.region)), ("state", .string(state.rawValue)),
        ]
        members.append(("expiresAt", expiresAt.map { .string(ISO8601.format($0)) } ?? .null))
        members.append(("tag", .object([("name", .string(Self.tagName)), ("value", .string(leaseId))])))
        members.append(("subnets", .array(subnets.map { .object([("name", .string($0.name)), ("cidr", .string($0.prefix.description))]) })))
        return .object(members)
    }
}
