"""The Vendor's Functions app carries every route of openapi/openapi.yaml: each path and method is matched
by exactly one function of functions/vendor-app (as the host matches routes, with host.json's
routePrefix), and each, sent the way the host forwards it (enableForwardingHttpRequest: the request as is,
with the function key and the host's headers), gets an answer the spec documents from a live Vendor."""
import glob
import json
import os
import re
import uuid

import requests
import yaml

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
SPEC = yaml.safe_load(open(os.path.join(ROOT, "openapi", "openapi.yaml")))
APP = os.path.join(ROOT, "functions", "vendor-app")


def functions():
    host = json.load(open(os.path.join(APP, "host.json")))
    prefix = host.get("extensions", {}).get("http", {}).get("routePrefix", "api").strip("/")
    assert host["customHandler"]["enableForwardingHttpRequest"] is True
    result = []
    for path in sorted(glob.glob(os.path.join(APP, "*", "function.json"))):
        trigger = next(b for b in json.load(open(path))["bindings"] if b["type"] == "httpTrigger")
        route = "/".join(part for part in (prefix, trigger["route"].strip("/")) if part)
        result.append((os.path.basename(os.path.dirname(path)), route, {m.upper() for m in trigger["methods"]}, trigger["authLevel"]))
    return result


def route_regex(route):
    """An ASP.NET route template as the Functions host matches it: {*x} takes the rest, {x:alpha} letters, {x} one segment."""
    pattern = ""
    for segment in route.split("/"):
        if segment.startswith("{*"):
            pattern += "/.+"
        elif re.fullmatch(r"\{\w+:alpha\}", segment):
            pattern += "/[A-Za-z]+"
        elif re.fullmatch(r"\{\w+\}", segment):
            pattern += "/[^/]+"
        else:
            pattern += "/" + re.escape(segment)
    return re.compile("^" + (pattern or "/") + "$")


def concrete(path):
    return path.replace("{leaseId}", str(uuid.uuid4())).replace("{sessionId}", "fn-route-check")


def operations():
    for path, item in SPEC["paths"].items():
        for method in item:
            if method in ("get", "post", "delete", "put", "patch"):
                yield path, method.upper()


def test_every_openapi_route_has_exactly_one_function():
    table = functions()
    for path, method in operations():
        if path == "/":
            continue  # the host answers its own ping of the handler
        url = concrete(path)
        matching = [(name, methods) for name, route, methods, _ in table if route_regex(route).match(url)]
        assert len(matching) == 1, f"{method} {path}: matched by {matching}"
        assert method in matching[0][1], f"{method} {path}: {matching[0][0]} does not accept {method}"


def test_api_routes_need_the_function_key_and_probes_do_not():
    for name, route, _, auth in functions():
        assert auth == ("function" if route.startswith("api/") else "anonymous"), f"{name}: authLevel {auth}"


def test_every_route_answers_as_the_host_forwards_it(vendor):
    url, key = vendor
    host_headers = {"x-functions-key": key, "X-Azure-Functions-InvocationId": str(uuid.uuid4()), "X-Forwarded-For": "203.0.113.7:52000",
                    "X-ARR-LOG-ID": str(uuid.uuid4()), "DISGUISED-HOST": "ipam-vendor.azurewebsites.net", "User-Agent": "curl/8"}
    bodies = {("/api/getNewNetwork", "POST"): {"SessionId": "fn-route-check"},
              ("/api/releaseNetwork", "POST"): {"SessionId": "fn-route-check"},
              ("/api/renewLease", "POST"): {"SessionId": "fn-route-check"}}
    for path, method in sorted(operations(), key=lambda op: op[0] != "/api/getNewNetwork"):
        body = bodies.get((path, method))
        response = requests.request(method, url + concrete(path), headers=host_headers, json=body, timeout=30)
        documented = SPEC["paths"][path][method.lower()]["responses"]
        assert str(response.status_code) in documented, f"{method} {path}: {response.status_code} {response.text}"
        code = response.json().get("code") if response.headers.get("content-type", "").startswith("application/json") else None
        assert code not in ("NotFound", "MethodNotAllowed"), f"{method} {path} did not reach its handler: {response.text}"
