/// Every environment variable the Vendor and the Manager read, in one place (docs/Configuration.md
/// describes each). The executables read the environment once, at their composition root
/// (`IPAMBootstrap`), and every loader names its settings through this type. The credential variables are
/// read by `DefaultAzureCredential`.
package enum Setting: String, CaseIterable, Sendable {
    // The address plan and storage (`IPAMConfiguration`).
    case storage = "AzureWebJobsStorage"
    /// An identity-based connection, as the Functions host configures one (instead of a connection string).
    case storageAccountName = "AzureWebJobsStorage__accountName"
    case storageTableServiceUri = "AzureWebJobsStorage__tableServiceUri"
    case storageCredential = "AzureWebJobsStorage__credential"
    case storageClientId = "AzureWebJobsStorage__clientId"
    case tableName = "IPAM_TABLE_NAME"
    case supernets = "SUPERNETS_CONFIG"
    case manifest = "SCOPE_CONFIG_MANIFEST"
    /// Named pools inside the scopes, with rules, quotas and stock targets (JSON).
    case pools = "POOLS_CONFIG"
    /// Receivers of audit events (JSON), and how the Manager's dispatcher delivers to them.
    case webhooks = "WEBHOOKS_CONFIG"
    case webhookMaxAttempts = "WEBHOOK_MAX_ATTEMPTS"
    case webhookPollSeconds = "WEBHOOK_POLL_SECONDS"
    case webhookSettleSeconds = "WEBHOOK_SETTLE_SECONDS"
    case webhookHoldSeconds = "WEBHOOK_HOLD_SECONDS"
    case cidrSizeMin = "CIDR_SIZE_MIN"
    case cidrSizeMax = "CIDR_SIZE_MAX"
    case cidrSizeDefault = "CIDR_SIZE_DEFAULT"
    case cidrSizeV6Min = "CIDR_SIZE_V6_MIN"
    case cidrSizeV6Max = "CIDR_SIZE_V6_MAX"
    case cidrSizeV6Default = "CIDR_SIZE_V6_DEFAULT"
    case leaseDurationHours = "LEASE_DURATION_HOURS"
    case storageTimeoutMs = "IPAM_STORAGE_TIMEOUT_MS"
    // The Vendor.
    case vendorAPIKeys = "VENDOR_API_KEYS"
    case vendorAdminKeys = "VENDOR_ADMIN_KEYS"
    case vendorReaderKeys = "VENDOR_READER_KEYS"
    /// Entra ID (OpenID Connect) bearer tokens: the issuer, the audience, and the app roles' ipam roles.
    case authJWTIssuer = "AUTH_JWT_ISSUER"
    case authJWTAudience = "AUTH_JWT_AUDIENCE"
    case authJWTRoleMap = "AUTH_JWT_ROLE_MAP"
    /// How long a failed read of the issuer's OpenID configuration or keys is remembered (no read meanwhile).
    case authJWTFailureSeconds = "AUTH_JWT_FAILURE_SECONDS"
    /// The secret principals are keyed and sealed with (`PrincipalRedactor`); the same for every Vendor.
    case auditSalt = "AUDIT_SALT"
    /// Signs the operator console's session cookies; the console is off without it.
    case consoleSessionSecret = "CONSOLE_SESSION_SECRET"
    /// A console session unused this long ends (its absolute end stays 8 hours after sign-in).
    case consoleIdleSeconds = "CONSOLE_IDLE_SECONDS"
    /// The console is served over plain http (local use): its cookies are not marked `Secure`.
    case consolePlainHTTP = "CONSOLE_PLAIN_HTTP"
    /// Audit events name callers by their keyed hash (HMAC with `AUDIT_SALT`) instead of their name.
    case auditRedactActors = "AUDIT_REDACT_ACTORS"
    /// How many sessions a Vendor keeps in memory for replays (`SessionCache`).
    case vendorSessionCacheEntries = "VENDOR_SESSION_CACHE_ENTRIES"
    case functionsPort = "FUNCTIONS_CUSTOMHANDLER_PORT"
    // Every HTTP server of the project (`HTTPServerLimits`).
    case httpMaxConnections = "IPAM_HTTP_MAX_CONNECTIONS"
    case httpIdleTimeout = "IPAM_HTTP_IDLE_TIMEOUT_SECONDS"
    case httpHeaderTimeout = "IPAM_HTTP_HEADER_TIMEOUT_SECONDS"
    case httpBodyTimeout = "IPAM_HTTP_BODY_TIMEOUT_SECONDS"
    // The Manager (`ManagerSettings` and the executable).
    case managerSchedule = "MANAGER_TIMER_SCHEDULE"
    case resourceGraphEndpoint = "RESOURCE_GRAPH_ENDPOINT"
    case resourceGraphToken = "RESOURCE_GRAPH_TOKEN"
    /// The public-IP schedule (a YAML file's path, or the document as JSON) and Resource Manager.
    case publicIPSchedule = "PUBLIC_IP_SCHEDULE"
    case resourceManagerEndpoint = "RESOURCE_MANAGER_ENDPOINT"
    case resourceManagerToken = "RESOURCE_MANAGER_TOKEN"
    case reapGrace = "REAP_GRACE_SECONDS"
    case releaseGrace = "RELEASE_GRACE_SECONDS"
    case quarantine = "QUARANTINE_SECONDS"
    case lastSeenRefresh = "LAST_SEEN_REFRESH_SECONDS"
    case managerLease = "MANAGER_LEASE_SECONDS"
    // The clients (`ipam`, `ipam-mcp`).
    case vendorURL = "IPAM_VENDOR_URL"
    case apiKey = "IPAM_API_KEY"
    // Azure identity (`DefaultAzureCredential`).
    case azureClientId = "AZURE_CLIENT_ID"
    case azureTenantId = "AZURE_TENANT_ID"
    case azureClientSecret = "AZURE_CLIENT_SECRET"
    case azureAuthorityHost = "AZURE_AUTHORITY_HOST"
    /// Workload identity (AKS): the projected service account token exchanged for Azure tokens.
    case azureFederatedTokenFile = "AZURE_FEDERATED_TOKEN_FILE"
    case identityEndpoint = "IDENTITY_ENDPOINT"
    case identityHeader = "IDENTITY_HEADER"
}

extension Dictionary where Key == String, Value == String {
    /// A setting's value, nil when it is unset or empty.
    package subscript(setting setting: Setting) -> String? {
        self[setting.rawValue].flatMap { $0.isEmpty ? nil : $0 }
    }
}
