"""SQLite connections: WAL journal, so readers never block the writer and a kill loses nothing
committed; NORMAL sync is durable against process death (WAL is fsynced at checkpoints)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..errors import ConfigError


def connect(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=10.0, check_same_thread=False, isolation_level="DEFERRED")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("PRAGMA foreign_keys=ON")
    except (OSError, sqlite3.Error) as exc:
        raise ConfigError(f"cannot open the database {path}: {exc}",
                          hint="Check the path and permissions, or set AGENTGAUGE_DATABASE_URL.") from None
    return conn
