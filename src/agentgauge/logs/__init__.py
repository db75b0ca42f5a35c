"""Token and cost reports from AI coding agents' local JSONL logs.

Each agent is one reader module; ``READERS`` lists them like the provider registry does. To add an
agent (Gemini CLI, OpenCode, Amp...), write a ``Reader`` subclass in its own module and append it
here. Heavy parts (the index, pricing, reports) are imported by their users, not here, so the
``cost`` command starts fast.
"""

from __future__ import annotations

from ._base import Reader
from .claude import ClaudeReader
from .codex import CodexReader

READERS: tuple[type[Reader], ...] = (ClaudeReader, CodexReader)


def agents() -> list[str]:
    return [r.agent for r in READERS]


def reader_for(agent: str) -> Reader:
    for cls in READERS:
        if cls.agent == agent:
            return cls()
    raise KeyError(f"unknown agent {agent!r}; known: {', '.join(agents())}")


__all__ = ["READERS", "Reader", "agents", "reader_for"]
