"""Address history (GET /api/history) and usage over time (GET /api/usage, after one `manager run --once`), and
their MCP tools `address_history` and `get_usage`: real answers checked against openapi/openapi.yaml."""
import datetime
import ipaddress
import json
import os
import subprocess
import uuid

import pytest
import requests

from conftest import API_KEY, READER_KEY, SUBSCRIPTION, _binary, _start, _stop
from test_mcp import run, stdio_session, structured
from test_vendor_openapi import call

POOL = "team-a"
POOL_CIDR = "10.64.128.0/17"


@pytest.fixture(scope="module")
def insight(connection_string):
    """A Vendor of its own (its own table, a pool in the default scope), and the environment the Manager shares."""
    env = dict(os.environ)
    env.update({
        "AzureWebJobsStorage": connection_string,
        "IPAM_TABLE_NAME": "insightpy" + uuid.uuid4().hex[:12],
        "CIDR_SIZE_MIN": "20", "CIDR_SIZE_MAX": "26", "CIDR_SIZE_DEFAULT": "24", "LEASE_DURATION_HOURS": "4",
        "SUPERNETS_CONFIG": json.dumps([{"subscriptionId": SUBSCRIPTION, "regions": [
            {"region": "eastus", "supernets": ["10.64.0.0/12"], "exclude": ["10.64.0.0/24"]}]}]),
        "SCOPE_CONFIG_MANIFEST": json.dumps({
            "defaultScope": {"subscriptionId": SUBSCRIPTION, "region": "eastus"},
            "scopes": [{"subscriptionId": SUBSCRIPTION, "region": "eastus", "stock": {"24": 2}}]}),
        "POOLS_CONFIG": json.dumps([{"name": POOL, "subscriptionId": SUBSCRIPTION, "region": "eastus", "cidr": POOL_CIDR}]),
        "VENDOR_API_KEYS": API_KEY,
        "VENDOR_READER_KEYS": "auditor=" + READER_KEY,
        "AUDIT_SALT": "conformance-insight-salt-0123",
    })
    process, port = _start([os.path.join(os.path.dirname(_binary()), "vendor"), "serve", "--port", "0", "--log-level", "error"], env)
    yield (f"http://127.0.0.1:{port}", API_KEY), env
    _stop(process)


def manager_once(env):
    """One Manager run on the Vendor's storage, listing an empty local Resource Graph."""
    bin_dir = os.path.dirname(_binary())
    graph, graph_port = _start([os.path.join(bin_dir, "arg-emulator"), "--port", "0"])
    try:
        result = subprocess.run([os.path.join(bin_dir, "manager"), "run", "--once", "--log-level", "warning"],
                                env=dict(env, RESOURCE_GRAPH_ENDPOINT=f"http://127.0.0.1:{graph_port}", RESOURCE_GRAPH_TOKEN="local"),
                                capture_output=True, text=True, timeout=300)
    finally:
        _stop(graph)
    assert result.returncode == 0 and "manager: run complete=true" in result.stdout, result.stdout + result.stderr
    return result.stdout


def history(vendor, query, key=API_KEY):
    return call(vendor, "GET", "/api/history?" + query, "/api/history", headers={"x-functions-key": key})


def lease(vendor, **extra):
    body = {"SessionId": "hist-" + uuid.uuid4().hex, "prefixLength": 24, "requester": "conformance", **extra}
    created = call(vendor, "POST", "/api/getNewNetwork", json=body)
    assert created.status_code == 201, created.text
    return body["SessionId"], created.json()


def parse(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_history_of_a_released_lease_by_cidr_and_by_lease_id(insight):
    vendor, _ = insight
    session_id, held = lease(vendor)
    released = call(vendor, "POST", "/api/releaseNetwork", json={"leaseId": held["leaseId"]})
    assert released.json()["state"] == "quarantined"
    block = ipaddress.ip_network(held["cidr"])
    containing = str(block.supernet(new_prefix=20))
    contained = str(next(block.subnets(new_prefix=26)))

    def ours(answer):
        found = [entry for entry in answer.json()["entries"] if entry["leaseId"] == held["leaseId"]]
        assert len(found) == 1, answer.text
        return found[0]

    # The same holding whichever way it is asked: the block itself, a block containing it, one inside it, its lease.
    answers = [history(vendor, f"cidr={held['cidr']}"), history(vendor, f"cidr={containing}"),
               history(vendor, f"cidr={contained}"), history(vendor, f"leaseId={held['leaseId']}"),
               history(vendor, f"leaseId={held['leaseId'].upper()}&subscriptionId={SUBSCRIPTION}&region=eastus")]
    entries = [ours(answer) for answer in answers]
    assert all(entry == entries[0] for entry in entries), entries
    entry = entries[0]
    assert entry["kind"] == "lease" and entry["cidr"] == held["cidr"] and entry["sessionId"] == session_id
    assert entry["requester"] == "conformance" and entry["scope"] == held["scope"] and entry["region"] == "eastus"
    assert entry["subscription"] == SUBSCRIPTION and entry["resourceId"] is None and entry["reservationId"] is None
    assert [state["state"] for state in entry["states"]] == ["leased", "quarantined"], entry
    leased, quarantined = entry["states"]
    assert leased["to"] == quarantined["from"] and quarantined["to"] is None, "a state ends when the next begins; the last lasts"
    assert parse(leased["from"]) <= parse(leased["to"])
    assert int(answers[0].headers["x-ipam-storage-calls"]) >= 1
    assert [e["leaseId"] for e in answers[3].json()["entries"]] == [held["leaseId"]], "by lease id: that lease's blocks only"

    # A window before the lease keeps nothing of it; one that covers it keeps it whole.
    assert history(vendor, f"cidr={held['cidr']}&until=2020-01-01T00:00:00Z").json()["entries"] == []
    window = history(vendor, f"cidr={held['cidr']}&since={leased['from']}&until={leased['to']}")
    assert ours(window) == entry
    # A block elsewhere in the scope never held: nothing.
    assert history(vendor, "cidr=10.79.255.0/24").json() == {"entries": [], "continuation": None}
    # A reader may ask.
    assert ours(history(vendor, f"leaseId={held['leaseId']}", key=READER_KEY)) == entry


def test_history_pages_oldest_first(insight):
    vendor, _ = insight
    pool_leases = [lease(vendor, pool=POOL)[1] for _ in range(3)]
    seen, token = [], None
    for _ in range(50):
        answer = history(vendor, f"cidr={POOL_CIDR}&limit=1" + (f"&continuation={token}" if token else "")).json()
        assert len(answer["entries"]) <= 1
        seen += answer["entries"]
        token = answer["continuation"]
        if token is None:
            break
    assert token is None, "the pages end"
    ids = [entry["leaseId"] for entry in seen]
    assert len(ids) == len(set(ids)), "no entry twice across pages"
    assert [held["leaseId"] for held in pool_leases] == [i for i in ids if i in {h["leaseId"] for h in pool_leases}], "oldest first"
    starts = [parse(entry["states"][0]["from"]) for entry in seen]
    assert starts == sorted(starts), seen
    assert all(ipaddress.ip_network(entry["cidr"]).subnet_of(ipaddress.ip_network(POOL_CIDR)) for entry in seen)
    whole = history(vendor, f"cidr={POOL_CIDR}&limit=1000").json()
    assert whole["continuation"] is None and whole["entries"] == seen, "pages of one add up to the whole"


@pytest.mark.parametrize("query,status,field", [
    ("cidr=10.64.128.1/24", 400, "cidr"),
    ("cidr=10.64.128.0/33", 400, "cidr"),
    ("cidr=not-a-cidr", 400, "cidr"),
    ("", 400, "cidr"),
    ("cidr=10.64.128.0/24&leaseId=00000000-0000-0000-0000-000000000000", 400, "leaseId"),
    ("leaseId=not-a-lease", 400, "leaseId"),
    ("cidr=10.64.128.0/24&since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z", 400, "until"),
    ("cidr=10.64.128.0/24&since=yesterday", 400, "since"),
    ("cidr=10.64.128.0/24&region=mars", 404, "region"),
    ("cidr=10.64.128.0/24&subscriptionId=22222222-2222-2222-2222-222222222222&region=eastus", 404, "region"),
    ("cidr=10.64.128.0/24&limit=0", 400, "limit"),
    ("cidr=10.64.128.0/24&continuation=bm90LWEtdG9rZW4", 400, "continuation"),
    ("cidr=10.64.128.0/24&zone=1", 400, "zone"),
])
def test_history_refusals_name_the_field(insight, query, status, field):
    vendor, _ = insight
    answer = history(vendor, query)
    assert answer.status_code == status and answer.json()["field"] == field, (query, answer.text)
    assert "127.0.0.1" not in answer.text


def test_history_and_usage_without_a_key_are_401(insight):
    vendor, _ = insight
    for path in ["/api/history?cidr=10.64.128.0/24", "/api/usage?subscriptionId=%s&region=eastus" % SUBSCRIPTION]:
        answer = call(vendor, "GET", path, path.split("?")[0], headers={})
        assert answer.status_code == 401, answer.text
        wrong = call(vendor, "GET", path, path.split("?")[0], headers={"x-functions-key": "not-a-key"})
        assert wrong.status_code == 401, wrong.text


def usage(vendor, query, key=API_KEY):
    return call(vendor, "GET", "/api/usage?" + query, "/api/usage", headers={"x-functions-key": key})


def test_usage_after_one_manager_run(insight):
    vendor, env = insight
    _, in_pool = lease(vendor, pool=POOL)
    before = usage(vendor, f"subscriptionId={SUBSCRIPTION}&region=eastus&pool={POOL}").json()
    assert before["samples"] == [], "no sample before the Manager runs"
    manager_once(env)

    answer = usage(vendor, f"subscriptionId={SUBSCRIPTION}&region=eastus&pool={POOL}", key=READER_KEY).json()
    assert answer["pool"] == POOL and answer["ipVersion"] == "v4" and answer["region"] == "eastus"
    assert answer["subscription"] == SUBSCRIPTION and "cloud" not in answer and answer["step"] >= 300
    assert parse(answer["until"]) - parse(answer["since"]) == datetime.timedelta(days=1), "a day by default"
    assert len(answer["samples"]) == 1, answer
    sample = answer["samples"][0]
    assert parse(answer["since"]) <= parse(sample["at"]) <= parse(answer["until"])
    counted = sum(sample[state] for state in ["leased", "anchored", "occupied", "reserved", "quarantined", "available", "free"])
    assert counted == ipaddress.ip_network(POOL_CIDR).num_addresses, sample
    live = call(vendor, "GET", f"/api/leases?within={POOL_CIDR}&state=leased&limit=1000", "/api/leases").json()["leases"]
    assert in_pool["leaseId"] in [item["leaseId"] for item in live]
    assert sample["leased"] == 256 * len(live) and sample["leases"] == len(live), sample
    # One sample: too few to draw a line through, in every window and for every size.
    forecast = answer["forecast"]
    for window in ["last7Days", "last30Days"]:
        assert forecast["unusedAddresses"][window]["status"] == "insufficient-data", forecast
        assert forecast["unusedAddresses"][window]["runsOutAt"] is None and forecast["unusedAddresses"][window]["daysLeft"] is None
    assert all(size[w]["status"] == "insufficient-data" for size in forecast["sizes"] for w in ["last7Days", "last30Days"])

    # The scope's own space (outside its pools): its stock is in the sample, the pool's lease is not.
    scope = usage(vendor, f"subscriptionId={SUBSCRIPTION}&region=eastus").json()
    assert scope["pool"] is None and len(scope["samples"]) == 1
    assert scope["samples"][0]["available"] == 2 * 256 and scope["samples"][0]["leased"] == 0, scope["samples"]
    assert 24 in [blocks["prefixLength"] for blocks in scope["samples"][0]["freeBlocks"]]
    # A window before the run holds no sample; a step coarser than the range still gives the newest one.
    assert usage(vendor, f"pool={POOL}&since=2026-01-01T00:00:00Z&until=2026-01-02T00:00:00Z").json()["samples"] == []
    coarse = usage(vendor, f"pool={POOL}&step=86400").json()
    assert coarse["step"] == 86400 and coarse["samples"] == answer["samples"]


@pytest.mark.parametrize("query,status,field", [
    ("step=300&since=2026-01-01T00:00:00Z&until=2026-02-01T00:00:00Z", 400, "step"),
    ("step=299", 400, "step"),
    ("step=63158401", 400, "step"),
    ("step=five", 400, "step"),
    ("since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z", 400, "until"),
    ("until=tomorrow", 400, "until"),
    ("pool=nope", 404, "pool"),
    ("pool=team-a&ipVersion=v6", 404, "ipVersion"),
    ("ipVersion=v5", 400, "ipVersion"),
    ("region=mars", 404, "region"),
    ("zone=1", 400, "zone"),
])
def test_usage_refusals_name_the_field(insight, query, status, field):
    vendor, _ = insight
    answer = usage(vendor, query)
    assert answer.status_code == status and answer.json()["field"] == field, (query, answer.text)


def test_mcp_address_history_and_get_usage(insight):
    vendor, env = insight
    url, key = vendor
    _, held = lease(vendor, pool=POOL)
    lease(vendor, pool=POOL)
    call(vendor, "POST", "/api/releaseNetwork", json={"leaseId": held["leaseId"]})

    async def body(session):
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        for name in ["address_history", "get_usage"]:
            assert tools[name].annotations.read_only_hint is True and tools[name].annotations.destructive_hint is False
        by_lease = structured(await session.call_tool("address_history", {"leaseId": held["leaseId"]}))
        assert by_lease == history(vendor, f"leaseId={held['leaseId']}").json(), "the Vendor's answer"
        assert [state["state"] for state in by_lease["entries"][0]["states"]] == ["leased", "quarantined"]
        page = structured(await session.call_tool("address_history", {"cidr": POOL_CIDR, "limit": 1}))
        assert len(page["entries"]) == 1 and page["continuation"]
        following = structured(await session.call_tool("address_history", {"cidr": POOL_CIDR, "limit": 1, "continuation": page["continuation"]}))
        assert following["entries"] and following["entries"] != page["entries"]
        host_bits = await session.call_tool("address_history", {"cidr": "10.64.128.1/24"})
        assert host_bits.is_error and structured(host_bits)["code"] == "InvalidQuery" and structured(host_bits)["field"] == "cidr"
        inverted = await session.call_tool("address_history", {"cidr": POOL_CIDR, "since": "2026-12-02T00:00:00Z", "until": "2026-12-01T00:00:00Z"})
        assert inverted.is_error and structured(inverted)["field"] == "until"
        nowhere = await session.call_tool("address_history", {"cidr": POOL_CIDR, "region": "mars"})
        assert nowhere.is_error and structured(nowhere)["code"] == "UnknownScope"

        used = structured(await session.call_tool("get_usage", {"subscriptionId": SUBSCRIPTION, "region": "eastus", "pool": POOL}))
        assert used == usage(vendor, f"subscriptionId={SUBSCRIPTION}&region=eastus&pool={POOL}&since={used['since']}&until={used['until']}").json()
        assert used["forecast"]["unusedAddresses"]["last7Days"]["status"] in {"insufficient-data", "not-running-out", "runs-out"}
        too_fine = await session.call_tool("get_usage", {"pool": POOL, "step": 300, "since": "2026-01-01T00:00:00Z", "until": "2026-02-01T00:00:00Z"})
        assert too_fine.is_error and structured(too_fine)["code"] == "InvalidQuery" and structured(too_fine)["field"] == "step"
        no_pool = await session.call_tool("get_usage", {"pool": "nope"})
        assert no_pool.is_error and structured(no_pool)["field"] == "pool"
        return True

    assert run(stdio_session(url, key, body))
