"""Qwen Code: ``~/.qwen/projects/<project>/chats/<session>.jsonl`` (``$QWEN_DATA_DIR``, comma-separated).

Append-only records (Qwen Code's ``chatRecordingService.ts``): ``{uuid, parentUuid, sessionId,
timestamp, type, cwd, model, usageMetadata, ...}``; an ``assistant`` record's ``usageMetadata`` is
Gemini's: ``promptTokenCount`` *includes* ``cachedContentTokenCount``, ``candidatesTokenCount`` is
the answer and ``thoughtsTokenCount`` the reasoning (billed as output). So input = prompt - cached,
cache read = cached, output = candidates + thoughts.

Dedupe: one entry per record ``uuid`` (``/branch`` copies records verbatim into the new session,
same uuid, marked ``forkedFrom``): the original is kept over a copy, then the earliest. A record
without a uuid is keyed by its session, time and tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from ._base import SIDECHAIN, Found, Reader, Row
from ._doc import env_paths, existing, relative_parts, walk
from ._values import earliest_wins, loads, num, obj, row, seconds, text


class QwenReader(Reader):
    agent = "qwen"
    provider = "auto"
    title = "Qwen Code"
    variables = ("QWEN_DATA_DIR",)
    markers: ClassVar[tuple[bytes, ...]] = (b'"usageMetadata"',)

    def defaults(self, env: Mapping[str, str], home: Path) -> list[Path]:
        return [home / ".qwen" / "projects"]

    def roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        configured = [p / "projects" for p in env_paths(env.get("QWEN_DATA_DIR"))]
        return existing(configured or self.defaults(env, home))

    def files(self, roots: Any) -> list[Found]:
        found = walk(roots, lambda n: n.endswith(".jsonl"))
        return [f for f in found if relative_parts(f[0], f[1])[-2:-1] == ["chats"]]

    def context(self, path: str, root: str) -> dict[str, Any]:
        rel = relative_parts(path, root)  # <project>/chats/<session>.jsonl
        return {"session": rel[-1][: -len(".jsonl")], "project": rel[0], "persist": ("project",)}

    def parse(self, line: bytes, offset: int, ctx: dict[str, Any]) -> Row | None:
        d = obj(loads(line))
        if text(d.get("cwd")):
            ctx["project"] = text(d["cwd"])
        usage = obj(d.get("usageMetadata"))
        if d.get("type") != "assistant" or not usage:
            return None
        prompt, cached = num(usage.get("promptTokenCount")), num(usage.get("cachedContentTokenCount"))
        out, thoughts = num(usage.get("candidatesTokenCount")), num(usage.get("thoughtsTokenCount"))
        cached = min(cached, prompt)
        ts = seconds(d.get("timestamp"))
        if ts is None or not prompt + out + thoughts:
            return None
        model = text(d.get("model")) or "unknown"
        uid = text(d.get("uuid"))
        key = (
            uid
            or f"{text(d.get('sessionId')) or ctx['session']}:{d.get('timestamp')}:{prompt}:{cached}:{out}:{thoughts}"
        )
        return row(
            key,
            ts,
            model,
            ctx["file_id"],
            input=prompt - cached,
            output=out + thoughts,
            cache_read=cached,
            reasoning=thoughts,
            secondary=1 if d.get("forkedFrom") else 0,
        )

    def prefer(self, new: Row, old: Row) -> bool:
        if new[SIDECHAIN] != old[SIDECHAIN]:
            return bool(new[SIDECHAIN] < old[SIDECHAIN])  # the original record over a /branch copy
        return earliest_wins(new, old)
