"""The console's lease flows in a real browser (Debian's chromium through selenium): requesting a network (its
CIDRs, lease id and the tag for the VNet), renewing, releasing after a confirmation naming the CIDR, members added
and removed, reservations made and released through their confirmation pages; a reader gets no form, a forged POST
without or with a wrong CSRF token changes nothing, the audit log names the signed-in caller, and every new page
passes axe-core (WCAG 2 A and AA)."""
import re
import uuid

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select

from conftest import ADMIN_KEY, API_KEY, AWS_ACCOUNT, READER_KEY, SUBSCRIPTION
from test_console import assert_axe_passes, assert_no_console_errors, click_and_wait, lease, session_cookies, sign_in


def caller(driver):
    """Who the console says is signed in (the header's `name (role)`)."""
    return re.sub(r" \((reader|lease|admin)\)$", "", driver.find_element(By.ID, "who").text)


def csrf(driver):
    return driver.find_element(By.CSS_SELECTOR, 'header form input[name="csrf"]').get_attribute("value")


def api_lease(url, lease_id):
    return requests.get(f"{url}/api/leases/{lease_id}", headers={"x-functions-key": READER_KEY}, timeout=30).json()


def api_events(url, **query):
    answer = requests.get(f"{url}/api/events", params=query, headers={"x-functions-key": READER_KEY}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["events"]


def fields(driver, table_id):
    return {row.find_element(By.TAG_NAME, "th").text: row.find_element(By.TAG_NAME, "td").text
            for row in driver.find_elements(By.CSS_SELECTOR, f"#{table_id} tr") if row.find_elements(By.TAG_NAME, "th")}


def assert_audit_names(driver, url, lease_id, action, who):
    """The audit page, filtered to the lease, lists the action under the signed-in caller (and the API agrees)."""
    assert any(e["action"] == action and e["actor"] == who for e in api_events(url, leaseId=lease_id)), (action, who)
    driver.get(f"{url}/console/audit?leaseId={lease_id}")
    rows = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "#events tr") if row.find_elements(By.TAG_NAME, "td")]
    assert any(re.search(rf"\b{re.escape(action)}\b", text) and who in text for text in rows), rows


def test_a_writer_requests_a_network_and_sees_its_cidrs_lease_and_tag(vendor, browser):
    url, _ = vendor
    sign_in(browser, url, API_KEY)
    who = caller(browser)
    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Request"))
    assert browser.current_url.endswith("/console/request")
    assert_axe_passes(browser, "the request form")
    # A refusal is the API's message, with the form kept as sent.
    browser.find_element(By.ID, "n-length").send_keys("8")
    browser.find_element(By.ID, "n-requester").send_keys("flows-ui")
    click_and_wait(browser, browser.find_element(By.ID, "request"))
    problem = browser.find_element(By.ID, "problem").text
    assert "'prefixLength' must be between 20 and 26, got 8" in problem, problem
    assert browser.find_element(By.ID, "n-requester").get_attribute("value") == "flows-ui"
    assert_axe_passes(browser, "the request form with a refusal")
    browser.get_log("browser")  # the refusal's 400 is the answer, not a page error
    # Dual-stack from the default scope's own space, with tags.
    Select(browser.find_element(By.ID, "n-area")).select_by_value(f"scope:{SUBSCRIPTION}_eastus")
    length = browser.find_element(By.ID, "n-length")
    length.clear()
    length.send_keys("26")
    browser.find_element(By.ID, "n-dual").click()
    browser.find_element(By.ID, "n-tags").send_keys("env=selenium\ncost=42")
    session = browser.find_element(By.ID, "n-session").get_attribute("value")
    # A preview names the blocks and leases nothing; the form comes back as it was.
    click_and_wait(browser, browser.find_element(By.ID, "preview-request"))
    previewed = browser.find_element(By.ID, "preview").text
    assert re.match(r"Would lease \S+/26 and \S+ now", previewed), previewed
    held = requests.get(f"{url}/api/sessions/{session}", headers={"x-functions-key": API_KEY}, timeout=30)
    assert held.status_code == 404, "the preview leased nothing"
    assert browser.find_element(By.ID, "n-dual").is_selected() and browser.find_element(By.ID, "n-session").get_attribute("value") == session
    assert_axe_passes(browser, "the request form with a preview")
    click_and_wait(browser, browser.find_element(By.ID, "request"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Network leased"
    tag = browser.find_element(By.ID, "tag").text
    assert tag.startswith("ipam-lease-id="), tag
    lease_id = tag.split("=", 1)[1]
    made = api_lease(url, lease_id)
    shown = fields(browser, "lease-fields")
    assert shown["CIDR"] == made["cidr"] and made["cidr"].endswith("/26")
    assert shown["IPv6 CIDR"] == made["cidrV6"] and shown["Lease"] == lease_id and shown["Session"] == session
    assert made["requester"] == "flows-ui" and made["tags"] == {"env": "selenium", "cost": "42"}, made
    assert "The tag to put on the VNet" in browser.page_source
    assert_axe_passes(browser, "the request's result")
    assert_no_console_errors(browser, "the request's result")
    # The lease is the caller's, audited under it.
    click_and_wait(browser, browser.find_element(By.ID, "lease-link"))
    assert browser.find_elements(By.ID, "renew") and browser.find_elements(By.ID, "release")
    assert_audit_names(browser, url, lease_id, "lease", who)


def test_renew_then_release_after_a_confirmation_naming_the_cidr(vendor, browser):
    url, _ = vendor
    made = lease(url, "flows-" + uuid.uuid4().hex, requester="flows-release")
    sign_in(browser, url, API_KEY)
    who = caller(browser)
    browser.get(f"{url}/console/leases/{made['leaseId']}")
    assert_axe_passes(browser, "the lease page with its actions")
    click_and_wait(browser, browser.find_element(By.ID, "renew"))
    assert f"Renewed {made['cidr']} until" in browser.find_element(By.CSS_SELECTOR, "p.notice").text
    click_and_wait(browser, browser.find_element(By.ID, "release"))
    assert browser.current_url.endswith(f"/console/leases/{made['leaseId']}/release")
    assert browser.find_element(By.TAG_NAME, "h1").text == f"Release {made['cidr']}?"
    assert fields(browser, "confirm-fields")["CIDR"] == made["cidr"]
    assert browser.find_element(By.ID, "confirm").text == f"Release {made['cidr']}"
    assert_axe_passes(browser, "the release confirmation")
    assert api_lease(url, made["leaseId"])["state"] == "leased", "showing the confirmation released nothing"
    click_and_wait(browser, browser.find_element(By.ID, "confirm"))
    assert f"Released {made['cidr']}" in browser.find_element(By.CSS_SELECTOR, "p.notice").text
    assert api_lease(url, made["leaseId"])["state"] == "quarantined"
    assert not browser.find_elements(By.ID, "release") and not browser.find_elements(By.ID, "renew")
    assert_audit_names(browser, url, made["leaseId"], "renew", who)
    assert_audit_names(browser, url, made["leaseId"], "release", who)


def test_a_reader_gets_no_form_and_forged_posts_change_nothing(vendor, browser):
    url, _ = vendor
    made = lease(url, "flows-" + uuid.uuid4().hex)
    sign_in(browser, url, READER_KEY)
    reader_cookies, reader_csrf = session_cookies(browser), csrf(browser)
    for path in ["/console/request", f"/console/leases/{made['leaseId']}/release", "/console/reservations/new?cidr=10.79.9.0/24&owner=x&reason=y"]:
        browser.get(url + path)
        assert not browser.find_elements(By.CSS_SELECTOR, "main form"), path
        assert "needs the" in browser.find_element(By.CSS_SELECTOR, "p.error").text, path
    browser.get_log("browser")  # those pages' 403s are the answers, not page errors
    browser.get(f"{url}/console/leases/{made['leaseId']}")
    assert not browser.find_elements(By.ID, "renew") and not browser.find_elements(By.ID, "release")
    browser.get(url + "/console/reservations")
    assert not browser.find_elements(By.ID, "reserve-form") and not browser.find_elements(By.CSS_SELECTOR, ".release")
    # The reader's own valid token, posted by hand: refused by role.
    forged_session = "flows-forged-" + uuid.uuid4().hex
    for path, data in [("/console/request", {"sessionId": forged_session}),
                       (f"/console/leases/{made['leaseId']}/release", {}),
                       (f"/console/leases/{made['leaseId']}/renew", {}),
                       (f"/console/leases/{made['leaseId']}/members", {"principal": "mallory"})]:
        answer = requests.post(url + path, data={"csrf": reader_csrf, **data}, cookies=reader_cookies, timeout=30, allow_redirects=False)
        assert answer.status_code == 403 and "role" in answer.text, (path, answer.status_code)
    # The owner's session without its token, or with the reader's: refused, nothing done.
    sign_in(browser, url, API_KEY)
    writer_cookies = session_cookies(browser)
    for token in [None, reader_csrf, "forged"]:
        data = {} if token is None else {"csrf": token}
        for path, extra in [(f"/console/leases/{made['leaseId']}/release", {}), (f"/console/leases/{made['leaseId']}/renew", {}),
                            ("/console/request", {"sessionId": forged_session}),
                            (f"/console/leases/{made['leaseId']}/members", {"principal": "mallory"})]:
            answer = requests.post(url + path, data={**data, **extra}, cookies=writer_cookies, timeout=30, allow_redirects=False)
            assert answer.status_code == 403, (path, token, answer.status_code)
    after = api_lease(url, made["leaseId"])
    assert after["state"] == "leased" and after["expiresAt"] == made["expiresAt"], "neither released nor renewed"
    sessions = requests.get(f"{url}/api/sessions/{forged_session}", headers={"x-functions-key": API_KEY}, timeout=30)
    assert sessions.status_code == 404, "no lease was requested"
    members = requests.get(f"{url}/api/leases/{made['leaseId']}/members", headers={"x-functions-key": API_KEY}, timeout=30).json()
    assert [m["principal"] for m in members["members"]] == [caller(browser)], members


def test_members_are_added_and_removed_after_a_confirmation(vendor, browser):
    url, _ = vendor
    made = lease(url, "flows-" + uuid.uuid4().hex)
    principal = "member-" + uuid.uuid4().hex[:8]
    sign_in(browser, url, API_KEY)
    owner = caller(browser)
    browser.get(f"{url}/console/leases/{made['leaseId']}")
    click_and_wait(browser, browser.find_element(By.ID, "members"))
    assert browser.find_element(By.TAG_NAME, "h1").text == f"Members of {made['cidr']}"
    assert_axe_passes(browser, "the members page")
    browser.find_element(By.ID, "m-principal").send_keys(principal)
    Select(browser.find_element(By.ID, "m-role")).select_by_value("admin")
    click_and_wait(browser, browser.find_element(By.ID, "add-member"))
    assert f"Added {principal} as admin" in browser.find_element(By.CSS_SELECTOR, "p.notice").text
    row = browser.find_element(By.CSS_SELECTOR, f'#member-list tr[data-principal="{principal}"]')
    assert row.find_elements(By.TAG_NAME, "td")[1].text == "admin"
    listed = requests.get(f"{url}/api/leases/{made['leaseId']}/members", headers={"x-functions-key": API_KEY}, timeout=30).json()
    assert [m["principal"] for m in listed["members"]] == [owner, principal]
    assert not browser.find_elements(By.CSS_SELECTOR, f'#member-list tr[data-principal="{owner}"] a.remove'), "the owner stays"
    click_and_wait(browser, row.find_element(By.CSS_SELECTOR, "a.remove"))
    assert browser.find_element(By.TAG_NAME, "h1").text == f"Remove {principal} from {made['cidr']}?"
    assert fields(browser, "confirm-fields")["CIDR"] == made["cidr"]
    assert_axe_passes(browser, "the member removal confirmation")
    click_and_wait(browser, browser.find_element(By.ID, "confirm"))
    assert f"Removed {principal}" in browser.find_element(By.CSS_SELECTOR, "p.notice").text
    assert not browser.find_elements(By.CSS_SELECTOR, f'#member-list tr[data-principal="{principal}"]')
    assert_no_console_errors(browser, "the members page")


def test_an_admin_reserves_and_unreserves_through_confirmations(vendor, browser):
    url, _ = vendor
    cidr = "10.78.%d.0/24" % (uuid.uuid4().int % 250)
    sign_in(browser, url, ADMIN_KEY)
    who = caller(browser)
    browser.get(url + "/console/reservations")
    browser.find_element(By.ID, "r-cidr").send_keys(cidr)
    browser.find_element(By.ID, "r-owner").send_keys("flows-ops")
    browser.find_element(By.ID, "r-reason").send_keys("selenium flows")
    click_and_wait(browser, browser.find_element(By.ID, "reserve"))
    assert browser.find_element(By.TAG_NAME, "h1").text == f"Reserve {cidr}?"
    assert fields(browser, "confirm-fields")["CIDR"] == cidr
    assert_axe_passes(browser, "the reservation confirmation")
    listed = requests.get(url + "/api/reservations", headers={"x-functions-key": READER_KEY}, timeout=30).json()["reservations"]
    assert not any(item["cidr"] == cidr for item in listed), "nothing reserved before the confirmation"
    click_and_wait(browser, browser.find_element(By.ID, "confirm"))
    assert f"Reserved {cidr}" in browser.page_source
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, f'#reservations tr[data-cidr="{cidr}"] a.release'))
    assert browser.find_element(By.TAG_NAME, "h1").text == f"Release reservation {cidr}?"
    assert browser.find_element(By.ID, "confirm").text == f"Release {cidr}"
    assert_axe_passes(browser, "the reservation release confirmation")
    click_and_wait(browser, browser.find_element(By.ID, "confirm"))
    assert f"Released {cidr}" in browser.page_source
    assert not browser.find_elements(By.CSS_SELECTOR, f'#reservations tr[data-cidr="{cidr}"]')
    events = api_events(url, action=["reserve", "unreserve"])
    assert {e["action"] for e in events if e["cidr"] == cidr and e["actor"] == who} == {"reserve", "unreserve"}, events
    browser.get(url + "/console/audit?action=unreserve")
    assert any(cidr in row.text and who in row.text for row in browser.find_elements(By.CSS_SELECTOR, "#events tr"))


def test_an_aws_request_names_its_vpc_and_every_flow_page_fits_390_px(vendor, browser):
    url, _ = vendor
    aws_key = f"aws_{AWS_ACCOUNT}_us-east-1"
    sign_in(browser, url, ADMIN_KEY)
    browser.get(url + "/console/request")
    Select(browser.find_element(By.ID, "n-area")).select_by_value(f"scope:{aws_key}")
    click_and_wait(browser, browser.find_element(By.ID, "request"))
    lease_id = browser.find_element(By.ID, "tag").text.split("=", 1)[1]
    made = api_lease(url, lease_id)
    assert made["scope"] == aws_key and made["cloud"] == "aws", made
    assert browser.find_element(By.ID, "tag-heading").text == "The tag to put on the VPC"
    assert fields(browser, "lease-fields")["Scope"] == f"aws/{AWS_ACCOUNT}/us-east-1"
    reserved = "10.77.%d.0/24" % (uuid.uuid4().int % 250)
    pages = {
        "request": "/console/request",
        "requested": None,  # the result page, posted again below at each width (a replay: the same lease)
        "release": f"/console/leases/{lease_id}/release",
        "members": f"/console/leases/{lease_id}/members",
        "remove": f"/console/leases/{lease_id}/members/remove?principal=nobody",
        "reserve": f"/console/reservations/new?cidr={reserved}&owner=flows&reason=width",
    }
    for width, height in [(1280, 900), (390, 844)]:
        browser.set_window_size(width, height)
        for name, path in pages.items():
            if path is None:
                browser.get(url + "/console/request")
                Select(browser.find_element(By.ID, "n-area")).select_by_value(f"scope:{aws_key}")
                browser.find_element(By.ID, "n-session").clear()
                browser.find_element(By.ID, "n-session").send_keys(made["sessionId"])
                click_and_wait(browser, browser.find_element(By.ID, "request"))
                assert browser.find_elements(By.ID, "replayed") and browser.find_element(By.ID, "tag").text.endswith(lease_id)
            else:
                browser.get(url + path)
            overflow = browser.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 1, f"{name} at {width}px scrolls sideways by {overflow}px"
            assert_axe_passes(browser, f"{name} at {width}px")
            assert_no_console_errors(browser, f"{name} at {width}px")
    browser.set_window_size(1280, 900)
