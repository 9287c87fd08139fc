import Foundation
import IPAMCore
import NetworkMath
import StrictJSON
import VendorDomain

// The request decoders as they were before the API's request types (`LeaseRequestDecoder` and
// `ReservationRequest.decode` at d37f1a8), kept unchanged but for their names as the oracle
// `LegacyRequestDecoderTests` holds `RequestValidation` to: the same request, or the same refusal, for every body.
// One rule changed on purpose since: a SessionId is checked byte by byte (`RequestRules.isValidSessionId`), which
// refuses the trailing newline the regular expression's `$` let through; the oracle checks it the same way.

enum LegacyRequestDecoder {
    static func isValidSessionId(_ text: String) -> Bool { RequestRules.isValidSessionId(text) }

    /// Parses the body into (lower-cased field name → value), refusing duplicates and non-objects.
    static func fields(_ body: [UInt8], allowed: Set<String>) throws(RequestProblem) -> [String: JSONValue] {
        guard !body.isEmpty else {
            throw RequestProblem(
                code: .invalidJSON, field: nil, message: "the request body is empty; send a JSON object")
        }
        let object: JSONValue
        do { object = try JSONValue.parse(body) } catch {
            throw RequestProblem(
                code: .invalidJSON, field: nil, message: "the request body is not valid JSON: \(error)")
        }
        return try fields(object, allowed: allowed, path: "")
    }

    static func fields(_ object: JSONValue, allowed: Set<String>, path: String) throws(RequestProblem) -> [String:
        JSONValue]
    {
        guard let members = object.objectValue else {
            throw RequestProblem(
                code: path.isEmpty ? .invalidJSON : .invalidField, field: path.isEmpty ? nil : path,
                message: path.isEmpty ? "the request body must be a JSON object" : "'\(path)' must be an object")
        }
        var fields: [String: JSONValue] = [:]
        for (rawKey, value) in members {
            let key = path.isEmpty ? rawKey : "\(path).\(rawKey)"
            let lowered = rawKey.lowercased()
            guard allowed.contains(lowered) else {
                throw RequestProblem(code: .unknownField, field: key, message: "unknown field '\(key)'")
            }
            guard fields[lowered] == nil else {
                throw RequestProblem(
                    code: .duplicateField, field: key,
                    message: "field '\(key)' appears more than once (names are case-insensitive)")
            }
            fields[lowered] = value // null is refused by the typed readers below, never silently dropped
        }
        return fields
    }

    static func string(_ fields: [String: JSONValue], _ name: String, field: String) throws(RequestProblem) -> String? {
        guard let value = fields[name] else { return nil }
        guard let text = value.stringValue else {
            throw RequestProblem(code: .invalidField, field: field, message: "'\(field)' must be a string")
        }
        return text
    }

    static func integer(_ fields: [String: JSONValue], _ name: String, field: String) throws(RequestProblem) -> Int? {
        guard let value = fields[name] else { return nil }
        // JSON Schema's integer: any number without a fractional part (21 and 21.0 alike).
        guard case .number(let lexeme) = value else {
            throw RequestProblem(code: .invalidField, field: field, message: "'\(field)' must be an integer")
        }
        if let number = Int(lexeme) { return number }
        guard let real = Double(lexeme), real.isFinite, real.rounded() == real else {
            throw RequestProblem(code: .invalidField, field: field, message: "'\(field)' must be an integer")
        }
        return Int(max(-1e9, min(1e9, real))) // out-of-range values are then refused by the range checks
    }

    static let allowedFields: Set<String> = [
        "sessionid", "prefixlength", "subscriptionid", "region", "requester", "tags", "subnets", "pool", "ipversion",
        "dualstack", "prefixlengthv6",
    ]

    /// Decodes a `getNewNetwork` body against the configuration.
    static func decode(_ body: [UInt8], configuration: IPAMConfiguration) throws(RequestProblem) -> LeaseRequest {
        let fields = try fields(body, allowed: allowedFields)
        let sessionId = try self.sessionId(fields)
        let (scope, pool) = try resolvePool(fields, configuration: configuration)
        var version = pool?.prefix.version ?? .v4
        if let text = try string(fields, "ipversion", field: "ipVersion") {
            guard let asked: IPVersion = text.lowercased() == "v4" ? .v4 : (text.lowercased() == "v6" ? .v6 : nil)
            else {
                throw RequestProblem(
                    code: .invalidField, field: "ipVersion", message: "'ipVersion' must be \"v4\" or \"v6\"")
            }
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
        let length = try integer(fields, "prefixlength", field: "prefixLength") ?? limits.default
        guard (limits.min...limits.max).contains(length) else {
            throw RequestProblem(
                code: .invalidPrefixLength, field: "prefixLength",
                message:
                    "'prefixLength' must be between \(limits.min) and \(limits.max)\(pool.map { " in pool '\($0.name)'" } ?? ""), got \(length)"
            )
        }
        let (requester, tags) = try requesterAndTags(fields)
        var subnets: [LeaseRequest.SubnetRequest] = []
        if let raw = fields["subnets"] {
            guard let list = raw.arrayValue, list.count <= 64 else {
                throw RequestProblem(
                    code: .invalidField, field: "subnets",
                    message: "'subnets' must be an array of at most 64 {name, prefixLength}")
            }
            for (index, item) in list.enumerated() {
                let entry = try Self.fields(item, allowed: ["name", "prefixlength"], path: "subnets[\(index)]")
                guard let name = try string(entry, "name", field: "subnets[\(index)].name"), !name.isEmpty,
                    name.unicodeScalars.count <= 80
                else {
                    throw RequestProblem(
                        code: .invalidField, field: "subnets[\(index)].name",
                        message: "subnet \(index) needs a name of 1–80 characters")
                }
                guard let subnetLength = try integer(entry, "prefixlength", field: "subnets[\(index)].prefixLength")
                else {
                    throw RequestProblem(
                        code: .missingField, field: "subnets[\(index)].prefixLength",
                        message: "subnet '\(name)' needs a prefixLength")
                }
                // Azure's limits for a subnet: what the block's version allows (a well-formed length of the other version is 422).
                guard (0...64).contains(subnetLength) else {
                    throw RequestProblem(
                        code: .invalidField, field: "subnets[\(index)].prefixLength",
                        message: "subnet '\(name)' prefixLength must be 0–64")
                }
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
                        code: .invalidField, field: "subnets[\(index)].name",
                        message: "subnet name '\(name)' is used twice")
                }
                subnets.append(.init(name: name, prefixLength: subnetLength))
            }
            let probe = IPPrefix(address: IPAddress(version: version, value: 0), length: length)!
            guard FreeSpace.layout(subnets.map { ($0.name, $0.prefixLength) }, in: probe) != nil else {
                throw RequestProblem(
                    code: .subnetsDoNotFit, field: "subnets", message: "the subnets do not fit in a /\(length)")
            }
        }
        if let pool {
            for required in configuration.pools.lineage(pool.name).flatMap(\.rules.requiredTags)
            where tags[required] == nil {
                throw RequestProblem(
                    code: .tagRequired, field: "tags.\(required)",
                    message: "pool '\(pool.name)' requires the tag '\(required)'")
            }
        }
        var request = LeaseRequest(
            sessionId: sessionId, scope: scope, prefixLength: length, requester: requester, tags: tags, subnets: subnets
        )
        request.pool = pool?.name
        request.ipVersion = version
        request.dualStackV6Length = try dualStack(fields, request, configuration: configuration)
        return request
    }

    /// The IPv6 block's length of a dual-stack request (`dualStack: true`), nil for a lease of one block.
    ///
    /// A dual-stack lease is an IPv4 block and an IPv6 block of the scope's own space: not of a pool (a pool is
    /// one range of one version), and never with `ipVersion: "v6"` (its first block is the IPv4 one).
    static func dualStack(_ fields: [String: JSONValue], _ request: LeaseRequest, configuration: IPAMConfiguration)
        throws(RequestProblem) -> Int?
    {
        var asked = false
        if let value = fields["dualstack"] {
            guard case .bool(let flag) = value else {
                throw RequestProblem(
                    code: .invalidField, field: "dualStack", message: "'dualStack' must be true or false")
            }
            asked = flag
        }
        let length = try integer(fields, "prefixlengthv6", field: "prefixLengthV6")
        guard asked else {
            if length != nil {
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
        let v6 = length ?? limits.default
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

    /// The scope and the pool a request names: `pool` alone names its scope too; with `subscriptionId` or
    /// `region`, they must be the pool's.
    static func resolvePool(_ fields: [String: JSONValue], configuration: IPAMConfiguration)
        throws(RequestProblem) -> (Scope, Pool?)
    {
        guard let name = try string(fields, "pool", field: "pool") else {
            return (try resolveScope(fields, configuration: configuration), nil)
        }
        guard let pool = configuration.pools.pools[name] else {
            let known = configuration.pools.pools.keys.sorted()
            throw RequestProblem(
                code: .unknownPool, field: "pool",
                message: known.isEmpty
                    ? "no pools are configured (POOLS_CONFIG); leave 'pool' out"
                    : "no pool is named '\(name)' (configured: \(known.joined(separator: ", ")))")
        }
        if fields["subscriptionid"] != nil || fields["region"] != nil {
            let scope = try resolveScope(fields, configuration: configuration)
            guard scope == pool.scope else {
                throw RequestProblem(
                    code: .unknownPool, field: "pool", message: "pool '\(name)' is in \(pool.scope), not in \(scope)")
            }
        }
        return (pool.scope, pool)
    }

    /// The optional `requester` and `tags` of a lease request.
    static func requesterAndTags(_ fields: [String: JSONValue]) throws(RequestProblem) -> (String?, [String: String]) {
        let requester = try string(fields, "requester", field: "requester")
        if let requester, requester.unicodeScalars.count > 256 || hasControlCharacters(requester) {
            throw RequestProblem(
                code: .invalidField, field: "requester", message: "'requester' must be at most 256 printable characters"
            )
        }
        var tags: [String: String] = [:]
        if let raw = fields["tags"] {
            guard let object = raw.objectValue else {
                throw RequestProblem(code: .invalidField, field: "tags", message: "'tags' must be an object of strings")
            }
            guard object.count <= 32 else {
                throw RequestProblem(code: .invalidField, field: "tags", message: "at most 32 tags")
            }
            for (key, value) in object {
                guard let text = value.stringValue, !key.isEmpty, key.unicodeScalars.count <= 128,
                    text.unicodeScalars.count <= 256
                else {
                    throw RequestProblem(
                        code: .invalidField, field: "tags.\(key)",
                        message: "tag '\(key)' must be a string of at most 256 characters (names 1–128)")
                }
                // Tags end up in Azure, logs, webhooks and the console: nothing that could forge a line or reorder text.
                guard !hasControlCharacters(key) else {
                    throw RequestProblem(
                        code: .invalidField, field: "tags",
                        message: "a tag name holds a control character; names and values must be printable")
                }
                guard !hasControlCharacters(text) else {
                    throw RequestProblem(
                        code: .invalidField, field: "tags.\(key)",
                        message: "tag '\(key)' holds a control character; values must be printable")
                }
                tags[key] = text
            }
        }
        return (requester, tags)
    }

    /// True when `text` holds a control character (C0, DEL, C1), a line or paragraph separator, or a
    /// bidirectional embedding, override or isolate (text that displays other than it reads).
    static func hasControlCharacters(_ text: String) -> Bool {
        text.unicodeScalars.contains { scalar in
            switch scalar.properties.generalCategory {
            case .control, .lineSeparator, .paragraphSeparator: return true
            default: return (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
            }
        }
    }

    static let adoptionFields: Set<String> = [
        "sessionid", "cidr", "cidrv6", "subscriptionid", "region", "requester", "tags", "resourceid",
    ]

    /// Decodes an `adoptNetwork` body: the block as it is (any size, inside the scope's supernets) and its VNet.
    static func decodeAdoption(_ body: [UInt8], configuration: IPAMConfiguration) throws(RequestProblem)
        -> LeaseRequest
    {
        let fields = try fields(body, allowed: adoptionFields)
        let sessionId = try self.sessionId(fields)
        guard let cidr = try string(fields, "cidr", field: "cidr") else {
            throw RequestProblem(
                code: .missingField, field: "cidr", message: "'cidr' is required: the existing network's block")
        }
        let prefix: IPPrefix
        do { prefix = try IPPrefix(parsing: cidr) } catch {
            throw RequestProblem(code: .invalidField, field: "cidr", message: "\(error)")
        }
        let scope = try resolveScope(fields, configuration: configuration)
        let (requester, tags) = try requesterAndTags(fields)
        let resourceId = try string(fields, "resourceid", field: "resourceId")
        if let resourceId {
            let parts = resourceId.split(separator: "/", omittingEmptySubsequences: false)
            guard resourceId.count <= 1024, parts.count == 9, parts[0].isEmpty,
                parts[1].lowercased() == "subscriptions", parts[3].lowercased() == "resourcegroups",
                parts[5].lowercased() == "providers", parts[6].lowercased() == "microsoft.network",
                parts[7].lowercased() == "virtualnetworks",
                !parts[2].isEmpty, !parts[4].isEmpty, !parts[8].isEmpty
            else {
                throw RequestProblem(
                    code: .invalidField, field: "resourceId",
                    message:
                        "'resourceId' must be a VNet's resource id: /subscriptions/{id}/resourceGroups/{group}/providers/Microsoft.Network/virtualNetworks/{name}"
                )
            }
        }
        var request = LeaseRequest(
            sessionId: sessionId, scope: scope, prefixLength: prefix.length, requester: requester, tags: tags,
            subnets: [])
        request.adoption = LeaseRequest.Adoption(prefix: prefix, resourceId: resourceId)
        if let text = try string(fields, "cidrv6", field: "cidrV6") {
            let v6: IPPrefix
            do { v6 = try IPPrefix(parsing: text) } catch {
                throw RequestProblem(code: .invalidField, field: "cidrV6", message: "\(error)")
            }
            guard prefix.version == .v4, v6.version == .v6 else {
                throw RequestProblem(
                    code: .invalidCombination, field: "cidrV6",
                    message:
                        "a dual-stack network is adopted with its IPv4 block as 'cidr' and its IPv6 block as 'cidrV6'")
            }
            request.adoption?.prefixV6 = v6
        }
        return request
    }

    static func sessionId(_ fields: [String: JSONValue]) throws(RequestProblem) -> String {
        guard let sessionId = try string(fields, "sessionid", field: "SessionId") else {
            throw RequestProblem(code: .missingField, field: "SessionId", message: "'SessionId' is required")
        }
        guard isValidSessionId(sessionId) else {
            throw RequestProblem(
                code: .invalidSessionId, field: "SessionId",
                message: "'SessionId' must be 1–128 characters of A–Z a–z 0–9 . _ : @ -")
        }
        return sessionId
    }

    /// The scope named by `subscriptionId` and/or `region`, else the default scope.
    static func resolveScope(_ fields: [String: JSONValue], configuration: IPAMConfiguration)
        throws(RequestProblem) -> Scope
    {
        let subscription = try string(fields, "subscriptionid", field: "subscriptionId")?.lowercased()
        let region = try string(fields, "region", field: "region")?.lowercased()
        if subscription == nil && region == nil { return configuration.defaultScope }
        let candidates = configuration.scopes.keys.filter {
            (subscription == nil || $0.subscriptionId == subscription) && (region == nil || $0.region == region)
        }.sorted()
        if candidates.count == 1 { return candidates[0] }
        if candidates.isEmpty {
            throw RequestProblem(
                code: .unknownScope, field: region == nil ? "subscriptionId" : "region",
                message:
                    "no configured scope matches subscription '\(subscription ?? "*")' and region '\(region ?? "*")'")
        }
        if let preferred = candidates.first(where: { $0.subscriptionId == configuration.defaultScope.subscriptionId })
            ?? candidates.first(where: { $0.region == configuration.defaultScope.region })
        {
            return preferred
        }
        throw RequestProblem(
            code: .ambiguousScope, field: "subscriptionId",
            message: "several scopes match; name both subscriptionId and region")
    }

    // MARK: POST /api/reservations (ReservationRequest.decode)

    static let reservationFields: Set<String> = [
        "cidr", "prefixlength", "subscriptionid", "region", "pool", "owner", "reason", "expiresat",
    ]

    /// Decodes and checks a request body (strictly: unknown fields, wrong types and bad values refused).
    static func decodeReservation(_ body: [UInt8], configuration: IPAMConfiguration, now: Date)
        throws(RequestProblem) -> ReservationRequest
    {
        do {
            let fields = try fields(body, allowed: reservationFields)
            func text(_ name: String, _ field: String, limit: Int, required: Bool) throws(RequestProblem) -> String? {
                guard let value = fields[name] else {
                    if required {
                        throw RequestProblem(code: .missingField, field: field, message: "'\(field)' is required")
                    }
                    return nil
                }
                guard let text = value.stringValue, !text.isEmpty, text.count <= limit,
                    !text.contains(where: { $0.isNewline })
                else {
                    throw RequestProblem(
                        code: .invalidField, field: field,
                        message: "'\(field)' must be a string of 1–\(limit) characters on one line")
                }
                return text
            }
            let (scope, pool) = try resolvePool(fields, configuration: configuration)
            let owner = try text("owner", "owner", limit: 128, required: true)!
            let reason = try text("reason", "reason", limit: 256, required: true)!
            var prefix: IPPrefix? = nil
            if let cidr = try text("cidr", "cidr", limit: 64, required: false) {
                do { prefix = try IPPrefix(parsing: cidr) } catch {
                    throw RequestProblem(code: .invalidField, field: "cidr", message: "\(error)")
                }
            }
            var length = prefix?.length ?? 0
            if let raw = fields["prefixlength"] {
                guard prefix == nil else {
                    throw RequestProblem(
                        code: .invalidField, field: "prefixLength", message: "give 'cidr' or 'prefixLength', not both")
                }
                guard case .number(let lexeme) = raw, let value = Int(lexeme), (1...128).contains(value) else {
                    throw RequestProblem(
                        code: .invalidPrefixLength, field: "prefixLength",
                        message: "'prefixLength' must be a whole number from 1 to 128")
                }
                length = value
            }
            guard prefix != nil || fields["prefixlength"] != nil else {
                throw RequestProblem(code: .missingField, field: "cidr", message: "give 'cidr' or 'prefixLength'")
            }
            var expiresAt: Date? = nil
            if let text = try text("expiresat", "expiresAt", limit: 64, required: false) {
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
                scope: scope, prefix: prefix, prefixLength: length, owner: owner, reason: reason, expiresAt: expiresAt,
                pool: pool?.name)
        }
    }
}
