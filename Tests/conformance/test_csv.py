"""`ipam export` and `ipam import` against Python's `csv` module, an independent RFC 4180 reader and writer: what
ipam writes, Python reads as the API answered it (formulas defused); what Python writes, with every quoting it
does, ipam imports. The Vendor is the suite's; this test keeps to westeurope's 10.99.0.0/16."""
import csv
import io
import json
import os
import subprocess
import uuid

import requests

from conftest import ADMIN_KEY, READER_KEY, SUBSCRIPTION, _binary

RANGE = "10.99."


def _ipam(vendor, key, *arguments):
    env = dict(os.environ, IPAM_VENDOR_URL=vendor[0], IPAM_API_KEY=key)
    # Bytes, decoded here: text mode would turn the CRLF line ends into LF before csv saw them.
    answer = subprocess.run([os.path.join(os.path.dirname(_binary()), "ipam"), *arguments], capture_output=True,
                            env=env, timeout=120)
    return subprocess.CompletedProcess(answer.args, answer.returncode, answer.stdout.decode(), answer.stderr.decode())


def _vnet(name):
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/{name}"


def test_python_csv_writes_what_ipam_imports_and_reads_what_ipam_exports(vendor, tmp_path):
    tag = uuid.uuid4().hex[:8]
    rows = [
        {"cidr": "10.99.8.0/22", "sessionId": f"py-{tag}-1", "resourceId": _vnet(f"py-{tag}-1"), "region": "westeurope",
         "requester": '=HYPERLINK("http://evil.example"), "quoted"', "tag:note": "line one\nline two"},
        {"cidr": "10.99.12.0/22", "sessionId": f"py-{tag}-2", "resourceId": _vnet(f"py-{tag}-2"), "region": "westeurope",
         # A comma followed by a combining mark: one character, but a comma to every CSV reader.
         "requester": "+plain,\u0301 with comma", "tag:note": '=x, "q"'},
    ]
    path = tmp_path / "networks.csv"
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:  # a byte order mark, as Excel writes
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(rows)

    dry = _ipam(vendor, READER_KEY, "import", str(path), "--dry-run", "--json")
    planned = json.loads(dry.stdout)
    # A line break in a tag's value is refused as the Vendor refuses it; the second row would be adopted.
    assert [row["outcome"] for row in planned["rows"]] == ["error", "would-adopt"], dry.stdout
    assert planned["rows"][0]["field"] == "tag:note" and planned["rows"][0]["row"] == 2 and dry.returncode == 1

    rows[0]["tag:note"] = "one line"
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(rows)
    done = _ipam(vendor, ADMIN_KEY, "import", str(path), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["summary"]["adopted"] == 2

    exported = _ipam(vendor, READER_KEY, "export", "--region", "westeurope", "--within", "10.99.0.0/16")
    assert exported.returncode == 0 and "\r\n" in exported.stdout
    records = list(csv.DictReader(io.StringIO(exported.stdout, newline="")))
    mine = {record["sessionId"]: record for record in records if record["sessionId"].startswith(f"py-{tag}")}
    assert mine[f"py-{tag}-1"]["requester"] == "'" + rows[0]["requester"], "a formula is defused with a quote"
    assert mine[f"py-{tag}-2"]["requester"] == "'+plain,\u0301 with comma"
    assert all(None not in record and len(record) == 14 for record in records), "no cell spilled into another column"
    assert json.loads(mine[f"py-{tag}-1"]["tags"]) == {"note": "one line"}
    assert json.loads(mine[f"py-{tag}-2"]["tags"]) == {"note": '=x, "q"'}, "a tag's value is JSON inside the cell"
    assert mine[f"py-{tag}-1"]["resourceId"] == rows[0]["resourceId"] and mine[f"py-{tag}-1"]["cidr"] == "10.99.8.0/22"

    # The API's own listing says the same as the file, column by column.
    listed = requests.get(vendor[0] + "/api/leases", params={"region": "westeurope", "within": "10.99.0.0/16"},
                          headers={"Authorization": "Bearer " + READER_KEY}, timeout=30).json()["leases"]
    by_session = {lease["sessionId"]: lease for lease in listed}
    for session, record in mine.items():
        lease = by_session[session]
        for column in ("cidr", "state", "leaseId", "scope", "leasedAt", "expiresAt", "resourceId", "pool"):
            assert record[column] == (lease.get(column) or ""), (column, record, lease)
        assert record["prefixLength"] == str(lease["prefixLength"]) and json.loads(record["tags"]) == lease["tags"]

    again = _ipam(vendor, ADMIN_KEY, "import", str(path), "--json")
    assert [row["outcome"] for row in json.loads(again.stdout)["rows"]] == ["unchanged", "unchanged"], again.stdout
