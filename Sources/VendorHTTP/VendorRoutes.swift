import Foundation
import HTTPTypes
import Hummingbird
import IPAMCore
import Inventory
import NIOCore
import NetworkMath
import StrictJSON
import VendorDomain

/// Every route of `openapi/openapi.yaml`, as one collection.
struct VendorRoutes: Sendable {
    let service: VendorService
    let readiness: @Sendable () async -> String?
    /// The operator console, when `CONSOLE_SESSION_SECRET` is set.
    let console: ConsoleRoutes?

    @Sendable func adoptNetwork(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let body = try await VendorRouter.jsonBody(request)
        var lease: LeaseRequest
        do { lease = try LeaseRequestDecoder.decodeAdoption(body, configuration: service.configuration) } catch {
            throw VendorError.badRequest(error)
        }
        lease.owner = service.redactor.principal(context.caller)
        let answer = try await service.with(logger: context.logger).adoptNetwork(lease)
        return VendorRouter.jsonResponse(answer.created ? .created : .ok, answer.json)
    }

    @Sendable func webhookDeliveries(_ request: Request, _ context: AuthenticatedRequestContext) async throws
        -> Response
    {
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

    @Sendable func metrics(_ request: Request, _ context: AuthenticatedRequestContext) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(
            status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: service.metrics.exposition())))
    }

    @Sendable func getNewNetwork(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let body = try await VendorRouter.jsonBody(request)
        var lease: LeaseRequest
        do { lease = try LeaseRequestDecoder.decode(body, configuration: service.configuration) } catch {
            throw VendorError.badRequest(error)
        }
        lease.owner = service.redactor.principal(context.caller)
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

    @Sendable func leaseByID(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let id = try pathParameter(context, "leaseId")
        let scope = try optionalScope(request)
        let (row, rowScope) = try await service.with(logger: context.logger).lease(id: id, scope: scope)
        return VendorRouter.jsonResponse(.ok, Self.leaseJSON(row, scope: rowScope))
    }

    /// Query parameters of `GET /api/leases`; `code` is the Functions host's key convention.
    static let listParameters: Set<String> = [
        "subscriptionId", "region", "scope", "state", "requester", "tag", "within", "limit", "continuation", "code",
    ]

    @Sendable func listLeases(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
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

    @Sendable func listEvents(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
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

    @Sendable func reserve(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let body = try await VendorRouter.jsonBody(request)
        let reservation = try ReservationRequest.decode(
            body, configuration: service.configuration, now: service.time.now())
        let (made, scope) = try await service.with(logger: context.logger).reserve(
            reservation, caller: context.caller)
        return VendorRouter.jsonResponse(.created, Self.reservationJSON(made, scope: scope, readOnly: false))
    }

    /// Query parameters of `GET /api/reservations`.
    static let reservationParameters: Set<String> = ["subscriptionId", "region", "scope", "owner", "within", "code"]

    @Sendable func listReservations(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response
    {
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

    @Sendable func unreserve(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
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

    @Sendable func deleteLease(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let id = try pathParameter(context, "leaseId")
        let (row, scope) = try await service.with(logger: context.logger).delete(leaseId: id, caller: caller(context))
        return VendorRouter.jsonResponse(.ok, Self.leaseJSON(row, scope: scope))
    }

    @Sendable func leaseBySession(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
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

    @Sendable func release(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let (leaseId, sessionId, scope) = try await leaseReference(request)
        let row = try await service.with(logger: context.logger).release(
            leaseId: leaseId, sessionId: sessionId, scope: scope, caller: caller(context))
        return VendorRouter.jsonResponse(.ok, Self.leaseJSON(row, scope: scope))
    }

    @Sendable func renew(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let (leaseId, sessionId, scope) = try await leaseReference(request)
        let row = try await service.with(logger: context.logger).renew(
            leaseId: leaseId, sessionId: sessionId, scope: scope, caller: caller(context))
        return VendorRouter.jsonResponse(.ok, Self.leaseJSON(row, scope: scope))
    }

    @Sendable func pools(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
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
    func pathParameter(_ context: some RequestContext, _ name: String) throws -> String {
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
