import Foundation
import IPAMCore
import StrictJSON
import TestSupport
import Testing
import TokenAuth

/// `BearerTokenVerifier` on its own, against a local OpenID issuer over a real socket, with time moved by hand.
@Suite("Bearer token verification")
struct BearerTokenVerifierTests {
    static let audience = "api://ipam-unit"

    /// A verifier of a fresh fake issuer, its clock `time`.
    static func withVerifier(
        time: ManualTime = ManualTime(), failureMemory: Duration = BearerTokenVerifier.defaultFailureMemory,
        _ body: @Sendable (BearerTokenVerifier, FakeIssuer) async throws -> Void
    ) async throws {
        let issuer = try FakeIssuer()
        try await TestServers.withFakeServer({ issuer.handle($0) }) { port in
            issuer.setBase("http://127.0.0.1:\(port)/tenant-unit/v2.0")
            let verifier = BearerTokenVerifier(
                issuer: issuer.issuer, audience: audience, transport: TestStorage.transport, time: time.source,
                metadataURL: "http://127.0.0.1:\(port)/.well-known/openid-configuration", failureMemory: failureMemory)
            try await body(verifier, issuer)
        }
    }

    static func reason(_ verifier: BearerTokenVerifier, _ token: String) async -> String? {
        do {
            _ = try await verifier.verify(token)
            return nil
        } catch {
            return error.reason
        }
    }

    @Test(
        "a token of the issuer for the audience gives its subject and roles, and the keys it was checked with are cached"
    )
    func accepted() async throws {
        let time = ManualTime()
        try await Self.withVerifier(time: time) { verifier, issuer in
            let claims = issuer.claims(
                subject: "sub-1", roles: ["IPAM.Reader", "Other"], audience: Self.audience, now: time.now)
            let verified = try await verifier.verify(try issuer.token(claims))
            #expect(verified.subject == "sub-1" && verified.roles == ["IPAM.Reader", "Other"])
            #expect(issuer.jwksFetches == 1)
            _ = try await verifier.verify(try issuer.token(claims))
            #expect(issuer.jwksFetches == 1, "the keys are cached")
        }
    }

    @Test(
        "every kind of wrong token is refused with its reason: algorithm, key, signature, issuer, audience, time, subject"
    )
    func refused() async throws {
        let time = ManualTime()
        try await Self.withVerifier(time: time) { verifier, issuer in
            let good = issuer.claims(subject: "sub-1", roles: [], audience: Self.audience, now: time.now)
            func with(_ name: String, _ value: JSONValue?) -> [(String, JSONValue)] {
                var claims = good.filter { $0.0 != name }
                if let value { claims.append((name, value)) }
                return claims
            }
            let cases: [(String, String)] = [
                ("not-a-jwt", "the token is not a JWT"),
                (issuer.unsignedToken(good), "the token's algorithm is not accepted (RS256, RS384, RS512 only)"),
                (issuer.confusedToken(good), "the token's algorithm is not accepted (RS256, RS384, RS512 only)"),
                (try issuer.foreignToken(good), "the token's signature is not valid"),
                (
                    try issuer.token(good, headerKid: "never-published"),
                    "the token is signed by a key the issuer does not publish"
                ),
                (try issuer.token(with("iss", .string("https://elsewhere/v2.0"))), "the token is from another issuer"),
                (try issuer.token(with("aud", .string("api://other"))), "the token is for another audience"),
                (try issuer.token(with("exp", nil)), "the token has no expiry"),
                (try issuer.token(with("sub", .string(""))), "the token has no subject"),
                (
                    try issuer.token(with("nbf", .number(String(Int(time.now.timeIntervalSince1970) + 600)))),
                    "the token is not valid yet"
                ),
                (String(repeating: "a", count: 17 * 1024), "the token is too large"),
            ]
            for (token, expected) in cases {
                #expect(await Self.reason(verifier, token) == expected, "\(expected)")
            }
        }
    }

    @Test("expiry and not-before hold to the injected clock with two minutes of skew, no more")
    func skew() async throws {
        let time = ManualTime()
        try await Self.withVerifier(time: time) { verifier, issuer in
            let token = try issuer.token(issuer.claims(roles: [], audience: Self.audience, now: time.now))
            // Valid for an hour from now; with the skew, until an hour and two minutes.
            time.advance(by: .seconds(3600 + 119))
            #expect(await Self.reason(verifier, token) == nil)
            time.advance(by: .seconds(2))
            #expect(await Self.reason(verifier, token) == "the token has expired")
        }
    }

    @Test("an unknown kid reads the keys again at most once a minute, so made-up kids cannot hammer the issuer")
    func missRefresh() async throws {
        let time = ManualTime()
        try await Self.withVerifier(time: time) { verifier, issuer in
            let claims = issuer.claims(roles: [], audience: Self.audience, now: time.now)
            _ = try await verifier.verify(try issuer.token(claims))
            #expect(issuer.jwksFetches == 1)
            for index in 0..<20 {
                #expect(await Self.reason(verifier, try issuer.token(claims, headerKid: "made-up-\(index)")) != nil)
            }
            #expect(issuer.jwksFetches == 2, "one read for the first miss, none for the next 19")
            // A key the issuer rotates in is found after the minute has passed.
            try issuer.addKey("key-2")
            time.advance(by: .seconds(61))
            _ = try await verifier.verify(try issuer.token(claims, kid: "key-2"))
            #expect(issuer.jwksFetches == 3)
        }
    }

    @Test(
        "an issuer that is down fails closed, is not asked again within the failure memory, and is read again after it")
    func issuerDown() async throws {
        let time = ManualTime()
        try await Self.withVerifier(time: time, failureMemory: .seconds(30)) { verifier, issuer in
            let claims = issuer.claims(roles: [], audience: Self.audience, now: time.now)
            issuer.setDown(true)
            let token = try issuer.token(claims)
            let reason = await Self.reason(verifier, token)
            #expect(reason?.contains("cannot be checked right now") == true)
            #expect(reason?.contains("127.0.0.1") == false, "the issuer's address is never told")
            let fetchesWhileDown = issuer.metadataFetches
            issuer.setDown(false)
            #expect(await Self.reason(verifier, token) != nil, "still remembered as failed")
            #expect(issuer.metadataFetches == fetchesWhileDown)
            time.advance(by: .seconds(31))
            #expect(await Self.reason(verifier, token) == nil)
        }
    }

    @Test("looksLikeToken tells a JWT's shape from an API key")
    func shape() throws {
        let issuer = try FakeIssuer()
        let token = try issuer.token(issuer.claims(roles: [], audience: Self.audience))
        #expect(BearerTokenVerifier.looksLikeToken(token))
        for key in ["plain-key", "a.b.c", "eyJ.x", "eyJhbGc.e30.s!g", ""] {
            #expect(!BearerTokenVerifier.looksLikeToken(key), "\(key)")
        }
    }
}
