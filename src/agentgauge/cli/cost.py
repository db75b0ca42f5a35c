"""``agentgauge cost daily|weekly|monthly|session|blocks``: tokens and estimated cost from the
agents' local logs. Each run first brings the incremental index up to date (only new bytes are
read), then reports from the store. Heavy modules are imported inside the commands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, tzinfo
from typing import Any

import click

_AGENTS = ("claude", "codex")


def _parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    raw = value.replace("-", "")
    try:
        if len(raw) != 8:
            raise ValueError
        return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD or YYYYMMDD)") from None


def _parse_tz(_ctx: click.Context, _param: click.Parameter, value: str | None) -> tzinfo:
    if not value:
        local = datetime.now().astimezone().tzinfo
        return local if local is not None else UTC
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # only for a named zone: ~2 ms to import

    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"unknown time zone {value!r} (use an IANA name such as Europe/Paris)") from None


def _options(fn: Callable[..., Any]) -> Callable[..., Any]:
    opts = [
        click.option("--since", callback=_parse_date, help="First day (YYYY-MM-DD or YYYYMMDD), inclusive."),
        click.option("--until", callback=_parse_date, help="Last day (YYYY-MM-DD or YYYYMMDD), inclusive."),
        click.option("--timezone", "tz", callback=_parse_tz, help="IANA zone for dates and buckets (default: local)."),
        click.option("--agent", type=click.Choice(_AGENTS), help="Only this agent (default: all)."),
        click.option("--project", help="Only projects whose path contains this text."),
        click.option("--json", "as_json", is_flag=True, help="Print JSON (ccusage's field names)."),
        click.option("--no-refresh", is_flag=True, help="Report from the index without reading new log lines."),
        click.option("--reprice", is_flag=True, help="Re-resolve model prices (after upgrading genai-prices)."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return click.pass_obj(fn)


@click.group()
def cost() -> None:
    """Tokens and estimated cost from Claude Code and Codex logs on this machine."""


def _run(state: Any, kind: str, *, since: date | None, until: date | None, tz: tzinfo, agent: str | None,
         project: str | None, as_json: bool, no_refresh: bool, reprice: bool, **extra: Any) -> None:
    from ..logs.report import Filters
    from . import _print_json, _session

    agents = (agent,) if agent else _AGENTS
    if kind == "blocks":
        if agent == "codex":
            raise click.UsageError("blocks are Claude's 5-hour billing windows; use --agent claude")
        agents = ("claude",)
    f = Filters(agents=agents, since=since, until=until, tz=tz, project=project)
    with _session(state.config(providers=False)) as store:
        if not no_refresh:
            from ..logs.index import refresh_index

            refresh_index(store, agents=agents)
        if kind == "blocks":
            from ..logs.blocks import blocks_report

            data = blocks_report(store, f, now=datetime.now().astimezone(), reprice=reprice)
        elif kind == "session":
            from ..logs.report import session_report

            data = session_report(store, f, reprice=reprice)
        else:
            from ..logs.report import period_report

            data = period_report(store, f, kind, reprice=reprice, **extra)
    if as_json:
        _print_json(data)
        return
    _render(kind, data)
    sys.stdout.flush()


def _money(value: float | None, partial: bool = False) -> str:
    if value is None:
        return "?"
    return f"${value:,.2f}" + ("+?" if partial else "")


def _render(kind: str, data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    table = Table(box=None, header_style="bold", show_footer=False)
    label = {"daily": "Date", "weekly": "Week", "monthly": "Month", "session": "Session", "blocks": "Block start"}[kind]
    for col in (label, "Models", "Input", "Output", "Cache write", "Cache read", "Total tokens", "Cost (USD)"):
        table.add_column(col, justify="left" if col in (label, "Models") else "right")
    if kind == "blocks":
        for b in data["blocks"]:
            tc = b["tokenCounts"]
            name = b["startTime"][:16].replace("T", " ") + (" (active)" if b["isActive"] else "")
            if b["isGap"]:
                table.add_row(f"[dim]{name} gap[/]", "", "", "", "", "", "", "")
                continue
            table.add_row(name, ", ".join(b["models"]), f"{tc['inputTokens']:,}", f"{tc['outputTokens']:,}",
                          f"{tc['cacheCreationInputTokens']:,}", f"{tc['cacheReadInputTokens']:,}",
                          f"{b['totalTokens']:,}", _money(b["costUSD"], b["costIsPartial"]))
    else:
        key = {"daily": "date", "weekly": "week", "monthly": "month", "session": "sessionId"}[kind]
        rows = data[{"daily": "daily", "weekly": "weekly", "monthly": "monthly", "session": "sessions"}[kind]]
        for row in rows:
            table.add_row(str(row[key]), "", f"{row['inputTokens']:,}", f"{row['outputTokens']:,}",
                          f"{row['cacheCreationTokens']:,}", f"{row['cacheReadTokens']:,}", f"{row['totalTokens']:,}",
                          _money(row["totalCost"], row["costIsPartial"]), style="bold")
            for m in row["modelBreakdowns"]:
                total = m["inputTokens"] + m["outputTokens"] + m["cacheCreationTokens"] + m["cacheReadTokens"]
                table.add_row("", m["modelName"], f"{m['inputTokens']:,}", f"{m['outputTokens']:,}",
                              f"{m['cacheCreationTokens']:,}", f"{m['cacheReadTokens']:,}", f"{total:,}",
                              _money(m["cost"]), style="dim")
        t = data["totals"]
        table.add_row("Total", "", f"{t['inputTokens']:,}", f"{t['outputTokens']:,}", f"{t['cacheCreationTokens']:,}",
                      f"{t['cacheReadTokens']:,}", f"{t['totalTokens']:,}", _money(t["totalCost"], t["costIsPartial"]),
                      style="bold cyan")
    console.print(table)
    console.print(f"[dim]{data['costNote']}[/]")
    if data.get("unknownModels"):
        console.print(f"[yellow]No price for {', '.join(data['unknownModels'])}: shown as ?, "
                      "totals marked +? are partial.[/]")


@cost.command()
@_options
def daily(state: Any, **kw: Any) -> None:
    """Tokens and cost per day and model."""
    _run(state, "daily", **kw)


@cost.command()
@click.option("--start-of-week", type=click.Choice(["sunday", "monday"]), default="sunday", show_default=True)
@_options
def weekly(state: Any, start_of_week: str, **kw: Any) -> None:
    """Tokens and cost per week (the key is the week's first day) and model."""
    _run(state, "weekly", start_of_week=6 if start_of_week == "sunday" else 0, **kw)


@cost.command()
@_options
def monthly(state: Any, **kw: Any) -> None:
    """Tokens and cost per month and model."""
    _run(state, "monthly", **kw)


@cost.command()
@_options
def session(state: Any, **kw: Any) -> None:
    """Tokens and cost per session (Claude: per session file; Codex: per rollout)."""
    _run(state, "session", **kw)


@cost.command()
@_options
def blocks(state: Any, **kw: Any) -> None:
    """Claude's 5-hour billing blocks with burn rate and projection for the active one."""
    _run(state, "blocks", **kw)
