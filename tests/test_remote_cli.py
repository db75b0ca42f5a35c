"""`status`, `guard` and `pick --server URL` in subprocesses against a real server in multi-user mode
(the provider simulator behind it): the API key from AGENTGAUGE_SERVER_KEY or the keyring (`keys use`,
read from stdin), never argv and never printed; refused keys and unreachable servers answered with
the right exit codes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from keyring.backend import KeyringBackend

from agentgauge.users import keys

from .harness_users import Running, users_server

ROOT = Path(__file__).resolve().parents[1]


class DeletableKeyring(KeyringBackend):
    """A keyring for subprocesses: a JSON file named by TEST_KEYRING_FILE."""

    priority = 1  # type: ignore[assignment]

    def _path(self) -> Path:
        return Path(os.environ["TEST_KEYRING_FILE"])

    def _data(self) -> dict[str, str]:
        return json.loads(self._path().read_text()) if self._path().exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._data().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        self._path().write_text(json.dumps({**self._data(), f"{service}/{username}": password}))

    def delete_password(self, service: str, username: str) -> None:
        data = self._data()
        data.pop(f"{service}/{username}", None)
        self._path().write_text(json.dumps(data))


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Running, str, str]]:
    """Users mode, every provider set up against the simulator, z.ai and Codex fetched once."""
    with users_server(configured=True) as running:
        now = datetime.now(UTC)
        read, _ = keys.create(running.store, "laptop", "read", None, now)
        write, _ = keys.create(running.store, "ci", "write", None, now)
        for provider in ("zai", "codex"):
            fetched = httpx.post(
                f"{running.url}/api/refresh?provider={provider}&wait=60",
                headers={"Authorization": f"Bearer {read}"},
                timeout=90,
            )
            assert fetched.status_code == 200
        yield running, read, write


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
        AGENTGAUGE_DATABASE_URL=str(tmp_path / "local.db"),  # this machine's own (empty) store
    )
    return clean


def run(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentgauge", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def served(running: Running, key: str) -> dict[str, dict[str, object]]:
    body = httpx.get(f"{running.url}/api/usage", headers={"Authorization": f"Bearer {key}"}).json()
    return {f"{p['provider']}/{p['account']}": p for p in body["providers"]}


def test_status_reads_the_server_with_the_key_from_the_environment(
    server: tuple[Running, str, str], env: dict[str, str]
) -> None:
    running, read, _ = server
    env["AGENTGAUGE_SERVER_KEY"] = read
    done = run(["status", "--server", running.url, "--provider", "zai", "--json"], env)
    assert done.returncode == 0, done.stderr
    snapshot = json.loads(done.stdout)
    assert [(p["provider"], p["account"], p["status"]) for p in snapshot["providers"]] == [("zai", "default", "ok")]
    assert snapshot["providers"][0]["windows"] == served(running, read)["zai/default"]["windows"]
    table = run(["status", "--server", running.url + "/", "--provider", "zai"], {**env, "AGENTGAUGE_SERVER": ""})
    assert table.returncode == 0 and "z.ai" in table.stdout
    via_env = run(["status", "--provider", "codex", "--json"], {**env, "AGENTGAUGE_SERVER": running.url})
    assert via_env.returncode == 0 and json.loads(via_env.stdout)["providers"][0]["provider"] == "codex"
    for output in (done, table, via_env):
        assert read not in output.stdout + output.stderr


def test_refused_and_missing_keys_and_an_unreachable_server(
    server: tuple[Running, str, str], env: dict[str, str]
) -> None:
    running, read, _ = server
    missing = run(["status", "--server", running.url], env)
    assert missing.returncode == 2 and "needs an API key" in missing.stderr and "keys use" in missing.stderr
    wrong = read[:-2] + ("xy" if not read.endswith("xy") else "zz")
    refused = run(["status", "--server", running.url], {**env, "AGENTGAUGE_SERVER_KEY": wrong})
    assert refused.returncode == 2 and "refused the API key" in refused.stderr and wrong not in refused.stderr
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    unreachable = run(["status", "--server", closed], {**env, "AGENTGAUGE_SERVER_KEY": read})
    assert unreachable.returncode == 1 and "cannot reach" in unreachable.stderr
    guard = run(["guard", "--server", closed, "--provider", "zai"], {**env, "AGENTGAUGE_SERVER_KEY": read})
    assert guard.returncode == 69
    assert run(["guard", "--server", closed, "--provider", "zai", "--fail-open"], env).returncode == 0
    bad_url = run(["status", "--server", "https://user:pw@example.invalid"], env)
    assert bad_url.returncode == 2 and "must not carry a user" in bad_url.stderr


def test_guard_and_pick_decide_from_the_servers_data(server: tuple[Running, str, str], env: dict[str, str]) -> None:
    running, read, _ = server
    env["AGENTGAUGE_SERVER_KEY"] = read
    zai = served(running, read)["zai/default"]
    tightest = max(float(w["used_pct"]) for w in zai["windows"] if not w.get("unlimited"))  # type: ignore[union-attr]
    safe = run(["guard", "--server", running.url, "--provider", "zai", "--min-remaining", "0", "--json"], env)
    assert safe.returncode == 0, safe.stdout + safe.stderr
    assert json.loads(safe.stdout)["remaining_pct"] == pytest.approx(100 - tightest)
    below = run(["guard", "--server", running.url, "--provider", "zai", "--min-remaining", "100"], env)
    assert below.returncode == (0 if tightest == 0 else 1)
    unknown = run(["guard", "--server", running.url, "--provider", "kimi"], env)
    assert unknown.returncode == 69  # never fetched on the server: no data
    refreshed = run(["guard", "--server", running.url, "--provider", "zai", "--refresh", "--min-remaining", "0"], env)
    assert refreshed.returncode == 0
    picked = run(["pick", "--server", running.url, "--json"], env)
    assert picked.returncode == 0, picked.stderr
    report = json.loads(picked.stdout)
    server_pick = httpx.get(f"{running.url}/api/pick", headers={"Authorization": f"Bearer {read}"}).json()
    assert report["choice"] == server_pick["choice"] and {r["provider"] for r in report["ranked"]} == {"zai", "codex"}


def test_keys_use_keeps_the_key_in_the_keyring(
    server: tuple[Running, str, str], env: dict[str, str], tmp_path: Path
) -> None:
    running, read, _ = server
    ring = tmp_path / "keyring.json"
    env.update(PYTHON_KEYRING_BACKEND="tests.test_remote_cli.DeletableKeyring", TEST_KEYRING_FILE=str(ring))
    rejected = run(["keys", "use", running.url], env, stdin="agk_00000000_wrong\n")
    assert rejected.returncode == 2 and not ring.exists()  # a refused key is not saved
    saved = run(["keys", "use", running.url], env, stdin=read + "\n")
    assert saved.returncode == 0, saved.stderr
    assert "accepts the key (viewer)" in saved.stderr and "OS keyring" in saved.stderr
    assert json.loads(ring.read_text()) == {f"agentgauge-server/{running.url}": read}
    done = run(["status", "--server", running.url, "--provider", "zai", "--json"], env)
    assert done.returncode == 0 and read not in done.stdout + done.stderr + saved.stdout + saved.stderr
    forgot = run(["keys", "use", running.url, "--forget"], env)
    assert forgot.returncode == 0 and "Forgot 1" in forgot.stderr
    assert run(["status", "--server", running.url], env).returncode == 2  # no key any more
    # Without any keyring, the key goes to the encrypted secret store instead.
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    fallback = run(["keys", "use", running.url], env, stdin=read + "\n")
    assert fallback.returncode == 0 and "secret store" in fallback.stderr
    store_dir = Path(env["XDG_DATA_HOME"]) / "agentgauge"
    assert read.encode() not in b"".join(p.read_bytes() for p in store_dir.iterdir() if p.is_file())
    assert run(["status", "--server", running.url, "--provider", "zai"], env).returncode == 0
