"""Provider adapters: one package per provider (``agentgauge.providers.<id>``), found by the
registry. Third-party providers register a module under the ``agentgauge.providers`` entry-point
group and go through the same door.

This module is the providers layer's public face for the rest of agentgauge: the contract types
and the token-expiry helpers credential resolution needs. The ``_``-modules are private to the
providers package (the import contract in ``.importlinter`` enforces it).
"""

from __future__ import annotations

from . import registry
from ._base import (
    AuthSource,
    BrowserLogin,
    CookieRule,
    Credentials,
    DiscoverContext,
    Discovered,
    FetchContext,
    Provider,
    Raw,
    Sample,
    Setting,
    StorageRule,
    TokenSink,
    WindowSpec,
)
from ._oauth import EXPIRES_AT, expires_at, expiry_detail

__all__ = [
    "EXPIRES_AT",
    "AuthSource",
    "BrowserLogin",
    "CookieRule",
    "Credentials",
    "DiscoverContext",
    "Discovered",
    "FetchContext",
    "Provider",
    "Raw",
    "Sample",
    "Setting",
    "StorageRule",
    "TokenSink",
    "WindowSpec",
    "expires_at",
    "expiry_detail",
    "registry",
]
