import Foundation
import Testing

@testable import IPAMCore

@Suite("Principals: keyed and sealed")
struct PrincipalRedactorTests {
    @Test(
        "keys are stable per salt and differ across salts; sealed names open only with their salt and never show the name"
    )
    func keysAndSeals() {
        let a = PrincipalRedactor(salt: "salt-one-0123456789")
        let b = PrincipalRedactor(salt: "salt-two-0123456789")
        #expect(a.principal("alice").key == a.principal("alice").key)
        #expect(a.principal("alice").key != a.principal("bob").key)
        #expect(a.principal("alice").key != b.principal("alice").key)
        #expect(a.principal("alice").key.count == 32 && a.principal("alice").key.allSatisfy(\.isHexDigit))
        let sealed = a.seal(a.principal("alice"))
        #expect(
            !sealed.contains("alice")
                && !(Data(base64Encoded: sealed).map { String(decoding: $0, as: UTF8.self).contains("alice") } ?? true))
        #expect(a.seal(a.principal("alice")) != sealed, "a fresh nonce each time: equal names do not look equal")
        #expect(a.open(sealed) == a.principal("alice"))
        #expect(b.open(sealed) == nil)
        var tampered = Array(Data(base64Encoded: sealed)!)
        tampered[tampered.count - 1] ^= 1
        #expect(a.open(Data(tampered).base64EncodedString()) == nil)
        #expect(a.open("not base64") == nil)
    }

    @Test(
        "principal names are one path segment of safe characters",
        arguments: [
            ("alice", true), ("vm-01.eastus", true), ("svc@contoso.com", true), ("a:b_c", true), ("", false),
            ("a b", false), ("a/b", false), ("a\n", false), ("a\r\n", false),
            (String(repeating: "x", count: 129), false), ("é", false),
        ])
    func names(_ name: String, _ valid: Bool) {
        #expect(Principal.isValidName(name) == valid)
    }

    @Test("a remembered key is the key computed afresh, for every name, past the bound, under another salt")
    func rememberedKeys() {
        let redactor = PrincipalRedactor(salt: "salt-one-0123456789")
        let other = PrincipalRedactor(salt: "salt-two-0123456789")
        let names = (0..<(KnownKeys.limit + 10)).map { "caller-\($0)" }
        for name in names + names.prefix(20) {
            #expect(redactor.principal(name).key == redactor.key(of: name))
        }
        #expect(other.principal("caller-1").key == other.key(of: "caller-1"))
        #expect(other.principal("caller-1").key != redactor.principal("caller-1").key)
        let cache = KnownKeys()
        var computed = 0
        for name in names {
            _ = cache.key(for: name) {
                computed += 1
                return "k-" + $0
            }
        }
        #expect(computed == names.count && cache.count <= KnownKeys.limit, "bounded: emptied when full")
        #expect(cache.key(for: names.last!) { _ in "recomputed" } == "k-" + names.last!, "the newest stay known")
    }
}
