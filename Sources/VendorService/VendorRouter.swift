import AzureCore
import Foundation
import HTTPTypes
import Hummingbird
import IPAMCore
import Inventory
import Logging
import NIOCore
import StrictJSON

/// The Vendor's HTTP edge: routes, authentication, request ids, body limits, and the one place
/// where errors become JSON answers `{code, message, requestId, …}`.
public enum VendorRouter {
    /// Largest accepted request body.
    public static let maxBodyBytes = 64 * 1024

    /// - Parameters:
    ///   - keys: accepted API keys; `nil` disables authentication (`--insecure-no-auth`).
    ///   - readiness: checks storage for `/readyz`.
    public static func build(service: VendorService, keys: APIKeys?, logger: Logger,
                             readiness: @escaping @Sendable () async -> String?) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: EdgeMiddleware(keys: keys, logger: logger, metrics: service.metrics))
        router.get("/") { _, _ in Response(status: .ok) } // the Functions host pings the handler here
        router.get("/healthz") { _, _ in jsonResponse(.ok, .object([("status", .string("ok"))])) }
        router.get("/readyz") { _, _ in
            if let problem = await readiness() {
                return jsonResponse(.serviceUnavailable, .object([("status", .string("unavailable")), ("reason", .string(problem))]))
            }
            return jsonResponse(.ok, .object([("status", .string("ready"))]))
        }
        router.get("/metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: service.metrics.exposition())))
        }
        router.post("/api/getNewNetwork") { request, context in
            let body = try await jsonBody(request)
            let lease: LeaseRequest
            do { lease = try LeaseRequestDecoder.decode(body, configuration: service.configuration) } catch let problem as RequestProblem {
                throw VendorError.badRequest(problem)
            }
            var effort = VendorService.Effort()
            let started = ContinuousClock.now
            let answer = try await service.with(logger: context.logger).getNewNetwork(lease, effort: &effort)
            service.metrics.allocationDuration.record(duration: ContinuousClock.now - started)
            (answer.created ? service.metrics.created : service.metrics.replayed).increment()
            var response = jsonResponse(answer.created ? .created : .ok, answer.json)
            response.headers[HTTPField.Name("x-ipam-claim-attempts")!] = String(effort.claimAttempts)
            response.headers[HTTPField.Name("x-ipam-storage-calls")!] = String(effort.storageCalls)
            return response
        }
        router.get("/api/leases/:leaseId") { request, context in
            let id = try pathParameter(context, "leaseId")
            let scope = try optionalScope(request, service.configuration)
            let (row, rowScope) = try await service.with(logger: context.logger).lease(id: id, scope: scope)
            return jsonResponse(.ok, leaseJSON(row, scope: rowScope))
        }
        router.get("/api/sessions/:sessionId") { request, context in
            let id = try pathParameter(context, "sessionId")
            guard LeaseRequestDecoder.isValidSessionId(id) else {
                throw VendorError(status: 400, code: "InvalidSessionId", message: "'SessionId' must be 1–128 characters of A–Z a–z 0–9 . _ : @ -", field: "sessionId")
            }
            let scope = try optionalScope(request, service.configuration) ?? service.configuration.defaultScope
            let (row, _) = try await service.with(logger: context.logger).lease(session: id, scope: scope)
            return jsonResponse(.ok, leaseJSON(row, scope: scope))
        }
        router.post("/api/releaseNetwork") { request, context in
            let (leaseId, sessionId, scope) = try await leaseReference(request, service.configuration)
            let row = try await service.with(logger: context.logger).release(leaseId: leaseId, sessionId: sessionId, scope: scope)
            return jsonResponse(.ok, leaseJSON(row, scope: scope))
        }
        router.post("/api/renewLease") { request, context in
            let (leaseId, sessionId, scope) = try await leaseReference(request, service.configuration)
            let row = try await service.with(logger: context.logger).renew(leaseId: leaseId, sessionId: sessionId, scope: scope)
            return jsonResponse(.ok, leaseJSON(row, scope: scope))
        }
        router.get("/api/pools") { _, context in
            let pools = try await service.with(logger: context.logger).pools()
            var items: [JSONValue] = []
            for (scope, sizes, free, largest) in pools {
                let sizeItems: [JSONValue] = sizes.keys.sorted().map { length in
                    let counts = sizes[length]!
                    return .object([("prefixLength", .number(String(length)))] + NetworkState.allCases.map { ($0.rawValue, .number(String(counts[$0] ?? 0))) })
                }
                items.append(.object([
                    ("scope", .string(scope.partitionKey)), ("subscription", .string(scope.subscriptionId)), ("region", .string(scope.region)),
                    ("freeAddresses", .number(String(free))), ("largestFreePrefixLength", largest == 0 ? .null : .number(String(largest))),
                    ("sizes", .array(sizeItems)),
                ]))
            }
            return jsonResponse(.ok, .object([("pools", .array(items))]))
        }
        return router
    }

    /// A path parameter, percent-decoded.
    static func pathParameter(_ context: BasicRequestContext, _ name: String) throws -> String {
        let raw = try context.parameters.require(name)
        return raw.removingPercentEncoding ?? raw
    }

    /// The request body, enforcing JSON content type and the size limit.
    static func jsonBody(_ request: Request) async throws -> [UInt8] {
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix("application/json") else {
            throw VendorError(status: 415, code: "UnsupportedMediaType", message: "send the body as application/json")
        }
        var collected: ByteBuffer
        do { collected = try await request.body.collect(upTo: maxBodyBytes) } catch {
            throw VendorError(status: 413, code: "PayloadTooLarge", message: "the request body exceeds \(maxBodyBytes) bytes")
        }
        return collected.readBytes(length: collected.readableBytes) ?? []
    }

    static func optionalScope(_ request: Request, _ configuration: IPAMConfiguration) throws -> Scope? {
        var fields: [String: JSONValue] = [:]
        if let subscription = request.uri.queryParameters.get("subscriptionId") { fields["subscriptionid"] = .string(subscription) }
        if let region = request.uri.queryParameters.get("region") { fields["region"] = .string(region) }
        if fields.isEmpty { return nil }
        do { return try LeaseRequestDecoder.resolveScope(fields, configuration: configuration) } catch {
            throw VendorError.badRequest(error)
        }
    }

    static func leaseReference(_ request: Request, _ configuration: IPAMConfiguration) async throws -> (String?, String?, Scope) {
        let body = try await jsonBody(request)
        do {
            let fields = try LeaseRequestDecoder.fields(body, allowed: ["sessionid", "leaseid", "subscriptionid", "region"])
            let sessionId = fields["sessionid"]?.stringValue
            let leaseId = fields["leaseid"]?.stringValue
            if fields["sessionid"] != nil && sessionId == nil { throw RequestProblem(code: "InvalidField", field: "SessionId", message: "'SessionId' must be a string") }
            if fields["leaseid"] != nil && leaseId == nil { throw RequestProblem(code: "InvalidField", field: "leaseId", message: "'leaseId' must be a string") }
            if let sessionId, !LeaseRequestDecoder.isValidSessionId(sessionId) {
                throw RequestProblem(code: "InvalidSessionId", field: "SessionId", message: "'SessionId' must be 1–128 characters of A–Z a–z 0–9 . _ : @ -")
            }
            guard sessionId != nil || leaseId != nil else { throw RequestProblem(code: "MissingField", field: "SessionId", message: "name the lease by 'SessionId' or 'leaseId'") }
            let scope = try LeaseRequestDecoder.resolveScope(fields, configuration: configuration)
            return (leaseId, sessionId, scope)
        } catch let problem as RequestProblem {
            throw VendorError.badRequest(problem)
        }
    }

    static func leaseJSON(_ row: NetworkRow, scope: Scope) -> JSONValue {
        func date(_ value: Date?) -> JSONValue { value.map { .string(ISO8601.format($0)) } ?? .null }
        return .object([
            ("leaseId", row.leaseId.map(JSONValue.string) ?? .null), ("sessionId", row.sessionId.map(JSONValue.string) ?? .null),
            ("cidr", .string(row.prefix.description)), ("prefixLength", .number(String(row.prefix.length))),
            ("scope", .string(scope.partitionKey)), ("subscription", .string(scope.subscriptionId)), ("region", .string(scope.region)),
            ("state", .string(row.state.rawValue)), ("leasedAt", date(row.leasedAt)), ("expiresAt", date(row.state == .anchored ? nil : row.expiresAt)),
            ("anchoredAt", date(row.anchoredAt)), ("resourceId", row.resourceId.map(JSONValue.string) ?? .null),
        ])
    }

    static func jsonResponse(_ status: HTTPResponse.Status, _ body: JSONValue) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body.serializedBytes)))
    }
}

/// Request ids, authentication, logging and error answers for every route.
struct EdgeMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let keys: APIKeys?
    let logger: Logger
    let metrics: VendorMetrics
    static let requestIDHeader = HTTPField.Name("x-request-id")!
    static let functionsKeyHeader = HTTPField.Name("x-functions-key")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let incoming = request.headers[Self.requestIDHeader].flatMap { id in
            id.count <= 64 && id.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." } ? id : nil
        }
        let requestID = incoming ?? RandomID.uuid()
        var log = logger
        log[metadataKey: "request_id"] = .string(requestID)
        if keys == nil { log[metadataKey: "auth"] = "disabled (--insecure-no-auth)" }
        context.logger = log // handlers log through it, so every line carries the request id
        var response: Response
        let started = ContinuousClock.now
        do {
            let path = request.uri.path
            if path.hasPrefix("/api/") || path == "/metrics" { try authenticate(request) }
            response = try await next(request, context)
        } catch let error as VendorError {
            response = Self.errorResponse(error, requestID: requestID)
            if error.status >= 500 { log.error("request failed", metadata: ["code": .string(error.code), "message": .string(error.message)]) }
        } catch let error as HTTPError {
            if error.status == .notFound, let allowed = Self.allowedMethods(request.uri.path) {
                response = Self.errorResponse(VendorError(status: 405, code: "MethodNotAllowed",
                                                          message: "\(request.method.rawValue) is not allowed here; use \(allowed.joined(separator: ", "))"), requestID: requestID)
                response.headers[.allow] = allowed.joined(separator: ", ")
            } else {
                let code = error.status == .notFound ? "NotFound" : "HTTPError"
                response = Self.errorResponse(VendorError(status: Int(error.status.code), code: code, message: error.body ?? error.status.reasonPhrase), requestID: requestID)
            }
        } catch {
            log.error("unexpected failure", metadata: ["error": .string("\(error)")])
            response = Self.errorResponse(VendorError(status: 500, code: "InternalError", message: "internal error"), requestID: requestID)
        }
        response.headers[Self.requestIDHeader] = requestID
        metrics.recordRequest(route: Self.route(request.uri.path), method: request.method.rawValue, status: Int(response.status.code),
                              duration: ContinuousClock.now - started)
        log.info("request", metadata: ["method": .string(request.method.rawValue), "path": .string(request.uri.path),
                                       "status": .stringConvertible(response.status.code)])
        return response
    }

    /// The route a path belongs to, as a metric label (ids replaced, unknown paths grouped).
    static func route(_ path: String) -> String {
        guard allowedMethods(path) != nil else { return "other" }
        if path.hasPrefix("/api/leases/") { return "/api/leases/{leaseId}" }
        if path.hasPrefix("/api/sessions/") { return "/api/sessions/{sessionId}" }
        return path
    }

    /// The methods a known path accepts (for 405 answers), nil for unknown paths.
    static func allowedMethods(_ path: String) -> [String]? {
        switch path {
        case "/", "/healthz", "/readyz", "/metrics", "/api/pools": return ["GET"]
        case "/api/getNewNetwork", "/api/releaseNetwork", "/api/renewLease": return ["POST"]
        default:
            for prefix in ["/api/leases/", "/api/sessions/"] where path.hasPrefix(prefix) && path.count > prefix.count && !path.dropFirst(prefix.count).contains("/") {
                return ["GET"]
            }
            return nil
        }
    }

    func authenticate(_ request: Request) throws {
        guard let keys else { return }
        var presented = request.headers[Self.functionsKeyHeader]
        if presented == nil, let authorization = request.headers[.authorization], authorization.lowercased().hasPrefix("bearer ") {
            presented = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        }
        if presented == nil { presented = request.uri.queryParameters.get("code") } // the Functions `?code=` convention
        guard let presented, keys.accepts(presented) else {
            throw VendorError(status: 401, code: "Unauthorized", message: "send a valid key in x-functions-key, Authorization: Bearer, or ?code=")
        }
    }

    static func errorResponse(_ error: VendorError, requestID: String) -> Response {
        var members: [(String, JSONValue)] = [("code", .string(error.code)), ("message", .string(error.message)), ("requestId", .string(requestID))]
        if let field = error.field { members.append(("field", .string(field))) }
        if !error.details.isEmpty {
            members.append(("details", .object(error.details.keys.sorted().map { ($0, .string(error.details[$0]!)) })))
        }
        var response = VendorRouter.jsonResponse(HTTPResponse.Status(code: error.status), .object(members))
        if let retryAfter = error.retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        if error.status == 401 { response.headers[.wwwAuthenticate] = "Bearer" }
        return response
    }
}
