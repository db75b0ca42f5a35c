"""Cline: each API request of a task (``api_req_started`` in ui_messages.json) is one entry, from the
CLI's data folder and the VS Code extension's storage; the model from the message, else from the
task's model history, else unknown (tokens kept)."""

from __future__ import annotations

import json
from pathlib import Path

from agentgauge.logs.cline import ClineReader
from agentgauge.store import Store
from tests.logs_agents import cells, fixture_home, index, sessions, usage_cells

EXPECTED = {
    ("2025-11-27", "claude-sonnet-4-5-20250929"): (12, 340, 15000, 0, 0, 1),
    ("2025-11-27", "claude-haiku-4-5-20251001"): (3, 120, 800, 15000, 0, 1),  # from task_metadata.json
    ("2025-11-28", "unknown"): (900, 50, 0, 100, 0, 1),  # the extension's task names no model
}


def test_cli_and_extension_tasks(store: Store, tmp_path: Path) -> None:
    home = fixture_home("cline", tmp_path)
    index(store, home, "cline")
    assert cells(store, "cline") == EXPECTED
    assert usage_cells(store, "cline") == EXPECTED
    assert sessions(store, "cline") == {"1764237600000": ("", 2), "1764320000000": ("", 1)}
    ui = home / ".cline" / "data" / "tasks" / "1764237600000" / "ui_messages.json"
    messages = json.loads(ui.read_text())
    info = json.loads(messages[4]["text"])
    info.update(tokensIn=7, tokensOut=70, cacheWrites=0, cacheReads=15800)  # the request finished
    messages[4]["text"] = json.dumps(info)
    ui.write_text(json.dumps(messages))
    index(store, home, "cline")
    want = dict(EXPECTED)
    want[("2025-11-27", "claude-haiku-4-5-20251001")] = (10, 190, 800, 30800, 0, 2)
    assert cells(store, "cline") == want


def test_roots_follow_clines_variables(tmp_path: Path) -> None:
    reader = ClineReader()
    (tmp_path / "d" / "tasks").mkdir(parents=True)
    (tmp_path / "c" / "data" / "tasks").mkdir(parents=True)
    assert reader.roots({"CLINE_DATA_DIR": str(tmp_path / "d")}, tmp_path) == [tmp_path / "d" / "tasks"]
    assert reader.roots({"CLINE_DIR": str(tmp_path / "c")}, tmp_path) == [tmp_path / "c" / "data" / "tasks"]
