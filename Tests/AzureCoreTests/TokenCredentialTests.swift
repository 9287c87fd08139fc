import AzureCore
import Foundation
import HTTPTransport
import Synchronization
import TableEmulator
import TestSupport
import Testing

@Suite("Bearer token credentials against a local fake token endpoint")
struct TokenCredentialTests {
    let transport = TestStorage.transport

    static func parameters(_ query: String?) -> [String: String] {
        var out: [String: String] = [:]
        for item in (query ?? "").split(separator: "&") {
            let pair = item.split(separator: "=", maxSplits: 1)
            if pair.count == 2 { out[String(pair[0])] = PercentEncoding.decode(pair[1]) }
        }
        return out
    }

    @Test("App Service managed identity: header, resource, api-version, epoch-string expiry")
    func appService() async throws {
        let log = RequestLog()
        let expiry = Int(Date().timeIntervalSince1970) + 3600
        try await TestServers.withFakeServer({ request in
            _ = log.record(request)
            let p = Self.parameters(request.query)
            guard request.headers["X-IDENTITY-HEADER"] == "secret-header", p["api-version"] == "2019-08-01" else {
                return TestServers.json(400, #"{"error":"bad_request"}"#)
            }
            return TestServers.json(
                200, #"{"access_token":"tok-\#(p["resource"] ?? "")","expires_on":"\#(expiry)","token_type":"Bearer"}"#)
        }) { port in
            let credential = CachingTokenCredential(
                fetcher: AppServiceManagedIdentity(
                    endpoint: "http://127.0.0.1:\(port)/msi/token", header: { "secret-header" },
                    clientID: "user-assigned", transport: transport))
            let storage = try await credential.token(for: .storage)
            #expect(storage.token == "tok-https://storage.azure.com/")
            #expect(abs(storage.expiresOn.timeIntervalSince1970 - Double(expiry)) < 1)
            _ = try await credential.token(for: .storage)
            let management = try await credential.token(for: .management)
            #expect(management.token == "tok-https://management.azure.com/")
            #expect(log.count == 2, "cached per scope")
            #expect(Self.parameters(log.requests[0].query)["client_id"] == "user-assigned")
            #expect(!storage.description.contains("tok-"), "a token never prints itself")
        }
    }

    @Test("IMDS sends Metadata: true and retries 429 / 5xx")
    func imds() async throws {
        let log = RequestLog()
        try await TestServers.withFakeServer({ request in
            let n = log.record(request)
            guard request.headers["Metadata"] == "true" else {
                return TestServers.json(400, #"{"error":"bad_request_102"}"#)
            }
            if n == 1 { return TestServers.json(429, #"{"error":"throttled"}"#) }
            return TestServers.json(
                200,
                #"{"access_token":"imds","expires_in":"3599","expires_on":"\#(Int(Date().timeIntervalSince1970) + 3599)","resource":"x","token_type":"Bearer"}"#
            )
        }) { port in
            let fetcher = IMDSManagedIdentity(
                endpoint: "http://127.0.0.1:\(port)/metadata/identity/oauth2/token", transport: transport)
            let token = try await fetcher.fetchToken(for: .management)
            #expect(token.token == "imds")
            #expect(log.count == 2)
            #expect(Self.parameters(log.requests[1].query)["api-version"] == "2018-02-01")
        }
    }

    @Test("service principal: v2 client-credentials form, numeric expires_in, errors without secrets")
    func clientSecret() async throws {
        let log = RequestLog()
        try await TestServers.withFakeServer({ request in
            _ = log.record(request)
            let form = Self.parameters(String(decoding: request.body, as: UTF8.self))
            guard request.rawPath == "/tenant-1/oauth2/v2.0/token", form["grant_type"] == "client_credentials" else {
                return TestServers.json(404, "{}")
            }
            if form["client_secret"] != "s3cr=t&" {
                return TestServers.json(401, #"{"error":"invalid_client","error_description":"bad"}"#)
            }
            return TestServers.json(
                200, #"{"token_type":"Bearer","expires_in":3599,"access_token":"sp-\#(form["scope"] ?? "")"}"#)
        }) { port in
            let good = ClientSecretCredential(
                tenantID: "tenant-1", clientID: "app", clientSecret: "s3cr=t&",
                authorityHost: "http://127.0.0.1:\(port)", transport: transport)
            let token = try await good.fetchToken(for: .storage)
            #expect(token.token == "sp-https://storage.azure.com/.default")
            #expect(token.expiresOn.timeIntervalSinceNow > 3500)
            let bad = ClientSecretCredential(
                tenantID: "tenant-1", clientID: "app", clientSecret: "wrong-secret",
                authorityHost: "http://127.0.0.1:\(port)", transport: transport)
            do {
                _ = try await bad.fetchToken(for: .storage)
                Issue.record("expected a failure")
            } catch {
                #expect("\(error)".contains("invalid_client"))
                #expect(!"\(error)".contains("wrong-secret"))
            }
        }
    }

    @Test("one refresh at a time, early refresh before expiry, failures not remembered")
    func cachingBehaviour() async throws {
        let log = RequestLog()
        let failNext = Mutex(false)
        try await TestServers.withFakeServer({ request in
            let n = log.record(request)
            if failNext.withLock({ $0 }) { return TestServers.json(500, #"{"error":"boom"}"#) }
            try? await Task.sleep(for: .milliseconds(100))
            // expires in 10 minutes: outside a 5-minute margin, inside a 15-minute one
            return TestServers.json(
                200, #"{"access_token":"t\#(n)","expires_on":"\#(Int(Date().timeIntervalSince1970) + 600)"}"#)
        }) { port in
            let fetcher = AppServiceManagedIdentity(
                endpoint: "http://127.0.0.1:\(port)/t", header: { "h" }, transport: transport)
            let credential = CachingTokenCredential(fetcher: fetcher, refreshMargin: 300)
            let tokens = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<16 { group.addTask { try await credential.token(for: .storage).token } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(tokens == ["t1"])
            #expect(log.count == 1, "16 concurrent callers share one fetch")

            let eager = CachingTokenCredential(fetcher: fetcher, refreshMargin: 900)
            _ = try await eager.token(for: .storage)
            _ = try await eager.token(for: .storage)
            #expect(log.count == 3, "a token inside the refresh margin is fetched again")

            let flaky = CachingTokenCredential(fetcher: fetcher)
            failNext.withLock { $0 = true }
            await #expect(throws: CredentialError.self) { _ = try await flaky.token(for: .management) }
            failNext.withLock { $0 = false }
            #expect(try await flaky.token(for: .management).token.hasPrefix("t"))
        }
    }

    @Test("a 401 invalidates the cached token and retries once with a fresh one")
    func refreshOn401() async throws {
        let tokenLog = RequestLog()
        let apiLog = RequestLog()
        try await TestServers.withFakeServer({ request in
            if request.rawPath == "/token" {
                let n = tokenLog.record(request)
                return TestServers.json(
                    200, #"{"access_token":"token\#(n)","expires_on":"\#(Int(Date().timeIntervalSince1970) + 3600)"}"#)
            }
            _ = apiLog.record(request)
            return request.headers["Authorization"] == "Bearer token2"
                ? TestServers.json(200, "{}")
                : TestServers.json(401, #"{"error":{"code":"InvalidAuthenticationToken","message":"expired"}}"#)
        }) { port in
            let credential = CachingTokenCredential(
                fetcher: AppServiceManagedIdentity(
                    endpoint: "http://127.0.0.1:\(port)/token", header: { "h" }, transport: transport))
            let pipeline = AzurePipeline(
                transport: transport, authorizer: BearerTokenAuthorizer(credential: credential, scope: .management),
                retryPolicy: .init(maxAttempts: 3, baseDelay: .milliseconds(1)))
            let response = try await pipeline.send(
                TransportRequest(method: "POST", url: "http://127.0.0.1:\(port)/api"), idempotent: false)
            #expect(response.status == 200)
            #expect(apiLog.count == 2 && tokenLog.count == 2)
        }
    }

    @Test("the default chain picks the credential the environment names")
    func defaultChain() async throws {
        try await TestServers.withFakeServer({ request in
            if request.rawPath.hasSuffix("/oauth2/v2.0/token") {
                return TestServers.json(200, #"{"access_token":"from-sp","expires_in":3600}"#)
            }
            return TestServers.json(
                200, #"{"access_token":"from-msi","expires_on":"\#(Int(Date().timeIntervalSince1970) + 3600)"}"#)
        }) { port in
            let sp = DefaultAzureCredential.fromEnvironment(
                [
                    "AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "s",
                    "AZURE_AUTHORITY_HOST": "http://127.0.0.1:\(port)",
                    "IDENTITY_ENDPOINT": "http://127.0.0.1:\(port)/msi",
                ], transport: transport)
            let spToken = try await sp.token(for: .storage).token
            #expect(spToken == "from-sp")
            let msi = DefaultAzureCredential.fromEnvironment(
                ["IDENTITY_ENDPOINT": "http://127.0.0.1:\(port)/msi", "IDENTITY_HEADER": "h"], transport: transport)
            let msiToken = try await msi.token(for: .storage).token
            #expect(msiToken == "from-msi")
        }
    }
}

@Suite("Workload identity (AKS) against a local fake authority")
struct WorkloadIdentityCredentialTests {
    let transport = TestStorage.transport

    /// A projected service account token file in a folder of its own.
    static func tokenFile(_ contents: String) throws -> String {
        let folder = NSTemporaryDirectory() + "ipam-wi-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/azure-identity-token"
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A fake authority: the v2 token endpoint of tenant `tenant-1`, trusting the assertions in `trusted`
    /// for client `app-1`, answering a token that names the assertion and the scope.
    static func authority(log: RequestLog, trusted: Set<String>)
        -> @Sendable (EmulatorRequest) async -> EmulatorResponse
    {
        { request in
            _ = log.record(request)
            let form = TokenCredentialTests.parameters(String(decoding: request.body, as: UTF8.self))
            guard request.method == "POST", request.rawPath == "/tenant-1/oauth2/v2.0/token",
                request.headers["Content-Type"] == "application/x-www-form-urlencoded"
            else { return TestServers.json(404, #"{"error":"not_found"}"#) }
            guard form["grant_type"] == "client_credentials",
                form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                form["client_id"] == "app-1", form["client_secret"] == nil
            else { return TestServers.json(400, #"{"error":"invalid_request"}"#) }
            guard let assertion = form["client_assertion"], trusted.contains(assertion) else {
                return TestServers.json(401, #"{"error":"invalid_client","error_description":"AADSTS70021"}"#)
            }
            return TestServers.json(
                200,
                #"{"token_type":"Bearer","expires_in":3599,"access_token":"wi-\#(assertion)-\#(form["scope"] ?? "")"}"#)
        }
    }

    @Test("exchanges the federated token at {authority}/{tenant}/oauth2/v2.0/token with a jwt-bearer assertion")
    func exchange() async throws {
        let log = RequestLog()
        let file = try Self.tokenFile("sa-token-1\n")
        try await TestServers.withFakeServer(Self.authority(log: log, trusted: ["sa-token-1", "sa-token-2"])) { port in
            let credential = WorkloadIdentityCredential(
                tenantID: "tenant-1", clientID: "app-1", tokenFile: file,
                authorityHost: "http://127.0.0.1:\(port)/", transport: transport)
            let storage = try await credential.fetchToken(for: .storage)
            #expect(storage.token == "wi-sa-token-1-https://storage.azure.com/.default", "the file's token, trimmed")
            #expect(storage.expiresOn.timeIntervalSinceNow > 3500)
            let management = try await credential.fetchToken(for: .management)
            #expect(management.token == "wi-sa-token-1-https://management.azure.com/.default")
            // The kubelet rotates the projected token: the next fetch sends the new one.
            try "sa-token-2".write(toFile: file, atomically: true, encoding: .utf8)
            #expect(try await credential.fetchToken(for: .storage).token.hasPrefix("wi-sa-token-2-"))
            #expect(log.count == 3)
        }
    }

    @Test("a refused assertion, a missing or empty file: errors that never carry the token")
    func failures() async throws {
        let log = RequestLog()
        let untrusted = try Self.tokenFile("stolen-or-expired-token")
        try await TestServers.withFakeServer(Self.authority(log: log, trusted: ["sa-token-1"])) { port in
            func credential(_ file: String, tenant: String = "tenant-1") -> WorkloadIdentityCredential {
                WorkloadIdentityCredential(
                    tenantID: tenant, clientID: "app-1", tokenFile: file,
                    authorityHost: "http://127.0.0.1:\(port)", transport: transport)
            }
            do {
                _ = try await credential(untrusted).fetchToken(for: .storage)
                Issue.record("an untrusted assertion must fail")
            } catch {
                #expect("\(error)".contains("invalid_client"))
                #expect(!"\(error)".contains("stolen-or-expired-token"))
            }
            // A tenant with a path in it stays one path segment.
            await #expect(throws: CredentialError.self) {
                _ = try await credential(try Self.tokenFile("sa-token-1"), tenant: "tenant-1/../x").fetchToken(
                    for: .storage)
            }
            #expect(log.requests.last?.rawPath == "/tenant-1%2F..%2Fx/oauth2/v2.0/token")
            let sent = log.count
            let missing = NSTemporaryDirectory() + "ipam-wi-\(UUID().uuidString)/none"
            do {
                _ = try await credential(missing).fetchToken(for: .storage)
                Issue.record("a missing file must fail")
            } catch {
                #expect("\(error)".contains(missing) && "\(error)".contains("cannot be read"))
            }
            let empty = try Self.tokenFile(" \n")
            do {
                _ = try await credential(empty).fetchToken(for: .storage)
                Issue.record("an empty file must fail")
            } catch {
                #expect("\(error)".contains("is empty"))
            }
            #expect(log.count == sent, "no request without a token to send")
        }
    }

    @Test("the default chain picks workload identity from what the AKS webhook sets, after a client secret")
    func defaultChain() async throws {
        let log = RequestLog()
        let file = try Self.tokenFile("sa-token-1")
        try await TestServers.withFakeServer(Self.authority(log: log, trusted: ["sa-token-1"])) { port in
            let aks = [
                "AZURE_TENANT_ID": "tenant-1", "AZURE_CLIENT_ID": "app-1", "AZURE_FEDERATED_TOKEN_FILE": file,
                "AZURE_AUTHORITY_HOST": "http://127.0.0.1:\(port)/",
                "IDENTITY_ENDPOINT": "http://127.0.0.1:1/msi", "IDENTITY_HEADER": "h",
            ]
            let credential = DefaultAzureCredential.fromEnvironment(aks, transport: transport)
            #expect(
                try await credential.token(for: .storage).token == "wi-sa-token-1-https://storage.azure.com/.default")
            _ = try await credential.token(for: .storage)
            #expect(log.count == 1, "cached like every credential")

            // A client secret, when set, is a service principal's and comes first (as in the Azure SDKs).
            var secret = aks
            secret["AZURE_CLIENT_SECRET"] = "s"
            let sp = DefaultAzureCredential.fromEnvironment(secret, transport: transport)
            await #expect(throws: CredentialError.self) { _ = try await sp.token(for: .storage) }
            let spForm = TokenCredentialTests.parameters(String(decoding: log.requests.last!.body, as: UTF8.self))
            #expect(spForm["client_secret"] == "s" && spForm["client_assertion"] == nil)

            // Without a tenant it is not workload identity: the managed identity endpoint is asked instead.
            var noTenant = aks
            noTenant["AZURE_TENANT_ID"] = nil
            let before = log.count
            let msi = DefaultAzureCredential.fromEnvironment(noTenant, transport: transport)
            await #expect(throws: (any Error).self) { _ = try await msi.token(for: .storage) }
            #expect(log.count == before, "the authority is not asked")
        }
    }
}
