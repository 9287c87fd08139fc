package import IPAMCore
package import StrictJSON
package import VendorAPI

extension AuditEvent {
    /// The event as the API (`GET /api/events`) and webhooks show it; empty texts are `null`.
    package func answer(scope: Scope) -> API.Event {
        API.Event(
            id: id, at: at, action: action.rawValue, actor: actor, scope: scope.partitionKey, cidr: cidr,
            cidrV6: cidrV6, leaseId: leaseId, sessionId: sessionId, before: before?.rawValue, after: after?.rawValue,
            detail: detail, requestId: requestId, process: process)
    }

    /// `answer(scope:)` as JSON (a webhook's body starts with its members).
    package func json(scope: Scope) -> JSONValue { WireEncoder.json(answer(scope: scope)) }
}
