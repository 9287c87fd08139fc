"""Starts `table-emulator` (in memory, ephemeral port) for the conformance suite, unless
IPAM_TEST_STORAGE names another endpoint (real Azurite or a storage account)."""
import os
import subprocess
import uuid

import pytest
from azure.data.tables import TableServiceClient

DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def _binary():
    bin_dir = os.environ.get("IPAM_BIN_DIR") or os.path.join(os.path.dirname(__file__), "..", "..", ".build", "debug")
    return os.path.join(bin_dir, "table-emulator")


@pytest.fixture(scope="session")
def connection_string():
    configured = os.environ.get("IPAM_TEST_STORAGE")
    if configured:
        yield configured
        return
    process = subprocess.Popen([_binary(), "--port", "0", "--in-memory"], stdout=subprocess.PIPE, text=True)
    port = None
    for line in process.stdout:
        if line.startswith("port: "):
            port = int(line.split()[1])
            break
    assert port, "table-emulator did not report its port"
    yield (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DEV_KEY};"
           f"TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;")
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def service(connection_string):
    return TableServiceClient.from_connection_string(connection_string)


@pytest.fixture
def table(service):
    name = "py" + uuid.uuid4().hex[:16]
    client = service.create_table(name)
    yield client
    service.delete_table(name)
