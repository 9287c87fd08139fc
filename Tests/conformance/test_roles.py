"""Every route of openapi/openapi.yaml, walked with no credential and with a key of every role: the role
each operation declares (`x-ipam-role`) is the one the Vendor enforces."""
import os
import uuid

import requests
import yaml

from conftest import ADMIN_KEY, API_KEY, READER_KEY

SPEC = yaml.safe_load(open(os.path.join(os.path.dirname(__file__), "..", "..", "openapi", "openapi.yaml")))
ORDER = ["open", "reader", "lease", "admin"]
KEYS = {"reader": READER_KEY, "lease": API_KEY, "admin": ADMIN_KEY}
BODIES = {"/api/getNewNetwork": lambda: {"SessionId": "roles-" + uuid.uuid4().hex},
          "/api/releaseNetwork": lambda: {"SessionId": "roles-none"}, "/api/renewLease": lambda: {"SessionId": "roles-none"},
          "/api/reservations": lambda: {"prefixLength": 28, "owner": "roles-test", "reason": "walking every route"}}


def concrete(path):
    return path.replace("{leaseId}", str(uuid.uuid4())).replace("{sessionId}", "roles-none").replace("{principal}", "roles-principal").replace("{reservationId}", str(uuid.uuid4()))


def operations():
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "delete"):
                yield path, method.upper(), operation


def test_every_operation_declares_a_role():
    for path, method, operation in operations():
        assert operation.get("x-ipam-role") in ORDER, f"{method} {path} names no role"


def test_every_route_with_every_role(vendor):
    url, _ = vendor
    for path, method, operation in operations():
        needed = operation["x-ipam-role"]
        body = BODIES.get(path, lambda: None)()
        anonymous = requests.request(method, url + concrete(path), json=body, timeout=30)
        if needed == "open":
            assert anonymous.status_code not in (401, 403), f"{method} {path} is open: {anonymous.status_code}"
        else:
            assert anonymous.status_code == 401 and anonymous.headers.get("WWW-Authenticate") == "Bearer", f"{method} {path} without a key"
        for role, key in KEYS.items():
            answer = requests.request(method, url + concrete(path), json=body, headers={"x-functions-key": key}, timeout=30)
            if needed != "open" and ORDER.index(role) < ORDER.index(needed):
                assert answer.status_code == 403 and answer.json()["code"] == "Forbidden", f"{method} {path} as {role}: {answer.status_code} {answer.text}"
                assert str(403) in operation["responses"], f"{method} {path} does not document 403"
            else:
                assert answer.status_code not in (401, 403), f"{method} {path} as {role}: {answer.status_code} {answer.text}"


def test_named_keys_name_the_caller(vendor):
    url, _ = vendor
    assert requests.get(url + "/api/whoami", headers={"x-functions-key": READER_KEY}, timeout=30).json()["caller"] == "auditor"
    assert requests.get(url + "/api/whoami", headers={"x-functions-key": ADMIN_KEY}, timeout=30).json()["caller"] == "operator"
