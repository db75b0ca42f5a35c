"""Gemini CLI: the JSON conversation record (read whole, rewritten in place) and the JSONL form (read
incrementally), cached input split out, thoughts billed as output, a message rewritten with its final
usage counted once."""

from __future__ import annotations

import json
from pathlib import Path

from agentgauge.logs.gemini import GeminiReader
from agentgauge.store import Store
from tests.logs_agents import cells, fixture_home, index, sessions, usage_cells

EXPECTED = {
    # input = input - cached + tool; output = output + thoughts; reasoning = thoughts
    ("2025-11-20", "gemini-2.5-pro"): (4020, 450, 0, 8000, 150, 1),
    ("2025-11-20", "gemini-2.5-flash"): (5000, 100, 0, 0, 0, 1),
    ("2025-11-21", "gemini-2.5-pro"): (600, 250, 0, 400, 50, 1),  # m2's final copy, not its first
    ("2025-11-21", "gemini-2.5-flash"): (200, 30, 0, 100, 0, 1),
}


def test_fixture_totals_sessions_and_ignored_files(store: Store, tmp_path: Path) -> None:
    home = fixture_home("gemini", tmp_path)
    stats = index(store, home, "gemini")
    assert stats.per_agent["gemini"]["files"] == 2  # logs.json and the checkpoint are not chats
    assert cells(store, "gemini") == EXPECTED
    assert usage_cells(store, "gemini") == EXPECTED
    assert sessions(store, "gemini") == {
        "5b1e2c7a-1d2e-4f60-9a1b-0c3d4e5f6a7b": ("9f2c1e", 2),
        "c0ffee00-aaaa-4bbb-8ccc-123456789abc": ("9f2c1e", 2),
    }
    again = index(store, home, "gemini")
    assert (again.files_read, again.entries) == (0, 0)


def test_rewritten_record_and_appended_lines_count_once(store: Store, tmp_path: Path) -> None:
    home = fixture_home("gemini", tmp_path)
    index(store, home, "gemini")
    chats = home / ".gemini" / "tmp" / "9f2c1e" / "chats"
    record = chats / "session-2025-11-20T10-00-5b1e2c.json"
    data = json.loads(record.read_text())
    data["messages"].append(
        {
            "id": "g3",
            "timestamp": "2025-11-20T11:00:00.000Z",
            "type": "gemini",
            "model": "gemini-2.5-flash",
            "tokens": {"input": 70, "output": 7, "cached": 0, "thoughts": 0, "tool": 0, "total": 77},
        }
    )
    record.write_text(json.dumps(data))  # the CLI rewrites the whole record
    jsonl = chats / "session-2025-11-21T09-00-c0ffee.jsonl"
    with jsonl.open("a") as f:
        f.write(
            '{"id":"m4","timestamp":"2025-11-21T10:00:00.000Z","type":"gemini","model":"gemini-2.5-flash",'
            '"tokens":{"input":10,"output":1,"cached":0,"thoughts":0,"tool":0,"total":11}}\n'
            '{"id":"m5","timestamp":"2025-11-21T10:00:01.000Z","type":"gemini","model":"gemini-2.5-flash",'
        )  # the last line is still being written: left for the next run
    stats = index(store, home, "gemini")
    assert stats.files_read == 2
    want = dict(EXPECTED)
    want[("2025-11-20", "gemini-2.5-flash")] = (5070, 107, 0, 0, 0, 2)
    want[("2025-11-21", "gemini-2.5-flash")] = (210, 31, 0, 100, 0, 2)
    assert cells(store, "gemini") == want
    assert usage_cells(store, "gemini") == want


def test_roots_from_variable_and_default(tmp_path: Path) -> None:
    reader = GeminiReader()
    (tmp_path / "a").mkdir()
    (tmp_path / ".gemini" / "tmp").mkdir(parents=True)
    assert reader.roots({"GEMINI_DATA_DIR": f"{tmp_path / 'a'}, {tmp_path / 'missing'}"}, tmp_path) == [tmp_path / "a"]
    assert reader.roots({}, tmp_path) == [tmp_path / ".gemini" / "tmp"]
