import Foundation
import HTTPTransport

/// Adds authorization to a request just before each attempt (fresh date, fresh signature or token).
public protocol RequestAuthorizer: Sendable {
    func authorize(_ request: inout TransportRequest) async throws
    /// Called after a 401; returns true when a fresh credential is worth one more attempt.
    func invalidate() async -> Bool
}

extension RequestAuthorizer {
    public func invalidate() async -> Bool { false }
}

/// Sends no credential (anonymous endpoints, test fakes).
public struct AnonymousAuthorizer: RequestAuthorizer {
    public init() {}
    public func authorize(_ request: inout TransportRequest) async throws {}
}

/// Shared Key or Shared Key Lite for the Table service; sets `x-ms-date` and `Authorization`.
public struct SharedKeyAuthorizer: RequestAuthorizer {
    public let signer: SharedKeySigner
    public let scheme: SharedKeySigner.Scheme
    private let now: @Sendable () -> Date

    public init(
        signer: SharedKeySigner, scheme: SharedKeySigner.Scheme = .sharedKey,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.signer = signer
        self.scheme = scheme
        self.now = now
    }

    public func authorize(_ request: inout TransportRequest) async throws {
        let date = HTTPDate.format(now())
        request.headers["x-ms-date"] = date
        let (path, query) = URLParts.pathAndQuery(of: request.url)
        request.headers["Authorization"] = signer.authorization(
            scheme: scheme, method: request.method.uppercased(), contentType: request.headers["Content-Type"] ?? "",
            date: date, encodedPath: path, query: query)
    }
}

/// `Authorization: Bearer <token>` from a token credential, for one scope.
public struct BearerTokenAuthorizer: RequestAuthorizer {
    public let credential: any TokenCredential
    public let scope: TokenScope

    public init(credential: any TokenCredential, scope: TokenScope) {
        self.credential = credential
        self.scope = scope
    }

    public func authorize(_ request: inout TransportRequest) async throws {
        let token = try await credential.token(for: scope)
        request.headers["Authorization"] = "Bearer \(token.token)"
    }

    public func invalidate() async -> Bool {
        await credential.invalidate(scope: scope)
        return true
    }
}

/// Splits an absolute URL into its raw (still encoded) path and query, without re-encoding.
public enum URLParts {
    public static func pathAndQuery(of url: String) -> (path: String, query: String?) {
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
