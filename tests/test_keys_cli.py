"""`agentgauge users` and `agentgauge keys` in subprocesses: passwords from stdin only (never argv),
a key printed once and never again, the last admin kept, a revoked key refused by a running server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from agentgauge.store import open_store
from agentgauge.users import keys, people

ROOT = Path(__file__).resolve().parents[1]


def run(args: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentgauge", *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AGENTGAUGE_")}
    clean.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local/share"),
        AGENTGAUGE_NO_PLUGINS="1",
        PYTHONPATH=str(ROOT),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        AGENTGAUGE_DATABASE_URL=str(tmp_path / "agentgauge.db"),
    )
    return clean


def test_users_from_stdin_and_the_last_admin(env: dict[str, str], tmp_path: Path) -> None:
    password = "s3cret-passw0rd"
    added = run(["users", "add", "Ann", "--role", "admin"], env, stdin=password + "\n")
    assert added.returncode == 0, added.stderr
    assert "Added ann (admin)" in added.stderr and 'auth = "users"' in added.stderr
    assert run(["users", "add", "bob"], env, stdin="short\n").returncode == 2
    assert run(["users", "add", "bob"], env, stdin="").returncode == 2  # nothing given
    assert run(["users", "add", "bob"], env, stdin="bob-password\n").returncode == 0
    listed = run(["users", "list", "--json"], env)
    assert [(u["name"], u["role"]) for u in json.loads(listed.stdout)["users"]] == [("ann", "admin"), ("bob", "viewer")]
    last = run(["users", "remove", "ann"], env)
    assert last.returncode == 2 and "last admin" in last.stderr
    assert run(["users", "role", "bob", "admin"], env).returncode == 0
    assert run(["users", "passwd", "ann"], env, stdin="an0ther-password\n").returncode == 0
    assert run(["users", "remove", "ann"], env).returncode == 0
    missing = run(["users", "remove", "ann"], env)
    assert missing.returncode == 2 and "no user is named 'ann'" in missing.stderr
    store = open_store(env["AGENTGAUGE_DATABASE_URL"], data_dir=tmp_path)
    try:
        assert people.authenticate(store, "bob", "bob-password") is not None
        hashes = [row[0] for row in store.query("SELECT password_hash FROM users")]
        assert all(h.startswith("$argon2id$") for h in hashes)
    finally:
        store.close()
    everything = (tmp_path / "agentgauge.db").read_bytes()
    assert password.encode() not in everything and b"an0ther-password" not in everything


def test_keys_are_printed_once_and_revoked(env: dict[str, str], tmp_path: Path) -> None:
    assert run(["users", "add", "ann", "--role", "admin"], env, stdin="ann-password\n").returncode == 0
    made = run(["keys", "create", "--name", "stream deck", "--user", "ann"], env)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert key.startswith("agk_") and key not in made.stderr and "not shown again" in made.stderr
    as_json = run(["keys", "create", "--name", "ci", "--scope", "write", "--json"], env)
    record = json.loads(as_json.stdout)
    assert record["scope"] == "write" and record["user"] is None and record["key"].startswith(f"agk_{record['id']}_")
    nobody = run(["keys", "create", "--name", "x", "--user", "nobody"], env)
    assert nobody.returncode == 2 and "no user is named 'nobody'" in nobody.stderr
    listed = run(["keys", "list"], env)
    assert "stream deck" in listed.stdout and key not in listed.stdout and record["key"] not in listed.stdout
    key_id = key.split("_")[1]
    store = open_store(env["AGENTGAUGE_DATABASE_URL"], data_dir=tmp_path)
    try:
        assert keys.verify(store, key, datetime.now(UTC)) is not None
        assert run(["keys", "revoke", key_id], env).returncode == 0
        assert keys.verify(store, key, datetime.now(UTC)) is None
    finally:
        store.close()
    assert run(["keys", "revoke", key_id], env).returncode == 2
    assert "stream deck" in run(["keys", "list", "--all", "--json"], env).stdout
    assert key.split("_", 2)[2].encode() not in (tmp_path / "agentgauge.db").read_bytes()


def test_serve_needs_a_token_or_users_off_loopback_and_prints_the_setup_code(env: dict[str, str]) -> None:
    refused = run(["serve", "--host", "0.0.0.0", "--port", "0"], env)
    assert refused.returncode == 2 and 'auth = "users"' in refused.stderr
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentgauge", "serve", "--host", "0.0.0.0", "--port", "0"],
        env={**env, "AGENTGAUGE_AUTH": "users"},
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        lines = [proc.stderr.readline(), proc.stderr.readline()]
        url = lines[0].split("dashboard: ", 1)[1].split()[0]
        code = lines[1].split("setup code: ", 1)[1].split()[0]
        port = url.rsplit(":", 1)[1].split("/")[0]
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(base + "/api/usage").status_code == 401
        form = {"code": code, "username": "ann", "password": "ann-password", "password2": "ann-password"}
        done = httpx.post(base + "/setup", data=form)
        assert done.status_code == 303 and "agentgauge_session=" in done.headers["set-cookie"]
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0
