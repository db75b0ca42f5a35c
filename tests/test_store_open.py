"""A database that cannot be opened is one ConfigError naming the path and the fix: a read-only
database file, a data directory that is not writable, a data directory that is a file. When
the tests run as root (which ignores permissions) the open runs with the effective ids of an
unprivileged user."""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from agentgauge.errors import ConfigError
from agentgauge.store import open_store

USER = pwd.getpwnam("nobody") if os.geteuid() == 0 else None


@contextmanager
def unprivileged() -> Iterator[None]:
    if USER is None:
        yield
        return
    os.setegid(USER.pw_gid)
    os.seteuid(USER.pw_uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


def _give(path: Path) -> None:
    if USER is not None:
        os.chown(path, USER.pw_uid, USER.pw_gid)


@pytest.fixture
def base() -> Iterator[Path]:
    """A directory the unprivileged user can reach (pytest's tmp_path is private to root)."""
    root = Path(tempfile.mkdtemp(prefix="agentgauge-open-"))
    root.chmod(0o755)
    _give(root)
    yield root
    for path in (root, *root.rglob("*")):
        if path.is_dir():
            path.chmod(0o755)
    shutil.rmtree(root)


def _open_error(url: str | None, data_dir: Path) -> ConfigError:
    with unprivileged(), pytest.raises(ConfigError) as info:
        open_store(url, data_dir=data_dir).close()
    return info.value


def test_a_read_only_database_file_is_a_config_error(base: Path) -> None:
    data = base / "data"
    data.mkdir()
    _give(data)
    db = data / "agentgauge.db"
    open_store(str(db), data_dir=data).close()
    _give(db)
    db.chmod(0o444)
    error = _open_error(None, data)
    assert error.message == f"the database file {db} is read-only"
    assert f"chmod u+w '{db}'" in error.hint


def test_an_unwritable_data_directory_is_a_config_error(base: Path) -> None:
    data = base / "data"
    data.mkdir()
    _give(data)
    data.chmod(0o555)
    error = _open_error(None, data)
    assert error.message == f"the data directory {data} is not writable"
    assert f"chmod u+w '{data}'" in error.hint


def test_a_data_directory_that_is_a_file_is_a_config_error(base: Path) -> None:
    data = base / "data"
    data.write_text("not a directory")
    error = _open_error(None, data)
    assert error.message == f"the data directory {data} is a file, not a directory"
    assert str(data) in error.hint
    # the same for a database path further below the file
    error = _open_error(str(data / "sub" / "x.db"), base)
    assert error.message == f"the data directory {data} is a file, not a directory"


def test_a_writable_directory_opens_as_the_same_user(base: Path) -> None:
    data = base / "fine"
    data.mkdir()
    _give(data)
    with unprivileged():
        store = open_store(None, data_dir=data)
        assert store.query("SELECT COUNT(*) FROM account_state") == [(0,)]
        store.close()
    assert (data / "agentgauge.db").exists()
