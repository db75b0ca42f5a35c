"""`agentgauge auth` end to end in subprocesses: stdin only, never argv; no value in any output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked

from agentgauge.browser import BrowserError
from agentgauge.cli.commands import cli
from agentgauge.credentials.store import SecretStore

SENTINEL = "SENTINEL-c41d7e09"
ROOT = Path(__file__).resolve().parents[1]


class FileKeyring(KeyringBackend):
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
        import keyring.errors

        raise keyring.errors.PasswordDeleteError("this test keyring never deletes")


class LockedKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("collection is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("collection is locked")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("collection is locked")


def run(args: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentgauge", *args],
        input=stdin,
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
        AGENTGAUGE_BROWSER="off",
        PYTHONPATH=str(ROOT),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        AGENTGAUGE_DATABASE_URL=str(tmp_path / "agentgauge.db"),
    )
    return clean


def store_dir(env: dict[str, str]) -> Path:
    return Path(env["XDG_DATA_HOME"]) / "agentgauge"


def all_bytes(*roots: Path) -> bytes:
    return b"".join(p.read_bytes() for root in roots for p in sorted(root.rglob("*")) if p.is_file())


def test_set_from_stdin_then_status_uses_it_and_never_shows_it(sim: Any, env: dict[str, str], tmp_path: Path) -> None:
    secret = f"sim-zai-key.secret#{SENTINEL}"  # the simulator's key for account "SENTINEL-..."
    done = run(["auth", "set", "zai"], env, stdin=secret + "\n")
    assert done.returncode == 0, done.stderr
    assert "saved zai api_key for account 'default'" in done.stderr
    env["AGENTGAUGE_ZAI_URL"] = f"{sim.url}/zai/url"
    status = run(["-vv", "status", "--json", "--provider", "zai"], env)
    assert status.returncode == 0, status.stderr
    snapshot = json.loads(status.stdout)
    assert snapshot["providers"][0]["status"] == "ok"
    report = run(["auth", "status", "--json"], env)
    assert report.returncode == 0, report.stderr
    data = json.loads(report.stdout)
    assert data["secret_store"]["key"] == "file" and data["secret_store"]["error"] is None
    zai = next(a for a in data["accounts"] if a["provider"] == "zai")
    assert zai["sources"][0]["usable"] and zai["sources"][0]["origin"] == "agentgauge secret store (manual)"
    assert zai["stored"][0]["setting"] == "api_key" and zai["stored"][0]["origin"] == "manual"
    doctor = run(["doctor"], env)
    assert "secret store:" in doctor.stdout and "key file" in doctor.stdout
    for output in (done, status, report, doctor):
        assert SENTINEL not in output.stdout + output.stderr
    assert SENTINEL.encode() not in all_bytes(store_dir(env), tmp_path / "agentgauge.db")


def test_a_value_on_the_command_line_is_refused(env: dict[str, str]) -> None:
    for args in (
        ["auth", "set", "zai", f"key-{SENTINEL}"],
        ["auth", "set", "zai", "--value", f"key-{SENTINEL}"],
        ["auth", "set", "zai", f"--token={SENTINEL}"],
    ):
        done = run(args, env, stdin="")
        assert done.returncode == 2, (args, done.stderr)
        assert "unexpected extra argument" in done.stderr or "No such option" in done.stderr
    assert not (store_dir(env) / "secrets.json").exists()


def test_set_checks_the_setting_and_the_value(env: dict[str, str]) -> None:
    not_secret = run(["auth", "set", "claude", "--setting", "api_url"], env, stdin="https://x\n")
    assert not_secret.returncode == 2 and "not a secret setting of claude" in not_secret.stderr
    empty = run(["auth", "set", "claude"], env, stdin="\n")
    assert empty.returncode == 2 and "no value given" in empty.stderr
    two_lines = run(["auth", "set", "claude"], env, stdin=f"a-{SENTINEL}\nb\n")
    assert two_lines.returncode == 2 and SENTINEL not in two_lines.stderr
    unknown = run(["auth", "set", "nope"], env, stdin="x\n")
    assert unknown.returncode == 2 and "unknown provider" in unknown.stderr
    assert not (store_dir(env) / "secrets.json").exists()


def test_named_account_and_default_setting_and_forget(env: dict[str, str]) -> None:
    assert run(["auth", "set", "codex", "--account", "work"], env, stdin="tok\n").returncode == 0
    assert (
        run(["auth", "set", "claude", "--setting", "session_key"], env, stdin="Cookie: sessionKey=x\n").returncode == 0
    )
    entries = {e.key: e for e in SecretStore(store_dir(env)).entries()}
    assert entries[("codex", "work", "access_token")].value.reveal() == "tok"  # the first source's secret
    assert entries[("claude", "default", "session_key")].value.reveal() == "sessionKey=x"
    data = json.loads(run(["auth", "status", "--json"], env).stdout)
    assert any(a["provider"] == "codex" and a["account"] == "work" and a["stored"] for a in data["accounts"])
    assert run(["auth", "forget", "codex", "--account", "work"], env).returncode == 0
    assert [e.provider for e in SecretStore(store_dir(env)).metadata()] == ["claude"]
    assert run(["auth", "forget"], env).returncode == 2
    assert run(["auth", "forget", "--all"], env).returncode == 0
    assert SecretStore(store_dir(env)).metadata() == []


def test_unreadable_keyring_is_one_clear_message(env: dict[str, str], tmp_path: Path) -> None:
    env.update(PYTHON_KEYRING_BACKEND="tests.test_auth_cli.FileKeyring", TEST_KEYRING_FILE=str(tmp_path / "kr.json"))
    assert run(["auth", "set", "zai"], env, stdin="k\n").returncode == 0
    assert json.loads((store_dir(env) / "secrets.json").read_text())["key"] == "keyring"
    before = all_bytes(store_dir(env))
    env["PYTHON_KEYRING_BACKEND"] = "tests.test_auth_cli.LockedKeyring"
    status = run(["status", "--json"], env)
    assert status.returncode == 2
    expected = "error: cannot read the secret store key from the OS keyring (KeyringLocked)"
    assert status.stderr.splitlines()[0] == expected
    assert "Traceback" not in status.stderr and status.stdout == ""
    report = run(["auth", "status", "--json"], env)  # still shows what it can
    assert report.returncode == 0
    assert "KeyringLocked" in json.loads(report.stdout)["secret_store"]["error"]["message"]
    doctor = run(["doctor"], env)
    assert "OS keyring" in doctor.stdout and "KeyringLocked" in doctor.stdout
    assert all_bytes(store_dir(env)) == before  # nothing lost


def test_corrupt_store_is_reported_once_and_kept(env: dict[str, str]) -> None:
    store_dir(env).mkdir(parents=True)
    (store_dir(env) / "secrets.json").write_text('{"version": 1, "entries": [tru')
    first = run(["status", "--json"], env)
    assert first.returncode == 2 and "corrupt" in first.stderr and "Traceback" not in first.stderr
    aside = list(store_dir(env).glob("secrets.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text() == '{"version": 1, "entries": [tru'
    assert run(["status", "--json"], env).returncode in (0, 1, 3)  # the next run goes on


def test_malformed_credentials_file_is_one_clear_message(env: dict[str, str]) -> None:
    creds = Path(env["HOME"]) / ".claude" / ".credentials.json"
    creds.parent.mkdir()
    creds.write_text('{"claudeAiOauth": {"accessToken": "sk-ant-oat01-' + SENTINEL)
    done = run(["status", "--json", "--provider", "claude"], env)
    snapshot = json.loads(done.stdout)["providers"][0]
    assert snapshot["error"]["kind"] == "config" and str(creds) in snapshot["error"]["message"]
    assert SENTINEL not in done.stdout + done.stderr


# -- import (the browser reader is injected) ---------------------------------------------------------
class Found:
    def __init__(self, values: dict[str, str], origin: str, expires_at: datetime | None) -> None:
        self.values, self.origin, self.expires_at = values, origin, expires_at


def test_import_stores_browser_logins(monkeypatch: pytest.MonkeyPatch) -> None:
    expires = datetime.now(UTC) + timedelta(days=20)
    calls: list[tuple[str, dict[str, Any]]] = []

    def fake(provider_id: str, site: Any = None, **kwargs: Any) -> Found:
        calls.append((provider_id, kwargs))
        if provider_id == "codex":
            raise BrowserError("No chatgpt.com login found in Firefox profile work", hint="Log in.")
        return Found(
            {"session_key": f"sk-ant-sid01-{SENTINEL}", "org_id": "not-secret"}, "Firefox profile work", expires
        )

    monkeypatch.setattr("agentgauge.browser.find_credentials", fake)
    monkeypatch.setattr("agentgauge.browser.discover_profiles", lambda *a, **k: (["profile work"], []))
    result = CliRunner().invoke(
        cli,
        ["auth", "import", "--browser", "firefox", "--profile", "work", "--provider", "claude", "--provider", "codex"],
    )
    assert result.exit_code == 0, result.output
    assert [c[0] for c in calls] == ["claude", "codex"]
    assert calls[0][1]["browser"] == "firefox" and calls[0][1]["profile"] == "work"
    entries = SecretStore().entries()
    assert [(e.provider, e.setting) for e in entries] == [("claude", "session_key")]  # only secret settings
    assert entries[0].origin == "browser:Firefox profile work" and entries[0].expires_at is not None
    assert SENTINEL not in result.output


def test_import_with_nothing_found_is_the_browser_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake(provider_id: str, site: Any = None, **kwargs: Any) -> Found:
        raise BrowserError("No claude.ai login found", hint="Log in to claude.ai in Firefox, then press Refresh.")

    monkeypatch.setattr("agentgauge.browser.find_credentials", fake)
    monkeypatch.setattr("agentgauge.browser.discover_profiles", lambda *a, **k: (["profile work"], []))
    result = CliRunner().invoke(cli, ["auth", "import", "--browser", "firefox", "--provider", "claude"])
    assert isinstance(result.exception, BrowserError)
    assert not SecretStore().exists()
