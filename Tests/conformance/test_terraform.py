"""The Terraform examples (examples/terraform): every file parses with python-hcl2 and every variable,
local, output, module output and provider attribute it references exists; and the exact request sequences
the two providers send for plan -> apply -> plan -> refresh -> destroy -> destroy again, replayed against a
live Vendor. (The real CLI applies examples/terraform/aws-vpc, whose provider a local mirror has:
test_terraform_aws.py; the Azure and restapi providers are not mirrored, hence this check.)"""
import glob
import ipaddress
import json
import os
import re

import hcl2
import pytest
import requests

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "terraform")

# Attributes (arguments and exported attributes) of the provider types the examples use, from the
# providers' documentation.
KNOWN = {
    ("data", "http"): {"url", "method", "request_headers", "request_body", "request_timeout_ms", "retry", "insecure", "ca_cert_pem",
                       "client_cert_pem", "client_key_pem", "response_body", "response_body_base64", "response_headers", "status_code", "id",
                       "body", "lifecycle", "depends_on", "count", "for_each"},
    ("resource", "restapi_object"): {"path", "data", "id", "api_data", "api_response", "create_response", "create_path", "read_path", "update_path",
                                     "destroy_path", "create_method", "read_method", "update_method", "destroy_method", "id_attribute", "object_id",
                                     "force_new", "ignore_changes_to", "ignore_all_server_changes", "query_string", "read_search", "debug",
                                     "read_data", "update_data", "destroy_data", "lifecycle", "depends_on", "count", "for_each"},
    ("resource", "azurerm_virtual_network"): {"name", "location", "resource_group_name", "address_space", "tags", "id", "guid", "subnet",
                                              "dns_servers", "bgp_community", "ddos_protection_plan", "edge_zone", "flow_timeout_in_minutes",
                                              "encryption", "lifecycle", "depends_on", "count", "for_each"},
    ("resource", "azurerm_subnet"): {"name", "resource_group_name", "virtual_network_name", "address_prefixes", "id", "service_endpoints",
                                     "delegation", "private_endpoint_network_policies", "lifecycle", "depends_on", "count", "for_each"},
    ("provider", "restapi"): {"uri", "headers", "write_returns_object", "create_returns_object", "id_attribute", "create_method", "update_method",
                              "destroy_method", "insecure", "timeout", "username", "password", "debug", "copy_keys", "xssi_prefix",
                              "rate_limit", "test_path", "oauth_client_credentials", "cert_string", "key_string", "root_ca_string"},
    ("provider", "azurerm"): {"features", "subscription_id", "tenant_id", "client_id", "use_msi", "use_oidc", "storage_use_azuread"},
    # examples/terraform/aws-vpc (the real CLI validates and applies it too: test_terraform_aws.py).
    ("resource", "aws_vpc"): {"cidr_block", "enable_dns_support", "enable_dns_hostnames", "tags", "tags_all", "id", "arn",
                              "instance_tenancy", "ipv4_ipam_pool_id", "ipv4_netmask_length", "ipv6_cidr_block",
                              "assign_generated_ipv6_cidr_block", "owner_id", "default_route_table_id", "main_route_table_id",
                              "lifecycle", "depends_on", "count", "for_each"},
    ("provider", "aws"): {"region", "profile", "access_key", "secret_key", "assume_role", "default_tags", "endpoints",
                          "skip_credentials_validation", "skip_requesting_account_id", "skip_metadata_api_check"},
}


def unquote(text):
    return text[1:-1] if isinstance(text, str) and len(text) >= 2 and text[0] == text[-1] == '"' else text


def strings(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)
    elif isinstance(node, str):
        yield node


def blocks(parsed, kind):
    """(type, name, body) of every `kind` block (resource, data) in parsed files."""
    for item in parsed.get(kind, []):
        for type_name, named in item.items():
            for name, body in named.items():
                yield unquote(type_name), unquote(name), body


def directories():
    return sorted({os.path.dirname(path) for path in glob.glob(os.path.join(ROOT, "**", "*.tf"), recursive=True)})


def load(directory):
    files = sorted(glob.glob(os.path.join(directory, "*.tf")))
    assert files
    return [hcl2.load(open(path)) for path in files]


def declared(parsed_files):
    variables, outputs, locals_, modules = {}, set(), set(), {}
    data, resources = {}, {}
    for parsed in parsed_files:
        for item in parsed.get("variable", []):
            for name, body in item.items():
                variables[unquote(name)] = body
        for item in parsed.get("output", []):
            outputs.update(unquote(name) for name in item)
        for item in parsed.get("locals", []):
            locals_.update(key for key in item if not key.startswith("__"))
        for item in parsed.get("module", []):
            for name, body in item.items():
                modules[unquote(name)] = body
        for type_, name, body in blocks(parsed, "data"):
            data[(type_, name)] = body
        for type_, name, body in blocks(parsed, "resource"):
            resources[(type_, name)] = body
    return variables, outputs, locals_, modules, data, resources


def check_references(directory, known, arguments=None):
    """Every var., local., module output, data source and resource attribute referenced in `directory`
    exists (`known`: attributes by kind and type); block and provider arguments are ones the provider
    documents (`arguments`, default `known`; types it does not list are not checked)."""
    arguments = known if arguments is None else arguments
    parsed_files = load(directory)
    variables, outputs, locals_, modules, data, resources = declared(parsed_files)
    text = "\n".join(s for parsed in parsed_files for s in strings(parsed))
    for name in re.findall(r"\bvar\.([A-Za-z_][A-Za-z0-9_]*)", text):
        assert name in variables, f"var.{name} is not declared in {directory}"
    for name in re.findall(r"\blocal\.([A-Za-z_][A-Za-z0-9_]*)", text):
        assert name in locals_, f"local.{name} is not declared in {directory}"
    for type_, name, attribute in re.findall(r"\bdata\.([a-z0-9_]+)\.([a-z0-9_]+)\.([a-z0-9_]+)", text):
        assert (type_, name) in data, f"data.{type_}.{name} does not exist"
        assert attribute in known[("data", type_)], f"data.{type_} has no attribute {attribute}"
    for type_, name, attribute in re.findall(r"\b((?:azurerm|restapi|aws)_[a-z0-9_]+)\.([a-z0-9_]+)(?:\[[^\]]*\])?\.([a-z0-9_]+)", text):
        assert (type_, name) in resources, f"{type_}.{name} does not exist"
        assert attribute in known[("resource", type_)], f"{type_} has no attribute {attribute}"
    for (kind, type_), body in [(("data", t), b) for (t, _), b in data.items()] + [(("resource", t), b) for (t, _), b in resources.items()]:
        if (kind, type_) not in arguments:
            continue
        unknown = {unquote(key) for key in body if not key.startswith("__")} - arguments[(kind, type_)]
        assert not unknown, f"{kind} {type_} has no argument(s) {unknown}"
    for parsed in parsed_files:
        for item in parsed.get("provider", []):
            for name, body in item.items():
                unknown = {unquote(key) for key in body if not key.startswith("__")} - arguments[("provider", unquote(name))]
                assert not unknown, f"provider {name} has no argument(s) {unknown}"
        for type_, name, body in blocks(parsed, "data"):
            for attribute in re.findall(r"\bself\.([a-z0-9_]+)", "\n".join(strings(body))):
                assert attribute in known[("data", type_)], f"self.{attribute} is not an attribute of data.{type_}"
    for name, body in modules.items():
        source = os.path.normpath(os.path.join(directory, unquote(body["source"])))
        module_variables, module_outputs, *_ = declared(load(source))
        passed = {key for key in body if key not in ("source", "version") and not key.startswith("__")}
        assert passed <= set(module_variables), f"module {name} has no variable(s) {passed - set(module_variables)}"
        required = {variable for variable, spec in module_variables.items() if "default" not in spec}
        assert required <= passed, f"module {name} needs {required - passed}"
        for output in re.findall(rf"\bmodule\.{name}\.([A-Za-z_][A-Za-z0-9_]*)", text):
            assert output in module_outputs, f"module.{name}.{output} is not an output of {source}"
    return variables, outputs


@pytest.mark.parametrize("directory", directories(), ids=lambda d: os.path.relpath(d, ROOT))
def test_every_reference_exists(directory):
    check_references(directory, KNOWN)


def test_the_module_outputs_what_the_issue_names():
    _, outputs, *_ = declared(load(os.path.join(ROOT, "modules", "ipam-network")))
    assert {"cidr", "lease_id", "subnets", "tag", "cidr_v6", "address_space", "subnet_prefixes"} <= outputs


# --- The providers' request sequences against a live Vendor -------------------------------------------

GO_USER_AGENT = {"User-Agent": "Go-http-client/1.1", "Accept-Encoding": "gzip"}


def http_data_source_read(vendor, body):
    """What hashicorp/http sends for `data "http" "lease"` in modules/ipam-network: its request_headers,
    the body as jsonencode(local.request) gives it (compact, keys sorted), method POST."""
    url, key = vendor
    headers = {"Accept": "application/json", "Content-Type": "application/json", "x-functions-key": key} | GO_USER_AGENT
    return requests.post(url.rstrip("/") + "/api/getNewNetwork", data=json.dumps(body, separators=(",", ":"), sort_keys=True),
                         headers=headers, timeout=30)


def test_http_module_sequence_gets_the_same_lease_on_every_plan(vendor):
    # local.request for the azure-vnet example: SessionId from workspace and environment, the subnets.
    body = {"SessionId": "tf-default-http-contract", "prefixLength": 24, "region": "eastus", "requester": "terraform/http-contract",
            "subnets": [{"name": "app", "prefixLength": 26}, {"name": "data", "prefixLength": 27}]}
    plan = http_data_source_read(vendor, body)
    assert plan.status_code == 201, plan.text
    lease = plan.json()
    for step in ("apply", "plan", "refresh"):
        again = http_data_source_read(vendor, body)
        assert again.status_code == 200, f"{step}: {again.text}"
        assert again.json()["leaseId"] == lease["leaseId"] and again.json()["cidr"] == lease["cidr"], step
    assert {subnet["name"] for subnet in lease["subnets"]} == {"app", "data"}
    assert lease["tag"]["name"] == "ipam-lease-id" and lease["tag"]["value"] == lease["leaseId"]
    # destroy: a data source sends nothing; the lease lives on until a VNet anchors it or it is reaped.


def test_http_module_dual_stack_sequence_gets_both_blocks_on_every_plan(vendor):
    # local.request with dual_stack = true: the flag only when set, prefixLengthV6 only when given.
    body = {"SessionId": "tf-default-dual-contract", "prefixLength": 24, "dualStack": True, "region": "eastus",
            "requester": "terraform/dual-contract", "subnets": [{"name": "app", "prefixLength": 26}]}
    plan = http_data_source_read(vendor, body)
    assert plan.status_code == 201, plan.text
    lease = plan.json()
    # What the module's outputs compute: address_space = the non-null of [cidr, cidrV6], subnet_prefixes likewise.
    address_space = [p for p in (lease["cidr"], lease["cidrV6"]) if p]
    assert len(address_space) == 2 and ":" in lease["cidrV6"] and lease["prefixLengthV6"] == 56
    app = next(s for s in lease["subnets"] if s["name"] == "app")
    assert app["cidrV6"].endswith("/64") and ipaddress.ip_network(app["cidrV6"]).subnet_of(ipaddress.ip_network(lease["cidrV6"]))
    for step in ("apply", "plan", "refresh"):
        again = http_data_source_read(vendor, body)
        assert again.status_code == 200, f"{step}: {again.text}"
        assert (again.json()["cidr"], again.json()["cidrV6"]) == (lease["cidr"], lease["cidrV6"]), step


def test_restapi_sequence_creates_reads_and_releases_idempotently(vendor):
    url, key = vendor
    headers = {"Accept": "application/json", "Content-Type": "application/json", "x-functions-key": key} | GO_USER_AGENT
    data = {"sessionId": "tf-restapi-contract", "prefixLength": 24}
    # plan: nothing exists yet, so nothing is read. apply: create (POST path with data), then read.
    created = requests.post(url + "/api/getNewNetwork", data=json.dumps(data, separators=(",", ":")), headers=headers, timeout=30)
    assert created.status_code == 201, created.text
    lease_id = created.json()["leaseId"]  # id_attribute = "leaseId"
    read = requests.get(f"{url}/api/leases/{lease_id}", headers=headers, timeout=30)
    assert read.status_code == 200
    # plan and refresh: read again; the data's keys come back with the same values, so there is no drift.
    for step in ("plan", "refresh"):
        again = requests.get(f"{url}/api/leases/{lease_id}", headers=headers, timeout=30)
        assert again.status_code == 200, step
        assert all(again.json()[k] == v for k, v in data.items()), f"{step}: drift in {again.json()}"
    # an update (changed data) replays the create; with the same SessionId and body it is the same lease.
    update = requests.post(url + "/api/getNewNetwork", data=json.dumps(data, separators=(",", ":")), headers=headers, timeout=30)
    assert update.status_code == 200 and update.json()["leaseId"] == lease_id
    destroy = requests.delete(f"{url}/api/leases/{lease_id}", headers=headers, timeout=30)
    assert destroy.status_code == 200 and destroy.json()["state"] == "quarantined"
    again = requests.delete(f"{url}/api/leases/{lease_id}", headers=headers, timeout=30)
    assert again.status_code == 200 and again.json()["state"] == "quarantined", "destroy again: 2xx"
