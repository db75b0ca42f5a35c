"""Commands for agents and scripts: ``guard`` (exit codes a script branches on), ``pick`` (the account
with the most headroom), ``statusline`` (``cli.statusline``) and ``mcp`` (the MCP server over stdio).

``guard`` and ``pick`` read the stored snapshot without pydantic or the provider registry
(``query.stored``), so a hook can call them before every task: no upstream request unless
``--refresh``, and the whole run well under 100 ms (bench/agents.py measures it). With ``--server
URL`` they read another machine's ``serve`` instead (``cli.remote``; docs/users.md).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import click
import orjson

from ..errors import StoreUnavailableError
from ..query.agents import GUARD_UNAVAILABLE, GuardResult, SnapshotLike, guard, pick_report
from .out import write_out
from .remote import server_option
from .statusline import FORMATS, show

if TYPE_CHECKING:
    from ..config import Config
    from ..query.stored import StoredSnapshot
    from .commands import State

WINDOW_HELP = "tightest (default: the most-used window), session, weekly, or any window id of the provider."


def _emit(data: Any) -> None:
    sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.flush()


def _check_provider(provider_id: str) -> None:
    """An unknown id is a usage error, not "unavailable" (which --fail-open would turn into a pass).
    Only reached when nothing is stored for it, so the registry's import cost stays off the fast path."""
    from ..providers import registry

    registry.get(provider_id)  # ConfigError names the close matches


def stored_snapshot(config: Config, now: datetime, providers: Sequence[str] = ()) -> StoredSnapshot:
    """The accounts as stored (no upstream request), read the lean way."""
    from ..config import data_dir
    from ..query.stored import read
    from ..store import open_store

    store = open_store(config.database_url, data_dir=data_dir())
    try:
        return read(store, now, providers)
    finally:
        store.close()


def refreshed_snapshot(state: State, providers: Sequence[str]) -> SnapshotLike:
    """Fetch now (each account behind its gate, so never faster than the provider allows)."""
    import asyncio

    from ..config import data_dir
    from ..engine import Engine
    from ..managed import managed_config
    from ..query import Query
    from ..store import open_store

    config = state.config()
    store = open_store(config.database_url, data_dir=data_dir())
    config = managed_config(config, store)  # accounts added or adjusted from the dashboard

    async def run() -> SnapshotLike:
        async with Engine(config, store) as engine:
            return Query(config, store, engine.clock).settle(await engine.refresh(list(providers) or None))

    try:
        return asyncio.run(run())
    finally:
        store.close()


def remote_snapshot(server: str, now: datetime, providers: Sequence[str], *, refresh: bool = False) -> SnapshotLike:
    """The accounts as the server at ``server`` shows them (after a gated refresh there, with ``refresh``)."""
    from ..query.stored import StoredSnapshot, parse_account
    from .remote import Remote

    with Remote(server, os.environ) as remote:
        if refresh:
            params = {"wait": "60", **({"provider": providers[0]} if len(providers) == 1 else {})}
            body = remote.call("POST", "/api/refresh", params, timeout=90)
        else:
            body = remote.call("GET", "/api/usage")
    rows = [p for p in body.get("providers") or () if not providers or p.get("provider") in providers]
    return StoredSnapshot(now, tuple(parse_account(orjson.dumps(row), now) for row in rows))


@click.command(name="guard")
@click.option("--provider", required=True, metavar="ID", help="The provider to check (e.g. claude).")
@click.option("--account", default="default", show_default=True, help="The account of that provider.")
@click.option(
    "--min-remaining",
    type=click.FloatRange(0, 100),
    default=10.0,
    show_default=True,
    metavar="PCT",
    help="Safe when at least this percent is left (inclusive).",
)
@click.option("--window", default="tightest", show_default=True, help=WINDOW_HELP)
@click.option("--fail-open", is_flag=True, help="Exit 0 instead of 69 when the data is unavailable.")
@click.option("--json", "as_json", is_flag=True, help="Print the decision as JSON.")
@click.option("--refresh", is_flag=True, help="Fetch now (gated by the provider's minimum interval) before deciding.")
@click.option(
    "--max-age",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    metavar="MINUTES",
    help="Data older than this counts as unavailable.",
)
@server_option
@click.pass_obj
def guard_command(
    state: State,
    provider: str,
    account: str,
    min_remaining: float,
    window: str,
    fail_open: bool,
    as_json: bool,
    refresh: bool,
    max_age: float,
    server: str | None,
) -> None:
    """Exit 0 when PROVIDER has at least --min-remaining percent left, 1 when below, 69 when unknown.

    CodexBar's exit codes: 0 safe, 1 below the threshold, 69 unavailable (no account, no data, data
    older than --max-age, no such window); --fail-open turns only 69 into 0. Reads the stored
    snapshot: no upstream request unless --refresh."""
    now = datetime.now(UTC)
    try:
        if server:
            snapshot = remote_snapshot(server, now, [provider], refresh=refresh)
            now = datetime.now(UTC)
        elif refresh:
            snapshot = refreshed_snapshot(state, [provider])
            now = datetime.now(UTC)
        else:
            snapshot = stored_snapshot(state.config(providers=False), now, [provider])
    except StoreUnavailableError as exc:
        result = GuardResult(0 if fail_open else GUARD_UNAVAILABLE, exc.message, None, None, unavailable=True)
    else:
        if not any(p.provider == provider for p in snapshot.providers):
            _check_provider(provider)
        result = guard(
            snapshot,
            provider,
            min_remaining=min_remaining,
            account=account,
            window=window,
            now=now,
            max_age=timedelta(minutes=max_age),
            fail_open=fail_open,
        )
    if as_json:  # the same text as cli.quick's (tests/test_quick.py)
        write_out(
            orjson.dumps(result.report(provider, account, min_remaining), option=orjson.OPT_INDENT_2).decode() + "\n"
        )
    else:
        write_out(result.message + "\n")
    sys.exit(result.code)  # the decision reaches the caller even when stdout is gone


def _ago(value: str | None, now: datetime) -> str:
    if not value:
        return ""
    seconds = (datetime.fromisoformat(value) - now).total_seconds()
    minutes = int(abs(seconds) // 60)
    span = f"{minutes // 1440}d{minutes % 1440 // 60}h" if minutes >= 1440 else f"{minutes // 60}h{minutes % 60:02d}m"
    return f"in {span}" if seconds >= 0 else f"{span} ago"


@click.command(name="pick")
@click.option("--provider", "providers", multiple=True, metavar="ID", help="Only these providers (repeatable).")
@click.option(
    "--hours",
    type=click.FloatRange(min=0, min_open=True),
    metavar="N",
    help="Rank accounts whose forecast runs out within N hours last.",
)
@click.option("--include-stale", is_flag=True, help="Rank stale accounts too (after the fresh ones).")
@click.option("--json", "as_json", is_flag=True, help="Print the ranking as JSON (the shape of GET /api/pick).")
@server_option
@click.pass_obj
def pick_command(
    state: State,
    providers: tuple[str, ...],
    hours: float | None,
    include_stale: bool,
    as_json: bool,
    server: str | None,
) -> None:
    """Rank accounts by headroom on their tightest window; the first line is the pick.

    Exit 0 when an account was picked, 69 when none is usable. Reads the stored snapshot (no
    upstream request)."""
    now = datetime.now(UTC)
    try:
        if server:
            snapshot = remote_snapshot(server, now, providers)
        else:
            snapshot = stored_snapshot(state.config(providers=False), now, providers)
    except StoreUnavailableError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(GUARD_UNAVAILABLE)
    for provider_id in set(providers) - {p.provider for p in snapshot.providers}:
        _check_provider(provider_id)
    report = pick_report(snapshot, now, providers=providers, include_stale=include_stale, hours=hours)
    if as_json:
        _emit(report)
    else:
        for row in report["ranked"]:
            who = row["provider"] if row["account"] == "default" else f"{row['provider']}/{row['account']}"
            notes = [row["status"]] if row["status"] != "ok" else []
            if row["lasts"] is False:
                notes.append(f"will not last {hours:g} h")
            extra = f"  ({', '.join(notes)})" if notes else ""
            click.echo(
                f"{who:<22} {row['headroom_pct']:>6.1f} % left  {row['window_label'] or '':<16} "
                f"resets {_ago(row['resets_at'], now) or 'n/a'}{extra}"
            )
        for row in report["excluded"]:
            click.echo(f"skipped {row['provider']}/{row['account']}: {row['reason']}", err=True)
    sys.exit(0 if report["choice"] else GUARD_UNAVAILABLE)


@click.command(name="mcp")
@click.pass_obj
def mcp_command(state: State) -> None:
    """Serve agentgauge's MCP tools over stdio (for Claude Code, Codex, Cursor: docs/agents.md).

    Reads the store that `agentgauge serve` keeps current; the refresh tool exists only with
    mcp_refresh = true in the config file. Logs go to stderr (stdout carries the protocol)."""
    import anyio

    from ..config import data_dir
    from ..mcp.backends import StoreBackend
    from ..mcp.server import build
    from ..store import open_store

    # Saved secrets are read only when the refresh tool can use them: reading them may reach the OS
    # keyring, which must not prompt for a server that only reads the store.
    config = state.config(secrets=False)
    if config.mcp_refresh:
        config = state.config()
    store = open_store(config.database_url, data_dir=data_dir())
    backend = StoreBackend(config, store)

    async def run() -> None:
        try:
            await build(backend).run_stdio_async()
        finally:
            await backend.aclose()

    try:
        anyio.run(run)
    finally:
        store.close()


@click.command(name="statusline")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="claude", show_default=True, help="Output for.")
@click.option("--provider", "providers", multiple=True, metavar="ID", help="Only these providers (repeatable).")
@click.option(
    "--account", default="default", show_default=True, help="The Claude account Claude Code's numbers are for."
)
@click.option("--no-store", is_flag=True, help="Show Claude Code's rate limits without storing them.")
@click.pass_obj
def statusline_command(state: State, fmt: str, providers: tuple[str, ...], account: str, no_store: bool) -> None:
    """One line of usage: each account's tightest window, percent used and time to reset.

    --format claude (the default) reads Claude Code's status-line JSON on stdin and stores its
    rate_limits as Claude's zero-cost source; the other formats read nothing from stdin.
    Setup lines for each: docs/statusline.md."""
    now = datetime.now(UTC)
    config = state.config(providers=False)
    try:
        stored = stored_snapshot(config, now, providers)
    except StoreUnavailableError:
        stored = None
    show(
        fmt,
        providers,
        account,
        no_store,
        stored=stored,
        warn=config.warn_pct,
        crit=config.crit_pct,
        full_config=state.config,
        now=now,
    )
