"""pi-agent: assistant usage entries; a branched session's copied entries count once."""

from __future__ import annotations

from pathlib import Path

from agentgauge.logs.pi import PiReader
from agentgauge.store import Store
from tests.logs_agents import cells, fixture_home, index, sessions, usage_cells

EXPECTED = {
    ("2025-12-01", "claude-sonnet-4-5"): (8, 420, 9000, 0, 0, 1),  # e2, also copied into the branch
    ("2025-12-01", "gpt-5-mini"): (500, 50, 0, 1500, 0, 1),
    ("2025-12-02", "claude-sonnet-4-5"): (4, 100, 200, 9000, 0, 1),
}


def test_sessions_and_branches(store: Store, tmp_path: Path) -> None:
    home = fixture_home("pi", tmp_path)
    index(store, home, "pi")
    assert cells(store, "pi") == EXPECTED
    assert usage_cells(store, "pi") == EXPECTED
    got = sessions(store, "pi")
    assert set(got) == {"5f0c", "7a9b"} and sum(n for _, n in got.values()) == 3
    assert {p for p, _ in got.values()} == {"--home-me-notes--"}


def test_roots(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    assert PiReader().roots({"PI_AGENT_DIR": str(tmp_path / "s")}, tmp_path) == [tmp_path / "s"]
