"""The operator console in a real browser (Debian's chromium and chromium-driver, driven by selenium): sign-in
as each role, every page without a JavaScript console error, a lease appearing in the table and on the
address-space bar, filters, an AWS scope chosen, filtered, exported and shown by its name, the low-space banner,
reservations by an admin and not by a reader, CSRF, every page checked by axe-core (axe-selenium-python's copy),
and screenshots of every page at 1280 and 390 px in .build/screenshots/ (docs/images/ by scripts/screenshots)."""
import os
import re
import uuid
from datetime import datetime, timezone

import pytest
import requests
from axe_selenium_python import Axe
from azure.data.tables import TableServiceClient
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from conftest import ADMIN_KEY, API_KEY, AWS_ACCOUNT, READER_KEY, SUBSCRIPTION, _binary, _start, _stop

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
# scripts/screenshots points this at docs/images (docs/Operations.md shows them); a test run keeps its own.
SHOTS = os.environ.get("IPAM_SCREENSHOTS_DIR") or os.path.join(ROOT, ".build", "screenshots")
PAGES = {"dashboard": "/console", "space": "/console/space", "pools": "/console/pools", "leases": "/console/leases", "reservations": "/console/reservations", "audit": "/console/audit", "drift": "/console/drift"}


@pytest.fixture(scope="module")
def alerting_vendor(connection_string):
    """A Vendor of its own table whose AWS pool has low-space thresholds; yields (base URL, table name), so a test
    can write the alert row the Manager writes when the pool goes low."""
    table = "consolealert" + uuid.uuid4().hex[:12]
    env = dict(os.environ)
    env.update({
        "AzureWebJobsStorage": connection_string, "IPAM_TABLE_NAME": table,
        "SUPERNETS_CONFIG": '[{"subscriptionId":"%s","regions":[{"region":"eastus","supernets":["10.64.0.0/12"]}]},'
                            '{"cloud":"aws","accountId":"%s","regions":[{"region":"us-east-1","supernets":["10.128.0.0/16"]}]}]'
                            % (SUBSCRIPTION, AWS_ACCOUNT),
        "SCOPE_CONFIG_MANIFEST": '{"defaultScope":{"subscriptionId":"%s","region":"eastus"}}' % SUBSCRIPTION,
        "POOLS_CONFIG": '[{"name":"aws-team","accountId":"%s","region":"us-east-1","cidr":"10.128.128.0/17",'
                        '"alerts":{"minFreePercent":10}}]' % AWS_ACCOUNT,
        "VENDOR_API_KEYS": API_KEY, "VENDOR_READER_KEYS": "auditor=" + READER_KEY,
        "AUDIT_SALT": "conformance-audit-salt-0123",
        "CONSOLE_SESSION_SECRET": "conformance-console-session-secret-0123456789", "CONSOLE_PLAIN_HTTP": "true",
    })
    process, port = _start([os.path.join(os.path.dirname(_binary()), "vendor"), "serve", "--port", "0", "--log-level", "error"], env)
    yield f"http://127.0.0.1:{port}", table
    _stop(process)


def assert_axe_passes(driver, where):
    """axe-core finds no violation of WCAG 2 A or AA on the page (labels, names, contrast, structure, ARIA)."""
    axe = Axe(driver)
    axe.inject()
    violations = axe.run(context="html", options="{runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}}")["violations"]
    assert not violations, f"{where}: " + axe.report(violations)


def sign_in(driver, url, key):
    driver.delete_all_cookies()
    driver.get(url + "/console/signin")
    driver.find_element(By.ID, "key").send_keys(key)
    click_and_wait(driver, driver.find_element(By.ID, "signin"))


def click_and_wait(driver, element):
    """Clicks a button that submits a form, and waits for the page that answers it."""
    element.click()

    def gone(_):
        try:
            element.is_enabled()
            return False
        except WebDriverException:  # stale, or no longer in the document: the next page is there
            return True
    WebDriverWait(driver, 15).until(gone)


def assert_no_console_errors(driver, where):
    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, f"{where}: {errors}"


def session_cookies(driver):
    return {cookie["name"]: cookie["value"] for cookie in driver.get_cookies()}


def lease(url, session, **fields):
    answer = requests.post(url + "/api/getNewNetwork", json={"SessionId": session, "prefixLength": 24, **fields}, headers={"x-functions-key": API_KEY}, timeout=30)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def test_sign_in_as_each_role_and_every_page_renders(vendor, browser):
    url, _ = vendor
    lease(url, "console-" + uuid.uuid4().hex)
    for key, role in [(READER_KEY, "reader"), (API_KEY, "lease"), (ADMIN_KEY, "admin")]:
        sign_in(browser, url, key)
        assert f"({role})" in browser.find_element(By.ID, "who").text
        cookie = next(c for c in browser.get_cookies() if c["name"] == "ipam_console")
        assert cookie["httpOnly"] and cookie.get("sameSite") == "Strict", cookie
        for name, path in PAGES.items():
            browser.get(url + path)
            assert browser.find_element(By.TAG_NAME, "h1").text, f"{name} as {role}"
            assert "Something went wrong" not in browser.title, f"{name} as {role}: {browser.page_source[:500]}"
            assert_no_console_errors(browser, f"{name} as {role}")
        click_and_wait(browser, browser.find_element(By.ID, "signout"))
        assert "/console/signin" in browser.current_url and "Signed out" in browser.page_source
        browser.get(url + "/console")
        assert "/console/signin" in browser.current_url, "signed out: the pages send you to sign in"


def test_usable_by_keyboard_alone(vendor, browser):
    url, _ = vendor
    browser.delete_all_cookies()
    browser.get(url + "/console/signin")
    body = browser.find_element(By.TAG_NAME, "body")
    # Tab from the top of the page: the skip link, then the key field; Enter submits.
    body.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("class") == "skip"
    browser.switch_to.active_element.send_keys(Keys.TAB)
    field = browser.switch_to.active_element
    assert field.get_attribute("id") == "key"
    field.send_keys(READER_KEY)
    button = browser.find_element(By.ID, "signin")
    field.send_keys(Keys.ENTER)
    WebDriverWait(browser, 15).until(lambda _: not browser.find_elements(By.ID, "signin"))
    assert "(reader)" in browser.find_element(By.ID, "who").text
    # Then through the navigation: each link is reachable by Tab and opens with Enter.
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    for _ in range(12):
        active = browser.switch_to.active_element
        if active.tag_name == "a" and active.text == "Leases":
            break
        active.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.text == "Leases"
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    WebDriverWait(browser, 15).until(lambda _: browser.current_url.endswith("/console/leases"))
    assert button is not None


def test_a_wrong_key_is_refused(vendor, browser):
    url, _ = vendor
    sign_in(browser, url, "not-a-key")
    assert "not a valid key" in browser.page_source and browser.find_elements(By.ID, "key")
    assert not any(c["name"] == "ipam_console" for c in browser.get_cookies())
    # The refusal is a 401, which the browser logs as a failed load: that is the answer, not a page error.
    assert all(entry["source"] == "network" and "401" in entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE")


def test_a_lease_appears_in_the_table_on_the_bar_and_in_its_history(vendor, browser):
    url, _ = vendor
    # A /20 of westeurope's /14 is wide enough to be drawn alone: a /24 there (or in eastus's /12) is drawn merged
    # with neighbours of its state, which other tests of the suite's Vendor lease.
    made = lease(url, "console-" + uuid.uuid4().hex, requester="console-test", prefixLength=20,
                 subscriptionId=SUBSCRIPTION, region="westeurope")
    sign_in(browser, url, READER_KEY)
    browser.get(url + "/console/leases")
    assert browser.find_elements(By.CSS_SELECTOR, f'#leases tr[data-cidr="{made["cidr"]}"]'), "the lease is in the Leases table"
    browser.get(url + f"/console/space?scope={SUBSCRIPTION}_westeurope")
    bar = browser.find_elements(By.CSS_SELECTOR, f'svg rect[data-cidr="{made["cidr"]}"]')
    assert bar and bar[0].get_attribute("data-state") == "leased", "the lease sits at its place on the address-space bar"
    tooltip = bar[0].find_element(By.TAG_NAME, "title").get_attribute("textContent")
    assert made["leaseId"] in tooltip and "console-test" in tooltip
    browser.get(url + f"/console/space?scope={SUBSCRIPTION}_eastus")
    assert browser.find_elements(By.CSS_SELECTOR, 'svg rect[data-state="excluded"]'), "the configured exclusion is shown, and why"
    browser.get(url + f"/console/leases/{made['leaseId']}")
    history = browser.find_element(By.ID, "history").text
    assert re.search(r"\b(lease|carve-lease)\b", history), history
    assert_no_console_errors(browser, "lease page")


def test_filters_narrow_the_table_and_csv_follows_them(vendor, browser):
    url, _ = vendor
    mine = lease(url, "console-" + uuid.uuid4().hex, requester="team-alpha")
    other = lease(url, "console-" + uuid.uuid4().hex, requester="team-beta")
    sign_in(browser, url, READER_KEY)
    browser.get(url + "/console/leases")
    browser.find_element(By.ID, "f-requester").send_keys("team-alpha")
    click_and_wait(browser, browser.find_element(By.ID, "apply-filters"))
    cidrs = [row.get_attribute("data-cidr") for row in browser.find_elements(By.CSS_SELECTOR, "#leases tr[data-cidr]")]
    assert mine["cidr"] in cidrs and other["cidr"] not in cidrs, cidrs
    csv = requests.get(url + "/console/leases.csv?requester=team-alpha", cookies=session_cookies(browser), timeout=30)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.startswith("cidr,state,leaseId") and mine["cidr"] in csv.text and other["cidr"] not in csv.text
    assert requests.get(url + "/console/leases.csv", timeout=30, allow_redirects=False).status_code == 303, "no session, no export"


def test_an_aws_scope_is_chosen_filtered_exported_and_named(vendor, browser):
    url, _ = vendor
    aws_key, aws_name = f"aws_{AWS_ACCOUNT}_us-east-1", f"aws/{AWS_ACCOUNT}/us-east-1"
    # A /20 of the scope's /16 is drawn alone on its bar (a /24 is drawn merged with leased neighbours other tests make).
    mine = lease(url, "console-aws-" + uuid.uuid4().hex, accountId=AWS_ACCOUNT, region="us-east-1", requester="console-aws",
                 prefixLength=20)
    azure = lease(url, "console-" + uuid.uuid4().hex, requester="console-aws")
    assert mine["scope"] == aws_key and mine["cloud"] == "aws"
    sign_in(browser, url, READER_KEY)
    browser.get(url + "/console/leases")
    # The scope filter offers the AWS scope by its name; choosing it sends its partition key.
    Select(browser.find_element(By.ID, "f-scope")).select_by_visible_text(aws_name)
    click_and_wait(browser, browser.find_element(By.ID, "apply-filters"))
    assert f"scope={aws_key}" in browser.current_url, browser.current_url
    assert Select(browser.find_element(By.ID, "f-scope")).first_selected_option.text == aws_name, "the choice is kept"
    rows = {row.get_attribute("data-cidr"): row for row in browser.find_elements(By.CSS_SELECTOR, "#leases tr[data-cidr]")}
    assert mine["cidr"] in rows and azure["cidr"] not in rows, list(rows)
    assert rows[mine["cidr"]].find_elements(By.TAG_NAME, "td")[4].text == aws_name
    # The CSV link follows the filter, and names the scope as the API does.
    csv = requests.get(browser.find_element(By.ID, "csv").get_attribute("href"), cookies=session_cookies(browser), timeout=30)
    assert csv.status_code == 200 and mine["cidr"] in csv.text and azure["cidr"] not in csv.text, csv.text
    assert all(f",{aws_key}," in line for line in csv.text.strip().splitlines()[1:]), csv.text
    # The lease's link opens its page, naming the scope and its VPC field.
    click_and_wait(browser, rows[mine["cidr"]].find_element(By.CSS_SELECTOR, f'a[href="/console/leases/{mine["leaseId"]}"]'))
    fields = browser.find_element(By.CSS_SELECTOR, "table.fields").text
    assert aws_name in fields and "VPC" in fields and "VNet" not in fields, fields
    # The address-space page, chosen from its form: the title, and the lease on the AWS scope's bar.
    browser.get(url + "/console/space")
    Select(browser.find_element(By.ID, "scope")).select_by_visible_text(aws_name)
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, 'form.filters button[type="submit"]'))
    assert browser.find_element(By.TAG_NAME, "h1").text == f"Address space of {aws_name}"
    bar = browser.find_elements(By.CSS_SELECTOR, f'svg rect[data-cidr="{mine["cidr"]}"]')
    assert bar and bar[0].get_attribute("data-state") == "leased"
    assert not browser.find_elements(By.CSS_SELECTOR, f'svg rect[data-cidr="{azure["cidr"]}"]'), "only the AWS scope's space"
    assert_no_console_errors(browser, "the AWS scope's pages")


def test_every_page_passes_axe(vendor, browser):
    url, _ = vendor
    made = lease(url, "console-axe-" + uuid.uuid4().hex, accountId=AWS_ACCOUNT, region="us-east-1")
    sign_in(browser, url, ADMIN_KEY)
    pages = dict(PAGES, lease=f"/console/leases/{made['leaseId']}", aws_leases=f"/console/leases?scope={made['scope']}",
                 aws_space=f"/console/space?scope={made['scope']}")
    for name, path in pages.items():
        browser.get(url + path)
        assert_axe_passes(browser, name)
    browser.delete_all_cookies()
    browser.get(url + "/console/signin")
    assert_axe_passes(browser, "sign-in")


def test_a_low_aws_pool_is_on_the_dashboard_and_its_space_page(alerting_vendor, connection_string, browser):
    url, table = alerting_vendor
    aws_key, aws_name = f"aws_{AWS_ACCOUNT}_us-east-1", f"aws/{AWS_ACCOUNT}/us-east-1"
    sign_in(browser, url, READER_KEY)
    browser.get(url + "/console")
    assert not browser.find_elements(By.ID, "low-space-alerts"), "nothing is low yet"
    # The row the Manager writes when the pool goes low (Inventory's SpaceAlertRows: alert_{pool}_{version}).
    since = datetime(2026, 12, 1, 8, 30, tzinfo=timezone.utc)
    client = TableServiceClient.from_connection_string(connection_string).get_table_client(table)
    client.upsert_entity({"PartitionKey": aws_key, "RowKey": "alert_aws-team_4", "Pool": "aws-team", "IPVersion": 4,
                          "Low": True, "Since": since, "Reasons": "pool aws-team (IPv4) is low: 3.1% free (below 10.0%)"})
    browser.get(url + "/console")
    banner = browser.find_element(By.ID, "low-space-alerts")
    assert banner.find_element(By.TAG_NAME, "h2").text == "Space running low"
    cells = [cell.text for cell in banner.find_elements(By.CSS_SELECTOR, "tr td")]
    assert cells == [aws_name, "pool aws-team (10.128.128.0/17) (IPv4)", "2026-12-01T08:30:00.000Z", "3.1% free (below 10.0%)"], cells
    assert_axe_passes(browser, "dashboard with the low-space banner")
    assert_no_console_errors(browser, "dashboard with the low-space banner")
    # Its link opens the scope's address space, which says the same.
    click_and_wait(browser, banner.find_element(By.LINK_TEXT, aws_name))
    assert browser.find_element(By.TAG_NAME, "h1").text == f"Address space of {aws_name}"
    notice = browser.find_element(By.CSS_SELECTOR, "p.low-space").text
    assert "pool aws-team (10.128.128.0/17) (IPv4)" in notice and "3.1% free (below 10.0%)" in notice, notice
    assert_axe_passes(browser, "space page with a low pool")
    # Recovered: the banner is gone.
    client.upsert_entity({"PartitionKey": aws_key, "RowKey": "alert_aws-team_4", "Pool": "aws-team", "IPVersion": 4,
                          "Low": False, "Since": since, "Reasons": "pool aws-team (IPv4) is no longer below any threshold"})
    browser.get(url + "/console")
    assert not browser.find_elements(By.ID, "low-space-alerts")


def test_an_admin_reserves_and_releases_and_a_reader_cannot(vendor, browser):
    url, _ = vendor
    cidr = "10.79.%d.0/24" % (uuid.uuid4().int % 200)
    sign_in(browser, url, ADMIN_KEY)
    browser.get(url + "/console/reservations")
    browser.find_element(By.ID, "r-cidr").send_keys(cidr)
    browser.find_element(By.ID, "r-owner").send_keys("console-ops")
    browser.find_element(By.ID, "r-reason").send_keys("selenium")
    click_and_wait(browser, browser.find_element(By.ID, "reserve"))
    click_and_wait(browser, browser.find_element(By.ID, "confirm"))  # the confirmation page (test_console_flows.py)
    assert f"Reserved {cidr}" in browser.page_source
    row = browser.find_element(By.CSS_SELECTOR, f'#reservations tr[data-cidr="{cidr}"]')
    admin_cookies = session_cookies(browser)
    # A POST without the form's CSRF token is refused, even with an admin session.
    forged = requests.post(url + "/console/reservations", data={"cidr": "10.79.250.0/24", "owner": "x", "reason": "no csrf"}, cookies=admin_cookies, timeout=30, allow_redirects=False)
    assert forged.status_code == 403
    # A reader sees no buttons, and its own valid form token does not let it post one.
    sign_in(browser, url, READER_KEY)
    browser.get(url + "/console/reservations")
    assert not browser.find_elements(By.ID, "reserve-form") and not browser.find_elements(By.CSS_SELECTOR, ".release")
    reader_csrf = browser.find_element(By.CSS_SELECTOR, 'header form input[name="csrf"]').get_attribute("value")
    refused = requests.post(url + "/console/reservations", data={"csrf": reader_csrf, "cidr": "10.79.251.0/24", "owner": "x", "reason": "forged"},
                            cookies=session_cookies(browser), timeout=30, allow_redirects=False)
    assert refused.status_code == 403 and "admin role" in refused.text
    listed = requests.get(url + "/api/reservations", headers={"x-functions-key": READER_KEY}, timeout=30).json()["reservations"]
    assert not any(item["cidr"] in ("10.79.250.0/24", "10.79.251.0/24") for item in listed), "nothing forged was written"
    # The admin releases it.
    sign_in(browser, url, ADMIN_KEY)
    browser.get(url + "/console/reservations")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, f'#reservations tr[data-cidr="{cidr}"] a.release'))
    click_and_wait(browser, browser.find_element(By.ID, "confirm"))
    assert f"Released {cidr}" in browser.page_source
    assert not browser.find_elements(By.CSS_SELECTOR, f'#reservations tr[data-cidr="{cidr}"]')
    assert row is not None


def screenshot_pages(made, reservation_id):
    """Every page's screenshot name and path, `made` being a lease and `reservation_id` a reservation's
    (test_console_polish checks that every page the console links to is one of these, and that
    docs/Operations.md shows each at both widths)."""
    lease_path = f"/console/leases/{made['leaseId']}"
    return dict(PAGES, lease=lease_path, space=f"/console/space?scope={SUBSCRIPTION}_eastus", request="/console/request",
                release=lease_path + "/release", members=lease_path + "/members",
                reserve=f"/console/reservations/new?scope={SUBSCRIPTION}_eastus&cidr=10.79.254.0%2F24&owner=network-team&reason=on-premises+link",
                unreserve=f"/console/reservations/{reservation_id}/release")


def reserve(url, cidr, owner, reason):
    """A reservation made through the API (its id), or the one already holding `cidr`."""
    answer = requests.post(url + "/api/reservations", json={"cidr": cidr, "owner": owner, "reason": reason},
                           headers={"x-functions-key": ADMIN_KEY}, timeout=30)
    if answer.status_code in (200, 201):
        return answer.json()["reservationId"]
    listed = requests.get(url + "/api/reservations", headers={"x-functions-key": ADMIN_KEY}, timeout=30).json()["reservations"]
    return next(item["reservationId"] for item in listed if item["cidr"] == cidr)


def test_screenshots_of_every_page_at_both_widths(vendor, browser):
    url, _ = vendor
    os.makedirs(SHOTS, exist_ok=True)
    made = lease(url, "console-" + uuid.uuid4().hex, requester="screenshots", tags={"env": "demo"})
    # A few more of each kind, so that each page shows what it is for.
    lease(url, "console-" + uuid.uuid4().hex, requester="team-alpha", dualStack=True)
    lease(url, "console-" + uuid.uuid4().hex, requester="ci", accountId=AWS_ACCOUNT, region="us-east-1")
    reservation_id = reserve(url, "10.78.0.0/24", "network-team", "on-premises link")
    sign_in(browser, url, ADMIN_KEY)
    pages = screenshot_pages(made, reservation_id)
    for width, height in [(1280, 900), (390, 844)]:
        browser.set_window_size(width, height)
        for name, path in pages.items():
            browser.get(url + path)
            assert_no_console_errors(browser, f"{name} at {width}")
            # Nothing wider than the window but the tables' own scroll areas.
            overflow = browser.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            wide = browser.execute_script("""return [...document.querySelectorAll('body *')].filter(e => !e.closest('.scroll') && e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className)""")
            assert overflow <= 1, f"{name} at {width}px scrolls sideways by {overflow}px: {wide}"
            browser.save_screenshot(os.path.join(SHOTS, f"console-{name}-{width}.png"))
        # What a request answers (a POST's page): the lease, and the tag to put on its network.
        browser.get(url + "/console/request")
        click_and_wait(browser, browser.find_element(By.ID, "request"))
        assert browser.find_elements(By.ID, "tag"), browser.page_source[:500]
        browser.save_screenshot(os.path.join(SHOTS, f"console-requested-{width}.png"))
    browser.set_window_size(1280, 900)
    assert len([f for f in os.listdir(SHOTS) if f.startswith("console-")]) >= 2 * (len(pages) + 1)


def test_the_pools_page_shows_each_area_and_passes_axe(vendor, browser):
    url, _ = vendor
    lease(url, "console-" + uuid.uuid4().hex, requester="pools-page")
    sign_in(browser, url, READER_KEY)
    browser.get(url + "/console")
    browser.find_element(By.LINK_TEXT, "Pools").click()
    WebDriverWait(browser, 15).until(lambda _: browser.current_url.endswith("/console/pools"))
    assert browser.find_element(By.CSS_SELECTOR, 'nav a[aria-current="page"]').text == "Pools"
    reports = requests.get(url + "/api/pools", headers={"x-functions-key": READER_KEY}, timeout=30).json()["pools"]
    for report in reports:
        area = report.get("pool") or report["scope"]
        section = browser.find_element(By.CSS_SELECTOR, f'section[data-area="{area}"]')
        fields = {row.find_element(By.TAG_NAME, "th").text: row.find_element(By.TAG_NAME, "td").text
                  for row in section.find_elements(By.CSS_SELECTOR, "table.fields tr")}
        assert fields["Free IPv4 addresses"] == str(report["freeAddresses"]), (area, fields)
        assert fields["Free IPv6 addresses"] == str(report["freeAddressesV6"]), (area, fields)
    assert browser.find_elements(By.CSS_SELECTOR, "#hierarchy tr td a"), "the hierarchy links to each area"
    assert_no_console_errors(browser, "pools page")
    for width, height in [(1280, 900), (390, 844)]:
        browser.set_window_size(width, height)
        browser.get(url + "/console/pools")
        overflow = browser.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"the pools page at {width}px scrolls sideways by {overflow}px"
        assert_axe_passes(browser, f"the pools page at {width}px")
    browser.set_window_size(1280, 900)


def test_after_sign_out_the_old_cookie_and_its_csrf_token_do_nothing(vendor, browser):
    url, _ = vendor
    sign_in(browser, url, ADMIN_KEY)
    browser.get(url + "/console/reservations")
    old_cookies = session_cookies(browser)
    old_csrf = browser.find_element(By.CSS_SELECTOR, 'header form input[name="csrf"]').get_attribute("value")
    cookie = next(c for c in browser.get_cookies() if c["name"] == "ipam_console")
    assert not cookie["secure"], "this Vendor runs with CONSOLE_PLAIN_HTTP=true (plain http on 127.0.0.1)"
    click_and_wait(browser, browser.find_element(By.ID, "signout"))
    assert "Signed out" in browser.page_source
    cidr = "10.79.%d.0/24" % (200 + uuid.uuid4().int % 50)
    replayed = requests.post(url + "/console/reservations", data={"csrf": old_csrf, "cidr": cidr, "owner": "x", "reason": "replayed cookie"},
                             cookies=old_cookies, timeout=30, allow_redirects=False)
    assert replayed.status_code == 403, replayed.status_code
    page = requests.get(url + "/console/reservations", cookies=old_cookies, timeout=30, allow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/console/signin"
    listed = requests.get(url + "/api/reservations", headers={"x-functions-key": ADMIN_KEY}, timeout=30).json()["reservations"]
    assert not any(item["cidr"] == cidr for item in listed), "nothing was reserved with the old session"
