"""``agentgauge statusline``: one short line of usage for Claude Code's status line, tmux, waybar,
starship and i3blocks, from the stored snapshot (no upstream request; read without pydantic). The
click command is ``cli.agents.statusline_command``; ``cli.quick`` runs ``show`` without click. This
module imports nothing heavy: a status line redraws often (bench/agents.py).

Claude Code passes its session as JSON on stdin; once it has talked to the API that JSON carries
``rate_limits`` (the five-hour and seven-day windows, first-party numbers). The line shows them at
once, and they are stored as Claude's zero-cost ``statusline`` source (``agentgauge.ingest``) so
every other surface has them too and the scheduler does not fetch what was just handed over.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..kinds import Status
from ..query.agents import window_for
from ..query.stored import StoredAccount, StoredWindow
from .out import release, write_out

if TYPE_CHECKING:
    from ..config import Config
    from ..models import Usage
    from ..query.stored import StoredSnapshot

FORMATS = ("claude", "plain", "tmux", "waybar", "starship", "i3blocks")
CLAUDE_WINDOWS = {  # Claude Code's rate_limits keys -> the Claude provider's window ids (same as its OAuth source)
    "five_hour": ("session", "Session (5h)", 18000),
    "seven_day": ("weekly", "Weekly", 604800),
}
REINGEST = timedelta(minutes=5)  # unchanged numbers are stored again only this often (keeps the push fresh)
SEPARATOR = " │ "
ANSI = {"ok": "\033[32m", "warn": "\033[33m", "crit": "\033[31m", "stale": "\033[2m"}
TMUX = {"ok": "#[fg=green]", "warn": "#[fg=yellow]", "crit": "#[fg=red]", "stale": "#[fg=colour244]"}
I3_COLOURS = {"ok": "#88C070", "warn": "#E5C07B", "crit": "#E06C75", "stale": "#7F848E", "offline": "#7F848E"}
LEVELS = ("ok", "warn", "crit")


# -- Claude Code's stdin -------------------------------------------------------------------------
def _resets(value: Any) -> datetime | None:
    """``resets_at`` is Unix seconds today; an ISO string is read too (the field has changed before)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def claude_limits(payload: Any) -> list[tuple[str, str, int, float, datetime | None]]:
    """(window id, label, seconds, used %, reset) for each window in Claude Code's ``rate_limits``;
    empty when there are none (API-key users, a session that has not talked to the API yet)."""
    limits = payload.get("rate_limits") if isinstance(payload, dict) else None
    if not isinstance(limits, dict):
        return []
    found = []
    for key, (wid, label, seconds) in CLAUDE_WINDOWS.items():
        entry = limits.get(key)
        if not isinstance(entry, dict):
            continue
        pct = entry.get("used_percentage")
        if isinstance(pct, int | float) and not isinstance(pct, bool) and 0 <= pct <= 1000:
            found.append((wid, label, seconds, float(pct), _resets(entry.get("resets_at"))))
    return found


def read_stdin() -> Any:
    """Claude Code's JSON, or None (a terminal, nothing piped, or not JSON)."""
    if sys.stdin is None or sys.stdin.isatty():
        return None
    raw = sys.stdin.buffer.read()
    try:
        return json.loads(raw) if raw.strip() else None
    except ValueError:  # not JSON, or not UTF-8
        return None


def with_limits(
    accounts: Sequence[StoredAccount], limits: Sequence[tuple[str, str, int, float, datetime | None]], now: datetime
) -> list[StoredAccount]:
    """The stored accounts with Claude's default account showing the numbers Claude Code just passed."""
    fresh = {
        wid: StoredWindow(wid, label, pct, resets, seconds, False, False, None)
        for wid, label, seconds, pct, resets in limits
    }
    rows = list(accounts)
    index = next((i for i, a in enumerate(rows) if a.key == ("claude", "default")), None)
    if index is None:
        rows.insert(
            0,
            StoredAccount("claude", "default", "Claude", Status.OK, None, "statusline", None, (), now, now, None),
        )
        index = 0
    current = rows[index]
    windows = tuple(fresh.pop(w.id, w) for w in current.windows) + tuple(fresh.values())
    rows[index] = current._replace(windows=windows, status=Status.OK, error=None, last_success_at=now)
    return rows


def _compact(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


# -- rendering -----------------------------------------------------------------------------------
def short_window(w: StoredWindow) -> str:
    seconds = w.window_seconds or 0
    if seconds and seconds % 86400 == 0:
        return f"{seconds // 86400}d"
    if 27 * 86400 <= seconds <= 31 * 86400:
        return "mo"  # a calendar month
    if seconds and seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    return w.id[:8]


def countdown(resets_at: datetime | None, now: datetime) -> str:
    if resets_at is None:
        return ""
    minutes = max(0, int((resets_at - now).total_seconds() // 60))
    if minutes >= 1440:
        return f"{minutes // 1440}d{minutes % 1440 // 60}h"
    if minutes >= 60:
        return f"{minutes // 60}h{minutes % 60:02d}m"
    return f"{minutes}m"


def level(account: StoredAccount, used: float, warn: float, crit: float) -> str:
    if account.status != Status.OK:
        return "stale"
    return "crit" if used >= crit else "warn" if used >= warn else "ok"


class Entry:
    """One account's part of the line: its tightest window."""

    def __init__(self, account: StoredAccount, window: StoredWindow, now: datetime, warn: float, crit: float) -> None:
        self.account, self.window = account, window
        self.level = level(account, window.used_pct, warn, crit)
        reset = countdown(window.resets_at, now)
        stale = "~" if account.status != Status.OK else ""
        name = account.name if account.account == "default" else f"{account.name}/{account.account}"
        self.text = f"{name} {stale}{window.used_pct:.0f}% {short_window(window)}" + (f" ↻{reset}" if reset else "")


def entries(accounts: Sequence[StoredAccount], now: datetime, warn: float, crit: float) -> list[Entry]:
    rows = []
    for account in accounts:
        if account.status not in (Status.OK, Status.STALE):
            continue
        window = window_for(account)
        if isinstance(window, StoredWindow):
            rows.append(Entry(account, window, now, warn, crit))
    return rows


def tooltip(accounts: Sequence[StoredAccount], now: datetime) -> str:
    lines = []
    for account in accounts:
        if account.status not in (Status.OK, Status.STALE):
            continue
        when = account.last_success_at.astimezone().strftime("%H:%M") if account.last_success_at else "?"
        lines.append(f"{account.name} ({account.account}): {account.status.value}, data from {when}")
        for w in account.windows:
            if w.unlimited:
                continue
            reset = countdown(w.resets_at, now)
            lines.append(f"  {w.label}: {w.used_pct:.0f} %" + (f", resets in {reset}" if reset else ""))
    return "\n".join(lines)


def render(fmt: str, accounts: Sequence[StoredAccount], now: datetime, warn: float, crit: float) -> str:
    """The whole output for one format (one line; waybar's JSON object; i3blocks' three lines)."""
    parts = entries(accounts, now, warn, crit)
    worst = max((e for e in parts), key=lambda e: e.window.used_pct, default=None)
    if fmt == "waybar":
        if not parts:
            return _compact({"text": "no data", "tooltip": "agentgauge: no usage stored yet", "class": "offline"})
        levels = [e.level for e in parts if e.level in LEVELS]
        klass = max(levels, key=LEVELS.index) if levels else "stale"
        text = SEPARATOR.join(e.text for e in parts)
        return _compact(
            {
                "text": text,
                "tooltip": tooltip(accounts, now),
                "class": klass,
                "percentage": round(worst.window.used_pct) if worst else 0,
            }
        )
    if not parts:
        return "agentgauge: no data" if fmt != "i3blocks" else "no data\nno data\n" + I3_COLOURS["offline"]
    if fmt == "claude":
        return SEPARATOR.join(f"{ANSI[e.level]}{e.text}\033[0m" for e in parts)
    if fmt == "tmux":
        return SEPARATOR.join(f"{TMUX[e.level]}{e.text}#[default]" for e in parts)
    text = SEPARATOR.join(e.text for e in parts)
    if fmt == "i3blocks":
        short = f"{worst.window.used_pct:.0f}%" if worst else ""
        return f"{text}\n{short}\n{I3_COLOURS[worst.level if worst else 'offline']}"
    return text  # plain, starship


# -- storing what Claude Code passed ---------------------------------------------------------------
def needs_ingest(
    stored: StoredAccount | None, limits: Sequence[tuple[str, str, int, float, datetime | None]], now: datetime
) -> bool:
    """Store the pushed numbers when they differ from what is stored or the stored push is getting old."""
    if stored is None or stored.last_success_at is None or now - stored.last_success_at >= REINGEST:
        return True
    current = {w.id: (w.used_pct, w.resets_at) for w in stored.windows}
    return any(
        current.get(wid) != (pct, resets.replace(microsecond=0) if resets else None)
        for wid, _, _, pct, resets in limits
    )


def limits_usage(limits: Sequence[tuple[str, str, int, float, datetime | None]]) -> Usage:
    from ..models import Usage, Window

    return Usage(
        windows=tuple(
            Window(id=wid, label=label, used_pct=pct, resets_at=resets, window_seconds=seconds)
            for wid, label, seconds, pct, resets in limits
        )
    )


def store_limits(
    config: Config, account: str, limits: Sequence[tuple[str, str, int, float, datetime | None]], now: datetime
) -> None:
    """Push Claude Code's numbers into the store; quietly (a status line must never print errors)."""
    import logging

    from ..config import data_dir
    from ..errors import AgentGaugeError
    from ..ingest import ingest
    from ..store import open_store

    try:
        store = open_store(config.database_url, data_dir=data_dir())
        try:
            ingest(store, config, "claude", account, limits_usage(limits), "statusline", now)
        finally:
            store.close()
    except AgentGaugeError as exc:
        logging.getLogger("agentgauge.statusline").info("not stored: %s", exc.message)


def show(
    fmt: str,
    providers: Sequence[str],
    account: str,
    no_store: bool,
    *,
    stored: StoredSnapshot | None,
    warn: float,
    crit: float,
    full_config: Callable[[], Config],
    now: datetime,
) -> None:
    """Print the line for ``fmt`` from ``stored`` (None: no store to read) and, with Claude Code's
    ``rate_limits`` on stdin, store them once the line is out. ``full_config`` loads the whole
    config (secrets included) only when something is stored."""
    limits = claude_limits(read_stdin()) if fmt == "claude" else []
    rows = list(stored.providers) if stored is not None else []
    shows_claude = not providers or "claude" in providers
    shown = with_limits(rows, limits, now) if limits and account == "default" and shows_claude else rows
    write_out(render(fmt, shown, now, warn, crit) + "\n")
    if limits and not no_store:
        previous = next((a for a in rows if a.key == ("claude", account)), None)
        if needs_ingest(previous, limits, now):
            release()  # the line is out: Claude Code need not wait for the store
            store_limits(full_config(), account, limits, now)
