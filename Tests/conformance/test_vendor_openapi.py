"""The Vendor's real answers, checked against openapi/openapi.yaml, and fuzzed with schemathesis."""
import json
import os
import subprocess
import sys
import uuid

import jsonschema
import pytest
import requests
import yaml

SPEC_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "openapi", "openapi.yaml")
SPEC = yaml.safe_load(open(SPEC_PATH))


def _resolve(node):
    """Inline local $refs so jsonschema sees one self-contained schema."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = SPEC
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return _resolve(target)
        return {k: _resolve(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v) for v in node]
    return node


def check(response, path, method):
    """The status is documented for the operation and the body matches its schema."""
    operation = SPEC["paths"][path][method]
    documented = operation["responses"]
    assert str(response.status_code) in documented, f"{method.upper()} {path} answered undocumented {response.status_code}: {response.text}"
    spec = _resolve(documented[str(response.status_code)])
    schema = spec.get("content", {}).get("application/json", {}).get("schema")
    if schema:
        jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(response.json())
    assert response.headers.get("x-request-id")
    return response


def call(vendor, method, path, spec_path=None, **kwargs):
    url, key = vendor
    headers = kwargs.pop("headers", {"x-functions-key": key})
    response = requests.request(method, url + path, headers=headers, timeout=30, **kwargs)
    return check(response, spec_path or path, method.lower())


def test_get_new_network_answers_match_the_contract(vendor):
    body = {"SessionId": "py-" + uuid.uuid4().hex, "prefixLength": 24, "tags": {"env": "dev"},
            "subnets": [{"name": "app", "prefixLength": 26}]}
    created = call(vendor, "POST", "/api/getNewNetwork", json=body)
    assert created.status_code == 201
    lease = created.json()
    replay = call(vendor, "POST", "/api/getNewNetwork", json=body)
    assert replay.status_code == 200 and replay.json()["leaseId"] == lease["leaseId"]
    conflict = call(vendor, "POST", "/api/getNewNetwork", json={"SessionId": body["SessionId"], "prefixLength": 25})
    assert conflict.status_code == 409 and conflict.json()["code"] == "SessionConflict"

    call(vendor, "GET", f"/api/leases/{lease['leaseId']}", "/api/leases/{leaseId}")
    call(vendor, "GET", f"/api/sessions/{body['SessionId']}", "/api/sessions/{sessionId}")
    call(vendor, "GET", f"/api/leases/{uuid.uuid4()}", "/api/leases/{leaseId}")
    call(vendor, "POST", "/api/renewLease", json={"leaseId": lease["leaseId"]})
    call(vendor, "GET", "/api/pools")
    assert call(vendor, "GET", "/api/whoami").json()["caller"].startswith("key-")
    listed = call(vendor, "GET", "/api/leases?state=leased&limit=1000", "/api/leases")
    assert lease["leaseId"] in [item["leaseId"] for item in listed.json()["leases"]]
    assert call(vendor, "GET", "/api/leases?limit=0", "/api/leases").status_code == 400
    released = call(vendor, "POST", "/api/releaseNetwork", json={"SessionId": body["SessionId"]})
    assert released.json()["state"] == "quarantined"
    again = call(vendor, "POST", "/api/releaseNetwork", json={"leaseId": lease["leaseId"]})
    assert again.status_code == 410
    deleted = call(vendor, "DELETE", f"/api/leases/{lease['leaseId']}", "/api/leases/{leaseId}")
    assert deleted.status_code == 200 and deleted.json()["state"] == "quarantined"
    assert call(vendor, "DELETE", f"/api/leases/{uuid.uuid4()}", "/api/leases/{leaseId}").status_code == 404


@pytest.mark.parametrize("body,code", [
    ({}, "MissingField"), ({"SessionId": "a b"}, "InvalidSessionId"), ({"SessionId": "s", "prefixLength": 8}, "InvalidPrefixLength"),
    ({"SessionId": "s", "nope": 1}, "UnknownField"), ({"SessionId": "s", "region": "mars"}, "UnknownScope"),
])
def test_bad_requests_match_the_contract(vendor, body, code):
    answer = call(vendor, "POST", "/api/getNewNetwork", json=body)
    assert answer.status_code == (404 if code == "UnknownScope" else 400) and answer.json()["code"] == code


AWS_SCOPE = {"accountId": "123456789012", "region": "us-east-1"}


def test_aws_scope_answers_match_the_contract(vendor):
    """An AWS scope's lease, look-ups and listing name it by cloud and accountId (no subscription), as the spec says."""
    body = {"SessionId": "py-aws-" + uuid.uuid4().hex, "prefixLength": 24, **AWS_SCOPE}
    created = call(vendor, "POST", "/api/getNewNetwork", json=body)
    assert created.status_code == 201, created.text
    lease = created.json()
    assert list(lease)[4:8] == ["scope", "cloud", "accountId", "region"] and "subscription" not in lease
    assert lease["scope"] == "aws_123456789012_us-east-1" and lease["cloud"] == "aws"
    assert call(vendor, "POST", "/api/getNewNetwork", json=body).json()["leaseId"] == lease["leaseId"]
    azure = call(vendor, "POST", "/api/getNewNetwork", json={"SessionId": body["SessionId"], "prefixLength": 24})
    assert azure.status_code == 201 and azure.json()["leaseId"] != lease["leaseId"], "one SessionId per scope"
    assert list(azure.json())[4:7] == ["scope", "subscription", "region"] and "cloud" not in azure.json()
    record = call(vendor, "GET", f"/api/sessions/{body['SessionId']}?accountId=123456789012&region=us-east-1",
                  "/api/sessions/{sessionId}").json()
    assert record["leaseId"] == lease["leaseId"] and record["accountId"] == "123456789012"
    listed = call(vendor, "GET", "/api/leases?accountId=123456789012&limit=1000", "/api/leases").json()["leases"]
    assert lease["leaseId"] in [item["leaseId"] for item in listed]
    assert all(item["scope"] == "aws_123456789012_us-east-1" for item in listed)
    pools = call(vendor, "GET", "/api/pools").json()["pools"]
    assert [p["accountId"] for p in pools if p.get("cloud") == "aws"] == ["123456789012"]
    released = call(vendor, "POST", "/api/releaseNetwork", json={"SessionId": body["SessionId"], **AWS_SCOPE})
    assert released.json()["leaseId"] == lease["leaseId"] and released.json()["state"] == "quarantined"
    assert call(vendor, "GET", f"/api/leases/{azure.json()['leaseId']}", "/api/leases/{leaseId}").json()["state"] == "leased"


@pytest.mark.parametrize("scope,code,field", [
    ({"accountId": "12345678901", "region": "us-east-1"}, "InvalidField", "accountId"),
    ({"accountId": "1234567890123", "region": "us-east-1"}, "InvalidField", "accountId"),
    ({"accountId": "12345678901x", "region": "us-east-1"}, "InvalidField", "accountId"),
    ({"accountId": 123456789012, "region": "us-east-1"}, "InvalidField", "accountId"),
    ({"accountId": "123456789012", "region": "us-east-1/../x"}, "InvalidField", "region"),
    ({"accountId": "123456789012", "subscriptionId": "11111111-1111-1111-1111-111111111111", "region": "us-east-1"}, "InvalidField", "accountId"),
    ({"subscriptionId": "aws_123456789012", "region": "us-east-1"}, "InvalidField", "subscriptionId"),
    ({"accountId": "999999999999", "region": "us-east-1"}, "UnknownScope", "region"),
])
def test_hostile_aws_scopes_match_the_contract(vendor, scope, code, field):
    answer = call(vendor, "POST", "/api/getNewNetwork", json={"SessionId": "h-" + uuid.uuid4().hex, **scope})
    assert answer.status_code == (404 if code == "UnknownScope" else 400), answer.text
    assert answer.json()["code"] == code and answer.json()["field"] == field


def test_networks_answers_match_the_contract(vendor):
    """GET /api/networks: a page (every scope, one scope, a status filter), and its refusals, as the spec says."""
    everything = call(vendor, "GET", "/api/networks?limit=1000", "/api/networks").json()
    assert set(everything) == {"networks", "continuation"} and everything["continuation"] is None
    call(vendor, "GET", "/api/networks?region=eastus&status=noncompliant&status=unmanaged,ignored", "/api/networks")
    call(vendor, "GET", "/api/networks?accountId=123456789012&region=us-east-1", "/api/networks")
    for query, status, field in [("status=fine", 400, "status"), ("status=", 400, "status"), ("region=mars", 404, "region"),
                                 ("accountId=12", 400, "accountId"), ("limit=0", 400, "limit"), ("zone=1", 400, "zone"),
                                 ("continuation=bm90LWEtdG9rZW4", 400, "continuation")]:
        answer = call(vendor, "GET", "/api/networks?" + query, "/api/networks")
        assert answer.status_code == status and answer.json()["field"] == field, (query, answer.text)


def test_auth_and_media_type_errors_match_the_contract(vendor):
    url, _ = vendor
    check(requests.post(url + "/api/getNewNetwork", json={"SessionId": "x"}, timeout=10), "/api/getNewNetwork", "post")
    check(requests.post(url + "/api/getNewNetwork", data="SessionId=x", headers={"x-functions-key": vendor[1], "content-type": "text/plain"}, timeout=10),
          "/api/getNewNetwork", "post")
    check(requests.get(url + "/healthz", timeout=10), "/healthz", "get")
    check(requests.get(url + "/", timeout=10), "/", "get")
    check(requests.get(url + "/readyz", timeout=10), "/readyz", "get")


def test_schemathesis_fuzzes_the_vendor_against_the_spec(vendor, tmp_path):
    url, key = vendor
    command = [os.path.join(os.path.dirname(sys.executable), "schemathesis"),
               "--config-file", os.path.join(os.path.dirname(SPEC_PATH), "schemathesis.toml"), "run", SPEC_PATH, "--url", url,
               "-H", f"x-functions-key: {key}", "--checks", "all",
               # A released lease stays readable (quarantined, then its history): DELETE /api/leases/{id} is a
               # release, not an erasure, so "deleted resource still available" does not apply.
               "--exclude-checks", "use_after_free",
               "--max-examples", "25", "--workers", "1",
               "--seed", "20261125", "--request-timeout", "20", "--max-time", "120", "--warnings", "off"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=400, cwd=tmp_path)
    print(result.stdout[-4000:])
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]


def test_ipam_version_is_the_api_contracts():
    """`ipam --version` names the version of the API contract it speaks."""
    from conftest import _binary
    answer = subprocess.run([os.path.join(os.path.dirname(_binary()), "ipam"), "--version"], capture_output=True,
                            text=True, timeout=60)
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip() == SPEC["info"]["version"]
