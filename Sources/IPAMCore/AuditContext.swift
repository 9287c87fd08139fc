/// Who is changing the inventory right now, for the audit events the change writes: set for the duration of
/// one request by the Vendor's edge (a task-local value), absent for the Manager's jobs (whose events name the
/// process).
package struct AuditContext: Sendable, Equatable {
    /// The caller's principal name (a key's name, a token's `jwt:…`: `PrincipalName`), or its keyed hash
    /// (`AUDIT_REDACT_ACTORS`).
    package let actor: String
    /// The request's id (`x-request-id`), so an event leads to the request's log lines.
    package let requestId: String

    package init(actor: String, requestId: String) {
        self.actor = actor
        self.requestId = requestId
    }

    /// The actor of a request before (or without) authentication.
    package static let anonymous = "anonymous"

    @TaskLocal package static var current: AuditContext?
}
