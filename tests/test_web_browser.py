"""The dashboard in a real browser (headless Chromium through Playwright) against the real server.

One browser and one demo server per module keep this file fast; each test opens its own
browser context, so storage and viewport never leak between tests. Every request any page
makes is recorded; the last test checks that none left the server's origin.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from .harness_web import ServerInfo, running_server

playwright_api = pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
DEMO_ACCOUNTS = {"claude/default", "codex/default", "codex/work", "kimi/default", "zai/default", "ollama/default"}
RANGES = {"3h": 3 * 3600, "6h": 6 * 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400}

# (prefix every request must start with, requested URL) for every page of this module.
REQUESTS: list[tuple[str, str]] = []



@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@contextmanager
def serve(**kwargs: Any) -> Iterator[ServerInfo]:
    """running_server seeds its history with asyncio.run, which refuses to run in the thread where
    Playwright's sync API keeps its own event loop; so the server is started from a worker thread."""
    manager = running_server(**kwargs)
    with ThreadPoolExecutor(1) as pool:
        info = pool.submit(manager.__enter__).result()
    try:
        yield info
    except BaseException as exc:
        if not manager.__exit__(type(exc), exc, exc.__traceback__):
            raise
    else:
        manager.__exit__(None, None, None)


@pytest.fixture(scope="module")
def server() -> Iterator[ServerInfo]:
    with serve(demo=True) as info:
        yield info


@contextmanager
def open_page(browser: Browser, info: ServerInfo, *, wait_for: str = ".card .bar", **options: Any) -> Iterator[Page]:
    """A fresh context and page on the dashboard; fails the test on any uncaught page error."""
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 800}, **options})
    page = context.new_page()
    errors: list[str] = []
    prefix = info.url + "/"
    page.on("request", lambda r: REQUESTS.append((prefix, r.url)))
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(prefix)
        page.wait_for_selector(wait_for, timeout=10_000)
        yield page
    finally:
        context.close()
    assert not errors, errors


def wait_live(page: Page) -> None:
    page.wait_for_function("document.getElementById('live').dataset.state === 'live'", timeout=10_000)


def usage(info: ServerInfo) -> dict[str, Any]:
    return httpx.get(f"{info.url}/api/usage", timeout=10).json()


def advance_and_refresh(info: ServerInfo) -> dict[str, Any]:
    """Move the simulator (and the server's polling gates) an hour on, then refresh every account."""
    info.advance(3600)
    resp = httpx.post(f"{info.url}/api/refresh?wait=10", timeout=20)
    resp.raise_for_status()
    return resp.json()


def window_pct(snapshot: dict[str, Any], key: str, window: str) -> float:
    for p in snapshot["providers"]:
        if f"{p['provider']}/{p['account']}" == key:
            return next(w["used_pct"] for w in p["windows"] if w["id"] == window)
    raise AssertionError(f"{key} not in snapshot")


SHOWN_JS = """() => Object.fromEntries([...document.querySelectorAll('.card')].map(c => [c.dataset.key,
  Object.fromEntries([...c.querySelectorAll('.win')].map(w => [w.dataset.window, {
    now: w.querySelector('[role=progressbar]').getAttribute('aria-valuenow'),
    text: w.querySelector('.pct').textContent}]))]))"""


def expected_from(snapshot: dict[str, Any]) -> dict[str, dict[str, float]]:
    return {f"{p['provider']}/{p['account']}": {w["id"]: w["used_pct"] for w in p["windows"]}
            for p in snapshot["providers"] if p["status"] != "unconfigured"}


def mismatches(shown: dict[str, Any], expected: dict[str, dict[str, float]]) -> list[str]:
    problems = []
    if set(shown) != set(expected):
        problems.append(f"cards {sorted(shown)} != accounts {sorted(expected)}")
    for key, windows in expected.items():
        got = shown.get(key, {})
        if set(got) != set(windows):
            problems.append(f"{key}: windows {sorted(got)} != {sorted(windows)}")
        for wid, pct in windows.items():
            if wid not in got:
                continue
            if float(got[wid]["now"]) != pytest.approx(pct):
                problems.append(f"{key}/{wid}: aria-valuenow {got[wid]['now']} != {pct}")
            number = float(re.search(r"[\d.]+", got[wid]["text"]).group())
            if abs(number - pct) > 0.051:
                problems.append(f"{key}/{wid}: text {got[wid]['text']!r} != {pct}")
    return problems


# 1 -------------------------------------------------------------------------------------------
def test_renders_every_demo_account_with_the_api_numbers(browser: Browser, server: ServerInfo) -> None:
    with open_page(browser, server) as page:
        problems: list[str] = ["not compared yet"]
        # The scheduler may refresh between our two reads; compare a consistent pair.
        for _ in range(30):
            shown = page.evaluate(SHOWN_JS)
            expected = expected_from(usage(server))
            if page.evaluate(SHOWN_JS) == shown:
                problems = mismatches(shown, expected)
                if not problems:
                    break
            page.wait_for_timeout(300)
        assert not problems, problems
        assert set(shown) == DEMO_ACCOUNTS
        # The header names the tightest window, with its countdown.
        tight = max((w for p in usage(server)["providers"] for w in p["windows"]), key=lambda w: w["used_pct"])
        expect(page.locator("#summary .tightest")).to_contain_text(f"{tight['label']} ")
        expect(page.locator("#summary .tightest")).to_contain_text("resets in")
        expect(page.locator("#summary .headroom")).to_contain_text("Most headroom:")
        expect(page.locator('[data-key="codex/work"] h2')).to_contain_text("work")


# 2 -------------------------------------------------------------------------------------------
def test_countdown_ticks(browser: Browser, server: ServerInfo) -> None:
    with open_page(browser, server) as page:
        countdown = page.locator(".card .countdown").filter(has_text=re.compile(r"\d\ds$")).first
        before = countdown.text_content()
        assert before and before.startswith("resets in ")
        expect(countdown).not_to_have_text(before, timeout=2500)
        # The local reset time is on hover (title) and visible on a wide screen.
        assert countdown.get_attribute("title", timeout=1000).startswith("Resets ")
        expect(page.locator(".card .reset .abs").first).to_be_visible()


# 3 -------------------------------------------------------------------------------------------
def test_sse_update_reaches_the_page_without_reload(browser: Browser, server: ServerInfo) -> None:
    with open_page(browser, server) as page:
        wait_live(page)
        page.evaluate("window.__marker = 'kept'")
        origin_time = page.evaluate("performance.timeOrigin")
        bar = page.locator('[data-key="claude/default"] [data-window="session"] [role=progressbar]')
        before = float(bar.get_attribute("aria-valuenow"))
        seen: list[str] = []
        page.on("request", lambda r: seen.append(r.url))

        after = window_pct(advance_and_refresh(server), "claude/default", "session")
        assert after != pytest.approx(before), "the simulator did not move the value; the test proves nothing"
        page.wait_for_function(
            "v => Math.abs(parseFloat(document.querySelector("
            "'[data-key=\"claude/default\"] [data-window=\"session\"] [role=progressbar]')"
            ".getAttribute('aria-valuenow')) - v) < 1e-6", arg=after, timeout=10_000)
        assert page.evaluate("window.__marker") == "kept"
        assert page.evaluate("performance.timeOrigin") == origin_time
        # Nothing was polled: the value came over the open event stream.
        assert not [u for u in seen if "/api/usage" in u or "/api/refresh" in u], seen


# 4 -------------------------------------------------------------------------------------------
def test_card_refresh_button(browser: Browser, server: ServerInfo) -> None:
    with open_page(browser, server) as page:
        card = page.locator('[data-key="codex/work"]')
        button = card.locator("button.refresh")
        expect(button).to_have_attribute("aria-label", "Refresh Codex (work)")
        page.evaluate("""() => { const b = document.querySelector('[data-key="codex/work"] button.refresh');
            new MutationObserver(() => { if (b.getAttribute('aria-busy') === 'true') window.__sawBusy = true; })
              .observe(b, {attributes: true}); }""")
        server.advance(3600)
        with page.expect_response(lambda r: "/api/refresh" in r.url) as info:
            button.click()
        response = info.value
        assert response.request.method == "POST"
        query = parse_qs(urlsplit(response.url).query)
        assert query == {"provider": ["codex"], "account": ["work"], "wait": ["30"]}
        assert response.status == 200
        fresh = window_pct(response.json(), "codex/work", "session")
        expect(button).not_to_have_attribute("aria-busy", "true")
        expect(card).not_to_have_class(re.compile(r"\bbusy\b"))
        assert page.evaluate("window.__sawBusy") is True
        expect(card.locator('[data-window="session"] [role=progressbar]')).to_have_attribute(
            "aria-valuenow", re.compile(rf"^{re.escape(f'{fresh:g}')}$"))
        expect(page.locator("#notice")).to_be_hidden()


# 5 -------------------------------------------------------------------------------------------
def test_history_chart_for_every_range(browser: Browser, server: ServerInfo) -> None:
    with open_page(browser, server) as page:
        seen: list[str] = []
        page.on("request", lambda r: seen.append(r.url))
        page.wait_for_timeout(200)
        card = page.locator('[data-key="claude/default"]')
        assert not [u for u in seen if "uPlot" in u], "uPlot must load only when a chart is first shown"

        def check(response: Any, label: str) -> None:
            query = parse_qs(urlsplit(response.url).query)
            assert query["provider"] == ["claude"] and query["account"] == ["default"]
            since = datetime.fromisoformat(query["since"][0].replace("Z", "+00:00"))
            until = datetime.fromisoformat(query["until"][0].replace("Z", "+00:00"))
            assert abs((until - since).total_seconds() - RANGES[label]) <= 2, (label, since, until)
            assert response.status == 200
            body = response.json()
            assert any(s["t"] for s in body["series"]), f"no seeded history for {label}"
            expect(card.locator(f'button.range[data-range="{label}"]')).to_have_attribute("aria-pressed", "true")
            page.wait_for_function("c => c.querySelector('.chart canvas') && !c.querySelector('.chart')"
                                   ".hasAttribute('aria-busy')", arg=card.element_handle(), timeout=10_000)
            drawn = card.locator(".chart canvas").evaluate("""c => {
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let ink = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) ink++;
                return {w: c.getBoundingClientRect().width, h: c.getBoundingClientRect().height, ink}; }""")
            assert drawn["w"] > 100 and drawn["h"] > 50 and drawn["ink"] > 500, (label, drawn)
            legend = card.locator(".u-legend .u-series").count()  # the x series is not listed
            assert legend == len([s for s in body["series"] if s["t"]]), label

        with page.expect_response(lambda r: "/api/history" in r.url) as info:
            card.locator("summary").click()
        check(info.value, "24h")
        assert [u for u in seen if u.endswith("vendor/uplot/uPlot.iife.min.js")]
        for label in RANGES:
            with page.expect_response(lambda r: "/api/history" in r.url) as info:
                card.locator(f'button.range[data-range="{label}"]').click()
            check(info.value, label)


# 7 -------------------------------------------------------------------------------------------
def test_works_under_a_sub_path(browser: Browser) -> None:
    with serve(root_path="/gauge", history_days=1) as sub:
        assert sub.url.endswith("/gauge")
        with open_page(browser, sub) as page:
            assert page.url == f"{sub.origin}/gauge/"
            assert page.locator(".card").count() == len(DEMO_ACCOUNTS)
            wait_live(page)
            with page.expect_response(lambda r: "/api/refresh" in r.url) as info:
                page.locator("#refresh-all").click()
            assert info.value.url.startswith(f"{sub.origin}/gauge/api/refresh?")
            assert info.value.status == 200
            expect(page.locator("#refresh-all")).not_to_have_attribute("aria-busy", "true")
            expect(page.locator("#notice")).to_be_hidden()
            card = page.locator('[data-key="zai/default"]')
            card.locator("summary").click()
            expect(card.locator(".chart canvas")).to_be_visible(timeout=10_000)
    urls = [u for prefix, u in REQUESTS if prefix == f"{sub.url}/"]
    assert any("/gauge/api/events" in u for u in urls)
    assert any("/gauge/static/vendor/uplot/" in u for u in urls)


# 8 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "width", "height"), [("desktop", 1280, 800), ("phone", 390, 844)])
def test_screenshots(browser: Browser, server: ServerInfo, name: str, width: int, height: int) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with open_page(browser, server, viewport={"width": width, "height": height}) as page:
        with page.expect_response(lambda r: "/api/history" in r.url):
            page.locator('[data-key="claude/default"] summary').click()
        expect(page.locator('[data-key="claude/default"] .chart canvas')).to_be_visible(timeout=10_000)
        page.wait_for_timeout(200)
        # Nothing is wider than the screen (no sideways scrolling on a phone).
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        path = ARTIFACTS / f"dashboard-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000


def luminance(css_colour: str) -> float:
    r, g, b = (int(x) for x in re.findall(r"\d+", css_colour)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


# 9 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scheme", ["dark", "light"])
def test_follows_the_system_colour_scheme(browser: Browser, server: ServerInfo, scheme: str) -> None:
    with open_page(browser, server, color_scheme=scheme) as page:
        body = luminance(page.evaluate("getComputedStyle(document.body).backgroundColor"))
        card = luminance(page.locator(".card").first.evaluate("e => getComputedStyle(e).backgroundColor"))
        text = luminance(page.locator(".card h2").first.evaluate("e => getComputedStyle(e).color"))
        if scheme == "dark":
            assert body < 0.2 and card < 0.2 and text > 0.7, (body, card, text)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "dashboard-desktop-dark.png"), full_page=True)
        else:
            assert body > 0.8 and card > 0.8 and text < 0.3, (body, card, text)


# 10 ------------------------------------------------------------------------------------------
def test_accessibility_basics(browser: Browser, server: ServerInfo) -> None:
    with open_page(browser, server) as page:
        bars = page.evaluate("""() => [...document.querySelectorAll('[role=progressbar]')].map(b => ({
            now: b.getAttribute('aria-valuenow'), min: b.getAttribute('aria-valuemin'),
            max: b.getAttribute('aria-valuemax'), label: b.getAttribute('aria-label')}))""")
        assert len(bars) >= 15
        for bar in bars:
            assert bar["now"] is not None and float(bar["now"]) >= 0, bar
            assert (bar["min"], bar["max"]) == ("0", "100"), bar
            assert re.fullmatch(r".+ \d+(\.\d)?% used", bar["label"] or ""), bar
        # Status is told in words, not by colour alone.
        expect(page.locator('[data-key="claude/default"] .status')).to_have_text("ok")
        # Every button has a name, and Tab reaches the global and every card's refresh button.
        names = page.evaluate("[...document.querySelectorAll('button')].filter(b => b.offsetParent)"
                              ".map(b => b.getAttribute('aria-label') || b.textContent.trim())")
        assert all(names), names
        reached: list[str] = []
        outlines: set[str] = set()
        for _ in range(40):
            page.keyboard.press("Tab")
            focused = page.evaluate("""() => { const e = document.activeElement;
                if (e === document.body) return {name: "", outline: "body"};
                const s = getComputedStyle(e);
                return {name: e.getAttribute('aria-label') || e.textContent.trim(), outline: s.outlineStyle}; }""")
            reached.append(focused["name"])
            if focused["outline"] != "body":  # past the last control focus leaves the page
                outlines.add(focused["outline"])
        assert "Refresh all accounts" in reached
        for name in ("Refresh Claude", "Refresh Codex", "Refresh Codex (work)", "Refresh Kimi Code",
                     "Refresh z.ai", "Refresh Ollama"):
            assert name in reached, (name, reached)
        assert "History" in reached
        assert outlines == {"solid"}, "a keyboard focus outline must be visible"


def test_empty_state_when_nothing_is_configured(browser: Browser) -> None:
    with serve(demo=False) as bare, open_page(browser, bare, wait_for="#empty:not([hidden])") as page:
        expect(page.locator("#empty")).to_contain_text("agentgauge doctor")
        expect(page.locator("#empty")).to_contain_text("agentgauge serve --demo")
        expect(page.locator(".card")).to_have_count(0)
        listed = page.locator("#unconfigured")
        expect(listed).to_contain_text("Not configured:")
        for name in ("Claude", "Codex", "Kimi", "z.ai", "Ollama"):
            expect(listed).to_contain_text(name)


# 6 (last: it also checks the requests of every page above) -------------------------------------
def test_no_request_leaves_the_origin(browser: Browser, server: ServerInfo) -> None:
    with open_page(browser, server) as page:
        wait_live(page)
        card = page.locator('[data-key="kimi/default"]')
        with page.expect_response(lambda r: "/api/history" in r.url):
            card.locator("summary").click()
        expect(card.locator(".chart canvas")).to_be_visible(timeout=10_000)
        with page.expect_response(lambda r: "/api/refresh" in r.url):
            card.locator("button.refresh").click()
    urls = [u for _, u in REQUESTS]
    for part in ("/static/app.js", "/static/app.css", "/api/config", "/api/usage", "/api/events", "/api/history",
                 "/api/refresh", "/static/vendor/uplot/uPlot.iife.min.js", "/static/vendor/uplot/uPlot.min.css"):
        assert any(part in u for u in urls), f"no request for {part}: the recording is broken"
    foreign = [u for prefix, u in REQUESTS if not u.startswith(prefix)]
    assert not foreign, foreign
