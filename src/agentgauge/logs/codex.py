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

from . import _fast
from ._base import LONG_CONTEXT, MAX_TOKENS, TS, LineParser, Malformed, Reader, Row, key_id, parse_ts
from .claude import _loads

FALLBACK_MODEL = "gpt-5"


def _usage(value: Any) -> tuple[int, ...] | None:
    if type(value) is not dict:
        return None
    get = value.get
    return _counts(
        get("input_tokens") or 0,
        get("cached_input_tokens") or 0,
        get("output_tokens") or 0,
        get("reasoning_output_tokens") or 0,
        get("total_tokens") or 0,
    )


def _usage_of(value: Any) -> tuple[int, ...] | None:
    """``_usage`` of the compiled decoder's struct (None: the object was absent or null)."""
    if value is None:
        return None
    return _counts(
        value.input_tokens or 0,
        value.cached_input_tokens or 0,
        value.output_tokens or 0,
        value.reasoning_output_tokens or 0,
        value.total_tokens or 0,
    )


def _counts(a: Any, b: Any, c: Any, d: Any, e: Any) -> tuple[int, ...] | None:
    # Spelled out rather than all(...) over a generator: this runs twice per token_count line.
    if (
        type(a) is int
        and type(b) is int
        and type(c) is int
        and type(d) is int
        and type(e) is int
        and a >= 0
        and b >= 0
        and c >= 0
        and d >= 0
        and e >= 0
        and a + b + c + d + e < MAX_TOKENS  # both decoders alike (see claude._entry), sums within 64 bits
    ):
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
        return {
            "session": os.path.splitext(os.path.basename(path))[0],
            "project": "",
            "model": None,
            "prev": None,
            "metas": 0,
            "persist": ("session", "project", "model", "prev", "metas"),
        }

    def line_parser(self) -> LineParser:
        return self._parse_fast if _fast.active() else self.parse

    def parse(self, line: bytes, offset: int, ctx: dict[str, Any]) -> Row | None:
        """The reference path (orjson, whole line to dicts); ``_parse_fast`` is the compiled one."""
        raw_total = _total_bytes(line)
        if raw_total is not None and raw_total == ctx.get("raw_total"):
            return None  # the counter did not move: skip without parsing
        d = _loads(line)
        if type(d) is not dict:
            return None
        payload = d.get("payload")
        if type(payload) is not dict:
            return None
        get = payload.get
        return _event(
            ctx,
            offset,
            raw_total,
            d.get("type"),
            d.get("timestamp"),
            get("type"),
            get("model"),
            get("id"),
            get("cwd"),
            get("info"),
        )

    def _parse_fast(self, line: bytes, offset: int, ctx: dict[str, Any]) -> Row | None:
        """``parse`` with msgspec: session_meta's instructions and the other payloads' bodies are
        skipped unbuilt."""
        raw_total = _total_bytes(line)
        if raw_total is not None and raw_total == ctx.get("raw_total"):
            return None
        try:
            d = _fast.codex_line(line)
        except _fast.ValidationError:
            return self.parse(line, offset, ctx)  # a shape the typed decoder does not take: the reference decides
        except _fast.DecodeError:
            try:
                d = _fast.codex_line(line.decode("utf-8", "replace"))
            except _fast.ValidationError:
                return self.parse(line, offset, ctx)
            except _fast.DecodeError:
                raise Malformed from None
        payload = d.payload
        if payload is None:
            return None
        kind = d.type
        if kind == "event_msg":
            info = payload.info
            if payload.type != "token_count" or info is None:
                return None
            return _count(
                ctx, offset, raw_total, d.timestamp, _usage_of(info.total_token_usage), _usage_of(info.last_token_usage)
            )
        return _event(
            ctx, offset, raw_total, kind, d.timestamp, payload.type, payload.model, payload.id, payload.cwd, None
        )

    def prefer(self, new: Row, old: Row) -> bool:
        return bool(new[TS] < old[TS])


def _event(
    ctx: dict[str, Any],
    offset: int,
    raw_total: bytes | None,
    kind: Any,
    when: Any,
    payload_type: Any,
    model: Any,
    sid: Any,
    cwd: Any,
    info: Any,
) -> Row | None:
    """Apply one decoded line (shared by both decoding paths): a turn_context's model, a
    session_meta's ids, or a token_count's delta as a row."""
    if kind == "turn_context":
        if type(model) is str and model:
            ctx["model"] = model
        return None
    if kind == "session_meta":
        # A fork also carries its parent's session_meta: only the first one names this file.
        if ctx["metas"] == 0:
            if type(sid) is str and sid:
                ctx["session"] = sid
            if type(cwd) is str:
                ctx["project"] = cwd
        ctx["metas"] += 1
        return None
    if kind != "event_msg" or payload_type != "token_count" or type(info) is not dict:
        return None
    return _count(
        ctx, offset, raw_total, when, _usage(info.get("total_token_usage")), _usage(info.get("last_token_usage"))
    )


def _count(
    ctx: dict[str, Any],
    offset: int,
    raw_total: bytes | None,
    when: Any,
    total: tuple[int, ...] | None,
    last: tuple[int, ...] | None,
) -> Row | None:
    """A token_count's row: the delta of its cumulative total from the previous one in the file."""
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
        elif (
            total[0] >= prev[0]
            and total[1] >= prev[1]
            and total[2] >= prev[2]
            and total[3] >= prev[3]
            and total[4] >= prev[4]
        ):
            delta = (
                total[0] - prev[0],
                total[1] - prev[1],
                total[2] - prev[2],
                total[3] - prev[3],
                total[4] - prev[4],
            )
        else:
            delta = last or total  # the counter went back (a new thread in this file): trust the row
        a, b, c, d, e = total
        key = key_id(f"t:{a}:{b}:{c}:{d}:{e}")  # ":".join(map(str, total)), built faster
    ts = parse_ts(when)
    if ts is None:
        return None
    inp, cached, out, reasoning, _ = delta
    cached = min(cached, inp)
    return (
        key,
        ts,
        ctx["model"] or FALLBACK_MODEL,
        inp - cached,
        out,
        0,
        0,
        cached,
        reasoning,
        0,
        1 if inp > LONG_CONTEXT else 0,
        ctx["file_id"],
    )
