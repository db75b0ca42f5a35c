"""Amp: thread files read whole; an assistant message's own usage counts, a ledger event only for a
message without one; a thread rewritten with a grown message replaces its entry."""

from __future__ import annotations

import json
from pathlib import Path

from agentgauge.logs.amp import AmpReader
from agentgauge.store import Store
from tests.logs_agents import cells, fixture_home, index, sessions, usage_cells

SONNET, HAIKU = "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"
EXPECTED = {
    ("2025-11-22", SONNET): (15, 220, 986, 23372, 0, 2),  # messages 1 and 3 (their ledger events are not added)
    ("2025-11-22", HAIKU): (900, 60, 0, 0, 0, 1),  # ledger event of message 4, which has no usage
    ("2025-11-23", "gpt-5"): (3000, 250, 0, 1000, 0, 1),
}
THREAD = "T-1f0e7a52-3b1c-4d2e-9f10-aa55bb66cc77"


def test_threads(store: Store, tmp_path: Path) -> None:
    home = fixture_home("amp", tmp_path)
    index(store, home, "amp")
    assert cells(store, "amp") == EXPECTED
    assert usage_cells(store, "amp") == EXPECTED
    assert set(sessions(store, "amp")) == {THREAD, "T-00aa11bb-2222-4333-8444-555566667777"}
    path = home / ".local" / "share" / "amp" / "threads" / f"{THREAD}.json"
    thread = json.loads(path.read_text())
    thread["messages"][3]["usage"]["outputTokens"] = 100  # the message was still streaming last time
    thread["messages"].append(
        {
            "role": "assistant",
            "messageId": 5,
            "usage": {"model": SONNET, "inputTokens": 1, "outputTokens": 2, "timestamp": "2025-11-22T09:05:00.000Z"},
        }
    )
    path.write_text(json.dumps(thread))
    assert index(store, home, "amp").files_read == 1
    want = dict(EXPECTED)
    want[("2025-11-22", SONNET)] = (16, 280, 986, 23372, 0, 3)
    assert cells(store, "amp") == want
    assert usage_cells(store, "amp") == want


def test_roots(tmp_path: Path) -> None:
    (tmp_path / "a" / "threads").mkdir(parents=True)
    assert AmpReader().roots({"AMP_DATA_DIR": str(tmp_path / "a")}, tmp_path) == [tmp_path / "a" / "threads"]
