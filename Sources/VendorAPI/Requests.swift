package import IPAMCore
internal import StrictJSON

/// The request bodies of `getNewNetwork`, `adoptNetwork` and `reserve`, decoded by `WireDecoder.strict`.
///
/// Decoding refuses at once a body that is not a JSON object of the type's members (a member it does not declare,
/// a name given twice). Each member is then checked by itself: its JSON type (`null` is no value), and the limits
/// its schema states (a SessionId's characters, printable text, a tag's or a subnet's lengths). A member refused
/// there is kept in `refusals`, not thrown: the Vendor's validation raises it when it reads that member, after
/// what it checks before (the scope, the pool, other members), so a body with several faults is refused for the
/// one the Vendor has always named first. Encoding writes only the members given.
extension API {
    /// Members of a decoded request refused by themselves, by member name, until the validation reads them.
    package struct Refusals: Sendable, Equatable {
        var problems: [String: RequestProblem] = [:]

        package init() {}

        /// Throws the refusal of `member`, if it was refused.
        package func check(_ member: String) throws(RequestProblem) {
            if let problem = problems[member] { throw problem }
        }

        /// True when `member` was sent and refused.
        package func contains(_ member: String) -> Bool { problems[member] != nil }

        /// `decode`'s value, or nil with its refusal kept under `member` (the first one).
        mutating func keep<T>(_ member: String, _ decode: () throws -> T?) throws -> T? {
            do { return try decode() } catch let problem as RequestProblem {
                if problems[member] == nil { problems[member] = problem }
                return nil
            }
        }
    }

    /// `POST /api/getNewNetwork` (`GetNewNetworkRequest` in `openapi/`).
    package struct NewNetworkRequest: Sendable, Equatable, Codable {
        /// Empty when refused (see `refusals`).
        package var sessionId: String
        package var prefixLength: Int?
        package var ipVersion: String?
        package var dualStack: Bool?
        package var prefixLengthV6: Int?
        package var subscriptionId: String?
        /// An AWS scope's account (12 digits), where an Azure scope's `subscriptionId` goes.
        package var accountId: String?
        package var region: String?
        package var requester: String?
        package var tags: Tags?
        package var pool: String?
        /// The layout; when an item is refused (`refusals` under `subnets[]`), the items before it.
        package var subnets: [Subnet]?
        /// A preview: answer the block that would be handed out, writing and holding nothing (not part of the
        /// request hash: a dry run and the real request are the same request).
        package var dryRun: Bool?
        /// What decoding refused, by member (`subnets[]` for an item of `subnets`).
        package var refusals = Refusals()

        package enum CodingKeys: String, CodingKey, CaseIterable {
            case sessionId = "SessionId"
            case prefixLength, ipVersion, dualStack, prefixLengthV6, subscriptionId, accountId, region, requester, tags
            case pool, subnets, dryRun
        }

        /// One subnet of the layout to carve in the block.
        package struct Subnet: Sendable, Equatable, Codable {
            package var name: String
            package var prefixLength: Int

            package enum CodingKeys: String, CodingKey, CaseIterable { case name, prefixLength }

            package init(name: String, prefixLength: Int) {
                self.name = name
                self.prefixLength = prefixLength
            }

            /// A name of 1–80 characters and a length of 0–64 (what else a length must be depends on the block).
            package init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                let path = WireDecoder.name(decoder.codingPath)
                let index = decoder.codingPath.last?.intValue ?? 0
                guard let name = try container.decodeIfPresent(String.self, forKey: .name), !name.isEmpty,
                    name.unicodeScalars.count <= 80
                else {
                    throw RequestProblem(
                        code: .invalidField, field: path + ".name",
                        message: "subnet \(index) needs a name of 1–80 characters")
                }
                guard let length = try container.decodeIfPresent(Int.self, forKey: .prefixLength) else {
                    throw RequestProblem(
                        code: .missingField, field: path + ".prefixLength",
                        message: "subnet '\(name)' needs a prefixLength")
                }
                guard (0...64).contains(length) else {
                    throw RequestProblem(
                        code: .invalidField, field: path + ".prefixLength",
                        message: "subnet '\(name)' prefixLength must be 0–64")
                }
                self.init(name: name, prefixLength: length)
            }
        }

        package init(
            sessionId: String, prefixLength: Int? = nil, ipVersion: String? = nil, dualStack: Bool? = nil,
            prefixLengthV6: Int? = nil, subscriptionId: String? = nil, accountId: String? = nil, region: String? = nil,
            requester: String? = nil, tags: Tags? = nil, pool: String? = nil, subnets: [Subnet]? = nil,
            dryRun: Bool? = nil
        ) {
            self.sessionId = sessionId
            self.prefixLength = prefixLength
            self.ipVersion = ipVersion
            self.dualStack = dualStack
            self.prefixLengthV6 = prefixLengthV6
            self.subscriptionId = subscriptionId
            self.accountId = accountId
            self.region = region
            self.requester = requester
            self.tags = tags
            self.pool = pool
            self.subnets = subnets
            self.dryRun = dryRun
        }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            var refusals = Refusals()
            sessionId =
                try refusals.keep("SessionId") { try Members.sessionId(container, .sessionId) } ?? ""
            pool = try refusals.keep("pool") { try container.decodeIfPresent(String.self, forKey: .pool) }
            subscriptionId = try refusals.keep("subscriptionId") {
                try container.decodeIfPresent(String.self, forKey: .subscriptionId)
            }
            accountId = try refusals.keep("accountId") {
                try container.decodeIfPresent(String.self, forKey: .accountId)
            }
            region = try refusals.keep("region") { try container.decodeIfPresent(String.self, forKey: .region) }
            ipVersion = try refusals.keep("ipVersion") {
                try container.decodeIfPresent(String.self, forKey: .ipVersion).map { text in
                    guard ["v4", "v6"].contains(text.lowercased()) else {
                        throw RequestProblem(
                            code: .invalidField, field: "ipVersion", message: "'ipVersion' must be \"v4\" or \"v6\"")
                    }
                    return text
                }
            }
            prefixLength = try refusals.keep("prefixLength") {
                try container.decodeIfPresent(Int.self, forKey: .prefixLength)
            }
            requester = try refusals.keep("requester") { try Members.requester(container, .requester) }
            tags = try refusals.keep("tags") { try container.decodeIfPresent(Tags.self, forKey: .tags) }
            if container.contains(.subnets) {
                let items = try refusals.keep("subnets") { () throws -> (any UnkeyedDecodingContainer)? in
                    guard let list = try container.decode(JSONValue.self, forKey: .subnets).arrayValue,
                        list.count <= 64
                    else {
                        throw RequestProblem(
                            code: .invalidField, field: "subnets",
                            message: "'subnets' must be an array of at most 64 {name, prefixLength}")
                    }
                    return try container.nestedUnkeyedContainer(forKey: .subnets)
                }
                if var items {
                    var subnets: [Subnet] = []
                    while !items.isAtEnd, let subnet = try refusals.keep("subnets[]", { try items.decode(Subnet.self) })
                    {
                        subnets.append(subnet)
                    }
                    self.subnets = subnets
                }
            }
            dualStack = try refusals.keep("dualStack") { try container.decodeIfPresent(Bool.self, forKey: .dualStack) }
            prefixLengthV6 = try refusals.keep("prefixLengthV6") {
                try container.decodeIfPresent(Int.self, forKey: .prefixLengthV6)
            }
            dryRun = try refusals.keep("dryRun") { try container.decodeIfPresent(Bool.self, forKey: .dryRun) }
            self.refusals = refusals
        }

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(sessionId, forKey: .sessionId)
            if let prefixLength { try container.encode(prefixLength, forKey: .prefixLength) }
            if let ipVersion { try container.encode(ipVersion, forKey: .ipVersion) }
            if let dualStack { try container.encode(dualStack, forKey: .dualStack) }
            if let prefixLengthV6 { try container.encode(prefixLengthV6, forKey: .prefixLengthV6) }
            if let subscriptionId { try container.encode(subscriptionId, forKey: .subscriptionId) }
            if let accountId { try container.encode(accountId, forKey: .accountId) }
            if let region { try container.encode(region, forKey: .region) }
            if let requester { try container.encode(requester, forKey: .requester) }
            if let tags { try container.encode(tags, forKey: .tags) }
            if let pool { try container.encode(pool, forKey: .pool) }
            if let subnets { try container.encode(subnets, forKey: .subnets) }
            if let dryRun { try container.encode(dryRun, forKey: .dryRun) }
        }
    }

    /// `POST /api/adoptNetwork` (`AdoptNetworkRequest` in `openapi/`): an existing network's block as it is.
    package struct AdoptNetworkRequest: Sendable, Equatable, Codable {
        /// Empty when refused (see `refusals`).
        package var sessionId: String
        /// The block as sent (the validation parses it); empty when refused.
        package var cidr: String
        package var cidrV6: String?
        package var subscriptionId: String?
        /// An AWS scope's account (12 digits), where an Azure scope's `subscriptionId` goes.
        package var accountId: String?
        package var region: String?
        package var requester: String?
        package var tags: Tags?
        /// The network's id: an Azure VNet's resource id, or an AWS VPC's id (`vpc-…`).
        package var resourceId: String?
        /// What decoding refused, by member.
        package var refusals = Refusals()

        package enum CodingKeys: String, CodingKey, CaseIterable {
            case sessionId = "SessionId"
            case cidr, cidrV6, subscriptionId, accountId, region, requester, tags, resourceId
        }

        package init(
            sessionId: String, cidr: String, cidrV6: String? = nil, subscriptionId: String? = nil,
            accountId: String? = nil, region: String? = nil, requester: String? = nil, tags: Tags? = nil,
            resourceId: String? = nil
        ) {
            self.sessionId = sessionId
            self.cidr = cidr
            self.cidrV6 = cidrV6
            self.subscriptionId = subscriptionId
            self.accountId = accountId
            self.region = region
            self.requester = requester
            self.tags = tags
            self.resourceId = resourceId
        }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            var refusals = Refusals()
            sessionId = try refusals.keep("SessionId") { try Members.sessionId(container, .sessionId) } ?? ""
            cidr =
                try refusals.keep("cidr") {
                    guard container.contains(.cidr) else {
                        throw RequestProblem(
                            code: .missingField, field: "cidr",
                            message: "'cidr' is required: the existing network's block")
                    }
                    return try container.decode(String.self, forKey: .cidr)
                } ?? ""
            subscriptionId = try refusals.keep("subscriptionId") {
                try container.decodeIfPresent(String.self, forKey: .subscriptionId)
            }
            accountId = try refusals.keep("accountId") {
                try container.decodeIfPresent(String.self, forKey: .accountId)
            }
            region = try refusals.keep("region") { try container.decodeIfPresent(String.self, forKey: .region) }
            requester = try refusals.keep("requester") { try Members.requester(container, .requester) }
            tags = try refusals.keep("tags") { try container.decodeIfPresent(Tags.self, forKey: .tags) }
            resourceId = try refusals.keep("resourceId") {
                try container.decodeIfPresent(String.self, forKey: .resourceId).map { id in
                    // Which of the two a scope takes is the validation's to say, once the scope is known.
                    guard Members.isVNetResourceId(id) || Members.isVPCId(id) else {
                        throw Members.resourceIdProblem(id, cloud: .azure)!
                    }
                    return id
                }
            }
            cidrV6 = try refusals.keep("cidrV6") { try container.decodeIfPresent(String.self, forKey: .cidrV6) }
            self.refusals = refusals
        }

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(sessionId, forKey: .sessionId)
            try container.encode(cidr, forKey: .cidr)
            if let cidrV6 { try container.encode(cidrV6, forKey: .cidrV6) }
            if let subscriptionId { try container.encode(subscriptionId, forKey: .subscriptionId) }
            if let accountId { try container.encode(accountId, forKey: .accountId) }
            if let region { try container.encode(region, forKey: .region) }
            if let requester { try container.encode(requester, forKey: .requester) }
            if let tags { try container.encode(tags, forKey: .tags) }
            if let resourceId { try container.encode(resourceId, forKey: .resourceId) }
        }
    }

    /// `POST /api/reservations` (`ReservationRequest` in `openapi/`): a `cidr`, or the smallest free block of
    /// `prefixLength`, held for `owner` because of `reason`.
    package struct ReservationRequest: Sendable, Equatable, Codable {
        /// The range as sent (the validation parses it).
        package var cidr: String?
        package var prefixLength: Int?
        package var subscriptionId: String?
        /// An AWS scope's account (12 digits), where an Azure scope's `subscriptionId` goes.
        package var accountId: String?
        package var region: String?
        package var pool: String?
        /// Empty when refused (see `refusals`).
        package var owner: String
        /// Empty when refused (see `refusals`).
        package var reason: String
        /// ISO 8601, as sent (the validation reads it).
        package var expiresAt: String?
        /// What decoding refused, by member.
        package var refusals = Refusals()

        package enum CodingKeys: String, CodingKey, CaseIterable {
            case cidr, prefixLength, subscriptionId, accountId, region, pool, owner, reason, expiresAt
        }

        package init(
            cidr: String? = nil, prefixLength: Int? = nil, subscriptionId: String? = nil, accountId: String? = nil,
            region: String? = nil, pool: String? = nil, owner: String, reason: String, expiresAt: String? = nil
        ) {
            self.cidr = cidr
            self.prefixLength = prefixLength
            self.subscriptionId = subscriptionId
            self.accountId = accountId
            self.region = region
            self.pool = pool
            self.owner = owner
            self.reason = reason
            self.expiresAt = expiresAt
        }

        /// Texts of one line and a length (a text that is not a string is refused as one of the wrong length),
        /// and a `prefixLength` from 1 to 128 written as a whole number (`24`, not `24.0`).
        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            var refusals = Refusals()
            func text(_ key: CodingKeys, limit: Int, required: Bool) throws -> String? {
                try refusals.keep(key.stringValue) {
                    guard let raw = try container.decodeIfPresent(JSONValue.self, forKey: key) else {
                        guard !required else {
                            throw RequestProblem(
                                code: .missingField, field: key.stringValue,
                                message: "'\(key.stringValue)' is required")
                        }
                        return nil
                    }
                    guard let text = raw.stringValue, !text.isEmpty, text.count <= limit,
                        !text.contains(where: { $0.isNewline })
                    else {
                        throw RequestProblem(
                            code: .invalidField, field: key.stringValue,
                            message: "'\(key.stringValue)' must be a string of 1–\(limit) characters on one line")
                    }
                    return text
                }
            }
            pool = try refusals.keep("pool") { try container.decodeIfPresent(String.self, forKey: .pool) }
            subscriptionId = try refusals.keep("subscriptionId") {
                try container.decodeIfPresent(String.self, forKey: .subscriptionId)
            }
            accountId = try refusals.keep("accountId") {
                try container.decodeIfPresent(String.self, forKey: .accountId)
            }
            region = try refusals.keep("region") { try container.decodeIfPresent(String.self, forKey: .region) }
            owner = try text(.owner, limit: 128, required: true) ?? ""
            reason = try text(.reason, limit: 256, required: true) ?? ""
            cidr = try text(.cidr, limit: 64, required: false)
            prefixLength = try refusals.keep("prefixLength") {
                guard let raw = try container.decodeIfPresent(JSONValue.self, forKey: .prefixLength) else { return nil }
                guard case .number(let lexeme) = raw, let length = Int(lexeme), (1...128).contains(length) else {
                    throw RequestProblem(
                        code: .invalidPrefixLength, field: "prefixLength",
                        message: "'prefixLength' must be a whole number from 1 to 128")
                }
                return length
            }
            expiresAt = try text(.expiresAt, limit: 64, required: false)
            self.refusals = refusals
        }

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            if let cidr { try container.encode(cidr, forKey: .cidr) }
            if let prefixLength { try container.encode(prefixLength, forKey: .prefixLength) }
            if let subscriptionId { try container.encode(subscriptionId, forKey: .subscriptionId) }
            if let accountId { try container.encode(accountId, forKey: .accountId) }
            if let region { try container.encode(region, forKey: .region) }
            if let pool { try container.encode(pool, forKey: .pool) }
            try container.encode(owner, forKey: .owner)
            try container.encode(reason, forKey: .reason)
            if let expiresAt { try container.encode(expiresAt, forKey: .expiresAt) }
        }
    }

    /// A request's `tags`: name and value pairs in the order sent (a name given twice is kept twice; the later
    /// one wins when the Vendor reads them), written as one object.
    package struct Tags: Sendable, Equatable, Codable, ExpressibleByDictionaryLiteral {
        package var entries: [Entry]

        package struct Entry: Sendable, Equatable {
            package var name: String
            package var value: String
            package init(_ name: String, _ value: String) {
                self.name = name
                self.value = value
            }
        }

        package init(_ entries: [Entry]) { self.entries = entries }
        package init(dictionaryLiteral elements: (String, String)...) { entries = elements.map(Entry.init) }

        /// At most 32, names of 1–128 and values of at most 256 characters, printable: tags end up in Azure,
        /// logs, webhooks and the console, so nothing that could forge a line or reorder text.
        package init(from decoder: any Decoder) throws {
            let path = WireDecoder.name(decoder.codingPath)
            guard let members = try decoder.singleValueContainer().decode(JSONValue.self).objectValue else {
                throw RequestProblem(
                    code: .invalidField, field: path, message: "'\(path)' must be an object of strings")
            }
            guard members.count <= 32 else {
                throw RequestProblem(code: .invalidField, field: path, message: "at most 32 tags")
            }
            entries = try members.map { name, value in
                guard let text = value.stringValue, !name.isEmpty, name.unicodeScalars.count <= 128,
                    text.unicodeScalars.count <= 256
                else {
                    throw RequestProblem(
                        code: .invalidField, field: "\(path).\(name)",
                        message: "tag '\(name)' must be a string of at most 256 characters (names 1–128)")
                }
                guard !RequestRules.hasControlCharacters(name) else {
                    throw RequestProblem(
                        code: .invalidField, field: path,
                        message: "a tag name holds a control character; names and values must be printable")
                }
                guard !RequestRules.hasControlCharacters(text) else {
                    throw RequestProblem(
                        code: .invalidField, field: "\(path).\(name)",
                        message: "tag '\(name)' holds a control character; values must be printable")
                }
                return Entry(name, text)
            }
        }

        /// The tags as a map (a name given twice keeps its later value).
        package var dictionary: [String: String] {
            Dictionary(entries.map { ($0.name, $0.value) }, uniquingKeysWith: { _, later in later })
        }

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(JSONValue.object(entries.map { ($0.name, .string($0.value)) }))
        }
    }

    /// Checks of members several requests share.
    package enum Members {
        /// A required `SessionId` of 1–128 characters of `A–Z a–z 0–9 . _ : @ -`.
        static func sessionId<Key: CodingKey>(_ container: KeyedDecodingContainer<Key>, _ key: Key) throws -> String {
            let id = try container.decode(String.self, forKey: key)
            guard RequestRules.isValidSessionId(id) else { throw RequestRules.invalidSessionId() }
            return id
        }

        /// An optional `requester`: a label of at most 256 printable characters.
        static func requester<Key: CodingKey>(_ container: KeyedDecodingContainer<Key>, _ key: Key) throws
            -> String?
        {
            guard let requester = try container.decodeIfPresent(String.self, forKey: key) else { return nil }
            guard requester.unicodeScalars.count <= 256, !RequestRules.hasControlCharacters(requester) else {
                throw RequestProblem(
                    code: .invalidField, field: "requester",
                    message: "'requester' must be at most 256 printable characters")
            }
            return requester
        }

        /// Why `id` cannot name a network of a `cloud` scope (an Azure scope's networks are VNets, an AWS scope's
        /// VPCs), or nil when it can.
        package static func resourceIdProblem(_ id: String, cloud: Cloud) -> RequestProblem? {
            switch cloud {
            case .azure where !isVNetResourceId(id):
                RequestProblem(
                    code: .invalidField, field: "resourceId",
                    message:
                        "'resourceId' must be a VNet's resource id: /subscriptions/{id}/resourceGroups/{group}/providers/Microsoft.Network/virtualNetworks/{name}"
                )
            case .aws where !isVPCId(id):
                RequestProblem(
                    code: .invalidField, field: "resourceId",
                    message: "'resourceId' of a network in an AWS scope must be its VPC id: vpc- and 8 or 17 hex digits"
                )
            default: nil
            }
        }

        /// An AWS VPC's id: `vpc-` and 8 or 17 lower-case hexadecimal digits.
        package static func isVPCId(_ id: String) -> Bool {
            let digits = id.utf8.dropFirst(4)
            return id.hasPrefix("vpc-") && (digits.count == 8 || digits.count == 17)
                && digits.allSatisfy {
                    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                        || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0)
                }
        }

        /// `/subscriptions/{id}/resourceGroups/{group}/providers/Microsoft.Network/virtualNetworks/{name}`.
        package static func isVNetResourceId(_ id: String) -> Bool {
            let parts = id.split(separator: "/", omittingEmptySubsequences: false)
            return id.count <= 1024 && parts.count == 9 && parts[0].isEmpty
                && parts[1].lowercased() == "subscriptions" && parts[3].lowercased() == "resourcegroups"
                && parts[5].lowercased() == "providers" && parts[6].lowercased() == "microsoft.network"
                && parts[7].lowercased() == "virtualnetworks" && !parts[2].isEmpty && !parts[4].isEmpty
                && !parts[8].isEmpty
        }
    }
}
