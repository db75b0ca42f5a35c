"""The reset-cycle ledger and the forecast accuracy as people read them: the query layer on SQLite and
PostgreSQL against histories whose cycles are known in advance, ``GET /api/cycles``,
``/api/forecast/accuracy`` and ``/api/analytics/usage`` over real HTTP, and ``agentgauge history
cycles`` as a real process.

``build_history`` writes a history the way the engine does (samples, then the forecast of each fetch)
and returns what every cycle must look like, worked out from the generated values alone: the other
analytics tests use it too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from agentgauge.analytics import forecast_account
from agentgauge.cli.formats import cycle_cells
from agentgauge.models import ProviderSnapshot, Status, Window, utc_iso
from agentgauge.query.cycles import (
    accuracy_view,
    cycles_view,
    ledger_rows,
    names_of,
    select_series,
    tightest_usage,
)
from agentgauge.store import Store, open_store

from .harness_web import FAR_FUTURE, ServerInfo, running_server

SESSION = 5 * 3600
WEEK = 7 * 86400
STEP = 20 * 60  # seconds between fetches
HEARTBEAT = 3600
# Percent per hour of each session cycle in turn: 30, 45 and 25 %/h reach 100 % before the reset.
RATES = {("claude", "default"): (12.0, 30.0, 18.0, 45.0, 6.0, 25.0), ("codex", "work"): (8.0, 15.0, 40.0, 10.0)}
NAMES = {"claude": "Claude", "codex": "Codex"}
WEEKLY_RATE = 0.35  # Claude's weekly window, percent per hour
TZ_NAME = "Europe/Berlin"


@dataclass(frozen=True)
class Cycle:
    """A generated cycle as the ledger must report it."""

    provider: str
    account: str
    window: str
    start: int
    reset: int
    values: tuple[tuple[int, float], ...]  # every generated (ts, percent)

    @property
    def peak(self) -> float:
        return max(v for _, v in self.values)

    @property
    def hit(self) -> int | None:
        return next((t for t, v in self.values if v >= 100.0), None)

    def blocked(self, now: int) -> int:
        # Usage never falls inside a cycle: from the first 100 % it stays blocked to the reset (or now).
        return min(self.reset, now) - self.hit if self.hit is not None else 0


def _pct(rate: float, elapsed: float) -> float:
    return round(min(100.0, rate * elapsed / 3600.0), 2)


def aligned_now() -> datetime:
    ts = int(datetime.now(UTC).timestamp())
    return datetime.fromtimestamp(ts - ts % STEP, UTC)


def build_history(store: Store, now: datetime, *, days: float) -> tuple[list[Cycle], list[ProviderSnapshot]]:
    """``days`` of fetches every 20 minutes up to ``now`` for Claude (a 5-hour session and a weekly
    window) and Codex's ``work`` account (a session), each sample stored then forecast like the engine
    does. Returns every generated cycle and each account's last snapshot."""
    end = int(now.timestamp())
    start = end - int(days * 86400)
    cycles: dict[tuple[str, str, str, int], list[tuple[int, float]]] = {}
    last: dict[tuple[str, str], ProviderSnapshot] = {}
    for ts in range(start, end + 1, STEP):
        when = datetime.fromtimestamp(ts, UTC)
        for (provider, account), rates in RATES.items():
            k, offset = divmod(ts - start, SESSION)
            windows = [("session", "Session (5h)", SESSION, ts - offset, _pct(rates[k % len(rates)], offset))]
            if provider == "claude":
                into = (ts - start) % WEEK
                windows.append(("weekly", "Weekly", WEEK, ts - into, _pct(WEEKLY_RATE, into)))
            shown = []
            for wid, label, length, began, pct in windows:
                cycles.setdefault((provider, account, wid, began), []).append((ts, pct))
                reset = datetime.fromtimestamp(began + length, UTC)
                shown.append(Window(id=wid, label=label, used_pct=pct, resets_at=reset, window_seconds=length))
            snap = ProviderSnapshot(
                provider=provider,
                account=account,
                name=NAMES[provider],
                status=Status.OK,
                windows=tuple(shown),
                fetched_at=when,
                last_success_at=when,
            )
            store.record_samples(snap, when, HEARTBEAT)
            last[(provider, account)] = forecast_account(store, snap, when)
    lengths = {"session": SESSION, "weekly": WEEK}
    generated = [
        Cycle(p, a, w, began, began + lengths[w], tuple(values)) for (p, a, w, began), values in cycles.items()
    ]
    return generated, list(last.values())


def expected_row(c: Cycle, now: int) -> dict[str, Any]:
    ended = c.reset <= now
    last = c.values[-1][1]
    return {
        "started_at": utc_iso(datetime.fromtimestamp(c.start, UTC)),
        "resets_at": utc_iso(datetime.fromtimestamp(c.reset, UTC)),
        "ended": ended,
        "peak_pct": c.peak,
        "last_pct": last,
        "hit_100_at": utc_iso(datetime.fromtimestamp(c.hit, UTC)) if c.hit is not None else None,
        "blocked_seconds": c.blocked(now),
        "unused_pct_at_reset": round(100.0 - last, 2) if ended else None,
    }


EXPECTED_KEYS = (
    "started_at",
    "resets_at",
    "ended",
    "peak_pct",
    "last_pct",
    "hit_100_at",
    "blocked_seconds",
    "unused_pct_at_reset",
)


def _key(row: dict[str, Any]) -> tuple[str, str, str, str]:
    return (row["provider"], row["account"], row["window"], row["started_at"])


# -- the query layer on both databases ------------------------------------------------------------
def test_ledger_rows_report_every_generated_cycle(store: Store) -> None:
    now = aligned_now()
    cycles, _ = build_history(store, now, days=2)
    clock = int(now.timestamp())
    for provider, account, window in (("claude", "default", "session"), ("codex", "work", "session")):
        rows = ledger_rows(store, provider, account, window, now - timedelta(days=3), now, now)
        want = sorted((c for c in cycles if (c.provider, c.account, c.window) == (provider, account, window)),
                      key=lambda c: c.start)  # fmt: skip
        assert [{k: r[k] for k in EXPECTED_KEYS} for r in rows] == [expected_row(c, clock) for c in want]
    # The history holds cycles that hit 100 % and stayed blocked, closed ones and the running one.
    rows = ledger_rows(store, "claude", "default", "session", now - timedelta(days=3), now, now)
    hits = [r for r in rows if r["hit_100_at"]]
    assert hits and all(r["blocked_seconds"] > 0 and r["peak_pct"] == 100.0 for r in hits)
    assert rows[-1]["ended"] is False and rows[-1]["unused_pct_at_reset"] is None
    assert all(r["ended"] for r in rows[:-1])


def test_cycles_view_filters_names_and_orders(store: Store) -> None:
    now = aligned_now()
    _, last = build_history(store, now, days=1)
    names = names_of(last)
    everything = select_series(store)
    assert set(everything) == {
        ("claude", "default", "session"),
        ("claude", "default", "weekly"),
        ("codex", "work", "session"),
    }
    assert select_series(store, providers=["codex"]) == [("codex", "work", "session")]
    assert select_series(store, window="weekly") == [("claude", "default", "weekly")]
    assert select_series(store, providers=["claude"], account="work") == []
    view = cycles_view(store, everything, since=now - timedelta(hours=6), until=now, now=now, names=names)
    rows = view["cycles"]
    assert rows and view["until"] == utc_iso(now)
    assert [r["resets_at"] for r in rows] == sorted(r["resets_at"] for r in rows)
    assert {(r["name"], r["label"]) for r in rows} == {
        ("Claude", "Session (5h)"),
        ("Claude", "Weekly"),
        ("Codex", "Session (5h)"),
    }
    # Every row overlaps the asked range.
    since = utc_iso(now - timedelta(hours=6))
    assert since is not None and all(r["resets_at"] >= since for r in rows)
    # Without names a window is called by its id and an account by its provider id.
    bare = cycles_view(store, everything, since=now - timedelta(hours=6), until=now, now=now, names=names_of([]))
    assert {(r["name"], r["label"]) for r in bare["cycles"]} >= {("claude", "session"), ("codex", "session")}


def _snap(pct: float, reset: datetime) -> ProviderSnapshot:
    window = Window(id="session", label="Session (5h)", used_pct=pct, resets_at=reset, window_seconds=SESSION)
    return ProviderSnapshot(provider="claude", account="default", name="Claude", status=Status.OK, windows=(window,))


def test_accuracy_counts_the_intervals_that_held(store: Store) -> None:
    """Forecasts written by hand against cycles whose outcomes are known: which count, which held."""
    t0 = datetime(2026, 11, 2, 8, tzinfo=UTC)
    first, second, third = (t0 + timedelta(hours=5 * k) for k in (1, 2, 3))
    for minutes, pct in ((0, 5.0), (60, 30.0), (240, 62.0)):  # first cycle ends at 62 %
        store.record_samples(_snap(pct, first), t0 + timedelta(minutes=minutes), HEARTBEAT)
    for minutes, pct in ((300, 10.0), (420, 90.0), (480, 100.0)):  # second ends at 100 % (censored)
        store.record_samples(_snap(pct, second), t0 + timedelta(minutes=minutes), HEARTBEAT)
    store.record_samples(_snap(20.0, third), t0 + timedelta(minutes=620), HEARTBEAT)  # third still running
    key = ("claude", "default", "session")

    def at(minutes: int) -> int:
        return int((t0 + timedelta(minutes=minutes)).timestamp())

    def fc(minutes: int, reset: datetime, used: float, p10: float | None, p90: float | None) -> Any:
        p50 = None if p10 is None else (p10 + (p90 or p10)) / 2
        return (key, (at(minutes), int(reset.timestamp()), used, p10, p50, p90, None, "ok", "test"))

    store.log_forecasts(
        [
            fc(60, first, 30.0, 50.0, 70.0),  # held (62 inside)
            fc(120, first, 40.0, 63.0, 80.0),  # missed
            fc(180, first, 50.0, 55.0, 65.0),  # held
            fc(200, first, 55.0, None, None),  # learning: no interval, not counted
            fc(230, second, 55.0, 10.0, 20.0),  # made during the first cycle for another reset: not counted
            fc(330, second, 10.0, 105.0, 140.0),  # demand above 100 and the outcome capped at 100 (censored): held
            fc(440, second, 92.0, 95.0, 99.0),  # p90 short of 100: missed
            fc(485, second, 100.0, 100.0, 100.0),  # already at 100 %: nothing left to test
            fc(630, third, 20.0, 30.0, 40.0),  # the running cycle has no outcome yet
        ]
    )
    now = t0 + timedelta(minutes=640)
    names = names_of([_snap(0, first)])
    view = accuracy_view(store, [key], since=t0 - timedelta(days=1), until=now, now=now, names=names)
    (row,) = view["windows"]
    assert (row["name"], row["label"], row["closed_cycles"], row["forecasts"], row["held"]) == (
        "Claude",
        "Session (5h)",
        2,
        5,
        3,
    )
    assert row["coverage"] == round((2 / 3 + 1 / 2) / 2, 4)  # each cycle counts once
    assert row["forecast_coverage"] == round(3 / 5, 4)
    assert view["overall"]["closed_cycles"] == 2 and view["interval"] == 0.8
    # A range that holds no closed cycle says so instead of inventing a number.
    empty = accuracy_view(store, [key], since=now, until=now + timedelta(hours=1), now=now, names=names)
    assert empty["windows"] == [] and empty["overall"]["coverage"] is None


def test_tightest_usage_follows_each_accounts_most_used_window(store: Store) -> None:
    now = aligned_now()
    _, last = build_history(store, now, days=1.5)
    view = tightest_usage(store, last, since=now - timedelta(days=1), until=now, points=50)
    assert view["resolution"] == "raw"
    by_account = {(s["provider"], s["account"]): s for s in view["series"]}
    assert set(by_account) == {("claude", "default"), ("codex", "work")}
    for snap in last:
        tightest = max(snap.windows, key=lambda w: w.used_pct)
        series = by_account[(snap.provider, snap.account)]
        assert (series["window"], series["label"], series["name"]) == (tightest.id, tightest.label, snap.name)
        assert 2 <= len(series["t"]) <= 50 and series["used_pct"][-1] == tightest.used_pct
    longer = tightest_usage(store, last, since=now - timedelta(days=30), until=now, points=50)
    assert longer["resolution"] == "hourly" and all(len(s["t"]) <= 50 for s in longer["series"])


# -- over HTTP ---------------------------------------------------------------------------------------
@dataclass
class Served:
    info: ServerInfo
    now: datetime
    cycles: list[Cycle]
    last: list[ProviderSnapshot]

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(self.info.url + path, params=params, timeout=30)


def seed_states(now: datetime) -> list[ProviderSnapshot]:
    """The two accounts as the server shows them (seeded behind closed gates: never fetched)."""
    reset = now + timedelta(hours=2)
    session = Window(id="session", label="Session (5h)", used_pct=40.0, resets_at=reset, window_seconds=SESSION)
    weekly = Window(id="weekly", label="Weekly", used_pct=20.0, resets_at=now + timedelta(days=3), window_seconds=WEEK)
    return [
        ProviderSnapshot(
            provider=provider,
            account=account,
            name=NAMES[provider],
            status=Status.OK,
            windows=(session, weekly) if provider == "claude" else (session,),
            fetched_at=now,
            last_success_at=now,
        )
        for provider, account in RATES
    ]


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    now = aligned_now()
    with running_server(demo=False, seed=seed_states(now)) as info:
        cycles, last = build_history(info.store, now, days=3)
        yield Served(info, now, cycles, last)


def test_api_cycles_answers_the_ledger(served: Served) -> None:
    body = served.get("/api/cycles", since=utc_iso(served.now - timedelta(days=4))).json()
    rows = body["cycles"]
    clock = int(datetime.fromisoformat(body["generated_at"].replace("Z", "+00:00")).timestamp())
    want = {
        (c.provider, c.account, c.window, utc_iso(datetime.fromtimestamp(c.start, UTC))): expected_row(c, clock)
        for c in served.cycles
    }
    assert {_key(r): {k: r[k] for k in EXPECTED_KEYS} for r in rows} == want
    assert [r["resets_at"] for r in rows] == sorted(r["resets_at"] for r in rows)
    assert {(r["name"], r["label"]) for r in rows} == {
        ("Claude", "Session (5h)"),
        ("Claude", "Weekly"),
        ("Codex", "Session (5h)"),
    }
    # Filters: provider, account, window; the default range is the last 30 days.
    codex = served.get("/api/cycles", provider="codex").json()["cycles"]
    assert codex and {(r["provider"], r["account"], r["window"]) for r in codex} == {("codex", "work", "session")}
    weekly = served.get("/api/cycles", window="weekly", account="default").json()["cycles"]
    assert weekly and {r["window"] for r in weekly} == {"weekly"}
    recent = served.get("/api/cycles", since=utc_iso(served.now - timedelta(hours=5))).json()["cycles"]
    assert 0 < len(recent) < len(rows)
    assert served.get("/api/cycles").headers["cache-control"] == "no-store"


def test_api_cycles_refuses_bad_parameters(served: Served) -> None:
    assert served.get("/api/cycles", since="yesterday").status_code == 400
    late = served.get("/api/cycles", since=utc_iso(served.now), until=utc_iso(served.now - timedelta(hours=1)))
    assert late.status_code == 400 and "before" in late.json()["error"]
    missing = served.get("/api/cycles", provider="nope")
    assert missing.status_code == 404 and "nope" in missing.json()["error"]
    # A configured provider without history is no error: it has no cycles yet.
    assert served.get("/api/cycles", provider="zai").json()["cycles"] == []
    assert served.get("/api/forecast/accuracy", provider="nope").status_code == 404
    for days in ("0", "367", "x", "7.5"):
        assert served.get("/api/analytics/usage", days=days).status_code == 400, days
    assert served.get("/api/analytics/usage", points="1").status_code == 400


def test_api_accuracy_matches_the_query_layer(served: Served) -> None:
    since = served.now - timedelta(days=4)
    body = served.get("/api/forecast/accuracy", since=utc_iso(since)).json()
    names = names_of(served.last)
    now = datetime.fromisoformat(body["generated_at"].replace("Z", "+00:00"))
    direct = accuracy_view(served.info.store, select_series(served.info.store), since=since, until=now, now=now,
                           names=names)  # fmt: skip
    assert body["windows"] == direct["windows"] and body["overall"] == direct["overall"]
    closed = [c for c in served.cycles if c.reset <= now.timestamp() and c.window == "session"]
    sessions = [w for w in body["windows"] if w["window"] == "session"]
    assert sum(w["closed_cycles"] for w in sessions) == len(closed)  # every closed cycle was forecast
    assert all(0.0 <= w["coverage"] <= 1.0 for w in body["windows"])


def test_api_usage_over_time_has_one_series_per_account(served: Served) -> None:
    body = served.get("/api/analytics/usage", days="7").json()
    assert body["days"] == 7 and body["resolution"] == "hourly"
    assert {(s["provider"], s["account"]) for s in body["series"]} == {("claude", "default"), ("codex", "work")}
    for s in body["series"]:
        assert len(s["t"]) == len(s["used_pct"]) > 10 and s["t"] == sorted(s["t"])
    spec = served.get("/api/openapi.json").json()
    assert {"/api/cycles", "/api/forecast/accuracy", "/api/analytics/usage"} <= set(spec["paths"])
    assert "Cycle" in spec["components"]["schemas"]


# -- the CLI -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, datetime, list[Cycle]]:
    path = tmp_path_factory.mktemp("ledger") / "agentgauge.db"
    store = open_store(str(path), data_dir=path.parent)
    now = aligned_now()
    cycles, last = build_history(store, now, days=2)
    for snap in last:
        store.save_state(snap, next_allowed_at=FAR_FUTURE, failures=0)
    store.close()
    return path, now, cycles


def agentgauge(database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AGENTGAUGE_DATABASE_URL": str(database),
        "TZ": TZ_NAME,
        "COLUMNS": "160",
    }
    return subprocess.run(
        [sys.executable, "-m", "agentgauge", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_history_cycles_prints_the_ledger_in_the_dashboards_words(database: tuple[Path, datetime, list[Cycle]]) -> None:
    path, _, cycles = database
    done = agentgauge(path, "history", "cycles", "--provider", "claude", "--window", "session", "--since", "3d")
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "Claude" in text and "Session (5h)" in text and "Codex" not in text
    tz = ZoneInfo(TZ_NAME)
    listed = json.loads(
        agentgauge(
            path, "history", "cycles", "--provider", "claude", "--window", "session", "--since", "3d", "--json"
        ).stdout
    )
    now = datetime.fromisoformat(listed["generated_at"].replace("Z", "+00:00"))
    lines = text.splitlines()
    for row in listed["cycles"]:
        cells = cycle_cells(row, now, tz)
        # Each cycle is one line holding its cells in order (the same words as the dashboard's table);
        # a running cycle's blocked time grows between the two runs.
        shown = ("started", "reset", "peak", "hit", "blocked", "unused") if row["ended"] else ("started", "reset")
        needle = [cells[k] for k in shown]
        assert any(_in_order(line, needle) for line in lines), (needle, text)
    assert "Forecast accuracy" in text
    claude_sessions = [c for c in cycles if c.provider == "claude" and c.window == "session"]
    assert len(listed["cycles"]) == len(claude_sessions)
    assert {"windows", "overall"} <= set(listed["accuracy"])


def _in_order(line: str, parts: list[str]) -> bool:
    at = 0
    for part in parts:
        found = line.find(part, at)
        if found < 0:
            return False
        at = found + len(part)
    return True


def test_history_cycles_refuses_a_bad_time_and_says_when_nothing_matches(
    database: tuple[Path, datetime, list[Cycle]],
) -> None:
    path, _, _ = database
    bad = agentgauge(path, "history", "cycles", "--since", "last tuesday")
    assert bad.returncode == 2 and "not a time" in bad.stderr
    backwards = agentgauge(path, "history", "cycles", "--since", "1h", "--until", "2h")
    assert backwards.returncode == 2 and "before" in backwards.stderr
    none = agentgauge(path, "history", "cycles", "--provider", "zai")
    assert none.returncode == 0 and "No reset cycles recorded" in none.stdout
