import Foundation
import IPAMCore
import Testing

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
            ("a b", false), ("a/b", false),
            (String(repeating: "x", count: 129), false), ("é", false),
        ])
    func names(_ name: String, _ valid: Bool) {
        #expect(Principal.isValidName(name) == valid)
    }
}
