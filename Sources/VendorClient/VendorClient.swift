import Foundation
package import HTTPTransport
package import StrictJSON
package import VendorAPI

/// A thin client of the Vendor's HTTP API (`openapi/openapi.yaml`), shared by the `ipam` command line and
/// the MCP server: it sends what the API takes and hands back the API's JSON unchanged, so every
/// interface behaves like the API against a local Vendor, a standalone deployment or the Functions app.
package struct VendorClient: Sendable {
    package let baseURL: String
    /// A Vendor API key, sent as `Authorization: Bearer`.
    package let key: String?
    let transport: any HTTPTransport

    package init(
        baseURL: String, key: String?,
        transport: any HTTPTransport = CurlTransport(
            configuration: .init(connectTimeout: .seconds(5), requestTimeout: .seconds(60)))
    ) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.key = key.flatMap { $0.isEmpty ? nil : $0 }
        self.transport = transport
    }

    /// The same client with another key (each MCP request carries its caller's).
    package func with(key: String?) -> VendorClient { VendorClient(baseURL: baseURL, key: key, transport: transport) }

    /// Why a call did not give an answer.
    package enum Failure: Error, Sendable, CustomStringConvertible {
        /// The Vendor answered with an error: its status and body (`{code, message, requestId, …}`).
        case refused(status: Int, body: JSONValue)
        /// The Vendor could not be reached, or did not answer in time.
        case unreachable(String)
        /// The Vendor's answer is not what the API says it is.
        case unreadable(String)

        /// The machine-readable code (`VendorUnavailable` when the Vendor could not be reached).
        package var code: String {
            switch self {
            case .refused(let status, let body): return API.ErrorBody(json: body)?.code ?? "HTTP\(status)"
            case .unreachable: return "VendorUnavailable"
            case .unreadable: return "InvalidAnswer"
            }
        }

        package var message: String {
            switch self {
            case .refused(let status, let body):
                return API.ErrorBody(json: body)?.message ?? "the Vendor answered \(status)"
            case .unreachable(let detail): return "the Vendor could not be reached: \(detail)"
            case .unreadable(let detail): return "the Vendor's answer does not fit the API: \(detail)"
            }
        }

        /// The error as the API shapes it (for the unreachable case, the same shape).
        package var json: JSONValue {
            switch self {
            case .refused(_, let body) where body.objectValue != nil: return body
            default: return .object([("code", .string(code)), ("message", .string(message))])
            }
        }

        package var description: String { "\(code): \(message)" }
    }

    /// One call: `method` on `path` with `query` (percent-encoded here) and a JSON body; the answer's JSON.
    package func call(_ method: String, _ path: String, query: [(String, String)] = [], body: JSONValue? = nil)
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

    /// One call of a declared route, its path parameters filled in from `parameters`.
    func call(
        _ route: APIRoute, _ parameters: [String: String] = [:], query: [(String, String)] = [], body: JSONValue? = nil
    ) async throws(Failure) -> (status: Int, json: JSONValue) {
        try await call(route.method.rawValue, route.path(parameters), query: query, body: body)
    }

    /// An answer of the API: its typed value, and the JSON it came as (what `--json` and the MCP tools pass on
    /// unchanged).
    package struct Answer<Value: Sendable>: Sendable {
        package let value: Value
        package let json: JSONValue
        /// The answer was 201: this call made what it names (a lease, an address, a membership).
        package let created: Bool

        package init(_ value: Value, json: JSONValue, created: Bool = false) {
            self.value = value
            self.json = json
            self.created = created
        }
    }

    /// A declared route's answer, read as `T` (members it does not know are ignored). `body` is sent as it is:
    /// the MCP tools pass an agent's arguments on this way, so the Vendor judges them and its refusals reach the
    /// agent unchanged.
    package func answer<T: Decodable & Sendable>(
        _ type: T.Type, _ route: APIRoute, _ parameters: [String: String] = [:], query: [(String, String)] = [],
        body: JSONValue? = nil
    ) async throws(Failure) -> Answer<T> {
        let (status, json) = try await call(route, parameters, query: query, body: body)
        do { return Answer(try WireDecoder.lenient.decode(type, from: json), json: json, created: status == 201) } catch
        {
            throw .unreadable("\(route): \(error)")
        }
    }

    // MARK: The API's operations

    /// `POST /api/getNewNetwork`; `created` false for a replay.
    package func getNewNetwork(_ request: API.NewNetworkRequest) async throws(Failure) -> Answer<API.Lease> {
        try await answer(API.Lease.self, API.getNewNetwork, body: WireEncoder.json(request))
    }

    /// `POST /api/getNewNetwork` with `"dryRun": true`: the block the request would be handed now, nothing held.
    package func previewNetwork(_ request: API.NewNetworkRequest) async throws(Failure) -> Answer<API.NetworkPreview> {
        var request = request
        request.dryRun = true
        return try await answer(API.NetworkPreview.self, API.getNewNetwork, body: WireEncoder.json(request))
    }

    /// `POST /api/adoptNetwork`: an existing network's block under a lease; `created` false for a replay.
    package func adoptNetwork(_ request: API.AdoptNetworkRequest) async throws(Failure) -> Answer<API.Lease> {
        try await answer(API.Lease.self, API.adoptNetwork, body: WireEncoder.json(request))
    }

    /// How a command names a lease: by id, or by SessionId (in a scope, or the default one).
    package enum LeaseReference: Sendable {
        case id(String)
        /// A SessionId in the scope an Azure `subscriptionId` or an AWS `accountId`, and `region`, name.
        case session(String, subscriptionId: String?, accountId: String? = nil, region: String?)

        var body: JSONValue {
            switch self {
            case .id(let id): return WireEncoder.json(API.LeaseReference(leaseId: id))
            case .session(let session, let subscription, let account, let region):
                return WireEncoder.json(
                    API.LeaseReference(
                        sessionId: session, subscriptionId: subscription, accountId: account, region: region))
            }
        }
    }

    package func lease(_ reference: LeaseReference) async throws(Failure) -> Answer<API.LeaseRecord> {
        switch reference {
        case .id(let id): return try await answer(API.LeaseRecord.self, API.getLease, ["leaseId": id])
        case .session(let session, let subscription, let account, let region):
            var query: [(String, String)] = []
            if let subscription { query.append(("subscriptionId", subscription)) }
            if let account { query.append(("accountId", account)) }
            if let region { query.append(("region", region)) }
            return try await answer(API.LeaseRecord.self, API.getSession, ["sessionId": session], query: query)
        }
    }

    package func renew(_ reference: LeaseReference) async throws(Failure) -> Answer<API.LeaseRecord> {
        try await answer(API.LeaseRecord.self, API.renewLease, body: reference.body)
    }

    package func release(_ reference: LeaseReference) async throws(Failure) -> Answer<API.LeaseRecord> {
        try await answer(API.LeaseRecord.self, API.releaseNetwork, body: reference.body)
    }

    /// `DELETE /api/leases/{id}`: idempotent release.
    package func delete(leaseId: String) async throws(Failure) -> Answer<API.LeaseRecord> {
        try await answer(API.LeaseRecord.self, API.deleteLease, ["leaseId": leaseId])
    }

    /// One page of `GET /api/leases` (`query`: its filters, `limit` and `continuation`).
    package func leases(_ query: [(String, String)]) async throws(Failure) -> Answer<API.LeaseList> {
        try await answer(API.LeaseList.self, API.listLeases, query: query)
    }

    /// Every page of `GET /api/leases`, following continuations, as one list with no continuation.
    package func allLeases(_ query: [(String, String)]) async throws(Failure) -> Answer<API.LeaseList> {
        var leases: [API.LeaseRecord] = []
        var items: [JSONValue] = []
        var continuation: String? = nil
        repeat {
            let page = try await self.leases(query + (continuation.map { [("continuation", $0)] } ?? []))
            leases += page.value.leases
            items += page.json["leases"]?.arrayValue ?? []
            continuation = page.value.continuation
        } while continuation != nil
        return Answer(
            API.LeaseList(leases: leases, continuation: nil),
            json: .object([("leases", .array(items)), ("continuation", .null)]))
    }

    package func pools() async throws(Failure) -> Answer<API.Pools> { try await answer(API.Pools.self, API.getPools) }

    /// `POST /api/reservations`: a `cidr` or the smallest free block of a `prefixLength`.
    package func reserve(_ request: API.ReservationRequest) async throws(Failure) -> Answer<API.Reservation> {
        try await answer(API.Reservation.self, API.reserve, body: WireEncoder.json(request))
    }

    /// `GET /api/reservations` (`query`: `subscriptionId` or `accountId`, `region`, `owner`, `within`).
    package func reservations(_ query: [(String, String)]) async throws(Failure) -> Answer<API.ReservationList> {
        try await answer(API.ReservationList.self, API.listReservations, query: query)
    }

    /// `DELETE /api/reservations/{id}`: idempotent (`released` false when there was none).
    package func unreserve(_ id: String) async throws(Failure) -> Answer<API.Unreservation> {
        try await answer(API.Unreservation.self, API.unreserve, ["reservationId": id])
    }

    /// One page of `GET /api/events` (`query`: its filters, `limit` and `continuation`).
    package func events(_ query: [(String, String)]) async throws(Failure) -> Answer<API.EventList> {
        try await answer(API.EventList.self, API.listEvents, query: query)
    }

    /// `GET /api/usage` (`query`: `subscriptionId`, `region`, `pool`, `ipVersion`, `since`, `until`, `step`).
    package func usage(_ query: [(String, String)]) async throws(Failure) -> Answer<API.Usage> {
        try await answer(API.Usage.self, API.getUsage, query: query)
    }

    /// `GET /api/history`: who held addresses overlapping `cidr` (or lease `leaseId`'s, or VNet `resourceId`'s).
    package func history(_ query: [(String, String)]) async throws(Failure) -> Answer<API.AddressHistory> {
        try await answer(API.AddressHistory.self, API.addressHistory, query: query)
    }

    /// One page of `GET /api/networks` (`query`: `subscriptionId` or `accountId`, `region`, `scope`, `status`,
    /// `limit`, `continuation`): listed networks and their compliance status.
    package func networks(_ query: [(String, String)]) async throws(Failure) -> Answer<API.NetworkList> {
        try await answer(API.NetworkList.self, API.listNetworks, query: query)
    }

    /// `GET /api/whoami`: the caller the key names.
    package func whoami() async throws(Failure) -> Answer<API.WhoAmI> {
        try await answer(API.WhoAmI.self, API.whoami)
    }

    // MARK: Host addresses and members of a network lease

    /// `POST /api/leases/{id}/ips`: an address for `principal` (default: the caller) in `subnet` (default:
    /// the first); the same principal again gets the same address (`created` false).
    package func getHostIP(leaseId: String, principal: String? = nil, subnet: String? = nil) async throws(Failure)
        -> Answer<API.HostIP>
    {
        try await answer(
            API.HostIP.self, API.allocateHostIP, ["leaseId": leaseId],
            body: WireEncoder.json(API.HostIPRequest(principal: principal, subnet: subnet)))
    }

    /// `GET /api/leases/{id}/ips/{principal}`.
    package func hostIP(leaseId: String, principal: String) async throws(Failure) -> Answer<API.HostIP> {
        try await answer(API.HostIP.self, API.getHostIP, ["leaseId": leaseId, "principal": principal])
    }

    /// `GET /api/leases/{id}/ips`.
    package func hostIPs(leaseId: String) async throws(Failure) -> Answer<API.HostIPList> {
        try await answer(API.HostIPList.self, API.listHostIPs, ["leaseId": leaseId])
    }

    /// `DELETE /api/leases/{id}/ips/{principal}`: idempotent (`released` false when none was held).
    package func releaseHostIP(leaseId: String, principal: String) async throws(Failure) -> Answer<API.HostIPRelease> {
        try await answer(API.HostIPRelease.self, API.releaseHostIP, ["leaseId": leaseId, "principal": principal])
    }

    /// `PUT /api/leases/{id}/members/{principal}` with `role` (`member` or `admin`).
    package func putMember(leaseId: String, principal: String, role: String) async throws(Failure)
        -> Answer<API.Member>
    {
        try await answer(
            API.Member.self, API.putMember, ["leaseId": leaseId, "principal": principal],
            body: WireEncoder.json(API.MemberRequest(role: role)))
    }

    /// `DELETE /api/leases/{id}/members/{principal}`: idempotent (`removed` false when it was no member).
    package func removeMember(leaseId: String, principal: String) async throws(Failure) -> Answer<API.MemberRemoval> {
        try await answer(API.MemberRemoval.self, API.removeMember, ["leaseId": leaseId, "principal": principal])
    }

    /// `GET /api/leases/{id}/members`.
    package func members(leaseId: String) async throws(Failure) -> Answer<API.MemberList> {
        try await answer(API.MemberList.self, API.listMembers, ["leaseId": leaseId])
    }

    /// Percent-encodes a path segment or query component (unreserved characters stay).
    static func encode(_ text: String) -> String { APIRoute.encode(text) }
}
