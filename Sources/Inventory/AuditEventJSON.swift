package import IPAMCore
package import StrictJSON
package import VendorAPI

extension AuditEvent {
    /// The event as the API (`GET /api/events`) and webhooks show it; empty texts are `null`. An AWS scope's
    /// event names its cloud and account after `scope` (`"cloud": "aws"`, `accountId`); an Azure one's has
    /// neither member, as before AWS scopes.
    package func answer(scope: Scope) -> API.Event {
        API.Event(
            id: id, at: at, action: action.rawValue, actor: actor, scope: scope.partitionKey,
            cloud: scope.cloud == .azure ? nil : scope.cloud.rawValue, accountId: scope.awsAccountId, cidr: cidr,
            cidrV6: cidrV6, leaseId: leaseId, sessionId: sessionId, before: before?.rawValue, after: after?.rawValue,
            detail: detail, requestId: requestId, process: process)
    }

    /// `answer(scope:)` as JSON (a webhook's body starts with its members).
    package func json(scope: Scope) -> JSONValue { WireEncoder.json(answer(scope: scope)) }
}
