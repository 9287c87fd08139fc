import Foundation
import Testing
import Yams

@testable import VendorAPI

/// `openapi/openapi.yaml` and `API`'s declarations say the same, both ways.
@Suite("openapi/ agrees with the declared routes and answer types")
struct OpenAPIAgreementTests {
    /// The parsed spec.
    static func spec() throws -> [String: Any] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("openapi/openapi.yaml")
        return try #require(try Yams.load(yaml: String(contentsOf: url, encoding: .utf8)) as? [String: Any])
    }

    /// Every operation of the spec as `METHOD path role operationId summary`.
    static func documented() throws -> [String] {
        let paths = try #require(try spec()["paths"] as? [String: Any])
        var result: [String] = []
        for (path, item) in paths {
            for (method, operation) in try #require(item as? [String: Any])
            where ["get", "post", "put", "delete", "patch", "head", "options"].contains(method) {
                let operation = try #require(operation as? [String: Any])
                let role = operation["x-ipam-role"] as? String ?? "(none)"
                let id = operation["operationId"] as? String ?? "(none)"
                let summary = operation["summary"] as? String ?? "(none)"
                result.append("\(method.uppercased()) \(path) \(role) \(id) \(summary)")
            }
        }
        return result.sorted()
    }

    @Test("every declared route is an operation of openapi/ with its method, path, role, operationId and summary")
    func declaredRoutesAreDocumented() throws {
        let documented = Set(try Self.documented())
        for route in API.routes {
            let line =
                "\(route.method.rawValue) \(route.path) \(route.access.name) \(route.operationId) \(route.summary)"
            #expect(documented.contains(line), "\(line) is not in openapi/")
        }
    }

    @Test("every operation of openapi/ is a declared route")
    func documentedOperationsAreDeclared() throws {
        let declared = Set(
            API.routes.map { "\($0.method.rawValue) \($0.path) \($0.access.name) \($0.operationId) \($0.summary)" })
        for line in try Self.documented() {
            #expect(declared.contains(line), "\(line) is not declared in API.routes")
        }
        #expect(try Self.documented().count == API.routes.count)
    }

    @Test("no route is declared twice, and the console's pages are not in the API's list")
    func routesAreUnique() {
        let all = API.routes + API.Console.routes
        #expect(Set(all.map(\.description)).count == all.count)
        #expect(Set(all.map(\.operationId)).count == all.count)
        #expect(API.Console.routes.allSatisfy { $0.access == .consoleSession && $0.path.hasPrefix("/console") })
        #expect(!API.routes.contains { $0.access == .consoleSession || $0.path.hasPrefix("/console") })
    }
}
