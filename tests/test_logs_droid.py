"""Factory Droid: one entry per session from its settings file's running totals; the model from the
settings (normalised) or named in the session transcript."""

from __future__ import annotations

import json
from pathlib import Path

from agentgauge.logs.droid import DroidReader, normalize_model
from agentgauge.store import Store
from tests.logs_agents import cells, fixture_home, index, sessions, usage_cells

EXPECTED = {
    ("2025-11-24", "claude-sonnet-4-5"): (4200, 10300, 35000, 880000, 1200, 1),
    ("2025-11-25", "gpt-5"): (500, 100, 0, 2000, 40, 1),  # model from the transcript's "Model: GPT-5 [OpenAI]"
}


def test_sessions(store: Store, tmp_path: Path) -> None:
    home = fixture_home("droid", tmp_path)
    index(store, home, "droid")
    assert cells(store, "droid") == EXPECTED
    assert usage_cells(store, "droid") == EXPECTED
    assert sessions(store, "droid") == {
        "3d1f6a2e-aaaa-4bbb-9ccc-0123456789ab": ("-home-me-app", 1),
        "9e8d7c6b-1111-4222-8333-444455556666": ("-home-me-app", 1),
    }
    settings = home / ".factory" / "sessions" / "-home-me-app" / "3d1f6a2e-aaaa-4bbb-9ccc-0123456789ab.settings.json"
    data = json.loads(settings.read_text())
    data["tokenUsage"]["outputTokens"] += 900  # the session went on: its totals grew
    settings.write_text(json.dumps(data))
    index(store, home, "droid")
    want = dict(EXPECTED)
    want[("2025-11-24", "claude-sonnet-4-5")] = (4200, 11200, 35000, 880000, 1200, 1)
    assert cells(store, "droid") == want
    assert usage_cells(store, "droid") == want


def test_model_names_and_roots(tmp_path: Path) -> None:
    assert normalize_model("custom:Claude-Opus-4.5-Thinking-[Anthropic]") == "claude-opus-4-5-thinking"
    assert normalize_model("GPT-5.1-Codex [OpenAI]") == "gpt-5.1-codex"
    (tmp_path / "s").mkdir()
    assert DroidReader().roots({"DROID_SESSIONS_DIR": str(tmp_path / "s")}, tmp_path) == [tmp_path / "s"]
