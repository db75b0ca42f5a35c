"""The one read layer every surface uses: the CLI, the web pages, the API, MCP, metrics, companions.

Reads never fetch upstream and never run credential discovery (a read must not open a browser
profile): they show what the engine stored. ``Query.sources`` is the one deliberate exception,
for the commands that exist to diagnose credentials (``providers``, ``doctor``).

The names below load on first use: importing ``agentgauge.query.agents`` or ``.stored`` (the
CLI's fast paths: ``guard``, ``statusline``) must not pay for pydantic and every provider.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .history import HOURLY_MAX_SPAN, RAW_MAX_SPAN, downsample, history
    from .reads import Query, health, next_reset, placeholder, settle_resets, sources
    from .views import seed_data

__all__ = [
    "HOURLY_MAX_SPAN",
    "RAW_MAX_SPAN",
    "Query",
    "downsample",
    "health",
    "history",
    "next_reset",
    "placeholder",
    "seed_data",
    "settle_resets",
    "sources",
]
_HOME = {
    **dict.fromkeys(("HOURLY_MAX_SPAN", "RAW_MAX_SPAN", "downsample", "history"), ".history"),
    **dict.fromkeys(("Query", "health", "next_reset", "placeholder", "settle_resets", "sources"), ".reads"),
    "seed_data": ".views",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value  # later lookups skip this function
    # Loading the submodule ``history`` binds the package's ``history`` to it: the name means the function.
    loaded = sys.modules.get(f"{__name__}.history")
    if loaded is not None:
        globals()["history"] = loaded.history
    return value
