import Foundation
import HTTPTransport
import IPAMCore
import TokenAuth

/// Bearer tokens and the issuer's JWKS (`VENDOR_TOKEN_ISSUER`): the input's first line is the JWKS document the
/// issuer serves, the rest the token a caller sends. Verification gives a token or a `TokenRejection` with a
/// reason; an accepted token has a subject; `looksLikeToken` never traps on what a caller puts in a header.
enum JWTTarget: FuzzTarget {
    static let name = "jwt"
    static let issuer = "https://issuer.example"
    static let audience = "api://ipam"
    /// 2026-05-28: the seeds' tokens are valid then.
    static let time = TimeSource(
        now: { Date(timeIntervalSince1970: 1_780_000_000) }, uptime: { .zero }, sleep: { _ in })

    /// The issuer: its OpenID configuration and the fuzzed JWKS, over no network.
    struct Issuer: HTTPTransport {
        let jwks: [UInt8]
        func execute(_ request: TransportRequest) async throws -> TransportResponse {
            if request.url.hasSuffix("/.well-known/openid-configuration") {
                return TransportResponse(
                    status: 200, headers: [:], body: Array(#"{"jwks_uri":"\#(JWTTarget.issuer)/keys"}"#.utf8))
            }
            return TransportResponse(status: 200, headers: [:], body: jwks)
        }
    }

    static func run(_ bytes: [UInt8]) {
        let (jwks, rest) = bytes.split(at: UInt8(ascii: "\n"))
        let token = text(rest)
        _ = BearerTokenVerifier.looksLikeToken(token)
        let verifier = BearerTokenVerifier(
            issuer: issuer, audience: audience, transport: Issuer(jwks: Array(jwks)), time: time)
        runBlocking {
            do throws(TokenRejection) {
                let verified = try await verifier.verify(token)
                guard !verified.subject.isEmpty else { violated("a token without a subject was accepted") }
            } catch {
                guard !error.reason.isEmpty else { violated("refused without a reason") }
            }
        }
    }
}
