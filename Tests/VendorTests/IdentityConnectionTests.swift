import AzureCore
import Foundation
import HTTPTransport
import Synchronization
import TableEmulator
import TestSupport
import Testing

/// Identity-based storage connections as the Functions host configures them (`AzureWebJobsStorage__*`):
/// the Vendor gets a token from the managed identity endpoint and talks to Table Storage with it.
@Suite("Identity-based storage connection")
struct IdentityConnectionTests {
    static let token =
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL3N0b3JhZ2UuYXp1cmUuY29tLyJ9.c2lnbmF0dXJl"

    @Test(
        "tableServiceUri + credential=managedidentity + clientId: the user-assigned identity's token, bearer auth, a lease; no connection string"
    )
    func managedIdentity() async throws {
        let asked = Mutex<[(query: String, header: String?)]>([])
        // The platform's managed identity endpoint (App Service / Functions), faked.
        try await TestServers.withFakeServer({ request in
            let query = (request.query ?? "").removingPercentEncoding ?? ""
            asked.withLock { $0.append((query, request.headers["X-IDENTITY-HEADER"])) }
            return TestServers.json(
                200,
                #"{"access_token":"\#(Self.token)","expires_on":"\#(Int(Date().timeIntervalSince1970) + 3600)","token_type":"Bearer"}"#
            )
        }) { identityPort in
            let stack = ProcessStack()
            defer { stack.stopAll() }
            let storagePort = try await stack.launch(
                "table-emulator", arguments: ["--port", "0", "--in-memory", "--accept-bearer-tokens"])
            let shared = try await TestStorage.connectionString()
            var environment = SampleConfiguration.environment(
                table: TestStorage.uniqueName("mi"), connectionString: shared)
            environment["AzureWebJobsStorage"] = ""
            environment["AzureWebJobsStorage__tableServiceUri"] = "http://127.0.0.1:\(storagePort)/devstoreaccount1"
            environment["AzureWebJobsStorage__credential"] = "managedidentity"
            environment["AzureWebJobsStorage__clientId"] = "client-123"
            environment["IDENTITY_ENDPOINT"] = "http://127.0.0.1:\(identityPort)/msi/token"
            environment["IDENTITY_HEADER"] = "platform-secret"
            for name in ["AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_ID"] { environment[name] = "" }
            let vendor = try await stack.startVendor(environment: environment)
            let answer = try await HTTPCalls.send("POST", vendor + "/api/getNewNetwork", body: #"{"SessionId":"mi-1"}"#)
            #expect(answer.status == 201, "\(answer.text)")
            #expect(try await HTTPCalls.send("GET", vendor + "/readyz").status == 200)
            let requests = asked.withLock { $0 }
            #expect(!requests.isEmpty)
            #expect(
                requests.allSatisfy {
                    $0.query.contains("client_id=client-123")
                        && $0.query.contains("resource=https://storage.azure.com/") && $0.header == "platform-secret"
                },
                "\(requests)")
        }
    }

    @Test("the emulator's bearer mode takes only a JWT's shape, and only when asked to")
    func emulatorBearerMode() async throws {
        let stack = ProcessStack()
        defer { stack.stopAll() }
        let open = try await stack.launch(
            "table-emulator", arguments: ["--port", "0", "--in-memory", "--accept-bearer-tokens"])
        let closed = try await stack.launch("table-emulator", arguments: ["--port", "0", "--in-memory"])
        func tables(_ port: Int, _ token: String) async throws -> Int {
            try await HTTPCalls.send(
                "GET", "http://127.0.0.1:\(port)/devstoreaccount1/Tables",
                headers: [
                    "Authorization": "Bearer \(token)", "x-ms-version": "2019-02-02",
                    "Accept": "application/json;odata=nometadata",
                ]
            ).status
        }
        #expect(try await tables(open, Self.token) == 200)
        #expect(try await tables(open, "not-a-jwt") == 403)
        #expect(try await tables(closed, Self.token) == 403)
    }

    @Test("an identity-based connection needs a valid account name or URI, and only managedidentity as credential")
    func validation() async throws {
        var environment = SampleConfiguration.environment(table: "mival", connectionString: .development)
        environment["AzureWebJobsStorage"] = ""
        environment["AzureWebJobsStorage__accountName"] = "Not_Valid"
        environment["AzureWebJobsStorage__credential"] = "password"
        let result = try await ProcessStack.runToCompletion(
            "vendor", arguments: ["serve", "--port", "0", "--insecure-no-auth"], environment: environment,
            capture: .standardError)
        #expect(result.status == 2)
        #expect(
            result.output.contains("AzureWebJobsStorage__accountName=Not_Valid")
                && result.output.contains("AzureWebJobsStorage__credential=password"), "\(result.output)")
    }
}
