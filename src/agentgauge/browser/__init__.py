"""Credentials from the user's browsers: no copying cookies out of DevTools.

Reads Firefox (plain-text cookies, LSNG localStorage) and the Chromium family (cookies
decrypted with rookiepy, leveldb localStorage) from copies of their databases; never writes
to a browser's files. Where each provider's login lives is declared on its auth source
(``providers.BrowserLogin``). See docs/browsers.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import BrowserError

if TYPE_CHECKING:
    from .finder import BrowserCredentials, find_credentials
    from .profiles import BROWSER_NAMES, DEFAULT_ORDER, Profile, discover_profiles

# The readers (and their native libraries) load only when a browser is actually read.
_LAZY = {
    "BrowserCredentials": "finder",
    "find_credentials": "finder",
    "BROWSER_NAMES": "profiles",
    "DEFAULT_ORDER": "profiles",
    "Profile": "profiles",
    "discover_profiles": "profiles",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BROWSER_NAMES",
    "DEFAULT_ORDER",
    "BrowserCredentials",
    "BrowserError",
    "Profile",
    "discover_profiles",
    "find_credentials",
]
