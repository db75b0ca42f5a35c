"""OpenCode: the SQLite database (copied with its WAL, read per session from the last update, never
written) and the legacy JSON messages; a message in both counts once, a message rewritten while it
streams is replaced, reasoning is billed as output."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from agentgauge.logs import _sqlite
from agentgauge.store import Store
from tests.logs_agents import cells, fixture_home, index, sessions, usage_cells

EXPECTED = {
    ("2025-11-19", "claude-haiku-4-5"): (10, 20, 40, 30, 0, 1),  # legacy JSON only
    ("2025-11-20", "claude-sonnet-4-5"): (100, 550, 3000, 20000, 50, 1),  # in the database and a legacy file
    ("2025-11-20", "gpt-5"): (2000, 500, 0, 1000, 200, 1),
    ("2025-11-21", "gemini-2.5-pro"): (700, 70, 0, 0, 0, 1),  # msg_B2 (aborted, no tokens) is not an entry
}


def database(home: Path) -> Path:
    return home / ".local" / "share" / "opencode" / "opencode.db"


def digests(db: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in db.parent.iterdir() if p.name.startswith(db.name)
    }


def test_database_and_legacy_files(store: Store, tmp_path: Path) -> None:
    home = fixture_home("opencode", tmp_path)
    before = digests(database(home))
    stats = index(store, home, "opencode")
    assert stats.per_agent["opencode"]["files"] == 5  # two database sessions, three legacy message files
    assert cells(store, "opencode") == EXPECTED
    assert usage_cells(store, "opencode") == EXPECTED
    got = sessions(store, "opencode")
    assert got["ses_B"] == ("/home/me/lib", 1)
    assert got["ses_L"] == ("/home/me/old", 1)
    assert got["ses_A"] == ("/home/me/app", 2)
    assert digests(database(home)) == before  # the agent's files are only read
    assert not _sqlite._COPIES  # the copy went with the reader that made it


def test_live_wal_rows_and_changed_sessions_only(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = fixture_home("opencode", tmp_path)
    index(store, home, "opencode")
    copies: list[str] = []
    real_copy = _sqlite.copy_database

    def counting(db: str) -> str | None:
        copies.append(db)
        return real_copy(db)

    monkeypatch.setattr(_sqlite, "copy_database", counting)
    idle = index(store, home, "opencode")
    assert (idle.files_read, copies) == (0, [])  # nothing changed: not even copied

    # OpenCode keeps running: its writes sit in the WAL (no checkpoint while it holds the database).
    agent = sqlite3.connect(database(home))
    agent.execute("PRAGMA wal_autocheckpoint=0")
    agent.execute(
        "UPDATE message SET time_updated = 1763636500000, data = json_set(data, '$.tokens.output', 900) "
        "WHERE id = 'msg_A3'"
    )  # the message grew: its row is replaced, not added
    agent.execute(
        "INSERT INTO message VALUES ('msg_B3', 'ses_B', 1763719200000, 1763719201000, "
        '\'{"role":"assistant","time":{"created":1763719200000},"modelID":"gemini-2.5-pro","providerID":"google",'
        '"tokens":{"input":5,"output":6,"reasoning":1,"cache":{"read":7,"write":0}}}\')'
    )
    agent.commit()
    assert database(home).with_name("opencode.db-wal").stat().st_size > 0
    stats = index(store, home, "opencode")
    agent.close()
    assert stats.files_read == 2 and len(copies) == 1  # the two changed sessions, from one copy
    want = dict(EXPECTED)
    want[("2025-11-20", "gpt-5")] = (2000, 1100, 0, 1000, 200, 1)
    want[("2025-11-21", "gemini-2.5-pro")] = (705, 77, 0, 7, 1, 2)
    assert cells(store, "opencode") == want
    assert usage_cells(store, "opencode") == want


def test_unreadable_database_is_skipped_and_read_once_repaired(store: Store, tmp_path: Path) -> None:
    home = fixture_home("opencode", tmp_path)
    db = database(home)
    good = db.read_bytes()
    for side in db.parent.glob("opencode.db-*"):
        side.unlink()
    db.write_bytes(b"not a database" * 100)
    stats = index(store, home, "opencode")
    assert stats.per_agent["opencode"]["files"] == 3  # the legacy files; the broken database lists no session
    db.write_bytes(good)
    index(store, home, "opencode")
    assert cells(store, "opencode") == EXPECTED


def test_channel_database_and_variable(store: Store, tmp_path: Path) -> None:
    home = fixture_home("opencode", tmp_path)
    data = tmp_path / "elsewhere"
    data.mkdir()
    conn = sqlite3.connect(database(home))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    database(home).rename(data / "opencode-beta.db")
    index(store, home, "opencode", OPENCODE_DATA_DIR=str(data))
    assert cells(store, "opencode") == {k: v for k, v in EXPECTED.items() if k[1] != "claude-haiku-4-5"}


def test_a_new_index_reads_an_unchanged_database(store: Store, tmp_path: Path) -> None:
    """The remembered database stats say nothing changed, yet a new index has none of its sessions:
    they are read from a copy made for the scans."""
    from agentgauge.store import open_store

    home = fixture_home("opencode", tmp_path)
    first = open_store(str(tmp_path / "first.db"), data_dir=tmp_path)
    try:
        index(first, home, "opencode")
    finally:
        first.close()
    index(store, home, "opencode")
    assert cells(store, "opencode") == EXPECTED
    assert not _sqlite._COPIES
