"""Kilo CLI: ``.local/share/kilo/kilo.db``, OpenCode's schema (no legacy files)."""

from __future__ import annotations

from .opencode import OpenCodeWriter


class KiloWriter(OpenCodeWriter):
    name = "kilo"
    models = (("claude-sonnet-4-5", 50), ("gpt-5", 30), ("kimi-k2", 20))
    folder = (".local", "share", "kilo")
    database = "kilo.db"
    legacy = False
