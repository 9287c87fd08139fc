import AzureTables
import Foundation
import HTTPTransport
import IPAMCore
import Inventory
import StrictJSON
import TestSupport
import Testing
import TokenAuth
import VendorDomain
import VendorHTTP

/// Two kinds of principal, one namespace no more: an API key named `alice` and a token whose `sub` is `alice`
/// are two callers. A token's principal is `jwt:{issuer tag}:{subject}`; a key's is its name, as it always was,
/// so rows stored before keep naming the key.
@Suite("Principal kinds")
struct PrincipalKindTests {
    static let audience = "api://ipam-principals"
    static let keys = APIKeys(reader: nil, lease: "alice=alice-key-1", admin: nil)
    static let key: HTTPHeaderList = ["x-functions-key": "alice-key-1"]

    static func withKeyAndIssuer(_ body: @Sendable (String, TableClient, FakeIssuer) async throws -> Void) async throws
    {
        let issuer = try FakeIssuer()
        try await TestServers.withFakeServer({ issuer.handle($0) }) { port in
            issuer.setBase("http://127.0.0.1:\(port)/tenant-1/v2.0")
            let verifier = BearerTokenVerifier(
                issuer: issuer.issuer, audience: audience, transport: TestStorage.transport,
                metadataURL: "http://127.0.0.1:\(port)/.well-known/openid-configuration")
            try await VendorHarness.withVendor(roleKeys: keys, tokens: TokenAuthentication(verifier: verifier)) {
                url, table, _ in try await body(url, table, issuer)
            }
        }
    }

    static func send(_ method: String, _ url: String, _ headers: HTTPHeaderList, _ body: String? = nil) async throws
        -> HTTPAnswer
    {
        try await HTTPCalls.send(method, url, body: body, headers: headers)
    }

    @Test(
        "a token with sub 'alice' is not the key 'alice': it cannot release, delete, renew, replay or use the key's lease, nor the key the token's"
    )
    func keyAndTokenOfOneName() async throws {
        try await Self.withKeyAndIssuer { url, table, issuer in
            let token: HTTPHeaderList = [
                "Authorization": "Bearer "
                    + (try issuer.token(issuer.claims(subject: "alice", roles: ["IPAM.Lease"], audience: Self.audience)))
            ]
            let tokenName = try #require(try await Self.send("GET", url + "/api/whoami", token).string("caller"))
            #expect(
                tokenName == PrincipalName.token(issuer: issuer.issuer, subject: "alice") && tokenName.hasPrefix("jwt:")
                    && tokenName.hasSuffix(":alice"), "\(tokenName)")
            #expect(try await Self.send("GET", url + "/api/whoami", Self.key).string("caller") == "alice")

            let body = #"{"SessionId":"kind-1"}"#
            let keyLease = try await Self.send("POST", url + "/api/getNewNetwork", Self.key, body)
            let leaseId = try #require(keyLease.string("leaseId"), "\(keyLease.text)")
            let released = try await Self.send(
                "POST", url + "/api/releaseNetwork", token, #"{"leaseId":"\#(leaseId)"}"#)
            #expect(
                released.status == 403 && released.code == "NotAuthorized",
                "the token released the key's lease: \(released.text)")
            let deleted = try await Self.send("DELETE", url + "/api/leases/\(leaseId)", token)
            #expect(deleted.status == 403 && deleted.code == "NotAuthorized", "\(deleted.text)")
            #expect(try await Self.send("POST", url + "/api/renewLease", token, body).code == "SessionOwnedByAnother")
            #expect(
                try await Self.send("POST", url + "/api/getNewNetwork", token, body).code == "SessionOwnedByAnother")
            let ip = try await Self.send("POST", url + "/api/leases/\(leaseId)/ips", token, "{}")
            #expect(
                ip.status == 403 && ip.code == "NotAuthorized", "the token is no member of the key's lease: \(ip.text)")

            // The owner (the key) makes the token a member by its principal name: then it gets its own address.
            let added = try await Self.send(
                "PUT", url + "/api/leases/\(leaseId)/members/\(tokenName)", Self.key, #"{"role":"member"}"#)
            #expect(added.status == 201 && added.string("principal") == tokenName, "\(added.text)")
            let tokenIP = try await Self.send("POST", url + "/api/leases/\(leaseId)/ips", token, "{}")
            #expect(tokenIP.status == 201 && tokenIP.string("principal") == tokenName, "\(tokenIP.text)")
            let keyIP = try await Self.send("POST", url + "/api/leases/\(leaseId)/ips", Self.key, "{}")
            #expect(
                keyIP.status == 201 && keyIP.string("ip") != tokenIP.string("ip"),
                "two principals, two addresses: \(keyIP.text)")

            // The other way round: the key cannot release the token's lease.
            let tokenLease = try await Self.send("POST", url + "/api/getNewNetwork", token, #"{"SessionId":"kind-2"}"#)
            let tokenLeaseId = try #require(tokenLease.string("leaseId"), "\(tokenLease.text)")
            #expect(
                try await Self.send("POST", url + "/api/releaseNetwork", Self.key, #"{"leaseId":"\#(tokenLeaseId)"}"#)
                    .code == "NotAuthorized")
            #expect(
                try await Self.send("POST", url + "/api/releaseNetwork", Self.key, #"{"SessionId":"kind-2"}"#).code
                    == "SessionOwnedByAnother")
            #expect(
                try await Self.send("POST", url + "/api/releaseNetwork", token, #"{"SessionId":"kind-2"}"#).string(
                    "state") == "quarantined")
            #expect(
                try await Self.send("POST", url + "/api/releaseNetwork", Self.key, body).string("state")
                    == "quarantined")

            // Stored: the key's owner is keyed by its name exactly as before kinds (rows from then stay the key's);
            // the token's by its jwt: name. The audit trail names each kind apart.
            let redactor = PrincipalRedactor(salt: SampleConfiguration.auditSalt)
            let rows = try await table.queryAll()
            let owners = Dictionary(
                rows.filter { $0.rowKey.hasPrefix(RowKeys.networkPrefix) && $0["LeaseId"] != nil }.map {
                    ($0["LeaseId"]!.stringValue!, $0["OwnerKey"]?.stringValue)
                },
                uniquingKeysWith: { a, _ in a })
            #expect(
                owners[leaseId] == redactor.principal("alice").key
                    && owners[tokenLeaseId] == redactor.principal(tokenName).key, "\(owners)")
            let actors = Set(
                rows.filter { $0.rowKey.hasPrefix(RowKeys.eventPrefix) && $0["Action"]?.stringValue == "release" }
                    .compactMap { $0["Actor"]?.stringValue })
            #expect(actors == ["alice", tokenName], "\(actors)")
        }
    }

    @Test("a token's principal carries its issuer: the same subject of another issuer is another principal")
    func issuerTags() {
        let a = PrincipalName.token(issuer: "https://login.microsoftonline.com/tenant-a/v2.0", subject: "alice")
        let b = PrincipalName.token(issuer: "https://login.microsoftonline.com/tenant-b/v2.0", subject: "alice")
        #expect(a != b && a.hasPrefix("jwt:") && b.hasPrefix("jwt:"))
        #expect(
            a == PrincipalName.token(issuer: "https://login.microsoftonline.com/tenant-a/v2.0/", subject: "alice"),
            "a trailing slash names the same issuer")
        #expect(Principal.isValidName(a), "a token principal is one path segment (members/{principal})")
        #expect(!PrincipalName.isToken("alice") && PrincipalName.isToken(a))
    }
}
