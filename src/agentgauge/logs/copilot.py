"""GitHub Copilot CLI: its OpenTelemetry file export, ``~/.copilot/otel/*.jsonl`` (or under
``$XDG_CONFIG_HOME/.copilot``) and the file named by ``$COPILOT_OTEL_FILE_EXPORTER_PATH``. The export
exists only when enabled (``COPILOT_OTEL_ENABLED=true``, ``COPILOT_OTEL_EXPORTER_TYPE=file``).

Each line is a span or a log record with ``attributes`` in the OpenTelemetry GenAI conventions:
``gen_ai.usage.input_tokens`` (the cache read inside it), ``gen_ai.usage.output_tokens``,
``gen_ai.usage.cache_read.input_tokens``, ``gen_ai.usage.cache_write.input_tokens`` (or
``cache_creation``), ``gen_ai.usage.reasoning.output_tokens`` (billed as output, on top of it, as
ccusage counts it), ``gen_ai.response.model``/``request.model``, ``gen_ai.response.id``,
``gen_ai.conversation.id``, and times as ``[seconds, nanoseconds]`` (record shapes as in ccusage's
adapter and its fixtures).

Dedupe: a ``chat`` span is one model call and counts; an inference log record
(``gen_ai.client.inference.operation.details``) of the same response id is a second view of that
call and never adds to it (it counts only if no chat span of that response appears); an
``invoke_agent`` span sums a whole agent turn and counts only when its trace had no chat span in
the file (spans are written when they end, so its chat spans come first). Agent-turn log records
are not read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from ._base import SIDECHAIN, Found, Row
from ._doc import LinesReader, existing, walk
from ._values import larger_wins, loads, num, obj, row, seconds, text

MODEL_ATTRS = ("gen_ai.response.model", "gen_ai.request.model")
SESSION_ATTRS = ("gen_ai.conversation.id", "copilot_chat.session_id", "copilot_chat.chat_session_id", "session.id")
RECENT = 512  # trace ids remembered per file (a trace's records are written close together)


def _first(attrs: dict[str, Any], names: tuple[str, ...]) -> str:
    return next((text(attrs.get(n)) for n in names if text(attrs.get(n))), "")


def _is_span(d: dict[str, Any]) -> bool:
    if "type" in d:
        return d["type"] == "span"
    return bool(text(d.get("name"))) and any(k in d for k in ("spanId", "traceId", "startTime", "endTime", "kind"))


def _time(d: dict[str, Any]) -> int | None:
    for name in ("endTime", "startTime", "hrTime", "_hrTime", "time", "timestamp", "observedTimestamp", "timeUnixNano"):
        if d.get(name) is not None and (ts := seconds(d[name])) is not None:
            return ts
    return None


class CopilotReader(LinesReader):
    agent = "copilot"
    provider = "auto"
    title = "GitHub Copilot CLI"
    variables = ("COPILOT_OTEL_FILE_EXPORTER_PATH",)
    markers: ClassVar[tuple[bytes, ...]] = (b'"gen_ai.usage.',)

    def defaults(self, env: Mapping[str, str], home: Path) -> list[Path]:
        places = [home / ".copilot" / "otel"]
        if env.get("XDG_CONFIG_HOME"):
            places.append(Path(env["XDG_CONFIG_HOME"]) / ".copilot" / "otel")
        return places

    def roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        roots = existing(self.defaults(env, home))
        explicit = Path(env.get("COPILOT_OTEL_FILE_EXPORTER_PATH", "").strip() or "-").expanduser()
        if explicit.is_file():
            roots.append(explicit)  # one file: walked as it is
        return roots

    def files(self, roots: Any) -> list[Found]:
        return walk(roots, lambda n: n.endswith(".jsonl"), whole=True)

    def context(self, path: str, root: str) -> dict[str, Any]:
        stem = Path(path).name[: -len(".jsonl")] if path.endswith(".jsonl") else Path(path).name
        return {
            "session": stem,
            "project": "",
            "chat_traces": [],
            "models": {},
            "persist": ("session", "chat_traces", "models"),
        }

    def lines_of(self, line: bytes, ctx: dict[str, Any]) -> Iterator[Row]:
        d = obj(loads(line))
        attrs = obj(d.get("attributes"))
        if not attrs:
            return
        trace = text(d.get("traceId")) or text(obj(d.get("spanContext")).get("traceId"))
        span = text(d.get("spanId")) or text(obj(d.get("spanContext")).get("spanId"))
        model = _first(attrs, MODEL_ATTRS)
        if trace and model and trace not in ctx["models"]:
            ctx["models"][trace] = model
            if len(ctx["models"]) > RECENT:
                del ctx["models"][next(iter(ctx["models"]))]
        session = _first(attrs, SESSION_ATTRS)
        if session:
            ctx["session"] = session
        operation = text(attrs.get("gen_ai.operation.name"))
        name = text(d.get("name"))
        body = text(d.get("body")) or text(d.get("_body"))
        response = text(attrs.get("gen_ai.response.id"))
        if _is_span(d) and (operation == "chat" or name.startswith("chat ")):
            secondary, key = 0, f"resp:{response}" if response else f"span:{trace}:{span}"
            if trace and trace not in ctx["chat_traces"]:
                ctx["chat_traces"] = [*ctx["chat_traces"][-(RECENT - 1) :], trace]
        elif not _is_span(d) and (
            text(attrs.get("event.name")) == "gen_ai.client.inference.operation.details"
            or body.startswith("GenAI inference:")
        ):
            secondary, key = 1, f"resp:{response}" if response else f"log:{trace}:{span}:{_time(d)}"
        elif _is_span(d) and (operation == "invoke_agent" or name.startswith("invoke_agent ")):
            if trace and trace in ctx["chat_traces"]:
                return  # its chat spans were counted
            secondary, key = 0, f"span:{trace}:{span}"
        else:
            return
        cache_read = num(attrs.get("gen_ai.usage.cache_read.input_tokens"))
        prompt = num(attrs.get("gen_ai.usage.input_tokens"))
        cache_read = min(cache_read, prompt)
        cache_write = num(attrs.get("gen_ai.usage.cache_write.input_tokens")) or num(
            attrs.get("gen_ai.usage.cache_creation.input_tokens")
        )
        out = num(attrs.get("gen_ai.usage.output_tokens"))
        reasoning = num(attrs.get("gen_ai.usage.reasoning.output_tokens")) or num(
            attrs.get("gen_ai.usage.reasoning_tokens")
        )
        ts = _time(d)
        if ts is None or not prompt + out + cache_write + reasoning:
            return
        yield row(
            key,
            ts,
            model or ctx["models"].get(trace) or "unknown",
            ctx["file_id"],
            input=prompt - cache_read,
            output=out + reasoning,
            cache_write=cache_write,
            cache_read=cache_read,
            reasoning=reasoning,
            secondary=secondary,
        )

    def prefer(self, new: Row, old: Row) -> bool:
        if new[SIDECHAIN] != old[SIDECHAIN]:
            return bool(new[SIDECHAIN] < old[SIDECHAIN])  # a chat span replaces a log record of it
        return larger_wins(new, old)
