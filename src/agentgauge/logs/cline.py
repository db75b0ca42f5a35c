"""Cline: ``tasks/<task id>/ui_messages.json`` in the Cline CLI's data folder (``$CLINE_DATA_DIR``, else
``$CLINE_DIR/data``, else ``~/.cline/data``) and in the VS Code extension's global storage
(``<editor>/User/globalStorage/saoudrizwan.claude-dev``, for VS Code, Insiders, VSCodium, Cursor and
Windsurf; checked against cline/cline ``src/core/storage/disk.ts``).

``ui_messages.json`` is the task's message list, rewritten as the task runs. Each API request is a
``say: "api_req_started"`` message (``ts`` in epoch ms) whose ``text`` is a JSON string with
``tokensIn`` (input without the cache), ``tokensOut``, ``cacheWrites``, ``cacheReads`` and ``cost``;
it is written when the request starts and completed when it ends. The model is the message's
``modelInfo.modelId`` (newer versions), else the last ``model_usage`` entry of the task's
``task_metadata.json`` at or before the request, else ``unknown`` (tokens kept, cost unknown).

Dedupe: one entry per task and request time (``ts``); the completed (larger) copy wins.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ._base import Malformed, Row
from ._doc import DocumentReader, existing, relative_parts
from ._values import larger_wins, loads, num, obj, row, seconds, text

EXTENSION = "saoudrizwan.claude-dev"
EDITORS = ("Code", "Code - Insiders", "VSCodium", "Cursor", "Windsurf")


def editor_config_dirs(env: Mapping[str, str], home: Path) -> list[Path]:
    """Where VS Code-family editors keep ``User/`` on this platform."""
    if sys.platform == "darwin":
        return [home / "Library" / "Application Support"]
    if sys.platform == "win32":
        return [Path(env["APPDATA"])] if env.get("APPDATA") else []
    return [Path(env.get("XDG_CONFIG_HOME") or home / ".config"), home / ".vscode-server" / "data"]


def _models(path: str) -> list[tuple[int, str]]:
    """(ts ms, model id) from the task's task_metadata.json, oldest first."""
    try:
        with open(os.path.join(os.path.dirname(path), "task_metadata.json"), "rb") as f:
            meta = obj(loads(f.read()))
    except (OSError, Malformed):
        return []
    out = [(num(u.get("ts")), text(u.get("model_id"))) for u in meta.get("model_usage") or () if type(u) is dict]
    return sorted((ts, m) for ts, m in out if m)


class ClineReader(DocumentReader):
    agent = "cline"
    provider = "auto"
    title = "Cline"
    variables = ("CLINE_DATA_DIR", "CLINE_DIR")

    def defaults(self, env: Mapping[str, str], home: Path) -> list[Path]:
        places = [home / ".cline" / "data" / "tasks"]
        for base in editor_config_dirs(env, home):
            places += [base / e / "User" / "globalStorage" / EXTENSION / "tasks" for e in EDITORS]
        return places

    def roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        if env.get("CLINE_DATA_DIR", "").strip():
            return existing([Path(env["CLINE_DATA_DIR"].strip()).expanduser() / "tasks"])
        if env.get("CLINE_DIR", "").strip():
            return existing([Path(env["CLINE_DIR"].strip()).expanduser() / "data" / "tasks"])
        return existing(self.defaults(env, home))

    def accept(self, name: str) -> bool:
        return name == "ui_messages.json"

    def context(self, path: str, root: str) -> dict[str, Any]:
        rel = relative_parts(path, root)
        return {"session": rel[-2] if len(rel) > 1 else "", "project": "", "path": path}

    def rows_of(self, data: bytes, ctx: dict[str, Any]) -> Iterator[Row]:
        messages = loads(data)
        if type(messages) is not list:
            return
        models: list[tuple[int, str]] | None = None
        for m in messages:
            m = obj(m)
            if m.get("say") != "api_req_started" or type(m.get("text")) is not str:
                continue
            try:
                info = obj(loads(m["text"].encode()))
            except Malformed:
                ctx["bad"] = ctx.get("bad", 0) + 1
                continue
            inp, out = num(info.get("tokensIn")), num(info.get("tokensOut"))
            cw, cr = num(info.get("cacheWrites")), num(info.get("cacheReads"))
            stamp = num(m.get("ts"))
            ts = seconds(stamp)
            if ts is None or not inp + out + cw + cr:
                continue
            model = text(obj(m.get("modelInfo")).get("modelId"))
            if not model:
                if models is None:
                    models = _models(ctx["path"])
                model = next((name for at, name in reversed(models) if at <= stamp), models[0][1] if models else "")
            yield row(
                f"{ctx['session']}:{stamp}",
                ts,
                model or "unknown",
                ctx["file_id"],
                input=inp,
                output=out,
                cache_write=cw,
                cache_read=cr,
            )

    def prefer(self, new: Row, old: Row) -> bool:
        return larger_wins(new, old)
