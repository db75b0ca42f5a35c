"""Analytics over stored history: per-window forecasts (``model``) and the reset-cycle ledger reads.

The engine calls :func:`forecast_account` once per successful fetch, after the samples are stored:
each window with a reset ahead and a known length gets a forecast from this cycle's samples and
the account's past cycles of that window, the forecast is logged (``store.log_forecasts``) so its
accuracy can be measured later, and it rides in the snapshot every surface reads.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ..models import Forecast, ProviderSnapshot, Window, evolve
from ..store import Store
from . import model
from .model import PastCycle

__all__ = ["cycles_report", "forecast_account", "forecast_window", "model"]

PAST_CYCLES = 8


def forecast_window(store: Store, provider: str, account: str, window: Window, now: datetime) -> Forecast | None:
    if window.resets_at is None or not window.window_seconds or window.reset_pending:
        return None
    start = window.resets_at - timedelta(seconds=window.window_seconds)
    samples = store.samples(provider, account, window.id, max(start, now - timedelta(days=62)), now)
    points = [(float(s.ts), s.used_pct) for s in samples]
    # Past cycles ended before this one began (a little jitter in reported reset times allowed).
    past_rows = store.past_cycles(provider, account, window.id, start + timedelta(minutes=5), PAST_CYCLES)
    past = [PastCycle(r.peak_pct, float(r.seconds)) for r in past_rows if r.samples >= 2]
    result = model.forecast(
        now=now.timestamp(),
        resets_at=window.resets_at.timestamp(),
        window_seconds=float(window.window_seconds),
        used_pct=window.used_pct,
        samples=points,
        past=past,
    )
    if result is None:
        return None
    return Forecast(
        verdict=result.verdict,
        pace_pct=result.pace_pct,
        pace=result.pace,
        low_pct=result.p10,
        expected_pct=result.p50,
        high_pct=result.p90,
        runs_out_at=datetime.fromtimestamp(result.runs_out_at, UTC) if result.runs_out_at else None,
        rate_pct_per_hour=result.rate,
        made_at=now,
    )


def forecast_account(store: Store, snapshot: ProviderSnapshot, now: datetime) -> ProviderSnapshot:
    """``snapshot`` with a forecast on each window that can have one; every forecast made is logged."""
    windows, log = [], []
    for window in snapshot.windows:
        forecast = forecast_window(store, snapshot.provider, snapshot.account, window, now)
        windows.append(evolve(window, forecast=forecast) if forecast is not None else window)
        if forecast is not None and window.resets_at is not None:
            log.append(
                (
                    (snapshot.provider, snapshot.account, window.id),
                    (
                        int(now.timestamp()),
                        int(window.resets_at.timestamp()),
                        window.used_pct,
                        forecast.low_pct,
                        forecast.expected_pct,
                        forecast.high_pct,
                        int(forecast.runs_out_at.timestamp()) if forecast.runs_out_at else None,
                        forecast.verdict,
                        model.MODEL,
                    ),
                )
            )
    if log:
        store.log_forecasts(log)
    return evolve(snapshot, windows=tuple(windows))


def cycles_report(
    store: Store, provider: str, account: str, window_id: str, since: datetime, until: datetime, now: datetime
) -> list[dict[str, Any]]:
    """The ledger of one window: one row per cycle, in people's terms (``/api/cycles``, exports)."""
    rows = []
    for c in store.cycles(provider, account, window_id, since, until):
        ended = c.closed or c.resets_at <= now.timestamp()

        def iso(ts: int | None) -> str | None:
            return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z") if ts is not None else None

        rows.append(
            {
                "provider": provider,
                "account": account,
                "window": window_id,
                "started_at": iso(c.started_at),
                "resets_at": iso(c.resets_at),
                "ended": ended,
                "peak_pct": c.peak_pct,
                "last_pct": c.last_pct,
                "hit_100_at": iso(c.hit_100_at),
                "blocked_seconds": c.blocked_seconds,
                "unused_pct_at_reset": round(max(0.0, 100.0 - c.last_pct), 2) if ended else None,
                "samples": c.samples,
            }
        )
    return rows
