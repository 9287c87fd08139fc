import Crypto
package import Foundation

/// Shared Key and Shared Key Lite signatures for the Table service (pure; the date is a parameter).
package struct SharedKeySigner: Sendable {
    package enum Scheme: String, Sendable {
        case sharedKey = "SharedKey"
        case sharedKeyLite = "SharedKeyLite"
    }

    package let accountName: String
    private let keyBytes: [UInt8]

    /// - Throws: `StorageConnectionString.ParseError` when the key is not base64.
    package init(accountName: String, base64Key: String) throws {
        guard let raw = Data(base64Encoded: base64Key) else {
            throw StorageConnectionString.ParseError(field: "AccountKey", reason: "not valid base64")
        }
        self.accountName = accountName
        self.keyBytes = Array(raw)
    }

    /// `"/" + account + path as sent on the wire`, plus `?comp=` when the query names a component.
    package static func canonicalizedResource(accountName: String, encodedPath: String, query: String?) -> String {
        var resource = "/" + accountName + encodedPath
        if let query {
            for item in query.split(separator: "&") where item.hasPrefix("comp=") {
                resource += "?comp=" + item.dropFirst(5)
            }
        }
        return resource
    }

    /// The string to sign for a Table request.
    package static func stringToSign(
        scheme: Scheme, method: String, contentMD5: String = "", contentType: String,
        date: String, canonicalizedResource: String
    ) -> String {
        switch scheme {
        case .sharedKey: return "\(method)\n\(contentMD5)\n\(contentType)\n\(date)\n\(canonicalizedResource)"
        case .sharedKeyLite: return "\(date)\n\(canonicalizedResource)"
        }
    }

    /// Base64 HMAC-SHA256 of `stringToSign` under the account key.
    package func signature(of stringToSign: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: SymmetricKey(data: keyBytes))
        return Data(mac).base64EncodedString()
    }

    /// The complete `Authorization` header value.
    package func authorization(
        scheme: Scheme, method: String, contentType: String, date: String,
        encodedPath: String, query: String?
    ) -> String {
        let resource = Self.canonicalizedResource(accountName: accountName, encodedPath: encodedPath, query: query)
        let text = Self.stringToSign(
            scheme: scheme, method: method, contentType: contentType, date: date,
            canonicalizedResource: resource)
        return "\(scheme.rawValue) \(accountName):\(signature(of: text))"
    }

    /// Constant-time comparison of two signatures (used by the emulator to verify requests).
    package static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}

/// RFC 1123 dates as `x-ms-date` wants them: `Mon, 14 Oct 2013 18:25:49 GMT`.
package enum HTTPDate {
    package static func format(_ date: Date) -> String {
        var time = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&time, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return
            "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
