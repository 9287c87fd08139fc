"""The OCI image itself (scripts/image): built with podman, its filesystem exported (`podman create` + `podman
export`: this machine's sandbox refuses to start containers) and its binaries run inside it with `chroot
--userspec` as the image's non-root user, against servers on the host (loopback is shared under chroot): the
Vendor answers /healthz and /readyz and vends a block from a table-emulator, `manager run --once` completes
against the local Resource Graph and over an AWS scope of two regions (moto_server), the clients start, the schedule's time zones resolve, and nothing in the image
is writable by its user. Skips only where podman is missing (.ci/run installs it)."""
import ipaddress
import json
import os
import shutil
import signal
import stat
import subprocess
import time
import urllib.error
import urllib.request

import pytest

import boto3
from azure.data.tables import TableServiceClient

from conftest import DEV_KEY, SUBSCRIPTION, _binary, _start, _stop
from test_aws import ACCOUNT, KEYS, moto  # noqa: F401 (moto: the fixture, one for every file)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TAG = "localhost/ipam:latest"
UID = GID = 65532

pytestmark = pytest.mark.skipif(shutil.which("podman") is None,
                                reason="podman is missing (apt-get install -y podman; .ci/run installs it): "
                                       "the image is neither built nor tested here")


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """Builds the image, exports its filesystem; yields (the image's config, the exported root)."""
    if os.geteuid() != 0:
        pytest.fail("chroot --userspec needs root (CI runs as root): run this test as root")
    built = subprocess.run([os.path.join(ROOT, "scripts", "image"), "--tag", TAG], cwd=ROOT, capture_output=True,
                           text=True, timeout=3600)
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    print(built.stdout)
    config = json.loads(subprocess.check_output(["podman", "image", "inspect", TAG]))[0]["Config"]
    root = tmp_path_factory.mktemp("image") / "rootfs"
    root.mkdir()
    container = subprocess.check_output(["podman", "create", TAG], text=True).strip()
    try:
        archive = root.parent / "rootfs.tar"
        subprocess.run(["podman", "export", "-o", str(archive), container], check=True)
        subprocess.run(["tar", "-x", "-p", "--numeric-owner", "-f", str(archive), "-C", str(root)], check=True)
        archive.unlink()
    finally:
        subprocess.run(["podman", "rm", "-f", container], capture_output=True)
    # What every OCI runtime mounts in a container: /proc (Swift reads a program's arguments from
    # /proc/self/cmdline). It is the runtime's, not the image's: the walk below leaves it out.
    assert not (root / "proc").exists() or not os.listdir(root / "proc"), "the image ships a /proc of its own"
    (root / "proc").mkdir(mode=0o555, exist_ok=True)
    subprocess.run(["mount", "-t", "proc", "proc", str(root / "proc")], check=True)
    try:
        yield config, str(root)
    finally:
        subprocess.run(["umount", "-l", str(root / "proc")], check=True)
    shutil.rmtree(root, ignore_errors=True)


def inside(root, *arguments, env=None, **options):
    """Runs /usr/local/bin/ARGUMENTS[0] inside the exported image as its user, with only `env` for environment."""
    command = [shutil.which("chroot") or "/usr/sbin/chroot", f"--userspec={UID}:{GID}", root, f"/usr/local/bin/{arguments[0]}", *arguments[1:]]
    return command, dict({"PATH": "/usr/local/bin"}, **(env or {}))


def run_inside(root, *arguments, env=None, timeout=60):
    command, environment = inside(root, *arguments, env=env)
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=timeout)


def settings(storage):
    return {
        "AzureWebJobsStorage": storage,
        "IPAM_TABLE_NAME": "image" + os.urandom(6).hex(),
        "SUPERNETS_CONFIG": '[{"subscriptionId":"%s","regions":[{"region":"eastus","supernets":["10.64.0.0/14"]}]}]'
                            % SUBSCRIPTION,
        "SCOPE_CONFIG_MANIFEST": '{"defaultScope":{"subscriptionId":"%s","region":"eastus"},'
                                 '"scopes":[{"subscriptionId":"%s","region":"eastus","stock":{"24":2}}]}'
                                 % (SUBSCRIPTION, SUBSCRIPTION),
        "VENDOR_API_KEYS": "pipelines=image-test-key-0001",
        "AUDIT_SALT": "image-test-audit-salt-0123456789",
    }


@pytest.fixture(scope="module")
def storage():
    process, port = _start([_binary(), "--port", "0", "--in-memory"])
    yield (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DEV_KEY};"
           f"TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;")
    _stop(process)


def test_the_image_runs_the_vendor_as_a_numeric_non_root_user_without_a_shell(image):
    config, root = image
    assert config["User"] == f"{UID}:{GID}"
    assert config["Cmd"] == ["vendor", "serve", "--host", "0.0.0.0", "--port", "8080"]
    assert "8080/tcp" in config["ExposedPorts"]
    assert "PATH=/usr/local/bin" in config["Env"]
    for program in ["vendor", "manager", "ipam", "ipam-mcp"]:
        assert os.access(os.path.join(root, "usr/local/bin", program), os.X_OK), program
    for shell in ["bin/sh", "bin/bash", "bin/dash", "usr/bin/sh", "bin/busybox"]:
        assert not os.path.lexists(os.path.join(root, shell)), f"{shell} is in the image"
    assert f"ipam:x:{UID}:{GID}:" in open(os.path.join(root, "etc/passwd")).read()
    assert os.path.getsize(os.path.join(root, "etc/ssl/certs/ca-certificates.crt")) > 10000
    assert os.path.isfile(os.path.join(root, "usr/share/zoneinfo/Europe/London"))


def test_nothing_in_the_image_is_writable_by_its_user(image):
    _, root = image
    checked = 0
    for parent, folders, files in os.walk(root):
        if parent == root:
            folders.remove("proc")
        for name in folders + files:
            path = os.path.join(parent, name)
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                continue
            checked += 1
            where = os.path.relpath(path, root)
            assert info.st_uid != UID, f"{where} belongs to the image's user"
            assert not info.st_mode & stat.S_IWOTH, f"{where} is writable by anyone"
            assert not (info.st_gid == GID and info.st_mode & stat.S_IWGRP), f"{where} is writable by the user's group"
            assert not info.st_mode & (stat.S_ISUID | stat.S_ISGID), f"{where} is set-id"
    assert checked > 100


def test_the_vendor_serves_and_vends_and_stops_on_sigterm(image, storage):
    _, root = image
    command, env = inside(root, "vendor", "serve", "--host", "127.0.0.1", "--port", "0", env=settings(storage))
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        port = None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("port: "):
                port = int(line.split()[1])
                break
        assert port, f"exit {process.poll()}: " + "".join(lines)
        with open(f"/proc/{process.pid}/status") as status:
            uids = next(line for line in status if line.startswith("Uid:")).split()[1:]
        assert uids == [str(UID)] * 4, "the Vendor runs as the image's user"
        base = f"http://127.0.0.1:{port}"
        assert urllib.request.urlopen(base + "/healthz", timeout=10).status == 200
        assert urllib.request.urlopen(base + "/readyz", timeout=10).status == 200
        request = urllib.request.Request(base + "/api/getNewNetwork", method="POST",
                                         data=json.dumps({"SessionId": "image-test"}).encode(),
                                         headers={"content-type": "application/json",
                                                  "x-functions-key": "image-test-key-0001"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.status == 201
            lease = json.loads(answer.read())
        assert ipaddress.ip_network(lease["cidr"]).subnet_of(ipaddress.ip_network("10.64.0.0/14")), lease
        unauthorized = urllib.request.Request(base + "/api/getNewNetwork", method="POST", data=b"{}",
                                              headers={"content-type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(unauthorized, timeout=10)
        assert refused.value.code == 401
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0, "SIGTERM stops the Vendor gracefully"
        assert "vendor listening on http://127.0.0.1:" in "".join(lines), "logs go to standard output"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_the_manager_runs_once_against_the_local_resource_graph(image, storage):
    _, root = image
    bin_dir = os.path.dirname(_binary())
    graph, graph_port = _start([os.path.join(bin_dir, "arg-emulator"), "--port", "0"])
    try:
        env = dict(settings(storage), RESOURCE_GRAPH_ENDPOINT=f"http://127.0.0.1:{graph_port}",
                   RESOURCE_GRAPH_TOKEN="local")
        result = run_inside(root, "manager", "run", "--once", env=env, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "manager: run complete=true" in result.stdout, result.stdout
    finally:
        _stop(graph)


def test_the_manager_discovers_vpcs_in_two_regions_in_release(image, storage, moto):
    """The image's release `manager` over an AWS scope of two regions: each region's VPC inside the scope is
    recorded occupied. The debug builds the other tests use never showed it: in a release build a typed `do throws`
    inside EC2Discovery's task-group closure handed the group a corrupt result (a crash, or an empty listing)."""
    _, root = image
    regions = {"eu-west-1": "10.96.1.0/24", "us-east-2": "10.97.2.0/24"}
    for region, cidr in regions.items():
        ec2 = boto3.client("ec2", endpoint_url=moto, region_name=region, **{key.lower(): value for key, value in KEYS.items()})
        ec2.create_vpc(CidrBlock=cidr)
    env = dict(settings(storage), **KEYS)
    env.update({
        "SUPERNETS_CONFIG": json.dumps([{"cloud": "aws", "accountId": ACCOUNT, "regions": [
            {"region": "eu-west-1", "supernets": ["10.96.0.0/16"]}, {"region": "us-east-2", "supernets": ["10.97.0.0/16"]}]}]),
        "SCOPE_CONFIG_MANIFEST": json.dumps({"defaultScope": {"cloud": "aws", "accountId": ACCOUNT, "region": "eu-west-1"}}),
        "AWS_ENDPOINT_URL_EC2": moto, "AWS_ENDPOINT_URL_STS": moto,
    })
    for _ in range(3):  # more than once: the corruption did not show on every run
        result = run_inside(root, "manager", "run", "--once", env=env, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "manager: run complete=true" in result.stdout, result.stdout + result.stderr
    table = TableServiceClient.from_connection_string(storage).get_table_client(env["IPAM_TABLE_NAME"])
    for region, cidr in regions.items():
        partition = f"aws_{ACCOUNT}_{region}"
        occupied = [row for row in table.query_entities(f"PartitionKey eq '{partition}'")
                    if row["RowKey"].startswith("net_") and row.get("Cidr") == cidr]
        assert occupied and occupied[0]["State"] == "occupied", (region, occupied)


def test_the_clients_start(image):
    _, root = image
    version = run_inside(root, "ipam", "--version")
    spec = open(os.path.join(ROOT, "openapi", "openapi.yaml")).read()
    assert version.returncode == 0 and f"version: {version.stdout.strip()}\n" in spec, version.stdout + version.stderr
    mcp = run_inside(root, "ipam-mcp", "--help")
    assert mcp.returncode == 0 and "serve" in mcp.stdout, mcp.stderr


def test_the_schedule_resolves_iana_zones_inside_the_image(image):
    """The public-IP schedule's windows are local times in an IANA zone: 12:00 in London is the day window,
    and a zone that does not exist is refused."""
    _, root = image

    def schedule(zone):
        document = {"schedule_timezone": zone, "subscription_id": SUBSCRIPTION,
                    "vms": {"day": {"name": "vm-day", "resource_group": "rg"},
                            "night": {"name": "vm-night", "resource_group": "rg"}},
                    "public_ips": {"egress": {"name": "pip-egress", "resource_group": "rg"}},
                    "schedule": [{"start": "08:00", "end": "18:00", "vm": "day", "ip": "egress"},
                                 {"start": "18:00", "end": "08:00", "vm": "night", "ip": "egress"}]}
        return run_inside(root, "manager", "schedule", "--at", "12:00", "--date", "2026-07-01", "--json",
                          env={"PUBLIC_IP_SCHEDULE": json.dumps(document)})

    london = schedule("Europe/London")
    assert london.returncode == 0, london.stdout + london.stderr
    assert json.loads(london.stdout)["assignments"] == [{"vm": "day", "ip": "egress"}]
    nowhere = schedule("Mars/Olympus_Mons")
    assert nowhere.returncode != 0 and "Mars/Olympus_Mons" in nowhere.stdout + nowhere.stderr
