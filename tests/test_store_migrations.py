"""Migrations: concurrent first starts on a fresh database all succeed, and the SQLite and
PostgreSQL migration folders stay in step."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from agentgauge.store import open_store
from agentgauge.store.migrate import migrations

PG_URL = os.environ.get("AGENTGAUGE_TEST_PG_URL", "postgresql://127.0.0.1:5432/test")
PROCESSES = 11
ROUNDS = 3

# Each child opens the store once every child is ready (a line on stdin starts them together).
CHILD = r"""
import sys
from pathlib import Path
from agentgauge.store import open_store
print("ready", flush=True)
sys.stdin.readline()
store = open_store(sys.argv[1], data_dir=Path(sys.argv[2]))
print(store.migrate(), flush=True)
store.close()
"""


def _start_together(url: str, data_dir: Path) -> list[tuple[int, str, str]]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, url, str(data_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    try:
        for p in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        results = []
        for p in procs:
            out, err = p.communicate(timeout=120)
            results.append((p.returncode, out.strip(), err.strip().splitlines()[-1] if err.strip() else ""))
        return results
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def _latest(dialect: str) -> int:
    return migrations(dialect)[-1][0]


def test_concurrent_first_starts_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    # More rounds than PostgreSQL: SQLite's WAL switch refused some of eleven processes in about one
    # round of three (the store now waits it out), so three rounds could miss it.
    for round_ in range(3 * ROUNDS):
        db = tmp_path / f"fresh{round_}.db"
        results = _start_together(str(db), tmp_path)
        assert [r[0] for r in results] == [0] * PROCESSES, results
        assert {r[1] for r in results} == {str(_latest("sqlite"))}
        store = open_store(str(db), data_dir=tmp_path)
        versions = [v for (v,) in store.query("SELECT version FROM schema_migrations ORDER BY version")]
        store.close()
        assert versions == [n for n, _name, _sql in migrations("sqlite")]


@pytest.fixture
def fresh_schemas() -> Iterator[list[str]]:
    created: list[str] = []
    yield created
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        for schema in created:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _schema_url(schema: str) -> str:
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


def test_concurrent_first_starts_on_a_fresh_postgres_schema(tmp_path: Path, fresh_schemas: list[str]) -> None:
    for _ in range(ROUNDS):
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f'CREATE SCHEMA "{schema}"')
        fresh_schemas.append(schema)
        results = _start_together(_schema_url(schema), tmp_path)
        assert [r[0] for r in results] == [0] * PROCESSES, results
        assert {r[1] for r in results} == {str(_latest("postgres"))}
        store = open_store(_schema_url(schema), data_dir=tmp_path)
        versions = [v for (v,) in store.query("SELECT version FROM schema_migrations ORDER BY version")]
        store.close()
        assert versions == [n for n, _name, _sql in migrations("postgres")]


# -- the two migration folders stay in step -------------------------------------------------------------


def test_both_dialects_have_the_same_numbered_migrations() -> None:
    sqlite, postgres = migrations("sqlite"), migrations("postgres")
    assert [name for _n, name, _sql in sqlite] == [name for _n, name, _sql in postgres]
    numbers = [n for n, _name, _sql in sqlite]
    assert numbers == list(range(1, len(numbers) + 1))  # numbered without gaps or repeats


def _index_names(dialect: str) -> set[str]:
    text = "\n".join(sql for _n, _name, sql in migrations(dialect))
    return set(re.findall(r"CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", text, re.IGNORECASE))


def test_both_dialects_create_the_same_tables_columns_and_indexes(tmp_path: Path, fresh_schemas: list[str]) -> None:
    lite = open_store(str(tmp_path / "parity.db"), data_dir=tmp_path)
    names = lite.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    tables = [t for (t,) in names]
    lite_columns = {t: {row[1] for row in lite.query(f"PRAGMA table_info({t})")} for t in tables}
    lite.close()

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    fresh_schemas.append(schema)
    pg = open_store(_schema_url(schema), data_dir=tmp_path)
    pg_columns: dict[str, set[str]] = {}
    for table, column in pg.query(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()"
    ):
        pg_columns.setdefault(table, set()).add(column)
    pg.close()

    assert lite_columns == pg_columns
    assert _index_names("sqlite") == _index_names("postgres")
