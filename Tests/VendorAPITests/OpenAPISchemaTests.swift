import Foundation
import IPAMCore
import StrictJSON
import Testing

@testable import VendorAPI

/// The answer and request types have exactly the properties their schema in `openapi/` lists, both ways, and
/// every member a schema requires is written even when optional values are absent; a request type's required
/// members are its schema's, and every member's JSON type is one its schema allows. Answers whose schema is
/// written inline in an operation (lists, removals, probes) are checked as the components are.
@Suite("openapi/ schemas agree with the answer and request types")
struct OpenAPISchemaTests {
    static let date = Date(timeIntervalSince1970: 1_800_000_000)

    /// A schema of `components/schemas`, or one inside it by `path` (`properties`/`items` steps).
    static func schema(_ name: String, _ path: String...) throws -> [String: Any] {
        let schemas = try #require(
            (try OpenAPIAgreementTests.spec()["components"] as? [String: Any])?["schemas"] as? [String: Any])
        var schema = try #require(schemas[name] as? [String: Any], "no schema \(name)")
        for step in path {
            schema = try #require(schema[step] as? [String: Any], "\(name): no \(step)")
        }
        return schema
    }

    static func properties(_ schema: [String: Any]) throws -> Set<String> {
        Set(try #require(schema["properties"] as? [String: Any]).keys)
    }

    static func required(_ schema: [String: Any]) -> Set<String> { Set(schema["required"] as? [String] ?? []) }

    /// The JSON schema of an operation's answer (`status`) or, with `status` nil, of its request body.
    static func operation(_ operationId: String, _ status: String?) throws -> [String: Any] {
        let paths = try #require(try OpenAPIAgreementTests.spec()["paths"] as? [String: Any])
        for case let item as [String: Any] in paths.values {
            for case let operation as [String: Any] in item.values
            where operation["operationId"] as? String == operationId {
                let holder: [String: Any]?
                if let status {
                    holder = (operation["responses"] as? [String: Any])?[status] as? [String: Any]
                } else {
                    holder = operation["requestBody"] as? [String: Any]
                }
                let content = try #require(holder?["content"] as? [String: Any], "\(operationId) \(status ?? "body")")
                let json = try #require(content["application/json"] as? [String: Any])
                return try resolved(try #require(json["schema"] as? [String: Any]))
            }
        }
        Issue.record("no operation \(operationId)")
        return [:]
    }

    /// `schema`, or the component its `$ref` names.
    static func resolved(_ schema: [String: Any]) throws -> [String: Any] {
        guard let reference = schema["$ref"] as? String else { return schema }
        return try Self.schema(String(try #require(reference.split(separator: "/").last)))
    }

    /// The JSON types a schema allows (`type`, or the type of its `const`).
    static func types(_ schema: [String: Any]) throws -> Set<String> {
        let schema = try resolved(schema)
        if let type = schema["type"] as? String { return [type] }
        if let types = schema["type"] as? [String] { return Set(types) }
        if schema["const"] is String { return ["string"] }
        return []
    }

    /// The JSON type of a value as JSON Schema names it.
    static func jsonType(of value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "boolean"
        case .number(let lexeme): Int(lexeme) != nil ? "integer" : "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// Each member `value` is written with has a type its schema property allows (an integer is a number too).
    static func checkTypes(_ schema: [String: Any], _ value: some Encodable) throws {
        let properties = try #require(schema["properties"] as? [String: Any])
        for (name, member) in try #require(WireEncoder.json(value).objectValue) {
            let allowed = try types(try #require(properties[name] as? [String: Any], "no property \(name)"))
            let written = jsonType(of: member)
            #expect(
                allowed.contains(written) || (written == "integer" && allowed.contains("number")),
                "\(Swift.type(of: value)).\(name) is written as \(written); the schema says \(allowed.sorted())")
        }
    }

    /// A request type against its schema, both ways: its keys are the schema's properties, `sparse` (only the
    /// required members) writes exactly the schema's required ones, and `full` every property with its type.
    static func checkRequest<Keys: CodingKey & CaseIterable>(
        _ schema: [String: Any], keys: Keys.Type, full: some Encodable, sparse: some Encodable
    ) throws {
        #expect(Set(Keys.allCases.map(\.stringValue)) == (try properties(schema)), "\(Keys.self)")
        #expect(try members(full) == (try properties(schema)), "\(type(of: full)) leaves a property out")
        #expect(try members(sparse) == required(schema), "\(type(of: sparse)): required members")
        try checkTypes(schema, full)
    }

    /// The member names `value` is written with.
    static func members(_ value: some Encodable) throws -> Set<String> {
        Set(try #require(WireEncoder.json(value).objectValue).map(\.0))
    }

    /// `full` writes exactly the schema's properties (with `alternatives`, together: an answer about an AWS scope
    /// names its owner with members an Azure one leaves out); `sparse` (optional values absent) still every
    /// required one.
    static func check(
        _ schema: [String: Any], full: some Encodable, sparse: [any Encodable], alternatives: [any Encodable] = []
    ) throws {
        let documented = try properties(schema)
        var written = try members(full)
        for value in alternatives { written.formUnion(try members(value)) }
        #expect(written == documented)
        for value in sparse + alternatives + [full] {
            let written = try members(value)
            #expect(required(schema).isSubset(of: written), "\(type(of: value)) leaves out a required member")
            #expect(written.isSubset(of: documented))
        }
    }

    static let hostIP = API.HostIP(
        ip: "10.0.0.4", principal: "vm", subnet: "app", subnetCidr: "10.0.0.0/26", leaseId: "l", allocatedAt: date,
        ipV6: "fd00::4", subnetCidrV6: "fd00::/64")

    @Test("Lease and LeaseRecord")
    func leases() throws {
        let lease = API.Lease(
            leaseId: "l", sessionId: "s", cidr: "10.0.0.0/24", prefixLength: 24, scope: "s_r", subscription: "s",
            region: "r", state: "leased", cidrV6: nil, prefixLengthV6: nil, expiresAt: nil,
            tag: .init(name: "ipam-lease-id", value: "l"),
            subnets: [.init(name: "app", cidr: "10.0.0.0/26", cidrV6: nil)])
        var awsLease = lease
        (awsLease.subscription, awsLease.cloud, awsLease.accountId) = (nil, "aws", "123456789012")
        try Self.check(try Self.schema("Lease"), full: lease, sparse: [], alternatives: [awsLease])
        try Self.checkTypes(try Self.schema("Lease"), awsLease)
        try Self.check(
            try Self.schema("Lease", "properties", "subnets", "items"), full: lease.subnets[0], sparse: [])
        try Self.check(try Self.schema("Lease", "properties", "tag"), full: lease.tag, sparse: [])
        let record = API.LeaseRecord(
            leaseId: nil, sessionId: nil, cidr: "10.0.0.0/24", prefixLength: 24, cidrV6: nil, scope: "s_r",
            subscription: "s", region: "r", state: "available", leasedAt: nil, expiresAt: nil, anchoredAt: nil,
            resourceId: nil, requester: nil, tags: [:], pool: nil)
        var awsRecord = record
        (awsRecord.subscription, awsRecord.cloud, awsRecord.accountId) = (nil, "aws", "123456789012")
        try Self.check(try Self.schema("LeaseRecord"), full: record, sparse: [], alternatives: [awsRecord])
        try Self.checkTypes(try Self.schema("LeaseRecord"), awsRecord)
        try Self.checkTypes(try Self.schema("Lease"), lease)
        try Self.checkTypes(try Self.schema("LeaseRecord"), record)
    }

    @Test("AddressHistory, HistoryEntry (Azure and AWS scopes) and HistoryState")
    func history() throws {
        let entry = API.HistoryEntry(
            kind: "lease", cidr: "10.0.0.0/24", scope: "s_r", subscription: "s", region: "r", leaseId: "l",
            sessionId: "x", requester: "team", resourceId: "/subscriptions/s/vnet", reservationId: nil,
            states: [
                .init(state: "leased", from: Self.date, to: Self.date),
                .init(state: "anchored", from: Self.date, to: nil),
            ])
        var awsEntry = entry
        (awsEntry.subscription, awsEntry.cloud, awsEntry.accountId) = (nil, "aws", "123456789012")
        try Self.check(try Self.schema("HistoryEntry"), full: entry, sparse: [], alternatives: [awsEntry])
        try Self.checkTypes(try Self.schema("HistoryEntry"), entry)
        try Self.checkTypes(try Self.schema("HistoryEntry"), awsEntry)
        try Self.check(try Self.schema("HistoryState"), full: entry.states[0], sparse: [entry.states[1]])
        try Self.checkTypes(try Self.schema("HistoryState"), entry.states[1])
        let page = API.AddressHistory(entries: [entry], continuation: "c")
        try Self.check(
            try Self.schema("AddressHistory"), full: page, sparse: [API.AddressHistory(entries: [], continuation: nil)])
        #expect(try Self.items(try Self.schema("AddressHistory"), "entries") == "HistoryEntry")
        #expect(try Self.operation("getAddressHistory", "200")["required"] as? [String] == ["entries", "continuation"])
    }

    @Test("NetworkList and Network (Azure and AWS scopes), ComplianceStatus naming every status")
    func networks() throws {
        let network = API.Network(
            resourceId: "/subscriptions/s/vnet", scope: "s_r", subscription: "s", region: "r",
            cidrs: ["10.0.0.0/24"], status: "compliant", reason: "anchored to lease l", leaseId: "l", since: Self.date)
        var aws = network
        (aws.subscription, aws.cloud, aws.accountId) = (nil, "aws", "123456789012")
        (aws.leaseId, aws.since) = (nil, nil)
        try Self.check(try Self.schema("Network"), full: network, sparse: [], alternatives: [aws])
        try Self.checkTypes(try Self.schema("Network"), network)
        try Self.checkTypes(try Self.schema("Network"), aws)
        let page = API.NetworkList(networks: [network], continuation: "c")
        try Self.check(
            try Self.schema("NetworkList"), full: page, sparse: [API.NetworkList(networks: [], continuation: nil)])
        #expect(try Self.items(try Self.schema("NetworkList"), "networks") == "Network")
        #expect(
            try Self.schema("ComplianceStatus")["enum"] as? [String] == ComplianceStatus.allCases.map(\.rawValue),
            "the statuses the Manager records, in order")
    }

    @Test("NetworkPreview: a dry run's answer, and getNewNetwork's 200 is a Lease or a NetworkPreview")
    func preview() throws {
        let preview = API.NetworkPreview(
            sessionId: "s", cidr: "10.0.0.0/24", prefixLength: 24, cidrV6: "fd00::/56", prefixLengthV6: 56,
            scope: "s_r", subscription: "s", region: "r", pool: nil,
            subnets: [.init(name: "app", cidr: "10.0.0.0/26", cidrV6: "fd00::/64")], heldLease: nil)
        var awsPreview = preview
        (awsPreview.subscription, awsPreview.cloud, awsPreview.accountId) = (nil, "aws", "123456789012")
        try Self.check(try Self.schema("NetworkPreview"), full: preview, sparse: [], alternatives: [awsPreview])
        try Self.checkTypes(try Self.schema("NetworkPreview"), awsPreview)
        try Self.check(
            try Self.schema("NetworkPreview", "properties", "subnets", "items"), full: preview.subnets[0], sparse: [])
        try Self.checkTypes(try Self.schema("NetworkPreview"), preview)
        #expect(WireEncoder.json(preview).objectValue?.first?.0 == "dryRun")
        #expect(WireEncoder.json(preview)["dryRun"] == .bool(true), "a preview always says so")
        var replayed = preview
        replayed.heldLease = .init(leaseId: "l", state: "leased", expiresAt: Self.date)
        try Self.checkTypes(try Self.schema("NetworkPreview"), replayed)
        let held = try Self.schema("NetworkPreview", "properties", "heldLease")
        try Self.check(
            held, full: replayed.heldLease!,
            sparse: [API.NetworkPreview.HeldLease(leaseId: "l", state: "anchored", expiresAt: nil)])
        try Self.checkTypes(held, replayed.heldLease!)

        let paths = try #require(try OpenAPIAgreementTests.spec()["paths"] as? [String: Any])
        let post = try #require((paths["/api/getNewNetwork"] as? [String: Any])?["post"] as? [String: Any])
        let ok = try #require((post["responses"] as? [String: Any])?["200"] as? [String: Any])
        let schema = try #require(
            ((ok["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"] as? [String: Any])
        let choices = try #require(schema["oneOf"] as? [[String: Any]]).compactMap { $0["$ref"] as? String }
        #expect(choices == ["#/components/schemas/Lease", "#/components/schemas/NetworkPreview"])
    }

    static let record = API.LeaseRecord(
        leaseId: "l", sessionId: "s", cidr: "10.0.0.0/24", prefixLength: 24, cidrV6: nil, scope: "s_r",
        subscription: "s", region: "r", state: "leased", leasedAt: date, expiresAt: nil, anchoredAt: nil,
        resourceId: nil, requester: nil, tags: [:], pool: "team-a")

    /// The component a list property's items name (`LeaseRecord` for `leases`).
    static func items(_ schema: [String: Any], _ property: String) throws -> String? {
        let list = try #require((schema["properties"] as? [String: Any])?[property] as? [String: Any])
        #expect(list["type"] as? String == "array", "\(property) is a list")
        return ((list["items"] as? [String: Any])?["$ref"] as? String)?.split(separator: "/").last.map(String.init)
    }

    @Test("the answers whose schema an operation writes inline: lists, removals, whoami, the probes")
    func inlineAnswers() throws {
        let page = try Self.operation("listLeases", "200")
        try Self.check(
            page, full: API.LeaseList(leases: [Self.record], continuation: "c"),
            sparse: [API.LeaseList(leases: [], continuation: nil)])
        try Self.checkTypes(page, API.LeaseList(leases: [Self.record], continuation: "c"))
        #expect(try Self.items(page, "leases") == "LeaseRecord")

        let event = API.Event(
            id: "e", at: Self.date, action: "leased", actor: "a", scope: "s_r", cidr: nil, cidrV6: nil, leaseId: nil,
            sessionId: nil, before: nil, after: nil, detail: nil, requestId: nil, process: nil)
        let events = try Self.operation("listEvents", "200")
        try Self.check(
            events, full: API.EventList(events: [event], continuation: "c"),
            sparse: [API.EventList(events: [], continuation: nil)])
        try Self.checkTypes(events, API.EventList(events: [event], continuation: nil))
        #expect(try Self.items(events, "events") == "Event")

        let ips = try Self.operation("listHostIPs", "200")
        try Self.check(ips, full: API.HostIPList(ips: [Self.hostIP]), sparse: [])
        try Self.checkTypes(ips, API.HostIPList(ips: []))
        #expect(try Self.items(ips, "ips") == "HostIP")

        let members = try Self.operation("listMembers", "200")
        let member = API.Member(principal: "vm", role: "owner", addedAt: Self.date)
        try Self.check(members, full: API.MemberList(leaseId: "l", members: [member]), sparse: [])
        try Self.checkTypes(members, API.MemberList(leaseId: "l", members: [member]))
        #expect(try Self.items(members, "members") == "Member")

        let removal = try Self.operation("removeMember", "200")
        try Self.check(removal, full: API.MemberRemoval(removed: true, principal: "vm", leaseId: "l"), sparse: [])
        try Self.checkTypes(removal, API.MemberRemoval(removed: false, principal: "vm", leaseId: "l"))

        let reservation = API.Reservation(
            reservationId: "r", cidr: "10.0.0.0/24", scope: "s_r", subscription: "s", region: "r", owner: "o",
            reason: "why", expiresAt: nil, createdAt: Self.date, createdBy: "c", readOnly: false)
        let reservations = try Self.operation("listReservations", "200")
        try Self.check(reservations, full: API.ReservationList(reservations: [reservation]), sparse: [])
        try Self.checkTypes(reservations, API.ReservationList(reservations: [reservation]))
        #expect(try Self.items(reservations, "reservations") == "Reservation")

        let unreservation = try Self.operation("unreserve", "200")
        let released = API.Unreservation(reservationId: "r", released: true, cidr: "10.0.0.0/24", scope: "s_r")
        try Self.check(
            unreservation, full: released, sparse: [API.Unreservation(reservationId: "r", released: false)])
        try Self.checkTypes(unreservation, released)

        let whoami = try Self.operation("whoami", "200")
        try Self.check(whoami, full: API.WhoAmI(caller: "ci"), sparse: [API.WhoAmI(caller: nil)])
        try Self.checkTypes(whoami, API.WhoAmI(caller: nil))

        let health = try Self.operation("health", "200")
        try Self.check(health, full: API.Health(), sparse: [])
        try Self.checkTypes(health, API.Health())
        let ready = try Self.operation("ready", "200")
        try Self.check(ready, full: API.Readiness(status: "ready"), sparse: [])
        try Self.checkTypes(ready, API.Readiness(status: "ready"))
    }

    @Test("the request types against their schemas, both ways: properties, required members, JSON types")
    func requests() throws {
        let newNetwork = try Self.operation("getNewNetwork", nil)
        try Self.checkRequest(
            newNetwork, keys: API.NewNetworkRequest.CodingKeys.self,
            full: API.NewNetworkRequest(
                sessionId: "s", prefixLength: 24, ipVersion: "v4", dualStack: true, prefixLengthV6: 60,
                subscriptionId: "sub", accountId: "123456789012", region: "r", requester: "me", tags: ["env": "dev"],
                pool: "p",
                subnets: [.init(name: "app", prefixLength: 26)], dryRun: true),
            sparse: API.NewNetworkRequest(sessionId: "s"))
        let subnet = try Self.schema("GetNewNetworkRequest", "properties", "subnets", "items")
        try Self.checkRequest(
            subnet, keys: API.NewNetworkRequest.Subnet.CodingKeys.self,
            full: API.NewNetworkRequest.Subnet(name: "app", prefixLength: 26),
            sparse: API.NewNetworkRequest.Subnet(name: "app", prefixLength: 26))
        for name in ["GetNewNetworkRequest", "AdoptNetworkRequest"] {
            let tags = try Self.schema(name, "properties", "tags")
            #expect(tags["type"] as? String == "object")
            #expect((tags["additionalProperties"] as? [String: Any])?["type"] as? String == "string")
        }
        try Self.checkRequest(
            try Self.operation("adoptNetwork", nil), keys: API.AdoptNetworkRequest.CodingKeys.self,
            full: API.AdoptNetworkRequest(
                sessionId: "s", cidr: "10.0.0.0/22", cidrV6: "fd00::/56", subscriptionId: "sub",
                accountId: "123456789012",
                region: "r",
                requester: "me", tags: ["a": "1"], resourceId: "/subscriptions/x"),
            sparse: API.AdoptNetworkRequest(sessionId: "s", cidr: "10.0.0.0/22"))
        try Self.checkRequest(
            try Self.operation("reserve", nil), keys: API.ReservationRequest.CodingKeys.self,
            full: API.ReservationRequest(
                cidr: "10.0.0.0/24", prefixLength: 24, subscriptionId: "sub", accountId: "123456789012", region: "r",
                pool: "p", owner: "o",
                reason: "why", expiresAt: "2030-01-01T00:00:00Z"),
            sparse: API.ReservationRequest(owner: "o", reason: "why"))
        for operation in ["releaseNetwork", "renewLease"] {
            try Self.checkRequest(
                try Self.operation(operation, nil), keys: API.LeaseReference.CodingKeys.self,
                full: API.LeaseReference(
                    sessionId: "s", leaseId: "l", subscriptionId: "sub", accountId: "123456789012", region: "r"),
                sparse: API.LeaseReference())
        }
        try Self.checkRequest(
            try Self.operation("allocateHostIP", nil), keys: API.HostIPRequest.CodingKeys.self,
            full: API.HostIPRequest(principal: "vm", subnet: "app"), sparse: API.HostIPRequest())
        try Self.checkRequest(
            try Self.operation("putMember", nil), keys: API.MemberRequest.CodingKeys.self,
            full: API.MemberRequest(role: "admin"), sparse: API.MemberRequest())
    }

    @Test("HostIP, HostIPRelease, Member, and the host-address and member requests")
    func hostIPs() throws {
        try Self.check(try Self.schema("HostIP"), full: Self.hostIP, sparse: [])
        let released = API.HostIPRelease(principal: "vm", leaseId: "l", address: Self.hostIP)
        try Self.check(
            try Self.schema("HostIPRelease"), full: released,
            sparse: [API.HostIPRelease(principal: "vm", leaseId: "l", address: nil)])
        try Self.check(
            try Self.schema("Member"), full: API.Member(principal: "vm", role: "member", addedAt: nil), sparse: [])
        #expect(
            Set(API.HostIPRequest.CodingKeys.allCases.map(\.stringValue))
                == (try Self.properties(try Self.schema("HostIPRequest"))))
        #expect(
            Set(API.LeaseReference.CodingKeys.allCases.map(\.stringValue))
                == (try Self.properties(try Self.schema("LeaseReference"))))
    }

    @Test("Event, Reservation, Error")
    func eventsReservationsErrors() throws {
        let event = API.Event(
            id: "e", at: Self.date, action: "leased", actor: "a", scope: "s_r", cidr: nil, cidrV6: nil, leaseId: nil,
            sessionId: nil, before: nil, after: nil, detail: "", requestId: nil, process: nil)
        var awsEvent = event
        (awsEvent.scope, awsEvent.cloud, awsEvent.accountId) = ("aws_123456789012_r", "aws", "123456789012")
        try Self.check(try Self.schema("Event"), full: event, sparse: [], alternatives: [awsEvent])
        try Self.checkTypes(try Self.schema("Event"), awsEvent)
        // An Azure event has neither member (as before AWS scopes); an AWS one has both, right after `scope`.
        let azureMembers = try Self.members(event)
        #expect(!azureMembers.contains("cloud") && !azureMembers.contains("accountId"))
        #expect(
            try #require(WireEncoder.json(awsEvent).objectValue).map(\.0).prefix(7) == [
                "id", "at", "action", "actor", "scope", "cloud", "accountId",
            ])
        let reservation = API.Reservation(
            reservationId: "r", cidr: "10.0.0.0/24", scope: "s_r", subscription: "s", region: "r", owner: "o",
            reason: "why", expiresAt: nil, createdAt: nil, createdBy: "c", readOnly: true)
        var awsReservation = reservation
        (awsReservation.subscription, awsReservation.cloud, awsReservation.accountId) = (nil, "aws", "123456789012")
        try Self.check(try Self.schema("Reservation"), full: reservation, sparse: [], alternatives: [awsReservation])
        try Self.check(
            try Self.schema("Error"),
            full: API.ErrorBody(.invalidField, "m", requestId: "r", field: "f", details: ["a": "b"]),
            sparse: [API.ErrorBody(.notFound, "m", requestId: "r")])
    }

    @Test("WebhookDeliveries with its cursors and dead letters")
    func webhookDeliveries() throws {
        let cursor = API.WebhookDeliveries.Cursor(
            scope: "s_r", lastEventId: nil, delivered: 1, deadLettered: 0, lastDeliveredAt: nil, attempts: 0,
            nextAttemptAt: nil, lastError: nil, holder: nil, heldUntil: nil)
        let letter = API.WebhookDeliveries.DeadLetter(
            eventId: "e", type: "leased", scope: "s_r", attempts: 3, lastError: "503", deadAt: Self.date,
            body: .object([]))
        let deliveries = API.WebhookDeliveries(
            webhook: "ops", url: "https://x", events: ["leased"], cursors: [cursor], deadLetters: [letter])
        try Self.check(try Self.schema("WebhookDeliveries"), full: deliveries, sparse: [])
        try Self.check(
            try Self.schema("WebhookDeliveries", "properties", "cursors", "items"), full: cursor, sparse: [])
        try Self.check(
            try Self.schema("WebhookDeliveries", "properties", "deadLetters", "items"), full: letter, sparse: [])
    }

    @Test("Pools: a pool's report, a scope's, its rules, quota, usage and sizes")
    func pools() throws {
        let definition = API.Pools.Definition(
            parent: nil, cidr: "10.0.0.0/8", owner: nil, labels: [:],
            rules: .init(
                minPrefixLength: 16, maxPrefixLength: 28, defaultPrefixLength: 24, requiredTags: [],
                allowedRequesters: nil),
            quota: .init(maxLeasesPerRequester: nil, maxAddressesPerRequester: nil),
            usage: [.init(requester: "r", leases: 1, addresses: 256)])
        let item = try Self.schema("Pools", "properties", "pools", "items")
        let sizeSchema = try Self.schema("Pools", "properties", "pools", "items", "properties", "sizes", "items")
        let states = Self.required(sizeSchema).subtracting(["prefixLength", "ipVersion"]).sorted()
        let size = API.Pools.Size(
            prefixLength: 24, ipVersion: "v4", states: API.Counts(states.map { API.Counts.Entry($0, 0) }))
        func report(_ definition: API.Pools.Definition?) -> API.Pools.Report {
            API.Pools.Report(
                scope: "s_r", subscription: "s", region: "r", pool: definition == nil ? nil : "team", freeAddresses: 1,
                largestFreePrefixLength: nil, freeAddressesV6: 0, largestFreePrefixLengthV6: nil, sizes: [size],
                stock: API.Counts([]), definition: definition)
        }
        var awsReport = report(definition)
        (awsReport.subscription, awsReport.cloud, awsReport.accountId) = (nil, "aws", "123456789012")
        try Self.check(item, full: report(definition), sparse: [report(nil)], alternatives: [awsReport])
        try Self.check(sizeSchema, full: size, sparse: [])
        let properties = "properties"
        try Self.check(
            try Self.schema("Pools", properties, "pools", "items", properties, "rules"), full: definition.rules,
            sparse: [])
        try Self.check(
            try Self.schema("Pools", properties, "pools", "items", properties, "quota"), full: definition.quota,
            sparse: [])
        try Self.check(
            try Self.schema("Pools", properties, "pools", "items", properties, "usage", "items"),
            full: definition.usage[0], sparse: [])
        try Self.check(try Self.schema("Pools"), full: API.Pools(pools: []), sparse: [])
    }

    @Test("Usage: samples, free blocks, forecasts of every status")
    func usage() throws {
        let runsOut = API.Usage.Outlook(
            status: "runs-out", runsOutAt: Self.date, daysLeft: 12.5, ratePerDay: -80.25, samples: 169)
        let unknown = API.Usage.Outlook(
            status: "insufficient-data", runsOutAt: nil, daysLeft: nil, ratePerDay: nil, samples: 2)
        let sample = API.Usage.Sample(
            at: Self.date, leased: .init(256), anchored: .init(512), occupied: .init(0), reserved: .init(64),
            quarantined: .init(0), available: .init(1024), free: .init(4096), leases: 3,
            freeBlocks: [.init(prefixLength: 24, count: 7)])
        let size = API.Usage.SizeForecast(prefixLength: 24, last7Days: runsOut, last30Days: unknown)
        let usage = API.Usage(
            scope: "s_r", subscription: "s", region: "r", pool: "team", ipVersion: "v4", since: Self.date,
            until: Self.date, step: 300, samples: [sample],
            forecast: .init(unusedAddresses: .init(last7Days: runsOut, last30Days: unknown), sizes: [size]))
        var sparse = usage
        sparse.pool = nil
        var awsUsage = usage
        (awsUsage.subscription, awsUsage.cloud, awsUsage.accountId) = (nil, "aws", "123456789012")
        try Self.check(try Self.schema("Usage"), full: usage, sparse: [sparse], alternatives: [awsUsage])
        try Self.checkTypes(try Self.schema("Usage"), usage)
        try Self.check(try Self.schema("UsageSample"), full: sample, sparse: [])
        try Self.checkTypes(try Self.schema("UsageSample"), sample)
        try Self.check(try Self.schema("Forecast"), full: runsOut, sparse: [unknown])
        try Self.checkTypes(try Self.schema("Forecast"), runsOut)
        try Self.check(try Self.schema("ForecastWindows"), full: usage.forecast.unusedAddresses, sparse: [])
        try Self.check(
            try Self.schema("Usage", "properties", "forecast", "properties", "sizes", "items"), full: size, sparse: [])
        var huge = sample
        huge.free = .init(UInt128.max)
        #expect(WireEncoder.json(huge)["free"] == .number(String(UInt128.max)), "an IPv6 count is written whole")
        #expect(try WireDecoder.lenient.decode(API.Usage.Sample.self, from: WireEncoder.json(huge)) == huge)
        let decoded = try WireDecoder.lenient.decode(API.Usage.self, from: WireEncoder.json(usage))
        #expect(decoded == usage)
    }
}
