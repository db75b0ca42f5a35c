"""Gemini CLI: ``~/.gemini/tmp/<project hash>/chats/session-*.json`` (a conversation record the
CLI rewrites after each message) and the newer append-only ``*.jsonl`` form.

Format (Gemini CLI's chat recording, as ccusage reads it): ``{sessionId, projectHash, startTime,
lastUpdated, messages: [...]}``; a ``type: "gemini"`` message has ``id``, ``timestamp``, ``model``
and ``tokens {input, output, cached, thoughts, tool, total}`` copied from the API's usage metadata.
Gemini's ``input`` (promptTokenCount) *includes* the cached tokens, so input = input - cached,
cache read = cached; ``tool`` (toolUsePromptTokenCount) is prompt input as well; ``thoughts`` are
billed as output (output = output + thoughts, reasoning = thoughts). In the JSONL form the first
line holds the session id and a message may be written again with the same id (its final usage).

Dedupe: one entry per session id and message id; the larger copy wins (a later rewrite).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from ._base import Found, Row
from ._doc import DocumentReader, env_paths, existing, relative_parts, walk
from ._values import larger_wins, loads, num, obj, row, seconds, text


def message_row(m: dict[str, Any], session: str, model_hint: str, file_id: int) -> Row | None:
    tokens = obj(m.get("tokens"))
    mid = text(m.get("id"))
    model = text(m.get("model")) or model_hint
    ts = seconds(m.get("timestamp"))
    if not tokens or not model or ts is None:
        return None
    prompt, cached = num(tokens.get("input")), num(tokens.get("cached"))
    out, thoughts, tool = num(tokens.get("output")), num(tokens.get("thoughts")), num(tokens.get("tool"))
    cached = min(cached, prompt)
    inp = prompt - cached + tool
    if not inp + cached + out + thoughts:
        return None
    key = f"{session}:{mid}" if mid else f"{session}:{ts}:{model}:{prompt}:{out}:{thoughts}"
    return row(key, ts, model, file_id, input=inp, output=out + thoughts, cache_read=cached, reasoning=thoughts)


class GeminiReader(DocumentReader):
    agent = "gemini"
    provider = "google"
    title = "Gemini CLI"
    variables = ("GEMINI_DATA_DIR",)
    markers: ClassVar[tuple[bytes, ...]] = (b'"tokens":{', b'"sessionId"')

    def defaults(self, env: Mapping[str, str], home: Path) -> list[Path]:
        return [home / ".gemini" / "tmp"]

    def roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        return existing(env_paths(env.get("GEMINI_DATA_DIR")) or self.defaults(env, home))

    def files(self, roots: Any) -> list[Found]:
        found = walk(roots, lambda n: n.endswith((".json", ".jsonl")), whole=lambda n: n.endswith(".json"))
        # only conversation records: <hash>/chats/<file> (logs.json and checkpoints hold no usage)
        return [f for f in found if relative_parts(f[0], f[1])[-2:-1] == ["chats"]]

    def is_whole(self, path: str) -> bool:
        return path.endswith(".json")

    def context(self, path: str, root: str) -> dict[str, Any]:
        rel = relative_parts(path, root)
        stem = rel[-1].rsplit(".", 1)[0]
        return {
            "session": stem,
            "project": rel[0] if len(rel) > 2 else "",
            "model": "",
            "persist": ("session", "model"),
        }

    # -- the JSON record: read whole ------------------------------------------------------------------

    def rows_of(self, data: bytes, ctx: dict[str, Any]) -> Iterator[Row]:
        d = obj(loads(data))
        session = text(d.get("sessionId")) or ctx["session"]
        ctx["session"] = session
        for m in d.get("messages") or ():
            if type(m) is dict and m.get("type") == "gemini":
                r = message_row(m, session, "", ctx["file_id"])
                if r is not None:
                    yield r

    # -- the JSONL form: read line by line ------------------------------------------------------------

    def parse(self, line: bytes, offset: int, ctx: dict[str, Any]) -> Row | None:
        d = loads(line)
        if type(d) is not dict:
            return None
        if text(d.get("sessionId")):
            ctx["session"] = text(d["sessionId"])
        if text(d.get("model")):
            ctx["model"] = text(d["model"])
        if d.get("type") != "gemini":
            return None
        return message_row(d, ctx["session"], ctx["model"], ctx["file_id"])

    def prefer(self, new: Row, old: Row) -> bool:
        return larger_wins(new, old)
