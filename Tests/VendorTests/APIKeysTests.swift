import HTTPTransport
import TestSupport
import Testing
import VendorDomain
import VendorHTTP

@Suite("API keys")
struct APIKeysTests {
    @Test("named keys name their caller; unnamed ones are named by their digest; base64 padding is not a name")
    func names() {
        let keys = APIKeys(environmentValue: "pipeline=s3cret, plainkey, abcdef==, ab+c/d==, 1bad=x")
        #expect(keys.identify("s3cret") == "pipeline")
        #expect(keys.identify("pipeline=s3cret") == nil, "the name is not part of the secret")
        #expect(keys.identify("plainkey")?.hasPrefix("key-") == true && keys.identify("plainkey")?.count == 12)
        #expect(keys.identify("abcdef==")?.hasPrefix("key-") == true, "a padded base64 key stays whole")
        #expect(keys.identify("ab+c/d==")?.hasPrefix("key-") == true)
        #expect(keys.identify("1bad=x")?.hasPrefix("key-") == true, "a name starts with a letter")
        #expect(keys.identify("nope") == nil && !keys.accepts("nope"))
    }

    @Test("the caller's identity reaches GET /api/whoami")
    func whoami() async throws {
        try await VendorHarness.withVendor(keys: ["ci=k-ci", "k-anon"]) { url, _, _ in
            let named = try await HTTPCalls.send("GET", url + "/api/whoami", headers: ["x-functions-key": "k-ci"])
            #expect(named.string("caller") == "ci")
            let unnamed = try await HTTPCalls.send(
                "GET", url + "/api/whoami", headers: ["Authorization": "Bearer k-anon"])
            #expect(unnamed.string("caller")?.hasPrefix("key-") == true)
            #expect(try await HTTPCalls.send("GET", url + "/api/whoami").status == 401)
        }
    }
}
