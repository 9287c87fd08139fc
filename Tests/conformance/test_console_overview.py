"""The console's overview in a real browser (Debian's chromium, selenium): the dashboard's headline numbers are the
API's, its time axes read left to right with dates, a click on a chart's part opens the table it stands for; the
address-space map draws a /28 beside a /18 (both visible, to scale), tells each block's details on hover and why
it cannot be had, hides used blocks on request, does not scroll sideways at 1280 px, and axe-core finds nothing."""
import json
import os
import re
import uuid
from datetime import datetime

import pytest
import requests
from selenium.webdriver.common.by import By

from conftest import ADMIN_KEY, API_KEY, READER_KEY, SUBSCRIPTION, _binary, _start, _stop
from test_console import assert_axe_passes, assert_no_console_errors, click_and_wait, sign_in
from test_history_usage import manager_once

SCOPE = f"{SUBSCRIPTION}_eastus"
POOL, POOL_CIDR = "team", "10.40.128.0/17"
HOOK = "overview-hook"


@pytest.fixture(scope="module")
def overview(connection_string):
    """A Vendor of its own: a /16 with an exclusion and a pool, a webhook, a big and a small lease outside the pool
    and one in it, then one Manager run (usage samples, its status, the webhook's cursor). Yields (url, leases)."""
    env = dict(os.environ)
    env.update({
        "AzureWebJobsStorage": connection_string,
        "IPAM_TABLE_NAME": "overview" + uuid.uuid4().hex[:12],
        "CIDR_SIZE_MIN": "18", "CIDR_SIZE_MAX": "28", "CIDR_SIZE_DEFAULT": "24", "LEASE_DURATION_HOURS": "4",
        "SUPERNETS_CONFIG": json.dumps([{"subscriptionId": SUBSCRIPTION, "regions": [
            {"region": "eastus", "supernets": ["10.40.0.0/16"], "exclude": ["10.40.126.0/24"]}]}]),
        "SCOPE_CONFIG_MANIFEST": json.dumps({"defaultScope": {"subscriptionId": SUBSCRIPTION, "region": "eastus"}}),
        "POOLS_CONFIG": json.dumps([{"name": POOL, "subscriptionId": SUBSCRIPTION, "region": "eastus", "cidr": POOL_CIDR}]),
        "WEBHOOKS_CONFIG": json.dumps([{"name": HOOK, "url": "http://127.0.0.1:9/hook", "secret": "overview-webhook-secret-0123", "events": ["*"]}]),
        "VENDOR_API_KEYS": API_KEY, "VENDOR_READER_KEYS": "auditor=" + READER_KEY, "VENDOR_ADMIN_KEYS": "operator=" + ADMIN_KEY,
        "AUDIT_SALT": "conformance-overview-salt-0123",
        "CONSOLE_SESSION_SECRET": "conformance-console-session-secret-0123456789", "CONSOLE_PLAIN_HTTP": "true",
    })
    process, port = _start([os.path.join(os.path.dirname(_binary()), "vendor"), "serve", "--port", "0", "--log-level", "error"], env)
    url = f"http://127.0.0.1:{port}"
    try:
        made = {
            "big": lease(url, prefixLength=18, requester="team-big"),
            "small": lease(url, prefixLength=28, requester="team-small"),
            "pooled": lease(url, prefixLength=24, requester="team-pool", pool=POOL),
        }
        manager_once(env)
        yield url, made
    finally:
        _stop(process)


def lease(url, **fields):
    answer = requests.post(url + "/api/getNewNetwork", json={"SessionId": "overview-" + uuid.uuid4().hex, **fields},
                           headers={"x-functions-key": API_KEY}, timeout=30)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def api(url, path, key=READER_KEY, **params):
    answer = requests.get(url + path, params=params, headers={"x-functions-key": key}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def api_lease_count(url, state):
    count, token = 0, None
    while True:
        page = api(url, "/api/leases", state=state, limit=500, **({"continuation": token} if token else {}))
        count += len(page["leases"])
        token = page.get("continuation")
        if not token:
            return count


def test_the_headline_numbers_are_the_apis(overview, browser):
    url, _ = overview
    sign_in(browser, url, READER_KEY)
    browser.get(url + "/console")
    assert_no_console_errors(browser, "dashboard")
    cards = {card.get_attribute("data-state"): card for card in browser.find_elements(By.CSS_SELECTOR, "#headline-numbers li[data-state]")}
    assert set(cards) >= {"leased", "anchored", "quarantined", "released", "expired"}, list(cards)
    total = 0
    for state, card in cards.items():
        shown = int(card.find_element(By.CLASS_NAME, "n").text)
        assert shown == api_lease_count(url, state), state
        assert card.find_element(By.TAG_NAME, "a").get_attribute("href").endswith(f"/console/leases?state={state}")
        total += shown
    assert total >= 3 and browser.find_element(By.CSS_SELECTOR, "#lease-total .n").text == str(total)
    pools = api(url, "/api/pools")["pools"]
    assert browser.find_element(By.CSS_SELECTOR, "#free-v4 .n").text == str(sum(p["freeAddresses"] for p in pools))
    # Days left per area: the 7-day forecast of GET /api/usage, for the scope's own space and the pool.
    rows = browser.find_elements(By.CSS_SELECTOR, "#runways tr[data-scope]")
    assert {(row.get_attribute("data-pool"), row.get_attribute("data-version")) for row in rows} == {("", "v4"), (POOL, "v4")}
    for row in rows:
        query = {"pool": row.get_attribute("data-pool")} if row.get_attribute("data-pool") else {}
        outlook = api(url, "/api/usage", **query)["forecast"]["unusedAddresses"]["last7Days"]
        assert row.get_attribute("data-status") == outlook["status"], (query, outlook)
        days = row.find_element(By.CLASS_NAME, "days").text
        assert days == ("%.1f" % outlook["daysLeft"] if outlook.get("daysLeft") is not None else "–"), (days, outlook)
    # Drift findings: the drift page's count; the webhook's dead letters and retries: its deliveries.
    drift = browser.find_element(By.CSS_SELECTOR, "#drift-count .n").text
    deliveries = api(url, f"/api/webhooks/{HOOK}/deliveries", key=ADMIN_KEY)
    webhook = browser.find_element(By.CSS_SELECTOR, f'p.webhook[data-webhook="{HOOK}"]').text
    assert f"{len(deliveries['deadLetters'])} dead letters" in webhook, webhook
    assert f"{sum(1 for c in deliveries['cursors'] if c['attempts'] > 0)} scopes retrying" in webhook, webhook
    assert "events waiting" in browser.find_element(By.CSS_SELECTOR, "#webhook-backlog .n").text
    browser.get(url + "/console/drift")
    caption = browser.find_element(By.CSS_SELECTOR, "#drift caption").text
    assert caption.startswith(f"{drift} findings"), (drift, caption)


def test_time_axes_read_left_to_right_with_dates(overview, browser):
    url, _ = overview
    sign_in(browser, url, READER_KEY)
    browser.get(url + "/console")
    charts = [chart for chart in browser.find_elements(By.CSS_SELECTOR, "svg.chart") if chart.find_elements(By.CSS_SELECTOR, "g.tick")]
    assert len(charts) >= 4, "the hourly and daily bars and a utilization chart per area"
    for chart in charts:
        ticks = chart.find_elements(By.CSS_SELECTOR, "g.tick")
        assert len(ticks) >= 2
        times = [datetime.fromisoformat(tick.get_attribute("data-time").replace("Z", "+00:00")) for tick in ticks]
        lefts = [tick.find_element(By.TAG_NAME, "text").rect["x"] for tick in ticks]
        labels = [tick.find_element(By.TAG_NAME, "text").text for tick in ticks]
        assert times == sorted(times) and len(set(times)) == len(times), times
        assert lefts == sorted(lefts) and len(set(lefts)) == len(lefts), (labels, lefts)
        for label, moment in zip(labels, times):
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?", label), label
            assert label.startswith(moment.strftime("%Y-%m-%d")), (label, moment)
    # The bars stand oldest first, and the newest is the current hour: the leases just made are in it.
    bars = browser.find_elements(By.CSS_SELECTOR, "svg.chart rect.bar[data-start]")
    hourly = bars[:24]
    starts = [bar.get_attribute("data-start") for bar in hourly]
    assert starts == sorted(starts) and int(hourly[-1].get_attribute("data-count")) >= 3, starts


def test_a_click_on_a_chart_part_opens_the_filtered_table(overview, browser):
    url, made = overview
    sign_in(browser, url, READER_KEY)
    browser.get(url + "/console")
    segment = browser.find_element(By.CSS_SELECTOR, '#headline-numbers svg a rect[data-state="leased"]')
    click_and_wait(browser, segment)
    assert browser.current_url.endswith("/console/leases?state=leased"), browser.current_url
    states = {cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "#leases tr[data-cidr] td.state")}
    assert states == {"leased"}, states
    # A requester's bar opens that requester's leases, and only theirs.
    browser.get(url + "/console")
    bar = browser.find_element(By.CSS_SELECTOR, '#by-requester svg a rect[data-label="team-small"]')
    click_and_wait(browser, bar)
    assert "requester=team-small" in browser.current_url, browser.current_url
    cidrs = [row.get_attribute("data-cidr") for row in browser.find_elements(By.CSS_SELECTOR, "#leases tr[data-cidr]")]
    assert cidrs == [made["small"]["cidr"]], cidrs
    # The newest hour with leases created opens the audit log of that hour, which lists their events.
    browser.get(url + "/console")
    hourly = browser.find_elements(By.CSS_SELECTOR, "svg.chart a rect.bar[data-start]")[:24]
    newest = [bar for bar in hourly if int(bar.get_attribute("data-count")) > 0][-1]
    column = newest.find_element(By.XPATH, "..").find_element(By.CSS_SELECTOR, "rect.hit")
    click_and_wait(browser, column)
    assert "/console/audit?since=" in browser.current_url and "until=" in browser.current_url, browser.current_url
    events = browser.find_element(By.ID, "events").text
    assert any(made[name]["cidr"] in events for name in made), events[:500]
    # The pool's bar opens the leases inside the pool.
    browser.get(url + "/console")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, f'#by-pool svg a rect[data-label$="/{POOL}"]'))
    cidrs = [row.get_attribute("data-cidr") for row in browser.find_elements(By.CSS_SELECTOR, "#leases tr[data-cidr]")]
    assert cidrs == [made["pooled"]["cidr"]], cidrs


def test_the_map_draws_a_small_block_beside_a_big_one_with_details_and_why(overview, browser):
    url, made = overview
    sign_in(browser, url, READER_KEY)
    browser.get(url + f"/console/space?scope={SCOPE}")
    assert_no_console_errors(browser, "space page")
    supernet = browser.find_element(By.CSS_SELECTOR, "section.range svg.map")

    def width(cidr):
        pieces = supernet.find_elements(By.CSS_SELECTOR, f'rect[data-cidr="{cidr}"]')
        assert pieces, cidr
        return sum(piece.rect["width"] for piece in pieces)
    small, big = width(made["small"]["cidr"]), width(made["big"]["cidr"])
    assert small >= 4, f"the /28 is visible ({small}px)"
    assert big > 20 * small, (small, big)
    note = browser.find_element(By.CSS_SELECTOR, "section.range figcaption").text
    assert "Drawn to scale" in note and "widened to stay visible" in note, note
    # Hover details: CIDR, state, lease, requester; the block links to its lease.
    rect = supernet.find_element(By.CSS_SELECTOR, f'rect[data-cidr="{made["small"]["cidr"]}"]')
    title = rect.find_element(By.TAG_NAME, "title").get_attribute("textContent")
    for part in (made["small"]["cidr"], "leased", made["small"]["leaseId"], "team-small"):
        assert part in title, (part, title)
    link = rect.find_element(By.XPATH, "..")
    assert link.tag_name == "a" and link.get_dom_attribute("href").endswith(f"/console/leases/{made['small']['leaseId']}")
    # Why the others cannot be had: the pool is one block there, the exclusion is excluded; free blocks shown.
    pool = supernet.find_element(By.CSS_SELECTOR, f'rect[data-cidr="{POOL_CIDR}"]')
    assert pool.get_attribute("data-state") == "pool" and f"in pool {POOL}" in pool.find_element(By.TAG_NAME, "title").get_attribute("textContent")
    why = browser.find_element(By.CSS_SELECTOR, f'#blocks-0 tr[data-cidr="{POOL_CIDR}"]').text
    assert f"in pool {POOL}" in why, why
    assert "excluded" in browser.find_element(By.CSS_SELECTOR, '#blocks-0 tr[data-cidr="10.40.126.0/24"]').text
    assert supernet.find_elements(By.CSS_SELECTOR, 'rect[data-state="free"]')
    # The pool's own map draws the lease inside it.
    pooled = browser.find_elements(By.CSS_SELECTOR, f'svg.map rect[data-cidr="{made["pooled"]["cidr"]}"]')
    assert pooled and pooled[0].get_attribute("data-state") == "leased"
    click_and_wait(browser, link)
    assert browser.current_url.endswith(f"/console/leases/{made['small']['leaseId']}")


def test_hide_used_blocks_and_show_them_again(overview, browser):
    url, made = overview
    sign_in(browser, url, READER_KEY)
    browser.get(url + f"/console/space?scope={SCOPE}")
    click_and_wait(browser, browser.find_element(By.ID, "hide-used"))
    assert "hide=used" in browser.current_url
    states = {rect.get_attribute("data-state") for rect in browser.find_elements(By.CSS_SELECTOR, "svg.map rect.block")}
    assert states and states <= {"free", "available"}, states
    rows = {cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "table[id^=blocks-] td.state")}
    assert rows <= {"free", "available"}, rows
    assert browser.find_element(By.ID, "hide").is_selected()
    assert_axe_passes(browser, "space page, used blocks hidden")
    click_and_wait(browser, browser.find_element(By.ID, "show-used"))
    assert browser.find_elements(By.CSS_SELECTOR, f'svg.map rect[data-cidr="{made["big"]["cidr"]}"]')


def test_no_sideways_scroll_at_1280_and_axe_passes(overview, browser):
    url, _ = overview
    sign_in(browser, url, READER_KEY)
    browser.set_window_size(1280, 900)
    try:
        for path in ["/console", f"/console/space?scope={SCOPE}", f"/console/space?scope={SCOPE}&hide=used"]:
            browser.get(url + path)
            overflow = browser.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 1, f"{path} at 1280px scrolls sideways by {overflow}px"
            assert_axe_passes(browser, path)
            assert_no_console_errors(browser, path)
    finally:
        browser.set_window_size(1280, 900)
