package import Crypto
package import Foundation
import HTTPTransport

/// A request as Signature Version 4 sees it: the parts that go into the canonical request.
package struct SigV4Request: Sendable {
    package var method: String
    /// The path, not percent-encoded (`/ሴ`, `/example space/`); the signer normalizes and encodes it.
    package var path: String
    /// Query parameters, not percent-encoded, in any order (the signer sorts them).
    package var query: [(name: String, value: String)]
    /// Header fields as sent, duplicates included (their values are joined with commas, in order).
    package var headers: [(name: String, value: String)]
    package var body: [UInt8]

    package init(
        method: String, path: String = "/", query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)], body: [UInt8] = []
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }
}

/// Signature Version 4 for one service in one region (`AWS4-HMAC-SHA256`, the signature in the
/// `Authorization` header), as AWS documents it and its published test suite checks it.
///
/// Paths are normalized (dot segments removed, repeated slashes collapsed) and each byte outside RFC 3986's
/// unreserved set is percent-encoded once: right for every service but S3, which this project does not call.
package struct SigV4Signer: Sendable {
    package static let algorithm = "AWS4-HMAC-SHA256"
    package let region: String
    package let service: String

    package init(region: String, service: String) {
        self.region = region
        self.service = service
    }

    /// `20150830T123600Z` (the `X-Amz-Date` header) for `date`.
    package static func amzDate(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func pad(_ value: Int?, _ width: Int) -> String {
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return pad(parts.year, 4) + pad(parts.month, 2) + pad(parts.day, 2) + "T" + pad(parts.hour, 2)
            + pad(parts.minute, 2) + pad(parts.second, 2) + "Z"
    }

    /// The headers to add to `request` so that it is signed at `date`: `X-Amz-Date`, `X-Amz-Security-Token`
    /// for session credentials (signed), and `Authorization`. `request` must already carry `Host`.
    package func signingHeaders(
        for request: SigV4Request, credentials: AWSCredentials, date: Date
    ) -> [(name: String, value: String)] {
        let stamp = Self.amzDate(date)
        var signed = request
        signed.headers.removeAll {
            let name = $0.name.lowercased()
            return name == "x-amz-date" || name == "authorization" || name == "x-amz-security-token"
        }
        var added: [(name: String, value: String)] = [("X-Amz-Date", stamp)]
        if let token = credentials.sessionToken { added.append(("X-Amz-Security-Token", token)) }
        signed.headers += added
        added.append(("Authorization", authorization(for: signed, credentials: credentials, amzDate: stamp)))
        return added
    }

    /// The `Authorization` header's value for `request`, which already carries every header to sign
    /// (`X-Amz-Date` equal to `amzDate` among them).
    package func authorization(for request: SigV4Request, credentials: AWSCredentials, amzDate: String) -> String {
        let canonical = Self.canonicalRequest(request)
        let scope = credentialScope(amzDate: amzDate)
        let toSign = Self.stringToSign(canonicalRequest: canonical.text, amzDate: amzDate, scope: scope)
        let key = signingKey(secret: credentials.secretAccessKey, date: String(amzDate.prefix(8)))
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(toSign.utf8), using: key))
        return "\(Self.algorithm) Credential=\(credentials.accessKeyId)/\(scope), "
            + "SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"
    }

    /// `20150830/us-east-1/service/aws4_request`.
    package func credentialScope(amzDate: String) -> String {
        "\(amzDate.prefix(8))/\(region)/\(service)/aws4_request"
    }

    /// The canonical request and its signed-header list (lower-case names, sorted, `;`-separated).
    package static func canonicalRequest(_ request: SigV4Request) -> (text: String, signedHeaders: String) {
        var merged: [String: [String]] = [:]
        for field in request.headers {
            merged[field.name.lowercased(), default: []].append(trimmedValue(field.value))
        }
        let names = merged.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        let headerLines = names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let text = [
            request.method.uppercased(), canonicalPath(request.path), canonicalQuery(request.query), headerLines,
            signedHeaders, hex(SHA256.hash(data: request.body)),
        ].joined(separator: "\n")
        return (text, signedHeaders)
    }

    package static func stringToSign(canonicalRequest: String, amzDate: String, scope: String) -> String {
        [algorithm, amzDate, scope, hex(SHA256.hash(data: Array(canonicalRequest.utf8)))].joined(separator: "\n")
    }

    /// `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
    package func signingKey(secret: String, date: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array(("AWS4" + secret).utf8))
        for part in [date, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return key
    }

    /// Dot segments removed, repeated slashes collapsed, each segment percent-encoded; a trailing slash kept.
    package static func canonicalPath(_ path: String) -> String {
        var segments: [String] = []
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        for part in parts {
            switch part {
            case ".": continue
            case "..": _ = segments.popLast()
            default: segments.append(String(part))
            }
        }
        var result = "/" + segments.map { PercentEncoding.encode($0) }.joined(separator: "/")
        let endsInDirectory = path.hasSuffix("/") || path.hasSuffix("/.") || path.hasSuffix("/..")
        if endsInDirectory && !segments.isEmpty { result += "/" }
        return result
    }

    /// Each name and value percent-encoded, sorted by name then value (byte order), joined with `&`.
    package static func canonicalQuery(_ query: [(name: String, value: String)]) -> String {
        query.map { (PercentEncoding.encode($0.name), PercentEncoding.encode($0.value)) }
            .sorted { left, right in
                left.0 == right.0
                    ? Array(left.1.utf8).lexicographicallyPrecedes(Array(right.1.utf8))
                    : Array(left.0.utf8).lexicographicallyPrecedes(Array(right.0.utf8))
            }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// Leading and trailing spaces removed, runs of spaces inside folded to one.
    static func trimmedValue(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
