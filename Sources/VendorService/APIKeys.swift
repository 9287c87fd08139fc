import Crypto
import Foundation

/// Caller authentication: keys are kept only as SHA-256 digests and compared in constant time.
public struct APIKeys: Sendable {
    private let digests: [[UInt8]]

    /// - Parameter keys: the plain keys (e.g. from `VENDOR_API_KEYS`, comma-separated).
    public init(keys: [String]) {
        digests = keys.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { Array(SHA256.hash(data: Data($0.utf8))) }
    }

    /// `VENDOR_API_KEYS=key1,key2`.
    public init(environmentValue: String?) {
        self.init(keys: (environmentValue ?? "").split(separator: ",").map(String.init))
    }

    public var isEmpty: Bool { digests.isEmpty }

    /// True when `presented` is one of the keys.
    public func accepts(_ presented: String) -> Bool { identify(presented) != nil }

    /// The caller a presented key names (`key-` and the first 8 hex digits of its SHA-256, which is
    /// safe to log), or nil when it is none of the keys. Every stored digest is compared, in constant time.
    public func identify(_ presented: String) -> String? {
        let digest = Array(SHA256.hash(data: Data(presented.utf8)))
        var found = -1
        for (position, stored) in digests.enumerated() {
            var difference: UInt8 = 0
            for index in 0..<stored.count { difference |= stored[index] ^ digest[index] }
            if difference == 0 { found = position }
        }
        guard found >= 0 else { return nil }
        return "key-" + digest.prefix(4).map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0xf)]])
        }.joined()
    }
}
