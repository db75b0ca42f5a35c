"""Goose: one entry per session from its running totals in ``sessions.db`` (accumulated columns
first), replaced as the totals grow, dated when the session was created."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from agentgauge.logs.goose import GooseReader
from agentgauge.store import Store
from tests.logs_agents import cells, fixture_home, index, sessions, usage_cells

EXPECTED = {
    ("2025-11-22", "claude-sonnet-4-5-20250929"): (80000, 10120, 0, 0, 120, 1),
    ("2025-11-23", "gpt-5"): (1200, 300, 0, 0, 0, 1),
}


def db(home: Path) -> Path:
    return home / ".local" / "share" / "goose" / "sessions" / "sessions.db"


def test_sessions_are_entries_and_grow_in_place(store: Store, tmp_path: Path) -> None:
    home = fixture_home("goose", tmp_path)
    index(store, home, "goose")
    assert cells(store, "goose") == EXPECTED
    assert usage_cells(store, "goose") == EXPECTED
    assert sessions(store, "goose") == {"20251122_1": ("/home/me/app", 1), "20251123_2": ("/home/me/lib", 1)}
    conn = sqlite3.connect(db(home))
    conn.execute(
        "UPDATE sessions SET accumulated_input_tokens = 90000, accumulated_total_tokens = 100120, "
        "updated_at = '2025-11-25 10:00:00' WHERE id = '20251122_1'"
    )
    conn.commit()
    conn.close()
    stats = index(store, home, "goose")
    assert stats.files_read == 1
    want = dict(EXPECTED)
    want[("2025-11-22", "claude-sonnet-4-5-20250929")] = (90000, 10120, 0, 0, 120, 1)
    assert cells(store, "goose") == want
    assert usage_cells(store, "goose") == want


def test_roots_from_path_root_and_defaults(tmp_path: Path) -> None:
    reader = GooseReader()
    root = tmp_path / "g"
    (root / "data" / "sessions").mkdir(parents=True)
    assert reader.roots({"GOOSE_PATH_ROOT": str(root)}, tmp_path) == []  # no database there yet
    (root / "data" / "sessions" / "sessions.db").write_bytes(b"")
    assert reader.roots({"GOOSE_PATH_ROOT": str(root)}, tmp_path) == [root / "data" / "sessions"]
    assert tmp_path / ".local" / "share" / "goose" / "sessions" in reader.defaults({}, tmp_path)
