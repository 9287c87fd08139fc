"""ipam-mcp with the official MCP Python SDK (`mcp` on PyPI) as the client, over stdio and Streamable
HTTP, against a live Vendor and table-emulator."""
import asyncio
import ipaddress
import json
import os
import subprocess
import uuid

import httpx2
import pytest
import requests
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from conftest import ADMIN_KEY, READER_KEY, _binary, _start, _stop

TOOLS = {"get_new_network", "get_lease", "list_leases", "renew_lease", "release_network", "list_pools", "get_host_ip", "release_host_ip", "list_events", "reserve_range", "get_usage", "preview_network", "address_history", "list_networks"}


def _mcp_binary():
    return os.path.join(os.path.dirname(_binary()), "ipam-mcp")


def run(coroutine):
    return asyncio.run(coroutine)


async def stdio_session(vendor_url, key, body):
    params = StdioServerParameters(command=_mcp_binary(), args=["--vendor-url", vendor_url], env={"IPAM_API_KEY": key})
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            return await body(session)


async def http_session(url, key, body, headers=None):
    all_headers = {"Authorization": f"Bearer {key}"} | (headers or {})
    async with httpx2.AsyncClient(headers=all_headers, timeout=30) as client:
        async with streamable_http_client(url, http_client=client) as (read, write, *_):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await body(session)


@pytest.fixture(scope="session")
def mcp_http(vendor):
    url, _ = vendor
    process, port = _start([_mcp_binary(), "serve", "--port", "0", "--vendor-url", url, "--allow-origin", "https://console.example", "--log-level", "error"])
    yield f"http://127.0.0.1:{port}/mcp"
    _stop(process)


def structured(result):
    """The structured content, and the same JSON in the text block."""
    assert result.content and result.content[0].type == "text"
    assert json.loads(result.content[0].text) == result.structured_content
    return result.structured_content


async def exercise(session):
    tools = (await session.list_tools()).tools
    by_name = {tool.name: tool for tool in tools}
    assert set(by_name) == TOOLS
    for tool in tools:
        assert tool.title and tool.description and tool.input_schema["type"] == "object" and tool.output_schema
    assert by_name["get_new_network"].annotations.idempotent_hint is True
    assert by_name["get_new_network"].annotations.read_only_hint is False
    assert by_name["get_new_network"].annotations.destructive_hint is False
    assert by_name["get_new_network"].annotations.open_world_hint is False
    assert by_name["release_network"].annotations.destructive_hint is True and by_name["release_network"].annotations.idempotent_hint is True
    assert by_name["get_lease"].annotations.read_only_hint is True and by_name["list_pools"].annotations.read_only_hint is True
    assert by_name["get_new_network"].input_schema["required"] == ["sessionId"]
    assert by_name["preview_network"].annotations.read_only_hint is True and by_name["preview_network"].annotations.destructive_hint is False
    assert by_name["preview_network"].input_schema == by_name["get_new_network"].input_schema

    session_id = "mcp-" + uuid.uuid4().hex
    arguments = {"sessionId": session_id, "prefixLength": 24, "subnets": [{"name": "app", "prefixLength": 26}], "tags": {"env": "dev"}}
    preview = structured(await session.call_tool("preview_network", arguments))
    assert preview["dryRun"] is True and preview["heldLease"] is None and preview["cidr"].endswith("/24"), preview
    assert preview["subnets"][0]["name"] == "app"
    first = await session.call_tool("get_new_network", arguments)
    assert not first.is_error, first
    lease = structured(first)
    second = structured(await session.call_tool("get_new_network", arguments))
    assert second["leaseId"] == lease["leaseId"] and second["cidr"] == lease["cidr"], "the same sessionId gets the same lease"
    assert lease["tag"] == {"name": "ipam-lease-id", "value": lease["leaseId"]} and lease["subnets"][0]["name"] == "app"
    held = structured(await session.call_tool("preview_network", arguments))
    assert held["dryRun"] is True and held["heldLease"]["leaseId"] == lease["leaseId"] and held["cidr"] == lease["cidr"], "a dry run of a held session answers its lease"

    assert structured(await session.call_tool("get_lease", {"leaseId": lease["leaseId"]}))["cidr"] == lease["cidr"]
    assert structured(await session.call_tool("get_lease", {"sessionId": session_id}))["leaseId"] == lease["leaseId"]
    listed = structured(await session.call_tool("list_leases", {"state": ["leased"], "within": lease["cidr"]}))
    assert [item["leaseId"] for item in listed["leases"]] == [lease["leaseId"]] and listed["continuation"] is None
    assert structured(await session.call_tool("renew_lease", {"sessionId": session_id}))["state"] == "leased"
    pools = structured(await session.call_tool("list_pools", {"region": "eastus"}))
    assert [pool["region"] for pool in pools["pools"]] == ["eastus"]

    # An AWS scope, named by accountId and region: the answer names it by cloud and accountId.
    aws_args = {"sessionId": session_id, "prefixLength": 24, "accountId": "123456789012", "region": "us-east-1"}
    aws = structured(await session.call_tool("get_new_network", aws_args))
    assert aws["cloud"] == "aws" and aws["accountId"] == "123456789012" and "subscription" not in aws, aws
    assert aws["leaseId"] != lease["leaseId"], "a SessionId is per scope"
    aws_lease = structured(await session.call_tool(
        "get_lease", {"sessionId": session_id, "accountId": "123456789012", "region": "us-east-1"}))
    assert aws_lease["leaseId"] == aws["leaseId"]
    aws_listed = structured(await session.call_tool("list_leases", {"accountId": "123456789012"}))
    assert aws["leaseId"] in [item["leaseId"] for item in aws_listed["leases"]]
    aws_pools = structured(await session.call_tool("list_pools", {"accountId": "123456789012"}))
    assert [pool["scope"] for pool in aws_pools["pools"]] == ["aws_123456789012_us-east-1"]
    bad_account = await session.call_tool("get_new_network", {"sessionId": "x-" + uuid.uuid4().hex, "accountId": "1234"})
    assert bad_account.is_error and structured(bad_account)["field"] == "accountId"

    # A dual-stack network: both blocks in the structured answer, the same pair on a replay, both on the lease.
    dual_args = {"sessionId": "mcp-dual-" + uuid.uuid4().hex, "dualStack": True, "prefixLengthV6": 60, "subnets": [{"name": "app", "prefixLength": 26}]}
    dual = structured(await session.call_tool("get_new_network", dual_args))
    assert dual["cidrV6"].endswith("/60") and dual["prefixLengthV6"] == 60 and dual["subnets"][0]["cidrV6"].endswith("/64"), dual
    assert structured(await session.call_tool("get_new_network", dual_args))["cidrV6"] == dual["cidrV6"]
    assert structured(await session.call_tool("get_lease", {"leaseId": dual["leaseId"]}))["cidrV6"] == dual["cidrV6"]
    assert lease["cidrV6"] is None, "a lease of one block has no IPv6 block"

    # Refusals come back as tool errors with the Vendor's {code, message}.
    conflict = await session.call_tool("get_new_network", {"sessionId": session_id, "prefixLength": 25})
    assert conflict.is_error and structured(conflict)["code"] == "SessionConflict"
    too_big = await session.call_tool("get_new_network", {"sessionId": "x-" + uuid.uuid4().hex, "prefixLength": 8})
    assert too_big.is_error and structured(too_big)["code"] == "InvalidPrefixLength"
    unknown = await session.call_tool("get_new_network", {"sessionId": "x-" + uuid.uuid4().hex, "region": "mars"})
    assert unknown.is_error and structured(unknown)["code"] == "UnknownScope"
    missing = await session.call_tool("get_new_network", {"prefixLength": 24})
    assert missing.is_error and structured(missing)["code"] == "InvalidArguments"
    wrong_type = await session.call_tool("get_new_network", {"sessionId": "s", "prefixLength": "big"})
    assert wrong_type.is_error and structured(wrong_type)["field"] == "prefixLength"
    gone = await session.call_tool("get_lease", {"leaseId": str(uuid.uuid4())})
    assert gone.is_error and structured(gone)["code"] == "LeaseNotFound"

    bad_state = await session.call_tool("list_leases", {"state": ["nope"]})
    assert bad_state.is_error and structured(bad_state)["code"] == "InvalidQuery"
    bad_pools = await session.call_tool("list_pools", {"zone": "1"})
    assert bad_pools.is_error and structured(bad_pools)["code"] == "InvalidArguments" and structured(bad_pools)["field"] == "zone"
    both = await session.call_tool("get_lease", {"leaseId": lease["leaseId"], "sessionId": session_id})
    assert both.is_error and structured(both)["code"] == "InvalidArguments"

    # Host addresses inside the lease: the caller (its owner) gets one, stable; a VM gets the next; releasing is idempotent.
    assert by_name["get_host_ip"].annotations.idempotent_hint is True and by_name["get_host_ip"].annotations.destructive_hint is False
    assert by_name["release_host_ip"].annotations.destructive_hint is True and by_name["release_host_ip"].annotations.idempotent_hint is True
    mine = structured(await session.call_tool("get_host_ip", {"leaseId": lease["leaseId"]}))
    assert mine["subnet"] == "app" and mine["ip"] == structured(await session.call_tool("get_host_ip", {"leaseId": lease["leaseId"]}))["ip"]
    vm = structured(await session.call_tool("get_host_ip", {"leaseId": lease["leaseId"], "principal": "vm-" + session_id[-8:]}))
    assert vm["ip"] != mine["ip"] and vm["principal"].startswith("vm-")
    unknown_subnet = await session.call_tool("get_host_ip", {"leaseId": lease["leaseId"], "principal": "vm-x", "subnet": "nope"})
    assert unknown_subnet.is_error and structured(unknown_subnet)["code"] == "UnknownSubnet"
    freed = structured(await session.call_tool("release_host_ip", {"leaseId": lease["leaseId"], "principal": vm["principal"]}))
    assert freed["released"] is True and freed["ip"] == vm["ip"]
    assert structured(await session.call_tool("release_host_ip", {"leaseId": lease["leaseId"], "principal": vm["principal"]}))["released"] is False
    assert structured(await session.call_tool("release_host_ip", {"leaseId": lease["leaseId"]}))["ip"] == mine["ip"], "by default the caller's own"
    assert mine["ipV6"] is None, "a lease of one block gives one address"
    # In the dual-stack network: an address of each version, the IPv6 one in the subnet's /64; released together.
    both_versions = structured(await session.call_tool("get_host_ip", {"leaseId": dual["leaseId"], "subnet": "app"}))
    assert both_versions["subnetCidrV6"] == dual["subnets"][0]["cidrV6"] and ipaddress.ip_address(both_versions["ipV6"]) in ipaddress.ip_network(both_versions["subnetCidrV6"])
    released_both = structured(await session.call_tool("release_host_ip", {"leaseId": dual["leaseId"]}))
    assert released_both["released"] is True and released_both["ipV6"] == both_versions["ipV6"]

    trail = structured(await session.call_tool("list_events", {"leaseId": lease["leaseId"], "action": ["lease", "carve-lease", "renew"]}))
    assert trail["events"] and all(event["leaseId"] == lease["leaseId"] for event in trail["events"])
    assert by_name["list_events"].annotations.read_only_hint is True
    bad_action = await session.call_tool("list_events", {"action": ["nope"]})
    assert bad_action.is_error and structured(bad_action)["code"] == "InvalidQuery"

    # list_networks: read-only; what the Manager recorded (none here: no Manager ran), refusals as the Vendor's.
    assert by_name["list_networks"].annotations.read_only_hint is True and by_name["list_networks"].annotations.destructive_hint is False
    networks = structured(await session.call_tool("list_networks", {"region": "eastus", "status": ["noncompliant"]}))
    assert networks["networks"] == [] and networks["continuation"] is None
    bad_status = await session.call_tool("list_networks", {"status": ["fine"]})
    assert bad_status.is_error and structured(bad_status)["code"] == "InvalidQuery" and structured(bad_status)["field"] == "status"
    nowhere = await session.call_tool("list_networks", {"region": "mars"})
    assert nowhere.is_error and structured(nowhere)["code"] == "UnknownScope"

    # reserve_range needs an admin key: this one is a lease key.
    refused = await session.call_tool("reserve_range", {"prefixLength": 28, "owner": "mcp", "reason": "test"})
    assert refused.is_error and structured(refused)["code"] == "Forbidden"

    released = structured(await session.call_tool("release_network", {"leaseId": lease["leaseId"]}))
    assert released["state"] == "quarantined"
    again = await session.call_tool("release_network", {"sessionId": session_id})
    assert not again.is_error and structured(again)["state"] == "quarantined", "releasing again answers the final state"
    not_renewable = await session.call_tool("renew_lease", {"leaseId": lease["leaseId"]})
    assert not_renewable.is_error and structured(not_renewable)["code"] == "LeaseNotRenewable"
    never = await session.call_tool("release_network", {"leaseId": str(uuid.uuid4())})
    assert never.is_error and structured(never)["code"] == "LeaseNotFound"

    resources = (await session.list_resources()).resources
    assert [str(resource.uri) for resource in resources] == ["ipam://pools"]
    templates = (await session.list_resource_templates()).resource_templates
    assert [template.uri_template for template in templates] == ["ipam://leases/{leaseId}"]
    pools_text = (await session.read_resource("ipam://pools")).contents[0].text
    assert "pools" in json.loads(pools_text)
    lease_text = (await session.read_resource(f"ipam://leases/{lease['leaseId']}")).contents[0].text
    assert json.loads(lease_text)["leaseId"] == lease["leaseId"]
    return True


def test_stdio_every_tool_and_resource(vendor):
    url, key = vendor
    assert run(stdio_session(url, key, exercise))


def test_stdio_vendor_unreachable_is_a_tool_error_and_the_server_keeps_serving(vendor):
    _, key = vendor

    async def body(session):
        results = [await session.call_tool("list_pools", {}) for _ in range(2)]
        return [(result.is_error, structured(result)["code"]) for result in results]

    assert run(stdio_session("http://127.0.0.1:9", key, body)) == [(True, "VendorUnavailable")] * 2


def test_http_every_tool_and_resource(vendor, mcp_http):
    _, key = vendor
    assert run(http_session(mcp_http, key, exercise))


def test_http_sixteen_concurrent_clients_get_sixteen_distinct_networks(vendor, mcp_http):
    _, key = vendor
    run_id = uuid.uuid4().hex[:8]

    async def one(index):
        async def body(session):
            return structured(await session.call_tool("get_new_network", {"sessionId": f"par-{run_id}-{index}", "prefixLength": 24}))
        return await http_session(mcp_http, key, body)

    async def all_of_them():
        return await asyncio.gather(*(one(index) for index in range(16)))

    leases = run(all_of_them())
    networks = [ipaddress.ip_network(lease["cidr"]) for lease in leases]
    assert len({lease["leaseId"] for lease in leases}) == 16
    for i, a in enumerate(networks):
        for b in networks[i + 1:]:
            assert not a.overlaps(b), f"{a} overlaps {b}"


def _initialize(url, headers):
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    return requests.post(url, json=body, headers={"Accept": "application/json, text/event-stream"} | headers, timeout=30)


def test_http_key_and_origin_are_checked(vendor, mcp_http):
    _, key = vendor
    missing = _initialize(mcp_http, {})
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = _initialize(mcp_http, {"Authorization": "Bearer not-a-key"})
    assert wrong.status_code == 401
    bad_origin = _initialize(mcp_http, {"Authorization": f"Bearer {key}", "Origin": "https://evil.example"})
    assert bad_origin.status_code == 403
    allowed = _initialize(mcp_http, {"Authorization": f"Bearer {key}", "Origin": "https://console.example"})
    assert allowed.status_code == 200 and allowed.headers.get("Mcp-Session-Id")


def test_http_a_session_belongs_to_the_key_that_opened_it(vendor, mcp_http):
    _, key = vendor
    opened = _initialize(mcp_http, {"Authorization": f"Bearer {key}"})
    session = opened.headers["Mcp-Session-Id"]
    headers = {"Accept": "application/json, text/event-stream", "Mcp-Session-Id": session, "Mcp-Protocol-Version": "2025-06-18"}
    listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
    for other in (READER_KEY, ADMIN_KEY):
        used = requests.post(mcp_http, json=listing, headers=headers | {"Authorization": f"Bearer {other}"}, timeout=30)
        assert used.status_code == 403 and "get_new_network" not in used.text, (used.status_code, used.text)
        ended = requests.delete(mcp_http, headers=headers | {"Authorization": f"Bearer {other}"}, timeout=30)
        assert ended.status_code == 403
    mine = requests.post(mcp_http, json=listing, headers=headers | {"Authorization": f"Bearer {key}"}, timeout=30)
    assert mine.status_code == 200 and "get_new_network" in mine.text
    assert requests.delete(mcp_http, headers=headers | {"Authorization": f"Bearer {key}"}, timeout=30).status_code == 200


def test_http_fails_closed_when_the_vendor_is_unreachable():
    process, port = _start([_mcp_binary(), "serve", "--port", "0", "--vendor-url", "http://127.0.0.1:9", "--log-level", "error"])
    try:
        answer = _initialize(f"http://127.0.0.1:{port}/mcp", {"Authorization": "Bearer made-up-key"})
        assert answer.status_code == 503 and "Mcp-Session-Id" not in answer.headers, (answer.status_code, answer.text)
        assert "127.0.0.1" not in answer.text
    finally:
        _stop(process)
