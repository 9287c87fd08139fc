import Foundation
import HTTPTransport
import StrictJSON

/// A thin client of the Vendor's HTTP API (`openapi/openapi.yaml`), shared by the `ipam` command line and
/// the MCP server: it sends what the API takes and hands back the API's JSON unchanged, so every
/// interface behaves like the API against a local Vendor, a standalone deployment or the Functions app.
public struct VendorClient: Sendable {
    public let baseURL: String
    /// A Vendor API key, sent as `Authorization: Bearer`.
    public let key: String?
    let transport: any HTTPTransport

    public init(
        baseURL: String, key: String?,
        transport: any HTTPTransport = CurlTransport(
            configuration: .init(connectTimeout: .seconds(5), requestTimeout: .seconds(60)))
    ) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.key = key.flatMap { $0.isEmpty ? nil : $0 }
        self.transport = transport
    }

    /// The same client with another key (each MCP request carries its caller's).
    public func with(key: String?) -> VendorClient { VendorClient(baseURL: baseURL, key: key, transport: transport) }

    /// Why a call did not give an answer.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        /// The Vendor answered with an error: its status and body (`{code, message, requestId, …}`).
        case refused(status: Int, body: JSONValue)
        /// The Vendor could not be reached, or did not answer in time.
        case unreachable(String)

        /// The machine-readable code (`VendorUnavailable` when the Vendor could not be reached).
        public var code: String {
            switch self {
            case .refused(let status, let body): return body["code"]?.stringValue ?? "HTTP\(status)"
            case .unreachable: return "VendorUnavailable"
            }
        }

        public var message: String {
            switch self {
            case .refused(let status, let body): return body["message"]?.stringValue ?? "the Vendor answered \(status)"
            case .unreachable(let detail): return "the Vendor could not be reached: \(detail)"
            }
        }

        /// The error as the API shapes it (for the unreachable case, the same shape).
        public var json: JSONValue {
            switch self {
            case .refused(_, let body) where body.objectValue != nil: return body
            default: return .object([("code", .string(code)), ("message", .string(message))])
            }
        }

        public var description: String { "\(code): \(message)" }
    }

    /// One call: `method` on `path` with `query` (percent-encoded here) and a JSON body; the answer's JSON.
    public func call(_ method: String, _ path: String, query: [(String, String)] = [], body: JSONValue? = nil)
        async throws(Failure) -> (status: Int, json: JSONValue)
    {
        var url = baseURL + path
        if !query.isEmpty {
            url += "?" + query.map { Self.encode($0.0) + "=" + Self.encode($0.1) }.joined(separator: "&")
        }
        var headers: HTTPHeaderList = ["Accept": "application/json"]
        if let key { headers["Authorization"] = "Bearer \(key)" }
        if body != nil { headers["Content-Type"] = "application/json" }
        let response: TransportResponse
        do {
            response = try await transport.execute(
                TransportRequest(method: method, url: url, headers: headers, body: body?.serializedBytes))
        } catch {
            throw .unreachable("\(error)")
        }
        let json = (try? JSONValue.parse(response.body)) ?? .null
        guard (200..<300).contains(response.status) else { throw .refused(status: response.status, body: json) }
        return (response.status, json)
    }

    // MARK: The API's operations

    /// `POST /api/getNewNetwork` with the request's fields (`SessionId`, `prefixLength`, …).
    public func getNewNetwork(_ fields: JSONValue) async throws(Failure) -> (created: Bool, lease: JSONValue) {
        let answer = try await call("POST", "/api/getNewNetwork", body: fields)
        return (answer.status == 201, answer.json)
    }

    /// `POST /api/adoptNetwork`: an existing network's block under a lease; `created` false for a replay.
    public func adoptNetwork(_ fields: JSONValue) async throws(Failure) -> (created: Bool, lease: JSONValue) {
        let answer = try await call("POST", "/api/adoptNetwork", body: fields)
        return (answer.status == 201, answer.json)
    }

    /// How a command names a lease: by id, or by SessionId (in a scope, or the default one).
    public enum LeaseReference: Sendable {
        case id(String)
        case session(String, subscriptionId: String?, region: String?)

        var body: JSONValue {
            switch self {
            case .id(let id): return .object([("leaseId", .string(id))])
            case .session(let session, let subscription, let region):
                var members: [(String, JSONValue)] = [("SessionId", .string(session))]
                if let subscription { members.append(("subscriptionId", .string(subscription))) }
                if let region { members.append(("region", .string(region))) }
                return .object(members)
            }
        }
    }

    public func lease(_ reference: LeaseReference) async throws(Failure) -> JSONValue {
        switch reference {
        case .id(let id): return try await call("GET", "/api/leases/" + Self.encode(id)).json
        case .session(let session, let subscription, let region):
            var query: [(String, String)] = []
            if let subscription { query.append(("subscriptionId", subscription)) }
            if let region { query.append(("region", region)) }
            return try await call("GET", "/api/sessions/" + Self.encode(session), query: query).json
        }
    }

    public func renew(_ reference: LeaseReference) async throws(Failure) -> JSONValue {
        try await call("POST", "/api/renewLease", body: reference.body).json
    }

    public func release(_ reference: LeaseReference) async throws(Failure) -> JSONValue {
        try await call("POST", "/api/releaseNetwork", body: reference.body).json
    }

    /// `DELETE /api/leases/{id}`: idempotent release.
    public func delete(leaseId: String) async throws(Failure) -> JSONValue {
        try await call("DELETE", "/api/leases/" + Self.encode(leaseId)).json
    }

    /// One page of `GET /api/leases` (`query`: its filters, `limit` and `continuation`).
    public func leases(_ query: [(String, String)]) async throws(Failure) -> JSONValue {
        try await call("GET", "/api/leases", query: query).json
    }

    /// Every page of `GET /api/leases`, following continuations, as one `{leases, continuation: null}`.
    public func allLeases(_ query: [(String, String)]) async throws(Failure) -> JSONValue {
        var leases: [JSONValue] = []
        var continuation: String? = nil
        repeat {
            let page = try await self.leases(query + (continuation.map { [("continuation", $0)] } ?? []))
            leases += page["leases"]?.arrayValue ?? []
            continuation = page["continuation"]?.stringValue
        } while continuation != nil
        return .object([("leases", .array(leases)), ("continuation", .null)])
    }

    public func pools() async throws(Failure) -> JSONValue { try await call("GET", "/api/pools").json }

    /// `POST /api/reservations` with the request's fields (`cidr` or `prefixLength`, `owner`, `reason`, …).
    public func reserve(_ fields: JSONValue) async throws(Failure) -> JSONValue {
        try await call("POST", "/api/reservations", body: fields).json
    }

    /// `GET /api/reservations` (`query`: `subscriptionId`, `region`, `owner`, `within`).
    public func reservations(_ query: [(String, String)]) async throws(Failure) -> JSONValue {
        try await call("GET", "/api/reservations", query: query).json
    }

    /// `DELETE /api/reservations/{id}`: idempotent (`released` false when there was none).
    public func unreserve(_ id: String) async throws(Failure) -> JSONValue {
        try await call("DELETE", "/api/reservations/" + Self.encode(id)).json
    }

    /// One page of `GET /api/events` (`query`: its filters, `limit` and `continuation`).
    public func events(_ query: [(String, String)]) async throws(Failure) -> JSONValue {
        try await call("GET", "/api/events", query: query).json
    }

    // MARK: Host addresses and members of a network lease

    /// `POST /api/leases/{id}/ips`: an address for `principal` (default: the caller) in `subnet` (default:
    /// the first); the same principal again gets the same address (`created` false).
    public func getHostIP(leaseId: String, principal: String? = nil, subnet: String? = nil) async throws(Failure) -> (
        created: Bool, ip: JSONValue
    ) {
        var fields: [(String, JSONValue)] = []
        if let principal { fields.append(("principal", .string(principal))) }
        if let subnet { fields.append(("subnet", .string(subnet))) }
        let answer = try await call("POST", Self.leasePath(leaseId, "ips"), body: .object(fields))
        return (answer.status == 201, answer.json)
    }

    /// `GET /api/leases/{id}/ips/{principal}`.
    public func hostIP(leaseId: String, principal: String) async throws(Failure) -> JSONValue {
        try await call("GET", Self.leasePath(leaseId, "ips", principal)).json
    }

    /// `GET /api/leases/{id}/ips`.
    public func hostIPs(leaseId: String) async throws(Failure) -> JSONValue {
        try await call("GET", Self.leasePath(leaseId, "ips")).json
    }

    /// `DELETE /api/leases/{id}/ips/{principal}`: idempotent (`released` false when none was held).
    public func releaseHostIP(leaseId: String, principal: String) async throws(Failure) -> JSONValue {
        try await call("DELETE", Self.leasePath(leaseId, "ips", principal)).json
    }

    /// `PUT /api/leases/{id}/members/{principal}` with `role` (`member` or `admin`).
    public func putMember(leaseId: String, principal: String, role: String) async throws(Failure) -> JSONValue {
        try await call("PUT", Self.leasePath(leaseId, "members", principal), body: .object([("role", .string(role))]))
            .json
    }

    /// `DELETE /api/leases/{id}/members/{principal}`: idempotent (`removed` false when it was no member).
    public func removeMember(leaseId: String, principal: String) async throws(Failure) -> JSONValue {
        try await call("DELETE", Self.leasePath(leaseId, "members", principal)).json
    }

    /// `GET /api/leases/{id}/members`.
    public func members(leaseId: String) async throws(Failure) -> JSONValue {
        try await call("GET", Self.leasePath(leaseId, "members")).json
    }

    static func leasePath(_ leaseId: String, _ parts: String...) -> String {
        "/api/leases/" + ([leaseId] + parts).map(encode).joined(separator: "/")
    }

    static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// Percent-encodes a path segment or query component (unreserved characters stay).
    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }
}
