"""The extension end to end in real Chromium (Debian's, through Playwright): the unpacked extension
is loaded into a persistent profile, the providers' real host names are mapped to an HTTPS front
with the simulator behind it, logins are cookies and chat.z.ai's localStorage, and a real
agentgauge server (push-only accounts: it has no credential for them) receives what the browser
fetched. Checked: pairing in the options page, the z.ai capture, the popup (screenshot in
test-artifacts/), pushes parsed into ``source: extension`` on the dashboard, the refresh relay
answering ``POST /api/refresh?wait=`` with fresh data, and stale data with the reason once no
browser runs."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, Worker, expect, sync_playwright

from agentgauge.providers import registry
from agentgauge.sim.server import SimServer

from .harness_extension import (
    EXTENSION_DIR,
    HOSTS,
    PUSHED,
    GaugeServer,
    gauge_server,
    provider_front,
    push_only_config,
)
from .harness_web import ARTIFACTS, CHROMIUM

CREDS = {p: registry.get(p).sim_credentials for p in PUSHED}
NAMES = {p: registry.get(p).name for p in PUSHED}


@dataclass
class Browser:
    context: BrowserContext
    worker: Worker
    extension_id: str
    front: Any

    def page(self, path: str) -> Page:
        page = self.context.new_page()
        page.goto(f"chrome-extension://{self.extension_id}/{path}")
        return page


def login_cookies() -> list[dict[str, Any]]:
    """What logging in to each site leaves in the browser (the simulator's credentials)."""
    cookie = {"path": "/", "secure": True, "httpOnly": True, "sameSite": "Lax"}
    return [
        {"name": "sessionKey", "value": CREDS["claude"]["session_key"], "domain": "claude.ai", **cookie},
        {
            "name": "__Secure-next-auth.session-token",
            "value": CREDS["codex"]["session_token"],
            "domain": "chatgpt.com",
            **cookie,
        },
        {
            "name": "kimi-auth",
            "value": CREDS["kimi"]["auth_token"],
            "domain": ".kimi.com",
            **{**cookie, "httpOnly": False},
        },
        {"name": "wos-session", "value": CREDS["ollama"]["cookie"].split("=", 1)[1], "domain": "ollama.com", **cookie},
    ]


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="agentgauge-extension-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimServer]:
    with SimServer() as server:
        yield server


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[GaugeServer]:
    config = push_only_config(str(workdir / "gauge.db"), workdir / "home")
    with gauge_server(config, workdir) as running:
        yield running


@pytest.fixture(scope="module")
def browser(workdir: Path, simulator: SimServer) -> Iterator[Browser]:
    with provider_front(simulator, workdir) as front, sync_playwright() as p:
        port = front.server_address[1]
        rules = ", ".join(f"MAP {host} 127.0.0.1:{port}" for host in HOSTS)
        context = p.chromium.launch_persistent_context(
            str(workdir / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--ignore-certificate-errors",
                f"--host-resolver-rules={rules}",
                f"--disable-extensions-except={EXTENSION_DIR}",
                f"--load-extension={EXTENSION_DIR}",
            ],
        )
        try:
            worker = context.service_workers[0] if context.service_workers else context.wait_for_event("serviceworker")
            extension_id = worker.url.split("/")[2]
            yield Browser(context, worker, extension_id, front)
        finally:
            context.close()


def usage(server: GaugeServer) -> dict[str, dict[str, Any]]:
    return {p["provider"]: p for p in httpx.get(f"{server.url}/api/usage", timeout=10).json()["providers"]}


def wait_until(page: Page, server: GaugeServer, check: Any, what: str, timeout_ms: int = 30_000) -> dict[str, Any]:
    """Poll the server's snapshot (through the page's clock, no sleeps in the test) until ``check``."""
    rows: dict[str, Any] = {}
    deadline = timeout_ms // 250
    for _ in range(deadline):
        rows = usage(server)
        if check(rows):
            return rows
        page.wait_for_timeout(250)
    raise AssertionError(f"timed out waiting for {what}: {rows}")


def test_1_pairing_in_the_options_page(browser: Browser, server: GaugeServer) -> None:
    from agentgauge.web import pairing

    code = pairing.new_code(server.store, server.now())
    options = browser.page("options.html")
    expect(options.locator("#paired")).to_have_text("Not paired yet.")  # the page has read its settings
    options.fill("#server", server.url)
    options.click("#check")
    expect(options.locator("#server-state")).to_contain_text("answers at", timeout=10_000)
    options.fill("#code", code.code.lower())
    options.fill("#name", "Chromium under test")
    options.click("#pair")
    expect(options.locator("#paired")).to_contain_text("Paired as “Chromium under test”", timeout=10_000)
    paired = pairing.paired(server.store)
    assert [p.name for p in paired] == ["Chromium under test"]
    stored = browser.worker.evaluate("chrome.storage.local.get(['token', 'pairedId'])")
    assert stored["pairedId"] == paired[0].id and stored["token"].startswith(f"agx_{paired[0].id}_")
    options.close()


def test_2_zai_login_is_captured_from_local_storage_and_pushed(browser: Browser, server: GaugeServer) -> None:
    page = browser.context.new_page()
    page.goto("https://chat.z.ai/")
    page.evaluate("token => localStorage.setItem('token', token)", CREDS["zai"]["api_key"])
    page.reload()  # the content script reads the login as the page loads
    rows = wait_until(page, server, lambda r: r["zai"]["source"] == "extension", "the z.ai push")
    assert rows["zai"]["status"] == "ok" and rows["zai"]["source_label"] == "browser extension"
    assert any(w["id"] == "session" for w in rows["zai"]["windows"])
    stored = browser.worker.evaluate("chrome.storage.local.get('zaiToken')")
    assert stored["zaiToken"] == CREDS["zai"]["api_key"]
    # The token went to z.ai's quota API (through the browser), never to the agentgauge server.
    assert any(host == "api.z.ai" and "HeadlessChrome" in ua for _m, host, _p, ua in browser.front.seen)
    page.close()


def test_3_the_popup_fetches_in_the_browser_and_shows_every_account(browser: Browser, server: GaugeServer) -> None:
    browser.context.add_cookies(login_cookies())
    popup = browser.page("popup.html")
    popup.set_viewport_size({"width": 360, "height": 600})
    for provider_id in PUSHED:  # a card per provider, each with at least one bar and a percent
        card = popup.locator(f'section.acct[data-key="{provider_id}/default"]')
        expect(card).to_have_attribute("data-status", "ok", timeout=40_000)
        expect(card.locator(".win .bar[role=progressbar]").first).to_be_visible()
        expect(card.locator(".meta")).to_contain_text("via browser extension")
    rows = usage(server)
    for provider_id in PUSHED:
        assert (rows[provider_id]["status"], rows[provider_id]["source"]) == ("ok", "extension"), provider_id
        shown = popup.locator(f'section.acct[data-key="{provider_id}/default"] .win').first
        window = rows[provider_id]["windows"][0]
        assert float(shown.locator(".bar").get_attribute("aria-valuenow") or "nan") == pytest.approx(window["used_pct"])
        if window.get("resets_at"):
            assert shown.locator(".reset").inner_text().startswith("in "), provider_id
    assert rows["claude"]["plan"] == "max_5x"
    # Every provider request went out from the browser, with its cookies (the simulator checks them).
    hosts = {host for _m, host, _p, ua in browser.front.seen if "HeadlessChrome" in ua}
    assert {"claude.ai", "chatgpt.com", "www.kimi.com", "ollama.com", "api.z.ai"} <= hosts
    ARTIFACTS.mkdir(exist_ok=True)
    popup.screenshot(path=str(ARTIFACTS / "extension-popup.png"), full_page=True)
    popup.close()


def test_4_the_dashboard_shows_the_source(browser: Browser, server: GaugeServer) -> None:
    page = browser.context.new_page()
    page.goto(f"{server.url}/")
    for provider_id in PUSHED:
        card = page.locator(f'.card[data-key="{provider_id}/default"]')
        expect(card.locator(".meta .source")).to_have_text("via browser extension", timeout=10_000)
    page.close()


def test_5_a_refresh_relays_to_the_browser_and_returns_fresh_data(browser: Browser, server: GaugeServer) -> None:
    before = usage(server)
    server.clock.offset += timedelta(minutes=5)  # past every provider's minimum interval
    seen = len(browser.front.seen)
    answer = httpx.post(f"{server.url}/api/refresh?wait=75", timeout=100)
    assert answer.status_code == 200 and answer.headers["x-agentgauge-fresh"] == "true"
    rows = {p["provider"]: p for p in answer.json()["providers"]}
    for provider_id in PUSHED:
        assert rows[provider_id]["status"] == "ok", rows[provider_id]
        assert rows[provider_id]["fetched_at"] > before[provider_id]["fetched_at"], provider_id
    assert len(browser.front.seen) > seen, "the browser asked the providers again"


def test_6_the_servers_extension_page_pairs_lists_and_revokes(browser: Browser, server: GaugeServer) -> None:
    page = browser.context.new_page()
    page.goto(f"{server.url}/")
    page.get_by_role("link", name="Browser extension").click()  # from the dashboard's footer
    expect(page).to_have_url(f"{server.url}/extension")
    row = page.locator("#paired tbody tr")
    expect(row).to_have_count(1)
    expect(row.first).to_contain_text("Chromium under test")
    expect(row.first).to_contain_text("connected now")  # its service worker is polling
    page.click("#new-code")
    expect(page.locator("#code")).to_have_text(re.compile(r"^[A-Z2-9]{4}-[A-Z2-9]{4} \(valid until .+, once\)$"))
    page.get_by_role("button", name="Revoke Chromium under test").click()
    expect(page.locator("#none")).to_be_visible()
    page.close()
    options = browser.page("options.html")
    expect(options.locator("#paired")).to_contain_text("no longer knows this extension", timeout=10_000)
    expect(options.locator("#pair-form")).to_be_visible()
    options.close()


def test_7_without_a_browser_a_refresh_answers_stale_with_the_reason(browser: Browser, server: GaugeServer) -> None:
    browser.context.close()  # the browser quits
    server.hub.relay.timeout = 2.0  # the production wait is one alarm period; no need to sit through it here
    server.clock.offset += timedelta(minutes=5)
    answer = httpx.post(f"{server.url}/api/refresh?wait=30", timeout=60)
    rows = {p["provider"]: p for p in answer.json()["providers"]}
    for provider_id in PUSHED:
        row = rows[provider_id]
        assert row["status"] == "stale" and row["windows"], provider_id
        assert "no browser extension answered" in row["error"]["message"]
        assert "extension" in row["error"]["hint"]
