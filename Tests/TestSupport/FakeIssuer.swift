import Crypto
package import Foundation
import HTTPTransport
package import StrictJSON
import Synchronization
package import TableEmulator
import TokenAuth
import _CryptoExtras

/// A local OpenID Connect issuer for tests: serves its OpenID configuration and JWKS, signs tokens with its
/// RSA keys, rotates them, and makes the malformed tokens an attacker would try.
package final class FakeIssuer: Sendable {
    private let state = Mutex<
        (
            keys: [(kid: String, key: _RSA.Signing.PrivateKey)], base: String, jwksFetches: Int, metadataFetches: Int,
            down: Bool
        )
    >(
        ([], "", 0, 0, false))

    package init() throws { try addKey("key-1") }

    /// Starts a new signing key (published from now on, with the old ones).
    package func addKey(_ kid: String) throws {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        state.withLock { $0.keys.append((kid, key)) }
    }

    /// Stops publishing `kid`.
    package func retire(_ kid: String) { state.withLock { $0.keys.removeAll { $0.kid == kid } } }

    package var issuer: String { state.withLock { $0.base } }
    package var jwksFetches: Int { state.withLock { $0.jwksFetches } }
    /// Reads of the OpenID configuration, answered or not.
    package var metadataFetches: Int { state.withLock { $0.metadataFetches } }
    /// While down, every request is answered 503 (an issuer that is failing or unreachable behind a gateway).
    package func setDown(_ down: Bool) { state.withLock { $0.down = down } }
    package func setBase(_ base: String) { state.withLock { $0.base = base } }

    package func handle(_ request: EmulatorRequest) -> EmulatorResponse {
        let base = issuer
        let down = state.withLock { state in
            if request.rawPath == "/.well-known/openid-configuration" { state.metadataFetches += 1 }
            return state.down
        }
        if down { return EmulatorResponse(status: 503, headers: [:], body: Array("issuer unavailable".utf8)) }
        switch request.rawPath.hasSuffix("/discovery/keys") ? "/discovery/keys" : request.rawPath {
        case "/.well-known/openid-configuration":
            return Self.json(.object([("issuer", .string(base)), ("jwks_uri", .string(base + "/discovery/keys"))]))
        case "/discovery/keys":
            let keys: [JSONValue] = state.withLock { state in
                state.jwksFetches += 1
                return state.keys.map { kid, key in
                    let primitives = try! key.publicKey.getKeyPrimitives()
                    return .object([
                        ("kty", .string("RSA")), ("use", .string("sig")), ("kid", .string(kid)),
                        ("n", .string(BearerTokenVerifier.base64URL(primitives.modulus))),
                        ("e", .string(BearerTokenVerifier.base64URL(primitives.publicExponent))),
                    ])
                }
            }
            return Self.json(.object([("keys", .array(keys))]))
        default:
            return EmulatorResponse(status: 404, headers: [:], body: [])
        }
    }

    /// The standard claims of a token for `audience`, valid from a minute ago for an hour.
    package func claims(subject: String = "user-1", roles: [String], audience: String, now: Date = Date()) -> [(
        String, JSONValue
    )] {
        [
            ("iss", .string(issuer)), ("aud", .string(audience)), ("sub", .string(subject)),
            ("roles", .array(roles.map(JSONValue.string))),
            ("iat", .number(String(Int(now.timeIntervalSince1970) - 60))),
            ("nbf", .number(String(Int(now.timeIntervalSince1970) - 60))),
            ("exp", .number(String(Int(now.timeIntervalSince1970) + 3600))),
        ]
    }

    /// A token with `claims`, signed RS256 by `kid` (the newest key by default), its header naming `kid`.
    /// `headerKid` names another key in the header than the one that signed (a kid the issuer never published).
    package func token(
        _ claims: [(String, JSONValue)], kid: String? = nil, headerKid: String? = nil, alg: String = "RS256"
    ) throws -> String {
        let (name, key) = state.withLock { state in
            kid.flatMap { k in state.keys.first { $0.kid == k } } ?? state.keys.last!
        }
        let head = Self.part(
            .object([("alg", .string(alg)), ("typ", .string("JWT")), ("kid", .string(headerKid ?? name))]))
        let body = Self.part(.object(claims))
        let signature = try key.signature(
            for: SHA256.hash(data: Data((head + "." + body).utf8)), padding: .insecurePKCS1v1_5)
        return head + "." + body + "." + BearerTokenVerifier.base64URL(signature.rawRepresentation)
    }

    /// A token signed with a key the issuer never published.
    package func foreignToken(_ claims: [(String, JSONValue)]) throws -> String {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let head = Self.part(.object([("alg", .string("RS256")), ("typ", .string("JWT")), ("kid", .string("key-1"))]))
        let body = Self.part(.object(claims))
        let signature = try key.signature(
            for: SHA256.hash(data: Data((head + "." + body).utf8)), padding: .insecurePKCS1v1_5)
        return head + "." + body + "." + BearerTokenVerifier.base64URL(signature.rawRepresentation)
    }

    /// `alg: none`, unsigned.
    package func unsignedToken(_ claims: [(String, JSONValue)]) -> String {
        Self.part(.object([("alg", .string("none")), ("typ", .string("JWT")), ("kid", .string("key-1"))])) + "."
            + Self.part(.object(claims)) + "."
    }

    /// HS256, keyed with the issuer's public key (as published), the classic algorithm-confusion attack.
    package func confusedToken(_ claims: [(String, JSONValue)]) -> String {
        let publicKey = state.withLock { $0.keys.last!.key.publicKey }
        let head = Self.part(.object([("alg", .string("HS256")), ("typ", .string("JWT")), ("kid", .string("key-1"))]))
        let body = Self.part(.object(claims))
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data((head + "." + body).utf8), using: SymmetricKey(data: Data(publicKey.pkcs1PEMRepresentation.utf8)))
        return head + "." + body + "." + BearerTokenVerifier.base64URL(Data(mac))
    }

    static func part(_ json: JSONValue) -> String { BearerTokenVerifier.base64URL(Data(json.serializedBytes)) }

    static func json(_ value: JSONValue) -> EmulatorResponse { .json(200, value) }
}
