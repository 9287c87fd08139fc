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

    public init(signer: SharedKeySigner, scheme: SharedKeySigner.Scheme = .sharedKey, now: @escaping @Sendable () -> Date = { Date() }) {
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
        var rest = Substring(url)
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        guard let slash = rest.firstIndex(of: "/") else {
            if let q = rest.firstIndex(of: "?") { return ("/", String(rest[rest.index(after: q)...])) }
            return ("/", nil)
        }
        let pathAndQuery = rest[slash...]
        if let q = pathAndQuery.firstIndex(of: "?") {
            return (String(pathAndQuery[..<q]), String(pathAndQuery[pathAndQuery.index(after: q)...]))
        }
        return (String(pathAndQuery), nil)
    }
}
