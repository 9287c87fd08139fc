import Crypto
import Foundation
import StrictJSON
import Synchronization

/// A caller or member of a lease, as storage keeps it: a keyed hash that rows and audit events are keyed
/// and correlated by, and the name itself sealed (encrypted), so the table holds no identity in clear.
package struct Principal: Sendable, Equatable, CustomStringConvertible {
    /// The identity in clear (an API key's name, a token's `jwt:…` name, a name the owner gave: `PrincipalName`).
    package let name: String
    /// HMAC-SHA-256 of the name under the audit salt, 32 hex digits: what rows and events store.
    package let key: String

    package var description: String { name }

    /// A principal from a name and its key (`PrincipalRedactor.principal` computes the key).
    package init(name: String, key: String) {
        self.name = name
        self.key = key
    }

    /// Names a principal may have: 1–128 characters of `A–Z a–z 0–9 . _ : @ -` (no `/`, so a name is
    /// one path segment).
    package static func isValidName(_ name: String) -> Bool { RequestRules.isValidSessionId(name) }
}

/// The name of a principal that calls: what owners, members, holders of host addresses, quota holders and audit
/// actors are keyed, sealed and compared by, so two kinds of caller never share one.
///
/// - An API key's principal is the key's name (`alice`; an unnamed key's `key-` and 8 hex digits). Key names
///   are letters, digits, `.`, `_` and `-`: never a `:`.
/// - A bearer token's principal is `jwt:{issuer tag}:{subject}`, the tag being the first 8 hex digits of the
///   SHA-256 of the issuer (without a trailing `/`), so a subject of one issuer is never a subject of another,
///   and never a key's name (`alice` and `jwt:1b2c3d4e:alice` are two principals).
///
/// A name stored before tokens carried their kind (a bare `alice`) keeps meaning what it means now: the key of
/// that name. Keys kept their names, so every row keyed or sealed before stays valid for its key.
package enum PrincipalName {
    /// Begins the name of every token principal.
    package static let tokenPrefix = "jwt:"

    /// The principal of a token `issuer` issued to `subject`.
    package static func token(issuer: String, subject: String) -> String {
        tokenPrefix + issuerTag(issuer) + ":" + subject
    }

    /// The 8 hex digits that stand for `issuer` in its tokens' principals.
    package static func issuerTag(_ issuer: String) -> String {
        let canonical = issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer
        return ASCIIFormat.hex(Array(SHA256.hash(data: Data(canonical.utf8))).prefix(4))
    }

    /// True for a token's principal (a key's name never starts this way).
    package static func isToken(_ name: String) -> Bool { name.hasPrefix(tokenPrefix) }
}

/// Turns principals' names into their keys and sealed forms, and opens sealed ones, with keys derived
/// from `AUDIT_SALT`. Every Vendor of one table must use the same salt, or keys stop matching.
package struct PrincipalRedactor: Sendable {
    // Key bytes (SymmetricKey is not Sendable): derived once, wrapped on use.
    private let hashKeyBytes: [UInt8]
    private let sealKeyBytes: [UInt8]
    private var hashKey: SymmetricKey { SymmetricKey(data: hashKeyBytes) }
    private var sealKey: SymmetricKey { SymmetricKey(data: sealKeyBytes) }
    private let known = KnownKeys()

    /// The fewest characters `AUDIT_SALT` may have.
    package static let minimumSaltLength = 16

    package init(salt: String) {
        let material = SymmetricKey(data: Data(salt.utf8))
        func derive(_ info: String) -> [UInt8] {
            HKDF<SHA256>.deriveKey(inputKeyMaterial: material, info: Data(info.utf8), outputByteCount: 32)
                .withUnsafeBytes { Array($0) }
        }
        hashKeyBytes = derive("ipam principal key")
        sealKeyBytes = derive("ipam principal seal")
    }

    /// The principal of `name` (its key computed, or remembered from an earlier call: a caller makes many
    /// requests, and the HMAC was most of what naming a lease's owner cost each of them).
    package func principal(_ name: String) -> Principal {
        Principal(name: name, key: known.key(for: name) { key(of: $0) })
    }

    /// HMAC-SHA-256 of `name` under the hash key, its first 16 bytes in hex.
    func key(of name: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(name.utf8), using: hashKey)
        return ASCIIFormat.hex(Array(mac).prefix(16))
    }

    /// The name sealed with AES-GCM (base64 of nonce, ciphertext and tag): readable only with the salt.
    package func seal(_ principal: Principal) -> String {
        // A fixed nonce would let equal names be spotted; a random one costs 12 bytes.
        guard let box = try? AES.GCM.seal(Data(principal.name.utf8), using: sealKey), let combined = box.combined else {
            return ""
        }
        return combined.base64EncodedString()
    }

    /// The principal a sealed name holds, nil when it does not open with this salt (another salt, or
    /// tampered with).
    package func open(_ sealed: String) -> Principal? {
        guard let data = Data(base64Encoded: sealed), let box = try? AES.GCM.SealedBox(combined: data),
            let plain = try? AES.GCM.open(box, using: sealKey), let name = String(data: plain, encoding: .utf8)
        else { return nil }
        return principal(name)
    }
}

/// Keys of the names a redactor has seen, so a caller's HMAC is computed once, not once per request. Bounded:
/// emptied when it holds `limit` names, so names sent by many callers (or an attacker's made-up ones that
/// reach it) cost at most one HMAC each time around, never unbounded memory.
final class KnownKeys: Sendable {
    static let limit = 4_096
    private let keys = Mutex<[String: String]>([:])

    /// The key of `name`, from `compute` the first time.
    func key(for name: String, compute: (String) -> String) -> String {
        if let key = keys.withLock({ $0[name] }) { return key }
        let key = compute(name)
        keys.withLock { keys in
            if keys.count >= Self.limit { keys.removeAll(keepingCapacity: true) }
            keys[name] = key
        }
        return key
    }

    var count: Int { keys.withLock { $0.count } }
}
