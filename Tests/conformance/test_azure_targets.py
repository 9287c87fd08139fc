"""`table-emulator --azure-targets` as the official azure-data-tables SDK sees it: past a partition's or the
account's entities per second the answer is Azure's 503 `ServerBusy`, a refused request writes nothing (a
transaction neither), and the SDK's own retry policy sees the 503s, backs off and gets through."""
import json
import subprocess
import uuid

import pytest
from azure.core.exceptions import HttpResponseError
from azure.data.tables import TableServiceClient

from conftest import DEV_KEY, _binary, _start, _stop

# Small budgets so that a burst of requests from one test crosses them at once.
PARTITION_RATE = 3
ACCOUNT_RATE = 8


@pytest.fixture
def limited():
    process, port = _start([_binary(), "--port", "0", "--in-memory", "--azure-targets",
                            "--partition-entities-per-second", str(PARTITION_RATE),
                            "--account-entities-per-second", str(ACCOUNT_RATE)])
    yield (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DEV_KEY};"
           f"TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1;")
    _stop(process)


def _table(connection_string, **options):
    service = TableServiceClient.from_connection_string(connection_string, **options)
    return service, service.get_table_client("t" + uuid.uuid4().hex[:12])


def _read_back(connection_string, table_name, partition_key):
    """The row keys stored in one partition, read by a client whose retries wait out the budget."""
    service = TableServiceClient.from_connection_string(connection_string, retry_total=10, retry_backoff_factor=0.3)
    rows = service.get_table_client(table_name).query_entities(f"PartitionKey eq '{partition_key}'")
    return sorted(e["RowKey"] for e in rows)


def _refused(error):
    """Azure's answer past a target: 503 with `x-ms-error-code: ServerBusy` and the code in the Table error body."""
    return (isinstance(error, HttpResponseError) and error.status_code == 503
            and error.response.headers.get("x-ms-error-code") == "ServerBusy"
            and _body(error)["odata.error"]["code"] == "ServerBusy")


def _body(error):
    return json.loads(error.response.text())


def _message(error):
    return _body(error)["odata.error"]["message"]["value"]


def test_a_partition_past_its_target_answers_server_busy_and_keeps_nothing(limited):
    service, table = _table(limited, retry_total=0)
    service.create_table(table.table_name)
    outcomes = []
    for index in range(20):
        try:
            table.create_entity({"PartitionKey": "p", "RowKey": f"r{index}"})
            outcomes.append(f"r{index}")
        except HttpResponseError as error:
            outcomes.append(error)
    refusals = [o for o in outcomes if not isinstance(o, str)]
    assert refusals, "20 writes in a burst to one partition with a budget of 3 per second"
    for error in refusals:
        assert _refused(error), error
        assert _message(error).startswith("The server is currently unable to receive requests.")
        assert error.response.headers.get("x-ms-request-id")
        assert error.response.headers.get("x-ms-version")
    # Exactly the acknowledged writes are stored: a refused one left nothing.
    stored = _read_back(limited, table.table_name, "p")
    assert stored == sorted(o for o in outcomes if isinstance(o, str))


def test_the_account_budget_spans_partitions(limited):
    service, table = _table(limited, retry_total=0)
    service.create_table(table.table_name)
    messages = []
    for index in range(30):
        try:
            table.create_entity({"PartitionKey": f"p{index}", "RowKey": "r"})
        except HttpResponseError as error:
            assert _refused(error), error
            messages.append(_message(error))
    assert any(m.startswith("Operations per second is over the account limit.") for m in messages), messages


def test_a_refused_transaction_applies_no_operation(limited):
    service, table = _table(limited, retry_total=0)
    service.create_table(table.table_name)
    for key in ("a", "b", "c"):  # the partition's whole budget for this second
        table.create_entity({"PartitionKey": "q", "RowKey": key})
    operations = [("create", {"PartitionKey": "q", "RowKey": f"t{i}"}) for i in range(3)]
    with pytest.raises(HttpResponseError) as refused:
        table.submit_transaction(operations)
    assert refused.value.status_code == 503
    assert _read_back(limited, table.table_name, "q") == ["a", "b", "c"]


def test_the_sdks_retry_policy_backs_off_and_gets_through(limited):
    statuses = []
    service, table = _table(limited, retry_total=8, retry_backoff_factor=0.3,
                            raw_response_hook=lambda response: statuses.append(response.http_response.status_code))
    service.create_table(table.table_name)
    for index in range(8):
        table.upsert_entity({"PartitionKey": "p", "RowKey": f"r{index}", "n": index})
    assert 503 in statuses, statuses  # the SDK saw Azure's answer and retried it
    assert statuses[-1] == 204
    assert _read_back(limited, table.table_name, "p") == [f"r{i}" for i in range(8)]


def test_rate_options_need_the_targets_flag():
    finished = subprocess.run([_binary(), "--port", "0", "--in-memory", "--partition-entities-per-second", "5"],
                              capture_output=True, text=True, timeout=30)
    assert finished.returncode != 0
    assert "--azure-targets" in finished.stderr
