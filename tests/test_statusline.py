"""`agentgauge statusline` as Claude Code, tmux, waybar, starship and i3blocks run it: a real process reading
a real store; Claude Code's rate_limits shown at once and stored as Claude's statusline source (throttled
when unchanged); the output shapes each bar expects; a missing or broken stdin degrades to the stored data."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agentgauge.cli.statusline import claude_limits, countdown, needs_ingest, render, short_window
from agentgauge.kinds import Status
from agentgauge.models import ProviderSnapshot, Window
from agentgauge.query.stored import StoredAccount, StoredWindow
from agentgauge.store import Store, open_store

H = timedelta(hours=1)
ANSI = re.compile(r"\033\[[0-9;]*m")


@dataclass
class Env:
    tmp: Path
    store: Store
    env: dict[str, str]

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "agentgauge", "statusline", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=120,
        )

    def claude(self) -> ProviderSnapshot | None:
        state = self.store.state("claude", "default")
        return state.snapshot if state else None


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    config = tmp_path / "config.toml"
    config.write_text("warn_pct = 50\ncrit_pct = 80\n")
    db = tmp_path / "gauge.db"
    store = open_store(str(db), data_dir=tmp_path)
    yield Env(tmp_path, store, {**os.environ, "AGENTGAUGE_CONFIG": str(config), "AGENTGAUGE_DATABASE_URL": str(db)})
    store.close()


def seed(store: Store, now: datetime) -> None:
    for provider, name, windows, status in (
        ("claude", "Claude", (("session", 30.0, 2 * H, 18000), ("weekly", 55.0, 50 * H, 604800)), Status.OK),
        ("codex", "Codex", (("session", 85.0, 1.5 * H, 18000),), Status.OK),
        ("zai", "z.ai", (("session", 5.0, 4 * H, 18000),), Status.STALE),
    ):
        store.save_state(
            ProviderSnapshot(
                provider=provider,
                name=name,
                status=status,
                windows=tuple(
                    Window(id=w, label=w.title(), used_pct=pct, resets_at=now + after, window_seconds=secs)
                    for w, pct, after, secs in windows
                ),
                fetched_at=now,
                last_success_at=now,
            ),
            next_allowed_at=4e9,
            failures=0,
        )


def claude_code_json(session: float, weekly: float, now: datetime) -> str:
    """What Claude Code pipes to a statusLine command (fields per its docs; rate_limits for subscribers)."""
    return json.dumps(
        {
            "hook_event_name": "Status",
            "session_id": "abc123",
            "cwd": "/home/me/project",
            "model": {"id": "claude-opus-4-1", "display_name": "Opus"},
            "workspace": {"current_dir": "/home/me/project", "project_dir": "/home/me/project"},
            "version": "2.1.120",
            "cost": {"total_cost_usd": 0.42},
            "rate_limits": {
                "five_hour": {"used_percentage": session, "resets_at": int((now + 3 * H).timestamp())},
                "seven_day": {"used_percentage": weekly, "resets_at": int((now + 90 * H).timestamp())},
            },
        }
    )


def test_each_account_shows_its_tightest_window(env: Env):
    seed(env.store, datetime.now(UTC))
    done = env.run("--format", "plain")
    assert done.returncode == 0, done.stderr
    line = done.stdout.rstrip("\n")
    assert "\n" not in line
    assert re.fullmatch(r"Claude 55% 7d ↻2d\dh │ Codex 85% 5h ↻1h\d\dm │ z\.ai ~5% 5h ↻[34]h\d\dm", line), line


def test_claude_code_rate_limits_are_shown_and_stored(env: Env):
    now = datetime.now(UTC)
    seed(env.store, now - timedelta(minutes=20))
    done = env.run(stdin=claude_code_json(71.5, 40, now))
    assert done.returncode == 0, done.stderr
    plain = ANSI.sub("", done.stdout.strip())
    assert plain.startswith("Claude 72% 5h ↻") or plain.startswith("Claude 72% 5h ↻2h"), plain
    assert "\033[33m" in done.stdout  # 71.5 % is past warn_pct 50: amber
    stored = env.claude()
    assert stored is not None
    assert (stored.source, stored.status) == ("statusline", Status.OK)
    assert {w.id: w.used_pct for w in stored.windows} == {"session": 71.5, "weekly": 40.0}
    # the other surfaces read it: guard and pick see the pushed numbers
    guard = subprocess.run(
        [sys.executable, "-m", "agentgauge", "guard", "--provider", "claude", "--min-remaining", "30"],
        capture_output=True,
        text=True,
        env=env.env,
        timeout=60,
    )
    assert guard.returncode == 1 and "28.5 % left" in guard.stdout


def test_unchanged_numbers_are_not_stored_again_within_five_minutes(env: Env):
    now = datetime.now(UTC)
    env.run(stdin=claude_code_json(10, 20, now))
    first = env.claude()
    assert first is not None and first.last_success_at is not None
    env.run(stdin=claude_code_json(10, 20, now))
    again = env.claude()
    assert again is not None and again.last_success_at == first.last_success_at
    env.run(stdin=claude_code_json(11, 20, now))
    changed = env.claude()
    assert changed is not None and changed.window("session").used_pct == 11.0


def test_without_rate_limits_or_with_junk_on_stdin_the_stored_data_shows(env: Env):
    seed(env.store, datetime.now(UTC))
    no_limits = json.dumps({"model": {"id": "claude-sonnet"}, "cwd": "/tmp"})
    for stdin in (
        no_limits,
        "not json at all",
        "",
        json.dumps({"rate_limits": {"five_hour": {"used_percentage": "x"}}}),
    ):
        done = env.run("--format", "claude", stdin=stdin)
        assert done.returncode == 0, done.stderr
        assert ANSI.sub("", done.stdout).startswith("Claude 55% 7d"), stdin
    assert env.claude().source is None  # nothing was stored


def test_no_data_yet(env: Env):
    assert env.run("--format", "plain").stdout == "agentgauge: no data\n"
    waybar = json.loads(env.run("--format", "waybar").stdout)
    assert waybar["class"] == "offline"


def test_bar_formats(env: Env):
    seed(env.store, datetime.now(UTC))
    tmux = env.run("--format", "tmux").stdout.strip()
    assert tmux.startswith("#[fg=yellow]Claude 55% 7d")  # warn_pct 50 from the config file
    assert "#[fg=red]Codex 85% 5h" in tmux and "#[fg=colour244]z.ai ~5%" in tmux and "\033" not in tmux
    waybar = json.loads(env.run("--format", "waybar").stdout)
    assert set(waybar) == {"text", "tooltip", "class", "percentage"}
    assert (waybar["class"], waybar["percentage"]) == ("crit", 85)
    assert "Session: 30 %" in waybar["tooltip"] and "Codex (default): ok" in waybar["tooltip"]
    full, short, colour = env.run("--format", "i3blocks").stdout.rstrip("\n").split("\n")
    assert (full.split(" │ ")[1].split(" ↻")[0], short, colour) == ("Codex 85% 5h", "85%", "#E06C75")
    starship = env.run("--format", "starship").stdout
    assert starship.count("\n") == 1 and "\033" not in starship and starship.startswith("Claude 55%")
    only = env.run("--format", "plain", "--provider", "codex").stdout.strip()
    assert only.startswith("Codex 85% 5h ↻1h") and "Claude" not in only


def test_pure_parts():
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    assert [countdown(now + d, now) for d in (timedelta(minutes=5), 2 * H + timedelta(minutes=7), 50 * H)] == [
        "5m",
        "2h07m",
        "2d2h",
    ]
    assert countdown(now - H, now) == "0m" and countdown(None, now) == ""

    def win(seconds: int | None, wid: str = "x") -> StoredWindow:
        return StoredWindow(wid, wid, 1.0, None, seconds, False, False, None)

    assert [short_window(win(s)) for s in (18000, 604800, 86400, 2592000, 2678400 - 3600)] == [
        "5h",
        "7d",
        "1d",
        "30d",
        "mo",
    ]
    assert short_window(win(None, "monthly_cap")) == "monthly_"
    assert claude_limits(
        {"rate_limits": {"five_hour": {"used_percentage": 12, "resets_at": "2026-11-26T15:00:00Z"}}}
    ) == [("session", "Session (5h)", 18000, 12.0, datetime(2026, 11, 26, 15, tzinfo=UTC))]
    assert claude_limits({"rate_limits": None}) == [] and claude_limits([1, 2]) == []
    account = StoredAccount("claude", "default", "Claude", Status.OK, None, None, None, (win(18000),), now, now, None)
    assert needs_ingest(None, [("session", "s", 18000, 1.0, None)], now)
    assert not needs_ingest(account, [("x", "s", 18000, 1.0, None)], now + timedelta(minutes=4))
    assert needs_ingest(account, [("x", "s", 18000, 2.0, None)], now + timedelta(minutes=4))
    assert needs_ingest(account, [("x", "s", 18000, 1.0, None)], now + timedelta(minutes=5))
    assert render("plain", [account], now, 40, 70) == "Claude 1% 5h"
