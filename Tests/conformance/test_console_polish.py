"""The console's finish, in a real browser (chromium through selenium), over EVERY page the console links to
(found by following its links from the dashboard, so a page added later is checked too):
- display names of subscriptions and accounts (SUPERNETS_CONFIG `displayName`) shown where scopes are named, the
  id kept in the title and on a lease's page, a hostile name shown as text, a long one cut;
- at 390 px no page scrolls sideways (tables scroll inside their own box);
- every page passes axe (labels, names) and is usable by keyboard alone: Tab reaches every control, with a
  visible focus ring;
- the one script is the Vendor's own (`/console/assets/console.js`), under a Content-Security-Policy that allows
  no inline script, and what it adds (Copy buttons) works; without it no page shows a dead button;
- every page has its screenshots at 1280 and 390 px in docs/, shown by docs/Operations.md."""
import os
import re
import uuid
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.wait import WebDriverWait

from conftest import ADMIN_KEY, API_KEY, AWS_ACCOUNT, READER_KEY, SUBSCRIPTION, _binary, _start, _stop
from test_console import (PAGES, ROOT, assert_axe_passes, assert_no_console_errors, lease,
                          reserve, screenshot_pages, session_cookies, sign_in)

# A name an attacker with the configuration's ear might pick, and one longer than the console shows.
HOSTILE_NAME = '<b id="injected">Prod</b> & "EU"'
LONG_NAME = "Platform engineering shared services production landing zone"
SECOND = "22222222-2222-2222-2222-222222222222"
ID_SEGMENT = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$|^[0-9a-f]{16,}$", re.I)


@pytest.fixture(scope="module")
def named_vendor(connection_string):
    """A Vendor of its own table whose subscriptions and AWS account have display names: a hostile one, a long
    one and a plain one; yields its base URL."""
    env = dict(os.environ)
    env.update({
        "AzureWebJobsStorage": connection_string, "IPAM_TABLE_NAME": "consolenames" + uuid.uuid4().hex[:12],
        "SUPERNETS_CONFIG": ('[{"subscriptionId":"%s","displayName":%s,"regions":[{"region":"eastus","supernets":["10.64.0.0/12"]}]},'
                             '{"subscriptionId":"%s","displayName":"%s","regions":[{"region":"westeurope","supernets":["10.96.0.0/14"]}]},'
                             '{"cloud":"aws","accountId":"%s","displayName":"AWS Ops","regions":[{"region":"us-east-1","supernets":["10.128.0.0/16"]}]}]'
                             % (SUBSCRIPTION, '"<b id=\\"injected\\">Prod</b> & \\"EU\\""', SECOND, LONG_NAME, AWS_ACCOUNT)),
        "SCOPE_CONFIG_MANIFEST": '{"defaultScope":{"subscriptionId":"%s","region":"eastus"}}' % SUBSCRIPTION,
        "VENDOR_API_KEYS": API_KEY, "VENDOR_READER_KEYS": "auditor=" + READER_KEY, "VENDOR_ADMIN_KEYS": "operator=" + ADMIN_KEY,
        "AUDIT_SALT": "conformance-audit-salt-0123",
        "CONSOLE_SESSION_SECRET": "conformance-console-session-secret-0123456789", "CONSOLE_PLAIN_HTTP": "true",
    })
    process, port = _start([os.path.join(os.path.dirname(_binary()), "vendor"), "serve", "--port", "0", "--log-level", "error"], env)
    yield f"http://127.0.0.1:{port}"
    _stop(process)


def pattern(href):
    """A page's kind: its path with ids as {id}, and the names of its query (not their values)."""
    parts = urlsplit(href)
    path = "/".join("{id}" if ID_SEGMENT.match(segment) else segment for segment in parts.path.split("/"))
    return path + ("?" + "&".join(sorted({name for name, _ in parse_qsl(parts.query)})) if parts.query else "")


def crawl(driver, url, limit=60):
    """Every console page reachable by its links from the dashboard, one of each kind (`pattern`), in the order
    found: the paths (with their queries) the driver visited. CSV exports and sign-out are not pages."""
    queue, seen, pages = ["/console"], set(), []
    while queue and len(pages) < limit:
        href = queue.pop(0)
        if pattern(href) in seen:
            continue
        seen.add(pattern(href))
        driver.get(url + href)
        pages.append(href)
        links = driver.execute_script("return [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))")
        for link in links:
            link = link.split("#")[0]
            if link.startswith("/console") and not urlsplit(link).path.endswith(".csv") and link != "/console/signout":
                queue.append(link)
    return pages


def seed(url):
    """Leases that make wide rows: long requesters and tags, a dual-stack lease, an AWS lease; a reservation."""
    made = lease(url, "polish-" + uuid.uuid4().hex, requester="a-requester-with-a-rather-long-name-" + "x" * 40,
                 tags={"environment": "integration-" + "y" * 50})
    lease(url, "polish-" + uuid.uuid4().hex, accountId=AWS_ACCOUNT, region="us-east-1", requester="polish")
    reservation_id = reserve(url, "10.79.%d.0/24" % (uuid.uuid4().int % 200), "owner-" + "z" * 60, "a long reason " * 8)
    return made, reservation_id


def test_scopes_show_their_display_names_and_keep_their_ids_in_sight(named_vendor, browser):
    url = named_vendor
    azure = lease(url, "names-" + uuid.uuid4().hex, requester="names")
    long = lease(url, "names-" + uuid.uuid4().hex, subscriptionId=SECOND, region="westeurope")
    aws = lease(url, "names-" + uuid.uuid4().hex, accountId=AWS_ACCOUNT, region="us-east-1")
    sign_in(browser, url, ADMIN_KEY)
    shown_hostile, shown_long = HOSTILE_NAME + "/eastus", LONG_NAME[:31] + "…/westeurope"
    # The leases table: each lease's scope by its name; the filter offers the names and sends the ids.
    browser.get(url + "/console/leases")
    cells = {row.get_attribute("data-cidr"): row for row in browser.find_elements(By.CSS_SELECTOR, "#leases tr[data-cidr]")}
    text = {cidr: row.text for cidr, row in cells.items()}
    assert shown_hostile in text[azure["cidr"]] and shown_long in text[long["cidr"]] and "AWS Ops/us-east-1" in text[aws["cidr"]], text
    assert f"{SUBSCRIPTION}_eastus" not in browser.find_element(By.ID, "leases").text, "the id is not what the table shows"
    titles = " ".join(e.get_attribute("title") or "" for e in browser.find_elements(By.CSS_SELECTOR, "#leases [title]"))
    assert f"{SUBSCRIPTION}_eastus" in titles and f"aws_{AWS_ACCOUNT}_us-east-1" in titles and LONG_NAME in titles, titles
    options = {o.text: o.get_attribute("value") for o in browser.find_elements(By.CSS_SELECTOR, "#f-scope option")}
    assert options[shown_hostile] == f"{SUBSCRIPTION}_eastus" and options["AWS Ops/us-east-1"] == f"aws_{AWS_ACCOUNT}_us-east-1", options
    # The lease's page shows the whole name and the id.
    browser.get(url + f"/console/leases/{long['leaseId']}")
    fields = browser.find_element(By.CSS_SELECTOR, "table.fields").text
    assert f"{LONG_NAME}/westeurope: {SECOND}_westeurope" in fields, fields
    # Every page that names a scope names it so, and the hostile name is never markup.
    for path in ["/console", f"/console/space?scope=aws_{AWS_ACCOUNT}_us-east-1", "/console/pools", "/console/reservations", "/console/drift"]:
        browser.get(url + path)
        assert not browser.find_elements(By.ID, "injected"), f"{path}: the name became markup"
        assert_no_console_errors(browser, path)
    browser.get(url + f"/console/space?scope=aws_{AWS_ACCOUNT}_us-east-1")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Address space of AWS Ops/us-east-1"
    browser.get(url + "/console/pools")
    assert shown_hostile in browser.find_element(By.ID, "hierarchy").text
    for path in crawl(browser, url):
        assert not browser.find_elements(By.ID, "injected"), f"{path}: the name became markup"
    browser.get(url + "/console/leases")
    shots = os.environ.get("IPAM_SCREENSHOTS_DIR") or os.path.join(ROOT, ".build", "screenshots")
    os.makedirs(shots, exist_ok=True)
    for width, height in [(1280, 900), (390, 844)]:
        browser.set_window_size(width, height)
        browser.get(url + "/console/leases")
        browser.save_screenshot(os.path.join(shots, f"console-display-names-{width}.png"))
    browser.set_window_size(1280, 900)


def test_no_page_scrolls_sideways_at_390_px(vendor, browser):
    url, _ = vendor
    seed(url)
    sign_in(browser, url, ADMIN_KEY)
    browser.set_window_size(390, 844)
    try:
        pages = crawl(browser, url)
        assert len(pages) >= len(PAGES), pages
        for path in pages:
            browser.get(url + path)
            overflow = browser.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            wide = browser.execute_script("""return [...document.querySelectorAll('body *')].filter(e => !e.closest('.scroll')
                && e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).slice(0, 5)
                .map(e => e.tagName + '#' + e.id + '.' + e.className)""")
            assert overflow <= 0, f"{path} at 390 px scrolls sideways by {overflow}px: {wide}"
    finally:
        browser.set_window_size(1280, 900)


def tab_walk(driver, limit=600):
    """Tabs from the top of the page until focus comes round again: the elements focused, in order, each with
    whether its focus was visible (an outline or a box shadow). Each step is one real Tab key press (WebDriver
    actions, to whatever has focus) and one script reading the focused element: two round trips, not four."""
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    reached = []
    for _ in range(limit):
        tag, html, visible = driver.execute_script("""const e = document.activeElement || document.body;
            const s = getComputedStyle(e);
            return [e.tagName.toLowerCase(), e.outerHTML.slice(0, 120),
                    s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0 || s.boxShadow !== 'none']""")
        if reached and html == reached[0][0]:
            break
        if tag != "body":  # past the last control, focus rests on the page before coming round
            reached.append((html, visible))
        ActionChains(driver).send_keys(Keys.TAB).perform()
    return reached


def test_every_page_is_labelled_and_usable_by_keyboard(vendor, browser):
    url, _ = vendor
    seed(url)
    sign_in(browser, url, ADMIN_KEY)
    for path in crawl(browser, url):
        browser.get(url + path)
        assert_axe_passes(browser, path)
        controls = browser.execute_script("""return [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')]
            .filter(e => !e.disabled && e.getClientRects().length && !e.closest('[hidden]') && e.tabIndex >= 0)
            .map(e => e.outerHTML.slice(0, 120))""")
        reached = tab_walk(browser, limit=len(controls) + 60)  # a date field takes a Tab per part
        focused = [html for html, _ in reached]
        missed = [html for html in controls if html not in focused]
        assert not missed, f"{path}: Tab never reaches {missed[:5]}"
        hidden = [html for html, visible in reached if not visible]
        assert not hidden, f"{path}: focus is not visible on {hidden[:5]}"


def test_the_one_script_is_the_vendors_under_a_strict_csp(vendor, browser):
    url, _ = vendor
    made, _ = seed(url)
    sign_in(browser, url, ADMIN_KEY)
    cookies = session_cookies(browser)
    for path in crawl(browser, url):
        answer = requests.get(url + path, cookies=cookies, timeout=30)
        policy = dict(part.strip().split(" ", 1) for part in answer.headers["Content-Security-Policy"].split(";") if " " in part.strip())
        assert policy["default-src"] == "'none'" and policy["script-src"] == "'self'", (path, policy)
        html = answer.text
        scripts = re.findall(r"<script\b[^>]*>", html, re.I)
        assert scripts == ['<script src="/console/assets/console.js" defer>'], (path, scripts)
        assert not re.search(r"<script\b[^>]*>\s*[^<\s]", html, re.I), f"{path}: an inline script"
        assert not re.search(r"<[a-z][^>]*\son[a-z]+\s*=", html, re.I), f"{path}: an inline event handler"
        assert "javascript:" not in html.lower(), path
        assert 'class="copy"' not in html, f"{path}: a Copy button without the script that makes it work"
    script = requests.get(url + "/console/assets/console.js", cookies=cookies, timeout=30)
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript"), script.headers
    assert script.headers["x-content-type-options"] == "nosniff" and "data-copy" in script.text
    signed_out = requests.get(url + "/console/assets/console.js", timeout=30, allow_redirects=False)
    assert signed_out.status_code == 303 and signed_out.headers["location"] == "/console/signin"
    assert "<script" not in requests.get(url + "/console/signin", timeout=30).text, "the sign-in page needs no script"
    # In the browser the script runs under that policy: the lease's id gets a Copy button that copies it.
    try:
        browser.execute_cdp_cmd("Browser.grantPermissions", {"origin": url, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    except WebDriverException:
        pass  # then the script selects the value instead, which is checked below as well
    browser.get(url + f"/console/leases/{made['leaseId']}")
    button = browser.find_element(By.CSS_SELECTOR, f'button.copy[aria-label="Copy {made["leaseId"]}"]')
    button.send_keys(Keys.ENTER)
    status = browser.find_element(By.CSS_SELECTOR, ".copy-status[role=status]")
    WebDriverWait(browser, 10).until(lambda _: status.text)
    assert status.text in (f"Copied {made['leaseId']}.", f"Selected {made['leaseId']}: press Ctrl+C to copy it."), status.text
    if status.text.startswith("Copied"):
        copied = browser.execute_async_script("navigator.clipboard.readText().then(arguments[0], () => arguments[0](null))")
        assert copied == made["leaseId"]
    assert browser.find_element(By.CSS_SELECTOR, "td[data-copy] span").text == made["leaseId"], "the value itself is unchanged"
    assert_no_console_errors(browser, "the lease page with its script")


def test_every_page_has_screenshots_shown_by_the_operations_guide(vendor, browser):
    url, _ = vendor
    made, reservation_id = seed(url)
    sign_in(browser, url, ADMIN_KEY)
    shot = {pattern(path).split("?")[0] for path in screenshot_pages(made, reservation_id).values()}
    missing = [path for path in crawl(browser, url) if pattern(path).split("?")[0] not in shot]
    assert not missing, f"pages without a screenshot (add them to test_console.screenshot_pages): {missing}"
    guide = open(os.path.join(ROOT, "docs", "Operations.md"), encoding="utf-8").read()
    shown = set(re.findall(r"!\[[^\]]+\]\((images/console-[a-z0-9-]+\.png)\)", guide))
    for name in list(screenshot_pages(made, reservation_id)) + ["requested", "display-names"]:
        for width in (1280, 390):
            image = f"images/console-{name}-{width}.png"
            assert image in shown, f"docs/Operations.md does not show {image}"
    for image in shown:
        assert os.path.isfile(os.path.join(ROOT, "docs", image)), f"docs/Operations.md shows {image}, which is not in docs/images"
    stale = {f"images/{f}" for f in os.listdir(os.path.join(ROOT, "docs", "images")) if f.startswith("console-")} - shown
    assert not stale, f"screenshots no page of the guide shows: {stale}"
