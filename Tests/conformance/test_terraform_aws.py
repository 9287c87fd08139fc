"""AWS end to end with the real Terraform CLI: `ipam lease new --json` in an AWS scope, `terraform apply` of the
module users run (examples/terraform/aws-vpc, copied as it is, with a `moto_override.tf` pointing the official
hashicorp/aws provider at moto_server), `manager run --once` anchors the VPC, `terraform destroy`, and after two
complete Syncs (RELEASE_GRACE_SECONDS=0: no waiting on the wall clock) the lease is released and its block
quarantined. A VPC made outside ipam (boto3) is recorded occupied and never vended; a region answering errors
(OptInRequired from a fault proxy in front of moto) makes its scope incomplete and nothing is released.

Nothing is downloaded: the provider comes from the local mirror (IPAM_TF_PLUGIN_MIRROR, default /opt/tf-plugins)
through a CLI configuration file of the test's own (TF_CLI_CONFIG_FILE)."""
import glob
import http.server
import json
import os
import shutil
import subprocess
import threading
import urllib.request
import uuid

import boto3
import pytest
from azure.data.tables import TableServiceClient

from conftest import _binary, _start, _stop
from test_aws import ACCOUNT, KEYS, moto  # noqa: F401 (moto: the fixture, one for both files)

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
MODULE = os.path.join(ROOT, "examples", "terraform", "aws-vpc")
BIN_DIR = os.path.dirname(_binary())
MIRROR = os.environ.get("IPAM_TF_PLUGIN_MIRROR", "/opt/tf-plugins")
REGION = "us-east-1"
PARTITION = f"aws_{ACCOUNT}_{REGION}"
API_KEY = "tf-aws-key"


def _mirror_has_aws():
    return bool(glob.glob(os.path.join(MIRROR, "registry.terraform.io", "hashicorp", "aws", "*", "*",
                                       "terraform-provider-aws_*")))


pytestmark = pytest.mark.skipif(
    not shutil.which("terraform") or not _mirror_has_aws(),
    reason="terraform or the hashicorp/aws provider mirror is missing (IPAM_TF_PLUGIN_MIRROR)")


def cli_config(directory):
    """A Terraform CLI configuration that installs hashicorp/aws from the local mirror only."""
    path = os.path.join(directory, "mirror.tfrc")
    with open(path, "w") as out:
        out.write('provider_installation {\n  filesystem_mirror {\n    path    = "%s"\n'
                  '    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n' % MIRROR)
    return path


def terraform_env(config):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "TF_"))}
    env.update({"TF_CLI_CONFIG_FILE": config, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"})
    return env


def terraform(directory, config, *arguments, timeout=900):
    result = subprocess.run(["terraform", *arguments, "-no-color"], cwd=directory, env=terraform_env(config),
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"terraform {arguments[0]}: {result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


class FaultProxy:
    """Forwards every request to moto, except EC2 calls signed for a region in `failing`: those get EC2's
    OptInRequired (the region is not enabled for the account), as AWS answers them."""

    def __init__(self, upstream):
        self.failing = set()
        self.failed = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                authorization = self.headers.get("Authorization", "")
                if any(f"/{region}/ec2/aws4_request" in authorization for region in proxy.failing):
                    proxy.failed += 1
                    answer = (b'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>OptInRequired'
                              b'</Code><Message>You are not subscribed to this service.</Message></Error></Errors>'
                              b'<RequestID>fault</RequestID></Response>')
                    self.send_response(401)
                    self.send_header("Content-Type", "text/xml")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                    return
                request = urllib.request.Request(upstream + self.path, data=body, method="POST", headers={
                    name: value for name, value in self.headers.items() if name.lower() not in ("host", "content-length")})
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        status, headers, payload = response.status, response.headers, response.read()
                except urllib.error.HTTPError as error:
                    status, headers, payload = error.code, error.headers, error.read()
                self.send_response(status)
                self.send_header("Content-Type", headers.get("Content-Type", "text/xml"))
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def ipam_env(connection_string, table, vendor_url, ec2_endpoint):
    """One environment for the Vendor, the Manager and `ipam`: an AWS scope (a /22, two /24s in stock) as the
    default, the Manager's EC2 through `ec2_endpoint` with moto's keys, and no release grace."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(KEYS)
    env.update({
        "AzureWebJobsStorage": connection_string, "IPAM_TABLE_NAME": table,
        "CIDR_SIZE_MIN": "20", "CIDR_SIZE_MAX": "26", "CIDR_SIZE_DEFAULT": "24", "LEASE_DURATION_HOURS": "4",
        "SUPERNETS_CONFIG": json.dumps([{"cloud": "aws", "accountId": ACCOUNT, "regions": [
            {"region": REGION, "supernets": ["10.80.0.0/22"]}]}]),
        "SCOPE_CONFIG_MANIFEST": json.dumps({
            "defaultScope": {"cloud": "aws", "accountId": ACCOUNT, "region": REGION},
            "scopes": [{"cloud": "aws", "accountId": ACCOUNT, "region": REGION, "stock": {"24": 2}}]}),
        "VENDOR_API_KEYS": API_KEY, "AUDIT_SALT": "tf-aws-audit-salt-0123456789",
        "AWS_ENDPOINT_URL_EC2": ec2_endpoint, "AWS_ENDPOINT_URL_STS": ec2_endpoint,
        "RELEASE_GRACE_SECONDS": "0", "IPAM_VENDOR_URL": vendor_url, "IPAM_API_KEY": API_KEY,
    })
    return env


def manager_once(env):
    result = subprocess.run([os.path.join(BIN_DIR, "manager"), "run", "--once", "--log-level", "warning"],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def rows(connection_string, table):
    """The AWS scope's network rows, by row key."""
    client = TableServiceClient.from_connection_string(connection_string).get_table_client(table)
    return {row["RowKey"]: row for row in client.query_entities(f"PartitionKey eq '{PARTITION}'")
            if row["RowKey"].startswith("net_")}


def row_of(connection_string, table, cidr):
    found = [row for row in rows(connection_string, table).values() if row.get("Cidr") == cidr]
    assert found, f"no row for {cidr}"
    return found[0]


def test_terraform_vpc_anchored_released_occupied_and_a_failing_region(moto, connection_string, tmp_path):
    table = "tfaws" + uuid.uuid4().hex[:12]
    proxy = FaultProxy(moto)
    vendor_env = ipam_env(connection_string, table, "", proxy.url)
    vendor, port = _start([os.path.join(BIN_DIR, "vendor"), "serve", "--port", "0", "--log-level", "error"],
                          vendor_env)
    try:
        env = ipam_env(connection_string, table, f"http://127.0.0.1:{port}", proxy.url)
        # The lease, as a user gets it: `ipam lease new --account --region --json` in the AWS scope.
        leased = subprocess.run([os.path.join(BIN_DIR, "ipam"), "lease", "new", "--session", "tf-aws-1", "--account",
                                 ACCOUNT, "--region", REGION, "--json"], env=env, capture_output=True, text=True,
                                timeout=60)
        assert leased.returncode == 0, leased.stdout + leased.stderr
        lease = json.loads(leased.stdout)
        assert lease["cloud"] == "aws" and lease["accountId"] == ACCOUNT and lease["scope"] == PARTITION, lease
        cidr, lease_id = lease["cidr"], lease["leaseId"]

        # The module as shipped, plus an override file pointing the provider at moto.
        work = tmp_path / "aws-vpc"
        shutil.copytree(MODULE, work, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
        (work / "moto_override.tf").write_text(
            'provider "aws" {\n  access_key = "%s"\n  secret_key = "%s"\n  skip_credentials_validation = true\n'
            '  skip_requesting_account_id = true\n  skip_metadata_api_check = true\n'
            '  endpoints {\n    ec2 = "%s"\n    sts = "%s"\n  }\n}\n'
            % (KEYS["AWS_ACCESS_KEY_ID"], KEYS["AWS_SECRET_ACCESS_KEY"], moto, moto))
        config = cli_config(str(tmp_path))
        terraform(work, config, "init", "-input=false")
        terraform(work, config, "apply", "-auto-approve", "-input=false", "-var", f"cidr={cidr}",
                  "-var", f"lease_id={lease_id}", "-var", f"region={REGION}")
        vpc_id = json.loads(terraform(work, config, "output", "-json"))["vpc_id"]["value"]

        # A VPC made outside ipam over a block in stock.
        ec2 = boto3.client("ec2", endpoint_url=moto, region_name=REGION, aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"])
        stock = sorted(row["Cidr"] for row in rows(connection_string, table).values()
                       if row.get("State") == "available")
        assert stock, "two /24s in stock"
        outside = stock[0]
        unmanaged = ec2.create_vpc(CidrBlock=outside)["Vpc"]["VpcId"]

        out = manager_once(env)
        assert "manager: run complete=true" in out, out
        anchored = row_of(connection_string, table, cidr)
        assert anchored["State"] == "anchored" and anchored.get("ResourceId") == vpc_id, anchored
        occupied = row_of(connection_string, table, outside)
        assert occupied["State"] == "occupied" and occupied.get("LockedBy") == unmanaged, occupied

        # The unmanaged VPC's block is never vended: every other block goes, then the scope is exhausted.
        vended = []
        for index in range(4):
            answer = subprocess.run([os.path.join(BIN_DIR, "ipam"), "lease", "new", "--session", f"tf-aws-fill-{index}",
                                     "--json"], env=env, capture_output=True, text=True, timeout=60)
            if answer.returncode != 0:
                break
            vended.append(json.loads(answer.stdout)["cidr"])
        assert vended and outside not in vended, vended

        terraform(work, config, "destroy", "-auto-approve", "-input=false", "-var", f"cidr={cidr}",
                  "-var", f"lease_id={lease_id}", "-var", f"region={REGION}")
        assert not any(vpc["VpcId"] == vpc_id for vpc in ec2.describe_vpcs()["Vpcs"])

        # The region answers OptInRequired: incomplete, named, nothing released however many runs.
        proxy.failing = {REGION}
        for _ in range(3):
            out = manager_once(env)
            assert "manager: run complete=false" in out, out
            assert f"incomplete scope aws/{ACCOUNT}/{REGION}" in out and "OptInRequired" in out, out
            row = row_of(connection_string, table, cidr)
            assert row["State"] == "anchored" and not row.get("MissingCount"), row
        assert proxy.failed >= 3

        # Answering again: two complete Syncs (grace 0) release the lease and quarantine its block.
        proxy.failing = set()
        out = manager_once(env)
        assert "manager: run complete=true" in out and "missing" in out, out
        assert row_of(connection_string, table, cidr)["State"] == "anchored"
        out = manager_once(env)
        assert "release" in out, out
        assert row_of(connection_string, table, cidr)["State"] == "quarantined"
        assert row_of(connection_string, table, outside)["State"] == "occupied", "the unmanaged VPC is still there"
        shown = subprocess.run([os.path.join(BIN_DIR, "ipam"), "lease", "show", lease_id, "--json"], env=env,
                               capture_output=True, text=True, timeout=60)
        assert shown.returncode == 0 and json.loads(shown.stdout)["state"] == "quarantined", shown.stdout
    finally:
        _stop(vendor)
        proxy.close()


def test_module_validates_with_the_mirror(tmp_path):
    """What CI runs for every Terraform directory whose providers the mirror has: init from the mirror, validate."""
    work = tmp_path / "aws-vpc"
    shutil.copytree(MODULE, work, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    config = cli_config(str(tmp_path))
    terraform(work, config, "init", "-input=false", "-backend=false")
    assert "Success" in terraform(work, config, "validate")
