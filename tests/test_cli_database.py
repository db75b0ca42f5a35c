"""A database the CLI cannot use: a read-only database file, a data directory that is not writable,
a data directory that is a file. ``status`` says so in one error naming the path and its fix (exit 2,
no traceback) and ``doctor`` finds the same problem in its database check (exit 2).

Permissions mean nothing to root, so when the tests run as root the command runs with the effective
ids of ``nobody``: the child imports what the commands need while it may still read the interpreter's
files (under /root), then drops to ``nobody`` and runs the real CLI entry point."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentgauge.store import open_store

USER = pwd.getpwnam("nobody") if os.geteuid() == 0 else None

_AS_NOBODY = """
import importlib, os, sys
for name in ("agentgauge.cli", "agentgauge.cli.doctor", "agentgauge.cli.render", "agentgauge.engine",
             "agentgauge.store", "agentgauge.store.sqlite", "agentgauge.query", "agentgauge.credentials",
             "rich.console", "rich.text", "rich.table", "rich.live", "sqlite3", "asyncio", "importlib.readers",
             "importlib.resources", "importlib.resources.readers", "zipfile", "email.utils",
             "concurrent.futures.thread"):
    importlib.import_module(name)
importlib.import_module("agentgauge.providers.registry").all_providers()
uid, gid = int(sys.argv[1]), int(sys.argv[2])
os.setgroups([])
os.setegid(gid)
os.seteuid(uid)
sys.argv = ["agentgauge", *sys.argv[3:]]
from agentgauge.cli import main
main()
"""


@pytest.fixture
def base() -> Iterator[Path]:
    """A home both root and the unprivileged user can reach (pytest's tmp_path is private to root)."""
    root = Path(tempfile.mkdtemp(prefix="agentgauge-cli-db-"))
    root.chmod(0o755)
    _give(root)
    yield root
    for path in (root, *root.rglob("*")):
        if path.is_dir():
            path.chmod(0o755)
    shutil.rmtree(root)


def _give(path: Path) -> None:
    if USER is not None:
        os.chown(path, USER.pw_uid, USER.pw_gid)


def agentgauge(base: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AGENTGAUGE_")},
        "HOME": str(base),
        "XDG_CONFIG_HOME": str(base / ".config"),
        "XDG_DATA_HOME": str(base / "data"),
        "AGENTGAUGE_NO_PLUGINS": "1",
        "COLUMNS": "200",
        **env,
    }
    if USER is None:
        command = [sys.executable, "-m", "agentgauge", *args]
    else:
        command = [sys.executable, "-c", _AS_NOBODY, str(USER.pw_uid), str(USER.pw_gid), *args]
    return subprocess.run(command, capture_output=True, text=True, env=environment, timeout=120)


def assert_one_error(result: subprocess.CompletedProcess[str], message: str, fix: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert result.stderr.splitlines() == [f"error: {message}", result.stderr.splitlines()[1]], result.stderr
    assert result.stderr.splitlines()[1].startswith("hint: ") and fix in result.stderr.splitlines()[1]


def assert_doctor_finds(result: subprocess.CompletedProcess[str], message: str, fix: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    at = lines.index(f"  ✗ database: {message}")
    assert lines[at + 1].startswith("    hint: ") and fix in lines[at + 1]
    assert "Traceback" not in result.stderr


def test_a_read_only_database_file(base: Path) -> None:
    data = base / "data"
    data.mkdir()
    _give(data)
    db = data / "gauge.db"
    open_store(str(db), data_dir=data).close()
    for path in data.iterdir():
        _give(path)
    db.chmod(0o444)
    message, fix = f"the database file {db} is read-only", f"chmod u+w '{db}'"
    assert_one_error(agentgauge(base, "status", AGENTGAUGE_DATABASE_URL=str(db)), message, fix)
    assert_doctor_finds(agentgauge(base, "doctor", AGENTGAUGE_DATABASE_URL=str(db)), message, fix)


def test_a_data_directory_that_is_not_writable(base: Path) -> None:
    data = base / "data" / "agentgauge"  # the default database lives here
    data.mkdir(parents=True)
    _give(data.parent)
    _give(data)
    data.chmod(0o555)
    message, fix = f"the data directory {data} is not writable", f"chmod u+w '{data}'"
    assert_one_error(agentgauge(base, "status"), message, fix)
    assert_doctor_finds(agentgauge(base, "doctor"), message, fix)


def test_a_data_directory_that_is_a_file(base: Path) -> None:
    (base / "data").mkdir()
    _give(base / "data")
    data = base / "data" / "agentgauge"
    data.write_text("not a directory")
    message, fix = f"the data directory {data} is a file, not a directory", f"Move or delete the file {data}"
    assert_one_error(agentgauge(base, "status"), message, fix)
    assert_doctor_finds(agentgauge(base, "doctor"), message, fix)


def test_doctor_reports_a_healthy_database(base: Path) -> None:
    result = agentgauge(base, "doctor")
    assert result.returncode == 3, result.stdout + result.stderr  # nothing configured, nothing broken
    db = base / "data" / "agentgauge" / "agentgauge.db"
    assert f"  database: {db} (opens and answers)" in result.stdout.splitlines()
