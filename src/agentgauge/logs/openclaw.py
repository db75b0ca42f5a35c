"""OpenClaw (formerly clawdbot/moltbot): ``~/.openclaw/agents/<agent>/sessions/<session>.jsonl``, plus
the legacy homes ``~/.clawdbot``, ``~/.moltbot``, ``~/.moldbot`` (``$OPENCLAW_DIR``, comma-separated).

OpenClaw is built on pi and writes pi's session entries (``type: "message"`` with an assistant
``message.usage {input, output, cacheRead, cacheWrite, totalTokens, cost}``); ``model_change`` and
``custom``/``model-snapshot`` entries set the model for messages that do not name it (format as in
ccusage's adapter). A reset or deleted session is renamed ``<session>.jsonl.reset.<time>`` /
``.deleted.<time>``: those files are read too (their tokens were spent), and as a renamed file holds
the same entries as before, entries are keyed by session, id, time and tokens: a copy counts once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from ._base import Found, Row
from ._doc import env_paths, existing, relative_parts, walk
from ._values import loads, obj, text
from .pi import PiReader

HOMES = (".openclaw", ".clawdbot", ".moltbot", ".moldbot")
_NAME = re.compile(r".+\.jsonl(\.(reset|deleted)\.[^/\\]+)?$")


class OpenClawReader(PiReader):
    agent = "openclaw"
    title = "OpenClaw"
    variables = ("OPENCLAW_DIR",)
    markers: ClassVar[tuple[bytes, ...]] = (b'"model-snapshot"', b'"model_change"', b'"usage"')

    def defaults(self, env: Mapping[str, str], home: Path) -> list[Path]:
        return [home / h for h in HOMES]

    def roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        return existing(env_paths(env.get("OPENCLAW_DIR")) or self.defaults(env, home))

    def files(self, roots: Any) -> list[Found]:
        return walk(roots, lambda n: _NAME.match(n) is not None)

    def context(self, path: str, root: str) -> dict[str, Any]:
        rel = relative_parts(path, root)
        session = rel[-1].split(".jsonl", 1)[0]
        agent = rel[rel.index("agents") + 1] if "agents" in rel[:-1] and rel.index("agents") + 1 < len(rel) - 1 else ""
        return {"session": session, "project": agent, "model": "", "persist": ("model",)}

    def parse(self, line: bytes, offset: int, ctx: dict[str, Any]) -> Row | None:
        d = obj(loads(line))
        kind = d.get("type")
        if kind == "model_change" or (kind == "custom" and d.get("customType") == "model-snapshot"):
            source = obj(d.get("data")) or d
            model = text(source.get("modelId")) or text(source.get("model"))
            if model:
                ctx["model"] = model
            return None
        # keyed by session as well: pi's entry ids are short and only unique within a session
        return self.message_row(d, ctx, scope=f"{ctx['session']}:")
