import Hummingbird
import IPAMCore
import Inventory
import VendorDomain

/// The query of a listing route (`GET /api/leases`, `GET /api/events`): parameters checked against the ones
/// the route takes, the scopes they select, the page size and the continuation.
struct ListingQuery {
    /// Parameter → its values (only `repeatable` ones may have more than one).
    let values: [String: [String]]
    /// The configured scopes `subscriptionId` (Azure) or `accountId` (AWS), `region` and `scope` select (all
    /// without them).
    let scopes: [Scope]
    /// `limit` (1–1000, default 100).
    let limit: Int

    init(_ request: Request, allowed: Set<String>, repeatable: Set<String>, service: VendorService) throws(VendorError)
    {
        var values: [String: [String]] = [:]
        for (key, value) in request.uri.queryParameters { values[String(key), default: []].append(String(value)) }
        if let unknown = values.keys.sorted().first(where: { !allowed.contains($0) }) {
            // `code` is the Functions host's key convention: accepted, never listed.
            throw VendorError(
                .invalidQuery,
                "unknown query parameter '\(unknown)'; use \(allowed.subtracting(["code"]).sorted().joined(separator: ", "))",
                field: unknown)
        }
        for (key, list) in values where !repeatable.contains(key) && list.count > 1 {
            throw VendorError(.invalidQuery, "'\(key)' may be given once", field: key)
        }
        self.values = values
        func one(_ key: String) -> String? { values[key]?.first }
        var scopes = service.configuration.scopes.keys.sorted()
        if let subscription = one("subscriptionId") {
            scopes = scopes.filter { $0.subscriptionId == subscription.lowercased() }
        }
        if let account = one("accountId") {
            // Filters narrow: an Azure subscription and an AWS account together select no scope (404 below).
            guard Scope.isAWSAccountId(account) else {
                throw VendorError(
                    .invalidQuery, "'accountId' must be an AWS account id of 12 digits", field: "accountId")
            }
            scopes = scopes.filter { $0.awsAccountId == account }
        }
        if let region = one("region") { scopes = scopes.filter { $0.region == region.lowercased() } }
        if let scope = one("scope") { scopes = scopes.filter { $0.partitionKey == scope.lowercased() } }
        if scopes.isEmpty, one("accountId") != nil {
            throw VendorError(
                .unknownScope, "no configured scope matches accountId/region/scope",
                field: one("scope") != nil ? "scope" : "region")
        }
        if scopes.isEmpty, one("subscriptionId") != nil || one("region") != nil || one("scope") != nil {
            throw VendorError(
                .unknownScope, "no configured scope matches subscriptionId/region/scope",
                field: one("scope") != nil ? "scope" : "region")
        }
        self.scopes = scopes
        var limit = 100
        if let text = one("limit") {
            guard let value = Int(text), (1...1000).contains(value) else {
                throw VendorError(.invalidQuery, "'limit' must be a whole number from 1 to 1000", field: "limit")
            }
            limit = value
        }
        self.limit = limit
    }

    func one(_ key: String) -> String? { values[key]?.first }

    /// The `continuation` token, decoded; only tokens of a listing whose row keys start with `rowPrefix`.
    func cursor(rowPrefix: String) throws(VendorError) -> LeaseCursor? {
        guard let token = one("continuation") else { return nil }
        guard let decoded = LeaseCursor(token: token, rowPrefix: rowPrefix) else {
            throw VendorError(
                .invalidContinuation, "'continuation' is not a token this listing gave", field: "continuation")
        }
        return decoded
    }
}
