"""Forecasts and the reset-cycle ledger: the model's verdicts and intervals, its calibration on the
backtest's histories, the ledger on both databases, and forecasts riding in the engine's snapshots."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agentgauge.analytics import cycles_report, forecast_account
from agentgauge.analytics.model import PastCycle, forecast
from agentgauge.models import ProviderSnapshot, Status, Window

HOUR = 3600.0
WEEK = 7 * 86400.0
T0 = datetime(2026, 11, 2, tzinfo=UTC).timestamp()


def climb(rate_per_hour: float, hours: float, step: float = 600.0) -> list[tuple[float, float]]:
    return [(T0 + t, min(100.0, rate_per_hour * t / HOUR)) for t in range(0, int(hours * HOUR) + 1, int(step))]


def test_learning_until_there_is_something_to_go_on():
    f = forecast(now=T0 + 60, resets_at=T0 + 5 * HOUR, window_seconds=5 * HOUR, used_pct=1.0, samples=[(T0, 0.0)])
    assert f is not None and f.verdict == "learning" and f.p50 is None
    # With past cycles the same moment already has a forecast.
    past = [PastCycle(60.0, 5 * HOUR)] * 4
    f = forecast(
        now=T0 + 60, resets_at=T0 + 5 * HOUR, window_seconds=5 * HOUR, used_pct=1.0, samples=[(T0, 0.0)], past=past
    )
    assert f is not None and f.verdict != "learning" and f.p10 is not None and f.p90 is not None


def test_a_steady_climb_is_extrapolated_and_runs_out_before_the_reset():
    samples = climb(30.0, 2.0)  # 30 %/h for 2 h in a 5 h window: 60 % now, 150 % of demand at the reset
    f = forecast(
        now=samples[-1][0],
        resets_at=T0 + 5 * HOUR,
        window_seconds=5 * HOUR,
        used_pct=60.0,
        samples=samples,
        past=[PastCycle(100.0, 5 * HOUR)] * 3,
    )
    assert f is not None and f.verdict == "will_run_out"
    assert f.p10 is not None and f.p50 is not None and f.p90 is not None and f.p10 < f.p50 < f.p90
    assert f.runs_out_at is not None and T0 + 2 * HOUR < f.runs_out_at < T0 + 5 * HOUR
    assert f.pace_pct == 40.0 and f.pace == 1.5


def test_slow_use_is_surplus_and_fast_uncertain_use_is_watch():
    slow = climb(4.0, 3 * 24.0, step=1800)  # 4 %/h... over a week: 12 % after 3 days of 7
    f = forecast(
        now=slow[-1][0],
        resets_at=T0 + WEEK,
        window_seconds=WEEK,
        used_pct=slow[-1][1] / 24,
        samples=[(t, u / 24) for t, u in slow],
        past=[PastCycle(30.0, WEEK)] * 4,
    )
    assert f is not None and f.verdict == "surplus" and f.runs_out_at is None
    borderline = climb(16.0, 2.5)
    f = forecast(
        now=borderline[-1][0],
        resets_at=T0 + 5 * HOUR,
        window_seconds=5 * HOUR,
        used_pct=40.0,
        samples=borderline,
        past=[PastCycle(70.0, 5 * HOUR), PastCycle(95.0, 5 * HOUR)],
    )
    assert f is not None and f.verdict in ("watch", "will_run_out", "ok")
    assert f.p90 is not None and f.p90 >= 80.0


def test_the_interval_narrows_as_the_reset_nears():
    samples = climb(10.0, 4.5, step=300)
    widths = []
    for hours in (1.0, 2.5, 4.0):
        seen = [(t, u) for t, u in samples if t <= T0 + hours * HOUR]
        f = forecast(
            now=seen[-1][0],
            resets_at=T0 + 5 * HOUR,
            window_seconds=5 * HOUR,
            used_pct=seen[-1][1],
            samples=seen,
            past=[PastCycle(50.0, 5 * HOUR)] * 4,
        )
        assert f is not None and f.p10 is not None and f.p90 is not None
        widths.append(f.p90 - f.p10)
    assert widths[0] > widths[1] > widths[2]


def test_no_forecast_without_a_reset_ahead_or_a_length():
    assert forecast(now=T0, resets_at=T0 - 1, window_seconds=5 * HOUR, used_pct=10, samples=[]) is None
    assert forecast(now=T0, resets_at=T0 + 10, window_seconds=0, used_pct=10, samples=[]) is None
    depleted = forecast(now=T0, resets_at=T0 + HOUR, window_seconds=5 * HOUR, used_pct=100.0, samples=[])
    assert depleted is not None and depleted.verdict == "will_run_out" and depleted.runs_out_at == T0


def test_backtest_interval_is_calibrated():
    """The 80 % interval holds the outcome about 80 % of the time on the generated histories
    (bench/forecast.py runs the full backtest; this is a smaller, fixed-seed run of it)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    try:
        import forecast as bench  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    scores = bench.run(16, 10, 3)
    generated = [s for name, s in scores.items() if name.startswith("generated")]
    coverage = sum(s.covered for s in generated) / sum(s.made for s in generated)
    assert 0.72 <= coverage <= 0.88, coverage


def _snap(pct: float, resets: datetime) -> ProviderSnapshot:
    window = Window(id="session", label="Session (5h)", used_pct=pct, resets_at=resets, window_seconds=18000)
    return ProviderSnapshot(provider="claude", account="default", name="Claude", status=Status.OK, windows=(window,))


def test_ledger_tracks_peak_hits_blocked_time_and_unused_share(store):  # type: ignore[no-untyped-def]
    start = datetime(2026, 11, 2, 8, tzinfo=UTC)
    first_reset = start + timedelta(hours=5)
    for minutes, pct in ((0, 5.0), (60, 40.0), (120, 100.0), (150, 100.0), (180, 100.0)):
        store.record_samples(_snap(pct, first_reset), start + timedelta(minutes=minutes), 3600)
    second_reset = first_reset + timedelta(hours=5)
    for minutes, pct in ((310, 3.0), (400, 20.0)):
        store.record_samples(_snap(pct, second_reset), start + timedelta(minutes=minutes), 3600)
    now = start + timedelta(minutes=400)
    rows = cycles_report(store, "claude", "default", "session", start - timedelta(days=1), now, now)
    assert len(rows) == 2
    first, second = rows
    assert first["peak_pct"] == 100.0 and first["hit_100_at"] == "2026-11-02T10:00:00Z"
    assert first["blocked_seconds"] == 3600 and first["ended"] is True and first["unused_pct_at_reset"] == 0.0
    assert second["ended"] is False and second["peak_pct"] == 20.0 and second["unused_pct_at_reset"] is None
    # Jitter in the reported reset time stays in the same cycle.
    store.record_samples(_snap(25.0, second_reset + timedelta(seconds=40)), now + timedelta(minutes=5), 3600)
    rows = cycles_report(
        store,
        "claude",
        "default",
        "session",
        start - timedelta(days=1),
        now + timedelta(hours=1),
        now + timedelta(hours=1),
    )
    assert len(rows) == 2 and rows[1]["peak_pct"] == 25.0


def test_forecasts_are_computed_from_history_and_logged(store):  # type: ignore[no-untyped-def]
    start = datetime(2026, 11, 2, 8, tzinfo=UTC)
    for cycle in range(4):
        reset = start + timedelta(hours=5 * (cycle + 1))
        for step in range(0, 300, 20):
            when = start + timedelta(hours=5 * cycle, minutes=step)
            store.record_samples(_snap(min(100.0, step * 0.25), reset), when, 3600)
    now = start + timedelta(hours=5 * 3, minutes=140)
    snapshot = forecast_account(store, _snap(35.0, start + timedelta(hours=20)), now)
    f = snapshot.windows[0].forecast
    assert f is not None and f.verdict in ("ok", "surplus", "watch") and f.expected_pct is not None
    assert 60.0 <= f.expected_pct <= 90.0  # earlier cycles and this one climb to ~75 % by the reset
    logged = store.forecast_log("claude", "default", "session", now - timedelta(minutes=1), now)
    assert len(logged) == 1 and logged[0][7] == f.verdict and logged[0][4] == f.expected_pct


@pytest.mark.parametrize("provider_id", ["zai"])
async def test_engine_snapshots_carry_forecasts(sim, tmp_path, provider_id):  # type: ignore[no-untyped-def]
    from agentgauge.engine import Engine
    from agentgauge.store import open_store
    from tests.harness import account_config, sim_settings

    config = account_config(provider_id, sim_settings(provider_id, sim.url))
    store = open_store(str(tmp_path / "f.db"), data_dir=tmp_path)
    clock = {"now": datetime.now(UTC)}
    async with Engine(config, store, clock=lambda: clock["now"]) as engine:
        for _ in range(4):
            snapshot = await engine.refresh()
            clock["now"] += timedelta(minutes=10)
    store.close()
    account = snapshot.providers[0]
    assert account.status == Status.OK
    with_forecast = [w for w in account.windows if w.forecast is not None]
    assert with_forecast and all(w.forecast.made_at is not None for w in with_forecast)
