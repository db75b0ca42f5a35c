"""Small things the CLI said wrong: ``auth import`` repeated "no profile found" once per provider;
``cost`` with no logs did not say where it looked; ``cost session`` did not show the project."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from agentgauge.providers import registry
from tests.loggen import Options, generate
from tests.test_browser_unit import firefox_profile


def agentgauge(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AGENTGAUGE_", "CLAUDE_", "CODEX_"))},
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "AGENTGAUGE_DATABASE_URL": str(home / "gauge.db"),
        "COLUMNS": "200",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "agentgauge", *args], capture_output=True, text=True, env=environment, timeout=300
    )


# -- auth import ------------------------------------------------------------------------------
def test_auth_import_without_a_browser_profile_says_so_once(tmp_path: Path) -> None:
    for browser, name in (("firefox", "Firefox"), ("chrome", "Chrome")):
        result = agentgauge(tmp_path, "auth", "import", "--browser", browser)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        lines = result.stderr.splitlines()
        assert lines[0] == f"error: {name}: no profile found below {tmp_path}", lines
        assert len(lines) == 2 and lines[1].startswith(f"hint: Open {name} once"), lines
        assert "AGENTGAUGE_BROWSER" not in lines[1]  # the user chose the browser with --browser


def test_auth_import_reports_each_provider_once_and_saves_what_it_finds(tmp_path: Path) -> None:
    future = int(time.time()) + 86400
    firefox_profile(
        tmp_path / ".mozilla" / "firefox",
        "abcd.default-release",
        [(".ollama.com", "__Secure-session", "imported-ollama-session", future)],
    )
    result = agentgauge(tmp_path, "auth", "import", "--browser", "firefox")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    with_login = [p.id for p in registry.all_providers() if any(a.browser for a in p.auth)]
    assert sorted(line.split(":")[0] for line in lines) == sorted(with_login), lines  # one line per provider
    assert any(line.startswith("ollama: saved cookie from Firefox profile") for line in lines), lines
    assert not any("no profile found" in line for line in lines)
    assert "imported-ollama-session" not in result.stdout + result.stderr
    status = json.loads(agentgauge(tmp_path, "auth", "status", "--json").stdout)
    stored = {row["provider"]: row["stored"] for row in status["accounts"]}
    assert [entry["setting"] for entry in stored["ollama"]] == ["cookie"]


def test_auth_import_with_nothing_to_import_ends_with_one_error(tmp_path: Path) -> None:
    firefox_profile(tmp_path / ".mozilla" / "firefox", "abcd.default-release", [])
    one = agentgauge(tmp_path, "auth", "import", "--browser", "firefox", "--provider", "claude")
    assert one.returncode == 2
    lines = one.stderr.splitlines()
    assert len(lines) == 2, lines  # the provider's error is the command's error: said once
    assert lines[0].startswith("error: No claude.ai login found in Firefox profile")
    assert lines[1].startswith("hint: Log in to claude.ai in Firefox")
    every = agentgauge(tmp_path, "auth", "import", "--browser", "firefox")
    assert every.returncode == 2
    lines = every.stderr.splitlines()
    with_login = [p.id for p in registry.all_providers() if any(a.browser for a in p.auth)]
    assert [line.split(":")[0] for line in lines[:-2]] == with_login, lines  # one line per provider
    assert lines[-2].startswith("error: nothing imported from Firefox: no web login found in Firefox profile")
    assert lines[-1] == "hint: Log in to the sites in Firefox, then run this again."


# -- cost -------------------------------------------------------------------------------------
def test_cost_without_logs_says_where_it_looked(tmp_path: Path) -> None:
    for args in (["cost", "daily"], ["cost", "daily", "--json"], ["cost", "session"], ["cost", "blocks"]):
        result = agentgauge(tmp_path, *args)
        assert result.returncode == 0, result.stderr
        note = result.stderr.strip()
        assert note.startswith("No usage found."), (args, note)
        if args[1] != "blocks":
            codex = f"{tmp_path}/.codex/sessions or {tmp_path}/.codex/archived_sessions"
            assert f"Codex: no logs in {codex} (set CODEX_HOME if they live elsewhere)" in note
        claude = f"{tmp_path}/.config/claude/projects or {tmp_path}/.claude/projects"
        assert f"Claude Code: no logs in {claude} (set CLAUDE_CONFIG_DIR if they live elsewhere)" in note
        if "--json" in args:
            assert json.loads(result.stdout)["daily"] == []  # stdout stays pure JSON
    moved = agentgauge(tmp_path, "cost", "daily", "--agent", "claude", CLAUDE_CONFIG_DIR=str(tmp_path / "elsewhere"))
    assert f"Claude Code: no logs in {tmp_path / 'elsewhere'} (from CLAUDE_CONFIG_DIR)" in moved.stderr
    assert "Codex" not in moved.stderr


def test_cost_with_logs_says_nothing_extra_and_session_shows_the_project(tmp_path: Path) -> None:
    generate(Options(out=tmp_path, size_mb=0.05, days=2, end=date(2025, 11, 30), seed=7))
    result = agentgauge(tmp_path, "cost", "session", "--json", "--since", "2025-11-01")
    assert result.returncode == 0, result.stderr
    assert "No usage found" not in result.stderr
    sessions = json.loads(result.stdout)["sessions"]
    projects = {s["projectPath"] for s in sessions if s["projectPath"]}
    assert sessions and projects
    table = agentgauge(tmp_path, "cost", "session", "--since", "2025-11-01", "--no-refresh")
    assert table.returncode == 0, table.stderr
    header = table.stdout.splitlines()[0].split()
    assert header[:2] == ["Project", "Session"], header
    for session in sessions:
        shown = session["projectPath"] or "(unknown)"
        row = next(line for line in table.stdout.splitlines() if session["sessionId"] in line)
        assert row.split()[0] == shown, (row, shown)
