"""The console's tables in a real browser (issue 24 points 4 and 6): the leases table sorted by each column (the rows
really in that order, both ways, aria-sort on the sorted header), its filters narrowing the rows and surviving a
reload from the URL, its CSV equal to what is shown; the lease page's address history, host addresses and members;
the drift page's compliance and next-run columns; the audit log's filters and paging; axe on each page."""
import csv
import io
import ipaddress
import json
import os
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests
from azure.data.tables import TableServiceClient
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select

from conftest import ADMIN_KEY, API_KEY, AWS_ACCOUNT, READER_KEY, SUBSCRIPTION, _binary, _start, _stop
from test_console import assert_axe_passes, assert_no_console_errors, click_and_wait, session_cookies, sign_in

EAST, WEST, AWS = f"{SUBSCRIPTION}_eastus", f"{SUBSCRIPTION}_westeurope", f"aws_{AWS_ACCOUNT}_us-east-1"
COLUMNS = ["cidr", "state", "lease", "session", "scope", "requester", "pool", "tags", "size", "network", "expiry"]


@pytest.fixture(scope="module")
def tables(connection_string):
    """A Vendor of its own table (so the tables hold only this module's leases) with two pools in eastus; yields
    (base URL, table name)."""
    table = "consoletables" + uuid.uuid4().hex[:12]
    env = dict(os.environ)
    env.update({
        "AzureWebJobsStorage": connection_string, "IPAM_TABLE_NAME": table,
        "CIDR_SIZE_MIN": "20", "CIDR_SIZE_MAX": "28", "CIDR_SIZE_DEFAULT": "24", "LEASE_DURATION_HOURS": "4",
        "SUPERNETS_CONFIG": '[{"subscriptionId":"%s","regions":[{"region":"eastus","supernets":["10.64.0.0/12"]},'
                            '{"region":"westeurope","supernets":["10.96.0.0/14"]}]},'
                            '{"cloud":"aws","accountId":"%s","regions":[{"region":"us-east-1","supernets":["10.128.0.0/16"]}]}]'
                            % (SUBSCRIPTION, AWS_ACCOUNT),
        "SCOPE_CONFIG_MANIFEST": '{"defaultScope":{"subscriptionId":"%s","region":"eastus"}}' % SUBSCRIPTION,
        "POOLS_CONFIG": '[{"name":"team-a","cidr":"10.64.128.0/17"},{"name":"team-b","cidr":"10.65.0.0/16"}]',
        "VENDOR_API_KEYS": API_KEY, "VENDOR_READER_KEYS": "auditor=" + READER_KEY,
        "VENDOR_ADMIN_KEYS": "operator=" + ADMIN_KEY, "AUDIT_SALT": "conformance-audit-salt-0123",
        "CONSOLE_SESSION_SECRET": "conformance-console-session-secret-0123456789", "CONSOLE_PLAIN_HTTP": "true",
    })
    process, port = _start([os.path.join(os.path.dirname(_binary()), "vendor"), "serve", "--port", "0", "--log-level", "error"], env)
    yield f"http://127.0.0.1:{port}", table
    _stop(process)


def api(url, method, path, key=API_KEY, **body):
    answer = requests.request(method, url + path, json=body or None, headers={"x-functions-key": key}, timeout=30)
    assert answer.status_code in (200, 201), f"{method} {path}: {answer.status_code} {answer.text}"
    return answer.json()


def lease(url, **fields):
    return api(url, "POST", "/api/getNewNetwork", SessionId="tables-" + uuid.uuid4().hex, **fields)


@pytest.fixture(scope="module")
def leases(tables):
    """Leases that differ in every column: scopes, requesters (mixed case, none), tags, pools, sizes, a network."""
    url, _ = tables
    made = [
        lease(url, prefixLength=24, requester="bravo", tags={"env": "prod"}, pool="team-a"),
        lease(url, prefixLength=26, requester="Alpha", tags={"env": "dev", "app": "x"}, pool="team-b"),
        lease(url, prefixLength=25, requester="charlie"),
        lease(url, prefixLength=24, subscriptionId=SUBSCRIPTION, region="westeurope", requester="delta", tags={"env": "prod"}),
        lease(url, prefixLength=27, accountId=AWS_ACCOUNT, region="us-east-1"),
        api(url, "POST", "/api/adoptNetwork", key=ADMIN_KEY, SessionId="tables-adopt-" + uuid.uuid4().hex,
            cidr="10.128.200.0/24", accountId=AWS_ACCOUNT, region="us-east-1", resourceId="vpc-0123456789abcdef0"),
    ]
    return made


def cell_texts(driver, rows_selector):
    """The text of each `td` of each row `rows_selector` finds, as WebDriver's element text gives it (rendered text,
    no-break spaces as spaces, trimmed), read by one script instead of a round trip per cell; rows without cells
    are left out. Each row: [its data-cidr attribute or None, [cell texts]]."""
    return driver.execute_script("""return [...document.querySelectorAll(arguments[0])]
        .map(row => [row.getAttribute('data-cidr'),
                     [...row.querySelectorAll('td')].map(td => td.innerText.replace(/\u00a0/g, ' ').trim())])
        .filter(([, cells]) => cells.length > 0)""", rows_selector)


def table_rows(driver):
    """The leases table's rows: each a dict of column → the cell's text, in the table's order."""
    return [dict(zip(COLUMNS, cells), cidr=cidr) for cidr, cells in cell_texts(driver, "#leases tr[data-cidr]")]


def sort_key(column, text):
    """How the Vendor orders a column's cells (ConsoleTables' LeaseOrdering): addresses and sizes as numbers,
    times as times, text without case."""
    if column == "cidr":
        network = ipaddress.ip_network(text)
        return (network.version, int(network.network_address), network.prefixlen)
    if column == "size":
        return int(text.split()[0].lstrip("/"))
    return text.lower()


def assert_ordered(rows, column, descending):
    values = [row[column] for row in rows]
    filled = [value for value in values if value]
    # Empty cells (an AWS lease's requester, an anchored lease's expiry) come last in either order.
    assert values == filled + [""] * (len(values) - len(filled)), (column, values)
    keys = [sort_key(column, value) for value in filled]
    assert keys == sorted(keys, reverse=descending), (column, descending, values)


def test_each_column_sorts_the_rows_both_ways(tables, leases, browser):
    url, _ = tables
    sign_in(browser, url, READER_KEY)
    browser.get(url + "/console/leases")
    shown = {row["cidr"] for row in table_rows(browser)}
    assert {made["cidr"] for made in leases} <= shown
    assert not browser.find_elements(By.CSS_SELECTOR, "#leases th[aria-sort]"), "unsorted: no header claims an order"
    for column in COLUMNS:
        for descending in (False, True):
            # A click on the header sorts ascending; a second click on it reverses the order.
            click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, f'#leases th[data-sort="{column}"] a'))
            order = "desc" if descending else "asc"
            assert f"sort={column}" in browser.current_url and f"order={order}" in browser.current_url, browser.current_url
            sorted_headers = browser.find_elements(By.CSS_SELECTOR, "#leases th[aria-sort]")
            assert [(h.get_attribute("data-sort"), h.get_attribute("aria-sort")) for h in sorted_headers] == [
                (column, "descending" if descending else "ascending")]
            rows = table_rows(browser)
            assert {row["cidr"] for row in rows} == shown, "sorting neither adds nor drops a row"
            assert_ordered(rows, column, descending)
    assert_no_console_errors(browser, "sorted leases")
    assert_axe_passes(browser, "leases sorted by expiry")


def test_the_new_columns_show_each_lease(tables, leases, browser):
    url, _ = tables
    sign_in(browser, url, READER_KEY)
    browser.get(url + "/console/leases")
    rows = {row["cidr"]: row for row in table_rows(browser)}
    first, second, adopted = rows[leases[0]["cidr"]], rows[leases[1]["cidr"]], rows[leases[5]["cidr"]]
    assert (first["requester"], first["pool"], first["tags"], first["size"]) == ("bravo", "team-a", "env=prod", "/24")
    assert (second["pool"], second["tags"], second["size"]) == ("team-b", "app=x, env=dev", "/26")
    assert adopted["network"] == "vpc-0123456789abcdef0" and adopted["scope"] == f"aws/{AWS_ACCOUNT}/us-east-1"
    # Long ids and scope keys stay on one line (the table scrolls in its own box instead).
    row = f'#leases tr[data-cidr="{leases[0]["cidr"]}"]'
    for column in (3, 4, 5, 11):
        cell = browser.find_element(By.CSS_SELECTOR, f"{row} td:nth-child({column})")
        assert cell.value_of_css_property("white-space") == "nowrap", column
    link = browser.find_element(By.CSS_SELECTOR, f"{row} td:nth-child(3) a")
    assert browser.execute_script("return arguments[0].getClientRects().length", link) == 1, "the lease id on one line"


def test_filters_narrow_the_rows_and_survive_a_reload(tables, leases, browser):
    url, _ = tables
    sign_in(browser, url, READER_KEY)
    browser.get(url + "/console/leases")
    Select(browser.find_element(By.ID, "f-pool")).select_by_visible_text("team-a")
    click_and_wait(browser, browser.find_element(By.ID, "apply-filters"))
    assert "pool=team-a" in browser.current_url
    assert [row["cidr"] for row in table_rows(browser)] == [leases[0]["cidr"]]
    # Each filter from the form narrows the rows; the URL reproduces the page after a reload.
    cases = [
        ({"f-tag": "env=prod"}, {}, {leases[0]["cidr"], leases[3]["cidr"]}),
        ({"f-requester": "charlie"}, {}, {leases[2]["cidr"]}),
        ({"f-within": "10.128.0.0/16"}, {}, {leases[4]["cidr"], leases[5]["cidr"]}),
        ({}, {"f-scope": f"aws/{AWS_ACCOUNT}/us-east-1"}, {leases[4]["cidr"], leases[5]["cidr"]}),
        ({"f-tag": "env"}, {"f-scope": EAST}, {leases[0]["cidr"], leases[1]["cidr"]}),
    ]
    for typed, chosen, expected in cases:
        browser.get(url + "/console/leases")
        for field, text in typed.items():
            browser.find_element(By.ID, field).send_keys(text)
        for field, label in chosen.items():
            Select(browser.find_element(By.ID, field)).select_by_visible_text(label)
        click_and_wait(browser, browser.find_element(By.ID, "apply-filters"))
        assert {row["cidr"] for row in table_rows(browser)} == expected, (typed, chosen)
        address = browser.current_url
        browser.get("about:blank")
        browser.get(address)
        assert {row["cidr"] for row in table_rows(browser)} == expected, f"after a reload of {address}"
        for field, text in typed.items():
            assert browser.find_element(By.ID, field).get_attribute("value") == text
        for field, label in chosen.items():
            assert Select(browser.find_element(By.ID, field)).first_selected_option.text == label
    # A header link keeps the filters; the sort survives a reload with them.
    browser.get(url + f"/console/leases?scope={EAST}")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, '#leases th[data-sort="requester"] a'))
    assert f"scope={EAST}" in browser.current_url and "sort=requester" in browser.current_url
    before = [row["cidr"] for row in table_rows(browser)]
    browser.get(browser.current_url)
    assert [row["cidr"] for row in table_rows(browser)] == before and all(c.startswith("10.6") for c in before)
    # Hostile values: a clear refusal naming the parameter, never a crash or another scope's leases.
    for query, said in [("sort=password", "'password' is not a column to sort by"), ("order=sideways", "'order' is asc or desc"),
                        ("offset=99999999999999999999", "'offset' must be a whole number"), ("pool=nope", "no pool 'nope'"),
                        ("state=%3Cscript%3E", "is not a state")]:
        browser.get(url + "/console/leases?" + query)
        assert browser.title.startswith("Something went wrong") and said in browser.page_source, query
        assert "<script>" not in browser.page_source
    assert_axe_passes(browser, "leases refusal")
    # The refusals are 400s, which the browser logs as failed loads: the answers, not page errors.
    assert all(entry["source"] == "network" and "400" in entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE")


def table_tags(cell):
    """The tags a CSV cell holds (a JSON object), as the leases table shows them: `key=value`, by key."""
    return ", ".join(f"{key}={value}" for key, value in sorted(json.loads(cell).items()))


def test_the_csv_is_what_is_shown(tables, leases, browser):
    url, _ = tables
    sign_in(browser, url, READER_KEY)
    for query in ["", "sort=requester&order=desc", "tag=env&sort=expiry", f"scope={AWS}&sort=network&order=asc", "pool=team-b"]:
        browser.get(url + "/console/leases?" + query)
        shown = table_rows(browser)
        link = browser.find_element(By.ID, "csv").get_attribute("href")
        for part in [p for p in query.split("&") if p]:
            assert part in link, (part, link)
        answer = requests.get(link, cookies=session_cookies(browser), timeout=30)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
        records = list(csv.DictReader(io.StringIO(answer.text)))
        assert [r["cidr"] for r in records] == [row["cidr"] for row in shown], query
        for record, row in zip(records, shown):
            assert (record["state"], record["leaseId"], record["requester"], record["expiresAt"]) == (
                row["state"], row["lease"], row["requester"], row["expiry"]), query
            assert record["resourceId"].endswith(row["network"]), query
            # The table's pool, size and tags columns: the pool's name, the prefix length, the tags' JSON object.
            assert record["pool"] == row["pool"], query
            assert row["size"].split(" + ")[0] == "/" + record["prefixLength"], query
            assert table_tags(record["tags"]) == row["tags"], query
        assert any(record["pool"] for record in records) or query.startswith("scope=aws"), query
    # Its columns are `ipam export --leases`' (API.LeaseCSV): the old ones in their order, then pool, size and tags.
    assert answer.text.splitlines()[0] == ("cidr,state,leaseId,sessionId,scope,requester,leasedAt,expiresAt,anchoredAt,"
                                           "resourceId,cidrV6,pool,prefixLength,tags")


def test_the_csv_tags_cell_gives_back_hostile_tags(tables, browser):
    """Tag names and values with commas, quotes, a leading `=`, `-` or `@` and a non-ASCII character: Python's csv
    module and json.loads read the CSV's tags cell back as the API answers the tags, and the cells beside it stay in
    their columns. (A line break in a tag the API refuses, as every control character; WireCodingTests writes one
    through the cell and reads it back.)"""
    url, _ = tables
    hostile = {"note": '=1+2, "q" @x', "env": "dev", "a,b": '-"', "\u00e9t\u00e9": "@SUM(1)"}
    made = lease(url, prefixLength=27, requester="=tags-test", tags=hostile, pool="team-a")
    stored = api(url, "GET", f"/api/leases/{made['leaseId']}", key=READER_KEY)
    assert stored["tags"] == hostile and stored["pool"] == "team-a", stored
    sign_in(browser, url, READER_KEY)
    answer = requests.get(url + "/console/leases.csv?requester=%3Dtags-test", cookies=session_cookies(browser), timeout=30)
    assert answer.status_code == 200, answer.text
    records = list(csv.DictReader(io.StringIO(answer.text, newline="")))
    assert len(records) == 1 and None not in records[0] and len(records[0]) == 14, records
    record = records[0]
    assert json.loads(record["tags"]) == hostile and list(json.loads(record["tags"])) == sorted(hostile)
    assert (record["leaseId"], record["pool"], record["prefixLength"], record["requester"]) == (
        made["leaseId"], "team-a", "27", "'=tags-test")


def test_the_lease_page_shows_its_history_host_addresses_and_members(tables, browser):
    url, _ = tables
    made = lease(url, prefixLength=24, requester="hosts-test")
    address = api(url, "POST", f"/api/leases/{made['leaseId']}/ips")
    sign_in(browser, url, ADMIN_KEY)
    browser.get(url + f"/console/leases/{made['leaseId']}")
    history = browser.find_element(By.ID, "address-history")
    rows = history.find_elements(By.CSS_SELECTOR, f'tr[data-cidr="{made["cidr"]}"]')
    assert rows and "leased" in rows[0].text and "hosts-test" in rows[0].text, history.text
    hosts = browser.find_element(By.ID, "host-addresses").text
    assert address["ip"] in hosts, hosts
    members = browser.find_element(By.ID, "lease-members").text
    assert "owner" in members, members
    # The page's history is the API's.
    api_history = requests.get(url + f"/api/history?leaseId={made['leaseId']}", headers={"x-functions-key": READER_KEY}, timeout=30).json()
    assert len(rows) == sum(len(entry["states"]) for entry in api_history["entries"] if entry["cidr"] == made["cidr"])
    assert_axe_passes(browser, "lease page")
    assert_no_console_errors(browser, "lease page")
    # A reader is no member: told why, as the API would answer, and shown nothing of them.
    sign_in(browser, url, READER_KEY)
    browser.get(url + f"/console/leases/{made['leaseId']}")
    assert "Not shown" in browser.find_element(By.ID, "hosts-note").text
    assert not browser.find_elements(By.ID, "host-addresses") and address["ip"] not in browser.page_source
    assert browser.find_elements(By.ID, "address-history")
    assert_axe_passes(browser, "lease page as a reader")


def test_drift_findings_have_their_compliance_and_next_run(tables, connection_string, browser):
    url, table = tables
    client = TableServiceClient.from_connection_string(connection_string).get_table_client(table)
    findings = [
        {"kind": "stale-lease", "scope": EAST, "cidr": "10.64.9.0/24", "detail": "lease x of session y expired 2026-12-01T00:00:00.000Z; next run: reap"},
        {"kind": "occupied", "scope": EAST, "cidr": "10.64.250.0/24", "detail": "used by vnet-foreign"},
        {"kind": "stale-lease", "scope": WEST, "cidr": "10.96.9.0/24", "detail": "lease z of session w expired 2026-12-01T00:00:00.000Z; within the reap grace (900 s)"},
    ]
    client.upsert_entity({"PartitionKey": "manager", "RowKey": "status", "RunAt": datetime.now(timezone.utc), "Complete": True,
                          "DriftCount": len(findings), "Drift": json.dumps(findings), "Problems": "[]", "Process": "conformance",
                          "LastCompleteSyncAt": datetime.now(timezone.utc)})
    client.upsert_entity({"PartitionKey": EAST, "RowKey": "compliance_test_foreign", "ResourceId": "/subscriptions/s/virtualNetworks/vnet-foreign",
                          "Cidrs": "10.64.250.0/24", "Status": "unmanaged", "Reason": "no lease names it", "LeaseId": ""})
    sign_in(browser, url, READER_KEY)
    browser.get(url + "/console/drift")
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#drift th")]
    assert headers == ["Kind", "Scope", "CIDR", "Detail", "Compliance", "Next run"]
    rows = {cells[2].text: cells for cells in (row.find_elements(By.TAG_NAME, "td") for row in browser.find_elements(By.CSS_SELECTOR, "#drift tr")) if cells}
    assert rows["10.64.9.0/24"][5].text.startswith("Reap it"), rows["10.64.9.0/24"][5].text
    assert rows["10.64.9.0/24"][4].text.startswith("not listed")
    assert rows["10.64.250.0/24"][4].text.startswith("unmanaged") and "vnet-foreign" in rows["10.64.250.0/24"][4].text
    assert rows["10.64.250.0/24"][5].text.startswith("Nothing while the network uses the block")
    assert "within the reap grace (900 s)" in rows["10.96.9.0/24"][5].text
    assert_axe_passes(browser, "drift with findings")
    assert_no_console_errors(browser, "drift with findings")


def test_audit_filters_and_paging(tables, browser):
    url, _ = tables
    start = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=1)
    made = [lease(url, prefixLength=28, subscriptionId=SUBSCRIPTION, region="westeurope", requester="audit-paging") for _ in range(56)]
    since = start.strftime("%Y-%m-%dT%H:%M:%S")
    expected = requests.get(url + "/api/events", params={"scope": WEST, "since": start.isoformat().replace("+00:00", "Z"), "limit": 1000},
                            headers={"x-functions-key": READER_KEY}, timeout=30).json()["events"]
    assert len(expected) >= 56
    sign_in(browser, url, READER_KEY)
    browser.get(url + "/console/audit")
    Select(browser.find_element(By.ID, "a-scope")).select_by_value(WEST)
    browser.execute_script("arguments[0].value = arguments[1]", browser.find_element(By.ID, "a-since"), since)
    click_and_wait(browser, browser.find_element(By.ID, "apply-audit-filters"))
    assert f"scope={WEST}" in browser.current_url and "since=" in browser.current_url, browser.current_url
    seen = []
    pages = 0
    while True:
        pages += 1
        cells = [cells for _, cells in cell_texts(browser, "#events tr")]
        assert 0 < len(cells) <= 50
        assert all(cell[3] == WEST for cell in cells), "every event of the chosen scope"
        seen += [(cell[0], cell[1], cell[4]) for cell in cells]
        # A datetime-local input shows whole minutes without ":00" (the browser's value sanitization), so compare times.
        kept = browser.find_element(By.ID, "a-since").get_attribute("value")
        assert datetime.fromisoformat(kept) == datetime.fromisoformat(since), f"the filter is kept on every page: {kept!r}"
        following = browser.find_elements(By.ID, "next-page")
        if not following:
            break
        assert f"scope={WEST}" in following[0].get_attribute("href")
        click_and_wait(browser, following[0])
        assert browser.find_elements(By.ID, "first-page"), "a later page links back to the first"
    assert pages >= 2
    assert seen == [(e["at"], e["action"], e["cidr"]) for e in expected], "the pages together are the API's listing, once each"
    # A reload of a later page's URL gives the same page.
    last = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#events tr td:first-child")]
    browser.get(browser.current_url)
    assert [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#events tr td:first-child")] == last
    # The lease filter narrows to one lease's events; its actor's to theirs; a window before them shows none.
    browser.get(url + f"/console/audit?leaseId={made[0]['leaseId']}")
    lease_rows = browser.find_elements(By.CSS_SELECTOR, "#events tr td:nth-child(7)")
    assert lease_rows and all(td.text == made[0]["leaseId"] for td in lease_rows)
    assert browser.find_element(By.ID, "a-lease").get_attribute("value") == made[0]["leaseId"]
    actor = browser.find_element(By.CSS_SELECTOR, "#events tr td:nth-child(3)").text
    browser.get(url + f"/console/audit?scope={WEST}&actor={requests.utils.quote(actor)}&since={since}")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#events tr td:nth-child(3)")) == 50
    assert browser.find_element(By.ID, "a-actor").get_attribute("value") == actor
    browser.get(url + f"/console/audit?scope={WEST}&until={(start - timedelta(days=1)).strftime('%Y-%m-%dT%H:%M')}&since={(start - timedelta(days=2)).strftime('%Y-%m-%dT%H:%M')}")
    assert "No events match." in browser.find_element(By.ID, "events").text
    assert_axe_passes(browser, "audit log filtered")
    # Inverted windows and impossible times: a clear refusal, not a crash.
    for query, said in [(f"since={since}&until={(start - timedelta(hours=1)).strftime('%Y-%m-%dT%H:%M')}", "'until' is before 'since'"),
                        ("since=99999-01-01T00:00", "'since' must be a time"), ("until=2026-12-01T25:00", "'until' must be a time"),
                        ("action=drop-table", "is not an action"), ("leaseId=%3Cscript%3E", "is not a lease id")]:
        browser.get(url + "/console/audit?" + query)
        assert browser.title.startswith("Something went wrong") and said in browser.page_source, query
        assert "<script>" not in browser.page_source
    assert all(entry["source"] == "network" and "400" in entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE")
