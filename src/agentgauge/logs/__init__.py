"""Token and cost reports from AI coding agents' local logs.

Each agent is one reader module; ``READERS`` lists them, in report order (one explicit list rather
than discovery: adding an agent is one import and one entry here, and the ``cost`` command imports
exactly these modules). A reader subclasses ``_base.Reader`` for append-only JSONL (the shared
scanner reads new lines), ``_doc.DocumentReader``/``LinesReader`` for JSON documents rewritten in
place or lines holding several entries, or ``_sqlite.DatabaseReader`` for SQLite databases (copied
with their WAL and read per session). docs/cost.md ("Adding an agent") has the checklist. Heavy parts
(the index, pricing, reports) are imported by their users, not here, so the command starts fast.
"""

from __future__ import annotations

from ._base import Reader
from .amp import AmpReader
from .claude import ClaudeReader
from .cline import ClineReader
from .codebuff import CodebuffReader
from .codex import CodexReader
from .copilot import CopilotReader
from .droid import DroidReader
from .gemini import GeminiReader
from .goose import GooseReader
from .grok import GrokReader
from .kilo import KiloReader
from .kimi import KimiReader
from .openclaw import OpenClawReader
from .opencode import OpenCodeReader
from .pi import PiReader
from .qwen import QwenReader

READERS: tuple[type[Reader], ...] = (
    ClaudeReader,
    CodexReader,
    GeminiReader,
    OpenCodeReader,
    AmpReader,
    CopilotReader,
    DroidReader,
    KimiReader,
    QwenReader,
    CodebuffReader,
    GooseReader,
    KiloReader,
    OpenClawReader,
    PiReader,
    ClineReader,
    GrokReader,
)


def agents() -> list[str]:
    return [r.agent for r in READERS]


def reader_for(agent: str) -> Reader:
    for cls in READERS:
        if cls.agent == agent:
            return cls()
    raise KeyError(f"unknown agent {agent!r}; known: {', '.join(agents())}")


__all__ = ["READERS", "Reader", "agents", "reader_for"]
