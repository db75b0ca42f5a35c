"""Chromium family (Chrome, Chromium, Brave, Edge, Vivaldi, Arc): cookies and localStorage.

Cookie values are encrypted: ``v10``/``v11`` on Linux (AES-CBC; ``v10`` with the built-in
"peanuts" key, ``v11`` with a password from the desktop keyring), ``v10`` on macOS (the key
is in the Keychain) and Windows (DPAPI). rookiepy decrypts them from a *copy* of the
database. Windows Chrome 127+ writes app-bound ``v20`` values that only Chrome's elevation
service can unwrap; we detect them and say so rather than attempt what malware does.
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

from ._copy import Cookie, copy_database, corrupt, epoch, host_matches, open_copy
from .errors import MANUAL_HINT, BrowserError
from .profiles import Profile

_WINDOWS_EPOCH_OFFSET = 11644473600  # seconds from 1601-01-01 (Chromium's epoch) to 1970-01-01


def _expires(expires_utc: int | None) -> float | None:
    return expires_utc / 1_000_000 - _WINDOWS_EPOCH_OFFSET if expires_utc else None


def v20_error(profile: Profile, provider_id: str, site: str) -> BrowserError:
    return BrowserError(
        f"{profile.label}: the {site} cookies use Chrome's app-bound encryption (v20, Windows Chrome 127+), "
        "which only Chrome itself can decrypt",
        hint=f"Log in to {site} in Firefox (or Edge), or set AGENTGAUGE_BROWSER=firefox. "
        + MANUAL_HINT.format(provider=provider_id),
        blocking=True,
    )


def _decrypt_error(profile: Profile, provider_id: str, site: str, prefix: bytes, detail: str) -> BrowserError:
    if sys.platform == "darwin":
        why = (
            "the macOS Keychain did not release the browser's 'Safe Storage' key (the access prompt was "
            "denied, or there is no GUI session to show it)"
        )
        hint = "Run agentgauge once from a logged-in desktop session and choose 'Always Allow'."
    elif sys.platform == "win32":
        why = "Windows DPAPI could not unwrap the browser's key (another user account, or a roaming profile)"
        hint = "Run agentgauge as the user who owns the browser profile."
    elif prefix == b"v11":
        why = (
            "they are encrypted (v11) with a password kept in the desktop keyring (GNOME Keyring/KWallet), "
            "which is locked or unreachable (no D-Bus session)"
        )
        hint = "Run agentgauge inside your unlocked desktop session (DBUS_SESSION_BUS_ADDRESS set)."
    else:
        why = "the cookie values could not be decrypted"
        hint = "Log in to the site again in this browser."
    return BrowserError(
        f"{profile.label}: cannot decrypt the {site} cookies: {why} ({detail})",
        hint=f"{hint} {MANUAL_HINT.format(provider=provider_id)}",
        blocking=True,
    )


def read_cookies(profile: Profile, domains: tuple[str, ...], *, provider_id: str, site: str) -> list[Cookie]:
    """The profile's cookies of ``domains``, decrypted; raises a blocking BrowserError when they
    are present but cannot be decrypted (v20, locked keyring, Keychain denied)."""
    db = profile.cookie_db()
    with tempfile.TemporaryDirectory(prefix="agentgauge-cr-") as tmp:
        copy = copy_database(db, Path(tmp), what=profile.label)
        conn = open_copy(copy, db, what=profile.label)
        try:
            clauses = " OR ".join("host_key LIKE ?" for _ in domains)
            rows = conn.execute(
                f"SELECT host_key, name, value, encrypted_value, expires_utc FROM cookies WHERE {clauses}",
                tuple(f"%{d}" for d in domains),
            ).fetchall()
        except sqlite3.DatabaseError as exc:
            raise corrupt(db, profile.label, exc) from exc
        finally:
            conn.close()
        rows = [r for r in rows if host_matches(r[0], domains)]
        encrypted = [bytes(r[3] or b"") for r in rows if not r[2] and r[3]]
        if any(blob.startswith(b"v20") for blob in encrypted):
            raise v20_error(profile, provider_id, site)
        decrypted: dict[tuple[str, str], str] = {}
        if encrypted:
            decrypted = _decrypt(copy, profile, domains, provider_id, site, encrypted[0][:3])
    cookies: list[Cookie] = []
    for host, name, value, blob, expires_utc in rows:
        if not value and blob:
            value = decrypted.get((host.lstrip(".").lower(), name), "")
        if value:
            cookies.append(Cookie(host, name, value, epoch(_expires(expires_utc))))
    if encrypted and not any(decrypted.values()):
        # A wrong or unavailable key fails every value at once; one odd cookie is just skipped.
        raise _decrypt_error(profile, provider_id, site, encrypted[0][:3], "no value could be decrypted")
    return cookies


def _decrypt(
    copy: Path, profile: Profile, domains: tuple[str, ...], provider_id: str, site: str, prefix: bytes
) -> dict[tuple[str, str], str]:
    import rookiepy  # a Rust extension: only loaded when there is something to decrypt

    key_file = profile.key_file()
    try:
        if key_file is not None and key_file.exists():
            found = rookiepy.any_browser(str(copy), list(domains), str(key_file))
        else:
            found = rookiepy.any_browser(str(copy), list(domains))
    except Exception as exc:  # rookiepy raises plain RuntimeError/OSError with its own text
        raise _decrypt_error(profile, provider_id, site, prefix, type(exc).__name__) from exc
    return {
        (str(c.get("domain", "")).lstrip(".").lower(), str(c.get("name", ""))): str(c.get("value") or "") for c in found
    }


def read_local_storage(profile: Profile, origin: str, keys: tuple[str, ...]) -> dict[str, str]:
    """The newest live value of each of ``keys`` in ``origin``'s localStorage (leveldb)."""
    from chromium_reader import LocalStorageReader  # pure Python, only needed here

    source = profile.path / "Local Storage" / "leveldb"
    if not source.is_dir():
        return {}
    with tempfile.TemporaryDirectory(prefix="agentgauge-lvl-") as tmp:
        copy = Path(tmp) / "leveldb"
        try:
            # Copy first: the live folder holds a LOCK file and Chromium rewrites .log/.ldb files.
            shutil.copytree(source, copy, ignore=shutil.ignore_patterns("LOCK"))
        except (OSError, shutil.Error) as exc:
            raise BrowserError(
                f"{profile.label}: cannot read {source} ({type(exc).__name__})",
                hint="Check the folder's permissions, or close the browser and refresh.",
            ) from exc
        newest: dict[str, tuple[int, str]] = {}
        try:
            with LocalStorageReader(copy) as reader:
                for record in reader.records(host=origin, script_key=set(keys)):
                    if record.value is None:
                        continue
                    seen = newest.get(record.script_key)
                    if seen is None or record.leveldb_seq_number > seen[0]:
                        newest[record.script_key] = (record.leveldb_seq_number, record.value)
        except (ValueError, OSError, EOFError, IndexError) as exc:
            raise BrowserError(
                f"{profile.label}: {source} is not a readable localStorage database ({type(exc).__name__})",
                hint="Close the browser and refresh; if it persists the folder is damaged.",
            ) from exc
    return {key: value for key, (_, value) in newest.items()}
