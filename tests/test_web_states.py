"""The dashboard for states the simulator cannot produce, in real Chromium against the real server.

The store is seeded with ``harness_web.sample_states`` (stale, each kind of error, unlimited and
reset-pending windows, balances, breakdowns, partial data) behind closed polling gates, in a server
configured with those accounts only (``harness_seeded``), so the scheduler leaves them alone and the
page shows exactly them. Expected text is derived from those snapshots through the CLI's format
functions, which the parity test ties to the page's own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from agentgauge.cli import formats
from agentgauge.models import ProviderSnapshot

from .harness_seeded import serve_seeded
from .harness_web import ARTIFACTS, ServerInfo, chromium, open_page, sample_states

TZ_NAME = "America/New_York"
TZ = ZoneInfo(TZ_NAME)
# Error first (no numbers at all), then the tightest window: Claude 88 (stale), z.ai 55 (stale), Kimi 51
# (its 63 % weekly has reset, so 0), Codex 42 (the unlimited weekly never counts), Ollama 7.
URGENCY_ORDER = ["codex/work", "claude/default", "zai/default", "kimi/default", "codex/default", "ollama/default"]


class Seeded:
    def __init__(self, info: ServerInfo, states: list[ProviderSnapshot], now: datetime) -> None:
        self.info = info
        self.now = now
        self.states = {f"{p.provider}/{p.account}": p for p in states}

    def clock(self, when: datetime | None) -> str:
        assert when is not None
        return formats.fmt_clock(when, datetime.now(UTC), TZ)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def seeded() -> Iterator[Seeded]:
    now = datetime.now(UTC)
    states = sample_states(now)
    with serve_seeded(states, demo=True, history_days=0) as info:
        yield Seeded(info, states, now)


def page_on(browser: Browser, seeded: Seeded, **options: Any) -> Any:
    return open_page(browser, seeded.info, timezone_id=TZ_NAME, **options)


def card(page: Page, key: str) -> Any:
    return page.locator(f'.card[data-key="{key}"]')


def order(page: Page) -> list[str]:
    return page.eval_on_selector_all(".card", "cards => cards.map(c => c.dataset.key)")


def config_order(seeded: Seeded) -> list[str]:
    """The server's order of accounts (registry, then config), which the page keeps by default."""
    body = httpx.get(f"{seeded.info.url}/api/usage", timeout=10).json()
    return [f"{p['provider']}/{p['account']}" for p in body["providers"]]


def test_api_serves_the_seeded_states(seeded: Seeded) -> None:
    """Guards the other tests: if the scheduler had refetched, they would test the simulator instead."""
    body = httpx.get(f"{seeded.info.url}/api/usage", timeout=10).json()
    statuses = {f"{p['provider']}/{p['account']}": p["status"] for p in body["providers"]}
    assert statuses == {key: p.status.value for key, p in seeded.states.items()}


def test_stale_accounts_look_stale(browser: Browser, seeded: Seeded) -> None:
    with page_on(browser, seeded) as page:
        claude = card(page, "claude/default")
        # A badge with the time the failures began (failing_since), not the last success.
        expect(claude.locator(".status")).to_have_text(
            f"stale since {seeded.clock(seeded.states['claude/default'].failing_since)}"
        )
        # Its bars are muted next to a fresh account's.
        stale_bar = claude.locator('[data-window="session"] .bar').evaluate(
            "b => ({opacity: +getComputedStyle(b).opacity, filter: getComputedStyle(b).filter})"
        )
        fresh_bar = (
            card(page, "codex/default")
            .locator('[data-window="session"] .bar')
            .evaluate("b => ({opacity: +getComputedStyle(b).opacity, filter: getComputedStyle(b).filter})")
        )
        assert stale_bar["opacity"] < 0.75 and "grayscale" in stale_bar["filter"], stale_bar
        assert fresh_bar == {"opacity": 1, "filter": "none"}, fresh_bar
        badge = claude.locator(".status").evaluate("e => getComputedStyle(e).backgroundColor")
        assert badge not in ("rgba(0, 0, 0, 0)", "transparent"), "stale is a badge, not just a word"
        # The header says the tightest number is stale, and how many accounts are in trouble.
        tight = page.locator("#summary .tightest")
        expect(tight).to_contain_text("Claude · Session (5h) 88%")
        expect(tight.locator(".stale-note")).to_have_text(
            f"stale since {seeded.clock(seeded.states['claude/default'].failing_since)}"
        )
        expect(page.locator("#summary .health")).to_have_text("2 accounts stale, 1 account in error")
        expect(page.locator("#summary .headroom")).to_contain_text("Ollama")
        assert page.title() == "88% (stale) · agentgauge"


def test_errors_in_words_with_the_server_message_and_hint(browser: Browser, seeded: Seeded) -> None:
    with page_on(browser, seeded) as page:
        claude = card(page, "claude/default").locator(".problem")
        expect(claude.locator(".headline")).to_have_text("Can't reach Claude")
        expect(claude.locator(".msg")).to_have_text("usage request failed: ConnectError")
        expect(claude.locator(".hint")).to_have_text(seeded.states["claude/default"].error.hint)  # type: ignore[union-attr]
        work = card(page, "codex/work")
        expect(work.locator(".status")).to_have_text("error")
        expect(work.locator(".problem .headline")).to_have_text("agentgauge bug: please report")
        expect(work.locator(".problem .msg")).to_have_text("Codex: could not read the response (KeyError)")
        expect(work.locator(".history")).to_be_hidden()
        zai = seeded.states["zai/default"]
        again = formats.retry_at(zai.error.message, zai.fetched_at)  # type: ignore[union-attr]
        expect(card(page, "zai/default").locator(".problem .headline")).to_have_text(
            f"Rate limited, retrying at {seeded.clock(again)}"
        )
        # The headline leads; the class-name-ish server text is secondary, below it.
        order_in_box = claude.evaluate("b => [...b.children].map(c => c.className)")
        assert order_in_box.index("headline") < order_in_box.index("msg") < order_in_box.index("hint")


def test_sources_in_words(browser: Browser, seeded: Seeded) -> None:
    with page_on(browser, seeded) as page:
        expected = {key: formats.source_label(p.source_label, p.source) for key, p in seeded.states.items()}
        assert expected["claude/default"] == "OAuth login"  # no source_label: the words map
        for key, label in expected.items():
            expect(card(page, key).locator(".meta .source")).to_have_text(f"via {label}")


def test_units_once_unlimited_and_reset_pending(browser: Browser, seeded: Seeded) -> None:
    with page_on(browser, seeded) as page:
        kimi = card(page, "kimi/default")
        expect(kimi.locator('[data-window="session"] .amount')).to_have_text("102 / 200 requests")
        assert not re.search(r"(\w+) of [\d,.]+ \1", page.locator("#cards").inner_text()), "a unit is repeated"
        pending = kimi.locator('[data-window="weekly"]')
        expect(pending.locator(".pct")).to_have_text("0%")
        expect(pending.locator("[role=progressbar]")).to_have_attribute("aria-valuenow", "0")
        expect(pending.locator(".reset")).to_have_text("reset, confirming…")
        unlimited = card(page, "codex/default").locator('[data-window="weekly"]')
        expect(unlimited.locator(".pct")).to_have_text("unlimited")
        expect(unlimited.locator("[role=progressbar]")).to_have_count(0)
        assert "0%" not in unlimited.inner_text()
        # Percents under 10 keep one decimal where it says something, never "5.25 %" or "7.0 %".
        ollama = card(page, "ollama/default")
        expect(ollama.locator('[data-window="session"] .pct')).to_have_text("5.3%")
        expect(ollama.locator('[data-window="weekly"] .pct')).to_have_text("7%")


def test_balances_breakdowns_and_partial_data(browser: Browser, seeded: Seeded) -> None:
    with page_on(browser, seeded) as page:
        ollama = card(page, "ollama/default")
        expect(ollama.locator('[data-balance="prepaid"] .bal-value')).to_have_text("$12.50 / $50.00 left")
        prepaid = seeded.states["ollama/default"].balances[0]
        expect(ollama.locator('[data-balance="prepaid"] .reset')).to_have_text(
            f"expires {seeded.clock(prepaid.expires_at)}"
        )
        expect(ollama.locator('[data-balance="key_limit"] .bal-value')).to_have_text("$3.20 / $10.00 used (monthly)")
        expect(ollama.locator('[data-balance="key_limit"] .countdown')).to_have_text(
            re.compile(r"^resets in 1[12]d \d+h$")
        )
        assert ollama.locator(".balance [role=progressbar]").count() == 0, "balances are amounts, not percent bars"
        codex = card(page, "codex/default")
        expect(codex.locator('[data-balance="credits"] .bal-value')).to_have_text("1,250 / 5,000 credits left")

        tokens = seeded.states["codex/default"].breakdowns[0]
        block = codex.locator('[data-breakdown="tokens_daily"]')
        expect(block.locator("summary")).to_contain_text("Tokens per day")
        expect(block.locator(".bd-total")).to_have_text(
            formats.fmt_breakdown_total([i.value for i in tokens.items], tokens.unit)
        )
        expect(block.locator(".spark rect")).to_have_count(len(tokens.items))
        expect(block.locator("table")).to_be_hidden()
        block.locator("summary").click()
        rows = block.locator("tr")
        expect(rows).to_have_count(len(tokens.items))
        expect(rows.nth(3).locator("th")).to_have_text("Nov 23")
        expect(rows.nth(3).locator("td")).to_have_text("1.2M tokens")
        tools = card(page, "zai/default").locator('[data-breakdown="tool_calls"]')
        tools.locator("summary").click()
        expect(tools.locator("tr").first.locator("td")).to_have_text("120 / 1,000 calls")
        expect(tools.locator("tr").first.locator("th")).to_have_text("Web search")
        expect(tools.locator("tr").nth(1)).to_have_text(re.compile(r"^reader\s*80 calls$"))

        partial = card(page, "claude/default").locator(".partial")
        expect(partial).to_contain_text("Partial data")
        expect(partial.locator("li")).to_have_text("weekly_opus: 'utilization' is missing")
        expect(card(page, "ollama/default").locator(".partial")).to_be_hidden()


def test_cards_sort_by_urgency_and_the_choice_is_remembered(browser: Browser, seeded: Seeded) -> None:
    config = config_order(seeded)
    assert sorted(config) == sorted(URGENCY_ORDER) and config != URGENCY_ORDER
    with page_on(browser, seeded) as page:
        assert order(page) == config  # the default is the config order
        page.select_option("#order", "urgency")
        assert order(page) == URGENCY_ORDER
        page.reload()
        page.wait_for_selector(".card .bar")
        assert page.input_value("#order") == "urgency"
        assert order(page) == URGENCY_ORDER
        assert page.evaluate("localStorage.getItem('agentgauge.order')") == "urgency"
        page.select_option("#order", "config")
        assert order(page) == config


@pytest.mark.parametrize(
    ("name", "width", "height"), [("phone", 390, 844), ("tablet", 820, 1180), ("desktop", 1280, 800)]
)
def test_state_cards_align_and_fit(browser: Browser, seeded: Seeded, name: str, width: int, height: int) -> None:
    """Cards of very different content (an error card, one with balances and breakdowns) still make even rows."""
    with page_on(browser, seeded, viewport={"width": width, "height": height}) as page:
        rows: list[list[dict[str, Any]]] = page.evaluate("""() => {
            const rows = new Map();
            for (const c of document.querySelectorAll('.card')) {
              const r = c.getBoundingClientRect();
              const top = Math.round(r.top + scrollY);
              rows.set(top, [...(rows.get(top) || []), {key: c.dataset.key, height: Math.round(r.height)}]);
            }
            return [...rows.values()]; }""")
        for row in rows:
            heights = {c["height"] for c in row}
            assert max(heights) - min(heights) <= 1, row
        assert sum(len(r) for r in rows) == len(seeded.states)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"dashboard-states-{name}.png"), full_page=True)
