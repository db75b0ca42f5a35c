"""What the store needs from a database, and the public transaction handle.

A backend hands out one transaction at a time on a connection it keeps healthy (SQLite: one
connection, reopened after an I/O error; PostgreSQL: a checked pool) and tells connection-level
failures (the database is down, locked or failing) from bugs. The store decides what happens
then: reads raise ``StoreUnavailableError``, writes wait in memory.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol


class Cursor(Protocol):
    """The part of a DB-API cursor that callers use: sqlite3's and psycopg's cursors both fit."""

    rowcount: int

    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Backend(Protocol):
    dialect: str
    target: str  # the database in words, for hints: no user name, no password
    reads_survive_write_errors: bool  # SQLite in WAL: a write lock held elsewhere does not block readers

    def transaction(self, *, write: bool) -> AbstractContextManager[Any]:
        """A raw connection inside an open transaction; committed when the block ends, rolled back on error."""
        ...

    def is_unavailable(self, exc: BaseException) -> bool:
        """True when ``exc`` says the database cannot be used right now (not a bug in the SQL)."""
        ...

    def describe(self, exc: BaseException) -> str:
        """The error in words, first line only, without secrets."""
        ...

    def close(self) -> None: ...


class Transaction:
    """One transaction, given by ``Store.transaction()``. SQL is written once with ``?``
    placeholders; on PostgreSQL they are translated (and literal ``%`` escaped) before running,
    so a literal ``?`` in a statement with parameters must itself be passed as a parameter.
    ``dialect`` is ``"sqlite"`` or ``"postgres"`` for the few statements that differ."""

    def __init__(self, conn: Any, dialect: str) -> None:
        self._conn = conn
        self.dialect = dialect

    def _translate(self, sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s") if self.dialect == "postgres" else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        if not params:  # without parameters neither driver rewrites the text: run it as written
            return self._conn.execute(sql)
        return self._conn.execute(self._translate(sql), params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        if self.dialect == "postgres":  # psycopg pipelines executemany on a cursor
            with self._conn.cursor() as cur:
                cur.executemany(self._translate(sql), rows)
        else:
            self._conn.executemany(sql, rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """All rows of a SELECT, as tuples."""
        return [tuple(row) for row in self.execute(sql, params).fetchall()]


_PASSWORD_PARAM = re.compile(r"(password\s*=\s*)('[^']*'|\S+)", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


def scrub_error(exc: BaseException, secrets: Iterable[str] = ()) -> str:
    """First line of an error, with passwords (from URLs, ``password=`` settings and the given
    secrets) replaced by ``***``. Driver messages name hosts and users, never passwords, but a
    URL echoed back must not leak one either."""
    lines = str(exc).strip().splitlines()
    text = lines[0].strip() if lines else type(exc).__name__
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = _PASSWORD_PARAM.sub(r"\1***", text)
    return _URL_PASSWORD.sub(r"\1***@", text)
