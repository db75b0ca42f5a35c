"""Every agent the generator can write, in output order. Adding an agent is one module (an
``AgentWriter`` subclass with its own ground-truth fields) and one line here. ``DEFAULT`` is what a
tree holds unless ``--agents`` says otherwise (``all``: every agent)."""

from __future__ import annotations

from .amp import AmpWriter
from .base import AgentWriter
from .claude import ClaudeWriter
from .cline import ClineWriter
from .codebuff import CodebuffWriter
from .codex import CodexWriter
from .copilot import CopilotWriter
from .droid import DroidWriter
from .gemini import GeminiWriter
from .goose import GooseWriter
from .grok import GrokWriter
from .kilo import KiloWriter
from .kimi import KimiWriter
from .openclaw import OpenClawWriter
from .opencode import OpenCodeWriter
from .pi import PiWriter
from .qwen import QwenWriter

WRITERS: dict[str, type[AgentWriter]] = {
    w.name: w
    for w in (
        ClaudeWriter,
        CodexWriter,
        GeminiWriter,
        OpenCodeWriter,
        AmpWriter,
        CopilotWriter,
        DroidWriter,
        KimiWriter,
        QwenWriter,
        CodebuffWriter,
        GooseWriter,
        KiloWriter,
        OpenClawWriter,
        PiWriter,
        ClineWriter,
        GrokWriter,
    )
}
DEFAULT = ("claude", "codex")
