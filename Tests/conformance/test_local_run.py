"""The README's main command runs again: `scripts/run --smoke` twice in one checkout against one durable store
(every run empties it on purpose: `azurite/start --fresh`), with the local Table endpoint on a port that is not
Azurite's 10002, so that the processes reach it only if their connection string follows AZURITE_TABLE_PORT."""
import os
import socket
import subprocess

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_smoke(env):
    result = subprocess.run([os.path.join(ROOT, "scripts", "run"), "--smoke"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-6000:]
    assert "scripts/run --smoke: ok" in result.stdout
    return result.stdout


def stored_tables(folder):
    """The bytes of every file the table-emulator keeps under its durable folder."""
    data = b""
    for parent, _, files in os.walk(folder):
        for name in files:
            with open(os.path.join(parent, name), "rb") as file:
                data += file.read()
    return data


def test_the_demo_runs_twice_on_one_durable_store_on_another_table_port(tmp_path):
    table_port = free_port()
    data = tmp_path / "data"
    env = dict(os.environ, AZURITE_TABLE_PORT=str(table_port), VENDOR_PORT=str(free_port()), AZURITE_DATA_DIR=str(data))
    env.pop("AZURITE_TABLE_BIN", None)  # this project's table-emulator: its durable folder is known

    first = run_smoke(env)
    endpoint = f"TableEndpoint=http://127.0.0.1:{table_port}/devstoreaccount1"
    assert endpoint in first, "the processes' connection string names the endpoint's port"
    assert "UseDevelopmentStorage=true" not in first.split("Listening:")[1]
    kept = stored_tables(data / "table")
    assert b"networkCidr" in kept, "the Vendor wrote the inventory into this run's durable store"
    first_lease = first.split('"leaseId":"')[1].split('"')[0]
    assert first_lease.encode() in kept
    assert not (data / "table.pid").exists(), "the run stopped the endpoint it started"

    second = run_smoke(env)
    assert endpoint in second
    assert "== vending a network" in second and "the same request again answers 200" in second
    # The second run started from an empty store: the first run's leases are not in it.
    assert first_lease.encode() not in stored_tables(data / "table"), "the store was emptied before the second run"
