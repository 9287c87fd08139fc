internal import Foundation

/// One operation of the Vendor's API as the wire sees it: method, path, who may call it, and its name and
/// summary in `openapi/openapi.yaml` (a test checks the two agree, both ways).
///
/// The Vendor registers its handlers against these declarations and `VendorClient` builds its requests from
/// them, so a route's path, method and role are spelled in one place.
package struct APIRoute: Sendable, Hashable, CustomStringConvertible {
    /// The HTTP methods the API uses.
    package enum Method: String, Sendable, Hashable, CaseIterable {
        case get = "GET"
        case post = "POST"
        case put = "PUT"
        case delete = "DELETE"
    }

    /// Who may call a route (`x-ipam-role` in `openapi/`; each role includes the ones before it).
    package enum Access: Sendable, Hashable {
        /// No credential (health checks, the Functions host's ping).
        case open
        /// A key or bearer token of at least the `reader` role: looking.
        case reader
        /// At least `lease`: requesting, renewing and releasing leases.
        case lease
        /// `admin`: reservations, adoption, webhook deliveries.
        case admin
        /// The console's pages: no key at the edge, the handlers check the console session themselves.
        case consoleSession

        /// The name `x-ipam-role` gives it (`console` for the console's pages, which `openapi/` does not list).
        package var name: String {
            switch self {
            case .open: "open"
            case .reader: "reader"
            case .lease: "lease"
            case .admin: "admin"
            case .consoleSession: "console"
            }
        }
    }

    package let method: Method
    /// The path as `openapi/` spells it, parameters as `{name}`; also the metric route label.
    package let path: String
    package let access: Access
    /// The operation's `operationId` (for the console's pages, a name of the same kind).
    package let operationId: String
    /// The operation's `summary`.
    package let summary: String

    package init(_ method: Method, _ path: String, _ access: Access, operationId: String, summary: String) {
        self.method = method
        self.path = path
        self.access = access
        self.operationId = operationId
        self.summary = summary
    }

    package var description: String { "\(method.rawValue) \(path)" }

    /// The names of the path's parameters, in order (`["leaseId", "principal"]`).
    package var parameters: [String] {
        path.split(separator: "/").filter { $0.hasPrefix("{") && $0.hasSuffix("}") }.map {
            String($0.dropFirst().dropLast())
        }
    }

    /// The path with each `{name}` replaced by its value, percent-encoded as a path segment (unreserved
    /// characters stay). Every parameter must be given.
    package func path(_ values: [String: String]) -> String {
        "/"
            + path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { segment -> String in
                guard segment.hasPrefix("{"), segment.hasSuffix("}") else { return String(segment) }
                let name = String(segment.dropFirst().dropLast())
                guard let value = values[name] else { preconditionFailure("\(self) needs its '\(name)' parameter") }
                return Self.encode(value)
            }.joined(separator: "/")
    }

    static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// Percent-encodes a path segment or query component (unreserved characters stay).
    package static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }
}
