import Crypto
package import Foundation
package import HTTPTransport
package import IPAMCore
package import Logging
import StrictJSON
import _CryptoExtras

/// What a valid bearer token says about its caller.
package struct VerifiedToken: Sendable, Equatable {
    /// The `sub` claim: the caller's identity.
    package let subject: String
    /// The app roles of the `roles` claim (Entra ID app roles).
    package let roles: [String]
}

/// Why a token was refused (401); the message is safe to show the caller.
package struct TokenRejection: Error, Sendable, Equatable, CustomStringConvertible {
    package let reason: String
    package var description: String { reason }
}

/// Verifies Entra ID (or any OpenID Connect issuer's) access tokens: RS256/RS384/RS512 signatures by a key of
/// the issuer's JWKS (found through its OpenID configuration, cached, refreshed daily and when a token names a
/// key it does not know, at most once a minute), the issuer, the audience, expiry and not-before (two minutes of
/// clock skew). Every other algorithm (`none`, `HS256` with the public key as its secret, ES*) is refused: the
/// algorithm is the verifier's choice, never the token's.
///
/// A failed read of the issuer (its OpenID configuration or JWKS) is logged with its detail and remembered for
/// `failureMemory`: meanwhile no request reads the issuer again (a flood of tokens is not a flood of fetches),
/// and concurrent requests share one read. A refusal never names the issuer's address, only what the token lacks.
package actor BearerTokenVerifier {
    package nonisolated let issuer: String
    package nonisolated let audience: String
    let transport: any HTTPTransport
    let time: TimeSource
    /// Where the OpenID configuration is read (default: `{issuer}/.well-known/openid-configuration`).
    let metadataURL: String
    private var keys: [String: _RSA.Signing.PublicKey] = [:]
    private var fetchedAt: Duration? = nil
    private var lastMissFetch: Duration? = nil
    /// When the last read of the issuer failed (nil after a good one).
    private var failedAt: Duration? = nil
    /// The read in progress, shared by every request that needs it.
    private var refreshing: Task<Void, Never>? = nil
    /// How long a failed read of the issuer is remembered (`AUTH_JWT_FAILURE_SECONDS`).
    package nonisolated let failureMemory: Duration
    let logger: Logger

    package static let skew: TimeInterval = 120
    package static let refreshInterval: Duration = .seconds(24 * 3600)
    package static let missRefreshInterval: Duration = .seconds(60)
    package static let defaultFailureMemory: Duration = .seconds(30)
    /// The accepted algorithms: the digest each signs.
    static func digest(_ algorithm: String) -> (@Sendable (Data) -> any Digest)? {
        switch algorithm {
        case "RS256": return { SHA256.hash(data: $0) }
        case "RS384": return { SHA384.hash(data: $0) }
        case "RS512": return { SHA512.hash(data: $0) }
        default: return nil
        }
    }

    /// - Parameters:
    ///   - failureMemory: how long a failed read of the issuer stops further reads.
    ///   - logger: where failed reads of the issuer are told, with their detail (never told to callers).
    package init(
        issuer: String, audience: String, transport: any HTTPTransport, time: TimeSource = .system,
        metadataURL: String? = nil,
        failureMemory: Duration = defaultFailureMemory,
        logger: Logger = Logger(label: "ipam.token", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.issuer = issuer
        self.audience = audience
        self.transport = transport
        self.time = time
        self.failureMemory = failureMemory
        self.logger = logger
        let base = issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer
        self.metadataURL = metadataURL ?? base + "/.well-known/openid-configuration"
    }

    /// True when `text` has a JWT's shape (three base64url parts), so it is a token rather than an API key.
    package nonisolated static func looksLikeToken(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 3 && parts[0].hasPrefix("eyJ")
            && parts.allSatisfy { part in
                part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
            }
    }

    /// The token's subject and roles, or why it is refused.
    package func verify(_ token: String) async throws(TokenRejection) -> VerifiedToken {
        guard token.utf8.count <= 16 * 1024 else { throw TokenRejection(reason: "the token is too large") }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let headerBytes = Self.base64URL(parts[0]), let payloadBytes = Self.base64URL(parts[1]),
            let signature = Self.base64URL(parts[2]),
            let header = try? JSONValue.parse(Array(headerBytes)),
            let claims = try? JSONValue.parse(Array(payloadBytes))
        else {
            throw TokenRejection(reason: "the token is not a JWT")
        }
        guard let algorithm = header["alg"]?.stringValue, let digest = Self.digest(algorithm) else {
            throw TokenRejection(reason: "the token's algorithm is not accepted (RS256, RS384, RS512 only)")
        }
        guard let kid = header["kid"]?.stringValue else {
            throw TokenRejection(reason: "the token names no signing key (kid)")
        }
        guard let key = try await key(kid) else {
            throw TokenRejection(reason: "the token is signed by a key the issuer does not publish")
        }
        let signed = Data((parts[0] + "." + parts[1]).utf8)
        guard
            key.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: digest(signed),
                padding: .insecurePKCS1v1_5)
        else {
            throw TokenRejection(reason: "the token's signature is not valid")
        }
        guard claims["iss"]?.stringValue == issuer else {
            throw TokenRejection(reason: "the token is from another issuer")
        }
        let audiences =
            claims["aud"].map { $0.arrayValue?.compactMap(\.stringValue) ?? [$0.stringValue].compactMap { $0 } } ?? []
        guard audiences.contains(audience) else { throw TokenRejection(reason: "the token is for another audience") }
        let now = time.now().timeIntervalSince1970
        guard let expiry = Self.number(claims["exp"]) else { throw TokenRejection(reason: "the token has no expiry") }
        guard now < expiry + Self.skew else { throw TokenRejection(reason: "the token has expired") }
        if let notBefore = Self.number(claims["nbf"]), now + Self.skew < notBefore {
            throw TokenRejection(reason: "the token is not valid yet")
        }
        guard let subject = claims["sub"]?.stringValue, !subject.isEmpty else {
            throw TokenRejection(reason: "the token has no subject")
        }
        return VerifiedToken(subject: subject, roles: claims["roles"]?.arrayValue?.compactMap(\.stringValue) ?? [])
    }

    /// The key `kid`: from the cache, else from a fresh JWKS (when the cache is old, or on a miss at most
    /// once a minute, so a flood of made-up kids cannot make us hammer the issuer), unless a read failed within
    /// `failureMemory`.
    private func key(_ kid: String) async throws(TokenRejection) -> _RSA.Signing.PublicKey? {
        let now = time.uptime()
        let stale = fetchedAt.map { now - $0 > Self.refreshInterval } ?? true
        let missMayRefresh = keys[kid] == nil && (lastMissFetch.map { now - $0 >= Self.missRefreshInterval } ?? true)
        let recentlyFailed = failedAt.map { now - $0 < failureMemory } ?? false
        if (stale || missMayRefresh) && !recentlyFailed {
            if !stale { lastMissFetch = now }
            await refresh()
        }
        // Keep serving the keys we have; a token signed by an unknown one is refused by the caller.
        if keys.isEmpty && failedAt != nil {
            throw TokenRejection(
                reason:
                    "the token's signature cannot be checked right now (the issuer's signing keys are unavailable); "
                    + "try again shortly")
        }
        return keys[kid]
    }

    /// Reads the issuer's keys once for every request waiting on them; a failure is logged and remembered.
    private func refresh() async {
        if let refreshing {
            await refreshing.value
            return
        }
        let task = Task { await self.read() }
        refreshing = task
        await task.value
    }

    private func read() async {
        defer { refreshing = nil }
        do {
            let fresh = try await Self.fetchKeys(metadataURL: metadataURL, transport: transport)
            keys = fresh
            fetchedAt = time.uptime()
            failedAt = nil
        } catch {
            failedAt = time.uptime()
            logger.warning(
                "the issuer's signing keys could not be read; tokens needing them are refused until a read succeeds",
                metadata: [
                    "issuer": .string(issuer), "error": .string("\(error)"), "retryAfter": .string("\(failureMemory)"),
                ])
        }
    }

    /// Why reading the issuer failed (logged, never shown to a caller: it names the issuer's addresses).
    struct IssuerReadError: Error, CustomStringConvertible {
        let description: String
    }

    private static func fetchKeys(metadataURL: String, transport: any HTTPTransport) async throws -> [String: _RSA
        .Signing.PublicKey]
    {
        let metadata = try await getJSON(metadataURL, transport: transport)
        guard let jwksURL = metadata["jwks_uri"]?.stringValue else {
            throw IssuerReadError(description: "\(metadataURL) names no jwks_uri")
        }
        let jwks = try await getJSON(jwksURL, transport: transport)
        var found: [String: _RSA.Signing.PublicKey] = [:]
        for key in jwks["keys"]?.arrayValue ?? [] {
            guard key["kty"]?.stringValue == "RSA", key["use"]?.stringValue ?? "sig" == "sig",
                let kid = key["kid"]?.stringValue,
                let n = key["n"]?.stringValue.flatMap(Self.base64URL),
                let e = key["e"]?.stringValue.flatMap(Self.base64URL),
                let publicKey = try? _RSA.Signing.PublicKey(n: n, e: e)
            else { continue }
            found[kid] = publicKey
        }
        return found
    }

    private static func getJSON(_ url: String, transport: any HTTPTransport) async throws -> JSONValue {
        let response: TransportResponse
        do {
            let request = TransportRequest(
                method: "GET", url: url, headers: ["Accept": "application/json"], timeout: .seconds(10))
            response = try await transport.execute(request)
        } catch {
            throw IssuerReadError(description: "\(url): \(error)")
        }
        guard response.status == 200 else { throw IssuerReadError(description: "\(url) answered \(response.status)") }
        do { return try JSONValue.parse(response.body) } catch {
            throw IssuerReadError(description: "\(url) answered something that is not JSON")
        }
    }

    static func number(_ value: JSONValue?) -> TimeInterval? {
        guard case .number(let text)? = value else { return nil }
        return TimeInterval(text)
    }

    /// Decodes base64url without padding (RFC 7515).
    package nonisolated static func base64URL(_ text: String) -> Data? { ASCIIFormat.base64URLDecoded(text) }

    /// Encodes base64url without padding.
    package nonisolated static func base64URL(_ data: Data) -> String { ASCIIFormat.base64URL(data) }
}
