"""Copy-before-read for browser databases, and the cookie record the readers return.

Browsers hold their SQLite files locked (Firefox exclusively) and keep fresh rows in the
``-wal`` file, even after they exit. Copying the database with its ``-wal``/``-shm`` (and a
rollback ``-journal``) into a private temporary folder and opening the copy sees exactly
what the browser sees and never writes a byte to the browser's own files.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .errors import BrowserError

_SIDE_FILES = ("-wal", "-shm", "-journal")


@dataclass(frozen=True)
class Cookie:
    host: str
    name: str
    value: str
    expires_at: datetime | None


def host_matches(host: str, domains: tuple[str, ...]) -> bool:
    """``.claude.ai``/``claude.ai``/``www.claude.ai`` match ``claude.ai``; ``evilclaude.ai`` does not."""
    host = host.lstrip(".").lower()
    return any(host == d or host.endswith("." + d) for d in domains)


def epoch(seconds: float | None) -> datetime | None:
    if not seconds or seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def copy_database(src: Path, dest_dir: Path, *, what: str) -> Path:
    """Copy ``src`` and its side files into ``dest_dir``; returns the copy's path.

    ``what`` names the browser and profile in messages ("Firefox profile default-release").
    """
    if not src.exists():
        raise BrowserError(
            f"{what}: {src.name} not found ({src})",
            hint="Open the browser with this profile once, or pick another profile with AGENTGAUGE_BROWSER_PROFILE.",
        )
    dest_dir.mkdir(parents=True, exist_ok=True)
    copy = dest_dir / src.name
    try:
        shutil.copyfile(src, copy)
        for suffix in _SIDE_FILES:
            side = src.with_name(src.name + suffix)
            if side.exists():
                shutil.copyfile(side, dest_dir / side.name)
    except PermissionError as exc:
        # On Windows a running Chrome opens its cookie file without sharing it.
        locked = sys.platform == "win32" or exc.errno == errno.EBUSY
        hint = (
            "Close the browser (Chrome on Windows keeps its cookie file locked while it runs), or use Firefox"
            if locked
            else "Check the file's permissions"
        )
        raise BrowserError(
            f"{what}: cannot read {src} (permission denied or locked)",
            hint=hint + "; or paste the value with `agentgauge auth set PROVIDER`.",
        ) from exc
    except OSError as exc:
        raise BrowserError(
            f"{what}: cannot read {src} ({exc.strerror or type(exc).__name__})", hint="Check the file and its folder."
        ) from exc
    return copy


def open_copy(copy: Path, original: Path, *, what: str) -> sqlite3.Connection:
    """Open a copied database and prove it is SQLite (a corrupt file fails here, clearly)."""
    try:
        conn = sqlite3.connect(str(copy))
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise corrupt(original, what, exc) from exc
    return conn


def corrupt(original: Path, what: str, exc: Exception) -> BrowserError:
    return BrowserError(
        f"{what}: {original} is not a readable SQLite database ({exc})",
        hint="The browser may be mid-write: refresh again. If it persists, the file is damaged; "
        "pick another profile with AGENTGAUGE_BROWSER_PROFILE.",
    )
