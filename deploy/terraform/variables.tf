# Every app setting of docs/Configuration.md that an operator sets is a variable here; the required ones have
# no default. Settings the platform sets (FUNCTIONS_CUSTOMHANDLER_PORT, IDENTITY_ENDPOINT, IDENTITY_HEADER) and
# those for other setups (AzureWebJobsStorage as a connection string, AzureWebJobsStorage__tableServiceUri,
# RESOURCE_GRAPH_TOKEN and RESOURCE_MANAGER_TOKEN for local endpoints, AZURE_TENANT_ID / AZURE_CLIENT_SECRET / AZURE_AUTHORITY_HOST for a
# service principal, AZURE_FEDERATED_TOKEN_FILE for workload identity on Kubernetes (deploy/kubernetes),
# IPAM_VENDOR_URL / IPAM_API_KEY for the clients, CONSOLE_PLAIN_HTTP for a console served over plain
# http on a developer's machine: these apps are https only) are not set by this module.

variable "name" {
  description = "A short name for the deployment (letters and digits); resources are named after it"
  type        = string
}

variable "location" {
  type    = string
  default = "eastus"
}

variable "subscription_ids" {
  description = "Every subscription named in SUPERNETS_CONFIG: the identity gets Reader on each (Resource Graph sees only what it may read)"
  type        = list(string)
}

variable "supernets_config" {
  description = "SUPERNETS_CONFIG (JSON)"
  type        = string
}

variable "scope_config_manifest" {
  description = "SCOPE_CONFIG_MANIFEST (JSON)"
  type        = string
}

variable "cidr_size_v6_min" {
  description = "CIDR_SIZE_V6_MIN"
  type        = number
  default     = 48
}

variable "cidr_size_v6_max" {
  description = "CIDR_SIZE_V6_MAX (at most 64: an IPv6 block holds /64 subnets)"
  type        = number
  default     = 64
}

variable "cidr_size_v6_default" {
  description = "CIDR_SIZE_V6_DEFAULT"
  type        = number
  default     = 56
}

variable "pools_config" {
  description = "POOLS_CONFIG (JSON): named pools with rules, quotas and stock targets; empty: none"
  type        = string
  default     = ""
}

variable "webhooks_config" {
  description = "WEBHOOKS_CONFIG (JSON): receivers of the audit trail, with their secrets; empty: none"
  type        = string
  default     = ""
  sensitive   = true
}

variable "webhook_max_attempts" {
  description = "WEBHOOK_MAX_ATTEMPTS: failed attempts at one event before it is dead-lettered"
  type        = number
  default     = 8
}

variable "webhook_poll_seconds" {
  description = "WEBHOOK_POLL_SECONDS (under the Functions host each timer invocation makes one pass instead)"
  type        = number
  default     = 5
}

variable "webhook_settle_seconds" {
  description = "WEBHOOK_SETTLE_SECONDS: events younger than this wait for a later pass"
  type        = number
  default     = 30
}

variable "webhook_hold_seconds" {
  description = "WEBHOOK_HOLD_SECONDS: a dispatcher's hold on a cursor"
  type        = number
  default     = 60
}

variable "vendor_api_keys" {
  description = "VENDOR_API_KEYS: the keys callers send (comma-separated); use the Function App's function key among them"
  type        = string
  sensitive   = true
}

variable "vendor_admin_keys" {
  description = "VENDOR_ADMIN_KEYS: keys of the admin role (comma-separated; empty for none)"
  type        = string
  sensitive   = true
  default     = ""
}

variable "vendor_reader_keys" {
  description = "VENDOR_READER_KEYS: keys of the reader role (comma-separated; empty for none)"
  type        = string
  sensitive   = true
  default     = ""
}

variable "auth_jwt_issuer" {
  description = "AUTH_JWT_ISSUER: accept Entra ID bearer tokens of this issuer (https://login.microsoftonline.com/{tenant}/v2.0); empty: API keys only"
  type        = string
  default     = ""
}

variable "auth_jwt_audience" {
  description = "AUTH_JWT_AUDIENCE: the audience tokens must be issued for (the API's Application ID URI or client id)"
  type        = string
  default     = ""
}

variable "auth_jwt_role_map" {
  description = "AUTH_JWT_ROLE_MAP: JSON of app role -> reader, lease or admin (empty: IPAM.Reader, IPAM.Lease, IPAM.Admin)"
  type        = string
  default     = ""
}

variable "audit_salt" {
  description = "AUDIT_SALT: the secret principals are keyed and sealed with (at least 16 characters; keep it: a new one makes existing host-IP rows unreadable)"
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.audit_salt) >= 16
    error_message = "audit_salt must have at least 16 characters."
  }
}

variable "console_idle_seconds" {
  description = "CONSOLE_IDLE_SECONDS: a console session unused this long ends (it also ends 8 hours after sign-in)"
  type        = number
  default     = 1800
}

variable "vendor_session_cache_entries" {
  description = "VENDOR_SESSION_CACHE_ENTRIES: sessions a Vendor keeps in memory for replays (about 1 KiB each)"
  type        = number
  default     = 100000

  validation {
    condition     = var.vendor_session_cache_entries >= 1 && var.vendor_session_cache_entries <= 10000000 && floor(var.vendor_session_cache_entries) == var.vendor_session_cache_entries
    error_message = "vendor_session_cache_entries must be a whole number from 1 to 10000000."
  }
}

variable "auth_jwt_failure_seconds" {
  description = "AUTH_JWT_FAILURE_SECONDS: how long a failed read of the token issuer's keys is remembered"
  type        = number
  default     = 30
}

variable "http_max_connections" {
  description = "IPAM_HTTP_MAX_CONNECTIONS: connections each app's HTTP server serves at once"
  type        = number
  default     = 1000
}

variable "http_idle_timeout_seconds" {
  description = "IPAM_HTTP_IDLE_TIMEOUT_SECONDS: an idle connection is closed after this (longer than the Functions host keeps one)"
  type        = number
  default     = 75
}

variable "http_header_timeout_seconds" {
  description = "IPAM_HTTP_HEADER_TIMEOUT_SECONDS: a request's head must arrive within this of its first byte"
  type        = number
  default     = 10
}

variable "http_body_timeout_seconds" {
  description = "IPAM_HTTP_BODY_TIMEOUT_SECONDS: a request's body must arrive within this of its head"
  type        = number
  default     = 30
}

variable "console_session_secret" {
  description = "CONSOLE_SESSION_SECRET: turns on the operator console and signs its sessions (at least 32 characters; empty: console off)"
  type        = string
  sensitive   = true
  default     = ""
}

variable "audit_redact_actors" {
  description = "AUDIT_REDACT_ACTORS: audit events name callers by a keyed hash instead of their name"
  type        = bool
  default     = false
}

variable "table_name" {
  description = "IPAM_TABLE_NAME"
  type        = string
  default     = "networkCidr"
}

variable "cidr_size_min" {
  description = "CIDR_SIZE_MIN"
  type        = number
  default     = 20
}

variable "cidr_size_max" {
  description = "CIDR_SIZE_MAX"
  type        = number
  default     = 26
}

variable "cidr_size_default" {
  description = "CIDR_SIZE_DEFAULT"
  type        = number
  default     = 22
}

variable "lease_duration_hours" {
  description = "LEASE_DURATION_HOURS"
  type        = number
  default     = 4
}

variable "storage_timeout_ms" {
  description = "IPAM_STORAGE_TIMEOUT_MS"
  type        = number
  default     = 10000
}

variable "manager_timer_schedule" {
  description = "MANAGER_TIMER_SCHEDULE (NCRONTAB, 6 fields, UTC)"
  type        = string
  default     = "0 */15 * * * *"
}

variable "resource_graph_endpoint" {
  description = "RESOURCE_GRAPH_ENDPOINT"
  type        = string
  default     = "https://management.azure.com"
}

variable "resource_manager_endpoint" {
  description = "RESOURCE_MANAGER_ENDPOINT (the scheduled public-IP assignments)"
  type        = string
  default     = "https://management.azure.com"
}

variable "public_ip_schedule" {
  description = "PUBLIC_IP_SCHEDULE: the public-IP schedule as a JSON document (empty: no scheduled assignments); give public_ip_resource_group_ids too"
  type        = string
  default     = ""
}

variable "reap_grace_seconds" {
  description = "REAP_GRACE_SECONDS"
  type        = number
  default     = 900
}

variable "release_grace_seconds" {
  description = "RELEASE_GRACE_SECONDS"
  type        = number
  default     = 3600
}

variable "quarantine_seconds" {
  description = "QUARANTINE_SECONDS"
  type        = number
  default     = 86400
}

variable "last_seen_refresh_seconds" {
  description = "LAST_SEEN_REFRESH_SECONDS"
  type        = number
  default     = 86400
}

variable "manager_lease_seconds" {
  description = "MANAGER_LEASE_SECONDS"
  type        = number
  default     = 60
}

variable "public_ip_resource_group_ids" {
  description = "Resource groups of the NICs and public IPs that scheduled public-IP assignments move (empty: none)"
  type        = list(string)
  default     = []
}

variable "vendor_package_path" {
  description = "dist/functions/vendor-app.zip from scripts/package-functions"
  type        = string
}

variable "manager_package_path" {
  description = "dist/functions/manager-app.zip from scripts/package-functions"
  type        = string
}
