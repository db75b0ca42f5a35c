"""Codebuff: chat files read whole; Anthropic-shaped usage (input without the cache) and OpenAI-shaped
usage (cached tokens inside the prompt) both counted right; the time from the message or the chat."""

from __future__ import annotations

import json
from pathlib import Path

from agentgauge.logs.codebuff import CodebuffReader, chat_time
from agentgauge.store import Store
from tests.logs_agents import cells, fixture_home, index, sessions, usage_cells

EXPECTED = {
    ("2025-11-26", "claude-sonnet-4-5-20250929"): (320, 1500, 4000, 60000, 0, 1),
    ("2025-11-26", "openai/gpt-5"): (3000, 800, 0, 7000, 0, 1),  # prompt 10000 of which 7000 cached
    ("2025-11-27", "gemini-2.5-pro"): (50, 5, 0, 0, 0, 1),  # no time on the message: the chat's
}
CHAT = "manicode/projects/webapp/chats/2025-11-26T10-15-00.000Z/chat-messages.json"


def test_chats_from_every_channel(store: Store, tmp_path: Path) -> None:
    home = fixture_home("codebuff", tmp_path)
    index(store, home, "codebuff")
    assert cells(store, "codebuff") == EXPECTED
    assert usage_cells(store, "codebuff") == EXPECTED
    assert sessions(store, "codebuff") == {
        "webapp/2025-11-26T10-15-00.000Z": ("webapp", 2),
        "cli/2025-11-27T08-00-00.000Z": ("cli", 1),
    }
    path = home / ".config" / CHAT
    chat = json.loads(path.read_text())
    chat[1]["metadata"]["usage"]["outputTokens"] = 1600  # rewritten as the chat went on
    path.write_text(json.dumps(chat))
    index(store, home, "codebuff")
    want = dict(EXPECTED)
    want[("2025-11-26", "claude-sonnet-4-5-20250929")] = (320, 1600, 4000, 60000, 0, 1)
    assert cells(store, "codebuff") == want


def test_chat_time_and_roots(tmp_path: Path) -> None:
    assert chat_time("2026-01-02T03-04-05.000Z") == 1767323045
    (tmp_path / "c" / "projects").mkdir(parents=True)
    assert CodebuffReader().roots({"CODEBUFF_DATA_DIR": str(tmp_path / "c")}, tmp_path) == [tmp_path / "c" / "projects"]
