import AzureTables
import Foundation
import TestSupport
import Testing

@Suite("vendor start-up")
struct VendorStartupTests {
    func run(_ environment: [String: String], arguments: [String] = ["serve", "--port", "0", "--insecure-no-auth"])
        async throws -> (Int32, String)
    {
        try await ProcessStack.runToCompletion(
            "vendor", arguments: arguments, environment: environment, inherit: false, capture: .standardError)
    }

    @Test("bad configuration: exit code 2, one line per problem naming the setting, nothing written")
    func badConfiguration() async throws {
        let connection = try await TestStorage.connectionString()
        let table = TestStorage.uniqueName("cfg")
        var environment = SampleConfiguration.environment(table: table, connectionString: connection)
        environment["CIDR_SIZE_MIN"] = "x"
        environment["LEASE_DURATION_HOURS"] = "0"
        environment["SUPERNETS_CONFIG"] = "{not json"
        let (status, text) = try await run(environment)
        #expect(status == 2)
        #expect(text.contains("CIDR_SIZE_MIN=x"))
        #expect(text.contains("LEASE_DURATION_HOURS=0"))
        #expect(text.contains("SUPERNETS_CONFIG"))
        #expect(text.split(separator: "\n").count >= 4)
        #expect(
            try await !TestStorage.service().listTables().contains(table), "nothing is written before validation passes"
        )
    }

    @Test("without keys the Vendor refuses to start unless told --insecure-no-auth")
    func refusesWithoutKeys() async throws {
        let connection = try await TestStorage.connectionString()
        let environment = SampleConfiguration.environment(
            table: TestStorage.uniqueName("cfg"), connectionString: connection)
        let (status, text) = try await run(environment, arguments: ["serve", "--port", "0"])
        #expect(status == 2)
        #expect(text.contains("VENDOR_API_KEYS"))
    }

    @Test(
        "token and salt settings are checked at start-up: an issuer without an audience, a bad role map, a short or missing AUDIT_SALT"
    )
    func tokenAndSaltSettings() async throws {
        let connection = try await TestStorage.connectionString()
        var environment = SampleConfiguration.environment(
            table: TestStorage.uniqueName("cfg"), connectionString: connection)
        environment["VENDOR_API_KEYS"] = "k"
        environment["AUTH_JWT_ISSUER"] = "https://login.microsoftonline.com/t/v2.0"
        var (status, text) = try await run(environment, arguments: ["serve", "--port", "0"])
        #expect(status == 2 && text.contains("AUTH_JWT_AUDIENCE"), "\(text)")
        environment["AUTH_JWT_AUDIENCE"] = "api://ipam"
        environment["AUTH_JWT_ROLE_MAP"] = #"{"IPAM.Admin": "root"}"#
        (status, text) = try await run(environment, arguments: ["serve", "--port", "0"])
        #expect(status == 2 && text.contains("AUTH_JWT_ROLE_MAP") && text.contains("root"), "\(text)")
        environment["AUTH_JWT_ROLE_MAP"] = nil
        environment["AUDIT_SALT"] = "short"
        (status, text) = try await run(environment, arguments: ["serve", "--port", "0"])
        #expect(status == 2 && text.contains("AUDIT_SALT"), "\(text)")
        environment["AUDIT_SALT"] = nil
        (status, text) = try await run(environment, arguments: ["serve", "--port", "0"])
        #expect(status == 2 && text.contains("AUDIT_SALT"), "\(text)")
    }
}
