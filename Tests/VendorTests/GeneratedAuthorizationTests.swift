import AzureTables
import Foundation
import HTTPTransport
import HTTPTypes
import Hummingbird
import IPAMCore
import Inventory
import Logging
import StrictJSON
import TestSupport
import Testing
import TokenAuth
import Yams

@testable import VendorDomain
@testable import VendorHTTP

/// The authorization matrix, generated from `openapi/openapi.yaml`: every operation × every kind of caller
/// (none, a wrong key, a key of each role, a token of each role, a valid token without a mapped role, a token
/// of another issuer) × every spelling of its path. The answer expected comes from the operation's
/// `x-ipam-role`; a refused request changes nothing in storage. A new operation is covered when it is documented.
@Suite("Authorization generated from openapi/")
struct GeneratedAuthorizationTests {
    struct Operation: CustomStringConvertible {
        let method: String
        let path: String
        /// `open`, `reader`, `lease` or `admin`.
        let role: String
        var description: String { "\(method) \(path) (\(role))" }
    }

    /// Who calls: the headers sent, and the role the Vendor should see (nil: not authenticated).
    struct Caller: CustomStringConvertible {
        let name: String
        let headers: HTTPHeaderList
        let expected: Expected

        enum Expected {
            case unauthorized, noRole
            case role(Int)
        }
        var description: String { name }
    }

    enum Outcome: Equatable { case reached, unauthorized, forbidden }

    static let ranks = ["open": 0, "reader": 1, "lease": 2, "admin": 3]
    static let audience = "api://ipam-authz"
    static let keys = APIKeys(
        reader: "auditor=authz-reader", lease: "builder=authz-lease", admin: "operator=authz-admin")

    /// Every operation of the spec.
    static func operations() throws -> [Operation] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("openapi/openapi.yaml")
        let spec = try #require(try Yams.load(yaml: String(contentsOf: url, encoding: .utf8)) as? [String: Any])
        let paths = try #require(spec["paths"] as? [String: Any])
        var result: [Operation] = []
        for (path, item) in paths {
            for (method, operation) in try #require(item as? [String: Any])
            where ["get", "post", "put", "delete", "patch"].contains(method) {
                let role = try #require(
                    (operation as? [String: Any])?["x-ipam-role"] as? String, "\(method) \(path) names no x-ipam-role")
                #expect(ranks[role] != nil, "\(method) \(path): x-ipam-role \(role)")
                result.append(Operation(method: method.uppercased(), path: path, role: role))
            }
        }
        return result.sorted { ($0.path, $0.method) < ($1.path, $1.method) }
    }

    /// The path with its parameters filled in.
    static func concrete(_ path: String) -> String {
        path.replacingOccurrences(of: "{leaseId}", with: "00000000-0000-4000-8000-00000000a0a0")
            .replacingOccurrences(of: "{reservationId}", with: "00000000-0000-4000-8000-00000000b0b0")
            .replacingOccurrences(of: "{sessionId}", with: "authz-none").replacingOccurrences(
                of: "{principal}", with: "authz-principal"
            )
            .replacingOccurrences(of: "{name}", with: "ops")
    }

    static func body(_ operation: Operation) -> String? {
        switch operation.path {
        case "/api/getNewNetwork": #"{"SessionId":"authz-\#(UUID().uuidString.prefix(8))"}"#
        case "/api/releaseNetwork", "/api/renewLease": #"{"SessionId":"authz-none"}"#
        case "/api/reservations" where operation.method == "POST":
            #"{"prefixLength":28,"owner":"authz","reason":"walking every route"}"#
        case "/api/adoptNetwork": #"{"SessionId":"authz-adopt","cidr":"10.64.200.0/24"}"#
        default: operation.method == "GET" || operation.method == "DELETE" ? nil : "{}"
        }
    }

    static func expected(_ operation: Operation, _ caller: Caller) -> Outcome {
        let needed = ranks[operation.role]!
        if needed == 0 { return .reached }
        switch caller.expected {
        case .unauthorized: return .unauthorized
        case .noRole: return .forbidden
        case .role(let rank): return rank >= needed ? .reached : .forbidden
        }
    }

    /// What an answer says about the route: nil when no route was reached (404 `NotFound` of the router).
    static func outcome(_ answer: HTTPAnswer) -> Outcome? {
        if answer.status == 404 && answer.code == "NotFound" && answer.string("message") == "no such route" {
            return nil
        }
        if answer.status == 401 && answer.code == "Unauthorized" && answer.headers["WWW-Authenticate"] == "Bearer" {
            return .unauthorized
        }
        if answer.status == 403 && answer.code == "Forbidden" { return .forbidden }
        return .reached
    }

    /// Every spelling of a concrete path; those that do not resolve must answer 404.
    static func spellings(_ path: String) -> [String] {
        var result = [path, path + "/", "/" + path, path + "//", path.uppercased()]
        if let inner = path.dropFirst().firstIndex(of: "/") {
            result.append(path.replacingCharacters(in: inner...inner, with: "//"))
            result.append(path.replacingCharacters(in: inner...inner, with: "%2F"))
        }
        return result
    }

    /// Every row of every table of the Vendor (its inventory table and any table named after it).
    static func snapshot(_ table: TableClient) async throws -> [String: [String]] {
        var result: [String: [String]] = [:]
        for name in try await table.service.listTables() where name.lowercased().hasPrefix(table.name.lowercased()) {
            result[name] = try await table.service.table(name).queryAll().map {
                "\($0.partitionKey)|\($0.rowKey)|\($0.etag ?? "")"
            }.sorted()
        }
        return result
    }

    @Test(
        "the routes the Vendor registers are exactly the operations of openapi/, each with the role its x-ipam-role names"
    )
    func registeredRoutesAreTheSpec() async throws {
        let environment = SampleConfiguration.environment(
            table: "routecheck", connectionString: try await TestStorage.connectionString())
        let inventory = Inventory(table: try await TestStorage.service().table("routecheck"), actor: "route-check")
        let service = VendorService(
            configuration: try IPAMConfiguration.load(environment: environment), inventory: inventory,
            redactor: PrincipalRedactor(salt: SampleConfiguration.auditSalt), logger: Logger(label: "route-check"))
        let authentication = AuthenticationMiddleware(
            authenticator: Authenticator(
                keys: nil, tokens: nil, throttle: FailedKeyThrottle(uptime: { .zero }), time: .system),
            redactor: nil)
        let registered = VendorRoutes(service: service, readiness: { nil })
            .table(authentication: authentication).entries
            .filter { !$0.path.description.hasPrefix("/console") } // HTML pages of their own, not the API
            .map { entry -> String in
                let role =
                    switch entry.access {
                    case .open: "open"
                    case .role(let role): role.description
                    case .consoleSession: "console"
                    }
                return "\(entry.method.rawValue) \(entry.path.description) \(role)"
            }
        let documented = try Self.operations().map { "\($0.method) \($0.path) \($0.role)" }
        #expect(registered.sorted() == documented.sorted())
        #expect(Set(registered).count == registered.count)
    }

    @Test(
        "every operation × every caller × every path spelling answers as x-ipam-role says; refused requests change nothing"
    )
    func matrix() async throws {
        let operations = try Self.operations()
        #expect(operations.count >= 26)
        let issuer = try FakeIssuer()
        let time = ManualTime() // failed keys are slowed down: their waits pass at once here
        try await TestServers.withFakeServer({ issuer.handle($0) }) { port in
            issuer.setBase("http://127.0.0.1:\(port)/tenant-1/v2.0")
            let verifier = BearerTokenVerifier(
                issuer: issuer.issuer, audience: Self.audience, transport: TestStorage.transport,
                metadataURL: "http://127.0.0.1:\(port)/.well-known/openid-configuration")
            func token(_ roles: [String]) throws -> HTTPHeaderList {
                let claims = issuer.claims(
                    subject: "sub-\(roles.first ?? "none")", roles: roles, audience: Self.audience)
                return ["Authorization": "Bearer " + (try issuer.token(claims))]
            }
            let foreign: HTTPHeaderList = [
                "Authorization": "Bearer "
                    + (try issuer.foreignToken(issuer.claims(roles: ["IPAM.Admin"], audience: Self.audience)))
            ]
            let callers = [
                Caller(name: "no credential", headers: [:], expected: .unauthorized),
                Caller(name: "wrong key", headers: ["x-functions-key": "not-a-key"], expected: .unauthorized),
                Caller(name: "token of another issuer", headers: foreign, expected: .unauthorized),
                Caller(name: "token without a mapped role", headers: try token(["Something.Else"]), expected: .noRole),
                Caller(name: "reader key", headers: ["x-functions-key": "authz-reader"], expected: .role(1)),
                Caller(name: "lease key", headers: ["Authorization": "Bearer authz-lease"], expected: .role(2)),
                Caller(name: "admin key", headers: ["x-functions-key": "authz-admin"], expected: .role(3)),
                Caller(name: "reader token", headers: try token(["IPAM.Reader"]), expected: .role(1)),
                Caller(name: "lease token", headers: try token(["IPAM.Lease"]), expected: .role(2)),
                Caller(name: "admin token", headers: try token(["IPAM.Admin"]), expected: .role(3)),
            ]
            let webhooks =
                #"[{"name":"ops","url":"https://hooks.example.com/ipam","secret":"0123456789abcdef","events":["leased"]}]"#
            try await VendorHarness.withVendor(
                environment: ["WEBHOOKS_CONFIG": webhooks], roleKeys: Self.keys,
                tokens: TokenAuthentication(verifier: verifier), time: time.source
            ) { url, table, _ in
                // First everything that must be refused, with storage compared before and after.
                let before = try await Self.snapshot(table)
                #expect(!before.isEmpty)
                var refusals = 0
                for operation in operations {
                    for caller in callers where Self.expected(operation, caller) != .reached {
                        for (index, path) in Self.spellings(Self.concrete(operation.path)).enumerated() {
                            let answer = try await HTTPCalls.send(
                                operation.method, url + path, body: Self.body(operation), headers: caller.headers)
                            let seen = Self.outcome(answer)
                            let want = Self.expected(operation, caller)
                            #expect(
                                seen == want || (index > 0 && seen == nil),
                                "\(operation) as \(caller) at \(path): \(answer.status) \(answer.text)")
                            refusals += 1
                        }
                    }
                }
                #expect(refusals > 500)
                #expect(try await Self.snapshot(table) == before, "a refused request changed storage")
                // Then everything that must reach its route (whatever the route then answers).
                for operation in operations {
                    for caller in callers where Self.expected(operation, caller) == .reached {
                        for (index, path) in Self.spellings(Self.concrete(operation.path)).enumerated() {
                            let answer = try await HTTPCalls.send(
                                operation.method, url + path, body: Self.body(operation), headers: caller.headers)
                            let seen = Self.outcome(answer)
                            let context = "\(operation) as \(caller) at \(path): \(answer.status) \(answer.text)"
                            #expect(seen == .reached || (index > 0 && seen == nil), "\(context)")
                            #expect(answer.status != 405 && answer.status < 500, "\(context)")
                        }
                    }
                }
            }
        }
    }
}
