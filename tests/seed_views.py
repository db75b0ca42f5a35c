"""Account states for the seed-view tests (tests/test_api_views.py, tests/test_seed_clients.py),
written straight into the store behind closed polling gates so the server shows exactly them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from agentgauge.models import (
    Balance,
    Breakdown,
    BreakdownItem,
    ErrorInfo,
    ErrorKind,
    ProviderSnapshot,
    Status,
    Window,
)

from .harness_web import ServerInfo, running_server

H = timedelta(hours=1)
DAYS = 20  # more days than the seed's chart shows, so the 14-day cut is tested


def states(now: datetime) -> list[ProviderSnapshot]:
    """One state per demo account with what each seed view reads: Claude's model windows, Codex's
    credits and daily tokens, Kimi's request counts, z.ai's tool calls (stale), a reset that has
    passed (Ollama) and an account without credentials (codex/work)."""
    first_day = (now - timedelta(days=DAYS - 1)).date()
    return [
        ProviderSnapshot(
            provider="claude",
            name="Claude",
            status=Status.OK,
            plan="max_20x",
            source="oauth",
            windows=(
                Window(id="session", label="Session (5h)", used_pct=35.2, resets_at=now + 2 * H, window_seconds=18000),
                Window(id="weekly", label="Weekly", used_pct=62.1, resets_at=now + 75 * H, window_seconds=604800),
                Window(id="weekly_opus", label="Weekly · Opus", used_pct=12.0, resets_at=now + 75 * H),
                Window(id="weekly_sonnet", label="Weekly · Sonnet", used_pct=45.0, resets_at=now + 75 * H),
                Window(id="extra_usage", label="Extra usage (monthly)", used_pct=25.0, used=12.5, limit=50, unit="usd"),
            ),
            fetched_at=now - timedelta(seconds=30),
            last_success_at=now - timedelta(seconds=30),
        ),
        ProviderSnapshot(
            provider="codex",
            name="Codex",
            status=Status.OK,
            plan="pro",
            source="oauth",
            windows=(
                Window(
                    id="session", label="Session (5h)", used_pct=42.0, resets_at=now + 1.5 * H, window_seconds=18000
                ),
                Window(id="weekly", label="Weekly", used_pct=8.0, resets_at=now + 60 * H, window_seconds=604800),
            ),
            balances=(Balance(id="credits", label="Credits", unit="credits", remaining=125.5),),
            breakdowns=(
                Breakdown(
                    id="daily_tokens",
                    label="Tokens per day",
                    unit="tokens",
                    # newest first, as an upstream might send them: the view orders by date
                    items=tuple(
                        BreakdownItem(key=(first_day + timedelta(days=i)).isoformat(), value=1000 * (i + 1) + 0.5 * i)
                        for i in reversed(range(DAYS))
                    ),
                ),
            ),
            fetched_at=now - timedelta(seconds=40),
            last_success_at=now - timedelta(seconds=40),
        ),
        ProviderSnapshot(
            provider="codex",
            account="work",
            name="Codex",
            status=Status.UNCONFIGURED,
            error=ErrorInfo(kind=ErrorKind.AUTH, message="Codex: no credentials found", hint="Log in with codex."),
        ),
        ProviderSnapshot(
            provider="kimi",
            name="Kimi Code",
            status=Status.OK,
            plan="Allegretto",
            source="api_key",
            windows=(
                Window(
                    id="session",
                    label="Session (5h)",
                    used_pct=51.0,
                    resets_at=now + 2 * H,
                    window_seconds=18000,
                    used=102,
                    limit=200,
                    unit="requests",
                ),
                Window(
                    id="weekly",
                    label="Weekly",
                    used_pct=14.2,
                    resets_at=now + 100 * H,
                    window_seconds=604800,
                    used=291,
                    limit=2048,
                    unit="requests",
                ),
            ),
            fetched_at=now - timedelta(minutes=3),
            last_success_at=now - timedelta(minutes=3),
        ),
        ProviderSnapshot(
            provider="ollama",
            name="Ollama",
            status=Status.OK,
            plan="pro",
            source="cookie",
            windows=(
                Window(id="session", label="Session", used_pct=5.25, resets_at=now + 3 * H, window_seconds=18000),
                # its reset has passed: every view shows 0 % until a fetch confirms the new week
                Window(id="weekly", label="Weekly", used_pct=97.0, resets_at=now - timedelta(minutes=10)),
            ),
            fetched_at=now - timedelta(minutes=20),
            last_success_at=now - timedelta(minutes=20),
        ),
        ProviderSnapshot(
            provider="zai",
            name="z.ai",
            status=Status.STALE,
            plan="Pro",
            source="api_key",
            windows=(
                Window(id="session", label="Session (5h)", used_pct=2.0, resets_at=now + 4 * H, window_seconds=18000),
                Window(id="weekly", label="Weekly", used_pct=9.0, resets_at=now + 50 * H, window_seconds=604800),
                Window(
                    id="tools_monthly",
                    label="Tools (MCP, monthly)",
                    used_pct=4.7,
                    resets_at=now + 300 * H,
                    used=47,
                    limit=1000,
                    unit="requests",
                ),
            ),
            breakdowns=(
                Breakdown(
                    id="tools",
                    label="Calls per tool",
                    unit="calls",
                    items=(
                        BreakdownItem(key="search-prime", label="Web search", value=40),
                        BreakdownItem(key="web-reader", value=7, limit=500),
                    ),
                ),
            ),
            fetched_at=now - timedelta(seconds=60),
            last_success_at=now - timedelta(minutes=10),
            failing_since=now - timedelta(minutes=5),
            error=ErrorInfo(
                kind=ErrorKind.RATE_LIMITED,
                message="z.ai: usage was rate limited (HTTP 429); retry after 600 s",
                hint="agentgauge backs off automatically; the last good data stays shown.",
            ),
        ),
    ]


class Seeded:
    def __init__(self, info: ServerInfo, now: datetime) -> None:
        self.info = info
        self.now = now
        self.states = {key_of(p): p for p in states(now)}

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return httpx.get(self.info.url + path, timeout=120, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return httpx.post(self.info.url + path, timeout=120, **kw)


def key_of(p: ProviderSnapshot) -> str:
    return p.provider if p.account == "default" else f"{p.provider}:{p.account}"


def json_key(entry: dict[str, Any]) -> str:
    return entry["provider"] if entry["account"] == "default" else f"{entry['provider']}:{entry['account']}"


def settled(w: Window, now: datetime) -> tuple[float, float | None]:
    """(used_pct, used) as every view shows them: 0 once the window's reset has passed."""
    if w.resets_at is not None and w.resets_at <= now:
        return 0.0, (0.0 if w.used is not None else None)
    return w.used_pct, w.used


@contextmanager
def seeded_server() -> Iterator[Seeded]:
    now = datetime.now(UTC).replace(microsecond=0)
    with running_server(demo=True, history_days=0, seed=states(now)) as info:
        yield Seeded(info, now)
