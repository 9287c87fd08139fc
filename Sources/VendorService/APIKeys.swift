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

    /// True when `presented` is one of the keys. Every stored digest is compared, in constant time.
    public func accepts(_ presented: String) -> Bool {
        let digest = Array(SHA256.hash(data: Data(presented.utf8)))
        var match: UInt8 = 1
        for stored in digests {
            var difference: UInt8 = 0
            for index in 0..<stored.count { difference |= stored[index] ^ digest[index] }
            match &= difference == 0 ? 0 : 1
        }
        return match == 0
    }
}
