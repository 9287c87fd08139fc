import Foundation
import MCP
import StrictJSON
import Testing
import VendorAPI
import Yams

@testable import MCPServer

/// The MCP tools' input schemas say what the API's requests say, both ways: each argument is a member of the
/// request type and a property of its schema in `openapi/` (and each of those an argument), of the same JSON
/// type, required when the API requires it. A member added to the API and not to a tool (or the reverse) fails.
@Suite("MCP tool input schemas agree with the API's requests")
struct ToolSchemaTests {
    /// A component of `openapi/openapi.yaml`'s `components/schemas`.
    static func component(_ name: String) throws -> [String: Any] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("openapi/openapi.yaml")
        let spec = try #require(try Yams.load(yaml: String(contentsOf: url, encoding: .utf8)) as? [String: Any])
        let schemas = try #require((spec["components"] as? [String: Any])?["schemas"] as? [String: Any])
        return try #require(schemas[name] as? [String: Any], "no schema \(name)")
    }

    /// `schema`, or the component its `$ref` names.
    static func resolved(_ schema: [String: Any]) throws -> [String: Any] {
        guard let reference = schema["$ref"] as? String else { return schema }
        return try component(String(try #require(reference.split(separator: "/").last)))
    }

    /// An openapi schema as (property → JSON types, required), the properties named as the tools name them.
    static func openapi(_ schema: [String: Any]) throws -> (properties: [String: Set<String>], required: Set<String>) {
        var properties: [String: Set<String>] = [:]
        for (name, property) in try #require(schema["properties"] as? [String: Any]) {
            let property = try resolved(try #require(property as? [String: Any]))
            let types = (property["type"] as? String).map { [$0] } ?? (property["type"] as? [String]) ?? []
            properties[IPAMTools.argumentName(name)] = Set(types)
        }
        let required = Set((schema["required"] as? [String] ?? []).map(IPAMTools.argumentName))
        return (properties, required)
    }

    /// A tool's input schema as (argument → JSON type, required), and each argument's schema.
    static func tool(_ name: String) throws -> (
        properties: [String: Set<String>], required: Set<String>, schemas: [String: [String: Value]]
    ) {
        let tool = try #require(IPAMTools.tools.first { $0.name == name }, "no tool \(name)")
        guard case .object(let schema) = tool.inputSchema else { throw Missing(what: "\(name): an object schema") }
        return try Self.schema(schema, name)
    }

    static func schema(_ schema: [String: Value], _ name: String) throws -> (
        properties: [String: Set<String>], required: Set<String>, schemas: [String: [String: Value]]
    ) {
        guard case .object(let members)? = schema["properties"] else { throw Missing(what: "\(name): properties") }
        var properties: [String: Set<String>] = [:]
        var schemas: [String: [String: Value]] = [:]
        for (key, value) in members {
            guard case .object(let property) = value, case .string(let type)? = property["type"] else {
                throw Missing(what: "\(name).\(key): a type")
            }
            properties[key] = [type]
            schemas[key] = property
        }
        let required = Set((schema["required"]?.arrayValue ?? []).compactMap(\.stringValue))
        #expect(schema["additionalProperties"] == .bool(false), "\(name) refuses unknown arguments")
        return (properties, required, schemas)
    }

    struct Missing: Error {
        let what: String
    }

    /// A tool against a request: the same names as the request type's keys and the schema's properties (but
    /// `left`, arguments the tool does not offer, and `extra`, its own), the same types, the same required ones.
    static func check<Keys: CodingKey & CaseIterable>(
        tool name: String, keys: Keys.Type, schema: [String: Any], left: Set<String> = [],
        extra: [String: Set<String>] = [:], extraRequired: Set<String> = []
    ) throws {
        let tool = try tool(name)
        let members = Set(Keys.allCases.map { IPAMTools.argumentName($0.stringValue) })
        let api = try openapi(schema)
        #expect(Set(api.properties.keys) == members, "\(Keys.self) and openapi/ name the same members")
        #expect(
            Set(tool.properties.keys) == members.subtracting(left).union(extra.keys),
            "\(name): arguments \(tool.properties.keys.sorted()), request members \(members.sorted())")
        for (argument, types) in tool.properties {
            let expected = extra[argument] ?? api.properties[argument] ?? []
            #expect(types.isSubset(of: expected), "\(name).\(argument): \(types) but the API says \(expected)")
        }
        #expect(
            tool.required == api.required.subtracting(left).union(extraRequired),
            "\(name): required \(tool.required.sorted()), the API's \(api.required.sorted())")
    }

    @Test("preview_network: GetNewNetworkRequest but dryRun, which the tool always sends; read-only")
    func previewNetwork() throws {
        try Self.check(
            tool: "preview_network", keys: API.NewNetworkRequest.CodingKeys.self,
            schema: try Self.component("GetNewNetworkRequest"), left: ["dryRun"])
        let tool = try #require(IPAMTools.tools.first { $0.name == "preview_network" })
        #expect(tool.annotations.readOnlyHint == true && tool.annotations.destructiveHint == false)
        #expect(tool.inputSchema == IPAMTools.tools.first { $0.name == "get_new_network" }?.inputSchema)
    }

    @Test("get_new_network: GetNewNetworkRequest (dryRun is preview_network's), its subnets and tags included")
    func getNewNetwork() throws {
        let schema = try Self.component("GetNewNetworkRequest")
        try Self.check(
            tool: "get_new_network", keys: API.NewNetworkRequest.CodingKeys.self, schema: schema, left: ["dryRun"])
        let tool = try Self.tool("get_new_network")
        guard case .object(let item)? = tool.schemas["subnets"]?["items"] else {
            throw Missing(what: "get_new_network.subnets: items")
        }
        let subnet = try Self.schema(item, "get_new_network.subnets")
        let subnetSchema = try #require(
            ((schema["properties"] as? [String: Any])?["subnets"] as? [String: Any])?["items"] as? [String: Any])
        let api = try Self.openapi(subnetSchema)
        #expect(Set(subnet.properties.keys) == Set(API.NewNetworkRequest.Subnet.CodingKeys.allCases.map(\.stringValue)))
        #expect(subnet.properties == api.properties && subnet.required == api.required)
        guard case .object(let values)? = tool.schemas["tags"]?["additionalProperties"] else {
            throw Missing(what: "get_new_network.tags: additionalProperties")
        }
        #expect(values["type"] == .string("string"), "a tag's value is a string")
    }

    @Test("reserve_range: ReservationRequest (its pool is not offered to agents)")
    func reserveRange() throws {
        try Self.check(
            tool: "reserve_range", keys: API.ReservationRequest.CodingKeys.self,
            schema: try Self.component("ReservationRequest"), left: ["pool"])
    }

    @Test("get_lease, renew_lease and release_network: LeaseReference")
    func leaseReference() throws {
        for name in ["get_lease", "renew_lease", "release_network"] {
            try Self.check(
                tool: name, keys: API.LeaseReference.CodingKeys.self, schema: try Self.component("LeaseReference"))
        }
    }

    @Test("get_host_ip: HostIPRequest and the lease's id (the path's parameter)")
    func getHostIP() throws {
        try Self.check(
            tool: "get_host_ip", keys: API.HostIPRequest.CodingKeys.self, schema: try Self.component("HostIPRequest"),
            extra: ["leaseId": ["string"]], extraRequired: ["leaseId"])
        #expect(API.allocateHostIP.parameters == ["leaseId"])
    }

    /// The query parameters of an operation of `openapi/openapi.yaml`, by name, with each one's JSON type.
    static func queryParameters(_ path: String, _ method: String) throws -> [String: (
        type: String, items: [String: Any]?
    )] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("openapi/openapi.yaml")
        let spec = try #require(try Yams.load(yaml: String(contentsOf: url, encoding: .utf8)) as? [String: Any])
        let operation = try #require(
            ((spec["paths"] as? [String: Any])?[path] as? [String: Any])?[method] as? [String: Any], "\(method) \(path)"
        )
        var parameters: [String: (type: String, items: [String: Any]?)] = [:]
        for case let parameter as [String: Any] in operation["parameters"] as? [Any] ?? []
        where parameter["in"] as? String == "query" {
            let schema = try resolved(try #require(parameter["schema"] as? [String: Any]))
            let items = try (schema["items"] as? [String: Any]).map(resolved)
            parameters[try #require(parameter["name"] as? String)] = (try #require(schema["type"] as? String), items)
        }
        return parameters
    }

    @Test(
        "list_networks: exactly GET /api/networks's query parameters, of their types, its statuses the spec's; read-only"
    )
    func listNetworks() throws {
        let tool = try Self.tool("list_networks")
        let parameters = try Self.queryParameters("/api/networks", "get")
        #expect(Set(tool.properties.keys) == Set(parameters.keys), "\(tool.properties.keys.sorted())")
        for (name, parameter) in parameters {
            #expect(tool.properties[name] == [parameter.type], "list_networks.\(name)")
        }
        #expect(tool.required.isEmpty)
        guard case .object(let items)? = tool.schemas["status"]?["items"], case .array(let statuses)? = items["enum"]
        else { throw Missing(what: "list_networks.status: items with an enum") }
        let documented = try #require(parameters["status"]?.items?["enum"] as? [String])
        #expect(statuses.compactMap(\.stringValue) == documented)
        let declared = try #require(IPAMTools.tools.first { $0.name == "list_networks" })
        #expect(declared.annotations.readOnlyHint == true && declared.annotations.destructiveHint != true)
    }

    @Test("a tool's body carries each member of the request its arguments give, SessionId by its API name")
    func body() {
        let body = IPAMTools.body(
            ["sessionId": .string("s"), "prefixLength": .int(24), "tags": .object(["env": .string("dev")])],
            members: API.NewNetworkRequest.CodingKeys.allCases.map(\.stringValue))
        #expect(body.serialized() == #"{"SessionId":"s","prefixLength":24,"tags":{"env":"dev"}}"#)
    }
}
