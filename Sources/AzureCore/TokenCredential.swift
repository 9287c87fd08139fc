package import Foundation
package import HTTPTransport
import StrictJSON

/// The audience a token is for.
package struct TokenScope: Hashable, Sendable, CustomStringConvertible {
    /// Resource URI as the managed-identity endpoints want it, e.g. `https://storage.azure.com/`.
    package let resource: String
    package init(resource: String) { self.resource = resource }

    package static let storage = TokenScope(resource: "https://storage.azure.com/")
    package static let management = TokenScope(resource: "https://management.azure.com/")

    /// The v2 endpoint's scope form: `https://storage.azure.com/.default`.
    package var defaultScope: String { (resource.hasSuffix("/") ? resource : resource + "/") + ".default" }
    package var description: String { resource }
}

/// A bearer token and the moment it stops being valid.
package struct AccessToken: Sendable, CustomStringConvertible {
    package let token: String
    package let expiresOn: Date
    package init(token: String, expiresOn: Date) {
        self.token = token
        self.expiresOn = expiresOn
    }
    /// Never prints the token itself.
    package var description: String { "AccessToken(expiresOn: \(expiresOn))" }
}

/// Something that hands out bearer tokens per scope.
package protocol TokenCredential: Sendable {
    func token(for scope: TokenScope) async throws -> AccessToken
    /// Forgets any cached token for `scope` (after a 401).
    func invalidate(scope: TokenScope) async
}

/// Fetches one fresh token from an identity endpoint (no caching).
package protocol TokenFetcher: Sendable {
    func fetchToken(for scope: TokenScope) async throws -> AccessToken
}

/// A fixed token, for local endpoints that accept anything.
package struct StaticTokenCredential: TokenCredential {
    package let value: String
    package init(_ value: String) { self.value = value }
    package func token(for scope: TokenScope) async throws -> AccessToken {
        AccessToken(token: value, expiresOn: .distantFuture)
    }
    package func invalidate(scope: TokenScope) async {}
}

/// Caches tokens per scope and refreshes them before they expire.
///
/// One refresh runs at a time per scope; callers arriving during it await the same fetch. A failed
/// refresh is not remembered: the next caller tries again.
package actor CachingTokenCredential: TokenCredential {
    private let fetcher: any TokenFetcher
    private let refreshMargin: TimeInterval
    private let now: @Sendable () -> Date
    private var cache: [TokenScope: AccessToken] = [:]
    private var inFlight: [TokenScope: Task<AccessToken, any Error>] = [:]
    /// Number of fetches made (for tests and metrics).
    package private(set) var fetchCount = 0

    package init(
        fetcher: any TokenFetcher, refreshMargin: TimeInterval = 300, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.fetcher = fetcher
        self.refreshMargin = refreshMargin
        self.now = now
    }

    package func token(for scope: TokenScope) async throws -> AccessToken {
        if let cached = cache[scope], cached.expiresOn.timeIntervalSince(now()) > refreshMargin { return cached }
        if let running = inFlight[scope] { return try await running.value }
        fetchCount += 1
        let fetcher = self.fetcher
        let task = Task { try await fetcher.fetchToken(for: scope) }
        inFlight[scope] = task
        defer { inFlight[scope] = nil }
        do {
            let token = try await task.value
            cache[scope] = token
            return token
        } catch {
            cache[scope] = nil
            throw error
        }
    }

    package func invalidate(scope: TokenScope) async { cache[scope] = nil }
}

/// A token endpoint that answered with an error or an unusable body.
package struct CredentialError: Error, Sendable, CustomStringConvertible {
    package let source: String
    package let message: String
    package init(source: String, message: String) {
        self.source = source
        self.message = message
    }
    package var description: String { "\(source): \(message)" }
}

enum TokenResponse {
    /// Parses `access_token` and an expiry from `expires_on` (epoch seconds, string or number) or `expires_in`.
    static func parse(_ body: [UInt8], source: String, now: Date) throws -> AccessToken {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let token = object["access_token"] as? String, !token.isEmpty
        else {
            throw CredentialError(source: source, message: "token response has no access_token")
        }
        func number(_ value: Any?) -> Double? {
            if let n = value as? NSNumber { return n.doubleValue }
            if let s = value as? String { return Double(s) }
            return nil
        }
        if let epoch = number(object["expires_on"]) {
            return AccessToken(token: token, expiresOn: Date(timeIntervalSince1970: epoch))
        }
        if let seconds = number(object["expires_in"]) {
            return AccessToken(token: token, expiresOn: now.addingTimeInterval(seconds))
        }
        throw CredentialError(source: source, message: "token response has no expires_on or expires_in")
    }

    static func errorMessage(_ response: TransportResponse) -> String {
        if let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            let code = object["error"] as? String
        {
            return "HTTP \(response.status) \(code)"
        }
        return "HTTP \(response.status)"
    }
}

/// App Service / Azure Functions managed identity (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`, api 2019-08-01).
package struct AppServiceManagedIdentity: TokenFetcher {
    package let endpoint: String
    /// Read on every request: the platform rotates it.
    package let header: @Sendable () -> String?
    package let clientID: String?
    package let transport: any HTTPTransport

    package init(
        endpoint: String, header: @escaping @Sendable () -> String?, clientID: String? = nil,
        transport: any HTTPTransport
    ) {
        self.endpoint = endpoint
        self.header = header
        self.clientID = clientID
        self.transport = transport
    }

    package func fetchToken(for scope: TokenScope) async throws -> AccessToken {
        var url = endpoint + (endpoint.utf8.contains(UInt8(ascii: "?")) ? "&" : "?")
        url += "resource=\(PercentEncoding.encode(scope.resource))&api-version=2019-08-01"
        if let clientID { url += "&client_id=\(PercentEncoding.encode(clientID))" }
        var headers: HTTPHeaderList = [:]
        if let value = header() { headers["X-IDENTITY-HEADER"] = value }
        let response = try await RetryingFetch.get(url, headers: headers, transport: transport)
        guard response.status == 200 else {
            throw CredentialError(source: "managed identity", message: TokenResponse.errorMessage(response))
        }
        return try TokenResponse.parse(response.body, source: "managed identity", now: Date())
    }
}

/// VM Instance Metadata Service managed identity (`169.254.169.254`, api 2018-02-01).
package struct IMDSManagedIdentity: TokenFetcher {
    package static let defaultEndpoint = "http://169.254.169.254/metadata/identity/oauth2/token"
    package let endpoint: String
    package let clientID: String?
    package let transport: any HTTPTransport

    package init(
        endpoint: String = IMDSManagedIdentity.defaultEndpoint, clientID: String? = nil, transport: any HTTPTransport
    ) {
        self.endpoint = endpoint
        self.clientID = clientID
        self.transport = transport
    }

    package func fetchToken(for scope: TokenScope) async throws -> AccessToken {
        var url = "\(endpoint)?api-version=2018-02-01&resource=\(PercentEncoding.encode(scope.resource))"
        if let clientID { url += "&client_id=\(PercentEncoding.encode(clientID))" }
        let response = try await RetryingFetch.get(
            url, headers: ["Metadata": "true"], transport: transport, retryNotFound: true)
        guard response.status == 200 else {
            throw CredentialError(source: "IMDS", message: TokenResponse.errorMessage(response))
        }
        return try TokenResponse.parse(response.body, source: "IMDS", now: Date())
    }
}

/// Service principal with a client secret (Microsoft identity platform v2 client credentials).
package struct ClientSecretCredential: TokenFetcher {
    package let authorityHost: String
    package let tenantID: String
    package let clientID: String
    private let clientSecret: String
    package let transport: any HTTPTransport

    package init(
        tenantID: String, clientID: String, clientSecret: String,
        authorityHost: String = "https://login.microsoftonline.com", transport: any HTTPTransport
    ) {
        self.tenantID = tenantID
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.authorityHost = authorityHost.hasSuffix("/") ? String(authorityHost.dropLast()) : authorityHost
        self.transport = transport
    }

    package func fetchToken(for scope: TokenScope) async throws -> AccessToken {
        try await ClientCredentialsGrant(
            authorityHost: authorityHost, tenantID: tenantID, clientID: clientID, source: "client secret",
            transport: transport
        ).token(for: scope, proof: [("client_secret", clientSecret)])
    }
}

/// The Microsoft identity platform's v2 client-credentials grant, which a client secret and a federated assertion
/// both use: the client id, the scope and the client's proof posted as a form to the tenant's token endpoint.
struct ClientCredentialsGrant {
    let authorityHost: String
    let tenantID: String
    let clientID: String
    /// The credential's name in errors (`client secret`, `workload identity`).
    let source: String
    let transport: any HTTPTransport

    /// The token for `scope`, proving the client with `proof`'s form members (in their order).
    func token(for scope: TokenScope, proof: [(String, String)]) async throws -> AccessToken {
        let url = "\(authorityHost)/\(PercentEncoding.encode(tenantID))/oauth2/v2.0/token"
        let members =
            [("client_id", clientID), ("scope", scope.defaultScope)] + proof
            + [("grant_type", "client_credentials")]
        let form = members.map { "\($0.0)=\(PercentEncoding.encode($0.1))" }.joined(separator: "&")
        let request = TransportRequest(
            method: "POST", url: url,
            headers: ["Content-Type": "application/x-www-form-urlencoded"], body: Array(form.utf8))
        let response = try await transport.execute(request)
        guard response.status == 200 else {
            throw CredentialError(source: source, message: TokenResponse.errorMessage(response))
        }
        return try TokenResponse.parse(response.body, source: source, now: Date())
    }
}

/// Azure AD workload identity (AKS): exchanges the service account token that Kubernetes projects into
/// `AZURE_FEDERATED_TOKEN_FILE` for an access token at the authority's v2 token endpoint (client credentials
/// with a `jwt-bearer` client assertion, trusted through the app's federated credential).
///
/// The file is read on every fetch: the kubelet rotates it. Errors name the file, never its contents.
package struct WorkloadIdentityCredential: TokenFetcher {
    package static let assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    package let authorityHost: String
    package let tenantID: String
    package let clientID: String
    package let tokenFile: String
    package let transport: any HTTPTransport

    package init(
        tenantID: String, clientID: String, tokenFile: String,
        authorityHost: String = "https://login.microsoftonline.com", transport: any HTTPTransport
    ) {
        self.tenantID = tenantID
        self.clientID = clientID
        self.tokenFile = tokenFile
        self.authorityHost = authorityHost.hasSuffix("/") ? String(authorityHost.dropLast()) : authorityHost
        self.transport = transport
    }

    package func fetchToken(for scope: TokenScope) async throws -> AccessToken {
        let assertion = try federatedToken()
        return try await ClientCredentialsGrant(
            authorityHost: authorityHost, tenantID: tenantID, clientID: clientID, source: "workload identity",
            transport: transport
        ).token(for: scope, proof: [("client_assertion_type", Self.assertionType), ("client_assertion", assertion)])
    }

    /// The projected token as the file holds it now, without surrounding white space.
    func federatedToken() throws -> String {
        guard let data = FileManager.default.contents(atPath: tokenFile) else {
            throw CredentialError(
                source: "workload identity", message: "AZURE_FEDERATED_TOKEN_FILE \(tokenFile) cannot be read")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else {
            throw CredentialError(
                source: "workload identity", message: "AZURE_FEDERATED_TOKEN_FILE \(tokenFile) is empty")
        }
        return token
    }
}

/// Picks a credential from the environment the way Azure SDKs' default chains do: a service
/// principal (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`, `AZURE_AUTHORITY_HOST`),
/// then workload identity (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_FEDERATED_TOKEN_FILE`,
/// `AZURE_AUTHORITY_HOST`: what AKS's workload identity webhook sets), then App Service managed identity
/// (`IDENTITY_ENDPOINT`, `IDENTITY_HEADER`, optional `AZURE_CLIENT_ID` for a user-assigned identity), then VM IMDS.
package enum DefaultAzureCredential {
    package static func fromEnvironment(_ environment: [String: String], transport: any HTTPTransport)
        -> CachingTokenCredential
    {
        let clientID = environment["AZURE_CLIENT_ID"].flatMap { $0.isEmpty ? nil : $0 }
        let authorityHost =
            environment["AZURE_AUTHORITY_HOST"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "https://login.microsoftonline.com"
        if let tenant = environment["AZURE_TENANT_ID"], let clientID, let secret = environment["AZURE_CLIENT_SECRET"] {
            return CachingTokenCredential(
                fetcher: ClientSecretCredential(
                    tenantID: tenant, clientID: clientID, clientSecret: secret, authorityHost: authorityHost,
                    transport: transport))
        }
        if let tenant = environment["AZURE_TENANT_ID"], !tenant.isEmpty, let clientID,
            let tokenFile = environment["AZURE_FEDERATED_TOKEN_FILE"], !tokenFile.isEmpty
        {
            return CachingTokenCredential(
                fetcher: WorkloadIdentityCredential(
                    tenantID: tenant, clientID: clientID, tokenFile: tokenFile, authorityHost: authorityHost,
                    transport: transport))
        }
        if let endpoint = environment["IDENTITY_ENDPOINT"] {
            return CachingTokenCredential(
                fetcher: AppServiceManagedIdentity(
                    endpoint: endpoint,
                    header: {
                        ProcessInfo.processInfo.environment["IDENTITY_HEADER"] ?? environment["IDENTITY_HEADER"]
                    },
                    clientID: clientID, transport: transport))
        }
        return CachingTokenCredential(fetcher: IMDSManagedIdentity(clientID: clientID, transport: transport))
    }
}

enum RetryingFetch {
    /// GET with the managed-identity retry rules: 429, 5xx (and 404 for IMDS) and transport errors, up to 5 tries.
    static func get(_ url: String, headers: HTTPHeaderList, transport: any HTTPTransport, retryNotFound: Bool = false)
        async throws -> TransportResponse
    {
        var attempt = 0
        while true {
            attempt += 1
            do {
                let response = try await transport.execute(
                    TransportRequest(method: "GET", url: url, headers: headers, timeout: .seconds(10)))
                let retry =
                    response.status == 429 || response.status >= 500 || (retryNotFound && response.status == 404)
                if !retry || attempt >= 5 { return response }
            } catch let error as TransportError where !error.isCancelled && attempt < 5 {
                _ = error
            }
            try await Task.sleep(for: .milliseconds(200 * (1 << (attempt - 1))))
        }
    }
}
