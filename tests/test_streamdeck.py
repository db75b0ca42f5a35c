"""The Stream Deck+ plugin (clients/streamdeck) seen in real Chromium: its touch-strip layout drawn with
what the plugin would show for a real server holding the dashboard's sample states (stale, unlimited,
reset-pending, error), screenshotted into test-artifacts/streamdeck-*.png; and its settings page driven
through the WebSocket the Stream Deck app would open (the app itself runs only on macOS and Windows)."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from .harness_seeded import serve_seeded
from .harness_web import ARTIFACTS, ServerInfo, chromium, sample_states

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, WebSocketRoute

CLIENT = Path(__file__).resolve().parent.parent / "clients" / "streamdeck"
SD_PLUGIN = CLIENT / "dev.agentgauge.streamdeck.sdPlugin"
NODE = shutil.which("node") or "/usr/bin/node"
NPM = shutil.which("npm") or "/usr/bin/npm"
DIAL = "dev.agentgauge.streamdeck.dial"
KEY = "dev.agentgauge.streamdeck.key"
COLORS = {"ok": "#2da44e", "warn": "#d4a017", "crit": "#e5484d"}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def seeded() -> Iterator[tuple[ServerInfo, datetime]]:
    now = datetime.now(UTC).replace(microsecond=0)
    with serve_seeded(sample_states(now), history_days=0) as info:
        yield info, now


def fmt_pct(x: float) -> str:
    """The dial's percent (the dashboard's rule): one decimal under 9.95, whole numbers above, ties up."""
    if 0 < x < 0.05:
        return "<0.1%"
    if abs(x) < 9.95:
        r = math.floor(x * 10 + 0.5) / 10
        return f"{int(r)}%" if r == int(r) else f"{r:.1f}%"
    return f"{math.floor(x + 0.5)}%"


def level_color(pct: float, thresholds: dict[str, float]) -> str:
    if pct > thresholds["crit"]:
        return COLORS["crit"]
    return COLORS["warn"] if pct >= thresholds["warn"] else COLORS["ok"]


def shown_pct(window: dict[str, Any], now: datetime) -> float:
    passed = window.get("resets_at") and datetime.fromisoformat(window["resets_at"]) <= now
    return 0.0 if window.get("reset_pending") or passed else float(window["used_pct"])


def render_page(info: ServerInfo) -> str:
    result = subprocess.run(
        [
            NODE,
            str(CLIENT / "scripts" / "render-strip.js"),
            "--server",
            info.url,
            "--dials",
            "claude,codex,kimi,zai",
            "--keys",
            ",claude,codex:work",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def slot_texts(page: Page, section: str, agent: str) -> dict[str, str]:
    """Each text item of one dial, by its layout key."""
    slot = page.locator(f"#{section} .slot[data-agent='{agent}']")
    keys = ("name", "label1", "value1", "label2", "value2", "footer")
    return {key: slot.locator(f"g[data-key='{key}'] text").text_content() or "" for key in keys}


def bar_fill(page: Page, section: str, agent: str, key: str) -> tuple[str, float]:
    fill = page.locator(f"#{section} .slot[data-agent='{agent}'] g[data-key='{key}'] rect[data-part='fill']")
    return fill.get_attribute("fill") or "", float(fill.get_attribute("width") or "nan")


def pixel(page: Page, section: str, agent: str, x: int, y: int) -> list[int]:
    """The colour Chromium paints at (x, y) of one dial's 200x100 SVG."""
    return page.evaluate(
        """async ([selector, x, y]) => {
            const svg = document.querySelector(selector).outerHTML;
            const img = new Image();
            img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svg);
            await img.decode();
            const canvas = Object.assign(document.createElement("canvas"), {width: 200, height: 100});
            const ctx = canvas.getContext("2d");
            ctx.drawImage(img, 0, 0);
            return Array.from(ctx.getImageData(x, y, 1, 1).data.slice(0, 3));
        }""",
        [f"#{section} .slot[data-agent='{agent}'] svg", x, y],
    )


def rgb(hex_color: str) -> list[int]:
    return [int(hex_color[i : i + 2], 16) for i in (1, 3, 5)]


def test_touch_strip_screenshot(browser: Browser, seeded: tuple[ServerInfo, datetime]) -> None:
    info, now = seeded
    states = {p.provider if p.account == "default" else f"{p.provider}:{p.account}": p for p in sample_states(now)}
    thresholds = httpx.get(f"{info.url}/api/config").json()["thresholds"]
    layout = json.loads((SD_PLUGIN / "layouts" / "agent.json").read_text())
    bar1 = next(item for item in layout["items"] if item["key"] == "bar1")

    page = browser.new_page(viewport={"width": 840, "height": 600}, device_scale_factor=2)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.set_content(render_page(info))
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "streamdeck-strip.png"), full_page=True)
        page.locator("#view-bars .strip").screenshot(path=str(ARTIFACTS / "streamdeck-touchstrip.png"))
        page.locator("#keys").screenshot(path=str(ARTIFACTS / "streamdeck-keys.png"))

        # Claude is stale: its numbers stay, in their colours, with how old they are.
        claude = states["claude"]
        session = next(w for w in claude.windows if w.id == "session")
        texts = slot_texts(page, "view-bars", "claude")
        assert texts["name"] == claude.name
        assert texts["label1"] == f"5h {fmt_pct(session.used_pct)}"
        assert texts["footer"].startswith("stale · 3h")
        color, width = bar_fill(page, "view-bars", "claude", "bar1")
        assert color == level_color(session.used_pct, thresholds)
        assert width == pytest.approx(bar1["rect"][2] * session.used_pct / 100, abs=0.01)
        painted = pixel(page, "view-bars", "claude", bar1["rect"][0] + 3, bar1["rect"][1] + bar1["rect"][3] // 2)
        assert painted == pytest.approx(rgb(level_color(session.used_pct, thresholds)), abs=3)

        # Codex's weekly window is unlimited: said, not drawn as 0 %.
        codex = slot_texts(page, "view-bars", "codex")
        assert codex["label2"].endswith("∞") and codex["value2"] == "unlimited"

        # Kimi's weekly reset has passed: 0 % until a fetch confirms it, as on the dashboard.
        assert slot_texts(page, "view-bars", "kimi")["label2"].endswith(" 0%")
        assert slot_texts(page, "view-numbers", "kimi")["value2"] == "reset, confirming…"

        # The numbers view counts down to the session reset.
        zai_session = next(w for w in states["zai"].windows if w.id == "session")
        assert zai_session.resets_at is not None
        assert re.fullmatch(r"↻ (3h 5\dm|4h 00m)", slot_texts(page, "view-numbers", "zai")["value1"])

        # With the server gone the last answer is greyed and aged; with nothing fetched, no numbers at all.
        assert slot_texts(page, "offline", "claude")["footer"] == "server offline · 5m old"
        for agent in ("claude", "codex", "kimi", "zai"):
            empty = slot_texts(page, "offline-empty", agent)
            assert "%" not in "".join(empty.values())
            assert empty["footer"] == "server offline"

        # Keys: the tightest window of all agents, of Claude, and Codex/work's error.
        usage = httpx.get(f"{info.url}/api/usage").json()
        tightest = max(
            shown_pct(w, now)
            for p in usage["providers"]
            if p["status"] in ("ok", "stale")
            for w in p["windows"]
            if not w.get("unlimited")
        )
        assert (page.locator("#key-0").get_attribute("alt") or "").endswith(f" {fmt_pct(tightest)}")
        assert page.locator("#key-1").get_attribute("alt") == f"Claude {fmt_pct(session.used_pct)}"
        error_key = page.locator("#key-2").get_attribute("alt") or ""
        assert error_key.startswith("Codex") and error_key.endswith(" !"), error_key
    finally:
        page.close()
    assert not errors, errors


# -- the settings page -----------------------------------------------------------------------------------
def ensure_settings_page_built() -> None:
    """The page's script is bundled by `npm run build` (scripts/test's npm step runs it first)."""
    bundle = SD_PLUGIN / "ui" / "settings.js"
    sources = [*(CLIENT / "src" / "pi").glob("*.js"), *(CLIENT / "src" / "lib").glob("*.js")]
    if bundle.exists() and bundle.stat().st_mtime >= max(s.stat().st_mtime for s in sources):
        return
    if not (CLIENT / "node_modules").exists():
        subprocess.run([NPM, "ci", "--no-audit", "--no-fund"], cwd=CLIENT, check=True, timeout=600)
    subprocess.run([NPM, "run", "build"], cwd=CLIENT, check=True, timeout=300)


class FakeApp:
    """The Stream Deck app's side of the page's WebSocket: global settings from `settings`, the agent
    list as the plugin answers it (the server's agents, fetched over HTTP)."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.settings: dict[str, str] = {"serverUrl": server_url, "token": ""}
        self.received: list[dict[str, Any]] = []

    def handle(self, ws: WebSocketRoute) -> None:
        def on_message(message: str | bytes) -> None:
            msg = json.loads(message)
            self.received.append(msg)
            if msg["event"] == "getGlobalSettings":
                ws.send(json.dumps({"event": "didReceiveGlobalSettings", "payload": {"settings": self.settings}}))
            elif msg["event"] == "sendToPlugin" and msg["payload"].get("request") == "agents":
                ws.send(json.dumps({"event": "sendToPropertyInspector", "payload": self.agents(msg["payload"])}))

        ws.on_message(on_message)

    def agents(self, typed: dict[str, str]) -> dict[str, Any]:
        if typed["serverUrl"] != self.server_url:
            return {"event": "agents", "agents": [], "error": f"cannot reach {typed['serverUrl']}/api/usage"}
        usage = httpx.get(f"{self.server_url}/api/usage").json()
        agents = [
            {
                "key": p["provider"] if p["account"] == "default" else f"{p['provider']}:{p['account']}",
                "name": p["name"],
                "status": p["status"],
            }
            for p in usage["providers"]
        ]
        return {"event": "agents", "agents": agents, "error": None}

    def events(self, name: str) -> list[dict[str, Any]]:
        return [m for m in self.received if m["event"] == name]


def open_settings(browser: Browser, app: FakeApp, action: str, settings: dict[str, str]) -> tuple[Page, list[str]]:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route_web_socket(re.compile(r"ws://127\.0\.0\.1:\d+/?"), app.handle)
    page.goto((SD_PLUGIN / "ui" / "settings.html").as_uri())
    action_info = {"action": action, "context": "action-context", "payload": {"settings": settings}}
    page.evaluate(
        "(info) => connectElgatoStreamDeckSocket(28196, 'pi-uuid', 'registerPropertyInspector', '{}', info)",
        json.dumps(action_info),
    )
    return page, errors


def test_settings_page_lists_agents_and_saves_choices(browser: Browser, seeded: tuple[ServerInfo, datetime]) -> None:
    info, _ = seeded
    ensure_settings_page_built()
    app = FakeApp(info.url)
    page, errors = open_settings(browser, app, DIAL, {"agent": "kimi"})
    try:
        usage = httpx.get(f"{info.url}/api/usage").json()
        count = len(usage["providers"])
        page.wait_for_function(f"document.querySelectorAll('#agent option').length === {count + 1}")
        assert app.received[0] == {"event": "registerPropertyInspector", "uuid": "pi-uuid"}
        # The page addresses the app with its own uuid, as Stream Deck's property inspectors do.
        assert app.events("getGlobalSettings") == [{"event": "getGlobalSettings", "context": "pi-uuid"}]
        assert page.input_value("#serverUrl") == info.url
        assert page.input_value("#agent") == "kimi"
        assert page.locator("#agent option").first.inner_text() == "Choose an agent…"
        assert page.inner_text("#status") == f"{count} agents on this server"
        stale = next(p for p in usage["providers"] if p["status"] == "stale")
        assert page.locator(f"#agent option[value='{stale['provider']}']").inner_text() == f"{stale['name']} (stale)"

        page.select_option("#agent", "zai")
        chosen = app.events("setSettings")[-1]
        assert chosen == {"event": "setSettings", "context": "pi-uuid", "payload": {"agent": "zai"}}

        # Another machine over plain http with a token: saved, with a warning; the list comes from there.
        page.fill("#token", "t0ken-for-test")
        page.fill("#serverUrl", "192.168.1.5:8777/")
        page.locator("#serverUrl").dispatch_event("change")
        saved = app.events("setGlobalSettings")[-1]
        assert saved["payload"] == {"serverUrl": "http://192.168.1.5:8777", "token": "t0ken-for-test"}
        assert page.locator("#clearWarning").is_visible()
        page.wait_for_function("document.querySelector('#status').dataset.tone === 'error'")
        assert page.inner_text("#status") == "cannot reach http://192.168.1.5:8777/api/usage"
        assert page.input_value("#agent") == "zai", "the saved choice stays, marked as not on this server"

        # A URL that cannot work is refused on the page, not saved.
        before = len(app.events("setGlobalSettings"))
        page.fill("#serverUrl", "ftp://example.com")
        page.locator("#serverUrl").dispatch_event("change")
        assert page.inner_text("#status") == "the server URL must start with http:// or https://"
        assert len(app.events("setGlobalSettings")) == before
    finally:
        page.close()
    assert not errors, errors


def test_key_settings_offer_all_agents(browser: Browser, seeded: tuple[ServerInfo, datetime]) -> None:
    info, _ = seeded
    ensure_settings_page_built()
    app = FakeApp(info.url)
    page, errors = open_settings(browser, app, KEY, {})
    try:
        page.wait_for_function("document.querySelectorAll('#agent option').length > 1")
        first = page.locator("#agent option").first
        assert first.inner_text() == "Closest to a limit (all agents)"
        assert first.get_attribute("value") == ""
        assert page.input_value("#agent") == ""
    finally:
        page.close()
    assert not errors, errors
