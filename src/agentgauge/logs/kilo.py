"""Kilo CLI: ``kilo.db`` in ``$KILO_DATA_DIR`` (default ``~/.local/share/kilo``).

Kilo's CLI is built on OpenCode and keeps OpenCode's schema (``message`` rows with ``id``,
``session_id``, ``time_updated`` and a ``data`` JSON holding ``modelID``, ``time.created`` and
``tokens {input, output, reasoning, cache: {read, write}}``; checked against Kilo-Org/kilocode's
``session.sql.ts``), so it is read exactly like OpenCode's database: one entry per message id, the
larger copy of a message rewritten while it streams wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .opencode import OpenCodeReader, share_dir


class KiloReader(OpenCodeReader):
    agent = "kilo"
    title = "Kilo CLI"
    variables = ("KILO_DATA_DIR",)
    database_prefix = "kilo"

    def defaults(self, env: Mapping[str, str], home: Path) -> list[Path]:
        return [share_dir(env, home) / "kilo"]

    def document_roots(self, roots: list[Path]) -> list[Path]:
        return []  # no legacy JSON layout
