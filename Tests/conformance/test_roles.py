"""Every route of openapi/openapi.yaml, walked with no credential and with a key of every role: the role
each operation declares (`x-ipam-role`) is the one the Vendor enforces. The generated matrix at the end adds
bearer tokens of a local issuer and every spelling of each path, and checks that a refusal writes nothing."""
import base64
import http.server
import json
import os
import threading
import time
import uuid

import pytest
import requests
import yaml
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from conftest import ADMIN_KEY, API_KEY, READER_KEY, SUBSCRIPTION, _binary, _start, _stop

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


# The generated matrix: every operation × every kind of caller × every spelling of its path, against a Vendor
# that also takes bearer tokens of a local issuer; what is refused must change no table.

AUDIENCE = "api://ipam-conformance"


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Issuer:
    """An OpenID Connect issuer on a local port: metadata, a JWKS with one RSA key, and RS256 tokens."""

    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        numbers = self.key.public_key().public_numbers()
        jwk = {"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
               "n": _b64(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")), "e": _b64(numbers.e.to_bytes(3, "big"))}
        issuer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.endswith("/.well-known/openid-configuration"):
                    body = {"issuer": issuer.url, "jwks_uri": issuer.url + "/keys"}
                elif self.path.endswith("/keys"):
                    body = {"keys": [jwk]}
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tenant/v2.0"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, roles, subject="conformance-user", issuer=None, key=None):
        now = int(time.time())
        header = _b64(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "k1"}).encode())
        claims = _b64(json.dumps({"iss": issuer or self.url, "aud": AUDIENCE, "sub": subject, "roles": roles,
                                  "iat": now, "nbf": now - 10, "exp": now + 3600}).encode())
        signature = (key or self.key).sign(f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{header}.{claims}.{_b64(signature)}"

    def stop(self):
        self.server.shutdown()


@pytest.fixture(scope="module")
def token_vendor(connection_string):
    """A Vendor taking the suite's keys and the local issuer's tokens; yields (URL, its table name, the issuer)."""
    issuer = Issuer()
    table = "vendorauthz" + uuid.uuid4().hex[:10]
    env = dict(os.environ)
    env.update({
        "AzureWebJobsStorage": connection_string, "IPAM_TABLE_NAME": table, "AUDIT_SALT": "conformance-audit-salt-0123",
        "CIDR_SIZE_MIN": "20", "CIDR_SIZE_MAX": "28", "CIDR_SIZE_DEFAULT": "24", "LEASE_DURATION_HOURS": "4",
        "SUPERNETS_CONFIG": '[{"subscriptionId":"%s","regions":[{"region":"eastus","supernets":["10.80.0.0/14"]}]}]' % SUBSCRIPTION,
        "SCOPE_CONFIG_MANIFEST": '{"defaultScope":{"subscriptionId":"%s","region":"eastus"},'
                                 '"scopes":[{"subscriptionId":"%s","region":"eastus","stock":{"24":4}}]}' % (SUBSCRIPTION, SUBSCRIPTION),
        "VENDOR_API_KEYS": API_KEY, "VENDOR_READER_KEYS": "auditor=" + READER_KEY, "VENDOR_ADMIN_KEYS": "operator=" + ADMIN_KEY,
        "AUTH_JWT_ISSUER": issuer.url, "AUTH_JWT_AUDIENCE": AUDIENCE,
        "WEBHOOKS_CONFIG": '[{"name":"ops","url":"https://hooks.example.com/ipam","secret":"0123456789abcdef","events":["leased"]}]',
    })
    process, port = _start([os.path.join(os.path.dirname(_binary()), "vendor"), "serve", "--port", "0", "--log-level", "error"], env)
    yield f"http://127.0.0.1:{port}", table, issuer
    _stop(process)
    issuer.stop()


class SourceAddress(requests.adapters.HTTPAdapter):
    """Connects from a given local address (any of 127.0.0.0/8 reaches the Vendor on 127.0.0.1)."""

    def __init__(self, address):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


class Clients:
    """Sessions from many loopback addresses, taken in turn: the Vendor slows down failed keys per client
    address, and the matrix sends hundreds of them on purpose."""

    def __init__(self):
        self.sessions = []
        for host in range(2, 255):
            session = requests.Session()
            session.mount("http://", SourceAddress(f"127.0.0.{host}"))
            self.sessions.append(session)
        self.turn = 0

    def request(self, *args, **kwargs):
        self.turn += 1
        return self.sessions[self.turn % len(self.sessions)].request(*args, **kwargs)


def spellings(path):
    """The path and its other spellings: each must be the same route (role included) or no route at all."""
    result = [path, path + "/", "/" + path, path + "//", path.upper()]
    inner = path.find("/", 1)
    if inner > 0:
        result += [path[:inner] + "//" + path[inner + 1:], path[:inner] + "%2F" + path[inner + 1:]]
    return result


def outcome(answer):
    """'reached', 'unauthorized', 'forbidden', or None when no route was reached (the router's 404)."""
    try:
        body = answer.json()
    except ValueError:
        body = {}
    code = body.get("code") if isinstance(body, dict) else None
    if answer.status_code == 404 and code == "NotFound" and body.get("message") == "no such route":
        return None
    if answer.status_code == 401 and code == "Unauthorized" and answer.headers.get("WWW-Authenticate") == "Bearer":
        return "unauthorized"
    if answer.status_code == 403 and code == "Forbidden":
        return "forbidden"
    return "reached"


def snapshot(service, prefix):
    tables = {}
    for table in service.list_tables():
        if table.name.lower().startswith(prefix.lower()):
            client = service.get_table_client(table.name)
            tables[table.name] = sorted((e.metadata["etag"], e["PartitionKey"], e["RowKey"]) for e in client.list_entities())
    return tables


def test_generated_matrix_of_operations_callers_and_path_spellings(token_vendor, service):
    url, table, issuer = token_vendor
    foreign = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    callers = [  # (name, headers, the role the Vendor should see: None unauthenticated, "none" valid without a role)
        ("no credential", {}, None), ("wrong key", {"x-functions-key": "not-a-key"}, None),
        ("forged token", {"Authorization": "Bearer " + issuer.token(["IPAM.Admin"], key=foreign)}, None),
        ("token without a mapped role", {"Authorization": "Bearer " + issuer.token(["Something.Else"])}, "none"),
        ("reader key", {"x-functions-key": READER_KEY}, "reader"), ("lease key", {"Authorization": "Bearer " + API_KEY}, "lease"),
        ("admin key", {"x-functions-key": ADMIN_KEY}, "admin"),
        ("reader token", {"Authorization": "Bearer " + issuer.token(["IPAM.Reader"], "reader-sub")}, "reader"),
        ("lease token", {"Authorization": "Bearer " + issuer.token(["IPAM.Lease"], "lease-sub")}, "lease"),
        ("admin token", {"Authorization": "Bearer " + issuer.token(["IPAM.Admin"], "admin-sub")}, "admin"),
    ]

    def expected(needed, seen):
        if needed == "open":
            return "reached"
        if seen is None:
            return "unauthorized"
        if seen == "none" or ORDER.index(seen) < ORDER.index(needed):
            return "forbidden"
        return "reached"

    def concrete_path(path):
        return concrete(path).replace("{name}", "ops")

    clients = Clients()
    before = snapshot(service, table)
    assert before, "the Vendor's table exists"
    refused = 0
    for path, method, operation in operations():
        for name, headers, seen in callers:
            want = expected(operation["x-ipam-role"], seen)
            if want == "reached":
                continue
            for index, spelled in enumerate(spellings(concrete_path(path))):
                answer = clients.request(method, url + spelled, json=BODIES.get(path, lambda: None)(), headers=headers, timeout=30)
                got = outcome(answer)
                assert got == want or (index > 0 and got is None), f"{method} {spelled} as {name}: {answer.status_code} {answer.text}"
                refused += 1
    assert refused > 500
    assert snapshot(service, table) == before, "a refused request changed storage"
    for path, method, operation in operations():
        for name, headers, seen in callers:
            if expected(operation["x-ipam-role"], seen) != "reached":
                continue
            for index, spelled in enumerate(spellings(concrete_path(path))):
                answer = requests.request(method, url + spelled, json=BODIES.get(path, lambda: None)(), headers=headers, timeout=30)
                got = outcome(answer)
                assert got == "reached" or (index > 0 and got is None), f"{method} {spelled} as {name}: {answer.status_code} {answer.text}"
                assert answer.status_code != 405 and answer.status_code < 500, f"{method} {spelled} as {name}: {answer.status_code} {answer.text}"
