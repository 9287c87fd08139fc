import Crypto
import Foundation
package import NetworkMath
import StrictJSON

/// A validated `getNewNetwork` request.
package struct LeaseRequest: Sendable, Equatable {
    package let sessionId: String
    package let scope: Scope
    package let prefixLength: Int
    package let requester: String?
    package let tags: [String: String]
    package let subnets: [SubnetRequest]
    /// The pool the block comes from (`POOLS_CONFIG`); nil: the scope's space outside its pools.
    package var pool: String? = nil
    /// The block's IP version (`ipVersion`; a pool's is its range's).
    package var ipVersion: IPVersion = .v4
    /// For a dual-stack lease (`dualStack: true`), the length of its IPv6 block (`prefixLengthV6`); nil for a
    /// lease of one block. The lease's IPv4 block is `prefixLength` and `subnets`; its IPv6 block has a /64
    /// of the same name for each of them.
    package var dualStackV6Length: Int? = nil

    /// Who asks (set by the edge from the authenticated caller; not part of the request hash): the
    /// lease's owner.
    package var owner: Principal?

    /// The existing network to lease as it is (`adoptNetwork`); nil for a block to claim (`getNewNetwork`).
    package var adoption: Adoption? = nil

    /// An existing network's block and, when known, its VNet.
    package struct Adoption: Sendable, Equatable {
        package let prefix: IPPrefix
        /// The VNet's resource id: rows the Manager locked for it give way to the adoption.
        package let resourceId: String?
        /// A dual-stack VNet's IPv6 block (`cidrV6`): adopted with `prefix` as one dual-stack lease.
        package var prefixV6: IPPrefix? = nil

        package init(prefix: IPPrefix, resourceId: String?) {
            self.prefix = prefix
            self.resourceId = resourceId
        }
    }

    package struct SubnetRequest: Sendable, Equatable {
        package let name: String
        package let prefixLength: Int

        package init(name: String, prefixLength: Int) {
            self.name = name
            self.prefixLength = prefixLength
        }
    }

    package init(
        sessionId: String, scope: Scope, prefixLength: Int, requester: String?, tags: [String: String],
        subnets: [SubnetRequest]
    ) {
        self.sessionId = sessionId
        self.scope = scope
        self.prefixLength = prefixLength
        self.requester = requester
        self.tags = tags
        self.subnets = subnets
    }

    /// SHA-256 over the canonical form of everything that shapes the answer: a replay must match it.
    package var requestHash: String {
        var text = "v1|\(scope.partitionKey)|\(prefixLength)|\(requester ?? "")|"
        text += tags.keys.sorted().map { "\($0.count):\($0)=\(tags[$0]!.count):\(tags[$0]!)" }.joined(separator: ",")
        text += "|" + subnets.map { "\($0.name.count):\($0.name)/\($0.prefixLength)" }.joined(separator: ",")
        if let pool { text += "|pool|\(pool)" }
        if ipVersion == .v6 { text += "|v6" }
        if let dualStackV6Length { text += "|dual|\(dualStackV6Length)" }
        if let adoption {
            text += "|adopt|\(adoption.prefix)|\(adoption.resourceId?.lowercased() ?? "")"
            if let v6 = adoption.prefixV6 { text += "|\(v6)" }
        }
        return Self.sha256Hex(text)
    }

    /// The IPv6 half of a dual-stack request: the block it claims beside the IPv4 one (nil for one block).
    package var v6Half: LeaseRequest? {
        guard let length = dualStackV6Length else { return nil }
        var half = LeaseRequest(
            sessionId: sessionId, scope: scope, prefixLength: length, requester: requester, tags: tags,
            subnets: subnets.map { SubnetRequest(name: $0.name, prefixLength: 64) })
        half.ipVersion = .v6
        half.owner = owner
        return half
    }

    /// The SHA-256 of `text` (UTF-8) in lower-case hex.
    package static func sha256Hex(_ text: String) -> String { ASCIIFormat.hex(SHA256.hash(data: Data(text.utf8))) }
}

/// A request rejected at the edge: a machine-readable code, the field, and a message.
package struct RequestProblem: Error, Sendable, Equatable, CustomStringConvertible {
    package let code: ErrorCode
    package let field: String?
    package let message: String
    package init(code: ErrorCode, field: String?, message: String) {
        self.code = code
        self.field = field
        self.message = message
    }
    package var description: String { message }
}

/// The rules a request's values follow wherever they come from (a body, a query, a form): what a SessionId
/// may hold, which text is printable, and which scope and pool a request names.
package enum RequestRules {
    /// True for 1–128 characters of `A–Z a–z 0–9 . _ : @ -`, nothing else (not even a trailing newline, which
    /// a regular expression's `$` lets through).
    package static func isValidSessionId(_ text: String) -> Bool {
        let bytes = text.utf8
        return (1...128).contains(bytes.count) && bytes.allSatisfy(isSessionByte)
    }

    private static func isSessionByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"),
            UInt8(ascii: "@"), UInt8(ascii: "-"):
            true
        default: false
        }
    }

    /// The refusal of a SessionId that breaks `isValidSessionId` (`field` as the request spells it).
    package static func invalidSessionId(field: String = "SessionId") -> RequestProblem {
        RequestProblem(
            code: .invalidSessionId, field: field,
            message: "'SessionId' must be 1–128 characters of A–Z a–z 0–9 . _ : @ -")
    }

    /// True when `text` holds a control character (C0, DEL, C1), a line or paragraph separator, or a
    /// bidirectional embedding, override or isolate (text that displays other than it reads).
    package static func hasControlCharacters(_ text: String) -> Bool {
        text.unicodeScalars.contains { scalar in
            switch scalar.properties.generalCategory {
            case .control, .lineSeparator, .paragraphSeparator: return true
            default: return (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
            }
        }
    }

    /// The scope and the pool a request names: `pool` alone names its scope too; with `subscriptionId`,
    /// `accountId` or `region`, they must be the pool's.
    package static func resolvePool(
        _ name: String?, subscriptionId: String?, accountId: String? = nil, region: String?,
        configuration: IPAMConfiguration
    ) throws(RequestProblem) -> (Scope, Pool?) {
        guard let name else {
            return (
                try resolveScope(
                    subscriptionId: subscriptionId, accountId: accountId, region: region, configuration: configuration),
                nil
            )
        }
        let pool = try self.pool(named: name, configuration: configuration)
        if subscriptionId != nil || accountId != nil || region != nil {
            let scope = try resolveScope(
                subscriptionId: subscriptionId, accountId: accountId, region: region, configuration: configuration)
            guard scope == pool.scope else {
                throw RequestProblem(
                    code: .unknownPool, field: "pool", message: "pool '\(name)' is in \(pool.scope), not in \(scope)")
            }
        }
        return (pool.scope, pool)
    }

    /// The configured pool `name`.
    package static func pool(named name: String, configuration: IPAMConfiguration) throws(RequestProblem) -> Pool {
        guard let pool = configuration.pools.pools[name] else {
            let known = configuration.pools.pools.keys.sorted()
            throw RequestProblem(
                code: .unknownPool, field: "pool",
                message: known.isEmpty
                    ? "no pools are configured (POOLS_CONFIG); leave 'pool' out"
                    : "no pool is named '\(name)' (configured: \(known.joined(separator: ", ")))")
        }
        return pool
    }

    /// The refusal of a scope named by both a `subscriptionId` (Azure) and an `accountId` (AWS).
    package static let bothOwners = RequestProblem(
        code: .invalidField, field: "accountId",
        message: "name a scope by subscriptionId (Azure) or accountId (AWS), not both")

    /// The scope named by `subscriptionId` (Azure) or `accountId` (AWS) and/or `region`, else the default scope.
    ///
    /// An `accountId` must be 12 digits and, with it, a `region` AWS's form; both ids at once, or a
    /// `subscriptionId` no Azure scope may have (`Scope.isReservedForAWS`), are refused as invalid (400),
    /// so no spelling of one cloud's scope reaches the other's.
    package static func resolveScope(
        subscriptionId: String?, accountId: String? = nil, region: String?, configuration: IPAMConfiguration
    ) throws(RequestProblem) -> Scope {
        let subscription = subscriptionId?.lowercased()
        let region = region?.lowercased()
        let owner: (cloud: Cloud, account: String)?
        switch (subscription, accountId) {
        case (.some, .some):
            throw bothOwners
        case (.some(let subscription), nil):
            guard !Scope.isReservedForAWS(subscriptionId: subscription) else {
                throw RequestProblem(
                    code: .invalidField, field: "subscriptionId",
                    message:
                        "no Azure subscription id is 'aws' or begins with 'aws_'; name an AWS scope by accountId and region"
                )
            }
            owner = (.azure, subscription)
        case (nil, .some(let account)):
            guard Scope.isAWSAccountId(account) else {
                throw RequestProblem(
                    code: .invalidField, field: "accountId",
                    message: "'accountId' must be an AWS account id of 12 digits")
            }
            if let region, !Scope.isAWSRegion(region) {
                throw RequestProblem(
                    code: .invalidField, field: "region",
                    message: "'region' must be an AWS region (lower-case, like us-east-1) with an accountId")
            }
            owner = (.aws, account)
        case (nil, nil):
            owner = nil
        }
        if owner == nil && region == nil { return configuration.defaultScope }
        let candidates = configuration.scopes.keys.filter {
            (owner == nil || ($0.cloud == owner?.cloud && $0.account == owner?.account))
                && (region == nil || $0.region == region)
        }.sorted()
        if candidates.count == 1 { return candidates[0] }
        let ownerField = owner?.cloud == .aws ? "accountId" : "subscriptionId"
        if candidates.isEmpty {
            throw RequestProblem(
                code: .unknownScope, field: region == nil ? ownerField : "region",
                message: owner?.cloud == .aws
                    ? "no configured scope matches account '\(owner?.account ?? "*")' and region '\(region ?? "*")'"
                    : "no configured scope matches subscription '\(subscription ?? "*")' and region '\(region ?? "*")'")
        }
        let preferred = configuration.defaultScope
        if let scope = candidates.first(where: { $0.cloud == preferred.cloud && $0.account == preferred.account })
            ?? candidates.first(where: { $0.region == preferred.region })
        {
            return scope
        }
        throw RequestProblem(
            code: .ambiguousScope, field: ownerField,
            message: owner?.cloud == .aws
                ? "several scopes match; name both accountId and region"
                : "several scopes match; name both subscriptionId and region")
    }
}
