"""Codebuff: ``~/.config/manicode{,-dev,-staging}/projects/<project>/chats/<chat>/chat-messages.json``
(``$CODEBUFF_DATA_DIR``: channel roots or their ``projects`` folders, comma-separated).

A chat file is a JSON array of messages rewritten as the chat goes on. An assistant message
(``variant`` ``ai``/``agent`` or ``role`` ``assistant``) carries ``metadata.model`` and its usage in
``metadata.usage`` or ``metadata.codebuff.usage``, in Anthropic's shape (``inputTokens`` without the
cache, ``cacheCreationInputTokens``, ``cacheReadInputTokens``) or OpenAI's (``promptTokens`` with
the cache inside, ``promptTokensDetails.cachedTokens``), as ccusage reads it. The time is the
message's ``timestamp``/``createdAt``, else the chat folder's name (``2026-01-02T03-04-05.000Z``).

Dedupe: one entry per chat and message id (or, without an id, its position); larger copy wins.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ._base import Row
from ._doc import DocumentReader, env_paths, existing, relative_parts
from ._values import larger_wins, loads, num, obj, row, seconds, text

CHANNELS = ("manicode", "manicode-dev", "manicode-staging")


def usage_of(u: dict[str, Any]) -> tuple[int, int, int, int]:
    """(input without the cache, output, cache write, cache read) from either usage shape."""
    cw = num(u.get("cacheCreationInputTokens") or u.get("cache_creation_input_tokens"))
    if "inputTokens" in u or "input_tokens" in u:
        cr = num(u.get("cacheReadInputTokens") or u.get("cache_read_input_tokens"))
        return num(u.get("inputTokens") or u.get("input_tokens")), num(_output(u)), cw, cr
    prompt = num(u.get("promptTokens") or u.get("prompt_tokens"))
    cr = num(obj(u.get("promptTokensDetails")).get("cachedTokens")) or num(
        obj(u.get("prompt_tokens_details")).get("cached_tokens")
    )
    cr = min(cr, prompt)
    return prompt - cr, num(_output(u)), cw, cr


def _output(u: dict[str, Any]) -> Any:
    for name in ("outputTokens", "output_tokens", "completionTokens", "completion_tokens"):
        if name in u:
            return u[name]
    return 0


def chat_time(chat: str) -> int | None:
    """``2026-01-02T03-04-05.000Z`` (the chat folder) -> epoch seconds."""
    date, _, clock = chat.partition("T")
    return seconds(f"{date}T{clock.replace('-', ':', 2)}") if clock else None


class CodebuffReader(DocumentReader):
    agent = "codebuff"
    provider = "auto"
    title = "Codebuff"
    variables = ("CODEBUFF_DATA_DIR",)

    def defaults(self, env: Mapping[str, str], home: Path) -> list[Path]:
        config = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
        bases = [config] if config == home / ".config" else [config, home / ".config"]
        if sys.platform == "win32" and env.get("APPDATA"):
            bases.append(Path(env["APPDATA"]))
        return [b / c / "projects" for b in bases for c in CHANNELS]

    def roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        configured = [p if p.name == "projects" else p / "projects" for p in env_paths(env.get("CODEBUFF_DATA_DIR"))]
        return existing(configured or self.defaults(env, home))

    def accept(self, name: str) -> bool:
        return name == "chat-messages.json"

    def context(self, path: str, root: str) -> dict[str, Any]:
        rel = relative_parts(path, root)  # <project>/chats/<chat>/chat-messages.json
        chat = rel[-2] if len(rel) > 1 else ""
        project = rel[0] if len(rel) > 3 else ""
        return {"session": f"{project}/{chat}" if project else chat, "project": project, "chat": chat}

    def rows_of(self, data: bytes, ctx: dict[str, Any]) -> Iterator[Row]:
        messages = loads(data)
        if type(messages) is not list:
            return
        fallback = chat_time(ctx["chat"])
        for position, m in enumerate(messages):
            m = obj(m)
            if (m.get("variant") or m.get("role")) not in ("ai", "agent", "assistant"):
                continue
            meta = obj(m.get("metadata"))
            u = obj(meta.get("usage")) or obj(obj(meta.get("codebuff")).get("usage"))
            inp, out, cw, cr = usage_of(u)
            if not inp + out + cw + cr:
                continue
            ts = seconds(m.get("timestamp")) or seconds(m.get("createdAt")) or seconds(meta.get("timestamp"))
            ts = ts or fallback
            if ts is None:
                continue
            model = text(meta.get("model")) or text(u.get("model")) or "unknown"
            mid = text(m.get("id")) or f"#{position}"
            yield row(
                f"{ctx['session']}:{mid}",
                ts,
                model,
                ctx["file_id"],
                input=inp,
                output=out,
                cache_write=cw,
                cache_read=cr,
            )

    def prefer(self, new: Row, old: Row) -> bool:
        return larger_wins(new, old)
