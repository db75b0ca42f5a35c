"""Grok Build: turn_completed usage per model (several models in one turn), cached input split out,
reasoning billed as output, the model from summary.json when a turn names none, a turn event
replayed in a sibling session counted once."""

from __future__ import annotations

from pathlib import Path

from agentgauge.logs.grok import GrokReader
from agentgauge.store import Store
from tests.logs_agents import cells, fixture_home, index, sessions, usage_cells

EXPECTED = {
    ("2025-12-03", "grok-4"): (110, 35, 0, 40, 10, 2),  # e1 (also replayed in sess-g2) and e3 (model from summary)
    ("2025-12-04", "grok-4"): (200, 50, 0, 300, 0, 1),
    ("2025-12-04", "grok-code-fast-1"): (200, 125, 0, 800, 25, 1),
}
SESSIONS = Path(".grok") / "sessions" / "%2Fhome%2Fme%2Fgame"


def test_turns(store: Store, tmp_path: Path) -> None:
    home = fixture_home("grok", tmp_path)
    index(store, home, "grok")
    assert cells(store, "grok") == EXPECTED
    assert usage_cells(store, "grok") == EXPECTED
    got = sessions(store, "grok")
    assert got["sess-g1"][0] == "/home/me/game" and sum(n for _, n in got.values()) == 4
    updates = home / SESSIONS / "sess-g1" / "updates.jsonl"
    with updates.open("a") as f:
        f.write(
            '{"timestamp":1764835300,"params":{"sessionId":"sess-g1","update":{"sessionUpdate":"turn_completed",'
            '"usage":{"modelUsage":{"grok-4":{"inputTokens":9,"outputTokens":1}}}},"_meta":{"eventId":"e4"}}}\n'
            '{"timestamp":1764835301,"params":{"sessionId":"sess-g1","update":{"sessionUpdate":"turn_comp'
        )
    index(store, home, "grok")
    assert cells(store, "grok")[("2025-12-04", "grok-4")] == (209, 51, 0, 300, 0, 2)


def test_roots(tmp_path: Path) -> None:
    (tmp_path / "g" / "sessions").mkdir(parents=True)
    assert GrokReader().roots({"GROK_HOME": str(tmp_path / "g")}, tmp_path) == [tmp_path / "g" / "sessions"]
