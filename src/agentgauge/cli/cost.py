"""``agentgauge cost daily|weekly|monthly|session|blocks``: tokens and estimated cost from the
agents' local logs. Each run first brings the incremental index up to date (only new bytes are
read), then reports from the store. Heavy modules are imported inside the commands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any

import click

# Every reported agent (agentgauge.logs.report.all_agents(), kept here so that building the CLI does
# not import the readers; a test checks the two agree).
AGENTS = (
    "claude",
    "codex",
    "gemini",
    "opencode",
    "amp",
    "copilot",
    "droid",
    "kimi",
    "qwen",
    "codebuff",
    "goose",
    "kilo",
    "openclaw",
    "pi",
    "cline",
    "grok",
    "vertexai",
    "bedrock",
)


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
        click.option(
            "--agent",
            "agent",
            multiple=True,
            type=click.Choice(AGENTS),
            help="Only this agent; repeat for several (default: all). vertexai/bedrock: Claude Code through them.",
        ),
        click.option(
            "--by",
            type=click.Choice(["model", "agent", "project"]),
            default="model",
            show_default=True,
            help="Break each row down by model, agent or project.",
        ),
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
    """Tokens and estimated cost from the coding agents' logs on this machine (Claude Code, Codex,
    Gemini CLI, OpenCode, Amp, Copilot CLI, Droid, Kimi, Qwen Code, Codebuff, Goose, Kilo, OpenClaw,
    pi, Cline, Grok Build)."""


def _run(
    state: Any,
    kind: str,
    *,
    since: date | None,
    until: date | None,
    tz: tzinfo,
    agent: tuple[str, ...],
    by: str,
    project: str | None,
    as_json: bool,
    no_refresh: bool,
    reprice: bool,
    **extra: Any,
) -> None:
    from ..logs.report import Filters, readers_of
    from .commands import _print_json, _session

    agents = tuple(dict.fromkeys(agent)) or AGENTS
    if kind == "blocks":  # Claude's 5-hour windows: every Claude Code entry (--by agent splits out the clouds)
        if agent and set(agent) != {"claude"}:
            raise click.UsageError("blocks are Claude's 5-hour billing windows; use --agent claude")
        agents = ("claude", "vertexai", "bedrock")
    f = Filters(agents=agents, since=since, until=until, tz=tz, project=project, by=by)
    readers = readers_of(agents)
    with _session(state.config(providers=False)) as store:
        if not no_refresh:
            from ..logs.index import refresh_index

            refresh_index(store, agents=readers)
        if kind == "blocks":
            from ..logs.blocks import blocks_report
            from ..logs.breakdown import block_breakdowns

            data = blocks_report(store, f, now=datetime.now().astimezone(), reprice=reprice)
            data = block_breakdowns(store, f, data, reprice=reprice)
        elif kind == "session":
            from ..logs.report import session_report

            data = session_report(store, f, reprice=reprice)
        else:
            from ..logs.report import period_report

            data = period_report(store, f, kind, reprice=reprice, **extra)
    if as_json:
        _print_json(data)
    else:
        _render(kind, data, by)
    if _is_empty(kind, data):  # say where the logs were looked for (stderr: --json keeps stdout clean)
        click.echo("No usage found. " + "; ".join(_where_looked(readers)) + ".", err=True)
    sys.stdout.flush()


def _default_log_dirs(agent: str, env: dict[str, str], home: Path) -> tuple[str, tuple[str, ...], list[Path]]:
    """An agent's name, the variables that move its logs, and where they are looked for without them
    (as the readers in ``agentgauge.logs`` look)."""
    if agent == "claude":
        config = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
        return "Claude Code", ("CLAUDE_CONFIG_DIR",), [config / "claude" / "projects", home / ".claude" / "projects"]
    if agent == "codex":
        return "Codex", ("CODEX_HOME",), [home / ".codex" / "sessions", home / ".codex" / "archived_sessions"]
    from ..logs import reader_for

    reader = reader_for(agent)
    return reader.title or agent, reader.variables, reader.defaults(env, home)


def _where_looked(agents: tuple[str, ...]) -> list[str]:
    """For each agent: the log folders read, or where none was found and the variable that moves them."""
    import os

    from ..logs import reader_for

    env = dict(os.environ)
    home = Path(env.get("HOME") or Path.home())
    lines = []
    for agent in agents:
        name, variables, defaults = _default_log_dirs(agent, env, home)
        roots = reader_for(agent).roots(env, home)
        set_ = [v for v in variables if env.get(v, "").strip()]
        if roots:
            lines.append(f"{name}: read {', '.join(str(r) for r in roots)}")
        elif set_:
            lines.append(f"{name}: no logs in {env[set_[0]].strip()} (from {set_[0]})")
        else:
            places = " or ".join(str(d) for d in defaults) or "its default folder"
            moved = f" (set {' or '.join(variables)} if they live elsewhere)" if variables else ""
            lines.append(f"{name}: no logs in {places}{moved}")
    return lines


def _is_empty(kind: str, data: dict[str, Any]) -> bool:
    key = {"daily": "daily", "weekly": "weekly", "monthly": "monthly", "session": "sessions", "blocks": "blocks"}
    return not data.get(key[kind])


def _money(value: float | None, partial: bool = False) -> str:
    if value is None:
        return "unknown"
    return f"${value:,.2f}" + (" + unknown" if partial else "")


def _tokens(d: dict[str, Any]) -> tuple[str, ...]:
    total = d.get("totalTokens")
    if total is None:
        total = d["inputTokens"] + d["outputTokens"] + d["cacheCreationTokens"] + d["cacheReadTokens"]
    return (
        f"{d['inputTokens']:,}",
        f"{d['outputTokens']:,}",
        f"{d['cacheCreationTokens']:,}",
        f"{d['cacheReadTokens']:,}",
        f"{total:,}",
    )


def _render(kind: str, data: dict[str, Any], by: str = "model") -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    table = Table(box=None, header_style="bold", show_footer=False)
    label = {"daily": "Date", "weekly": "Week", "monthly": "Month", "session": "Session", "blocks": "Block start"}[kind]
    detail = "Models" if kind == "session" else {"model": "Models", "agent": "Agent", "project": "Project"}[by]
    columns: tuple[str, ...] = (
        label,
        detail,
        "Input",
        "Output",
        "Cache write",
        "Cache read",
        "Total tokens",
        "Cost (USD)",
    )
    if kind == "session":
        columns = ("Project", label, "Agent", *columns[1:])
    for col in columns:
        table.add_column(col, justify="left" if col in ("Agent", "Project", label, detail) else "right")
    lead: tuple[str, ...] = ("", "") if kind == "session" else ()  # a session row's project and agent cells
    sub = {"agent": "agentBreakdowns", "project": "projectBreakdowns"}.get(by)
    if kind == "blocks":
        rows = data["blocks"]
        for b in rows:
            name = b["startTime"][:16].replace("T", " ") + (" (active)" if b["isActive"] else "")
            if b["isGap"]:
                table.add_row(f"[dim]{name} gap[/]", "", "", "", "", "", "", "")
                continue
            tc = b["tokenCounts"]
            counts = {
                "inputTokens": tc["inputTokens"],
                "outputTokens": tc["outputTokens"],
                "cacheCreationTokens": tc["cacheCreationInputTokens"],
                "cacheReadTokens": tc["cacheReadInputTokens"],
                "totalTokens": b["totalTokens"],
            }
            table.add_row(name, ", ".join(b["models"]), *_tokens(counts), _money(b["costUSD"], b["costIsPartial"]))
            _sub_rows(table, b, sub, lead)
    else:
        key = {"daily": "date", "weekly": "week", "monthly": "month", "session": "sessionId"}[kind]
        rows = data[{"daily": "daily", "weekly": "weekly", "monthly": "monthly", "session": "sessions"}[kind]]
        for row in rows:
            first = (
                (row.get("projectPath") or "(unknown)", row[key], row["agent"]) if kind == "session" else (row[key],)
            )
            table.add_row(
                *(str(v) for v in first),
                "",
                *_tokens(row),
                _money(row["totalCost"], row["costIsPartial"]),
                style="bold",
            )
            _sub_rows(table, row, sub, lead)
        t = data["totals"]
        total = ("Total", "", "") if kind == "session" else ("Total",)
        table.add_row(*total, "", *_tokens(t), _money(t["totalCost"], t["costIsPartial"]), style="bold cyan")
    if not console.is_terminal:  # piped or redirected: whole session ids and projects, never cut
        console = Console(
            width=max(160, console.measure(table, options=console.options.update(max_width=100_000)).maximum)
        )
    console.print(table)
    console.print(f"[dim]{data['costNote']}[/]")
    if data.get("unknownModels"):
        console.print(
            f"[yellow]No price for {', '.join(data['unknownModels'])}: its cost is shown as unknown, "
            "and totals over it count only what has a price.[/]"
        )


def _sub_rows(table: Any, row: dict[str, Any], sub: str | None, lead: tuple[str, ...]) -> None:
    """A row's breakdown lines: by agent or project (then their models), else by model."""
    if sub and row.get(sub) is not None:
        name = "agent" if sub == "agentBreakdowns" else "project"
        for g in row[sub]:
            cost = _money(g["totalCost"], bool(g.get("costIsPartial")))
            table.add_row(*lead, "", g[name] or "(unknown)", *_tokens(g), cost, style="dim")
        return
    for m in row.get("modelBreakdowns") or ():
        table.add_row(*lead, "", m["modelName"], *_tokens(m), _money(m["cost"]), style="dim")


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
    """Tokens and cost per session (each agent's own sessions; --by agent|project groups them)."""
    _run(state, "session", **kw)


@cost.command()
@_options
def blocks(state: Any, **kw: Any) -> None:
    """Claude's 5-hour billing blocks with burn rate and projection for the active one (--by splits each)."""
    _run(state, "blocks", **kw)
