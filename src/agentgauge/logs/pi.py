"""pi-agent (pi-mono's coding agent): ``~/.pi/agent/sessions/<cwd folder>/<time>_<session>.jsonl``
(``$PI_AGENT_DIR``: sessions folders, comma-separated).

Append-only entries ``{type, id, parentId, timestamp, message}``; an assistant ``message`` has
``provider``, ``model`` and ``usage {input, output, cacheRead, cacheWrite, totalTokens, cost}``
(input without the cache, as pi-ai counts it; format as in ccusage's adapter). OpenClaw writes
the same entries (it is built on pi): ``OpenClawReader`` extends this reader.

Dedupe: a branched session (``/fork``, ``/tree``) starts with the entries it branched from copied
verbatim: an entry is keyed by its id, time, model and tokens, so copies count once (the earliest).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from ._base import Found, Reader, Row
from ._doc import env_paths, existing, relative_parts, walk
from ._values import earliest_wins, loads, num, obj, row, seconds, text


class PiReader(Reader):
    agent = "pi"
    provider = "auto"
    title = "pi-agent"
    variables = ("PI_AGENT_DIR",)
    markers: ClassVar[tuple[bytes, ...]] = (b'"usage"',)

    def defaults(self, env: Mapping[str, str], home: Path) -> list[Path]:
        return [home / ".pi" / "agent" / "sessions"]

    def roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        return existing(env_paths(env.get(self.variables[0])) or self.defaults(env, home))

    def files(self, roots: Any) -> list[Found]:
        return walk(roots, lambda n: n.endswith(".jsonl"))

    def context(self, path: str, root: str) -> dict[str, Any]:
        rel = relative_parts(path, root)
        stem = rel[-1][: -len(".jsonl")]
        return {"session": stem.split("_", 1)[-1], "project": rel[0] if len(rel) > 1 else "", "model": ""}

    def message_row(self, d: dict[str, Any], ctx: dict[str, Any], scope: str = "") -> Row | None:
        """The row of an assistant message entry; ``scope`` prefixes its key."""
        message = obj(d.get("message"))
        usage = obj(message.get("usage"))
        if d.get("type", "message") != "message" or message.get("role") != "assistant" or not usage:
            return None
        inp, out = num(usage.get("input")), num(usage.get("output"))
        cw, cr = num(usage.get("cacheWrite")), num(usage.get("cacheRead"))
        if not inp + out + cw + cr:
            out = num(usage.get("totalTokens"))  # a total without its parts: counted as output, as ccusage does
        ts = seconds(message.get("timestamp")) or seconds(d.get("timestamp"))
        model = text(message.get("model")) or text(message.get("modelId")) or ctx["model"] or "unknown"
        if ts is None or not inp + out + cw + cr:
            return None
        key = f"{scope}{text(d.get('id'))}:{d.get('timestamp')}:{model}:{inp}:{out}:{cw}:{cr}"
        return row(key, ts, model, ctx["file_id"], input=inp, output=out, cache_write=cw, cache_read=cr)

    def parse(self, line: bytes, offset: int, ctx: dict[str, Any]) -> Row | None:
        return self.message_row(obj(loads(line)), ctx)

    def prefer(self, new: Row, old: Row) -> bool:
        return earliest_wins(new, old)
