"""OpenClaw: pi-style entries with the model from model changes and snapshots; a reset session's
renamed transcript is read too and its entries count once; the legacy homes are read."""

from __future__ import annotations

from pathlib import Path

from agentgauge.logs.openclaw import OpenClawReader
from agentgauge.store import Store
from tests.logs_agents import cells, fixture_home, index, sessions, usage_cells

EXPECTED = {
    ("2025-11-15", "claude-sonnet-4-5"): (1, 2, 4, 3, 0, 1),  # ~/.clawdbot
    ("2025-12-03", "gpt-5.2"): (1860, 95, 500, 109928, 0, 1),  # from the model_change; also in the reset copy
    ("2025-12-03", "claude-opus-4-5"): (40, 600, 1000, 20000, 0, 1),  # from the model-snapshot
}


def test_sessions_resets_and_legacy_homes(store: Store, tmp_path: Path) -> None:
    home = fixture_home("openclaw", tmp_path)
    stats = index(store, home, "openclaw")
    assert stats.per_agent["openclaw"]["files"] == 3
    assert cells(store, "openclaw") == EXPECTED
    assert usage_cells(store, "openclaw") == EXPECTED
    got = sessions(store, "openclaw")
    assert set(got) == {"a1b2c3", "old1"} and got["a1b2c3"] == ("main", 2)


def test_roots(tmp_path: Path) -> None:
    (tmp_path / "oc").mkdir()
    assert OpenClawReader().roots({"OPENCLAW_DIR": str(tmp_path / "oc")}, tmp_path) == [tmp_path / "oc"]
