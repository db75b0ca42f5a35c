"""Firefox: cookies from ``cookies.sqlite`` and localStorage from LSNG ``data.sqlite``.

Firefox stores both in plain text (localStorage values may be snappy-compressed), so no key
or keyring is involved. Both databases are copied with their WAL first (see ``_copy``):
rookiepy and browser-cookie3 miss cookies still in the WAL, which Firefox leaves behind
even after a clean exit.
"""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
from pathlib import Path

from ._copy import Cookie, copy_database, corrupt, epoch, host_matches, open_copy
from .errors import BrowserError
from .profiles import Profile

# compression_type / conversion_type of LSNG's ``data`` table.
_SNAPPY = 1
_UTF8 = 1


def read_cookies(profile: Profile, domains: tuple[str, ...]) -> list[Cookie]:
    """Cookies of ``domains`` (suffix match) in the profile, the default container first."""
    db = profile.cookie_db()
    with tempfile.TemporaryDirectory(prefix="agentgauge-ff-") as tmp:
        conn = open_copy(copy_database(db, Path(tmp), what=profile.label), db, what=profile.label)
        try:
            clauses = " OR ".join("host LIKE ?" for _ in domains)
            rows = conn.execute(
                f"SELECT host, name, value, expiry, originAttributes FROM moz_cookies WHERE {clauses}",
                tuple(f"%{d}" for d in domains),
            ).fetchall()
        except sqlite3.DatabaseError as exc:
            raise corrupt(db, profile.label, exc) from exc
        finally:
            conn.close()
    # Container tabs store their own cookies (originAttributes "^userContextId=N"); the
    # default container's session is the one the user most likely means.
    rows.sort(key=lambda r: (r[4] or "") != "")
    return [
        Cookie(host, name, value or "", epoch(_expiry_seconds(expiry)))
        for host, name, value, expiry, _ in rows
        if host_matches(host, domains)
    ]


def _expiry_seconds(expiry: int | None) -> float | None:
    # Recent Firefox stores milliseconds, older profiles seconds.
    if not expiry:
        return None
    return expiry / 1000 if expiry > 10**11 else float(expiry)


def origin_folder(origin: str) -> str:
    """``https://chat.z.ai`` → ``https+++chat.z.ai`` (':' and '/' become '+')."""
    return origin.replace(":", "+").replace("/", "+")


def decode_value(value: bytes | str | None, compression_type: int | None, conversion_type: int | None) -> str:
    """One LSNG value: raw (block) snappy when compression_type is 1; UTF-8 when conversion_type
    is 1, else UTF-16LE."""
    if value is None:
        return ""
    if isinstance(value, str):  # SQLite may hand back TEXT for values stored as text
        return value
    data = bytes(value)
    if compression_type == _SNAPPY:
        import cramjam  # native; loaded only when a compressed value is met

        data = bytes(cramjam.snappy.decompress_raw(data))
    return data.decode("utf-8" if conversion_type == _UTF8 else "utf-16-le")


def _storage_dirs(profile: Profile, origin: str) -> list[Path]:
    base = profile.path / "storage" / "default"
    folder = origin_folder(origin)
    found = [base / folder] if (base / folder).is_dir() else []
    with contextlib.suppress(OSError):  # container tabs: "https+++chat.z.ai^userContextId=1"
        found += sorted(p for p in base.glob(folder + "^*") if p.is_dir())
    return found


def read_local_storage(profile: Profile, origin: str, keys: tuple[str, ...]) -> dict[str, str]:
    """The first value found for each of ``keys`` in ``origin``'s localStorage."""
    found: dict[str, str] = {}
    for folder in _storage_dirs(profile, origin):
        db = folder / "ls" / "data.sqlite"
        if not db.exists():
            continue
        with tempfile.TemporaryDirectory(prefix="agentgauge-ls-") as tmp:
            conn = open_copy(copy_database(db, Path(tmp), what=profile.label), db, what=profile.label)
            try:
                rows = conn.execute(
                    f"SELECT key, value, compression_type, conversion_type FROM data "
                    f"WHERE key IN ({','.join('?' for _ in keys)})",
                    keys,
                ).fetchall()
            except sqlite3.DatabaseError as exc:
                raise corrupt(db, profile.label, exc) from exc
            finally:
                conn.close()
        for key, value, compression, conversion in rows:
            if key in found:
                continue
            try:
                found[key] = decode_value(value, compression, conversion)
            except Exception as exc:  # malformed UTF-8/16 or snappy (cramjam's DecompressionError)
                raise BrowserError(
                    f"{profile.label}: the localStorage value '{key}' of {origin} cannot be "
                    f"decoded ({type(exc).__name__})",
                    hint="Log in to the site again in this browser, then refresh.",
                ) from exc
    return found
