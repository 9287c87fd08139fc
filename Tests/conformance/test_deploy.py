"""deploy/terraform, the deployment module: it parses with python-hcl2, every reference in it exists, every
setting the code reads is handled by it (set, or named as not for this setup), and every role that
docs/Authentication.md names is assigned. Terraform itself cannot run here (neither Debian nor PyPI has it)."""
import os
import re

import hcl2

from test_terraform import KNOWN, check_references, declared, load, strings

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
MODULE = os.path.join(ROOT, "deploy", "terraform")

# Attributes this module references, per resource type (azurerm documentation).
EXPORTED = {
    "azurerm_resource_group": {"name", "location", "id"},
    "azurerm_storage_account": {"name", "id", "primary_table_endpoint"},
    "azurerm_storage_table": {"name", "id"},
    "azurerm_user_assigned_identity": {"id", "principal_id", "client_id", "tenant_id"},
    "azurerm_log_analytics_workspace": {"id"},
    "azurerm_application_insights": {"connection_string", "instrumentation_key", "id"},
    "azurerm_service_plan": {"id"},
    "azurerm_linux_function_app": {"name", "default_hostname", "id", "identity"},
    "azurerm_role_assignment": {"id"},
}


def module_text():
    return "\n".join(s for parsed in load(MODULE) for s in strings(parsed)) + "\n" + \
        "\n".join(open(os.path.join(MODULE, name)).read() for name in os.listdir(MODULE) if name.endswith(".tf"))


def test_every_reference_exists():
    known = KNOWN | {("resource", type_): attributes for type_, attributes in EXPORTED.items()}
    providers = {key: value for key, value in KNOWN.items() if key[0] == "provider"}
    variables, outputs = check_references(MODULE, known, arguments=providers)
    assert {"vendor_url"} <= outputs
    required = {name for name, spec in variables.items() if "default" not in spec}
    assert {"supernets_config", "scope_config_manifest", "vendor_api_keys", "audit_salt", "subscription_ids"} <= required


def test_every_setting_the_code_reads_is_handled():
    settings = re.findall(r'case \w+ = "([^"]+)"', open(os.path.join(ROOT, "Sources", "IPAMCore", "Setting.swift")).read())
    assert len(settings) > 20
    text = module_text()
    for setting in settings:
        assert setting in text, f"{setting} is neither set by deploy/terraform nor named there as not for this setup"
    # The ones an operator sets are set, as app settings.
    app_settings = re.findall(r"^\s+([A-Za-z_]+(?:__[A-Za-z]+)?)\s+=", text, re.MULTILINE)
    for setting in ["SUPERNETS_CONFIG", "SCOPE_CONFIG_MANIFEST", "VENDOR_API_KEYS", "VENDOR_ADMIN_KEYS", "VENDOR_READER_KEYS", "CIDR_SIZE_MIN", "CIDR_SIZE_MAX", "CIDR_SIZE_DEFAULT",
                    "LEASE_DURATION_HOURS", "IPAM_TABLE_NAME", "IPAM_STORAGE_TIMEOUT_MS", "MANAGER_TIMER_SCHEDULE", "RESOURCE_GRAPH_ENDPOINT",
                    "REAP_GRACE_SECONDS", "RELEASE_GRACE_SECONDS", "QUARANTINE_SECONDS", "LAST_SEEN_REFRESH_SECONDS", "MANAGER_LEASE_SECONDS",
                    "AzureWebJobsStorage__accountName", "AzureWebJobsStorage__credential", "AzureWebJobsStorage__clientId", "AZURE_CLIENT_ID"]:
        assert setting in app_settings, f"{setting} is not an app setting"


def test_every_documented_role_is_assigned():
    page = open(os.path.join(ROOT, "docs", "Authentication.md")).read()
    table = page.split("## How the processes sign in")[0]
    roles = re.findall(r"^\| `([^`]+)` \|", table, re.MULTILINE)
    assert "Storage Table Data Contributor" in roles and "Reader" in roles
    parsed_files = load(MODULE)
    _, _, _, _, _, resources = declared(parsed_files)
    assigned = {body["role_definition_name"].strip('"') for (type_, _), body in resources.items() if type_ == "azurerm_role_assignment"}
    for role in roles:
        assert role in assigned, f"{role} (docs/Authentication.md) is not assigned by deploy/terraform"


def test_shared_key_access_is_disabled():
    _, _, _, _, _, resources = declared(load(MODULE))
    account = resources[("azurerm_storage_account", "ipam")]
    assert account["shared_access_key_enabled"] is False
    assert resources[("azurerm_linux_function_app", "app")]["storage_uses_managed_identity"] is True
