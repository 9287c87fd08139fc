public import IPAMCore
public import StrictJSON

extension AuditEvent {
    /// The event as the API (`GET /api/events`) and webhooks show it.
    public func json(scope: Scope) -> JSONValue {
        func text(_ value: String?) -> JSONValue { value.flatMap { $0.isEmpty ? nil : .string($0) } ?? .null }
        return .object([
            ("id", text(id)), ("at", at.map { .string(ISO8601.format($0)) } ?? .null),
            ("action", .string(action.rawValue)),
            ("actor", .string(actor)), ("scope", .string(scope.partitionKey)), ("cidr", text(cidr)),
            ("cidrV6", text(cidrV6)), ("leaseId", text(leaseId)),
            ("sessionId", text(sessionId)), ("before", text(before?.rawValue)), ("after", text(after?.rawValue)),
            ("detail", text(detail)),
            ("requestId", text(requestId)), ("process", text(process)),
        ])
    }
}
