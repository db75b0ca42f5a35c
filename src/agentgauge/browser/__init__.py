"""Credentials from the user's browsers: no copying cookies out of DevTools.

Reads Firefox (plain-text cookies, LSNG localStorage) and the Chromium family (cookies
decrypted with rookiepy, leveldb localStorage) from copies of their databases; never writes
to a browser's files. ``sites`` says where each provider's login lives. See docs/browsers.md.
"""

from __future__ import annotations

from .errors import BrowserError
from .finder import BrowserCredentials, find_credentials
from .profiles import BROWSER_NAMES, DEFAULT_ORDER, Profile, discover_profiles
from .sites import SITES, CookieRule, Site, StorageRule
from .sources import browser_discover

__all__ = [
    "BROWSER_NAMES", "DEFAULT_ORDER", "SITES", "BrowserCredentials", "BrowserError", "CookieRule", "Profile",
    "Site", "StorageRule", "browser_discover", "discover_profiles", "find_credentials",
]
