"""Provider adapters. ``BUILTIN`` lists the modules shipped with agentgauge; third-party
providers register a module under the ``agentgauge.providers`` entry-point group."""

from __future__ import annotations

from . import registry

BUILTIN: tuple[str, ...] = (
    "agentgauge.providers.claude",
    "agentgauge.providers.codex",
    "agentgauge.providers.kimi",
    "agentgauge.providers.zai",
    "agentgauge.providers.ollama",
)

__all__ = ["BUILTIN", "registry"]
