# ipam in Azure: a resource group, a storage account with shared-key access disabled (the inventory and the
# Functions runtime's own state), one user-assigned identity with least-privilege roles
# (docs/Authentication.md), Application Insights, and Linux Function Apps for the Vendor and the Manager.

resource "azurerm_resource_group" "ipam" {
  name     = "rg-${var.name}"
  location = var.location
}

resource "azurerm_storage_account" "ipam" {
  name                            = "st${var.name}"
  resource_group_name             = azurerm_resource_group.ipam.name
  location                        = azurerm_resource_group.ipam.location
  account_tier                    = "Standard"
  account_replication_type        = "ZRS"
  min_tls_version                 = "TLS1_2"
  shared_access_key_enabled       = false
  allow_nested_items_to_be_public = false
}

resource "azurerm_storage_table" "inventory" {
  name                 = var.table_name
  storage_account_name = azurerm_storage_account.ipam.name
}

resource "azurerm_storage_table" "locks" {
  name                 = "ipamLocks"
  storage_account_name = azurerm_storage_account.ipam.name
}

resource "azurerm_user_assigned_identity" "ipam" {
  name                = "id-${var.name}"
  resource_group_name = azurerm_resource_group.ipam.name
  location            = azurerm_resource_group.ipam.location
}

# --- Roles (docs/Authentication.md) ------------------------------------------------------------------

resource "azurerm_role_assignment" "tables" {
  scope                = azurerm_storage_account.ipam.id
  role_definition_name = "Storage Table Data Contributor"
  principal_id         = azurerm_user_assigned_identity.ipam.principal_id
}

resource "azurerm_role_assignment" "reader" {
  count                = length(var.subscription_ids)
  scope                = "/subscriptions/${var.subscription_ids[count.index]}"
  role_definition_name = "Reader"
  principal_id         = azurerm_user_assigned_identity.ipam.principal_id
}

resource "azurerm_role_assignment" "public_ips" {
  count                = length(var.public_ip_resource_group_ids)
  scope                = var.public_ip_resource_group_ids[count.index]
  role_definition_name = "Network Contributor"
  principal_id         = azurerm_user_assigned_identity.ipam.principal_id
}

# The Functions runtime keeps its own state (keys, timer and singleton locks) in blobs and queues of the same
# account, through the same identity: not used by ipam itself.
resource "azurerm_role_assignment" "runtime_blobs" {
  scope                = azurerm_storage_account.ipam.id
  role_definition_name = "Storage Blob Data Owner"
  principal_id         = azurerm_user_assigned_identity.ipam.principal_id
}

resource "azurerm_role_assignment" "runtime_queues" {
  scope                = azurerm_storage_account.ipam.id
  role_definition_name = "Storage Queue Data Contributor"
  principal_id         = azurerm_user_assigned_identity.ipam.principal_id
}

# --- Monitoring and hosting --------------------------------------------------------------------------

resource "azurerm_log_analytics_workspace" "ipam" {
  name                = "log-${var.name}"
  resource_group_name = azurerm_resource_group.ipam.name
  location            = azurerm_resource_group.ipam.location
  sku                 = "PerGB2018"
  retention_in_days   = 30
}

resource "azurerm_application_insights" "ipam" {
  name                = "appi-${var.name}"
  resource_group_name = azurerm_resource_group.ipam.name
  location            = azurerm_resource_group.ipam.location
  workspace_id        = azurerm_log_analytics_workspace.ipam.id
  application_type    = "other"
}

resource "azurerm_service_plan" "ipam" {
  name                = "asp-${var.name}"
  resource_group_name = azurerm_resource_group.ipam.name
  location            = azurerm_resource_group.ipam.location
  os_type             = "Linux"
  sku_name            = "EP1"
}

locals {
  # Settings both apps read (docs/Configuration.md).
  common_settings = {
    FUNCTIONS_WORKER_RUNTIME              = "custom"
    AzureWebJobsStorage__accountName      = azurerm_storage_account.ipam.name
    AzureWebJobsStorage__credential       = "managedidentity"
    AzureWebJobsStorage__clientId         = azurerm_user_assigned_identity.ipam.client_id
    AZURE_CLIENT_ID                       = azurerm_user_assigned_identity.ipam.client_id
    APPLICATIONINSIGHTS_CONNECTION_STRING = azurerm_application_insights.ipam.connection_string
    IPAM_TABLE_NAME                       = azurerm_storage_table.inventory.name
    SUPERNETS_CONFIG                      = var.supernets_config
    SCOPE_CONFIG_MANIFEST                 = var.scope_config_manifest
    POOLS_CONFIG                          = var.pools_config
    WEBHOOKS_CONFIG                       = var.webhooks_config
    CIDR_SIZE_MIN                         = tostring(var.cidr_size_min)
    CIDR_SIZE_MAX                         = tostring(var.cidr_size_max)
    CIDR_SIZE_DEFAULT                     = tostring(var.cidr_size_default)
    CIDR_SIZE_V6_MIN                      = tostring(var.cidr_size_v6_min)
    CIDR_SIZE_V6_MAX                      = tostring(var.cidr_size_v6_max)
    CIDR_SIZE_V6_DEFAULT                  = tostring(var.cidr_size_v6_default)
    LEASE_DURATION_HOURS                  = tostring(var.lease_duration_hours)
    IPAM_STORAGE_TIMEOUT_MS               = tostring(var.storage_timeout_ms)
    MANAGER_TIMER_SCHEDULE                = var.manager_timer_schedule
    IPAM_HTTP_MAX_CONNECTIONS             = tostring(var.http_max_connections)
    IPAM_HTTP_IDLE_TIMEOUT_SECONDS        = tostring(var.http_idle_timeout_seconds)
    IPAM_HTTP_HEADER_TIMEOUT_SECONDS      = tostring(var.http_header_timeout_seconds)
    IPAM_HTTP_BODY_TIMEOUT_SECONDS        = tostring(var.http_body_timeout_seconds)
  }
  vendor_settings = merge(local.common_settings, {
    VENDOR_API_KEYS              = var.vendor_api_keys
    VENDOR_ADMIN_KEYS            = var.vendor_admin_keys
    VENDOR_READER_KEYS           = var.vendor_reader_keys
    AUDIT_SALT                   = var.audit_salt
    AUDIT_REDACT_ACTORS          = tostring(var.audit_redact_actors)
    CONSOLE_SESSION_SECRET       = var.console_session_secret
    CONSOLE_IDLE_SECONDS         = tostring(var.console_idle_seconds)
    AUTH_JWT_ISSUER              = var.auth_jwt_issuer
    AUTH_JWT_AUDIENCE            = var.auth_jwt_audience
    AUTH_JWT_ROLE_MAP            = var.auth_jwt_role_map
    AUTH_JWT_FAILURE_SECONDS     = tostring(var.auth_jwt_failure_seconds)
    VENDOR_SESSION_CACHE_ENTRIES = tostring(var.vendor_session_cache_entries)
  })
  manager_settings = merge(local.common_settings, {
    RESOURCE_GRAPH_ENDPOINT   = var.resource_graph_endpoint
    RESOURCE_MANAGER_ENDPOINT = var.resource_manager_endpoint
    PUBLIC_IP_SCHEDULE        = var.public_ip_schedule
    REAP_GRACE_SECONDS        = tostring(var.reap_grace_seconds)
    RELEASE_GRACE_SECONDS     = tostring(var.release_grace_seconds)
    QUARANTINE_SECONDS        = tostring(var.quarantine_seconds)
    LAST_SEEN_REFRESH_SECONDS = tostring(var.last_seen_refresh_seconds)
    MANAGER_LEASE_SECONDS     = tostring(var.manager_lease_seconds)
    WEBHOOK_MAX_ATTEMPTS      = tostring(var.webhook_max_attempts)
    WEBHOOK_POLL_SECONDS      = tostring(var.webhook_poll_seconds)
    WEBHOOK_SETTLE_SECONDS    = tostring(var.webhook_settle_seconds)
    WEBHOOK_HOLD_SECONDS      = tostring(var.webhook_hold_seconds)
  })
}

# The two apps differ only in their package, settings, health check and the roles they wait for.
locals {
  apps = {
    vendor  = { package = var.vendor_package_path, settings = local.vendor_settings, health_check_path = "/healthz" }
    manager = { package = var.manager_package_path, settings = local.manager_settings, health_check_path = null }
  }
}

resource "azurerm_linux_function_app" "app" {
  for_each                      = local.apps
  name                          = "func-${var.name}-${each.key}"
  resource_group_name           = azurerm_resource_group.ipam.name
  location                      = azurerm_resource_group.ipam.location
  service_plan_id               = azurerm_service_plan.ipam.id
  storage_account_name          = azurerm_storage_account.ipam.name
  storage_uses_managed_identity = true
  zip_deploy_file               = each.value.package
  https_only                    = true
  app_settings                  = each.value.settings

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.ipam.id]
  }

  site_config {
    health_check_path = each.value.health_check_path
  }

  depends_on = [azurerm_role_assignment.tables, azurerm_role_assignment.reader, azurerm_role_assignment.runtime_blobs, azurerm_role_assignment.runtime_queues]
}
