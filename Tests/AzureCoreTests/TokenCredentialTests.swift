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
            if pair.count == 2 { out[String(pair[0])] = FormEncoding.decode(pair[1]) }
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
