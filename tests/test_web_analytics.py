"""Forecasts on the dashboard and the analytics page, in real Chromium against the real server.

The server shows seeded accounts (behind closed gates: never fetched) whose windows carry each
forecast verdict, over three weeks of history written the way the engine writes it
(``test_cycles.build_history``: samples, then each fetch's forecast), and agent logs in its home for
the spend view. What the pages show is checked against the API's answers, against the generated
cycles, and, for words and numbers, against the CLI's formats (``cli/formats.py``). Screenshots go to
test-artifacts/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from agentgauge.cli.formats import cycle_cells, fmt_forecast, fmt_forecast_range, fmt_pct
from agentgauge.models import (
    ErrorInfo,
    ErrorKind,
    Forecast,
    ProviderSnapshot,
    Status,
    Window,
    utc_iso,
)

from .conftest import _FOREIGN_ENV
from .harness_web import ARTIFACTS, ServerInfo, chromium, serve
from .loggen import Options, generate
from .test_cycles import SESSION, WEEK, Cycle, aligned_now, build_history

TZ_NAME = "Europe/Berlin"
TZ = ZoneInfo(TZ_NAME)
HISTORY_DAYS = 20
MODULE = "new URL('static/analytics.js', document.baseURI).href"


def seeded_states(now: datetime) -> list[ProviderSnapshot]:
    """What the cards show: every verdict once, a stale account, a reset-pending window."""
    h = timedelta(hours=1)

    def fc(verdict: str, runs_out: datetime | None = None, pace: float = 40.0) -> Forecast:
        learning = verdict == "learning"
        return Forecast(
            verdict=verdict,
            pace_pct=pace,
            pace=1.5,
            low_pct=None if learning else 55.5,
            expected_pct=None if learning else 81.2,
            high_pct=None if learning else 131.0,
            runs_out_at=runs_out,
            made_at=now - timedelta(minutes=3),
        )

    def win(wid: str, label: str, pct: float, reset: datetime, length: int, **extra: Any) -> Window:
        return Window(id=wid, label=label, used_pct=pct, resets_at=reset, window_seconds=length, **extra)

    return [
        ProviderSnapshot(
            provider="claude",
            name="Claude",
            status=Status.OK,
            windows=(
                win(
                    "session",
                    "Session (5h)",
                    72.0,
                    now + 2 * h,
                    SESSION,
                    forecast=fc("will_run_out", now + timedelta(minutes=80), 60.0),
                ),
                win("weekly", "Weekly", 30.0, now + 50 * h, WEEK, forecast=fc("ok", pace=70.5)),
            ),
            fetched_at=now,
            last_success_at=now,
        ),
        ProviderSnapshot(
            provider="codex",
            account="work",
            name="Codex",
            status=Status.OK,
            windows=(win("session", "Session (5h)", 12.0, now + 3 * h, SESSION, forecast=fc("surplus", pace=40.0)),),
            fetched_at=now,
            last_success_at=now,
        ),
        ProviderSnapshot(
            provider="zai",
            name="z.ai",
            status=Status.STALE,
            windows=(win("session", "Session (5h)", 66.0, now + 4 * h, SESSION, forecast=fc("watch", pace=20.0)),),
            fetched_at=now,
            last_success_at=now - 2 * h,
            failing_since=now - h,
            error=ErrorInfo(kind=ErrorKind.NETWORK, message="usage request failed: ConnectError", hint="Check."),
        ),
        ProviderSnapshot(
            provider="kimi",
            name="Kimi Code",
            status=Status.OK,
            windows=(
                win("session", "Session (5h)", 3.0, now + 4.9 * h, SESSION, forecast=fc("learning", pace=2.0)),
                win("weekly", "Weekly", 63.0, now - timedelta(minutes=10), WEEK, forecast=fc("ok")),  # reset passed
            ),
            fetched_at=now,
            last_success_at=now,
        ),
    ]


@dataclass
class Site:
    browser: Browser
    info: ServerInfo
    now: datetime
    states: list[ProviderSnapshot]
    cycles: list[Cycle]

    def api(self, path: str, **params: Any) -> Any:
        resp = httpx.get(self.info.url + path, params=params, timeout=60)
        resp.raise_for_status()
        return resp.json()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    home = tmp_path_factory.mktemp("analytics-home")
    with pytest.MonkeyPatch.context() as mp:
        # The per-test clean environment (conftest) is not there yet for a module's server: make it here.
        for name in list(os.environ):
            if name.startswith("AGENTGAUGE_") and name != "AGENTGAUGE_TEST_PG_URL":
                mp.delenv(name, raising=False)
        for name in _FOREIGN_ENV:
            mp.delenv(name, raising=False)
        mp.setenv("HOME", str(home))
        mp.setenv("XDG_CONFIG_HOME", str(home / ".config"))
        mp.setenv("XDG_DATA_HOME", str(home / ".local/share"))
        mp.setenv("AGENTGAUGE_NO_PLUGINS", "1")
        generate(Options(out=home, size_mb=1, seed=8, days=45, end=date.today()))  # agent logs: the spend view
        now = aligned_now()
        states = seeded_states(now)
        with chromium() as browser, serve(demo=False, seed=states) as info:
            cycles, _ = build_history(info.store, now, days=HISTORY_DAYS)
            yield Site(browser, info, now, states, cycles)


@contextmanager
def opened(site: Site, path: str, wait_for: str, **options: Any) -> Iterator[Page]:
    """A fresh context on ``path`` in Berlin time; fails on any page error or a request off the origin."""
    context = site.browser.new_context(
        **{"viewport": {"width": 1280, "height": 900}, "timezone_id": TZ_NAME, **options}
    )
    page = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    try:
        page.goto(site.info.url + path)
        page.wait_for_selector(wait_for, timeout=30_000)
        yield page
    finally:
        context.close()
    assert not errors, errors
    assert requests and all(u.startswith(site.info.url + "/") for u in requests), requests


def wait_view(page: Page, condition: str, timeout: float = 30_000) -> None:
    """Wait until the analytics page's ``view`` (``v`` in ``condition``, a JS expression) satisfies it.
    The module is imported first, once: a predicate that returns import()'s promise is truthy at once,
    so it would not wait at all. The predicate is a function, not an expression string: Playwright
    evals an expression on every poll, which the page's CSP (no 'unsafe-eval') refuses."""
    page.evaluate(f"async () => {{ window.__analytics = await import({MODULE}); }}")
    page.wait_for_function(f"() => {{ const v = window.__analytics.view; return {condition}; }}", timeout=timeout)


def loaded(page: Page) -> None:
    wait_view(page, "v.cycles.length > 0 && !v.loading")
    page.wait_for_function("() => !document.body.hasAttribute('aria-busy')", timeout=30_000)


def page_view(page: Page) -> dict[str, Any]:
    view: dict[str, Any] = page.evaluate(
        f"""async () => {{ const m = await import({MODULE}); const v = m.view;
          return {{ days: v.days, since: v.since, until: v.until, cycles: v.cycles, accuracy: v.accuracy,
                    usage: v.usage, series: v.chart ? v.chart.series.slice(1).map(s => s.label) : [] }}; }}"""
    )
    return view


# -- the dashboard's cards -----------------------------------------------------------------------
def test_cards_show_the_pace_marker_and_the_verdict_in_words(site: Site) -> None:
    with opened(site, "/", ".card .bar") as page:
        expect(page.locator(".card .forecast").first).to_be_visible()
        checked = 0
        for p in site.states:
            for w in p.windows:
                row = page.locator(f'.card[data-key="{p.provider}/{p.account}"] .win[data-window="{w.id}"]')
                f = w.forecast
                if f is None or (w.resets_at is not None and w.resets_at <= datetime.now(UTC)):
                    # A passed reset shows "reset, confirming…": the old cycle's forecast is gone.
                    expect(row.locator(".forecast")).to_have_count(0)
                    expect(row.locator(".pace")).to_have_count(0)
                    continue
                words = row.locator(".forecast")
                expect(words).to_have_text(fmt_forecast(f.verdict, f.runs_out_at, datetime.now(UTC), TZ))
                assert words.get_attribute("data-verdict") == f.verdict
                assert words.get_attribute("title") == fmt_forecast_range(f.low_pct, f.expected_pct, f.high_pct)
                # The marker sits at pace_pct of the bar's width.
                bar = row.locator(".bar").bounding_box()
                mark = row.locator(".bar .pace").bounding_box()
                assert bar is not None and mark is not None
                centre = mark["x"] + mark["width"] / 2 - bar["x"]
                assert abs(centre - bar["width"] * f.pace_pct / 100) <= 1.5, (p.provider, w.id)
                checked += 1
        assert checked == 5
        runs_out = page.locator('.card[data-key="claude/default"] .win[data-window="session"] .forecast')
        assert (runs_out.text_content() or "").startswith("runs out ~")
        # A stale account's forecast is as muted as its bars; a fresh warning is not.
        colour = "e => getComputedStyle(e).color"
        muted = page.locator('.card[data-key="zai/default"] .reset').first.evaluate(colour)
        assert page.locator('.card[data-key="zai/default"] .forecast').evaluate(colour) == muted
        assert runs_out.evaluate(colour) != muted
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator('.card[data-key="claude/default"]').screenshot(path=str(ARTIFACTS / "dashboard-forecast.png"))
        # The header links to the analytics page, and it back.
        page.locator("#to-analytics").click()
        page.wait_for_url("**/analytics")
        page.locator("#to-limits").click()
        page.wait_for_selector(".card .bar")


# -- the analytics page ----------------------------------------------------------------------------
def week_start(when: datetime) -> date:
    local = when.astimezone(TZ).date()
    return local - timedelta(days=local.weekday())


def test_analytics_page_shows_usage_hits_cycles_and_accuracy(site: Site) -> None:
    with opened(site, "/analytics", "#cycles-table tbody tr") as page:
        loaded(page)
        view = page_view(page)
        assert view["days"] == 30
        since = datetime.fromtimestamp(view["since"] / 1000, UTC)
        until = datetime.fromtimestamp(view["until"] / 1000, UTC)
        api = site.api("/api/cycles", since=utc_iso(since), until=utc_iso(until))
        assert view["cycles"] == api["cycles"]
        # Usage over time: one line per account with history, named by account and tightest window.
        usage = site.api("/api/analytics/usage", days=30)
        with_data = [s for s in usage["series"] if s["t"]]
        assert {(s["provider"], s["account"]) for s in with_data} == {("claude", "default"), ("codex", "work")}
        labels = {f"{s['name']}{'' if s['account'] == 'default' else ' (' + s['account'] + ')'} · {s['label']}"
                  for s in with_data}  # fmt: skip
        assert set(view["series"]) == labels
        # Limit hits per week: the bars count the generated cycles that reached 100 % in each local week.
        drawn = page.eval_on_selector_all(
            "#hits-chart rect.hit-bar", "els => els.map(e => [e.dataset.week, Number(e.dataset.count)])"
        )
        hits = [c for c in site.cycles if c.hit is not None and since.timestamp() <= c.hit <= until.timestamp()]
        want: dict[str, int] = {}
        week = week_start(since)
        while week <= until.astimezone(TZ).date():
            want[week.isoformat()] = 0
            week += timedelta(days=7)
        for c in hits:
            want[week_start(datetime.fromtimestamp(c.hit or 0, UTC)).isoformat()] += 1
        assert dict(drawn) == want and sum(want.values()) == len(hits) > 3
        expect(page.locator("#hits-total")).to_contain_text(f"{len(hits)} cycles reached 100 %")
        # The ledger: newest reset first, each cell in the CLI's words.
        rows = page.eval_on_selector_all(
            "#cycles-table tbody tr",
            "trs => trs.map(tr => ({key: [tr.dataset.provider, tr.dataset.account, tr.dataset.window,"
            " tr.dataset.resets], cells: [...tr.querySelectorAll('td[data-col]')].map(td => td.textContent)}))",
        )
        ordered = sorted(api["cycles"], key=lambda r: r["resets_at"], reverse=True)
        assert len(rows) == min(200, len(ordered))
        now = datetime.now(UTC)
        for shown, row in zip(rows[:30], ordered[:30], strict=True):
            cells = cycle_cells(row, now, TZ)
            assert shown["key"][3] == row["resets_at"]
            want_cells = [cells[k] for k in ("started", "reset", "peak", "hit", "blocked", "unused")]
            if not row["ended"]:
                want_cells[4] = shown["cells"][4]  # a running cycle's blocked time moves on
            assert shown["cells"] == want_cells
        # Forecast accuracy, as the API measured it.
        accuracy = site.api("/api/forecast/accuracy", since=utc_iso(since), until=utc_iso(until))
        overall = accuracy["overall"]
        assert overall["closed_cycles"] > 10
        expect(page.locator("#accuracy-summary")).to_contain_text(fmt_pct(overall["coverage"] * 100))
        expect(page.locator("#accuracy-table tbody tr")).to_have_count(len(accuracy["windows"]))
        # The spend from local logs sits beside the ledger.
        expect(page.locator("#spend")).to_be_visible()
        expect(page.locator("#spend-total-cost")).to_contain_text("$")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "analytics-desktop.png"), full_page=True)


def test_cycles_table_sorts_and_filters(site: Site) -> None:
    with opened(site, "/analytics", "#cycles-table tbody tr") as page:
        loaded(page)
        cycles = page_view(page)["cycles"]

        def column(name: str) -> list[str]:
            return page.eval_on_selector_all(
                f"#cycles-table tbody td[data-col='{name}']", "tds => tds.map(td => td.textContent)"
            )

        peak = page.locator("button.sort[data-sort='peak_pct']")
        peak.click()
        expect(page.locator("th:has(button[data-sort='peak_pct'])")).to_have_attribute("aria-sort", "descending")
        top = sorted(cycles, key=lambda r: r["peak_pct"], reverse=True)[: len(column("peak_pct"))]
        assert column("peak_pct") == [fmt_pct(r["peak_pct"]) for r in top]
        peak.click()
        expect(page.locator("th:has(button[data-sort='peak_pct'])")).to_have_attribute("aria-sort", "ascending")
        assert column("peak_pct")[0] == fmt_pct(min(r["peak_pct"] for r in cycles))
        # Sorting by the first 100 % keeps the cycles that never got there last.
        page.locator("button.sort[data-sort='hit_100_at']").click()
        hits = column("hit_100_at")
        count = sum(1 for r in cycles if r["hit_100_at"])
        assert all(h != "–" for h in hits[:count]) and all(h == "–" for h in hits[count:])
        # One account only.
        page.select_option("#cycles-account", "codex/work")
        providers = page.eval_on_selector_all("#cycles-table tbody tr", "trs => trs.map(tr => tr.dataset.provider)")
        assert providers and set(providers) == {"codex"}
        expect(page.locator("#cycles-note")).to_contain_text(
            f"{sum(1 for r in cycles if r['provider'] == 'codex')} cycles"
        )


def test_range_buttons_reload_every_part(site: Site) -> None:
    with opened(site, "/analytics", "#cycles-table tbody tr") as page:
        loaded(page)
        page.locator("#an-ranges button[data-days='7']").click()
        wait_view(page, "v.days === 7 && !v.loading && v.since > 0")
        loaded(page)
        view = page_view(page)
        assert abs((view["until"] - view["since"]) / 1000 - 7 * 86400) < 5
        assert all(r["resets_at"] >= utc_iso(datetime.fromtimestamp(view["since"] / 1000, UTC)) for r in view["cycles"])
        assert len(page.locator("#hits-chart rect.hit-bar").all()) == 2  # seven days touch two local weeks
        expect(page.locator("#an-ranges button[data-days='7']")).to_have_attribute("aria-pressed", "true")
        spend_days = page.evaluate(
            "import(new URL('static/spend.js', document.baseURI).href).then(m => m.spendView.days)"
        )
        assert spend_days == 7  # the spend beside it follows the page's range
        expect(page.locator("#spend-total")).to_contain_text("in 7 days")
        # The choice is remembered.
        page.reload()
        page.wait_for_selector("#cycles-table tbody tr")
        loaded(page)
        assert page_view(page)["days"] == 7


@pytest.mark.parametrize(
    ("name", "viewport", "scheme"), [("phone", (390, 844), "light"), ("desktop-dark", (1280, 900), "dark")]
)
def test_analytics_page_fits_phones_and_dark_mode(
    site: Site, name: str, viewport: tuple[int, int], scheme: str
) -> None:
    width, height = viewport
    with opened(site, "/analytics", "#cycles-table tbody tr", viewport={"width": width, "height": height},
                color_scheme=scheme) as page:  # fmt: skip
        loaded(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # the table scrolls, not the page
        page.screenshot(path=str(ARTIFACTS / f"analytics-{name}.png"), full_page=True)


def test_analytics_page_under_a_sub_path(site: Site) -> None:
    with serve(demo=False, root_path="/gauge") as info:
        context = site.browser.new_context()
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(info.url + "/analytics")
        wait_view(page, "!v.loading && v.since > 0")
        assert page.locator("#notice").is_hidden()  # every API call answered under the sub-path
        expect(page.locator("#cycles-note")).to_have_text("No reset cycle recorded in this range.")
        page.locator("#to-limits").click()
        page.wait_for_url(info.url + "/")
        context.close()
        assert not errors, errors
