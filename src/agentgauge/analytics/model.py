"""The forecast of one window: where its usage will stand at the reset, and when it runs out.

Pure: times are epoch seconds, percents 0-100. docs/forecast.md states the model; in short:

- **Rate.** Usage grows at some rate (percent per second) until the reset. Three estimates of it
  are combined: the account's past cycles of this window (their average rates: a prior), this
  cycle's average so far (``used / elapsed``), and the recent slope (least squares over the last
  stretch of samples, with its standard error). The prior and this cycle's average are blended by
  how much of the window has passed; the recent slope then updates that in a normal-normal step,
  weighted by its precision.
- **Spread.** What is still to come is a sum of bursts, so the increment to the reset is drawn
  as a Gamma variable (monotone, right-skewed) whose variance holds the uncertainty of the rate
  (times the time left, squared) and a diffusion term (times the time left): uncertainty widens
  with the time left and with how erratic this account's cycles have been. The p10-p90 interval
  is read off it, uncapped above 100 % (it measures demand).
- **Verdict.** ``will_run_out`` when the median reaches 100 % before the reset (with the time),
  ``watch`` when the p90 does, ``surplus`` when even the p90 leaves a quarter of the window
  unused, ``learning`` while there is too little to go on, else ``ok``.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

MODEL = "blend-gamma-v1"
Z90 = 1.2815515655446004  # the standard normal's 90th percentile

# Tuned on bench/forecast.py's backtest (simulated and generated histories) for an 80 % interval
# that holds the outcome 75-85 % of the time.
RECENT_SPAN = 0.12  # the recent slope looks at the last 12 % of the window (at least 30 minutes)
MIN_RECENT = 1800.0
HISTORY_SWING = 0.6  # relative swing of the rate between cycles before three past cycles are known
MIN_SWING = 0.2
RECENT_FLOOR = 1.0  # the recent slope is never trusted closer than 100 % (bursts make it jumpy)
SPREAD_SCALE = 1.1
DIFFUSION = 2.0  # burstiness: variance of the increment per unit of mean increment, in percent
SURPLUS_PCT = 75.0  # a median below this (and a p90 below 90) at reset means a quarter goes unused
LEARNING_SHARE = 0.05  # before 5 % of the window has passed, with no past cycles: still learning


@dataclass(frozen=True)
class PastCycle:
    peak_pct: float
    seconds: float


@dataclass(frozen=True)
class Forecast:
    verdict: str  # ok | watch | will_run_out | surplus | learning
    pace_pct: float  # where linear pace would put usage now
    pace: float | None  # used / pace_pct (1.0 = on pace; 2.0 = twice as fast)
    p10: float | None
    p50: float | None
    p90: float | None
    runs_out_at: float | None  # the median time of reaching 100 %, when before the reset
    rate: float | None  # percent per hour, the combined estimate
    model: str = MODEL


def _ols(points: Sequence[tuple[float, float]]) -> tuple[float, float] | None:
    """Slope and its standard error of a least-squares line through ``points`` (>= 3)."""
    n = len(points)
    if n < 3:
        return None
    mean_t = sum(t for t, _ in points) / n
    mean_u = sum(u for _, u in points) / n
    sxx = sum((t - mean_t) ** 2 for t, _ in points)
    if sxx <= 0:
        return None
    slope = sum((t - mean_t) * (u - mean_u) for t, u in points) / sxx
    residual = sum((u - mean_u - slope * (t - mean_t)) ** 2 for t, u in points)
    se = math.sqrt(residual / max(1, n - 2) / sxx)
    return slope, se


def gamma_quantile(mean: float, variance: float, p: float) -> float:
    """Quantile of a Gamma variable with this mean and variance (Wilson-Hilferty approximation)."""
    if mean <= 0:
        return 0.0
    if variance <= 0:
        return mean
    shape = mean * mean / variance
    scale = variance / mean
    z = {0.1: -Z90, 0.5: 0.0, 0.9: Z90}[p]
    cube = 1.0 - 1.0 / (9.0 * shape) + z * math.sqrt(1.0 / (9.0 * shape))
    return max(0.0, shape * scale * max(0.0, cube) ** 3)


def forecast(
    *,
    now: float,
    resets_at: float,
    window_seconds: float,
    used_pct: float,
    samples: Sequence[tuple[float, float]],
    past: Sequence[PastCycle] = (),
) -> Forecast | None:
    """The forecast of one window, or None when it cannot have one (no reset ahead, no length)."""
    remaining = resets_at - now
    if window_seconds <= 0 or remaining <= 0:
        return None
    start = resets_at - window_seconds
    elapsed = min(window_seconds, max(0.0, now - start))
    share = elapsed / window_seconds
    pace_pct = round(100.0 * share, 2)
    pace = round(used_pct / pace_pct, 3) if pace_pct > 0 else None
    if used_pct >= 100.0:
        return Forecast("will_run_out", pace_pct, pace, used_pct, used_pct, used_pct, now, None)
    in_cycle = [(t, u) for t, u in samples if start <= t <= now]
    rates = [c.peak_pct / c.seconds for c in past if c.seconds > 0]
    if (share < LEARNING_SHARE or len(in_cycle) < 2) and not rates:
        return Forecast("learning", pace_pct, pace, None, None, None, None, None)

    # Prior: past cycles' rates blended with this cycle's average by how much of it has passed.
    cycle_rate = used_pct / elapsed if elapsed > 0 else 0.0
    if rates:
        mean = sum(rates) / len(rates)
        prior = share * cycle_rate + (1 - share) * mean
    else:
        prior = cycle_rate
    # How much the rate swings from cycle to cycle (relative), from this account's past cycles.
    if len(rates) >= 3 and sum(rates) > 0:
        mean = sum(rates) / len(rates)
        swing = statistics.stdev(rates) / mean if mean > 0 else HISTORY_SWING
        swing = min(max(swing, MIN_SWING), 2.0)
    else:
        swing = HISTORY_SWING

    # The recent slope pulls the estimate towards what is happening now, by its precision.
    span = max(MIN_RECENT, RECENT_SPAN * window_seconds)
    recent = [(t, u) for t, u in in_cycle if t >= now - span]
    rate, slope_cv = prior, 0.0
    fit = _ols(recent)
    if fit is not None and prior > 0:
        slope, se = fit
        slope = max(0.0, slope)
        prior_var = (swing * prior) ** 2
        se_var = max(se * se, (RECENT_FLOOR * max(slope, prior)) ** 2)
        weight = prior_var / (prior_var + se_var)
        rate = (1 - weight) * prior + weight * slope
        slope_cv = math.sqrt(se_var) / max(rate, 1e-12) * weight
    elif fit is not None:
        rate = max(0.0, fit[0])
    rate = max(0.0, rate)

    # Spread: the rate's uncertainty (cycle-to-cycle swing, shrinking as the cycle reveals itself,
    # plus the slope's) over the time left, and the burstiness of what is still to come.
    cv = SPREAD_SCALE * math.sqrt((swing * (1 - 0.5 * share)) ** 2 + slope_cv**2)
    mean_increment = rate * remaining
    variance = (cv * mean_increment) ** 2 + DIFFUSION * mean_increment
    p10 = used_pct + gamma_quantile(mean_increment, variance, 0.1)
    p50 = used_pct + gamma_quantile(mean_increment, variance, 0.5)
    p90 = used_pct + gamma_quantile(mean_increment, variance, 0.9)
    runs_out_at = now + (100.0 - used_pct) / rate if rate > 0 else None
    if runs_out_at is not None and runs_out_at >= resets_at:
        runs_out_at = None

    if p50 >= 100.0:
        verdict = "will_run_out"
    elif p90 >= 100.0:
        verdict = "watch"
    elif p50 <= SURPLUS_PCT and p90 < 90.0 and share >= 0.25:
        verdict = "surplus"
    else:
        verdict = "ok"
    return Forecast(
        verdict,
        pace_pct,
        pace,
        round(p10, 2),
        round(p50, 2),
        round(p90, 2),
        runs_out_at if verdict == "will_run_out" else None,
        round(rate * 3600.0, 4),
    )
