import Crypto
import Foundation
import StrictJSON

/// What a caller may do. Each role includes the ones before it.
package enum Role: Int, Sendable, Comparable, CaseIterable, CustomStringConvertible {
    /// Look: leases, sessions, pools, metrics.
    case reader
    /// Also request, renew and release leases (the role of `VENDOR_API_KEYS`).
    case lease
    /// Everything.
    case admin

    package static func < (a: Role, b: Role) -> Bool { a.rawValue < b.rawValue }
    package var description: String { ["reader", "lease", "admin"][rawValue] }
}

/// Caller authentication: keys are kept only as SHA-256 digests and compared in constant time.
///
/// A key may carry a name (`name=secret`), which is the caller's identity in logs and `GET /api/whoami`;
/// an unnamed key's identity is `key-` and the first 8 hex digits of its SHA-256 (safe to log). A base64
/// key's `=` padding is not a name: a name is letters, digits, `.`, `_` and `-` (starting with a letter)
/// before the first `=`, and the secret after it is more than padding.
package struct APIKeys: Sendable {
    private let entries: [(digest: [UInt8], name: String?, role: Role)]

    /// - Parameters:
    ///   - keys: the keys (e.g. from `VENDOR_API_KEYS`, comma-separated), each `secret` or `name=secret`.
    ///   - role: what they may do.
    package init(keys: [String], role: Role = .lease) {
        entries = keys.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { entry in
            let (name, secret) = Self.split(entry)
            return (Array(SHA256.hash(data: Data(secret.utf8))), name, role)
        }
    }

    /// `VENDOR_API_KEYS=key1,name=key2` (the `lease` role).
    package init(environmentValue: String?) {
        self.init(keys: (environmentValue ?? "").split(separator: ",").map(String.init))
    }

    /// The keys of the three settings: `VENDOR_READER_KEYS`, `VENDOR_API_KEYS` (lease), `VENDOR_ADMIN_KEYS`.
    package init(reader: String?, lease: String?, admin: String?) {
        func parse(_ value: String?, _ role: Role) -> APIKeys {
            APIKeys(keys: (value ?? "").split(separator: ",").map(String.init), role: role)
        }
        entries = parse(reader, .reader).entries + parse(lease, .lease).entries + parse(admin, .admin).entries
    }

    package var isEmpty: Bool { entries.isEmpty }

    /// The name and the secret of one entry.
    static func split(_ entry: String) -> (name: String?, secret: String) {
        guard let equals = entry.firstIndex(of: "=") else { return (nil, entry) }
        let name = entry[..<equals]
        let secret = entry[entry.index(after: equals)...]
        guard let first = name.first, first.isASCII, first.isLetter, name.count <= 64,
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") }),
            secret.contains(where: { $0 != "=" })
        else { return (nil, entry) }
        return (String(name), String(secret))
    }

    /// True when `presented` is one of the keys.
    package func accepts(_ presented: String) -> Bool { identify(presented) != nil }

    /// The caller a presented key names (its name, or `key-` and the first 8 hex digits of its SHA-256),
    /// or nil when it is none of the keys.
    package func identify(_ presented: String) -> String? { authenticate(presented)?.caller }

    /// The caller a presented key names and its role, or nil when it is none of the keys. Every stored
    /// digest is compared, in constant time.
    package func authenticate(_ presented: String) -> (caller: String, role: Role)? {
        authenticate(digest: Self.digest(presented))
    }

    /// The SHA-256 of a key: what is kept of it (the console's sessions keep it too, sealed, to look the key up
    /// again on every request).
    package static func digest(_ key: String) -> [UInt8] { Array(SHA256.hash(data: Data(key.utf8))) }

    /// The caller and role of the key with this SHA-256 among the keys configured now, or nil when it is none
    /// of them. Every stored digest is compared, in constant time.
    package func authenticate(digest: [UInt8]) -> (caller: String, role: Role)? {
        guard digest.count == SHA256.byteCount else { return nil }
        var found = -1
        for (position, entry) in entries.enumerated() {
            var difference: UInt8 = 0
            for index in 0..<entry.digest.count { difference |= entry.digest[index] ^ digest[index] }
            if difference == 0 { found = position }
        }
        guard found >= 0 else { return nil }
        if let name = entries[found].name { return (name, entries[found].role) }
        return ("key-" + ASCIIFormat.hex(digest.prefix(4)), entries[found].role)
    }
}
