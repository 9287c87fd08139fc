import Foundation
import HTTPTransport
import IPAMCore
import Logging
import StrictJSON
import TestSupport
import Testing
import TokenAuth
import VendorDomain
import VendorHTTP

/// Entra ID bearer tokens against a local fake issuer: every role, and every way a token can be wrong.
@Suite("Bearer tokens (Entra ID)")
struct TokenAuthTests {
    static let audience = "api://ipam-test"

    /// A Vendor that accepts tokens of a fake issuer (and one API key), with the issuer's base URL set.
    static func withIssuer(time: TimeSource = .system, _ body: @Sendable (String, FakeIssuer) async throws -> Void)
        async throws
    {
        let issuer = try FakeIssuer()
        try await TestServers.withFakeServer({ issuer.handle($0) }) { port in
            issuer.setBase("http://127.0.0.1:\(port)/tenant-1/v2.0")
            let verifier = BearerTokenVerifier(
                issuer: issuer.issuer, audience: audience, transport: TestStorage.transport, time: time,
                metadataURL: "http://127.0.0.1:\(port)/.well-known/openid-configuration")
            let tokens = TokenAuthentication(verifier: verifier)
            try await VendorHarness.withVendor(keys: ["plain-key"], tokens: tokens) { url, _, _ in
                try await body(url, issuer)
            }
        }
    }

    static func call(_ method: String, _ url: String, token: String, body: String? = nil) async throws -> HTTPAnswer {
        try await HTTPCalls.send(method, url, body: body, headers: ["Authorization": "Bearer \(token)"])
    }

    @Test(
        "a valid token per role: its issuer and subject name the caller (jwt:…), its app role the ipam role; a valid token with no mapped role is 403"
    )
    func roles() async throws {
        try await Self.withIssuer { url, issuer in
            let reader = try issuer.token(
                issuer.claims(subject: "reader-sub", roles: ["IPAM.Reader"], audience: Self.audience))
            let lease = try issuer.token(
                issuer.claims(subject: "lease-sub", roles: ["Other", "IPAM.Lease"], audience: Self.audience))
            let admin = try issuer.token(
                issuer.claims(subject: "admin-sub", roles: ["IPAM.Reader", "IPAM.Admin"], audience: Self.audience))
            let none = try issuer.token(
                issuer.claims(subject: "nobody", roles: ["Something.Else"], audience: Self.audience))
            #expect(
                try await Self.call("GET", url + "/api/whoami", token: reader).string("caller")
                    == PrincipalName.token(issuer: issuer.issuer, subject: "reader-sub"))
            #expect(try await Self.call("GET", url + "/api/leases", token: reader).status == 200)
            let refused = try await Self.call(
                "POST", url + "/api/getNewNetwork", token: reader, body: #"{"SessionId":"tok-1"}"#)
            #expect(refused.status == 403 && refused.code == "Forbidden", "\(refused.text)")
            let created = try await Self.call(
                "POST", url + "/api/getNewNetwork", token: lease, body: #"{"SessionId":"tok-1"}"#)
            #expect(created.status == 201, "\(created.text)")
            #expect(
                try await Self.call("GET", url + "/api/whoami", token: admin).string("caller")
                    == PrincipalName.token(issuer: issuer.issuer, subject: "admin-sub"),
                "the largest mapped role wins")
            // The token's principal owns what it created: host addresses follow the token identity.
            let leaseId = try #require(created.string("leaseId"))
            let ip = try await Self.call("POST", url + "/api/leases/\(leaseId)/ips", token: lease, body: "{}")
            #expect(
                ip.status == 201
                    && ip.string("principal") == PrincipalName.token(issuer: issuer.issuer, subject: "lease-sub"),
                "\(ip.text)")
            let noRole = try await Self.call("GET", url + "/api/leases", token: none)
            #expect(
                noRole.status == 403 && noRole.code == "Forbidden" && noRole.text.contains("IPAM.Reader"),
                "\(noRole.text)")
            // API keys keep working beside tokens.
            #expect(
                try await HTTPCalls.send("GET", url + "/api/leases", headers: ["x-functions-key": "plain-key"]).status
                    == 200)
        }
    }

    @Test(
        "expired, not yet valid, wrong audience, wrong issuer, unknown key, tampered, alg none, HS256 with the public key, no expiry: all 401"
    )
    func attacks() async throws {
        try await Self.withIssuer { url, issuer in
            let now = Date()
            func claims(_ change: (inout [(String, JSONValue)]) -> Void) -> [(String, JSONValue)] {
                var claims = issuer.claims(roles: ["IPAM.Admin"], audience: Self.audience, now: now)
                change(&claims)
                return claims
            }
            func set(_ name: String, _ value: JSONValue) -> ((inout [(String, JSONValue)]) -> Void) {
                { claims in
                    claims.removeAll { $0.0 == name }
                    claims.append((name, value))
                }
            }
            let valid = try issuer.token(claims { _ in })
            #expect(try await Self.call("GET", url + "/api/leases", token: valid).status == 200)
            let parts = valid.split(separator: ".").map(String.init)
            let otherPayload = FakeIssuerParts.payload(claims(set("sub", .string("someone-else"))))
            let cases: [(String, String)] = [
                (
                    "expired",
                    try issuer.token(claims(set("exp", .number(String(Int(now.timeIntervalSince1970) - 600)))))
                ),
                (
                    "not yet valid",
                    try issuer.token(claims(set("nbf", .number(String(Int(now.timeIntervalSince1970) + 600)))))
                ),
                ("wrong audience", try issuer.token(claims(set("aud", .string("api://someone-else"))))),
                ("wrong issuer", try issuer.token(claims(set("iss", .string("https://login.example.com/other/v2.0"))))),
                ("no expiry", try issuer.token(claims { $0.removeAll { $0.0 == "exp" } })),
                ("unknown key", try issuer.foreignToken(claims { _ in })),
                ("tampered payload", parts[0] + "." + otherPayload + "." + parts[2]),
                ("alg none", issuer.unsignedToken(claims { _ in })),
                ("HS256 with the public key", issuer.confusedToken(claims { _ in })),
                ("garbage", "eyJhbGciOiJSUzI1NiJ9.bm90LWpzb24.c2ln"),
            ]
            for (name, token) in cases {
                let answer = try await Self.call("GET", url + "/api/leases", token: token)
                #expect(
                    answer.status == 401 && answer.code == "Unauthorized", "\(name): \(answer.status) \(answer.text)")
            }
        }
    }

    @Test(
        "key rotation: a token of a newly published key is accepted (the JWKS is read again), a retired key's is refused after the refresh; unknown kids cannot make it read the JWKS more than once a minute"
    )
    func rotation() async throws {
        let time = ManualTime()
        try await Self.withIssuer(time: time.source) { url, issuer in
            let first = try issuer.token(issuer.claims(roles: ["IPAM.Reader"], audience: Self.audience, now: time.now))
            #expect(try await Self.call("GET", url + "/api/leases", token: first).status == 200)
            #expect(issuer.jwksFetches == 1)
            #expect(try await Self.call("GET", url + "/api/leases", token: first).status == 200)
            #expect(issuer.jwksFetches == 1, "cached")
            try issuer.addKey("key-2")
            let second = try issuer.token(
                issuer.claims(roles: ["IPAM.Reader"], audience: Self.audience, now: time.now), kid: "key-2")
            #expect(
                try await Self.call("GET", url + "/api/leases", token: second).status == 200,
                "an unknown kid reads the JWKS again")
            #expect(issuer.jwksFetches == 2)
            for _ in 0..<5 {
                #expect(
                    try await Self.call(
                        "GET", url + "/api/leases",
                        token: try issuer.foreignToken(issuer.claims(roles: [], audience: Self.audience))
                    ).status == 401)
            }
            for _ in 0..<3 {
                let unknown = try issuer.token(
                    issuer.claims(roles: ["IPAM.Reader"], audience: Self.audience, now: time.now), headerKid: "key-9")
                #expect(try await Self.call("GET", url + "/api/leases", token: unknown).status == 401)
            }
            #expect(
                issuer.jwksFetches == 2,
                "a miss within a minute of the last miss refresh reads nothing: \(issuer.jwksFetches)")
            time.advance(by: .seconds(61))
            let unknown = try issuer.token(
                issuer.claims(roles: ["IPAM.Reader"], audience: Self.audience, now: time.now), headerKid: "key-9")
            #expect(try await Self.call("GET", url + "/api/leases", token: unknown).status == 401)
            #expect(issuer.jwksFetches == 3, "a minute later a miss may refresh again")
            let old = try issuer.token(
                issuer.claims(
                    roles: ["IPAM.Reader"], audience: Self.audience, now: time.now.addingTimeInterval(25 * 3600)),
                kid: "key-1")
            #expect(try await Self.call("GET", url + "/api/leases", token: first).status == 200)
            issuer.retire("key-1")
            time.advance(by: .seconds(25 * 3600))
            let refreshed = try await Self.call("GET", url + "/api/leases", token: old)
            #expect(refreshed.status == 401, "after the daily refresh the retired key is gone")
        }
    }

    @Test(
        "an issuer that fails: the 401 says what is wrong with the token, never where the issuer is (the log does); 50 requests read it once; after the failure window it is read again and tokens work"
    )
    func issuerDown() async throws {
        let time = ManualTime()
        let capture = LogCapture()
        let issuer = try FakeIssuer()
        try await TestServers.withFakeServer({ issuer.handle($0) }) { port in
            issuer.setBase("http://127.0.0.1:\(port)/tenant-1/v2.0")
            let verifier = BearerTokenVerifier(
                issuer: issuer.issuer, audience: Self.audience, transport: TestStorage.transport, time: time.source,
                metadataURL: "http://127.0.0.1:\(port)/.well-known/openid-configuration", failureMemory: .seconds(30),
                logger: capture.logger(label: "token-test", level: .warning))
            try await VendorHarness.withVendor(keys: ["plain-key"], tokens: TokenAuthentication(verifier: verifier)) {
                url, _, _ in
                issuer.setDown(true)
                let token = try issuer.token(
                    issuer.claims(roles: ["IPAM.Reader"], audience: Self.audience, now: time.now))
                // A burst first: the requests share one read of the issuer, and then remember that it failed.
                let answers = try await withThrowingTaskGroup(of: HTTPAnswer.self) { group in
                    for _ in 0..<50 { group.addTask { try await Self.call("GET", url + "/api/leases", token: token) } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(
                    answers.allSatisfy { $0.status == 401 && $0.code == "Unauthorized" }, "\(answers.map(\.status))")
                #expect(issuer.metadataFetches == 1, "one read for 50 requests: \(issuer.metadataFetches)")
                let answer = try await Self.call("GET", url + "/api/leases", token: token)
                #expect(
                    answer.status == 401 && answer.text.contains("signature cannot be checked right now"),
                    "\(answer.text)")
                for leak in ["127.0.0.1", String(port), "well-known", "tenant-1", "discovery", "503"] {
                    #expect(!answer.text.contains(leak), "the answer names \(leak): \(answer.text)")
                }
                #expect(
                    capture.captured.contains {
                        $0.level == .warning && ($0.metadata["error"] ?? "").contains("127.0.0.1:\(port)")
                    },
                    "the detail is logged: \(capture.captured.map(\.metadata))")
                // The issuer is back: within the window nothing reads it; after the window a token works again.
                issuer.setDown(false)
                time.advance(by: .seconds(29))
                #expect(try await Self.call("GET", url + "/api/leases", token: token).status == 401)
                #expect(issuer.metadataFetches == 1, "within the failure window nothing reads the issuer")
                time.advance(by: .seconds(2))
                #expect(try await Self.call("GET", url + "/api/leases", token: token).status == 200)
                #expect(issuer.metadataFetches == 2 && issuer.jwksFetches == 1)
            }
        }
    }
}

/// Builds token parts outside the issuer (for tampering).
enum FakeIssuerParts {
    static func payload(_ claims: [(String, JSONValue)]) -> String {
        BearerTokenVerifier.base64URL(Data(JSONValue.object(claims).serializedBytes))
    }
}
