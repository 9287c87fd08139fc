"""Starts `table-emulator` (in memory, ephemeral port) for the conformance suite, unless
IPAM_TEST_STORAGE names another endpoint (real Azurite or a storage account)."""
import os
import shutil
import subprocess
import uuid

import pytest
from azure.data.tables import TableServiceClient

DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def _binary():
    bin_dir = os.environ.get("IPAM_BIN_DIR") or os.path.join(os.path.dirname(__file__), "..", "..", ".build", "debug")
    return os.path.join(bin_dir, "table-emulator")


def _start(arguments, env=None):
    """Starts one of our executables and returns (process, the port it prints as 'port: N')."""
    process = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    for line in process.stdout:
        if line.startswith("port: "):
            return process, int(line.split()[1])
    raise AssertionError(f"{arguments[0]} did not report its port")


def _stop(process):
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="session")
def connection_string():
    configured = os.environ.get("IPAM_TEST_STORAGE")
    if configured:
        yield configured
        return
    process, port = _start([_binary(), "--port", "0", "--in-memory"])
    yield (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DEV_KEY};"
           f"TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;")
    _stop(process)


@pytest.fixture
def service(connection_string):
    return TableServiceClient.from_connection_string(connection_string)


@pytest.fixture
def table(service):
    name = "py" + uuid.uuid4().hex[:16]
    client = service.create_table(name)
    yield client
    service.delete_table(name)


SUBSCRIPTION = "11111111-1111-1111-1111-111111111111"
# An AWS scope beside the Azure ones (its own space): requests name it by accountId and region.
AWS_ACCOUNT = "123456789012"
API_KEY = "conformance-key"
READER_KEY = "conformance-reader-key"
ADMIN_KEY = "conformance-admin-key"


@pytest.fixture(scope="session")
def vendor(connection_string):
    """A `vendor` process (with an API key) on the suite's storage endpoint; yields (base URL, key)."""
    env = dict(os.environ)
    env.update({
        "AzureWebJobsStorage": connection_string,
        "IPAM_TABLE_NAME": "vendorpy" + uuid.uuid4().hex[:12],
        "CIDR_SIZE_MIN": "20", "CIDR_SIZE_MAX": "26", "CIDR_SIZE_DEFAULT": "24", "LEASE_DURATION_HOURS": "4",
        "SUPERNETS_CONFIG": '[{"subscriptionId":"%s","regions":[{"region":"eastus","supernets":["10.64.0.0/12","fd00:64::/40"],'
                            '"exclude":["10.64.0.0/24"]},{"region":"westeurope","supernets":["10.96.0.0/14"]}]},'
                            '{"cloud":"aws","accountId":"%s","regions":[{"region":"us-east-1","supernets":["10.128.0.0/16","fd00:128::/44"]}]}]'
                            % (SUBSCRIPTION, AWS_ACCOUNT),
        "SCOPE_CONFIG_MANIFEST": '{"defaultScope":{"subscriptionId":"%s","region":"eastus"},'
                                 '"scopes":[{"subscriptionId":"%s","region":"eastus","stock":{"24":4}}]}' % (SUBSCRIPTION, SUBSCRIPTION),
        "VENDOR_API_KEYS": API_KEY,
        "VENDOR_READER_KEYS": "auditor=" + READER_KEY,
        "VENDOR_ADMIN_KEYS": "operator=" + ADMIN_KEY,
        "AUDIT_SALT": "conformance-audit-salt-0123",
        "CONSOLE_SESSION_SECRET": "conformance-console-session-secret-0123456789",
        # The browser reaches this Vendor over plain http on 127.0.0.1: its console cookies cannot be Secure.
        "CONSOLE_PLAIN_HTTP": "true",
    })
    process, port = _start([os.path.join(os.path.dirname(_binary()), "vendor"), "serve", "--port", "0", "--log-level", "error"], env)
    yield f"http://127.0.0.1:{port}", API_KEY
    _stop(process)


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium (Debian's chromium through chromium-driver, driven by selenium) for every browser test
    of the session: starting one takes seconds on a loaded machine. Tests take it through `browser`."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
    yield driver
    driver.quit()


@pytest.fixture
def browser(chromium):
    """The session's Chromium, reset to what a new one would be for each test: on a blank page, at 1280x900, with
    no cookie of any site (every Vendor of the suite is on 127.0.0.1, whose cookies ignore the port; each has a
    cache of its own, its origin's), no permission granted (the clipboard's), and the browser log of earlier pages
    read away (assert_no_console_errors sees only this test's)."""
    chromium.get("about:blank")
    chromium.execute_cdp_cmd("Network.clearBrowserCookies", {})
    chromium.execute_cdp_cmd("Browser.resetPermissions", {})
    chromium.set_window_size(1280, 900)
    chromium.get_log("browser")
    return chromium
