"""The extension's Firefox build in Debian's Firefox ESR (WebDriver BiDi, see harness_firefox): the zip
scripts/pack-extension makes is installed as a temporary add-on, paired in its options page, reads
the z.ai login from chat.z.ai and the other sites with cookies set in the browser (the sites' real
names go through a proxy to the HTTPS front with the simulator behind it), pushes to a real
agentgauge server, shows every account in its popup and answers the refresh relay."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentgauge import __version__
from agentgauge.providers import registry
from agentgauge.sim.server import SimServer
from agentgauge.web import pairing

from .harness_extension import HOSTS, PUSHED, ROOT, GaugeServer, gauge_server, provider_front, push_only_config
from .harness_firefox import EXTENSION_UUID, GECKO_ID, Bidi, firefox, tunnel, until

CREDS = {p: registry.get(p).sim_credentials for p in PUSHED}
BASE = f"moz-extension://{EXTENSION_UUID}"


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="agentgauge-ext-firefox-"))
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
def front(workdir: Path, simulator: SimServer) -> Iterator[Any]:
    with provider_front(simulator, workdir) as running:
        yield running


@pytest.fixture(scope="module")
def browser(front: Any) -> Iterator[Bidi]:
    with tunnel(front.server_address[1], HOSTS) as proxy, firefox(proxy) as session:
        yield session


def usage(server: GaugeServer) -> dict[str, dict[str, Any]]:
    return {p["provider"]: p for p in httpx.get(f"{server.url}/api/usage", timeout=10).json()["providers"]}


def wait_for(server: GaugeServer, check: Any, what: str) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + 40
    while True:
        rows = usage(server)
        if check(rows):
            return rows
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {rows}"
        time.sleep(0.25)


def test_1_the_packed_firefox_build_installs(browser: Bidi, workdir: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "pack-extension"), "--out", str(workdir / "dist")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    archive = workdir / "dist" / f"agentgauge-extension-{__version__}-firefox.zip"
    installed = browser.call("webExtension.install", {"extensionData": {"type": "archivePath", "path": str(archive)}})
    assert installed["extension"] == GECKO_ID
    context = browser.open_privileged(f"{BASE}/options.html")
    granted = browser.evaluate(context, "chrome.permissions.getAll()")
    assert "https://claude.ai/*" in granted["origins"] and "http://127.0.0.1/*" in granted["origins"]


def test_2_pairing_in_the_options_page(browser: Bidi, server: GaugeServer) -> None:
    code = pairing.new_code(server.store, server.now())
    context = browser.open_privileged(f"{BASE}/options.html")
    browser.evaluate(context, until("document.getElementById('paired').textContent === 'Not paired yet.'"))
    fill = (
        f"(document.getElementById('server').value = {json.dumps(server.url)}, "
        f"document.getElementById('code').value = {json.dumps(code.code)}, "
        "document.getElementById('name').value = 'Firefox under test', "
        "document.getElementById('pair-form').requestSubmit(), true)"
    )
    browser.evaluate(context, fill)
    text = browser.evaluate(
        context,
        until(
            "document.getElementById('paired').textContent.startsWith('Paired as')",
            "document.getElementById('paired').textContent + ' | '"
            " + document.getElementById('server-state').textContent",
        ),
    )
    assert "Firefox under test" in text
    assert [p.name for p in pairing.paired(server.store)] == ["Firefox under test"]


def test_3_the_zai_login_is_captured(browser: Bidi, server: GaugeServer) -> None:
    context = browser.content_context()
    browser.call("browsingContext.navigate", {"context": context, "url": "https://chat.z.ai/", "wait": "complete"})
    browser.evaluate(context, f"localStorage.setItem('token', {json.dumps(CREDS['zai']['api_key'])})")
    browser.call("browsingContext.reload", {"context": context, "wait": "complete"})
    rows = wait_for(server, lambda r: r["zai"]["source"] == "extension", "the z.ai push")
    assert rows["zai"]["status"] == "ok", rows["zai"]["error"]


def test_4_the_popup_fetches_every_provider_in_firefox(browser: Bidi, server: GaugeServer, front: Any) -> None:
    for domain, name, value in (
        ("claude.ai", "sessionKey", CREDS["claude"]["session_key"]),
        ("chatgpt.com", "__Secure-next-auth.session-token", CREDS["codex"]["session_token"]),
        ("www.kimi.com", "kimi-auth", CREDS["kimi"]["auth_token"]),
        ("ollama.com", "wos-session", CREDS["ollama"]["cookie"].split("=", 1)[1]),
    ):
        cookie = {
            "name": name,
            "value": {"type": "string", "value": value},
            "domain": domain,
            "path": "/",
            "secure": True,
            "httpOnly": True,
            "sameSite": "lax",
        }
        browser.call("storage.setCookie", {"cookie": cookie})
    context = browser.open_privileged(f"{BASE}/popup.html")
    shown = browser.evaluate(
        context,
        until(
            "document.querySelectorAll('section.acct[data-status=\"ok\"]').length === 5",
            "[...document.querySelectorAll('section.acct')]"
            ".map(s => [s.dataset.key, s.querySelectorAll('.win [role=progressbar]').length])",
            timeout_ms=45_000,
        ),
    )
    assert {key for key, bars in shown if bars} == {f"{p}/default" for p in PUSHED}
    rows = usage(server)
    assert {p: (rows[p]["status"], rows[p]["source"]) for p in PUSHED} == dict.fromkeys(PUSHED, ("ok", "extension"))
    firefox_hosts = {host for _m, host, _p, agent in front.seen if "Firefox/" in agent}
    assert {"claude.ai", "chatgpt.com", "www.kimi.com", "ollama.com", "api.z.ai"} <= firefox_hosts


def test_5_the_refresh_relay_reaches_firefox(browser: Bidi, server: GaugeServer) -> None:
    before = usage(server)
    server.clock.offset += timedelta(minutes=5)
    answer = httpx.post(f"{server.url}/api/refresh?wait=75", timeout=100)
    assert answer.headers["x-agentgauge-fresh"] == "true"
    rows = {p["provider"]: p for p in answer.json()["providers"]}
    for provider_id in PUSHED:
        assert (
            rows[provider_id]["status"] == "ok" and rows[provider_id]["fetched_at"] > before[provider_id]["fetched_at"]
        )
