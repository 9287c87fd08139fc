import Hummingbird
import IPAMCore
import Inventory
import VendorAPI
import VendorDomain

extension VendorRoutes {
    /// Query parameters of `GET /api/networks`; `code` is the Functions host's key convention.
    static let networkParameters: Set<String> = [
        "subscriptionId", "accountId", "region", "scope", "status", "limit", "continuation", "code",
    ]

    /// `GET /api/networks`: the networks each scope's cloud lists, with the compliance status the Manager last
    /// recorded for each, in scope order and address order within a scope. The scopes as every listing names them
    /// (all without `subscriptionId`/`accountId`/`region`/`scope`; none matching is 404); `status` (repeatable or
    /// comma-separated) keeps those statuses, a value that is none of them is 400 naming `status`.
    @Sendable func listNetworks(_ request: Request, _ context: AuthenticatedRequestContext) async throws -> Response {
        let query = try ListingQuery(request, allowed: Self.networkParameters, repeatable: ["status"], service: service)
        var statuses: Set<ComplianceStatus>? = nil
        if let values = query.values["status"] {
            var parsed = Set<ComplianceStatus>()
            for text in values.flatMap({ $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) })
            {
                guard let status = ComplianceStatus(rawValue: text) else {
                    throw VendorError(
                        .invalidQuery,
                        "'\(text)' is not a compliance status; use \(ComplianceStatus.allCases.map(\.rawValue).joined(separator: ", "))",
                        field: "status")
                }
                parsed.insert(status)
            }
            statuses = parsed
        }
        let cursor = try query.cursor(rowPrefix: RowKeys.networkStatusPrefix)
        let page = try await service.with(logger: context.logger).networkStatuses(
            in: query.scopes, statuses: statuses, limit: query.limit, from: cursor)
        return VendorRouter.answer(
            .ok,
            API.NetworkList(
                networks: page.networks.map { API.Network($0.0, scope: $0.1) }, continuation: page.next?.token))
    }
}

extension API.Network {
    /// A network's recorded compliance, in `scope`.
    init(_ status: NetworkStatus, scope: Scope) {
        self.init(
            resourceId: status.resourceId, scope: scope.partitionKey, subscription: scope.subscriptionId,
            cloud: scope.wireCloud, accountId: scope.awsAccountId, region: scope.region, cidrs: status.cidrs,
            status: status.status.rawValue, reason: status.reason, leaseId: status.leaseId, since: status.since)
    }
}
