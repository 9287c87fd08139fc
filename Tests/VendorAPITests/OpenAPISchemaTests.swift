import Foundation
import IPAMCore
import StrictJSON
import Testing

@testable import VendorAPI

/// The answer and request types have exactly the properties their schema in `openapi/` lists, both ways, and
/// every member a schema requires is written even when optional values are absent.
@Suite("openapi/ schemas agree with the answer types")
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

    /// The member names `value` is written with.
    static func members(_ value: some Encodable) throws -> Set<String> {
        Set(try #require(WireEncoder.json(value).objectValue).map(\.0))
    }

    /// `full` writes exactly the schema's properties; `sparse` (optional values absent) still every required one.
    static func check(_ schema: [String: Any], full: some Encodable, sparse: [any Encodable]) throws {
        let documented = try properties(schema)
        #expect(try members(full) == documented)
        for value in sparse + [full] {
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
        try Self.check(try Self.schema("Lease"), full: lease, sparse: [])
        try Self.check(
            try Self.schema("Lease", "properties", "subnets", "items"), full: lease.subnets[0], sparse: [])
        try Self.check(try Self.schema("Lease", "properties", "tag"), full: lease.tag, sparse: [])
        let record = API.LeaseRecord(
            leaseId: nil, sessionId: nil, cidr: "10.0.0.0/24", prefixLength: 24, cidrV6: nil, scope: "s_r",
            subscription: "s", region: "r", state: "available", leasedAt: nil, expiresAt: nil, anchoredAt: nil,
            resourceId: nil, requester: nil, tags: [:])
        try Self.check(try Self.schema("LeaseRecord"), full: record, sparse: [])
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
        try Self.check(try Self.schema("Event"), full: event, sparse: [])
        let reservation = API.Reservation(
            reservationId: "r", cidr: "10.0.0.0/24", scope: "s_r", subscription: "s", region: "r", owner: "o",
            reason: "why", expiresAt: nil, createdAt: nil, createdBy: "c", readOnly: true)
        try Self.check(try Self.schema("Reservation"), full: reservation, sparse: [])
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
        try Self.check(item, full: report(definition), sparse: [report(nil)])
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
}
