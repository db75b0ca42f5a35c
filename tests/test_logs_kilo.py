"""Kilo CLI: OpenCode's schema in ``kilo.db``, read the same way (one entry per message id)."""

from __future__ import annotations

from pathlib import Path

from agentgauge.logs.kilo import KiloReader
from agentgauge.store import Store
from tests.logs_agents import cells, fixture_home, index, sessions, usage_cells

EXPECTED = {
    ("2025-11-23", "claude-sonnet-4-5"): (1200, 340, 8000, 50000, 0, 1),
    ("2025-11-23", "gpt-5"): (300, 100, 0, 0, 60, 1),
}


def test_fixture_totals_and_session(store: Store, tmp_path: Path) -> None:
    home = fixture_home("kilo", tmp_path)
    index(store, home, "kilo")
    assert cells(store, "kilo") == EXPECTED
    assert usage_cells(store, "kilo") == EXPECTED
    assert sessions(store, "kilo") == {"ses_k1": ("/work/site", 2)}
    assert (index(store, home, "kilo").files_read, cells(store, "opencode")) == (0, {})


def test_roots(tmp_path: Path) -> None:
    (tmp_path / "k").mkdir()
    assert KiloReader().roots({"KILO_DATA_DIR": str(tmp_path / "k")}, tmp_path) == [tmp_path / "k"]
    (tmp_path / "x" / "kilo").mkdir(parents=True)
    assert KiloReader().roots({"XDG_DATA_HOME": str(tmp_path / "x")}, tmp_path) == [tmp_path / "x" / "kilo"]
