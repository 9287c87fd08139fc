"""The AWS client layer (Sources/AWSClient) against independent peers: moto_server, an AWS API emulator, with VPCs
created by boto3; and botocore's own SigV4 signer for the same requests. Nothing here is home-made on the far side."""
import datetime
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from unittest import mock

import boto3
import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

BIN_DIR = os.environ.get("IPAM_BIN_DIR") or os.path.join(os.path.dirname(__file__), "..", "..", ".build", "debug")
IPAM_DEV = os.path.join(BIN_DIR, "ipam-dev")
ACCOUNT = "123456789012"  # moto's default account
REGION = "eu-west-1"
KEYS = {"AWS_ACCESS_KEY_ID": "AKIDCONFORMANCE", "AWS_SECRET_ACCESS_KEY": "conformance-secret"}


def _moto_server():
    """moto_server from the venv (scripts/setup-python installs moto[server]), else from the PATH."""
    local = os.path.join(os.path.dirname(sys.executable), "moto_server")
    return local if os.path.exists(local) else shutil.which("moto_server")


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def moto():
    """A moto_server on a loopback port; yields its URL. CI installs moto (requirements.txt): it is never skipped."""
    binary = _moto_server()
    assert binary, "moto_server is missing: run scripts/setup-python (Tests/conformance/requirements.txt has moto[server])"
    port = _free_port()
    process = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                assert process.poll() is None, "moto_server exited"
                time.sleep(0.1)
        else:
            raise AssertionError("moto_server did not listen")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # its threads can outlive the SIGTERM handler
            process.kill()
            process.wait(timeout=10)


def _ec2(url):
    return boto3.client("ec2", endpoint_url=url, region_name=REGION, aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"])


def _ipam_dev(*arguments, env_extra=None):
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(KEYS)
    env.update(env_extra or {})
    return subprocess.run([IPAM_DEV, "aws", *arguments], capture_output=True, text=True, env=env, timeout=120)


def _expected(ec2):
    """What boto3 itself reads (every page), reduced to what the Swift client reports: associated blocks only."""
    vpcs = []
    for page in ec2.get_paginator("describe_vpcs").paginate():
        for vpc in page["Vpcs"]:
            vpcs.append({
                "id": vpc["VpcId"], "ownerId": vpc["OwnerId"],
                "ipv4CidrBlocks": [a["CidrBlock"] for a in vpc.get("CidrBlockAssociationSet", [])
                                   if a["CidrBlockState"]["State"] == "associated"],
                "ipv6CidrBlocks": [a["Ipv6CidrBlock"] for a in vpc.get("Ipv6CidrBlockAssociationSet", [])
                                   if a["Ipv6CidrBlockState"]["State"] == "associated"],
                "tags": {tag["Key"]: tag["Value"] for tag in vpc.get("Tags", [])},
            })
    return sorted(vpcs, key=lambda v: v["id"])


def test_describe_vpcs_lists_exactly_what_boto3_created(moto):
    ec2 = _ec2(moto)
    created = []
    for index in range(12):  # more than two pages of --page-size 5
        created.append(ec2.create_vpc(CidrBlock=f"10.{index}.0.0/16")["Vpc"]["VpcId"])
    dual = ec2.create_vpc(CidrBlock="10.100.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]["VpcId"]
    gone = ec2.associate_vpc_cidr_block(VpcId=dual, CidrBlock="10.101.0.0/16")["CidrBlockAssociation"]
    ec2.associate_vpc_cidr_block(VpcId=dual, CidrBlock="10.102.0.0/16")
    ec2.disassociate_vpc_cidr_block(AssociationId=gone["AssociationId"])
    ec2.create_tags(Resources=[dual], Tags=[{"Key": "ipam-lease-id", "Value": "lease & <1>"},
                                            {"Key": "Name", "Value": "dual stack ሴ"}])

    run = _ipam_dev("describe-vpcs", "--json", "--region", REGION, "--account-id", ACCOUNT, "--page-size", "5",
                    env_extra={"AWS_ENDPOINT_URL_EC2": moto})
    assert run.returncode == 0, run.stderr
    listed = sorted(json.loads(run.stdout)["vpcs"], key=lambda v: v["id"])

    assert listed == _expected(ec2)
    by_id = {vpc["id"]: vpc for vpc in listed}
    assert set(created) | {dual} <= set(by_id)
    assert by_id[dual]["ipv4CidrBlocks"] == ["10.100.0.0/16", "10.102.0.0/16"]  # 10.101/16 was disassociated
    assert len(by_id[dual]["ipv6CidrBlocks"]) == 1 and by_id[dual]["ipv6CidrBlocks"][0].endswith("/56")
    assert by_id[dual]["tags"] == {"ipam-lease-id": "lease & <1>", "Name": "dual stack ሴ"}
    assert by_id[created[3]]["ipv4CidrBlocks"] == ["10.3.0.0/16"]
    assert all(vpc["ownerId"] == ACCOUNT for vpc in listed)


def test_unreachable_endpoint_is_a_failure_naming_account_and_region():
    port = _free_port()  # nothing listens there
    run = _ipam_dev("describe-vpcs", "--json", "--region", REGION, "--account-id", ACCOUNT, "--attempts", "2",
                    env_extra={"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"})
    assert run.returncode == 3
    assert run.stdout == ""
    assert f"AWS account {ACCOUNT} region {REGION}" in run.stderr


FIXED = datetime.datetime(2015, 8, 30, 12, 36, 0)


@pytest.mark.parametrize("method,url,headers,body", [
    ("POST", "https://ec2.eu-west-1.amazonaws.com/", {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
     "Action=DescribeVpcs&Version=2016-11-15&MaxResults=5&NextToken=a%2Fb%2Bc%3D"),
    ("GET", "http://127.0.0.1:5000/?Version=2016-11-15&Action=DescribeVpcs&Filter.1.Name=tag-key&Filter.1.Value.1=x", {}, ""),
    ("GET", "https://sts.amazonaws.com/a/./b/../c//d/?b=2&a=1&a=0&tilde=~x-y_z.w", {"My-Header": "  two   spaces  "}, ""),
])
@pytest.mark.parametrize("token", [None, "FQoGZXIvYXdzEXAMPLE//token+with/slashes=="])
def test_sign_agrees_with_botocore(method, url, headers, body, token):
    credentials = Credentials(KEYS["AWS_ACCESS_KEY_ID"], KEYS["AWS_SECRET_ACCESS_KEY"], token)
    request = AWSRequest(method=method, url=url, headers=dict(headers), data=body.encode())
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=FIXED):
        botocore.auth.SigV4Auth(credentials, "ec2", REGION).add_auth(request)
    arguments = ["sign", "--method", method, "--url", url, "--region", REGION, "--service", "ec2",
                 "--date", "20150830T123600Z", "--body", body]
    for name, value in headers.items():
        arguments += ["--header", f"{name}: {value}"]
    run = _ipam_dev(*arguments, env_extra={"AWS_SESSION_TOKEN": token} if token else None)
    assert run.returncode == 0, run.stderr
    signed = json.loads(run.stdout)["headers"]
    assert signed["X-Amz-Date"] == request.headers["X-Amz-Date"] == "20150830T123600Z"
    assert signed.get("X-Amz-Security-Token") == (token and request.headers["X-Amz-Security-Token"])
    assert signed["Authorization"] == request.headers["Authorization"]


OTHER_ACCOUNT = "111111111111"
ROLE = f"arn:aws:iam::{OTHER_ACCOUNT}:role/ipam-reader"


def _other_account_vpc(moto):
    """A VPC made by boto3 in OTHER_ACCOUNT: moto keeps one world per account, reached with an assumed role's keys."""
    sts = boto3.client("sts", endpoint_url=moto, region_name=REGION, aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"])
    assumed = sts.assume_role(RoleArn=ROLE, RoleSessionName="peer")["Credentials"]
    ec2 = boto3.client("ec2", endpoint_url=moto, region_name=REGION, aws_access_key_id=assumed["AccessKeyId"],
                       aws_secret_access_key=assumed["SecretAccessKey"], aws_session_token=assumed["SessionToken"])
    vpc = ec2.create_vpc(CidrBlock="10.200.0.0/16")["Vpc"]["VpcId"]
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "ipam-lease-id", "Value": "other-account"}])
    return ec2, vpc


def test_assume_role_lists_the_other_accounts_vpcs(moto):
    ec2, vpc = _other_account_vpc(moto)
    run = _ipam_dev("describe-vpcs", "--json", "--region", REGION, "--account-id", OTHER_ACCOUNT, "--role-arn", ROLE,
                    "--external-id", "ext-1", env_extra={"AWS_ENDPOINT_URL": moto})
    assert run.returncode == 0, run.stderr
    listed = sorted(json.loads(run.stdout)["vpcs"], key=lambda v: v["id"])
    assert listed == _expected(ec2)
    assert vpc in {v["id"] for v in listed}
    assert all(v["ownerId"] == OTHER_ACCOUNT for v in listed)


def test_web_identity_token_file_and_role_arn(moto, tmp_path):
    ec2, vpc = _other_account_vpc(moto)
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6aXBhbTppcGFtIn0.c2ln\n")
    env = {"AWS_ENDPOINT_URL": moto, "AWS_WEB_IDENTITY_TOKEN_FILE": str(token), "AWS_ROLE_ARN": ROLE,
           "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
    run = subprocess.run([IPAM_DEV, "aws", "describe-vpcs", "--json", "--region", REGION, "--account-id", OTHER_ACCOUNT],
                         capture_output=True, text=True, timeout=120,
                         env={**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
                              **{k: v for k, v in env.items() if v}})
    assert run.returncode == 0, run.stderr
    listed = sorted(json.loads(run.stdout)["vpcs"], key=lambda v: v["id"])
    assert listed == _expected(ec2)
    assert vpc in {v["id"] for v in listed}


class _CredentialsEndpoint:
    """A local stand-in for the ECS container credentials endpoint and EC2 instance metadata (IMDSv2 only), on a
    real socket, handing out credentials moto's STS issued for OTHER_ACCOUNT; records what it was asked."""

    def __init__(self, credentials):
        import http.server
        import threading
        body = json.dumps({"AccessKeyId": credentials["AccessKeyId"], "SecretAccessKey": credentials["SecretAccessKey"],
                           "Token": credentials["SessionToken"],
                           "Expiration": credentials["Expiration"].strftime("%Y-%m-%dT%H:%M:%SZ")}).encode()
        seen = self.seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self, status, payload):
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_PUT(self):
                seen.append(("PUT", self.path, dict(self.headers)))
                ok = self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
                self._answer(200 if ok else 400, b"imds-session" if ok else b"")

            def do_GET(self):
                seen.append(("GET", self.path, dict(self.headers)))
                if self.path == "/ecs/creds":
                    ok = self.headers.get("Authorization") == "ecs-secret-token"
                    self._answer(200 if ok else 401, body if ok else b"{}")
                elif self.path.startswith("/latest/meta-data/iam/security-credentials/"):
                    if self.headers.get("X-aws-ec2-metadata-token") != "imds-session":
                        self._answer(401, b"")
                    elif self.path.endswith("/"):
                        self._answer(200, b"ipam-node-role")
                    elif self.path.endswith("/ipam-node-role"):
                        self._answer(200, body)
                    else:
                        self._answer(404, b"")
                else:
                    self._answer(404, b"")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _other_account_credentials(moto):
    sts = boto3.client("sts", endpoint_url=moto, region_name=REGION, aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"])
    return sts.assume_role(RoleArn=ROLE, RoleSessionName="endpoint")["Credentials"]


def _describe_without_keys(moto, env):
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.run([IPAM_DEV, "aws", "describe-vpcs", "--json", "--region", REGION, "--account-id", OTHER_ACCOUNT],
                          capture_output=True, text=True, timeout=120,
                          env={**base, "AWS_ENDPOINT_URL": moto, **env})


@pytest.mark.parametrize("source", ["ecs", "imds"])
def test_credentials_from_the_container_endpoint_and_instance_metadata(moto, source):
    ec2, vpc = _other_account_vpc(moto)
    endpoint = _CredentialsEndpoint(_other_account_credentials(moto))
    try:
        if source == "ecs":
            env = {"AWS_CONTAINER_CREDENTIALS_FULL_URI": endpoint.url + "/ecs/creds",
                   "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ecs-secret-token"}
        else:
            env = {"AWS_EC2_METADATA_SERVICE_ENDPOINT": endpoint.url}
        run = _describe_without_keys(moto, env)
        assert run.returncode == 0, run.stderr
        listed = sorted(json.loads(run.stdout)["vpcs"], key=lambda v: v["id"])
        assert listed == _expected(ec2)
        assert vpc in {v["id"] for v in listed}
        if source == "imds":
            assert [(method, path) for method, path, _ in endpoint.seen[:3]] == [
                ("PUT", "/latest/api/token"), ("GET", "/latest/meta-data/iam/security-credentials/"),
                ("GET", "/latest/meta-data/iam/security-credentials/ipam-node-role")]
    finally:
        endpoint.close()


def test_plain_http_container_endpoint_off_loopback_is_refused(moto):
    run = _describe_without_keys(moto, {"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://203.0.113.7/creds"})
    assert run.returncode != 0
    assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" in run.stderr


def test_paging_retries_and_signatures_on_the_wire():
    """A local EC2 endpoint on a real socket that checks every request's signature with botocore, answers
    DescribeVpcs in three pages and throttles the second page once: the listing is complete, in order, and every
    request as curl sent it is signed right."""
    import http.server
    import threading
    from urllib.parse import parse_qsl

    pages = {None: (["vpc-a", "vpc-b"], "page+2/="), "page+2/=": (["vpc-c", "vpc-d"], "p3"), "p3": (["vpc-e"], None)}
    seen, throttled = [], []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            form = dict(parse_qsl(body.decode(), keep_blank_values=True))
            authorization = self.headers["Authorization"]
            signed_names = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
            request = AWSRequest(method="POST", url=f"http://{self.headers['Host']}{self.path}", data=body,
                                 headers={name: self.headers[name] for name in signed_names})
            request.context["timestamp"] = self.headers["X-Amz-Date"]
            auth = botocore.auth.SigV4Auth(Credentials(KEYS["AWS_ACCESS_KEY_ID"], KEYS["AWS_SECRET_ACCESS_KEY"]),
                                           "ec2", REGION)
            expected = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
            seen.append((form, authorization.endswith("Signature=" + expected)))
            token = form.get("NextToken")
            if token == "page+2/=" and not throttled:
                throttled.append(True)
                payload, status = (b"<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>slow down"
                                   b"</Message></Error></Errors><RequestID>r</RequestID></Response>"), 503
            else:
                ids, following = pages[token]
                items = "".join(
                    f"<item><vpcId>{i}</vpcId><ownerId>{ACCOUNT}</ownerId><cidrBlockAssociationSet><item>"
                    f"<cidrBlock>10.{ord(i[-1])}.0.0/16</cidrBlock><cidrBlockState><state>associated</state>"
                    f"</cidrBlockState></item></cidrBlockAssociationSet><tagSet/></item>" for i in ids)
                nxt = f"<nextToken>{following}</nextToken>" if following else ""
                payload = f'<?xml version="1.0" encoding="UTF-8"?><DescribeVpcsResponse><vpcSet>{items}</vpcSet>{nxt}</DescribeVpcsResponse>'.encode()
                status = 200
            self.send_response(status)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        run = _ipam_dev("describe-vpcs", "--json", "--region", REGION, "--account-id", ACCOUNT, "--page-size", "5",
                        env_extra={"AWS_ENDPOINT_URL_EC2": f"http://127.0.0.1:{server.server_address[1]}",
                                   "AWS_SESSION_TOKEN": "session/token+=="})
    finally:
        server.shutdown()
        server.server_close()
    assert run.returncode == 0, run.stderr
    assert [vpc["id"] for vpc in json.loads(run.stdout)["vpcs"]] == ["vpc-a", "vpc-b", "vpc-c", "vpc-d", "vpc-e"]
    assert [form.get("NextToken") for form, _ in seen] == [None, "page+2/=", "page+2/=", "p3"]
    assert all(form["MaxResults"] == "5" and form["Action"] == "DescribeVpcs" for form, _ in seen)
    assert all(valid for _, valid in seen), seen
