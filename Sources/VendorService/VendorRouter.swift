import Foundation
import HTTPTypes
import Hummingbird
import IPAMCore
import Inventory
import Logging
import NIOCore
import NetworkMath
import StrictJSON
import Synchronization
import TokenAuth

/// What every Vendor request carries through the router: its request id and who is calling.
public struct VendorRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The request's id: the caller's `x-request-id` when it is a sane one, else a new UUID.
    public var requestID: String = ""
    /// The authenticated caller (a key's name, or `key-…`), `anonymous` with authentication disabled,
    /// nil before authentication or on open routes.
    public var caller: String?
    /// The caller's role (`admin` with authentication disabled).
    public var role: Role?
    /// The client's IP address (the peer of the connection), for slowing down failed keys.
    public let clientAddress: String
    /// The caller the route's access check authenticated, for the edge's request log line.
    let authenticated = AuthenticatedCaller()

    public init(source: Source) {
        coreContext = .init(source: source)
        clientAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}

/// The caller a request was authenticated as, shared by every copy of its context.
final class AuthenticatedCaller: Sendable {
    private let caller = Mutex<String?>(nil)
    func record(_ name: String) { caller.withLock { $0 = name } }
    var name: String? { caller.withLock { $0 } }
}

/// The Vendor's HTTP edge: the routes, and the router with its middleware (request ids,
/// authentication, logging, metrics, and the one error shape).
public enum VendorRouter {
    /// Largest accepted request body.
    public static let maxBodyBytes = 64 * 1024

    /// - Parameters:
    ///   - keys: accepted API keys; `nil` (and no `tokens`) disables authentication (`--insecure-no-auth`).
    ///   - tokens: accepted bearer tokens (Entra ID), when configured.
    ///   - readiness: checks storage for `/readyz` (nil: ready).
    ///   - console: the console's session signer (`CONSOLE_SESSION_SECRET`); nil turns the console off.
    public static func build(
        service: VendorService, keys: APIKeys?, tokens: TokenAuthentication? = nil, console: ConsoleSessions? = nil,
        logger: Logger,
        readiness: @escaping @Sendable () async -> String?
    ) -> Router<VendorRequestContext> {
        let gate = AccessGate(
            keys: keys, tokens: tokens, throttle: FailedKeyThrottle(uptime: service.time.uptime), time: service.time,
            redactor: service.redactActors ? service.redactor : nil)
        let routes = VendorRoutes(
            service: service, readiness: readiness,
            console: console.map {
                ConsoleRoutes(service: service, keys: keys, tokens: tokens, sessions: $0, gate: gate)
            })
        let (collection, served) = routes.table(gate: gate).finish()
        let router = Router(context: VendorRequestContext.self)
        router.add(
            middleware: EdgeMiddleware(
                logger: logger, metrics: service.metrics, served: served,
                authenticationDisabled: keys == nil && tokens == nil))
        router.addRoutes(collection)
        return router
    }

    /// The request body, enforcing JSON content type and the size limit.
    static func jsonBody(_ request: Request) async throws(VendorError) -> [UInt8] {
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix("application/json") else {
            throw VendorError(.unsupportedMediaType, "send the body as application/json")
        }
        var collected: ByteBuffer
        do { collected = try await request.body.collect(upTo: maxBodyBytes) } catch {
            throw VendorError(.payloadTooLarge, "the request body exceeds \(maxBodyBytes) bytes")
        }
        return collected.readBytes(length: collected.readableBytes) ?? []
    }

    static func jsonResponse(_ status: HTTPResponse.Status, _ body: JSONValue) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(
            status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body.serializedBytes)))
    }
}

/// Every route of `openapi/openapi.yaml`, as one collection.
struct VendorRoutes: Sendable {
    let service: VendorService
    let readiness: @Sendable () async -> String?
    /// The operator console, when `CONSOLE_SESSION_SECRET` is set.
    @Sendable func adoptNetwork(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        let body = try await VendorRouter.jsonBody(request)
        var lease: LeaseRequest
        do { lease = try LeaseRequestDecoder.decodeAdoption(body, configuration: service.configuration) } catch {
            throw VendorError.badRequest(error)
        }
        lease.owner = context.caller.map(service.redactor.principal)
        let answer = try await service.with(logger: context.logger).adoptNetwork(lease)
        return VendorRouter.jsonResponse(answer.created ? .created : .ok, answer.json)
    }

    @Sendable func webhookDeliveries(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        let name = try pathParameter(context, "name")
        guard let webhook = service.configuration.webhooks.first(where: { $0.name == name }) else {
            let known = service.configuration.webhooks.map(\.name)
            throw VendorError(
                .notFound,
                known.isEmpty
                    ? "no webhooks are configured (WEBHOOKS_CONFIG)"
                    : "no webhook is named '\(name)' (configured: \(known.joined(separator: ", ")))",
                details: ["webhook": name])
        }
        let (cursors, dead) = try await service.with(logger: context.logger).deliveries(of: webhook.name)
        func date(_ value: Date?) -> JSONValue { value.map { .string(ISO8601.format($0)) } ?? .null }
        let cursorItems: [JSONValue] = cursors.map { cursor in
            .object([
                ("scope", .string(cursor.scope.partitionKey)),
                (
                    "lastEventId",
                    cursor.lastEvent.hasPrefix(RowKeys.eventPrefix) && cursor.lastEvent.count > 26
                        ? .string(cursor.lastEvent) : .null
                ),
                ("delivered", .number(String(cursor.delivered))),
                ("deadLettered", .number(String(cursor.deadLettered))),
                ("lastDeliveredAt", date(cursor.lastDeliveredAt)), ("attempts", .number(String(cursor.attempts))),
                ("nextAttemptAt", date(cursor.nextAttemptAt)),
                ("lastError", cursor.lastError.map(JSONValue.string) ?? .null),
                ("holder", cursor.holder.map(JSONValue.string) ?? .null), ("heldUntil", date(cursor.heldUntil)),
            ])
        }
        let deadItems: [JSONValue] = dead.map { letter in
            .object([
                ("eventId", .string(letter.eventId)), ("type", .string(letter.type)),
                ("scope", .string(letter.scope.partitionKey)),
                ("attempts", .number(String(letter.attempts))), ("lastError", .string(letter.lastError)),
                ("deadAt", date(letter.deadAt)),
                ("body", (try? JSONValue.parse(Array(letter.body.utf8))) ?? .string(letter.body)),
            ])
        }
        return VendorRouter.jsonResponse(
            .ok,
            .object([
                ("webhook", .string(webhook.name)), ("url", .string(webhook.url)),
                ("events", .array(webhook.events.sorted().map(JSONValue.string))),
                ("cursors", .array(cursorItems)), ("deadLetters", .array(deadItems)),
            ]))
    }

    let console: ConsoleRoutes?

    /// Every route, registered with who may call it: this is where a route's role is declared (and
    /// `x-ipam-role` in `openapi/` says the same). Looking needs `reader`; changing a lease needs `lease`;
    /// reservations, adoption and webhook deliveries need `admin`. Host-IP routes also need membership of the
    /// lease (checked by the handler). Paths are spelled as in `openapi/` and are the metric route labels.
    func table(gate: AccessGate) -> VendorRouteTable {
        let routes = VendorRouteTable(gate: gate)
        routes.add(.get, "/", .open) { _, _ in Response(status: .ok) } // the Functions host pings the handler here
        routes.add(.get, "/healthz", .open) { _, _ in
            VendorRouter.jsonResponse(.ok, .object([("status", .string("ok"))]))
        }
        routes.add(.get, "/readyz", .open, use: ready)
        routes.add(.get, "/metrics", .role(.reader), use: metrics)
        routes.add(.post, "/api/getNewNetwork", .role(.lease), use: getNewNetwork)
        routes.add(.post, "/api/adoptNetwork", .role(.admin), use: adoptNetwork)
        routes.add(.get, "/api/webhooks/{name}/deliveries", .role(.admin), use: webhookDeliveries)
        routes.add(.get, "/api/whoami", .role(.reader)) { _, context in
            VendorRouter.jsonResponse(.ok, .object([("caller", context.caller.map(JSONValue.string) ?? .null)]))
        }
        routes.add(.get, "/api/leases", .role(.reader), use: listLeases)
        routes.add(.get, "/api/events", .role(.reader), use: listEvents)
        routes.add(.post, "/api/reservations", .role(.admin), use: reserve)
        routes.add(.get, "/api/reservations", .role(.reader), use: listReservations)
        routes.add(.delete, "/api/reservations/{reservationId}", .role(.admin), use: unreserve)
        routes.add(.get, "/api/leases/{leaseId}", .role(.reader), use: leaseByID)
        routes.add(.delete, "/api/leases/{leaseId}", .role(.lease), use: deleteLease)
        routes.add(.get, "/api/sessions/{sessionId}", .role(.reader), use: leaseBySession)
        routes.add(.post, "/api/releaseNetwork", .role(.lease), use: release)
        routes.add(.post, "/api/renewLease", .role(.lease), use: renew)
        routes.add(.get, "/api/pools", .role(.reader), use: pools)
        routes.add(.post, "/api/leases/{leaseId}/ips", .role(.lease), use: allocateHostIP)
        routes.add(.get, "/api/leases/{leaseId}/ips", .role(.reader), use: listHostIPs)
        routes.add(.get, "/api/leases/{leaseId}/ips/{principal}", .role(.reader), use: hostIP)
        routes.add(.delete, "/api/leases/{leaseId}/ips/{principal}", .role(.lease), use: releaseHostIP)
        routes.add(.get, "/api/leases/{leaseId}/members", .role(.reader), use: listMembers)
        routes.add(.put, "/api/leases/{leaseId}/members/{principal}", .role(.lease), use: putMember)
        routes.add(.delete, "/api/leases/{leaseId}/members/{principal}", .role(.lease), use: removeMember)
        if let console {
            console.add(to: routes)
        } else {
            routes.add(.get, "/console", .open) { _, _ in
                VendorRouter.jsonResponse(
                    .notFound,
                    .object([
                        ("code", .string(ErrorCode.notFound.rawValue)),
                        (
                            "message",
                            .string(
                                "the console is off: set CONSOLE_SESSION_SECRET (at least \(ConsoleSessions.minimumSecretLength) characters)"
                            )
                        ),
                    ]))
            }
        }
        return routes
    }

    @Sendable func ready(_ request: Request, _ context: VendorRequestContext) async -> Response {
        if let problem = await readiness() {
            // The detail (hosts, ports, storage errors) is for the log; the open probe only says what is down.
            context.logger.warning("not ready", metadata: ["reason": .string(problem)])
            return VendorRouter.jsonResponse(
                .serviceUnavailable,
                .object([("status", .string("unavailable")), ("reason", .string("storage unavailable"))]))
        }
        return VendorRouter.jsonResponse(.ok, .object([("status", .string("ready"))]))
    }

    @Sendable func metrics(_ request: Request, _ context: VendorRequestContext) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(
            status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: service.metrics.exposition())))
    }

    @Sendable func getNewNetwork(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        let body = try await VendorRouter.jsonBody(request)
        var lease: LeaseRequest
        do { lease = try LeaseRequestDecoder.decode(body, configuration: service.configuration) } catch {
            throw VendorError.badRequest(error)
        }
        lease.owner = context.caller.map(service.redactor.principal)
        var effort = VendorService.Effort()
        let started = ContinuousClock.now
        let answer = try await service.with(logger: context.logger).getNewNetwork(lease, effort: &effort)
        service.metrics.allocationDuration.record(duration: ContinuousClock.now - started)
        (answer.created ? service.metrics.created : service.metrics.replayed).increment()
        var response = VendorRouter.jsonResponse(answer.created ? .created : .ok, answer.json)
        response.headers[HTTPField.Name("x-ipam-claim-attempts")!] = String(effort.claimAttempts)
        response.headers[HTTPField.Name("x-ipam-storage-calls")!] = String(effort.storageCalls)
        return response
    }

    @Sendable func leaseByID(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        let id = try pathParameter(context, "leaseId")
        let scope = try optionalScope(request)
        let (row, rowScope) = try await service.with(logger: context.logger).lease(id: id, scope: scope)
        return VendorRouter.jsonResponse(.ok, Self.leaseJSON(row, scope: rowScope))
    }

    /// Query parameters of `GET /api/leases`; `code` is the Functions host's key convention.
    static let listParameters: Set<String> = [
        "subscriptionId", "region", "scope", "state", "requester", "tag", "within", "limit", "continuation", "code",
    ]

    @Sendable func listLeases(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        let query = try ListingQuery(request, allowed: Self.listParameters, repeatable: ["state"], service: service)
        var filter = LeaseFilter()
        if let states = query.values["state"] {
            var parsed = Set<NetworkState>()
            for text in states.flatMap({ $0.split(separator: ",").map(String.init) }) {
                guard let state = NetworkState(rawValue: text) else {
                    throw VendorError(
                        .invalidQuery,
                        "'\(text)' is not a state; use \(NetworkState.allCases.map(\.rawValue).joined(separator: ", "))",
                        field: "state")
                }
                parsed.insert(state)
            }
            filter.states = parsed
        }
        filter.requester = query.one("requester")
        if let tag = query.one("tag") {
            // `key` (any value) or `key=value`.
            let parts = tag.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard let key = parts.first, !key.isEmpty else {
                throw VendorError(.invalidQuery, "'tag' is KEY or KEY=VALUE", field: "tag")
            }
            filter.tag = (key, parts.count == 2 ? parts[1] : nil)
        }
        if let within = query.one("within") {
            // A filter, so host bits are forgiven: 10.64.1.0/16 means 10.64.0.0/16.
            do { filter.within = try IPPrefix.parseNormalising(within).prefix } catch {
                throw VendorError(.invalidQuery, "\(error)", field: "within")
            }
        }
        let cursor = try query.cursor(rowPrefix: RowKeys.networkPrefix)
        let page = try await service.with(logger: context.logger).leases(
            in: query.scopes, matching: filter, limit: query.limit, from: cursor)
        return VendorRouter.jsonResponse(
            .ok,
            .object([
                ("leases", .array(page.leases.map { Self.leaseJSON($0.0, scope: $0.1) })),
                ("continuation", page.next.map { .string($0.token) } ?? .null),
            ]))
    }

    /// Query parameters of `GET /api/events`.
    static let eventParameters: Set<String> = [
        "subscriptionId", "region", "scope", "since", "until", "action", "leaseId", "actor", "limit", "continuation",
        "code",
    ]

    @Sendable func listEvents(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        let query = try ListingQuery(request, allowed: Self.eventParameters, repeatable: ["action"], service: service)
        var filter = EventFilter()
        for (name, keyPath) in [("since", \EventFilter.since), ("until", \EventFilter.until)] {
            if let text = query.one(name) {
                guard let date = ISO8601.parse(text) else {
                    throw VendorError(
                        .invalidQuery, "'\(name)' must be an ISO 8601 time, e.g. 2026-12-01T10:00:00Z", field: name)
                }
                filter[keyPath: keyPath] = date
            }
        }
        if let actions = query.values["action"] {
            let parsed = Set(actions.flatMap { $0.split(separator: ",").map(String.init) })
            if let unknown = parsed.sorted().first(where: { AuditAction(rawValue: $0) == nil }) {
                throw VendorError(
                    .invalidQuery,
                    "'\(unknown)' is not an action; use \(AuditAction.allCases.map(\.rawValue).joined(separator: ", "))",
                    field: "action")
            }
            filter.actions = parsed
        }
        if let lease = query.one("leaseId") {
            guard UUID(uuidString: lease) != nil else {
                throw VendorError(.invalidQuery, "'leaseId' must be a lease id", field: "leaseId")
            }
            filter.leaseId = lease
        }
        filter.actor = query.one("actor")
        let cursor = try query.cursor(rowPrefix: RowKeys.eventPrefix)
        let page = try await service.with(logger: context.logger).events(
            in: query.scopes, matching: filter, limit: query.limit, from: cursor)
        return VendorRouter.jsonResponse(
            .ok,
            .object([
                ("events", .array(page.events.map { Self.eventJSON($0.0, scope: $0.1) })),
                ("continuation", page.next.map { .string($0.token) } ?? .null),
            ]))
    }

    @Sendable func reserve(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        let body = try await VendorRouter.jsonBody(request)
        let reservation = try ReservationRequest.decode(
            body, configuration: service.configuration, now: service.time.now())
        let (made, scope) = try await service.with(logger: context.logger).reserve(
            reservation, caller: context.caller ?? "anonymous")
        return VendorRouter.jsonResponse(.created, Self.reservationJSON(made, scope: scope, readOnly: false))
    }

    /// Query parameters of `GET /api/reservations`.
    static let reservationParameters: Set<String> = ["subscriptionId", "region", "scope", "owner", "within", "code"]

    @Sendable func listReservations(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        let query = try ListingQuery(request, allowed: Self.reservationParameters, repeatable: [], service: service)
        var within: IPPrefix? = nil
        if let text = query.one("within") {
            do { within = try IPPrefix.parseNormalising(text).prefix } catch {
                throw VendorError(.invalidQuery, "\(error)", field: "within")
            }
        }
        let owner = query.one("owner")
        let all = try await service.with(logger: context.logger).reservations(in: query.scopes)
        let kept = all.filter { item in
            (owner == nil || item.0.owner == owner) && (within.map { $0.overlaps(item.0.prefix) } ?? true)
        }
        return VendorRouter.jsonResponse(
            .ok,
            .object([
                ("reservations", .array(kept.map { Self.reservationJSON($0.0, scope: $0.1, readOnly: $0.readOnly) }))
            ]))
    }

    @Sendable func unreserve(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        let id = try pathParameter(context, "reservationId")
        let ended = try await service.with(logger: context.logger).unreserve(id: id)
        var members: [(String, JSONValue)] = [
            ("reservationId", .string(id.lowercased())), ("released", .bool(ended != nil)),
        ]
        if let (reservation, scope) = ended {
            members += [("cidr", .string(reservation.prefix.description)), ("scope", .string(scope.partitionKey))]
        }
        return VendorRouter.jsonResponse(.ok, .object(members))
    }

    static func reservationJSON(_ reservation: Reservation, scope: Scope, readOnly: Bool) -> JSONValue {
        .object([
            ("reservationId", .string(reservation.id)), ("cidr", .string(reservation.prefix.description)),
            ("scope", .string(scope.partitionKey)),
            ("subscription", .string(scope.subscriptionId)), ("region", .string(scope.region)),
            ("owner", .string(reservation.owner)),
            ("reason", .string(reservation.reason)),
            ("expiresAt", reservation.expiresAt.map { .string(ISO8601.format($0)) } ?? .null),
            ("createdAt", readOnly ? .null : .string(ISO8601.format(reservation.createdAt))),
            ("createdBy", .string(reservation.createdBy)),
            ("readOnly", .bool(readOnly)),
        ])
    }

    static func eventJSON(_ event: AuditEvent, scope: Scope) -> JSONValue { event.json(scope: scope) }

    @Sendable func deleteLease(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        let id = try pathParameter(context, "leaseId")
        let (row, scope) = try await service.with(logger: context.logger).delete(leaseId: id, caller: caller(context))
        return VendorRouter.jsonResponse(.ok, Self.leaseJSON(row, scope: scope))
    }

    @Sendable func leaseBySession(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        let id = try pathParameter(context, "sessionId")
        guard LeaseRequestDecoder.isValidSessionId(id) else {
            throw VendorError(
                .invalidSessionId, "'SessionId' must be 1–128 characters of A–Z a–z 0–9 . _ : @ -", field: "sessionId")
        }
        let scope = try optionalScope(request) ?? service.configuration.defaultScope
        let (row, _) = try await service.with(logger: context.logger).lease(
            session: id, scope: scope, caller: caller(context).principal)
        return VendorRouter.jsonResponse(.ok, Self.leaseJSON(row, scope: scope))
    }

    @Sendable func release(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        let (leaseId, sessionId, scope) = try await leaseReference(request)
        let row = try await service.with(logger: context.logger).release(
            leaseId: leaseId, sessionId: sessionId, scope: scope, caller: caller(context))
        return VendorRouter.jsonResponse(.ok, Self.leaseJSON(row, scope: scope))
    }

    @Sendable func renew(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        let (leaseId, sessionId, scope) = try await leaseReference(request)
        let row = try await service.with(logger: context.logger).renew(
            leaseId: leaseId, sessionId: sessionId, scope: scope, caller: caller(context))
        return VendorRouter.jsonResponse(.ok, Self.leaseJSON(row, scope: scope))
    }

    @Sendable func pools(_ request: Request, _ context: VendorRequestContext) async throws -> Response {
        let pools = try await service.with(logger: context.logger).pools()
        var items: [JSONValue] = []
        for report in pools {
            let sizeItems: [JSONValue] = report.sizes.keys.sorted().map { size in
                let counts = report.sizes[size]!
                return .object(
                    [
                        ("prefixLength", .number(String(size.length))),
                        ("ipVersion", .string(size.version == .v4 ? "v4" : "v6")),
                    ]
                        + NetworkState.allCases.map { ($0.rawValue, .number(String(counts[$0] ?? 0))) })
            }
            let scope = report.scope
            var members: [(String, JSONValue)] = [
                ("scope", .string(scope.partitionKey)), ("subscription", .string(scope.subscriptionId)),
                ("region", .string(scope.region)),
                ("pool", report.pool.map { .string($0.name) } ?? .null),
                ("freeAddresses", .number(String(report.freeAddresses))),
                (
                    "largestFreePrefixLength",
                    report.largestFreePrefixLength == 0 ? .null : .number(String(report.largestFreePrefixLength))
                ),
                ("freeAddressesV6", .number(String(report.freeAddressesV6))),
                (
                    "largestFreePrefixLengthV6",
                    report.largestFreePrefixLengthV6 == 0 ? .null : .number(String(report.largestFreePrefixLengthV6))
                ),
                ("sizes", .array(sizeItems)),
                (
                    "stock",
                    .object(
                        report.stockTargets.keys.sorted().map { ($0.key, .number(String(report.stockTargets[$0]!))) })
                ),
            ]
            if let pool = report.pool {
                let limits = service.configuration.lengths(pool: pool.name, version: pool.prefix.version)
                members += [
                    ("parent", pool.parent.map(JSONValue.string) ?? .null), ("cidr", .string(pool.prefix.description)),
                    ("owner", pool.owner.map(JSONValue.string) ?? .null),
                    ("labels", .object(pool.labels.keys.sorted().map { ($0, .string(pool.labels[$0]!)) })),
                    (
                        "rules",
                        .object([
                            ("minPrefixLength", .number(String(limits.min))),
                            ("maxPrefixLength", .number(String(limits.max))),
                            ("defaultPrefixLength", .number(String(limits.default))),
                            (
                                "requiredTags",
                                .array(
                                    service.configuration.pools.lineage(pool.name).flatMap(\.rules.requiredTags).map(
                                        JSONValue.string))
                            ),
                            (
                                "allowedRequesters",
                                pool.rules.allowedRequesters.map { .array($0.map(JSONValue.string)) } ?? .null
                            ),
                        ])
                    ),
                    (
                        "quota",
                        .object([
                            (
                                "maxLeasesPerRequester",
                                pool.quota.maxLeasesPerRequester.map { .number(String($0)) } ?? .null
                            ),
                            (
                                "maxAddressesPerRequester",
                                pool.quota.maxAddressesPerRequester.map { .number(String($0)) } ?? .null
                            ),
                        ])
                    ),
                    (
                        "usage",
                        .array(
                            report.usage.map {
                                .object([
                                    ("requester", .string($0.requester)), ("leases", .number(String($0.leases))),
                                    ("addresses", .number(String($0.addresses))),
                                ])
                            })
                    ),
                ]
            }
            items.append(.object(members))
        }
        return VendorRouter.jsonResponse(.ok, .object([("pools", .array(items))]))
    }

    // MARK: Request pieces

    /// A path parameter, percent-decoded.
    func pathParameter(_ context: VendorRequestContext, _ name: String) throws -> String {
        let raw = try context.parameters.require(name)
        return raw.removingPercentEncoding ?? raw
    }

    func optionalScope(_ request: Request) throws(VendorError) -> Scope? {
        var fields: [String: JSONValue] = [:]
        if let subscription = request.uri.queryParameters.get("subscriptionId") {
            fields["subscriptionid"] = .string(subscription)
        }
        if let region = request.uri.queryParameters.get("region") { fields["region"] = .string(region) }
        if fields.isEmpty { return nil }
        do { return try LeaseRequestDecoder.resolveScope(fields, configuration: service.configuration) } catch {
            throw .badRequest(error)
        }
    }

    func leaseReference(_ request: Request) async throws(VendorError) -> (String?, String?, Scope) {
        let body = try await VendorRouter.jsonBody(request)
        do throws(RequestProblem) {
            let fields = try LeaseRequestDecoder.fields(
                body, allowed: ["sessionid", "leaseid", "subscriptionid", "region"])
            let sessionId = fields["sessionid"]?.stringValue
            let leaseId = fields["leaseid"]?.stringValue
            if fields["sessionid"] != nil && sessionId == nil {
                throw RequestProblem(code: .invalidField, field: "SessionId", message: "'SessionId' must be a string")
            }
            if fields["leaseid"] != nil && leaseId == nil {
                throw RequestProblem(code: .invalidField, field: "leaseId", message: "'leaseId' must be a string")
            }
            if let sessionId, !LeaseRequestDecoder.isValidSessionId(sessionId) {
                throw RequestProblem(
                    code: .invalidSessionId, field: "SessionId",
                    message: "'SessionId' must be 1–128 characters of A–Z a–z 0–9 . _ : @ -")
            }
            guard sessionId != nil || leaseId != nil else {
                throw RequestProblem(
                    code: .missingField, field: "SessionId", message: "name the lease by 'SessionId' or 'leaseId'")
            }
            let scope = try LeaseRequestDecoder.resolveScope(fields, configuration: service.configuration)
            return (leaseId, sessionId, scope)
        } catch {
            throw .badRequest(error)
        }
    }

    static func leaseJSON(_ row: NetworkRow, scope: Scope) -> JSONValue {
        func date(_ value: Date?) -> JSONValue { value.map { .string(ISO8601.format($0)) } ?? .null }
        let blocks = row.blocks
        return .object([
            ("leaseId", row.leaseId.map(JSONValue.string) ?? .null),
            ("sessionId", row.sessionId.map(JSONValue.string) ?? .null),
            ("cidr", .string(blocks.primary.description)), ("prefixLength", .number(String(blocks.primary.length))),
            ("cidrV6", blocks.v6.map { .string($0.description) } ?? .null),
            ("scope", .string(scope.partitionKey)), ("subscription", .string(scope.subscriptionId)),
            ("region", .string(scope.region)),
            ("state", .string(row.state.rawValue)), ("leasedAt", date(row.leasedAt)),
            ("expiresAt", date(row.state == .anchored ? nil : row.expiresAt)),
            ("anchoredAt", date(row.anchoredAt)), ("resourceId", row.resourceId.map(JSONValue.string) ?? .null),
            ("requester", row.requester.map(JSONValue.string) ?? .null),
            ("tags", .object(row.tags.keys.sorted().map { ($0, .string(row.tags[$0]!)) })),
        ])
    }
}

/// Request ids, logging, metrics, the headers every answer carries and the one error shape, around every
/// route. Authentication and roles are the routes' own (`VendorRouteTable`); a path no route matches
/// reaches nothing and answers 404.
struct EdgeMiddleware: RouterMiddleware {
    typealias Context = VendorRequestContext
    let logger: Logger
    let metrics: VendorMetrics
    /// The paths the routes serve, for 405 answers to other methods.
    let served: ServedPaths
    /// `--insecure-no-auth`: every log line says so.
    let authenticationDisabled: Bool
    static let requestIDHeader = HTTPField.Name("x-request-id")!
    static let contentTypeOptions = HTTPField.Name("x-content-type-options")!
    /// Methods that keep their name as a metric label (any other is `other`, so labels stay few).
    static let labelledMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var context = context
        let incoming = request.headers[Self.requestIDHeader].flatMap { id in
            id.count <= 64 && id.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }
                ? id : nil
        }
        context.requestID = incoming ?? UUID().uuidString.lowercased()
        var log = logger
        log[metadataKey: "request_id"] = .string(context.requestID)
        if authenticationDisabled { log[metadataKey: "auth"] = "disabled (--insecure-no-auth)" }
        context.logger = log // handlers log through it, so every line carries the request id
        // The route the router resolved (set before the middleware runs); nil when no route matched.
        var route = context.endpointPath
        var response: Response
        let started = ContinuousClock.now
        do {
            // No path parameter may hold a slash, so an encoded one only ever spells another path: no route.
            let path = request.uri.path
            if path.range(of: "%2f", options: .caseInsensitive) != nil
                || path.range(of: "%5c", options: .caseInsensitive) != nil
            {
                route = nil
                throw VendorError(.notFound, "no such route")
            }
            response = try await next(request, context)
        } catch {
            if let caller = context.authenticated.name { log[metadataKey: "caller"] = .string(caller) }
            var answer = Self.vendorError(error)
            // No route for this method: a served path answers 405 with the methods it has.
            if route == nil, let httpError = error as? HTTPError, httpError.status == .notFound,
                let path = served.resolve(request.uri.path)
            {
                answer = VendorError(
                    .methodNotAllowed,
                    "\(request.method.rawValue) is not allowed here; use \(path.methods.joined(separator: ", "))")
                answer.allowed = path.methods
                route = path.label
            }
            if answer.status.code >= 500 {
                log.error(
                    "request failed",
                    metadata: ["code": .string(answer.code.rawValue), "message": .string(answer.message)])
            }
            if answer.code == .internalError {
                log.error("unexpected failure", metadata: ["error": .string("\(error)")])
            }
            response = try answer.response(from: request, context: context)
        }
        if let caller = context.authenticated.name { log[metadataKey: "caller"] = .string(caller) }
        response.headers[Self.requestIDHeader] = context.requestID
        // Answers are data, never to be sniffed into something a browser runs, nor kept by caches.
        response.headers[Self.contentTypeOptions] = "nosniff"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        let method = Self.labelledMethods.contains(request.method.rawValue) ? request.method.rawValue : "other"
        metrics.recordRequest(
            route: route ?? "other", method: method, status: Int(response.status.code),
            duration: ContinuousClock.now - started)
        log.info(
            "request",
            metadata: [
                "method": .string(request.method.rawValue), "path": .string(request.uri.path),
                "status": .stringConvertible(response.status.code),
            ])
        return response
    }

    /// Any error as the one error shape: ours as they are, the router's (no such route) as `NotFound`,
    /// anything else as `InternalError` (logged, never shown).
    static func vendorError(_ error: any Error) -> VendorError {
        if let error = error as? VendorError { return error }
        if let error = error as? HTTPError {
            if error.status == .notFound { return VendorError(.notFound, error.body ?? "no such route") }
            return VendorError(.invalidRequest, error.body ?? error.status.reasonPhrase)
        }
        return VendorError(.internalError, "internal error")
    }
}
