"""Shared by the per-agent log reader tests: copy a fixture home, index one agent, and read back what
the index holds per UTC day and model."""

from __future__ import annotations

import shutil
import sqlite3
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from agentgauge.logs.index import IndexStats, refresh_index
from agentgauge.store import Store

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "logs"
# (input, output, cache write, cache read, reasoning, entries) per (UTC day, model)
Cells = dict[tuple[str, str], tuple[int, int, int, int, int, int]]


def fixture_home(agent: str, tmp: Path) -> Path:
    """A copy of ``tests/fixtures/logs/<agent>/`` (a home folder) in ``tmp``; every ``*.sql`` file in
    it becomes the SQLite database of the same name (the agents' schema and rows, readable in git)."""
    home = tmp / f"{agent}-home"
    shutil.copytree(FIXTURES / agent, home)
    for script in home.rglob("*.sql"):
        db = script.with_suffix(".db")
        conn = sqlite3.connect(db)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(script.read_text())
        conn.commit()
        conn.close()
        script.unlink()
    return home


def index(store: Store, home: Path, *agents: str, **env: str) -> IndexStats:
    return refresh_index(store, {"HOME": str(home), **env}, home=home, agents=list(agents))


def cells(store: Store, agent: str) -> Cells:
    with store.transaction(write=False) as conn:
        rows = conn.execute(
            "SELECT ts, model, input, output, cache_write, cache_read, reasoning FROM log_entries WHERE agent = ?",
            (agent,),
        ).fetchall()
    acc: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * 6)
    for ts, model, *values in rows:
        cell = acc[(datetime.fromtimestamp(ts, UTC).date().isoformat(), model)]
        for i, v in enumerate(values):
            cell[i] += int(v)
        cell[5] += 1
    return {k: (v[0], v[1], v[2], v[3], v[4], v[5]) for k, v in acc.items()}


def usage_cells(store: Store, agent: str) -> Cells:
    """The same from the quarter-hour sums the reports read (they must agree with the entries)."""
    with store.transaction(write=False) as conn:
        rows = conn.execute(
            "SELECT quarter, model, input, output, cache_write, cache_read, reasoning, entries FROM log_usage "
            "WHERE agent = ?",
            (agent,),
        ).fetchall()
    acc: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * 6)
    for quarter, model, *values in rows:
        cell = acc[(datetime.fromtimestamp(quarter * 900, UTC).date().isoformat(), model)]
        for i, v in enumerate(values):
            cell[i] += int(v)
    return {k: (v[0], v[1], v[2], v[3], v[4], v[5]) for k, v in acc.items() if any(v)}


def sessions(store: Store, agent: str) -> dict[str, tuple[str, int]]:
    """session -> (project, entries) for the agent's files that hold entries."""
    with store.transaction(write=False) as conn:
        rows = conn.execute(
            "SELECT log_files.session, log_files.project, COUNT(*) FROM log_entries "
            "JOIN log_files ON log_files.id = log_entries.file_id WHERE log_entries.agent = ? GROUP BY 1, 2",
            (agent,),
        ).fetchall()
    return {s: (p, int(n)) for s, p, n in rows}
