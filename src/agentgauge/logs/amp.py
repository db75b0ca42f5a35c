"""Amp: thread files ``threads/**/T-<uuid>.json`` in Amp's data folder (``$AMP_DATA_DIR``, default
``~/.local/share/amp``), each rewritten as the thread grows.

Format (ccusage's adapter and its fixtures): ``{id, messages: [...], usageLedger: {events: [...]}}``.
An assistant message's ``usage`` has ``model``, ``timestamp``, ``inputTokens`` (without the cache:
``totalInputTokens`` = input + cache write + cache read), ``outputTokens``,
``cacheCreationInputTokens`` and ``cacheReadInputTokens``; older threads only have ledger events
``{id, timestamp, model, tokens: {input, output}, toMessageId}``. A message's own usage is used
when it has one; a ledger event counts only for a message without it (never both).

Dedupe: one entry per thread and message (``messageId``, or the ledger event id); a thread file
rewritten with a grown message keeps the larger copy.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ._base import Row
from ._doc import DocumentReader, env_paths, existing, relative_parts
from ._values import larger_wins, loads, num, obj, row, seconds, text


class AmpReader(DocumentReader):
    agent = "amp"
    provider = "auto"
    title = "Amp"
    variables = ("AMP_DATA_DIR",)

    def defaults(self, env: Mapping[str, str], home: Path) -> list[Path]:
        places = [Path(env.get("XDG_DATA_HOME") or home / ".local" / "share") / "amp" / "threads"]
        if sys.platform == "win32" and env.get("LOCALAPPDATA"):
            places.append(Path(env["LOCALAPPDATA"]) / "amp" / "threads")
        return places

    def roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        configured = [p / "threads" for p in env_paths(env.get("AMP_DATA_DIR"))]
        return existing(configured or self.defaults(env, home))

    def context(self, path: str, root: str) -> dict[str, Any]:
        rel = relative_parts(path, root)
        return {"session": rel[-1][: -len(".json")], "project": ""}

    def rows_of(self, data: bytes, ctx: dict[str, Any]) -> Iterator[Row]:
        d = obj(loads(data))
        thread = text(d.get("id")) or ctx["session"]
        ctx["session"] = thread
        with_usage: set[Any] = set()
        for m in d.get("messages") or ():
            m = obj(m)
            usage = obj(m.get("usage"))
            if m.get("role") != "assistant" or not usage:
                continue
            mid = m.get("messageId")
            ts = seconds(usage.get("timestamp") or m.get("timestamp"))
            model = text(usage.get("model")) or text(m.get("model"))
            inp, out = num(usage.get("inputTokens")), num(usage.get("outputTokens"))
            cw, cr = num(usage.get("cacheCreationInputTokens")), num(usage.get("cacheReadInputTokens"))
            if ts is None or not model or not inp + out + cw + cr:
                continue
            with_usage.add(mid)
            yield row(
                f"{thread}:m:{mid}", ts, model, ctx["file_id"], input=inp, output=out, cache_write=cw, cache_read=cr
            )
        for e in obj(d.get("usageLedger")).get("events") or ():
            e = obj(e)
            if e.get("toMessageId") in with_usage and e.get("toMessageId") is not None:
                continue
            tokens = obj(e.get("tokens"))
            ts, model = seconds(e.get("timestamp")), text(e.get("model"))
            inp, out = num(tokens.get("input")), num(tokens.get("output"))
            if not out and not inp:
                out = num(tokens.get("total"))  # a total without its parts: counted as output, as ccusage does
            if ts is None or not model or not inp + out:
                continue
            yield row(f"{thread}:e:{text(e.get('id')) or ts}", ts, model, ctx["file_id"], input=inp, output=out)

    def prefer(self, new: Row, old: Row) -> bool:
        return larger_wins(new, old)
