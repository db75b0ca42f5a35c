"""The reset-cycle ledger and the forecast log, kept beside the samples (history.record calls
``track`` in the same transaction as each sample it writes).

A cycle runs from one reset to the next. A sample belongs to the open cycle of its window while its
``resets_at`` stays within a tolerance of the cycle's (providers round it differently on each
answer); a reset time further away, or a drop of more than ``DROP`` points, closes the cycle and
opens the next. Per cycle: start, reset, peak, when it first reached 100 % and how long it stayed
there (time between samples at or over 100 %), and the last value, so the unused share at the
reset is known after raw samples are pruned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .backend import Transaction

DROP = 20.0  # a fall of this many points without a new reset time is a reset the provider did not announce
MIN_TOLERANCE = 120  # seconds of jitter in a reported reset time that still mean the same cycle
COLUMNS = (
    "id, series_id, started_at, resets_at, first_ts, last_ts, first_pct, last_pct, peak_pct, hit_100_at, "
    "blocked_seconds, samples, closed"
)


@dataclass(frozen=True)
class CycleRow:
    id: int
    series_id: int
    started_at: int
    resets_at: int
    first_ts: int
    last_ts: int
    first_pct: float
    last_pct: float
    peak_pct: float
    hit_100_at: int | None
    blocked_seconds: int
    samples: int
    closed: bool

    @property
    def seconds(self) -> int:
        return max(1, self.resets_at - self.started_at)


def _row(values: Sequence[Any]) -> CycleRow:
    (id_, sid, started, resets, first_ts, last_ts, first_pct, last_pct, peak, hit, blocked, n, closed) = values
    return CycleRow(
        int(id_),
        int(sid),
        int(started),
        int(resets),
        int(first_ts),
        int(last_ts),
        float(first_pct),
        float(last_pct),
        float(peak),
        int(hit) if hit is not None else None,
        int(blocked),
        int(n),
        bool(closed),
    )


def track(
    tx: Transaction, series_id: int, ts: int, used_pct: float, resets_at: int | None, window_seconds: int | None
) -> None:
    """Fold one written sample into its window's cycle (windows without a reset time have none)."""
    if resets_at is None:
        return
    row = tx.execute(
        f"SELECT {COLUMNS} FROM cycles WHERE series_id = ? AND closed = 0 ORDER BY id DESC LIMIT 1", (series_id,)
    ).fetchone()
    current = _row(row) if row else None
    tolerance = max(MIN_TOLERANCE, int(0.02 * window_seconds)) if window_seconds else MIN_TOLERANCE
    same = (
        current is not None
        and abs(resets_at - current.resets_at) <= tolerance
        and used_pct >= current.last_pct - DROP
        and ts >= current.last_ts
    )
    if current is not None and same:
        blocked = current.blocked_seconds + (ts - current.last_ts if current.last_pct >= 100.0 else 0)
        hit = current.hit_100_at if current.hit_100_at is not None else (ts if used_pct >= 100.0 else None)
        tx.execute(
            "UPDATE cycles SET resets_at = ?, last_ts = ?, last_pct = ?, peak_pct = ?, hit_100_at = ?, "
            "blocked_seconds = ?, samples = samples + 1 WHERE id = ?",
            (resets_at, ts, used_pct, max(current.peak_pct, used_pct), hit, blocked, current.id),
        )
        return
    if current is not None:
        if ts < current.last_ts:
            return  # an out-of-order replay of an older sample: the ledger already moved on
        tx.execute("UPDATE cycles SET closed = 1 WHERE id = ?", (current.id,))
    started = resets_at - window_seconds if window_seconds else ts
    tx.execute(
        "INSERT INTO cycles (series_id, started_at, resets_at, first_ts, last_ts, first_pct, last_pct, peak_pct, "
        "hit_100_at, blocked_seconds, samples, closed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 1, 0)",
        (
            series_id,
            min(started, ts),
            resets_at,
            ts,
            ts,
            used_pct,
            used_pct,
            used_pct,
            ts if used_pct >= 100.0 else None,
        ),
    )


def cycles(tx: Transaction, key: tuple[str, str, str], since: int, until: int) -> list[CycleRow]:
    rows = tx.query(
        f"SELECT {', '.join('c.' + c.strip() for c in COLUMNS.split(','))} FROM cycles c "
        "JOIN series r ON r.id = c.series_id WHERE r.provider = ? AND r.account = ? AND r.window_id = ? "
        "AND c.resets_at >= ? AND c.started_at <= ? ORDER BY c.resets_at",
        (*key, since, until),
    )
    return [_row(r) for r in rows]


def past(tx: Transaction, key: tuple[str, str, str], before: int, limit: int) -> list[CycleRow]:
    """The last ``limit`` cycles that ended before ``before`` (the forecast's history)."""
    rows = tx.query(
        f"SELECT {', '.join('c.' + c.strip() for c in COLUMNS.split(','))} FROM cycles c "
        "JOIN series r ON r.id = c.series_id WHERE r.provider = ? AND r.account = ? AND r.window_id = ? "
        "AND c.resets_at <= ? ORDER BY c.resets_at DESC LIMIT ?",
        (*key, before, limit),
    )
    return [_row(r) for r in rows]


def log_forecasts(tx: Transaction, rows: Sequence[tuple[tuple[str, str, str], Sequence[Any]]]) -> None:
    """Append forecasts: (series key, (made_at, resets_at, used_pct, p10, p50, p90, runs_out_at, verdict, model))."""
    for key, values in rows:
        found = tx.execute("SELECT id FROM series WHERE provider = ? AND account = ? AND window_id = ?", key).fetchone()
        if found is None:
            continue
        tx.execute(
            "INSERT INTO forecasts (series_id, made_at, resets_at, used_pct, p10, p50, p90, runs_out_at, verdict, "
            "model) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (series_id, made_at) DO NOTHING",
            (int(found[0]), *values),
        )


def forecast_log(tx: Transaction, key: tuple[str, str, str], since: int, until: int) -> list[tuple[Any, ...]]:
    return tx.query(
        "SELECT f.made_at, f.resets_at, f.used_pct, f.p10, f.p50, f.p90, f.runs_out_at, f.verdict, f.model "
        "FROM forecasts f JOIN series r ON r.id = f.series_id WHERE r.provider = ? AND r.account = ? "
        "AND r.window_id = ? AND f.made_at >= ? AND f.made_at <= ? ORDER BY f.made_at",
        (*key, since, until),
    )


def prune_forecasts(tx: Transaction, before: int) -> None:
    tx.execute("DELETE FROM forecasts WHERE made_at < ?", (before,))
