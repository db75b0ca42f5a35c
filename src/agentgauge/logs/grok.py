"""Grok Build (xAI's CLI): ``~/.grok/sessions/<url-encoded project>/<session>/updates.jsonl``
(``$GROK_HOME``, comma-separated), with an optional sibling ``summary.json``.

Append-only session updates ``{timestamp, method, params: {sessionId, update: {sessionUpdate,
usage}, _meta: {eventId}}}`` (format as in ccusage's grok adapter and its fixtures). A
``turn_completed`` update's ``usage`` has ``inputTokens``, ``outputTokens``, ``cachedReadTokens``,
``reasoningTokens`` and ``totalTokens``, per model in ``modelUsage`` when a turn used several.
``inputTokens`` includes the cached tokens (their fixture: total 130 = input 100 + output 20 +
reasoning 10, with 40 cached), so input = input - cached; reasoning is billed as output. The
model, when a turn names none, is ``summary.json``'s ``current_model_id``.

Dedupe: one entry per turn event id and model (a session replayed into another file counts once);
without an event id, per session, time, model and tokens.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from ._base import Found, Malformed, Row
from ._doc import LinesReader, env_paths, existing, relative_parts, walk
from ._values import earliest_wins, loads, num, obj, row, seconds, text


class GrokReader(LinesReader):
    agent = "grok"
    provider = "x-ai"
    title = "Grok Build"
    variables = ("GROK_HOME",)
    markers: ClassVar[tuple[bytes, ...]] = (b'"turn_completed"',)

    def defaults(self, env: Mapping[str, str], home: Path) -> list[Path]:
        return [home / ".grok" / "sessions"]

    def roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        configured = [p / "sessions" if (p / "sessions").is_dir() else p for p in env_paths(env.get("GROK_HOME"))]
        return existing(configured or self.defaults(env, home))

    def files(self, roots: Any) -> list[Found]:
        return walk(roots, lambda n: n == "updates.jsonl", whole=True)

    def context(self, path: str, root: str) -> dict[str, Any]:
        rel = relative_parts(path, root)  # <encoded project>/<session>/updates.jsonl
        ctx: dict[str, Any] = {
            "session": rel[-2] if len(rel) > 1 else "",
            "project": _unquote(rel[-3]) if len(rel) > 2 else "",
            "model": "",
        }
        try:
            with open(Path(path).with_name("summary.json"), "rb") as f:
                summary = obj(loads(f.read()))
        except (OSError, Malformed):
            return ctx
        ctx["model"] = text(summary.get("current_model_id"))
        cwd = text(obj(summary.get("info")).get("cwd")) or text(summary.get("git_root_dir"))
        if cwd:
            ctx["project"] = cwd.rstrip("/")
        return ctx

    def lines_of(self, line: bytes, ctx: dict[str, Any]) -> Iterator[Row]:
        d = obj(loads(line))
        params = obj(d.get("params"))
        update = obj(params.get("update"))
        usage = obj(update.get("usage"))
        if update.get("sessionUpdate") != "turn_completed" or not usage:
            return
        ts = seconds(d.get("timestamp"))
        if ts is None:
            return
        session = text(params.get("sessionId")) or ctx["session"]
        event = text(obj(params.get("_meta")).get("eventId"))
        per_model = obj(usage.get("modelUsage")) or {ctx["model"] or "unknown": usage}
        for model in sorted(per_model):
            u = obj(per_model[model])
            prompt, cached = num(u.get("inputTokens")), num(u.get("cachedReadTokens"))
            out, reasoning = num(u.get("outputTokens")), num(u.get("reasoningTokens"))
            cached = min(cached, prompt)
            if not prompt + out + reasoning:
                continue
            key = f"{event}:{model}" if event else f"{session}:{d.get('timestamp')}:{model}:{prompt}:{cached}:{out}"
            yield row(
                key,
                ts,
                model,
                ctx["file_id"],
                input=prompt - cached,
                output=out + reasoning,
                cache_read=cached,
                reasoning=reasoning,
            )

    def prefer(self, new: Row, old: Row) -> bool:
        return earliest_wins(new, old)


def _unquote(name: str) -> str:
    from urllib.parse import unquote

    return unquote(name)
