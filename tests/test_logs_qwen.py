"""Qwen Code: Gemini-style usageMetadata (cached inside the prompt, thoughts billed as output); a
/branch copy of a record (same uuid, forkedFrom) counts once, with the original session."""

from __future__ import annotations

from pathlib import Path

from agentgauge.logs.qwen import QwenReader
from agentgauge.store import Store
from tests.logs_agents import cells, fixture_home, index, sessions, usage_cells

EXPECTED = {
    ("2025-11-29", "qwen3-coder-plus"): (4000, 720, 0, 27000, 120, 2),
    ("2025-11-30", "qwen3-coder-flash"): (900, 90, 0, 0, 0, 1),
}


def test_chats_and_branch_copies(store: Store, tmp_path: Path) -> None:
    home = fixture_home("qwen", tmp_path)
    index(store, home, "qwen")
    assert cells(store, "qwen") == EXPECTED
    assert usage_cells(store, "qwen") == EXPECTED
    assert sessions(store, "qwen") == {"7c1d": ("/home/me/svc", 2), "9e2f": ("/home/me/svc", 1)}


def test_roots(tmp_path: Path) -> None:
    (tmp_path / "q" / "projects").mkdir(parents=True)
    assert QwenReader().roots({"QWEN_DATA_DIR": str(tmp_path / "q")}, tmp_path) == [tmp_path / "q" / "projects"]
