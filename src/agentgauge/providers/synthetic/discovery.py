"""Where other coding agents keep a Synthetic key (read-only; ``SYNTHETIC_API_KEY`` itself is the
setting's own variable):

- OpenCode: ``$XDG_DATA_HOME/opencode/auth.json`` (default ``~/.local/share``), entry ``synthetic``
  with ``key``;
- Pi: ``$PI_CODING_AGENT_DIR/auth.json`` (default ``~/.pi/agent``), entry ``synthetic`` (or
  ``synthetic.new``, ``syn``) with ``key``, then that directory's ``models.json``
  (``providers.<name>.apiKey``);
- Factory (droid): ``~/.factory/settings.json``, the ``apiKey`` of a ``customModels`` entry whose
  ``baseUrl`` is on synthetic.new.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .._base import DiscoverContext, Discovered, Secret

ENV_VARS = ("XDG_DATA_HOME", "PI_CODING_AGENT_DIR")
NAMES = ("synthetic", "synthetic.new", "syn")


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # absent or half-written: not a source


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _entry_key(data: Any, field: str) -> str | None:
    if not isinstance(data, dict):
        return None
    for name in NAMES:
        entry = data.get(name)
        if isinstance(entry, dict) and (key := _text(entry.get(field))):
            return key
    return None


def _factory_key(data: Any) -> str | None:
    models = data.get("customModels") if isinstance(data, dict) else None
    for model in models if isinstance(models, list) else []:
        if (
            isinstance(model, dict)
            and "synthetic.new" in str(model.get("baseUrl") or "")
            and (key := _text(model.get("apiKey")))
        ):
            return key
    return None


def candidates(ctx: DiscoverContext) -> list[tuple[Path, str]]:
    """The files that may hold the key, in the order they are tried, with how to read each."""
    data_home = Path(ctx.env["XDG_DATA_HOME"]) if ctx.env.get("XDG_DATA_HOME") else ctx.expand("~/.local/share")
    pi_dir = Path(ctx.env["PI_CODING_AGENT_DIR"]) if ctx.env.get("PI_CODING_AGENT_DIR") else ctx.expand("~/.pi/agent")
    return [
        (data_home / "opencode" / "auth.json", "auth"),
        (pi_dir / "auth.json", "auth"),
        (pi_dir / "models.json", "models"),
        (ctx.expand("~/.factory/settings.json"), "factory"),
    ]


def discover_key(ctx: DiscoverContext) -> Discovered | None:
    for path, kind in candidates(ctx):
        data = _read(path)
        if kind == "auth":
            key = _entry_key(data, "key")
        elif kind == "models":
            key = _entry_key(data.get("providers") if isinstance(data, dict) else None, "apiKey")
        else:
            key = _factory_key(data)
        if key:
            return Discovered({"api_key": Secret(key)}, str(path))
    return None
