import AzureTables
import Foundation
import HTTPTransport
import HTTPTypes
import Hummingbird
import IPAMCore
import Inventory
import Logging
import TestSupport
import Testing
import VendorAPI

@testable import VendorConsole
@testable import VendorDomain
@testable import VendorHTTP

/// The console reaches the Vendor's router only through the registrar the composition root hands it
/// (`ConsoleRegistrar`, a `VendorRouteRegistrar`): the edge registers no console route of its own.
@Suite("Console registrar")
struct ConsoleRegistrarTests {
    static let secret = "console-registrar-secret-0123456789abcdef"

    /// The registrations of the API's routes and then of `registrars`, as `VendorRouter.build` makes them.
    static func entries(_ registrars: (VendorService) -> [any VendorRouteRegistrar]) async throws -> [String] {
        let environment = SampleConfiguration.environment(
            table: "registrar", connectionString: try await TestStorage.connectionString())
        let inventory = Inventory(table: try await TestStorage.service().table("registrar"), actor: "registrar")
        let service = VendorService(
            configuration: try IPAMConfiguration.load(environment: environment), inventory: inventory,
            redactor: PrincipalRedactor(salt: SampleConfiguration.auditSalt), logger: Logger(label: "registrar"))
        let authenticator = Authenticator(
            keys: APIKeys(keys: ["k"]), tokens: nil, throttle: FailedKeyThrottle(uptime: { .zero }), time: .system)
        let table = VendorRoutes(service: service, readiness: { nil })
            .table(authentication: AuthenticationMiddleware(authenticator: authenticator, redactor: nil))
        for registrar in registrars(service) { registrar.register(on: table, authenticator: authenticator) }
        return table.entries.map { entry in
            let access =
                switch entry.access {
                case .open: "open"
                case .role(let role): role.description
                case .consoleSession: "console"
                }
            return "\(entry.method.rawValue) \(entry.path.description) \(access)"
        }
    }

    @Test(
        "the edge alone serves no /console path; the registrar adds every page, in API.Console's order, after the API")
    func registrations() async throws {
        let api = try await Self.entries { _ in [] }
        #expect(!api.isEmpty && !api.contains { $0.contains(" /console") }, "\(api)")
        let on = try await Self.entries {
            [ConsoleRegistrar(service: $0, sessions: ConsoleSessions(secret: Self.secret))]
        }
        #expect(Array(on.prefix(api.count)) == api)
        #expect(
            Array(on.dropFirst(api.count))
                == API.Console.routes.map { "\($0.method.rawValue) \($0.path) console" })
        let off = try await Self.entries { [ConsoleRegistrar(service: $0, sessions: nil)] }
        #expect(Array(off.dropFirst(api.count)) == ["GET /console open"])
    }

    @Test("the console off answers as it always did: 404, its body byte for byte")
    func offAnswer() async throws {
        try await VendorHarness.withVendor(keys: ["k"]) { url, _, _ in
            let answer = try await HTTPCalls.send("GET", url + "/console")
            #expect(answer.status == 404)
            #expect(
                answer.text
                    == #"{"code":"NotFound","message":"the console is off: set CONSOLE_SESSION_SECRET (at least 32 characters)"}"#
            )
            #expect(answer.headers["Content-Type"] == "application/json; charset=utf-8")
        }
    }
}
