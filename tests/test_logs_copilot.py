"""GitHub Copilot CLI: chat spans of the OpenTelemetry file export; an inference log of the same
response and the agent summary of a trace with chat spans never add to them; the explicit export
file is read too."""

from __future__ import annotations

import shutil
from pathlib import Path

from agentgauge.logs.copilot import CopilotReader
from agentgauge.store import Store
from tests.logs_agents import cells, fixture_home, index, sessions, usage_cells

EXPECTED = {
    ("2025-12-05", "claude-sonnet-4.5"): (8452, 509, 25, 31000, 128, 2),  # spans s1 and s2
    ("2025-12-06", "gpt-5-mini"): (2100, 310, 0, 1000, 0, 2),  # t2's agent summary and resp-9's log record
}
EXPORT = Path(".copilot") / "otel" / "copilot-otel-20251205-090000.jsonl"


def test_export(store: Store, tmp_path: Path) -> None:
    home = fixture_home("copilot", tmp_path)
    index(store, home, "copilot")
    assert cells(store, "copilot") == EXPECTED
    assert usage_cells(store, "copilot") == EXPECTED
    assert sessions(store, "copilot") == {"conv-2": ("", 4)}  # the file's last conversation names it


def test_explicit_export_file(store: Store, tmp_path: Path) -> None:
    home = fixture_home("copilot", tmp_path)
    elsewhere = tmp_path / "exports" / "run.jsonl"
    elsewhere.parent.mkdir()
    shutil.move(home / EXPORT, elsewhere)
    (elsewhere.parent / "unrelated.jsonl").write_text('{"attributes":{"gen_ai.usage.input_tokens":1}}\n')
    index(store, home, "copilot", COPILOT_OTEL_FILE_EXPORTER_PATH=str(elsewhere))
    assert cells(store, "copilot") == EXPECTED
    assert CopilotReader().roots({"COPILOT_OTEL_FILE_EXPORTER_PATH": str(elsewhere)}, home)[-1] == elsewhere
