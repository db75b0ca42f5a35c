"""Numbered schema migrations, one folder per dialect (store/migrations/{sqlite,postgres}/).

The two folders hold the same numbers and create the same tables and columns (a test compares
the migrated schemas); only the types differ. Check-and-apply runs in one write transaction
under a lock, so processes starting at once on a fresh database apply each migration once: on
PostgreSQL a transaction-scoped advisory lock, on SQLite the write lock ``BEGIN IMMEDIATE`` takes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources

from .backend import Transaction

# Advisory-lock namespace ("agen"); the second key is the schema, so schemas migrate independently.
_PG_LOCK_KEY = 0x6167656E


def migrations(dialect: str) -> list[tuple[int, str, str]]:
    """(number, file name, SQL) of every migration of a dialect, in order."""
    folder = resources.files("agentgauge.store").joinpath("migrations", dialect)
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def apply(tx: Transaction) -> int:
    """Apply the migrations not yet applied, inside ``tx`` (a write transaction); returns the schema version."""
    if tx.dialect == "postgres":
        # Before anything else, even CREATE TABLE IF NOT EXISTS: two of those racing on a fresh
        # schema fail with a duplicate catalog entry. Released at commit or rollback.
        tx.execute(f"SELECT pg_advisory_xact_lock({_PG_LOCK_KEY}, hashtext(COALESCE(current_schema(), '')))")
    tx.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {int(row[0]) for row in tx.query("SELECT version FROM schema_migrations")}
    version = max(done, default=0)
    for number, _name, script in migrations(tx.dialect):
        if number in done:
            continue
        for statement in _statements(script):
            tx.execute(statement)
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", (number, datetime.now(UTC).isoformat())
        )
        version = max(version, number)
    return version


def _statements(script: str) -> list[str]:
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
