"""Reads over the reset-cycle ledger and the forecast log: the ledger rows of any set of windows
(``/api/cycles``, ``agentgauge history cycles``, exports), the forecasts' measured accuracy
(``/api/forecast/accuracy``) and the usage over time of each account's tightest window (the
analytics view's chart). Reads only what the engine stored.

Blocked time: the ledger adds up the time between samples at 100 %, but samples are written on a
change (plus a heartbeat), and usage never falls inside a cycle; so a cycle whose last sample is at
100 % stayed blocked from that sample to its reset (to now while it runs), and the rows say so.

Accuracy: a forecast belongs to the cycle it was made in (made between the cycle's start and its
reset, for the same reset time within the ledger's jitter tolerance). Its 80 % interval (p10-p90)
holds the outcome when the cycle's last recorded value lies inside it; an outcome at 100 % is
censored (the demand was at least that), so it counts as held when the p90 reaches 100, as in
``bench/forecast.py``. Forecasts made once the window was already at 100 % (no interval left to
test) and ``learning`` ones (no interval) are left out. A window's ``coverage`` is the mean over its
closed cycles of the share of each cycle's forecasts that held the outcome: every cycle counts
once, however often it was forecast.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..models import ProviderSnapshot, utc_iso
from ..store import Store
from ..store.cycles import MIN_TOLERANCE, CycleRow
from .agents import window_for
from .history import HOURLY_MAX_SPAN, RAW_MAX_SPAN, history

__all__ = ["Names", "accuracy_view", "cycles_view", "ledger_rows", "names_of", "select_series", "tightest_usage"]

INTERVAL = 0.8  # the forecasts' p10-p90 interval: it should hold the outcome this share of the time


@dataclass(frozen=True)
class Names:
    """Display names: each account's provider name and each window's label (from the snapshots)."""

    accounts: dict[tuple[str, str], str]
    windows: dict[tuple[str, str, str], str]

    def account(self, provider: str, account: str) -> str:
        return self.accounts.get((provider, account), provider)

    def window(self, provider: str, account: str, window: str) -> str:
        return self.windows.get((provider, account, window), window)


def names_of(accounts: Iterable[ProviderSnapshot | None]) -> Names:
    found, labels = {}, {}
    for p in accounts:
        if p is None:
            continue
        found[(p.provider, p.account)] = p.name
        for w in p.windows:
            labels[(p.provider, p.account, w.id)] = w.label
    return Names(found, labels)


def select_series(
    store: Store,
    *,
    providers: Sequence[str] = (),
    account: str | None = None,
    window: str | None = None,
) -> list[tuple[str, str, str]]:
    """The stored (provider, account, window) series that match; empty filters match everything."""
    return [
        key
        for key in store.series()
        if (not providers or key[0] in providers)
        and (account is None or key[1] == account)
        and (window is None or key[2] == window)
    ]


def _iso(ts: int | None) -> str | None:
    return utc_iso(datetime.fromtimestamp(ts, UTC)) if ts is not None else None


def ledger_rows(
    store: Store, provider: str, account: str, window: str, since: datetime, until: datetime, now: datetime
) -> list[dict[str, Any]]:
    """The ledger of one window, one row per cycle overlapping [since, until], oldest first."""
    rows = []
    clock = int(now.timestamp())
    for c in store.cycles(provider, account, window, since, until):
        ended = c.closed or c.resets_at <= clock
        blocked = c.blocked_seconds
        if c.last_pct >= 100.0:  # still at 100 % when last seen: blocked until the reset (see above)
            end = c.resets_at if c.resets_at <= clock else c.last_ts if c.closed else clock
            blocked += max(0, end - c.last_ts)
        rows.append(
            {
                "provider": provider,
                "account": account,
                "window": window,
                "started_at": _iso(c.started_at),
                "resets_at": _iso(c.resets_at),
                "ended": ended,
                "peak_pct": c.peak_pct,
                "last_pct": c.last_pct,
                "hit_100_at": _iso(c.hit_100_at),
                "blocked_seconds": blocked,
                "unused_pct_at_reset": round(max(0.0, 100.0 - c.last_pct), 2) if ended else None,
                "samples": c.samples,
            }
        )
    return rows


def _labelled(row: dict[str, Any], names: Names) -> dict[str, Any]:
    provider, account, window = row["provider"], row["account"], row["window"]
    return {
        "provider": provider,
        "account": account,
        "name": names.account(provider, account),
        "window": window,
        "label": names.window(provider, account, window),
        **{k: v for k, v in row.items() if k not in ("provider", "account", "window")},
    }


def cycles_view(
    store: Store,
    series: Sequence[tuple[str, str, str]],
    *,
    since: datetime,
    until: datetime,
    now: datetime,
    names: Names,
) -> dict[str, Any]:
    """The ledger rows of ``series`` whose cycles overlap [since, until], oldest reset first."""
    rows = [
        _labelled(row, names)
        for provider, account, window in series
        for row in ledger_rows(store, provider, account, window, since, until, now)
    ]
    rows.sort(key=lambda r: (r["resets_at"], r["provider"], r["account"], r["window"]))
    return {"generated_at": utc_iso(now), "since": utc_iso(since), "until": utc_iso(until), "cycles": rows}


@dataclass
class _Tally:
    cycles: int = 0
    held_share: float = 0.0  # the sum over cycles of the share of their forecasts that held
    forecasts: int = 0
    held: int = 0

    def add(self, held: int, made: int) -> None:
        self.cycles += 1
        self.held_share += held / made
        self.forecasts += made
        self.held += held

    def to_json(self) -> dict[str, Any]:
        return {
            "closed_cycles": self.cycles,
            "forecasts": self.forecasts,
            "held": self.held,
            "coverage": round(self.held_share / self.cycles, 4) if self.cycles else None,
            "forecast_coverage": round(self.held / self.forecasts, 4) if self.forecasts else None,
        }


def _held(cycle: CycleRow, forecasts: Sequence[tuple[Any, ...]]) -> tuple[int, int]:
    """(forecasts whose interval held the cycle's outcome, forecasts tested) for one closed cycle."""
    tolerance = max(MIN_TOLERANCE, int(0.02 * cycle.seconds))
    outcome = cycle.last_pct
    held = made = 0
    for made_at, resets_at, used_pct, p10, _p50, p90, *_ in forecasts:
        if not cycle.started_at <= made_at <= cycle.resets_at or abs(resets_at - cycle.resets_at) > tolerance:
            continue
        if p10 is None or p90 is None or used_pct >= 100.0:
            continue
        made += 1
        held += (p90 >= 100.0) if outcome >= 100.0 else (p10 <= outcome <= p90)
    return held, made


def accuracy_view(
    store: Store,
    series: Sequence[tuple[str, str, str]],
    *,
    since: datetime,
    until: datetime,
    now: datetime,
    names: Names,
) -> dict[str, Any]:
    """Per window, how often the forecasts' 80 % interval held how the closed cycles really ended."""
    windows, overall = [], _Tally()
    for provider, account, window in series:
        tally = _Tally()
        closed = [
            c
            for c in store.cycles(provider, account, window, since, until)
            if c.closed or c.resets_at <= now.timestamp()
        ]
        if closed:
            start = datetime.fromtimestamp(min(c.started_at for c in closed), UTC)
            end = datetime.fromtimestamp(max(c.resets_at for c in closed), UTC)
            log = store.forecast_log(provider, account, window, start, end)
            for cycle in closed:
                held, made = _held(cycle, log)
                if made:
                    tally.add(held, made)
                    overall.add(held, made)
        if tally.cycles:
            row = {"provider": provider, "account": account, "window": window}
            windows.append(_labelled({**row, **tally.to_json()}, names))
    return {
        "generated_at": utc_iso(now),
        "since": utc_iso(since),
        "until": utc_iso(until),
        "interval": INTERVAL,
        "windows": windows,
        "overall": overall.to_json(),
    }


def tightest_usage(
    store: Store,
    accounts: Iterable[ProviderSnapshot],
    *,
    since: datetime,
    until: datetime,
    points: int,
) -> dict[str, Any]:
    """One series per account: its tightest window's usage over [since, until] (raw samples up to two
    days, the hourly or daily rollups beyond), downsampled to at most ``points`` values."""
    series = []
    for p in accounts:
        w = window_for(p, "tightest")
        if w is None:
            continue
        found = history(store, p.provider, p.account, w.id, since, until, points, {w.id: w.label})
        series += [{"provider": p.provider, "account": p.account, "name": p.name, **s} for s in found["series"]]
    span = (until - since).total_seconds()
    resolution = "raw" if span <= RAW_MAX_SPAN else "hourly" if span <= HOURLY_MAX_SPAN else "daily"  # history's rule
    return {"since": utc_iso(since), "until": utc_iso(until), "resolution": resolution, "series": series}
