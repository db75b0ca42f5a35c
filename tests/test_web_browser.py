"""The dashboard in a real browser (headless Chromium through Playwright) against the real server.

One browser and one demo server per module keep this file fast; each test opens its own
browser context, so storage and viewport never leak between tests. Every request any page
makes is recorded; the last test checks that none left the server's origin.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from agentgauge.cli.demo import demo_config
from agentgauge.cli.formats import fmt_duration, fmt_pct
from agentgauge.providers import registry

from .harness_web import ARTIFACTS, ServerInfo, chromium, serve
from .harness_web import open_page as _open_page

# The accounts --demo shows, from the same config the demo server is built from (the simulator URL
# does not change which accounts there are).
with tempfile.TemporaryDirectory(prefix="agentgauge-test-") as _demo_dir:  # its fake CLIs are not kept
    DEMO_ACCOUNTS = {
        f"{a.provider}/{a.account}" for a in demo_config("http://127.0.0.1:9", workdir=Path(_demo_dir)).accounts
    }
RANGES = {"3h": 3 * 3600, "6h": 6 * 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400}
WIDTHS = {"phone": (390, 844), "tablet": (820, 1180), "desktop": (1280, 800)}

# (prefix every request must start with, requested URL) for every page of this module.
REQUESTS: list[tuple[str, str]] = []


def account_name(key: str) -> str:
    provider, account = key.split("/")
    name = registry.get(provider).name
    return name if account == "default" else f"{name} ({account})"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def server() -> Iterator[ServerInfo]:
    with serve(demo=True, history_days=3) as info:
        yield info


def open_page(browser: Browser, info: ServerInfo, **options: Any) -> Any:
    return _open_page(browser, info, requests=REQUESTS, **options)


def wait_live(page: Page) -> None:
    # A function, not an expression: Playwright evals an expression string on every poll, which the
    # page's Content-Security-Policy (no 'unsafe-eval') refuses once the first check is false.
    page.wait_for_function("() => document.getElementById('live').dataset.state === 'live'", timeout=10_000)


def usage(info: ServerInfo) -> dict[str, Any]:
    return httpx.get(f"{info.url}/api/usage", timeout=10).json()


def advance_and_refresh(info: ServerInfo, provider: str, account: str = "default") -> dict[str, Any]:
    """Move the simulator (and the server's polling gates) an hour on, then refresh one account and
    wait for its result: the answer holds what that fetch saved (not the view before it, which a
    refresh still running when the wait ends would give on a busy machine)."""
    info.advance(3600)
    resp = httpx.post(f"{info.url}/api/refresh?provider={provider}&account={account}&wait=60", timeout=90)
    resp.raise_for_status()
    assert resp.headers["x-agentgauge-fresh"] == "true", "the refresh did not finish within its wait"
    return resp.json()


def window_pct(snapshot: dict[str, Any], key: str, window: str) -> float:
    for p in snapshot["providers"]:
        if f"{p['provider']}/{p['account']}" == key:
            return next(w["used_pct"] for w in p["windows"] if w["id"] == window)
    raise AssertionError(f"{key} not in snapshot")


SHOWN_JS = """() => Object.fromEntries([...document.querySelectorAll('.card')].map(c => [c.dataset.key,
  Object.fromEntries([...c.querySelectorAll('.win')].map(w => [w.dataset.window, {
    now: w.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow') ?? null,
    text: w.querySelector('.pct').textContent}]))]))"""


def expected_from(snapshot: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """What each bar must say: the percent in the shared format, 0 % for a pending reset, words for unlimited."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for p in snapshot["providers"]:
        if p["status"] == "unconfigured":
            continue
        windows: dict[str, dict[str, Any]] = {}
        for w in p["windows"]:
            if w.get("unlimited"):
                windows[w["id"]] = {"now": None, "text": "unlimited"}
            else:
                pct = 0.0 if w.get("reset_pending") else w["used_pct"]
                windows[w["id"]] = {"now": pct, "text": fmt_pct(pct)}
        out[f"{p['provider']}/{p['account']}"] = windows
    return out


def mismatches(shown: dict[str, Any], expected: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    problems = []
    if set(shown) != set(expected):
        problems.append(f"cards {sorted(shown)} != accounts {sorted(expected)}")
    for key, windows in expected.items():
        got = shown.get(key, {})
        if set(got) != set(windows):
            problems.append(f"{key}: windows {sorted(got)} != {sorted(windows)}")
        for wid, want in windows.items():
            if wid not in got:
                continue
            now = got[wid]["now"]
            if (now is None) != (want["now"] is None) or (now is not None and float(now) != pytest.approx(want["now"])):
                problems.append(f"{key}/{wid}: aria-valuenow {now} != {want['now']}")
            if got[wid]["text"] != want["text"]:
                problems.append(f"{key}/{wid}: text {got[wid]['text']!r} != {want['text']!r}")
    return problems


# 1 -------------------------------------------------------------------------------------------
def test_renders_every_demo_account_with_the_api_numbers(browser: Browser, server: ServerInfo) -> None:
    assert {key.split("/")[0] for key in DEMO_ACCOUNTS} == set(registry.ids()), "the demo shows every provider"
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
        expect(page.locator("#summary .health")).to_have_count(0)  # every demo account is ok
        expect(page.locator('[data-key="codex/work"] h2')).to_contain_text("work")


# 2 -------------------------------------------------------------------------------------------
def test_countdown_ticks(browser: Browser, server: ServerInfo) -> None:
    """Countdowns follow the page's clock (Playwright's fake clock, moved a minute on), in the shared format."""
    with open_page(browser, server, fake_clock=True) as page:
        page.clock.pause_at(page.evaluate("Date.now()") / 1000 + 1)  # Python takes seconds
        countdown = page.locator('[data-key="claude/default"] [data-window="session"] .countdown')
        before = countdown.text_content()
        assert before and before.startswith("resets in ")
        page.clock.run_for(61_000)
        after = countdown.text_content()
        reset_ms = (
            datetime.fromisoformat(countdown.get_attribute("data-reset").replace("Z", "+00:00")).timestamp() * 1000
        )
        left = (reset_ms - page.evaluate("Date.now()")) / 1000
        # The ticker last ran at most a second before "now".
        assert after in {f"resets in {fmt_duration(left)}", f"resets in {fmt_duration(left + 1)}"}, (after, left)
        assert after != before
        # The local reset time is on hover (title) and visible on a wide screen, in the shared clock format.
        assert countdown.get_attribute("title", timeout=1000).startswith("Resets ")
        expect(page.locator(".card .reset .abs").first).to_be_visible()
        expect(page.locator(".card .reset .abs time").first).to_have_text(re.compile(r"^(\w{3} )?\d\d:\d\d$"))


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

        after = window_pct(advance_and_refresh(server, "claude"), "claude/default", "session")
        assert after != pytest.approx(before), "the simulator did not move the value; the test proves nothing"
        page.wait_for_function(
            "v => Math.abs(parseFloat(document.querySelector("
            '\'[data-key="claude/default"] [data-window="session"] [role=progressbar]\')'
            ".getAttribute('aria-valuenow')) - v) < 1e-6",
            arg=after,
            timeout=10_000,
        )
        assert page.evaluate("window.__marker") == "kept"
        assert page.evaluate("performance.timeOrigin") == origin_time
        # Nothing was polled: the value came over the open event stream.
        assert not [u for u in seen if "/api/usage" in u or "/api/refresh" in u], seen


def test_keyboard_focus_survives_a_live_update(browser: Browser, server: ServerInfo) -> None:
    """Each update re-renders every card and rebuilds its breakdowns: a focused breakdown summary must
    keep the focus (the new one in its place), not drop it to the page."""
    with open_page(browser, server) as page:
        wait_live(page)
        summary = page.locator(".card .breakdown > summary").first
        where = summary.evaluate("s => [s.closest('.card').dataset.key, s.parentElement.dataset.breakdown]")
        summary.focus()
        bar = page.locator('[data-key="claude/default"] [data-window="session"] [role=progressbar]')
        before = float(bar.get_attribute("aria-valuenow"))
        after = window_pct(advance_and_refresh(server, "claude"), "claude/default", "session")
        assert after != pytest.approx(before), "the simulator did not move the value; the test proves nothing"
        page.wait_for_function(  # the update has been drawn
            "v => Math.abs(parseFloat(document.querySelector("
            '\'[data-key="claude/default"] [data-window="session"] [role=progressbar]\')'
            ".getAttribute('aria-valuenow')) - v) < 1e-6",
            arg=after,
            timeout=10_000,
        )
        focused = page.evaluate("""() => { const e = document.activeElement;
            return e.tagName === 'SUMMARY' ? [e.closest('.card').dataset.key, e.parentElement.dataset.breakdown]
                : e.tagName; }""")
        assert focused == where


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
            "aria-valuenow", re.compile(rf"^{re.escape(f'{fresh:g}')}$")
        )
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
            page.wait_for_function(
                "c => c.querySelector('.chart canvas') && !c.querySelector('.chart').hasAttribute('aria-busy')",
                arg=card.element_handle(),
                timeout=10_000,
            )
            drawn = card.locator(".chart canvas").evaluate("""c => {
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let ink = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) ink++;
                return {w: c.getBoundingClientRect().width, h: c.getBoundingClientRect().height, ink}; }""")
            assert drawn["w"] > 100 and drawn["h"] > 50 and drawn["ink"] > 500, (label, drawn)
            legend = card.locator(".u-legend .u-series").count()  # the x series is not listed
            assert legend == len([s for s in body["series"] if s["t"]]), label

        def of_range(label: str) -> Any:
            """Claude's history request for ``label``: a live update may also reload the range shown
            before the click, and that answer must not be taken for this one."""

            def matches(response: Any) -> bool:
                if "/api/history" not in response.url:
                    return False
                query = parse_qs(urlsplit(response.url).query)
                if query.get("provider") != ["claude"] or "since" not in query or "until" not in query:
                    return True  # check() says what is wrong with it
                since = datetime.fromisoformat(query["since"][0].replace("Z", "+00:00"))
                until = datetime.fromisoformat(query["until"][0].replace("Z", "+00:00"))
                return abs((until - since).total_seconds() - RANGES[label]) <= 2

            return matches

        with page.expect_response(of_range("24h")) as info:
            card.locator(".history > summary").click()
        check(info.value, "24h")
        assert [u for u in seen if u.endswith("vendor/uplot/uPlot.iife.min.js")]
        for label in RANGES:
            with page.expect_response(of_range(label)) as info:
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
            card.locator(".history > summary").click()
            expect(card.locator(".chart canvas")).to_be_visible(timeout=10_000)
    urls = [u for prefix, u in REQUESTS if prefix == f"{sub.url}/"]
    assert any("/gauge/api/events" in u for u in urls)
    assert any("/gauge/static/vendor/uplot/" in u for u in urls)


# 8 -------------------------------------------------------------------------------------------
ROWS_JS = """() => {
  const rows = new Map();
  for (const c of document.querySelectorAll('.card')) {
    const r = c.getBoundingClientRect();
    const top = Math.round(r.top + scrollY);
    if (!rows.has(top)) rows.set(top, []);
    const summary = c.querySelector('.history:not([hidden]) > summary');  // no History: nothing to align
    rows.get(top).push({key: c.dataset.key, height: r.height, foot: summary?.getBoundingClientRect().bottom ?? null});
  }
  return [...rows.values()];
}"""


def ragged_rows(page: Page, *, feet: bool = True) -> list[str]:
    """Cards that share a row must have one height (and, while all are closed, History at one level in
    the cards that have it: an account that never reported a window has no History)."""
    problems = []
    for row in page.evaluate(ROWS_JS):
        heights = {round(c["height"]) for c in row}
        if max(heights) - min(heights) > 1:
            problems.append(f"row {[c['key'] for c in row]}: heights {sorted(heights)}")
        levels = {round(c["foot"]) for c in row if c["foot"] is not None}
        if feet and levels and max(levels) - min(levels) > 1:
            problems.append(f"row {[c['key'] for c in row]}: History at {sorted(levels)}")
    return problems


@pytest.mark.parametrize("name", list(WIDTHS))
def test_grid_rows_align_at_every_width(browser: Browser, server: ServerInfo, name: str) -> None:
    width, height = WIDTHS[name]
    ARTIFACTS.mkdir(exist_ok=True)
    with open_page(browser, server, viewport={"width": width, "height": height}) as page:
        columns = page.evaluate(
            "getComputedStyle(document.getElementById('cards')).gridTemplateColumns.split(' ').length"
        )
        assert columns == {"phone": 1, "tablet": 2, "desktop": 3}[name], columns
        assert not ragged_rows(page), ragged_rows(page)
        with page.expect_response(lambda r: "/api/history" in r.url):
            page.locator('[data-key="claude/default"] .history > summary').click()
        expect(page.locator('[data-key="claude/default"] .chart canvas')).to_be_visible(timeout=10_000)
        page.wait_for_function(
            "() => !document.querySelector('[data-key=\"claude/default\"] .chart').hasAttribute('aria-busy')"
        )
        assert not ragged_rows(page, feet=False), ragged_rows(page, feet=False)
        # Nothing is wider than the screen (no sideways scrolling on a phone).
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        path = ARTIFACTS / f"dashboard-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000


def test_history_chart_is_large_and_labelled(browser: Browser, server: ServerInfo) -> None:
    with open_page(browser, server) as page:
        card = page.locator('[data-key="claude/default"]')
        with page.expect_response(lambda r: "/api/history" in r.url):
            card.locator(".history > summary").click()
        expect(card.locator(".chart canvas")).to_be_visible(timeout=10_000)
        plot = card.locator(".u-over").bounding_box()
        assert plot and plot["height"] >= 160 and plot["width"] >= 250, plot
        axes = page.evaluate("""async () => {
            const { state } = await import(new URL('static/app.js', document.baseURI).href);
            const u = state.cards.get('claude/default').chart;
            const [x, y] = u.axes;
            const t0 = Math.floor(Date.now() / 1000);
            return {xLabel: x.label, yLabel: y.label, y: y.values(u, [0, 50, 100], 1, 50, 50),
                    x: x.values(u, [t0 - 7200, t0 - 3600], 0, 50, 3600)}; }""")
        assert axes["xLabel"] == "local time" and axes["yLabel"] == "% used", axes
        assert axes["y"] == ["0%", "50%", "100%"], axes
        assert all(re.fullmatch(r"\d\d:\d\d", v) for v in axes["x"]), axes
        summary = card.locator(".chart .uplot").get_attribute("aria-label")
        assert summary and "% used over local time" in summary


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
            assert re.fullmatch(r".+ (<0\.1|\d+(\.\d)?)% used", bar["label"] or ""), bar
        # Status is told in words, not by colour alone.
        expect(page.locator('[data-key="claude/default"] .status')).to_have_text("ok")
        # Every button has a name, and Tab reaches the global and every card's refresh button.
        names = page.evaluate(
            "[...document.querySelectorAll('button')].filter(b => b.offsetParent)"
            ".map(b => b.getAttribute('aria-label') || b.textContent.trim())"
        )
        assert all(names), names
        # Tab through the whole page (every demo account's card: many more stops than a screenful) until
        # focus leaves it past the last control; the bound only stops a focus trap from hanging the test.
        controls = page.evaluate(
            "[...document.querySelectorAll('a[href], button, select, input, summary, [tabindex]')]"
            ".filter(e => e.getClientRects().length).length"
        )
        reached: list[str] = []
        outlines: set[str] = set()
        for _ in range(controls + 5):
            page.keyboard.press("Tab")
            focused = page.evaluate("""() => { const e = document.activeElement;
                if (e === document.body) return {name: "", outline: "body"};
                const s = getComputedStyle(e);
                return {name: e.getAttribute('aria-label') || e.textContent.trim(), outline: s.outlineStyle}; }""")
            if focused["outline"] == "body":  # past the last control focus leaves the page
                break
            reached.append(focused["name"])
            outlines.add(focused["outline"])
        else:
            raise AssertionError(f"focus never left the page after {controls + 5} Tabs: {reached[-10:]}")
        assert "Refresh all accounts" in reached
        for key in DEMO_ACCOUNTS:
            assert f"Refresh {account_name(key)}" in reached, (key, reached)
        assert "History" in reached
        assert outlines == {"solid"}, "a keyboard focus outline must be visible"


def test_empty_state_when_nothing_is_configured(browser: Browser) -> None:
    with serve(demo=False) as bare, open_page(browser, bare, wait_for="#empty:not([hidden])") as page:
        expect(page.locator("#empty")).to_contain_text("agentgauge doctor")
        expect(page.locator("#empty")).to_contain_text("agentgauge serve --demo")
        expect(page.locator(".card")).to_have_count(0)
        listed = page.locator("#unconfigured")
        expect(listed).to_contain_text("Not configured:")
        for provider in registry.all_providers():
            expect(listed).to_contain_text(provider.name)


# 6 (last: it also checks the requests of every page above) -------------------------------------
def test_no_request_leaves_the_origin(browser: Browser, server: ServerInfo) -> None:
    with open_page(browser, server) as page:
        wait_live(page)
        card = page.locator('[data-key="kimi/default"]')
        with page.expect_response(lambda r: "/api/history" in r.url):
            card.locator(".history > summary").click()
        expect(card.locator(".chart canvas")).to_be_visible(timeout=10_000)
        with page.expect_response(lambda r: "/api/refresh" in r.url):
            card.locator("button.refresh").click()
    urls = [u for _, u in REQUESTS]
    for part in (
        "/static/app.js",
        "/static/app.css",
        "/api/config",
        "/api/usage",
        "/api/events",
        "/api/history",
        "/api/refresh",
        "/static/vendor/uplot/uPlot.iife.min.js",
        "/static/vendor/uplot/uPlot.min.css",
    ):
        assert any(part in u for u in urls), f"no request for {part}: the recording is broken"
    foreign = [u for prefix, u in REQUESTS if not u.startswith(prefix)]
    assert not foreign, foreign
