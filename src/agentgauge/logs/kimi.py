"""Kimi CLI: ``~/.kimi/sessions/<group>/<session>/wire.jsonl`` (``$KIMI_DATA_DIR``, comma-separated).

The wire log is append-only JSON lines ``{timestamp (epoch seconds, fractional), message: {type,
payload}}``; a ``StatusUpdate`` payload carries ``token_usage {input_other, output,
input_cache_read, input_cache_creation}`` (input without the cache) and ``message_id`` (format as
in ccusage's adapter). The log does not name the model: it is the ``default_model`` of Kimi's
``config.toml`` (or ``model`` of an older ``config.json``), else ``kimi-for-coding``.

Dedupe: a status update is one entry; an exact copy (same message id, time to the microsecond
and tokens: a repeated line, a copied session folder) counts once, the earliest copy kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from ._base import Found, Malformed, Reader, Row
from ._doc import env_paths, existing, relative_parts, walk
from ._values import earliest_wins, loads, num, obj, row, seconds, text

DEFAULT_MODEL = "kimi-for-coding"


def configured_model(kimi_home: Path) -> str:
    import tomllib

    try:
        with open(kimi_home / "config.toml", "rb") as f:
            model = text(tomllib.load(f).get("default_model"))
        if model:
            return model
    except (OSError, tomllib.TOMLDecodeError):
        pass
    try:
        model = text(obj(loads((kimi_home / "config.json").read_bytes())).get("model"))
    except (OSError, Malformed):
        model = ""
    return model or DEFAULT_MODEL


class KimiReader(Reader):
    agent = "kimi"
    provider = "auto"
    title = "Kimi CLI"
    variables = ("KIMI_DATA_DIR",)
    markers: ClassVar[tuple[bytes, ...]] = (b'"StatusUpdate"',)

    def defaults(self, env: Mapping[str, str], home: Path) -> list[Path]:
        return [home / ".kimi" / "sessions"]

    def roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        configured = [p / "sessions" for p in env_paths(env.get("KIMI_DATA_DIR"))]
        return existing(configured or self.defaults(env, home))

    def files(self, roots: Any) -> list[Found]:
        return walk(roots, lambda n: n == "wire.jsonl")

    def context(self, path: str, root: str) -> dict[str, Any]:
        rel = relative_parts(path, root)  # <group>/<session>/wire.jsonl
        return {
            "session": rel[-2] if len(rel) > 1 else "",
            "project": rel[0] if len(rel) > 2 else "",
            "model": configured_model(Path(root).parent),
        }

    def parse(self, line: bytes, offset: int, ctx: dict[str, Any]) -> Row | None:
        d = obj(loads(line))
        message = obj(d.get("message"))
        if message.get("type") != "StatusUpdate":
            return None
        payload = obj(message.get("payload"))
        usage = obj(payload.get("token_usage"))
        inp, out = num(usage.get("input_other")), num(usage.get("output"))
        cw, cr = num(usage.get("input_cache_creation")), num(usage.get("input_cache_read"))
        ts = seconds(d.get("timestamp"))
        if ts is None or not inp + out + cw + cr:
            return None
        # not keyed by the session folder: a copied folder holds the same updates
        key = f"{text(payload.get('message_id'))}:{d.get('timestamp')}:{inp}:{out}:{cw}:{cr}"
        return row(key, ts, ctx["model"], ctx["file_id"], input=inp, output=out, cache_write=cw, cache_read=cr)

    def prefer(self, new: Row, old: Row) -> bool:
        return earliest_wins(new, old)
