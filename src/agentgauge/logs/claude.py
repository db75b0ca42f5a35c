"""Claude Code: ``projects/<project>/<session>.jsonl`` (and ``<session>/subagents/agent-*.jsonl``).

One API response is written as one line per content block, all sharing ``message.id``,
``requestId`` and the usage; resumed sessions copy their parent's lines verbatim. A line is
deduplicated only when it has both ids (as in ccusage); among copies a non-sidechain copy beats a
sidechain one, then the larger token total wins. The stored key is ``message.id`` alone: ``/btw``
side questions replay a parent message under a new requestId in a sidechain, and ccusage then
matches on message.id, which here is a plain key conflict. (Two non-sidechain records with one
message.id and different requestIds, which the API does not produce, would count once here.)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import orjson

from . import _fast, cloud
from ._base import (
    CACHE_READ,
    CACHE_WRITE,
    INPUT,
    LONG_CONTEXT,
    MAX_TOKENS,
    OUTPUT,
    SIDECHAIN,
    LineParser,
    Malformed,
    Reader,
    Row,
    key_id,
    parse_ts,
    relative_parts,
)

_REQUEST = b'"requestId":"'
_cloud = cloud.prefix
_CLOUD_IDS = cloud.MESSAGE_IDS
_fast_loads = orjson.loads
_intern = sys.intern
_key_id = key_id


def _loads(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return _loads_lossy(line)


def _loads_lossy(line: bytes) -> Any:
    try:
        # Invalid UTF-8 inside a text block must not cost the whole entry: retry with the bad
        # bytes replaced (the usage numbers are ASCII and survive).
        return orjson.loads(line.decode("utf-8", "replace"))
    except orjson.JSONDecodeError:
        raise Malformed from None


class ClaudeReader(Reader):
    agent = "claude"
    provider = "anthropic"
    markers = (b'"usage":{',)
    # Most candidates repeat an API call already read in the same file (one line per content
    # block, same requestId and usage bytes): the scanner drops those without parsing them.
    repeat_field: ClassVar[bytes | None] = _REQUEST
    # A resumed session starts with its parent's lines, verbatim: the copies are skipped unparsed
    # too when the parent was read earlier in the same batch (a batch holds one project's files).
    repeat_across_files: ClassVar[bool] = True

    def roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        """``CLAUDE_CONFIG_DIR`` (comma-separated; each the config dir or its ``projects``) replaces
        the defaults ``$XDG_CONFIG_HOME/claude`` and ``~/.claude``; all existing ones are read."""
        configured = [p.strip() for p in env.get("CLAUDE_CONFIG_DIR", "").split(",") if p.strip()]
        if configured:
            candidates = [Path(p).expanduser() for p in configured]
        else:
            xdg = env.get("XDG_CONFIG_HOME") or str(home / ".config")
            candidates = [Path(xdg) / "claude", home / ".claude"]
        roots: list[Path] = []
        seen: set[Path] = set()
        for base in candidates:
            if (base / "projects").is_dir():
                option = base / "projects"
            elif base.name == "projects" and base.is_dir():
                option = base
            else:
                continue
            real = option.resolve()
            if real not in seen:
                seen.add(real)
                roots.append(option)
        return roots

    def context(self, path: str, root: str) -> dict[str, Any]:
        rel = relative_parts(path, root)
        project = rel[0] if len(rel) > 1 else ""
        # projects/<p>/<session>/subagents/agent-x.jsonl belongs to <session>.
        session = rel[-3] if len(rel) > 3 and rel[-2] == "subagents" else os.path.splitext(rel[-1])[0]
        return {"project": project, "session": session}

    def line_parser(self) -> LineParser:
        return self._parse_fast if _fast.active() else self.parse

    def parse(self, line: bytes, offset: int, ctx: dict[str, Any]) -> Row | None:
        """The reference path (orjson, whole line to dicts); ``_parse_fast`` is the compiled one."""
        try:
            d = _fast_loads(line)  # inlined _loads: a call less per API call
        except orjson.JSONDecodeError:
            d = _loads_lossy(line)
        if type(d) is not dict:
            return None
        msg = d.get("message")
        if type(msg) is not dict:
            return None
        usage = msg.get("usage")
        model = msg.get("model")
        if type(usage) is not dict or type(model) is not str or not model or model == "<synthetic>":
            return None
        get = usage.get
        return _entry(
            ctx,
            offset,
            d.get("timestamp"),
            model,
            get("input_tokens"),
            get("output_tokens"),
            get("cache_creation_input_tokens"),
            get("cache_read_input_tokens"),
            get("cache_creation"),
            get("speed") == "fast" or msg.get("speed") == "fast" or d.get("speed") == "fast",
            msg.get("id"),
            d.get("requestId"),
            d.get("isSidechain") is True,
            d.get("metadata"),
        )

    def _parse_fast(self, line: bytes, offset: int, ctx: dict[str, Any]) -> Row | None:
        """``parse`` with msgspec: only the fields read here are built (about twice as fast on
        Claude's lines, whose content blocks are most of their bytes)."""
        try:
            d = _fast.claude_line(line)
        except _fast.ValidationError:
            return self.parse(line, offset, ctx)  # a shape the typed decoder does not take: the reference decides
        except _fast.DecodeError:
            try:
                d = _fast.claude_line(line.decode("utf-8", "replace"))
            except _fast.ValidationError:
                return self.parse(line, offset, ctx)
            except _fast.DecodeError:
                raise Malformed from None
        msg = d.message
        if msg is None:
            return None
        usage = msg.usage
        model = msg.model
        if usage is None or type(model) is not str or not model or model == "<synthetic>":
            return None
        return _entry(
            ctx,
            offset,
            d.timestamp,
            model,
            usage.input_tokens,
            usage.output_tokens,
            usage.cache_creation_input_tokens,
            usage.cache_read_input_tokens,
            usage.cache_creation,
            usage.speed == "fast" or msg.speed == "fast" or d.speed == "fast",
            msg.id,
            d.requestId,
            d.isSidechain is True,
            d.metadata,
        )

    def prefer(self, new: Row, old: Row) -> bool:
        if new[SIDECHAIN] != old[SIDECHAIN]:
            return bool(new[SIDECHAIN] < old[SIDECHAIN])
        return bool(
            new[INPUT] + new[OUTPUT] + new[CACHE_WRITE] + new[CACHE_READ]
            > old[INPUT] + old[OUTPUT] + old[CACHE_WRITE] + old[CACHE_READ]
        )


def _entry(
    ctx: dict[str, Any],
    offset: int,
    when: Any,
    model: str,
    inp: Any,
    out: Any,
    cw: Any,
    cr: Any,
    split: Any,
    fast: bool,
    mid: Any,
    rid: Any,
    sidechain: bool,
    metadata: Any = None,
) -> Row | None:
    """The row of one usage line once decoded (shared by both decoding paths), or None when its
    numbers are not token counts."""
    ts = parse_ts(when)
    if ts is None:
        return None
    inp, out, cw, cr = inp or 0, out or 0, cw or 0, cr or 0
    cw1h = 0
    if type(split) is dict:
        cw1h = split.get("ephemeral_1h_input_tokens") or 0
        cw5m = split.get("ephemeral_5m_input_tokens") or 0
        if type(cw1h) is not int or type(cw5m) is not int:
            return None
        # When the split is present ccusage uses its sum as the cache write.
        if type(cw) is int and cw1h + cw5m > cw:
            cw = cw1h + cw5m
    # Spelled out rather than all(...) over a generator: this runs once per API call. The upper
    # bound keeps both decoders alike (orjson reads integers past 64 bits as floats, msgspec as
    # ints) and every sum within SQLite's 64-bit integers.
    if not (
        type(inp) is int
        and type(out) is int
        and type(cw) is int
        and type(cr) is int
        and inp >= 0
        and out >= 0
        and cw >= 0
        and cr >= 0
        and cw1h >= 0
        and inp + out + cw + cr + cw1h < MAX_TOKENS
    ):
        return None
    if (metadata is not None or (type(mid) is str and mid.startswith(_CLOUD_IDS))) and (
        route := _cloud(metadata, mid, model)
    ):
        model = route + model  # a Vertex AI / Bedrock call whose model id does not say so
    if fast:
        model += "-fast"  # priced with the fast multiplier, shown apart like ccusage
    # One string object per model name: rows then pickle (to the parent) and sit in memory
    # with one shared copy instead of one per row.
    model = _intern(model)
    # Without both ids a line is not deduplicated: its key is unique to its position.
    key = _key_id(mid if type(mid) is str and mid and type(rid) is str and rid else f"@{ctx['file_id']}:{offset}")
    return (
        key,
        ts,
        model,
        inp,
        out,
        cw,
        cw1h,
        cr,
        0,
        1 if sidechain else 0,
        1 if inp + cw + cr > LONG_CONTEXT else 0,
        ctx["file_id"],
    )
