package import Foundation
package import HTTPTransport

/// Adds authorization to a request just before each attempt (fresh date, fresh signature or token).
package protocol RequestAuthorizer: Sendable {
    func authorize(_ request: inout TransportRequest) async throws
    /// Called after a 401; returns true when a fresh credential is worth one more attempt.
    func invalidate() async -> Bool
}

extension RequestAuthorizer {
    package func invalidate() async -> Bool { false }
}

/// Sends no credential (anonymous endpoints, test fakes).
package struct AnonymousAuthorizer: RequestAuthorizer {
    package init() {}
    package func authorize(_ request: inout TransportRequest) async throws {}
}

/// Shared Key or Shared Key Lite for the Table service; sets `x-ms-date` and `Authorization`.
package struct SharedKeyAuthorizer: RequestAuthorizer {
    package let signer: SharedKeySigner
    package let scheme: SharedKeySigner.Scheme
    private let now: @Sendable () -> Date

    package init(
        signer: SharedKeySigner, scheme: SharedKeySigner.Scheme = .sharedKey,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.signer = signer
        self.scheme = scheme
        self.now = now
    }

    package func authorize(_ request: inout TransportRequest) async throws {
        let date = HTTPDate.format(now())
        request.headers["x-ms-date"] = date
        let (path, query) = URLParts.pathAndQuery(of: request.url)
        request.headers["Authorization"] = signer.authorization(
            scheme: scheme, method: request.method.uppercased(), contentType: request.headers["Content-Type"] ?? "",
            date: date, encodedPath: path, query: query)
    }
}

/// `Authorization: Bearer <token>` from a token credential, for one scope.
package struct BearerTokenAuthorizer: RequestAuthorizer {
    package let credential: any TokenCredential
    package let scope: TokenScope

    package init(credential: any TokenCredential, scope: TokenScope) {
        self.credential = credential
        self.scope = scope
    }

    package func authorize(_ request: inout TransportRequest) async throws {
        let token = try await credential.token(for: scope)
        request.headers["Authorization"] = "Bearer \(token.token)"
    }

    package func invalidate() async -> Bool {
        await credential.invalidate(scope: scope)
        return true
    }
}

/// Splits an absolute URL into its raw (still encoded) path and query, without re-encoding.
package enum URLParts {
    package static func pathAndQuery(of url: String) -> (path: String, query: String?) {
        // Searched as bytes (every delimiter is ASCII, so the indices are valid for the String too):
        // Foundation's `range(of:)` cost more than the rest of an emulated batch operation's parsing.
        let utf8 = url.utf8
        var start = utf8.startIndex
        var index = utf8.startIndex
        while index != utf8.endIndex, utf8[index] != UInt8(ascii: "/"), utf8[index] != UInt8(ascii: "?") {
            if utf8[index] == UInt8(ascii: ":"), utf8[index...].starts(with: "://".utf8) {
                start = utf8.index(index, offsetBy: 3)
                break
            }
            utf8.formIndex(after: &index)
        }
        let rest = utf8[start...]
        let question = rest.firstIndex(of: UInt8(ascii: "?"))
        guard let slash = rest.firstIndex(of: UInt8(ascii: "/")), question.map({ slash < $0 }) ?? true else {
            return ("/", question.map { String(url[utf8.index(after: $0)...]) })
        }
        guard let question else { return (String(url[slash...]), nil) }
        return (String(url[slash..<question]), String(url[utf8.index(after: question)...]))
    }
}
