package import Foundation
package import IPAMCore
import NetworkMath
package import VendorAPI
package import VendorDomain

/// The edge's second step with a request body: `WireDecoder.strict` has decoded it into the API's request type,
/// each member checked by itself; this checks what needs the configuration or other members (the scope and pool
/// named, lengths within their limits, which members go together, the subnets' fit) and maps the request to the
/// domain's.
///
/// It reads the members in the order the Vendor always has, raising a member's refusal (`API.Refusals`) when it
/// reads that member, so every body, one with several faults too, is refused with the code, field and message
/// it always was (`RequestValidationTests`, `Tests/conformance` and the old decoder's replay in
/// `LegacyRequestDecoderTests` pin them).
package enum RequestValidation {
    /// A `getNewNetwork` body as the domain's request.
    package static func lease(_ body: [UInt8], configuration: IPAMConfiguration) throws(RequestProblem) -> LeaseRequest
    {
        try lease(WireDecoder.strict.decode(API.NewNetworkRequest.self, from: body), configuration: configuration)
    }

    /// An `adoptNetwork` body as the domain's request.
    package static func adoption(_ body: [UInt8], configuration: IPAMConfiguration) throws(RequestProblem)
        -> LeaseRequest
    {
        try adoption(
            WireDecoder.strict.decode(API.AdoptNetworkRequest.self, from: body), configuration: configuration)
    }

    /// A `POST /api/reservations` body as the domain's request.
    package static func reservation(_ body: [UInt8], configuration: IPAMConfiguration, now: Date) throws(RequestProblem)
        -> ReservationRequest
    {
        try reservation(
            WireDecoder.strict.decode(API.ReservationRequest.self, from: body), configuration: configuration, now: now)
    }

    // MARK: getNewNetwork

    package static func lease(_ wire: API.NewNetworkRequest, configuration: IPAMConfiguration) throws(RequestProblem)
        -> LeaseRequest
    {
        let refusals = wire.refusals
        try refusals.check("SessionId")
        let (scope, pool) = try scopeAndPool(
            pool: wire.pool, subscriptionId: wire.subscriptionId, accountId: wire.accountId, region: wire.region,
            refusals: refusals,
            configuration: configuration)
        var version = pool?.prefix.version ?? .v4
        try refusals.check("ipVersion")
        if let text = wire.ipVersion {
            let asked: IPVersion = text.lowercased() == "v6" ? .v6 : .v4
            if let pool, pool.prefix.version != asked {
                throw RequestProblem(
                    code: .invalidField, field: "ipVersion",
                    message: "pool '\(pool.name)' is \(pool.prefix.version == .v4 ? "IPv4" : "IPv6") (\(pool.prefix))")
            }
            version = asked
        }
        if pool == nil, configuration.scopes[scope]?.supernets.contains(where: { $0.version == version }) == false {
            throw RequestProblem(
                code: .outsideSupernets, field: "ipVersion",
                message: "\(scope) has no \(version == .v4 ? "IPv4" : "IPv6") supernet (SUPERNETS_CONFIG)")
        }
        let limits = configuration.lengths(pool: pool?.name, version: version)
        try refusals.check("prefixLength")
        let length = wire.prefixLength ?? limits.default
        guard (limits.min...limits.max).contains(length) else {
            throw RequestProblem(
                code: .invalidPrefixLength, field: "prefixLength",
                message:
                    "'prefixLength' must be between \(limits.min) and \(limits.max)\(pool.map { " in pool '\($0.name)'" } ?? ""), got \(length)"
            )
        }
        try refusals.check("requester")
        try refusals.check("tags")
        let tags = wire.tags?.dictionary ?? [:]
        let subnets = try subnets(wire, length: length, version: version)
        if let pool {
            for required in configuration.pools.lineage(pool.name).flatMap(\.rules.requiredTags)
            where tags[required] == nil {
                throw RequestProblem(
                    code: .tagRequired, field: "tags.\(required)",
                    message: "pool '\(pool.name)' requires the tag '\(required)'")
            }
        }
        var request = LeaseRequest(
            sessionId: wire.sessionId, scope: scope, prefixLength: length, requester: wire.requester, tags: tags,
            subnets: subnets)
        request.pool = pool?.name
        request.ipVersion = version
        request.dualStackV6Length = try dualStack(wire, request, configuration: configuration)
        return request
    }

    /// The layout: each subnet within Azure's limits for the block's version, no larger than the block, named
    /// once, and all of them fitting it together.
    static func subnets(_ wire: API.NewNetworkRequest, length: Int, version: IPVersion) throws(RequestProblem)
        -> [LeaseRequest.SubnetRequest]
    {
        try wire.refusals.check("subnets")
        guard let items = wire.subnets else { return [] }
        var subnets: [LeaseRequest.SubnetRequest] = []
        for (index, subnet) in items.enumerated() {
            let name = subnet.name
            let subnetLength = subnet.prefixLength
            // Azure's limits for a subnet: what the block's version allows (a well-formed length of the other version is 422).
            guard version == .v4 || subnetLength == 64 else {
                throw RequestProblem(
                    code: .subnetsDoNotFit, field: "subnets[\(index)].prefixLength",
                    message: "subnet '\(name)' of an IPv6 block must be a /64")
            }
            guard version == .v6 || subnetLength <= 29 else {
                throw RequestProblem(
                    code: .subnetsDoNotFit, field: "subnets[\(index)].prefixLength",
                    message: "subnet '\(name)' of an IPv4 block must be at most a /29")
            }
            guard subnetLength >= length else {
                throw RequestProblem(
                    code: .subnetsDoNotFit, field: "subnets[\(index)].prefixLength",
                    message: "subnet '\(name)' (/\(subnetLength)) is larger than the /\(length) block")
            }
            guard !subnets.contains(where: { $0.name == name }) else {
                throw RequestProblem(
                    code: .invalidField, field: "subnets[\(index)].name", message: "subnet name '\(name)' is used twice"
                )
            }
            subnets.append(.init(name: name, prefixLength: subnetLength))
        }
        // An item refused by itself is raised after the ones before it.
        try wire.refusals.check("subnets[]")
        let probe = IPPrefix(address: IPAddress(version: version, value: 0), length: length)!
        guard FreeSpace.layout(subnets.map { ($0.name, $0.prefixLength) }, in: probe) != nil else {
            throw RequestProblem(
                code: .subnetsDoNotFit, field: "subnets", message: "the subnets do not fit in a /\(length)")
        }
        return subnets
    }

    /// The IPv6 block's length of a dual-stack request (`dualStack: true`), nil for a lease of one block.
    ///
    /// A dual-stack lease is an IPv4 block and an IPv6 block of the scope's own space: not of a pool (a pool is
    /// one range of one version), and never with `ipVersion: "v6"` (its first block is the IPv4 one).
    static func dualStack(
        _ wire: API.NewNetworkRequest, _ request: LeaseRequest, configuration: IPAMConfiguration
    ) throws(RequestProblem) -> Int? {
        try wire.refusals.check("dualStack")
        try wire.refusals.check("prefixLengthV6")
        guard wire.dualStack == true else {
            if wire.prefixLengthV6 != nil {
                throw RequestProblem(
                    code: .invalidCombination, field: "prefixLengthV6",
                    message:
                        "'prefixLengthV6' sizes the IPv6 block of a dual-stack lease: send \"dualStack\": true, or use ipVersion \"v6\" with prefixLength"
                )
            }
            return nil
        }
        if request.ipVersion == .v6 {
            throw RequestProblem(
                code: .invalidCombination, field: "ipVersion",
                message:
                    "a dual-stack lease holds an IPv4 block ('prefixLength') and an IPv6 block ('prefixLengthV6'); leave 'ipVersion' out"
            )
        }
        if let pool = request.pool {
            throw RequestProblem(
                code: .invalidCombination, field: "pool",
                message:
                    "pool '\(pool)' is one range of one IP version; dual-stack leases come from the scope's own space (leave 'pool' out)"
            )
        }
        guard configuration.scopes[request.scope]?.supernets.contains(where: { $0.version == .v6 }) == true else {
            throw RequestProblem(
                code: .outsideSupernets, field: "dualStack",
                message: "\(request.scope) has no IPv6 supernet (SUPERNETS_CONFIG), so no dual-stack lease")
        }
        let limits = configuration.lengths(pool: nil, version: .v6)
        let v6 = wire.prefixLengthV6 ?? limits.default
        guard (limits.min...limits.max).contains(v6) else {
            throw RequestProblem(
                code: .invalidPrefixLength, field: "prefixLengthV6",
                message: "'prefixLengthV6' must be between \(limits.min) and \(limits.max), got \(v6)")
        }
        // One /64 per subnet, in the order asked.
        guard request.subnets.isEmpty || (v6 <= 64 && request.subnets.count <= 1 << min(16, 64 - v6)) else {
            throw RequestProblem(
                code: .subnetsDoNotFit, field: "subnets",
                message:
                    "the IPv6 block gives each subnet a /64: \(request.subnets.count) of them do not fit in a /\(v6)")
        }
        return v6
    }

    // MARK: adoptNetwork

    /// The block as it is (any size, inside the scope's supernets: the domain checks that) and its VNet.
    package static func adoption(_ wire: API.AdoptNetworkRequest, configuration: IPAMConfiguration)
        throws(RequestProblem)
        -> LeaseRequest
    {
        let (scope, prefix, prefixV6) = try wire.checked(
            resolveScope: { () throws(RequestProblem) -> Scope in
                try RequestRules.resolveScope(
                    subscriptionId: wire.subscriptionId, accountId: wire.accountId, region: wire.region,
                    configuration: configuration)
            },
            cloud: { $0.cloud })
        var request = LeaseRequest(
            sessionId: wire.sessionId, scope: scope, prefixLength: prefix.length, requester: wire.requester,
            tags: wire.tags?.dictionary ?? [:], subnets: [])
        request.adoption = LeaseRequest.Adoption(prefix: prefix, resourceId: wire.resourceId)
        request.adoption?.prefixV6 = prefixV6
        return request
    }

    // MARK: Reservations

    /// A range, or the smallest free block of a size, for an owner and a reason, until an optional time in the
    /// future; a `cidr` with a `pool` must lie inside it.
    package static func reservation(_ wire: API.ReservationRequest, configuration: IPAMConfiguration, now: Date)
        throws(RequestProblem) -> ReservationRequest
    {
        let refusals = wire.refusals
        let (scope, pool) = try scopeAndPool(
            pool: wire.pool, subscriptionId: wire.subscriptionId, accountId: wire.accountId, region: wire.region,
            refusals: refusals,
            configuration: configuration)
        try refusals.check("owner")
        try refusals.check("reason")
        try refusals.check("cidr")
        var prefix: IPPrefix? = nil
        if let cidr = wire.cidr {
            do { prefix = try IPPrefix(parsing: cidr) } catch {
                throw RequestProblem(code: .invalidField, field: "cidr", message: "\(error)")
            }
        }
        var length = prefix?.length ?? 0
        let lengthGiven = wire.prefixLength != nil || refusals.contains("prefixLength")
        if lengthGiven {
            guard prefix == nil else {
                throw RequestProblem(
                    code: .invalidField, field: "prefixLength", message: "give 'cidr' or 'prefixLength', not both")
            }
            try refusals.check("prefixLength")
            length = wire.prefixLength ?? length
        }
        guard prefix != nil || lengthGiven else {
            throw RequestProblem(code: .missingField, field: "cidr", message: "give 'cidr' or 'prefixLength'")
        }
        var expiresAt: Date? = nil
        try refusals.check("expiresAt")
        if let text = wire.expiresAt {
            guard let date = ISO8601.parse(text) else {
                throw RequestProblem(
                    code: .invalidField, field: "expiresAt", message: "'expiresAt' must be an ISO 8601 time")
            }
            guard date > now else {
                throw RequestProblem(code: .invalidField, field: "expiresAt", message: "'expiresAt' is in the past")
            }
            expiresAt = date
        }
        if let prefix, let pool, !pool.prefix.contains(prefix) {
            throw RequestProblem(
                code: .outsideSupernets, field: "cidr",
                message: "\(prefix) is outside pool '\(pool.name)' (\(pool.prefix))")
        }
        return ReservationRequest(
            scope: scope, prefix: prefix, prefixLength: length, owner: wire.owner, reason: wire.reason,
            expiresAt: expiresAt, pool: pool?.name)
    }

    // MARK: Pieces several requests share

    /// The scope and the pool a request names, its members read as the Vendor always has: `pool`, then (with
    /// no pool, or a known one and a scope named beside it) `subscriptionId`, `accountId` and `region`.
    static func scopeAndPool(
        pool name: String?, subscriptionId: String?, accountId: String?, region: String?, refusals: API.Refusals,
        configuration: IPAMConfiguration
    ) throws(RequestProblem) -> (Scope, Pool?) {
        try refusals.check("pool")
        guard let name else {
            try refusals.check("subscriptionId")
            try refusals.check("accountId")
            try refusals.check("region")
            return (
                try RequestRules.resolveScope(
                    subscriptionId: subscriptionId, accountId: accountId, region: region, configuration: configuration),
                nil
            )
        }
        _ = try RequestRules.pool(named: name, configuration: configuration)
        let scopeNamed =
            subscriptionId != nil || accountId != nil || region != nil || refusals.contains("subscriptionId")
            || refusals.contains("accountId") || refusals.contains("region")
        if scopeNamed {
            try refusals.check("subscriptionId")
            try refusals.check("accountId")
            try refusals.check("region")
        }
        return try RequestRules.resolvePool(
            name, subscriptionId: subscriptionId, accountId: accountId, region: region, configuration: configuration)
    }
}
