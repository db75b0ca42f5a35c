"""`guard` and `statusline` take a fast path without click (cli.quick): it must give exactly what the
click command gives (output and exit code) for every input it takes, and leave every other input to
the click command."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agentgauge.cli import quick
from agentgauge.models import ErrorInfo, ErrorKind, Forecast, ProviderSnapshot, Status, Window
from agentgauge.store import open_store

FAST = "from agentgauge.cli import main; main()"  # the console script's entry point
CLICK = "from agentgauge.cli.commands import main; main()"  # the click command alone
STDIN = '{"model": {"id": "claude-opus-4-1"}, "rate_limits": {"five_hour": {"used_percentage": 41, "resets_at": %d}}}'


def snapshot(
    provider: str, account: str, windows: dict[str, float], now: datetime, **extra: object
) -> ProviderSnapshot:
    # Resets half a minute past whole minutes, so a countdown reads the same for both runs of a case.
    spans = {"session": timedelta(hours=4, seconds=30), "weekly": timedelta(days=3, hours=2, seconds=30)}
    forecast = Forecast(verdict="watch", pace_pct=50.0, expected_pct=88.0, made_at=now)
    return ProviderSnapshot(
        provider=provider,
        account=account,
        name=provider.title(),
        status=extra.pop("status", Status.OK),  # type: ignore[arg-type]
        plan="Pro",
        windows=tuple(
            Window(
                id=wid,
                label=wid.title(),
                used_pct=pct,
                resets_at=now + spans[wid],
                window_seconds=18000,
                forecast=forecast,
            )
            for wid, pct in windows.items()
        ),
        fetched_at=now,
        last_success_at=now,
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def gauge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A config file and a SQLite store with a few accounts; the environment that points at them."""
    config = tmp_path / "config.toml"
    config.write_text("warn_pct = 30\ncrit_pct = 80\n[providers.claude]\nenabled = true\n")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    store = open_store(str(tmp_path / "gauge.db"), data_dir=tmp_path)
    error = ErrorInfo(kind=ErrorKind.AUTH, message="Codex: token expired", hint="Log in again.")
    for row in (
        snapshot("claude", "default", {"session": 62.5, "weekly": 91.0}, now),
        snapshot("claude", "work", {"session": 12.0}, now),
        snapshot("codex", "default", {"session": 30.0}, now, status=Status.ERROR, error=error),
        snapshot("zai", "default", {"session": 5.0}, now - timedelta(hours=2)),
        snapshot("kimi", "default", {"weekly": 47.0}, now, status=Status.STALE),
    ):
        store.save_state(row, next_allowed_at=4e9, failures=0)
    store.close()
    env = {"AGENTGAUGE_CONFIG": str(config), "AGENTGAUGE_DATABASE_URL": f"sqlite:///{tmp_path / 'gauge.db'}"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(quick.SERVER_ENV, raising=False)
    yield {**os.environ, **env}


def both(env: dict[str, str], args: list[str], stdin: str = "") -> tuple[subprocess.CompletedProcess[str], ...]:
    fast = subprocess.run(
        [sys.executable, "-c", FAST, *args], input=stdin, capture_output=True, text=True, env=env, timeout=60
    )
    slow = subprocess.run(
        [sys.executable, "-c", CLICK, *args], input=stdin, capture_output=True, text=True, env=env, timeout=60
    )
    return fast, slow


TAKEN = [
    ["guard", "--provider", "claude"],
    ["guard", "--provider", "claude", "--json"],
    ["guard", "--provider=claude", "--min-remaining", "40", "--json"],
    ["guard", "--provider", "claude", "--window", "session", "--min-remaining=37.5"],
    ["guard", "--provider", "claude", "--window", "monthly", "--json"],
    ["guard", "--provider", "claude", "--account", "work", "--min-remaining", "0"],
    ["guard", "--provider", "claude", "--account", "nobody"],
    ["guard", "--provider", "codex", "--json"],
    ["guard", "--provider", "codex", "--fail-open"],
    ["guard", "--provider", "zai"],
    ["guard", "--provider", "zai", "--max-age", "180", "--json"],
    ["guard", "--provider", "kimi", "--min-remaining", "60", "--provider", "kimi"],
    ["statusline", "--format", "plain"],
    ["statusline", "--format", "tmux"],
    ["statusline", "--format", "waybar"],
    ["statusline", "--format=i3blocks", "--provider", "claude", "--provider", "kimi"],
    ["statusline", "--format", "starship", "--provider", "codex"],
    ["statusline", "--no-store"],
]


@pytest.mark.parametrize("args", TAKEN, ids=" ".join)
def test_the_fast_path_answers_as_the_click_command(
    gauge: dict[str, str], args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin = STDIN % (datetime.now(UTC).timestamp() + 3 * 3600 + 30) if args == ["statusline", "--no-store"] else ""
    fast, slow = both(gauge, args, stdin)
    assert (fast.returncode, fast.stdout) == (slow.returncode, slow.stdout), (fast.stderr, slow.stderr)
    assert fast.stderr == slow.stderr == ""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    assert quick.run(args) is not None  # and it was the fast path that answered


LEFT = [
    ["guard", "--help"],
    ["guard", "--provider", "claude", "--refresh"],
    ["guard", "--provider", "claude", "--server", "http://127.0.0.1:9"],
    ["guard", "--provider", "claude", "--min-remaining", "150"],
    ["guard", "--provider", "claude", "--min-remaining", "lots"],
    ["guard", "--provider", "claude", "--max-age", "0"],
    ["guard", "--provider", "claude", "--min-remaining", "1e-9", "--json"],
    ["guard", "--provider", "nosuchprovider"],
    ["guard", "--provider", "opencode"],  # a real provider with nothing stored
    ["guard"],
    ["guard", "--provider"],
    ["guard", "claude"],
    ["statusline", "--format", "nosuch"],
    ["statusline", "-h"],
]


@pytest.mark.parametrize("args", LEFT, ids=" ".join)
def test_what_the_fast_path_does_not_take_goes_to_the_click_command(gauge: dict[str, str], args: list[str]) -> None:
    assert quick.run(args) is None
    fast, slow = both(gauge, args)
    assert (fast.returncode, fast.stdout, fast.stderr) == (slow.returncode, slow.stdout, slow.stderr)


def test_settings_the_fast_path_cannot_read_go_to_the_click_command(
    gauge: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["guard", "--provider", "claude"]
    config = Path(gauge["AGENTGAUGE_CONFIG"])
    for text in ("warn_pct = 90\ncrit_pct = 80\n", "warn_pct = 'lots'\n", "crit_pct = 0\n", "not toml ["):
        config.write_text(text)
        assert quick.run(args) is None, text
        fast, slow = both(gauge, args)
        assert fast.returncode == slow.returncode == 2, (text, fast.stderr)
        assert fast.stderr == slow.stderr
    config.write_text("")
    assert quick.run(args) is not None
    for name, value in (
        ("AGENTGAUGE_DATABASE_URL", "postgresql://127.0.0.1:1/none"),  # only the store package speaks PostgreSQL
        ("AGENTGAUGE_DATABASE_URL", str(tmp_path / "missing.db")),  # the click command creates it
        ("AGENTGAUGE_CONFIG", str(tmp_path / "missing.toml")),  # the click command reports it
        (quick.SERVER_ENV, "http://127.0.0.1:9"),
    ):
        with monkeypatch.context() as patched:
            patched.setenv(name, value)
            assert quick.run(args) is None, name


def test_a_store_behind_the_current_schema_goes_to_the_click_command(gauge: dict[str, str]) -> None:
    import sqlite3

    path = gauge["AGENTGAUGE_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)")
    assert quick.run(["guard", "--provider", "claude"]) is None


def test_the_default_store_in_the_data_dir_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No database_url anywhere: the store is agentgauge.db in the data dir, as the click command has it."""
    home = tmp_path / "home"
    data = home / ".local" / "share" / "agentgauge"
    data.mkdir(parents=True)
    store = open_store(None, data_dir=data)
    store.save_state(
        snapshot("claude", "default", {"session": 20.0}, datetime.now(UTC)), next_allowed_at=4e9, failures=0
    )
    store.close()
    for name in ("AGENTGAUGE_CONFIG", "AGENTGAUGE_DATABASE_URL", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    if sys.platform == "linux":
        assert quick.run(["guard", "--provider", "claude", "--min-remaining", "50"]) == 0
    fast, slow = both({**os.environ}, ["guard", "--provider", "claude", "--min-remaining", "90"])
    assert (
        (fast.returncode, fast.stdout)
        == (slow.returncode, slow.stdout)
        == (1, "claude/default: 80 % left on Session, below 90 %\n")
    )


@pytest.mark.parametrize("entry", [FAST, CLICK], ids=["fast path", "click command"])
@pytest.mark.parametrize("stdout", ["closed", "full", "pipe closed early"])
def test_the_decision_reaches_the_caller_when_stdout_is_gone(gauge: dict[str, str], entry: str, stdout: str) -> None:
    """A hook reads guard's exit code; a status bar may close its end first. No traceback either way."""
    guard = [sys.executable, "-c", entry, "guard", "--provider", "claude", "--min-remaining", "50", "--json"]
    line = [sys.executable, "-c", entry, "statusline", "--format", "waybar"]
    for args, code in ((guard, 1), (line, 0)):  # claude/default has 37.5 % left on its session window
        if stdout == "closed":
            done = subprocess.run(
                ["sh", "-c", 'exec "$@" >&-', "sh", *args], stderr=subprocess.PIPE, env=gauge, timeout=60
            )
        elif stdout == "full":
            with open("/dev/full", "w") as full:
                done = subprocess.run(args, stdout=full, stderr=subprocess.PIPE, env=gauge, timeout=60)
        else:
            script = '"$@" | head -c 0; exit "${PIPESTATUS[0]}"'  # the command's status, not head's
            done = subprocess.run(["bash", "-c", script, "bash", *args], stderr=subprocess.PIPE, env=gauge, timeout=60)
        assert done.returncode == code, (args[3], done.stderr)
        assert done.stderr == b"", done.stderr
