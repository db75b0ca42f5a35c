"""Factory Droid: ``~/.factory/sessions/**/<session>.settings.json`` (``$DROID_SESSIONS_DIR``).

A session's settings file carries the session's running totals, ``tokenUsage {inputTokens,
outputTokens, cacheCreationTokens, cacheReadTokens, thinkingTokens}`` (input without the cache;
thinking billed as output), the ``model`` (``custom:`` names and bracketed suffixes normalised as
ccusage does: ``custom:Claude-Sonnet-4.5-[Anthropic]`` -> ``claude-sonnet-4-5``) and
``providerLockTimestamp``. Droid logs no per-call usage, so a session is one entry, dated at
``providerLockTimestamp`` (else the file's modification time), replaced as its totals grow.
Without a model in the settings, the sibling ``<session>.jsonl`` may name it (``Model: ...``).

Dedupe: one entry per session id (the file name); the larger copy wins.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ._base import Row
from ._doc import DocumentReader, env_paths, existing, relative_parts
from ._values import larger_wins, loads, num, obj, row, seconds, text

SUFFIX = ".settings.json"
_MODEL_HINT = re.compile(rb"Model:\s*([^\"\\\[\n]+)")


def normalize_model(model: str) -> str:
    """``custom:Claude-Sonnet-4.5-[Anthropic]`` -> ``claude-sonnet-4-5`` (ccusage's rule, except that
    a dot stays a dot outside Claude names: OpenAI's ids are spelled ``gpt-5.1``)."""
    raw = model.removeprefix("custom:")
    raw = re.sub(r"\[[^\]]*\]", "", raw).strip().rstrip("-").lower()
    separators = r"[-.\s]+" if raw.startswith("claude") else r"[-\s]+"
    return re.sub(separators, "-", raw).strip("-")


class DroidReader(DocumentReader):
    agent = "droid"
    provider = "auto"
    title = "Factory Droid"
    variables = ("DROID_SESSIONS_DIR",)

    def defaults(self, env: Mapping[str, str], home: Path) -> list[Path]:
        return [home / ".factory" / "sessions"]

    def roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        return existing(env_paths(env.get("DROID_SESSIONS_DIR")) or self.defaults(env, home))

    def accept(self, name: str) -> bool:
        return name.endswith(SUFFIX)

    def context(self, path: str, root: str) -> dict[str, Any]:
        rel = relative_parts(path, root)
        return {"session": rel[-1][: -len(SUFFIX)], "project": rel[-2] if len(rel) > 1 else "", "path": path}

    def rows_of(self, data: bytes, ctx: dict[str, Any]) -> Iterator[Row]:
        d = obj(loads(data))
        usage = obj(d.get("tokenUsage"))
        inp, out = num(usage.get("inputTokens")), num(usage.get("outputTokens"))
        cw, cr = num(usage.get("cacheCreationTokens")), num(usage.get("cacheReadTokens"))
        thinking = num(usage.get("thinkingTokens"))
        if not inp + out + cw + cr + thinking:
            return
        model = normalize_model(text(d.get("model"))) or self._model_from_transcript(ctx["path"]) or "unknown"
        ts = seconds(d.get("providerLockTimestamp"))
        if ts is None:
            try:
                ts = int(os.stat(ctx["path"]).st_mtime)
            except OSError:
                return
        if text(d.get("cwd")):
            ctx["project"] = text(d["cwd"])
        yield row(
            ctx["session"],
            ts,
            model,
            ctx["file_id"],
            input=inp,
            output=out + thinking,
            cache_write=cw,
            cache_read=cr,
            reasoning=thinking,
        )

    @staticmethod
    def _model_from_transcript(path: str) -> str:
        sibling = path[: -len(SUFFIX)] + ".jsonl"
        try:
            with open(sibling, "rb") as f:
                head = f.read(256 << 10)
        except OSError:
            return ""
        found = _MODEL_HINT.search(head)
        return normalize_model(found.group(1).decode("utf-8", "replace")) if found else ""

    def prefer(self, new: Row, old: Row) -> bool:
        return larger_wins(new, old)
