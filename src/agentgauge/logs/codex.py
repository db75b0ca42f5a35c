"""Codex CLI: ``$CODEX_HOME/sessions/YYYY/MM/DD/rollout-*.jsonl`` and ``archived_sessions``.

``token_count`` events carry the thread's *cumulative* ``total_token_usage``. We count the delta
from the previous total in the same file, skip rows whose total did not move (re-emits and exact
duplicate lines), and key every counted row by the cumulative total itself. A fork or sub-agent
file replays its parent's history with the child's creation time: those rows carry totals
already seen in the parent, so the key collapses them onto the parent's row and the earliest
timestamp wins. Archived copies of a rollout collapse the same way. The model comes from the
latest ``turn_context``; turns before any fall back to ``gpt-5`` like ccusage.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._base import LONG_CONTEXT, TS, Reader, Row, key_id, parse_ts
from .claude import _loads

FALLBACK_MODEL = "gpt-5"


def _usage(value: Any) -> tuple[int, ...] | None:
    if type(value) is not dict:
        return None
    get = value.get
    a, b, c, d, e = (get("input_tokens") or 0, get("cached_input_tokens") or 0, get("output_tokens") or 0,
                     get("reasoning_output_tokens") or 0, get("total_tokens") or 0)
    # Spelled out rather than all(...) over a generator: this runs twice per token_count line.
    if (type(a) is int and type(b) is int and type(c) is int and type(d) is int and type(e) is int
            and a >= 0 and b >= 0 and c >= 0 and d >= 0 and e >= 0):
        return a, b, c, d, e
    return None


def _total_bytes(line: bytes) -> bytes | None:
    """The raw ``total_token_usage`` object: a re-emit repeats it byte for byte."""
    h = line.find(b'"total_token_usage":{')
    e = line.find(b"}", h)
    return line[h:e] if h >= 0 and e > 0 else None


class CodexReader(Reader):
    agent = "codex"
    provider = "openai"
    markers = (b'"token_count"', b'"turn_context"', b'"session_meta"')

    def roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        homes = [p.strip() for p in env.get("CODEX_HOME", "").split(",") if p.strip()] or [str(home / ".codex")]
        roots: list[Path] = []
        for h in homes:
            for sub in ("sessions", "archived_sessions"):
                folder = Path(h).expanduser() / sub
                if folder.is_dir() and folder not in roots:
                    roots.append(folder)
        return roots

    def context(self, path: str, root: str) -> dict[str, Any]:
        # session and project come from the first session_meta; these are the fallbacks.
        return {"session": os.path.splitext(os.path.basename(path))[0], "project": "", "model": None, "prev": None,
                "metas": 0, "persist": ("session", "project", "model", "prev", "metas")}

    def parse(self, line: bytes, offset: int, ctx: dict[str, Any]) -> Row | None:
        raw_total = _total_bytes(line)
        if raw_total is not None and raw_total == ctx.get("raw_total"):
            return None  # the counter did not move: skip without parsing
        d = _loads(line)
        if type(d) is not dict:
            return None
        payload = d.get("payload")
        if type(payload) is not dict:
            return None
        kind = d.get("type")
        if kind == "turn_context":
            if type(model := payload.get("model")) is str and model:
                ctx["model"] = model
            return None
        if kind == "session_meta":
            # A fork also carries its parent's session_meta: only the first one names this file.
            if ctx["metas"] == 0:
                if type(sid := payload.get("id")) is str and sid:
                    ctx["session"] = sid
                if type(cwd := payload.get("cwd")) is str:
                    ctx["project"] = cwd
            ctx["metas"] += 1
            return None
        if kind != "event_msg" or payload.get("type") != "token_count" or type(info := payload.get("info")) is not dict:
            return None
        total = _usage(info.get("total_token_usage"))
        last = _usage(info.get("last_token_usage"))
        prev = tuple(ctx["prev"]) if ctx["prev"] else None
        if total is None:
            if last is None:
                return None
            delta, key = last, key_id(f"@{ctx['file_id']}:{offset}")
        else:
            if total == prev:
                return None  # a re-emit or an exact duplicate line: the counter did not move
            ctx["prev"] = list(total)
            ctx["raw_total"] = raw_total
            if prev is None:
                delta = total
            elif (total[0] >= prev[0] and total[1] >= prev[1] and total[2] >= prev[2] and total[3] >= prev[3]
                  and total[4] >= prev[4]):
                delta = (total[0] - prev[0], total[1] - prev[1], total[2] - prev[2], total[3] - prev[3],
                         total[4] - prev[4])
            else:
                delta = last or total  # the counter went back (a new thread in this file): trust the row
            key = key_id("t:" + ":".join(map(str, total)))
        ts = parse_ts(d.get("timestamp"))
        if ts is None:
            return None
        inp, cached, out, reasoning, _ = delta
        cached = min(cached, inp)
        return (key, ts, ctx["model"] or FALLBACK_MODEL, inp - cached, out, 0, 0, cached, reasoning, 0,
                1 if inp > LONG_CONTEXT else 0, ctx["file_id"])

    def prefer(self, new: Row, old: Row) -> bool:
        return bool(new[TS] < old[TS])
