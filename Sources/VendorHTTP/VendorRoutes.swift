import CoreMetrics
import Foundation
import HTTPTypes
import Hummingbird
import IPAMCore
import Inventory
import Logging
import Metrics
import NIOCore
import NetworkMath
import StrictJSON
import VendorAPI
import VendorDomain

/// Every route of `openapi/openapi.yaml`, as one collection.
struct VendorRoutes: Sendable {
    let service: VendorService
    let readiness: @Sendable () async -> String?

    @Sendable func adoptNetwork(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let body = try await VendorRouter.jsonBody(request)
        var lease: LeaseRequest
        do { lease = try RequestValidation.adoption(body, configuration: service.configuration) } catch {
            throw VendorError.badRequest(error)
        }
        lease.owner = service.redactor.principal(context.caller)
        let answer = try await service.with(logger: context.logger).adoptNetwork(lease)
        return VendorRouter.answer(answer.created ? .created : .ok, API.Lease(answer))
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
        return VendorRouter.answer(.ok, API.WebhookDeliveries(webhook, cursors: cursors, deadLetters: dead))
    }

    @Sendable func ready(_ request: Request, _ context: VendorRequestContext) async -> Response {
        if let problem = await readiness() {
            // The detail (hosts, ports, storage errors) is for the log; the open probe only says what is down.
            context.logger.warning("not ready", metadata: ["reason": .string(problem)])
            return VendorRouter.answer(
                .serviceUnavailable, API.Readiness(status: "unavailable", reason: "storage unavailable"))
        }
        return VendorRouter.answer(.ok, API.Readiness(status: "ready"))
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
        let dryRun: Bool
        do {
            let wire = try WireDecoder.strict.decode(API.NewNetworkRequest.self, from: body)
            lease = try RequestValidation.lease(wire, configuration: service.configuration)
            try wire.refusals.check("dryRun")
            dryRun = wire.dryRun == true
        } catch {
            throw VendorError.badRequest(error)
        }
        lease.owner = service.redactor.principal(context.caller)
        if dryRun {
            let preview = try await service.with(logger: context.logger).previewNetwork(lease)
            return VendorRouter.answer(.ok, API.NetworkPreview(preview))
        }
        let effort = VendorService.Effort()
        let started = ContinuousClock.now
        let answer = try await service.with(logger: context.logger).getNewNetwork(lease, effort: effort)
        service.metrics.recordAllocation(created: answer.created, duration: ContinuousClock.now - started)
        var response = VendorRouter.answer(answer.created ? .created : .ok, API.Lease(answer))
        response.headers[HTTPField.Name("x-ipam-claim-attempts")!] = String(effort.claimAttempts)
        response.headers[HTTPField.Name("x-ipam-storage-calls")!] = String(effort.storageCalls)
        return response
    }

    @Sendable func leaseByID(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let id = try pathParameter(context, "leaseId")
        let scope = try optionalScope(request)
        let (row, rowScope) = try await service.with(logger: context.logger).lease(id: id, scope: scope)
        return VendorRouter.answer(.ok, API.LeaseRecord(row, scope: rowScope))
    }

    /// Query parameters of `GET /api/leases`; `code` is the Functions host's key convention.
    static let listParameters: Set<String> = [
        "subscriptionId", "accountId", "region", "scope", "state", "requester", "tag", "within", "limit",
        "continuation",
        "code",
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
        return VendorRouter.answer(
            .ok,
            API.LeaseList(
                leases: page.leases.map { API.LeaseRecord($0.0, scope: $0.1) }, continuation: page.next?.token))
    }

    /// Query parameters of `GET /api/events`.
    static let eventParameters: Set<String> = [
        "subscriptionId", "accountId", "region", "scope", "since", "until", "action", "leaseId", "actor", "limit",
        "continuation",
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
        return VendorRouter.answer(
            .ok,
            API.EventList(events: page.events.map { $0.0.answer(scope: $0.1) }, continuation: page.next?.token))
    }

    /// Query parameters of `GET /api/history`.
    static let historyParameters: Set<String> = [
        "cidr", "leaseId", "resourceId", "subscriptionId", "accountId", "region", "scope", "since", "until", "limit",
        "continuation", "code",
    ]

    @Sendable func addressHistory(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let query = try ListingQuery(request, allowed: Self.historyParameters, repeatable: [], service: service)
        let subjects = ["cidr", "leaseId", "resourceId"].filter { query.one($0) != nil }
        guard let name = subjects.first else {
            throw VendorError(.invalidQuery, "name what to look up: 'cidr', 'leaseId' or 'resourceId'", field: "cidr")
        }
        guard subjects.count == 1 else {
            throw VendorError(
                .invalidQuery, "'\(subjects[0])' and '\(subjects[1])' do not go together: name one", field: subjects[1])
        }
        let value = query.one(name)!
        let subject: HistoryQuery.Subject
        switch name {
        case "cidr":
            // Not a filter but what is asked about: a CIDR with host bits is refused, naming the block meant.
            do { subject = .cidr(try IPPrefix(parsing: value)) } catch {
                throw VendorError(.invalidQuery, "\(error)", field: "cidr")
            }
        case "leaseId":
            guard UUID(uuidString: value) != nil else {
                throw VendorError(.invalidQuery, "'leaseId' must be a lease id", field: "leaseId")
            }
            subject = .lease(value.lowercased())
        default:
            guard !value.isEmpty, value.count <= 1024, !value.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
                throw VendorError(.invalidQuery, "'resourceId' must be a resource id", field: "resourceId")
            }
            subject = .resource(value)
        }
        var history = HistoryQuery(subject: subject, scopes: query.scopes, limit: query.limit)
        for name in ["since", "until"] {
            guard let text = query.one(name) else { continue }
            guard let date = ISO8601.parse(text) else {
                throw VendorError(
                    .invalidQuery, "'\(name)' must be an ISO 8601 time, e.g. 2026-12-01T10:00:00Z", field: name)
            }
            if name == "since" { history.since = date } else { history.until = date }
        }
        if let since = history.since, let until = history.until, since > until {
            throw VendorError(.invalidQuery, "'until' is before 'since'", field: "until")
        }
        if let token = query.one("continuation") {
            guard let cursor = HistoryCursor(token: token) else {
                throw VendorError(
                    .invalidContinuation, "'continuation' is not a token this listing gave", field: "continuation")
            }
            history.after = cursor
        }
        let page = try await service.with(logger: context.logger).history(history)
        var response = VendorRouter.answer(
            .ok, API.AddressHistory(entries: page.entries.map(API.HistoryEntry.init), continuation: page.next?.token))
        response.headers[HTTPField.Name("x-ipam-storage-calls")!] = String(page.roundTrips)
        return response
    }

    @Sendable func reserve(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let body = try await VendorRouter.jsonBody(request)
        let reservation: ReservationRequest
        do {
            reservation = try RequestValidation.reservation(
                body, configuration: service.configuration, now: service.time.now())
        } catch {
            throw DomainError.badRequest(error)
        }
        let (made, scope) = try await service.with(logger: context.logger).reserve(
            reservation, caller: context.caller)
        return VendorRouter.answer(.created, API.Reservation(made, scope: scope, readOnly: false))
    }

    /// Query parameters of `GET /api/reservations`.
    static let reservationParameters: Set<String> = [
        "subscriptionId", "accountId", "region", "scope", "owner", "within", "code",
    ]

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
        return VendorRouter.answer(
            .ok,
            API.ReservationList(reservations: kept.map { API.Reservation($0.0, scope: $0.1, readOnly: $0.readOnly) }))
    }

    @Sendable func unreserve(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let id = try pathParameter(context, "reservationId")
        let ended = try await service.with(logger: context.logger).unreserve(id: id)
        return VendorRouter.answer(
            .ok,
            API.Unreservation(
                reservationId: id.lowercased(), released: ended != nil, cidr: ended?.0.prefix.description,
                scope: ended?.1.partitionKey))
    }

    @Sendable func deleteLease(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let id = try pathParameter(context, "leaseId")
        let (row, scope) = try await service.with(logger: context.logger).delete(leaseId: id, caller: caller(context))
        return VendorRouter.answer(.ok, API.LeaseRecord(row, scope: scope))
    }

    @Sendable func leaseBySession(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let id = try pathParameter(context, "sessionId")
        guard RequestRules.isValidSessionId(id) else {
            throw VendorError(
                .invalidSessionId, "'SessionId' must be 1–128 characters of A–Z a–z 0–9 . _ : @ -", field: "sessionId")
        }
        let scope = try optionalScope(request) ?? service.configuration.defaultScope
        let (row, _) = try await service.with(logger: context.logger).lease(
            session: id, scope: scope, caller: caller(context).principal)
        return VendorRouter.answer(.ok, API.LeaseRecord(row, scope: scope))
    }

    @Sendable func release(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let (leaseId, sessionId, scope) = try await leaseReference(request)
        let row = try await service.with(logger: context.logger).release(
            leaseId: leaseId, sessionId: sessionId, scope: scope, caller: caller(context))
        return VendorRouter.answer(.ok, API.LeaseRecord(row, scope: scope))
    }

    @Sendable func renew(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let (leaseId, sessionId, scope) = try await leaseReference(request)
        let row = try await service.with(logger: context.logger).renew(
            leaseId: leaseId, sessionId: sessionId, scope: scope, caller: caller(context))
        return VendorRouter.answer(.ok, API.LeaseRecord(row, scope: scope))
    }

    @Sendable func pools(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let pools = try await service.with(logger: context.logger).pools()
        return VendorRouter.answer(
            .ok, API.Pools(pools: pools.map { API.Pools.Report($0, configuration: service.configuration) }))
    }

    // MARK: Request pieces

    /// A path parameter, percent-decoded.
    func pathParameter(_ context: some RequestContext, _ name: String) throws -> String {
        let raw = try context.parameters.require(name)
        return raw.removingPercentEncoding ?? raw
    }

    func optionalScope(_ request: Request) throws(VendorError) -> Scope? {
        let subscription = request.uri.queryParameters.get("subscriptionId")
        let account = request.uri.queryParameters.get("accountId")
        let region = request.uri.queryParameters.get("region")
        if subscription == nil && account == nil && region == nil { return nil }
        // A query narrows, as the listings' filters do: both owners, or an AWS account with a region that is not
        // AWS's, name no scope (404; a body naming them is refused as invalid instead, 400).
        if let account, Scope.isAWSAccountId(account),
            subscription != nil || region.map({ !Scope.isAWSRegion($0.lowercased()) }) == true
        {
            throw VendorError(
                .unknownScope, "no configured scope matches subscriptionId/accountId/region",
                field: subscription != nil ? "accountId" : "region")
        }
        do {
            return try RequestRules.resolveScope(
                subscriptionId: subscription, accountId: account, region: region, configuration: service.configuration)
        } catch {
            throw .badRequest(error)
        }
    }

    func leaseReference(_ request: Request) async throws(VendorError) -> (String?, String?, Scope) {
        let body = try await VendorRouter.jsonBody(request)
        do throws(RequestProblem) {
            let reference = try WireDecoder.strict.decode(API.LeaseReference.self, from: body)
            if let sessionId = reference.sessionId, !RequestRules.isValidSessionId(sessionId) {
                throw RequestRules.invalidSessionId()
            }
            if let leaseId = reference.leaseId, UUID(uuidString: leaseId) == nil {
                throw RequestProblem(code: .invalidLeaseId, field: "leaseId", message: "'leaseId' must be a lease id")
            }
            guard reference.sessionId != nil || reference.leaseId != nil else {
                throw RequestProblem(
                    code: .missingField, field: "SessionId", message: "name the lease by 'SessionId' or 'leaseId'")
            }
            let scope = try RequestRules.resolveScope(
                subscriptionId: reference.subscriptionId, accountId: reference.accountId, region: reference.region,
                configuration: service.configuration)
            return (reference.leaseId, reference.sessionId, scope)
        } catch {
            throw .badRequest(error)
        }
    }
}
