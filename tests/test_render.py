"""The terminal table (cli/render.py) for states the simulator cannot produce: stale, unlimited,
reset pending, balances, breakdowns, warnings and each error kind, rendered by rich into text."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console

from agentgauge.cli.formats import fmt_breakdown_total, fmt_clock, fmt_forecast, retry_at
from agentgauge.cli.render import render
from agentgauge.models import ErrorInfo, ErrorKind, Forecast, ProviderSnapshot, Snapshot, Status, Window, evolve

from .harness_web import sample_states

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 26, 12, 0, 7, tzinfo=UTC)
RED = "\x1b[31m"


def table(providers: list[ProviderSnapshot], *, width: int = 200, styles: bool = False, watch: bool = False) -> str:
    console = Console(record=True, width=width, force_terminal=True, color_system="standard")
    console.print(
        render(Snapshot(generated_at=NOW, providers=tuple(providers)), now=NOW, width=width, tz=TZ, watch=watch)
    )
    return console.export_text(styles=styles)


def states() -> dict[str, ProviderSnapshot]:
    return {f"{p.provider}/{p.account}": p for p in sample_states(NOW)}


def line_with(text: str, needle: str) -> str:
    return next(line for line in text.splitlines() if needle in line)


def block_of(text: str, start: str, end: str | None) -> str:
    """The rows of one account: from its name to the next account's name."""
    after = text[text.index(start) :]
    return after[: after.index(end)] if end else after


def test_stale_account_is_muted_and_says_since_when() -> None:
    claude = states()["claude/default"]
    plain = table([claude])
    assert f"stale since {fmt_clock(claude.failing_since, NOW, TZ)}" in plain  # type: ignore[arg-type]
    coloured = table([claude], styles=True)
    # 88 % would be red on a fresh account; on a stale one the bar and the number are muted.
    assert RED not in line_with(coloured, "Session (5h)")
    assert "88%" in line_with(plain, "Session (5h)")
    fresh = evolve(claude, status=Status.OK, error=None, failing_since=None)
    assert RED in line_with(table([fresh], styles=True), "Session (5h)")


def test_stale_since_falls_back_to_the_last_success() -> None:
    claude = evolve(states()["claude/default"], failing_since=None)
    assert f"stale since {fmt_clock(claude.last_success_at, NOW, TZ)}" in table([claude])  # type: ignore[arg-type]


def test_errors_have_a_plain_headline_above_the_server_message_and_hint() -> None:
    s = states()
    text = table([s["claude/default"], s["codex/work"], s["zai/default"]])
    assert "Can't reach Claude" in text
    assert "usage request failed: ConnectError" in text
    assert "Check the network connection" in text
    assert "agentgauge bug: please report" in text
    zai = s["zai/default"]
    again = retry_at(zai.error.message, zai.fetched_at)  # type: ignore[union-attr]
    assert again is not None
    assert f"Rate limited, retrying at {fmt_clock(again, NOW, TZ)}" in text
    signed_out = evolve(
        s["kimi/default"],
        status=Status.STALE,
        failing_since=NOW,
        error=ErrorInfo(kind=ErrorKind.AUTH, message="Kimi Code: HTTP 401", hint="Log in again."),
    )
    assert "Signed out of Kimi Code" in table([signed_out])


def test_sources_in_words() -> None:
    text = table(list(states().values()))
    assert "via OAuth login" in text  # no source_label: the words map of "oauth"
    assert "via Codex CLI login" in text
    assert "via browser cookie (Firefox)" in text
    assert "via oauth" not in text


def test_unlimited_reset_pending_and_amounts_with_one_unit() -> None:
    s = states()
    text = table([s["codex/default"], s["kimi/default"]])
    codex = block_of(text, "Codex", "Kimi Code")
    weekly = line_with(codex, "Weekly")
    assert "unlimited" in weekly and "0%" not in weekly
    kimi = block_of(text, "Kimi Code", None)
    session = line_with(kimi, "Session (5h)")
    assert "102 / 200 requests" in session and "51%" in session
    pending = line_with(kimi, "Weekly")
    assert "0%" in pending and "reset, confirming…" in pending
    assert "63%" not in pending and "1,290" not in pending
    assert "requests of" not in text


def test_balances_breakdowns_and_warnings() -> None:
    s = states()
    text = table([s["ollama/default"], s["codex/default"], s["claude/default"]])
    assert "$12.50 / $50.00 left" in line_with(text, "Prepaid credits")
    assert "$3.20 / $10.00 used (monthly)" in line_with(text, "Key spend limit")
    assert "1,250 / 5,000 credits left" in line_with(text, "Credits")
    tokens = s["codex/default"].breakdowns[0]
    assert fmt_breakdown_total([i.value for i in tokens.items], tokens.unit) in line_with(text, "Tokens per day")
    assert "partial data: weekly_opus: 'utilization' is missing" in text
    # Percents follow the shared rules: one decimal under 10 % where it helps, never "5.25%".
    assert "5.3%" in line_with(block_of(text, "Ollama", "Codex"), "Session")


def test_nothing_configured_prints_no_empty_table() -> None:
    idle = [
        ProviderSnapshot(provider="kimi", name="Kimi Code", status=Status.UNCONFIGURED),
        ProviderSnapshot(provider="zai", name="z.ai", status=Status.UNCONFIGURED),
    ]
    text = table(idle)
    assert "No provider is configured yet" in text
    assert "Not configured: Kimi Code, z.ai" in text
    for header in ("Provider", "Window", "Usage", "Resets in"):
        assert header not in text, text
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 2, lines


def test_waiting_account_is_not_called_stale() -> None:
    waiting = ProviderSnapshot(provider="zai", name="z.ai", status=Status.STALE, source="api_key")
    text = table([waiting])
    assert "waiting for first refresh" in text and "stale" not in text


def test_watch_footer() -> None:
    text = table([states()["codex/default"]], watch=True)
    # The first line: a table taller than the terminal is cut at the bottom, this line stays.
    assert text.splitlines()[0] == f"updated {NOW.astimezone(TZ):%H:%M:%S} · Ctrl-C to quit"
    assert "Ctrl-C" not in table([states()["codex/default"]])


def test_window_without_reset_and_narrow_terminal() -> None:
    window = Window(id="monthly_spend", label="Monthly spend", used_pct=9.15, used=9.15, limit=100, unit="usd")
    p = ProviderSnapshot(
        provider="claude",
        name="Claude",
        status=Status.OK,
        windows=(window,),
        fetched_at=NOW - timedelta(seconds=5),
        last_success_at=NOW - timedelta(seconds=5),
    )
    text = table([p], width=90)
    row = line_with(text, "Monthly spend")
    assert "9.2%" in row and "$9.15 / $100.00" in row and "—" in row
    assert "Resets at" not in text  # narrow terminals drop the local-time column


def test_status_watch_prints_the_footer(tmp_path: Path) -> None:
    """The real ``status --watch`` loop, on a pseudo-terminal far shorter than the demo's table, keeps
    the line saying when it last updated and how to leave on screen."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 160, 0, 0))  # 24 rows, 160 columns
    env = {**os.environ, "AGENTGAUGE_DATABASE_URL": str(tmp_path / "w.db"), "TERM": "xterm"}
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentgauge", "status", "--demo", "--watch"],
        stdin=terminal,
        stdout=terminal,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(terminal)
    seen = b""
    deadline = time.monotonic() + 240  # a first refresh of every demo account on a busy machine
    try:
        while b"Ctrl-C to quit" not in seen:
            left = deadline - time.monotonic()
            assert left > 0, f"no footer in time: {seen[-500:]!r}"
            ready, _, _ = select.select([controller], [], [], left)
            assert ready, f"no output in time: {seen[-500:]!r}"
            chunk = os.read(controller, 65536)
            assert chunk, seen[-500:]
            seen += chunk
        text = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", seen).decode(errors="replace")
        assert re.search(r"updated \d\d:\d\d:\d\d · Ctrl-C to quit", text), text[-500:]
    finally:
        proc.send_signal(signal.SIGINT)
        # Keep reading: a full pseudo-terminal would block the last redraw and with it the exit.
        stop_by = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < stop_by:
            if select.select([controller], [], [], 0.2)[0]:
                try:
                    os.read(controller, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
        assert proc.wait(timeout=30) == 0  # Ctrl-C is a clean stop
        os.close(controller)


def forecast(verdict: str, runs_out_in: timedelta | None = None) -> Forecast:
    return Forecast(
        verdict=verdict,
        pace_pct=40.0,
        low_pct=None if verdict == "learning" else 55.0,
        expected_pct=None if verdict == "learning" else 80.0,
        high_pct=None if verdict == "learning" else 120.0,
        runs_out_at=NOW + runs_out_in if runs_out_in else None,
        made_at=NOW - timedelta(minutes=2),
    )


def with_forecasts() -> list[ProviderSnapshot]:
    """Sample states whose windows carry each verdict: Kimi's session runs out, Ollama's are on pace and
    surplus, Claude (stale) may run out; Kimi's reset-pending weekly keeps none."""
    s = states()
    kimi, ollama, claude = s["kimi/default"], s["ollama/default"], s["claude/default"]
    kimi = evolve(kimi, windows=(evolve(kimi.windows[0], forecast=forecast("will_run_out", timedelta(minutes=95))),
                                 kimi.windows[1]))  # fmt: skip
    ollama = evolve(ollama, windows=(evolve(ollama.windows[0], forecast=forecast("ok")),
                                     evolve(ollama.windows[1], forecast=forecast("surplus"))))  # fmt: skip
    claude = evolve(claude, windows=(evolve(claude.windows[0], forecast=forecast("watch")),
                                     evolve(claude.windows[1], forecast=forecast("learning"))))  # fmt: skip
    return [kimi, ollama, claude]


def test_forecast_column_says_the_verdict_and_the_run_out_time() -> None:
    kimi, ollama, claude = with_forecasts()
    text = table([kimi, ollama, claude])
    assert "Forecast" in line_with(text, "Provider")
    runs_out = NOW + timedelta(minutes=95)
    assert f"runs out ~{fmt_clock(runs_out, NOW, TZ)}" == fmt_forecast("will_run_out", runs_out, NOW, TZ)
    assert f"runs out ~{fmt_clock(runs_out, NOW, TZ)}" in line_with(block_of(text, "Kimi Code", "Ollama"), "Session")
    assert "on pace" in line_with(block_of(text, "Ollama", "Claude"), "Session")
    assert "surplus" in line_with(block_of(text, "Ollama", "Claude"), "Weekly")
    assert "may run out" in line_with(block_of(text, "Claude", None), "Session (5h)")
    assert "learning" in line_with(block_of(text, "Claude", None), "Weekly")
    # A passed reset has no forecast to show: the next cycle's comes with the next fetch.
    pending = line_with(block_of(text, "Kimi Code", "Ollama"), "Weekly")
    assert "reset, confirming…" in pending and "runs out" not in pending
    # Colour says it too, except on a stale account, whose old forecast is muted like its bars.
    coloured = table([kimi, claude], styles=True)
    assert RED in line_with(coloured, "runs out ~")
    assert "\x1b[2mmay run out" in line_with(coloured, "may run out")  # stale: dim, not yellow
    fresh = evolve(claude, status=Status.OK, error=None, failing_since=None)
    assert "\x1b[33mmay run out" in line_with(table([fresh], styles=True), "may run out")


def test_forecast_column_only_when_there_are_forecasts_and_narrow_terminals_keep_it() -> None:
    plain = table(list(states().values()))
    assert "Forecast" not in plain and "Resets at" in plain
    narrow = table(with_forecasts(), width=120)
    assert "Forecast" in narrow and "on pace" in narrow
    assert "Resets at" not in narrow  # below 140 columns the run-out time takes the local reset time's place
    assert "Resets at" in table(with_forecasts(), width=160)
