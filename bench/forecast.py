"""Backtest of the window forecast (agentgauge.analytics.model) on simulated and generated histories.

    python bench/forecast.py [--accounts 60] [--cycles 14] [--seed 7]

For every account and window it replays history cycle by cycle: at several points of each cycle it
makes the forecast agentgauge would make (from the samples seen so far and the account's earlier
cycles), then compares it with how the cycle really ended. Prints the share of outcomes inside the
80 % interval (goal: 75-85 %), the median error of the run-out time, and the verdicts' hit rates.

Histories:
- simulated: the provider simulator's curves (agentgauge.providers.simkit.SimContext.window), a
  steady climb to a per-cycle top, sampled every few minutes like the engine does;
- generated: bursty work sessions (compound Poisson bursts inside active hours, idle nights and
  days off), a per-account appetite that drifts from cycle to cycle, capped at 100 % (blocked).
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from agentgauge.analytics.model import PastCycle, forecast

WINDOWS = {"session": 5 * 3600, "weekly": 7 * 86400}
STEP = {"session": 300, "weekly": 1800}  # how often a sample is taken
CHECKPOINTS = (0.1, 0.25, 0.4, 0.55, 0.7, 0.85)


@dataclass
class Cycle:
    start: float
    seconds: float
    points: list[tuple[float, float]]  # (ts, used %)

    @property
    def final(self) -> float:
        return self.points[-1][1]

    @property
    def hit_100(self) -> float | None:
        return next((t for t, u in self.points if u >= 100.0), None)


def _active(rng: random.Random, window: str, start: float, seconds: float) -> list[tuple[float, float]]:
    """Stretches of work (start, end) inside one cycle. A session window opens with the first request
    (Claude's and Codex's 5-hour windows do), so it starts busy; a weekly one follows days and hours."""
    stretches: list[tuple[float, float]] = []
    if window == "session":
        t = start
        while t < start + seconds:
            work = rng.uniform(15, 90) * 60
            stretches.append((t, min(start + seconds, t + work)))
            t += work + rng.expovariate(1 / (25 * 60))
        return stretches
    days_off = {d for d in range(7) if rng.random() < 0.22}
    for day in range(7):
        if day in days_off:
            continue
        base = start + day * 86400
        first = rng.uniform(8, 11) * 3600
        hours = rng.uniform(3, 9) * 3600
        stretches.append((base + first, base + first + hours))
        if rng.random() < 0.35:  # an evening stint
            evening = rng.uniform(19, 22) * 3600
            stretches.append((base + evening, base + evening + rng.uniform(0.5, 2) * 3600))
    return stretches


def generated_cycles(rng: random.Random, window: str, cycles: int) -> list[Cycle]:
    seconds = WINDOWS[window]
    step = STEP[window]
    appetite = rng.lognormvariate(math.log(60), 0.4)  # % of the window one cycle typically uses
    start = datetime(2026, 1, 5, tzinfo=UTC).timestamp()
    out = []
    for _ in range(cycles):
        appetite *= rng.lognormvariate(0, 0.1)  # habits drift
        demand = appetite * rng.lognormvariate(0, 0.35)  # this cycle's work
        stretches = _active(rng, window, start, seconds)
        active_total = sum(b - a for a, b in stretches) or 1.0
        used, points, t = 0.0, [], start + 1
        while t < start + seconds:
            busy = sum(max(0.0, min(b, t + step) - max(a, t)) for a, b in stretches)
            if busy > 0:  # bursts while working: compound Poisson, 2.4 per busy step on average
                bursts = sum(1 for _ in range(4) if rng.random() < 0.6 * busy / step)
                for _ in range(bursts):
                    used += rng.expovariate(1.0) * demand * step / (2.4 * active_total)
            used = min(100.0, used)
            points.append((t, round(used, 1)))
            t += step
        out.append(Cycle(start, seconds, points))
        start += seconds + (rng.uniform(0, 6 * 3600) if window == "session" else 0)
    return out


def simulated_cycles(rng: random.Random, window: str, cycles: int, key: str) -> list[Cycle]:
    from agentgauge.providers.simkit import SimContext

    seconds = WINDOWS[window]
    step = STEP[window]
    clock = {"now": datetime(2026, 1, 5, tzinfo=UTC)}
    sim = SimContext({}, clock=lambda: clock["now"])
    _, first_reset = sim.window(key, seconds)
    start = first_reset.timestamp()
    out = []
    for _ in range(cycles):
        points = []
        t = start + 1
        while t < start + seconds:
            clock["now"] = datetime.fromtimestamp(t, UTC)
            used, _ = sim.window(key, seconds)
            points.append((t, min(100.0, used + rng.gauss(0, 0.3))))
            t += step
        out.append(Cycle(start, seconds, points))
        start += seconds
    return out


@dataclass
class Score:
    made: int = 0
    covered: int = 0
    eta_errors: list[float] | None = None
    eta_relative: list[float] | None = None
    verdicts: dict[str, list[bool]] | None = None

    def __post_init__(self) -> None:
        self.eta_errors, self.eta_relative, self.verdicts = [], [], {}


def backtest(cycles: list[Cycle], score: Score, warmup: int = 2) -> None:
    for index in range(warmup, len(cycles)):
        cycle = cycles[index]
        past = [PastCycle(c.final, c.seconds) for c in cycles[max(0, index - 8) : index]]
        resets = cycle.start + cycle.seconds
        for share in CHECKPOINTS:
            now = cycle.start + share * cycle.seconds
            seen = [(t, u) for t, u in cycle.points if t <= now]
            if not seen or seen[-1][1] >= 100.0:
                continue
            f = forecast(
                now=now, resets_at=resets, window_seconds=cycle.seconds, used_pct=seen[-1][1], samples=seen, past=past
            )
            if f is None or f.p10 is None or f.p90 is None:
                continue
            score.made += 1
            outcome = cycle.final
            # An outcome at the cap is censored (the demand reached at least 100): covered when p90 reaches it.
            covered = f.p90 >= 100.0 if outcome >= 100.0 else f.p10 <= outcome <= f.p90
            score.covered += covered
            hit = cycle.hit_100
            assert score.verdicts is not None
            score.verdicts.setdefault(f.verdict, []).append(
                hit is not None if f.verdict in ("will_run_out", "watch") else outcome < 100.0
            )
            if f.runs_out_at is not None and hit is not None:
                assert score.eta_errors is not None and score.eta_relative is not None
                score.eta_errors.append(abs(f.runs_out_at - hit))
                score.eta_relative.append(abs(f.runs_out_at - hit) / max(1.0, resets - now))


def run(accounts: int, cycles: int, seed: int) -> dict[str, Score]:
    rng = random.Random(seed)
    scores: dict[str, Score] = {}
    for kind in ("simulated", "generated"):
        for window in WINDOWS:
            score = scores.setdefault(f"{kind}/{window}", Score())
            for account in range(accounts if kind == "generated" else max(4, accounts // 6)):
                if kind == "generated":
                    history = generated_cycles(rng, window, cycles)
                else:
                    history = simulated_cycles(rng, window, cycles, f"bench:{account}:{window}")
                backtest(history, score)
    return scores


def report(scores: dict[str, Score]) -> tuple[float, float | None]:
    total = Score()
    print(f"{'histories':<22}{'forecasts':>10}{'80% coverage':>14}{'median ETA error':>18}{'ETA err / time left':>21}")
    for name, score in scores.items():
        assert score.eta_errors is not None and score.eta_relative is not None
        coverage = score.covered / score.made if score.made else float("nan")
        eta = f"{statistics.median(score.eta_errors) / 3600:.2f} h" if score.eta_errors else "-"
        rel = f"{statistics.median(score.eta_relative):.1%}" if score.eta_relative else "-"
        print(f"{name:<22}{score.made:>10}{coverage:>14.1%}{eta:>18}{rel:>21}")
        total.made += score.made
        total.covered += score.covered
        total.eta_errors += score.eta_errors  # type: ignore[operator]
        total.eta_relative += score.eta_relative  # type: ignore[operator]
    coverage = total.covered / total.made
    eta = statistics.median(total.eta_errors) if total.eta_errors else None
    print(
        f"{'all':<22}{total.made:>10}{coverage:>14.1%}"
        f"{(f'{eta / 3600:.2f} h' if eta is not None else '-'):>18}"
        f"{(f'{statistics.median(total.eta_relative):.1%}' if total.eta_relative else '-'):>21}"
    )
    verdicts: dict[str, list[bool]] = {}
    for score in scores.values():
        for verdict, hits in (score.verdicts or {}).items():
            verdicts.setdefault(verdict, []).extend(hits)
    print("verdicts (share that came true: ran out for will_run_out/watch, did not for the others):")
    for verdict, hits in sorted(verdicts.items()):
        print(f"  {verdict:<13}{len(hits):>6} made, {sum(hits) / len(hits):.0%} true")
    goal = 0.75 <= coverage <= 0.85
    print(
        f"goal: 80 % interval holds the outcome 75-85 % of the time -> {'met' if goal else 'MISSED'} ({coverage:.1%})"
    )
    return coverage, eta


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=60)
    parser.add_argument("--cycles", type=int, default=14)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = datetime.now(UTC)
    report(run(args.accounts, args.cycles, args.seed))
    print(f"({(datetime.now(UTC) - started) / timedelta(seconds=1):.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
