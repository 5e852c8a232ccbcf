"""A local stack filled by real mail over SMTP, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

import pytest
from deskintake.local.stack import send_raw

from tests.e2e.conftest import RunningStack, start_stack, stop_stack

ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

XSS_SUBJECT = "Tolong cek akun saya <script>document.title='pwned'</script>"
XSS_HTML = """<html><body>
<p>Halo admin, akun saya <b>terkunci</b>.</p>
<script>window.__xss = 'script'; document.title = 'pwned'; alert('script')</script>
<img src="x" onerror="window.__xss = 'onerror'; alert('onerror')">
<img src="https://tracker.example.net/open.gif?u=1" width="1" height="1">
<p><a href="javascript:window.__xss='link';alert('link')">Klik untuk verifikasi</a></p>
<svg onload="window.__xss='svg'"><circle r="4"/></svg>
<iframe srcdoc="<script>parent.__xss='iframe'</script>"></iframe>
<p onmouseover="window.__xss='hover'">Arahkan kursor ke sini</p>
</body></html>"""


class Api:
    def __init__(self, stack: RunningStack) -> None:
        self.base = stack.base_url
        self.token = stack.token

    def __call__(self, method: str, path: str, body: Any = None) -> Any:
        request = urllib.request.Request(
            self.base + path, method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())


def xss_mail() -> bytes:
    mail = EmailMessage()
    mail["From"] = "Penyusup <penyusup@mail.example.id>"
    mail["To"] = "info@support.localhost"
    mail["Subject"] = XSS_SUBJECT
    mail["Date"] = formatdate()
    mail["Message-ID"] = make_msgid(domain="mail.example.id")
    mail.set_content("Halo admin, akun saya terkunci. Klik untuk verifikasi.")
    mail.add_alternative(XSS_HTML, subtype="html")
    return mail.as_bytes(policy=SMTP)


@pytest.fixture(scope="module")
def dashboard_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """A fresh stack with the demo mail (Indonesian, Chinese, English) and one hostile mail."""
    stack = start_stack(tmp_path_factory.mktemp("dashboard"))
    try:
        host, port = stack.config.host, stack.config.smtp_port
        for path in sorted((ROOT / "examples" / "emails").glob("*.eml")):
            send_raw(path.read_bytes(), host=host, port=port)
        send_raw(xss_mail(), host=host, port=port)
        api = Api(stack)
        expected = len(list((ROOT / "examples" / "emails").glob("*.eml"))) + 1
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            filed = api("GET", "/api/tickets?include_spam=true&limit=100")["tickets"]
            if len(filed) >= expected:
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"only {len(filed)} of {expected} mails became tickets")
        yield stack
    finally:
        stop_stack(stack)


@pytest.fixture(scope="module")
def api(dashboard_stack: RunningStack) -> Api:
    return Api(dashboard_stack)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, dashboard_stack: RunningStack) -> Iterator[Any]:
    """A signed-in dashboard page that records console errors, failed requests and dialogs."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.problems = []  # type: ignore[attr-defined]
    page.dialogs = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda error: page.problems.append(f"pageerror: {error}"))
    page.on("console", lambda m: page.problems.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(dashboard_stack.base_url + "/")
    page.fill("#token", dashboard_stack.token)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector(".ticket-row")
    yield page
    context.close()


def shot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
