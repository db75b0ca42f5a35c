"""The Cursor app's own login: the access token in its VS Code-style state database, read-only.

``<Cursor user dir>/globalStorage/state.vscdb`` (SQLite), table ``ItemTable``, key
``cursorAuth/accessToken``: a JWT whose ``sub`` is ``<provider>|<user id>``. cursor.com takes it as
the session cookie ``WorkosCursorSessionToken=<user id>%3A%3A<jwt>``. The token is used only while
it has more than a minute left and is never refreshed (the app owns it).
"""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from .. import _jwt
from .._base import DiscoverContext

TOKEN_KEY = "cursorAuth/accessToken"
COOKIE_NAME = "WorkosCursorSessionToken"
MIN_LIFETIME = timedelta(seconds=60)
_USER_ID = re.compile(r"^[A-Za-z0-9._-]+$")


def user_id(token: str) -> str | None:
    """The user id of the ``sub`` claim (the part after the last ``|``), if it is a plain id."""
    sub = _jwt.claims(token).get("sub")
    if not isinstance(sub, str):
        return None
    tail = sub.split("|")[-1].strip()
    return tail if tail and _USER_ID.match(tail) else None


def usable(token: str, now: datetime) -> bool:
    expiry = _jwt.exp(token)
    return user_id(token) is not None and expiry is not None and expiry - now > MIN_LIFETIME


def session_cookie(token: str) -> str | None:
    uid = user_id(token)
    return f"{COOKIE_NAME}={uid}%3A%3A{token}" if uid else None


def database_paths(ctx: DiscoverContext) -> list[Path]:
    """Where Cursor keeps state.vscdb: Linux (XDG), macOS and Windows."""
    tail = Path("Cursor") / "User" / "globalStorage" / "state.vscdb"
    paths: list[Path] = []
    if ctx.env.get("XDG_CONFIG_HOME"):
        paths.append(ctx.expand(ctx.env["XDG_CONFIG_HOME"]) / tail)
    paths.append(ctx.home / ".config" / tail)
    paths.append(ctx.home / "Library" / "Application Support" / tail)
    if ctx.env.get("APPDATA"):
        paths.append(Path(ctx.env["APPDATA"]) / tail)
    return list(dict.fromkeys(paths))


def _decode(value: Any) -> str | None:
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            value = value.decode("utf-16-le", "replace")
    if not isinstance(value, str):
        return None
    text = value.replace("\x00", "").strip()
    if text.startswith('"'):
        try:
            decoded = json.loads(text)
        except ValueError:
            return text
        return decoded if isinstance(decoded, str) else None
    return text or None


def read_token(path: Path) -> str | None:
    """``cursorAuth/accessToken`` from the database, opened read-only (a live WAL is honoured; an idle
    WAL-mode file without its side files is read as immutable, so nothing is created beside it)."""
    for mode in ("ro", "ro&immutable=1"):
        try:
            connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True, timeout=0.5)
        except sqlite3.Error:
            continue
        try:
            row = connection.execute("SELECT value FROM ItemTable WHERE key = ?", (TOKEN_KEY,)).fetchone()
        except sqlite3.Error:
            continue
        finally:
            connection.close()
        return _decode(row[0]) if row else None
    return None
