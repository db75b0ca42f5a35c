"""``agentgauge history cycles`` (the reset-cycle ledger as a table, or JSON) and ``agentgauge export``
(samples, cycles or forecasts as CSV or JSON, streamed to stdout or a file). Both read the store only:
no provider is asked for anything. Heavy modules are imported inside the commands."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ..query.cycles import Names
    from ..store import Store

WHAT = ("samples", "cycles", "forecasts")  # query.export.WHAT, kept here so building the CLI stays cheap
FORMATS = ("csv", "json")
_AGO = re.compile(r"^(\d+(?:\.\d+)?)\s*([mhdw])$")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
TIME_HELP = "ISO-8601 date or time (local unless it names a zone), epoch seconds, or an age such as 30d, 12h, 2w"


def parse_when(value: str, now: datetime, tz: tzinfo | None = None) -> datetime:
    """A moment from the command line: ``30d``/``12h``/``90m``/``2w`` ago, ``now``, epoch seconds, or
    an ISO-8601 date (local midnight) or time (local unless it carries a zone)."""
    raw = value.strip()
    zone = tz or datetime.now().astimezone().tzinfo or UTC
    ago = _AGO.match(raw.lower())
    if ago:
        return now - timedelta(seconds=float(ago.group(1)) * _UNIT_SECONDS[ago.group(2)])
    if raw.lower() == "now":
        return now
    if raw.replace(".", "", 1).isdigit():
        return datetime.fromtimestamp(float(raw), UTC)
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a time ({TIME_HELP})") from None
    return parsed.replace(tzinfo=zone) if parsed.tzinfo is None else parsed


def _window(ctx: click.Context, default: str | None) -> tuple[datetime, datetime, datetime]:
    """(now, since, until) from the command's --since/--until options."""
    now = datetime.now(UTC)
    params = ctx.params
    until = parse_when(params["until"], now) if params.get("until") else now
    since = parse_when(params["since"], now) if params.get("since") else None
    if since is None:
        since = parse_when(default, now) if default else datetime.fromtimestamp(0, UTC)
    if since >= until:
        raise click.BadParameter("--since must be before --until", param_hint="--since")
    return now, since, until


def _filters(fn: Any) -> Any:
    for option in reversed(
        (
            click.option(
                "--provider", "providers", multiple=True, metavar="ID", help="Only this provider (repeatable)."
            ),
            click.option("--account", help="Only this account (e.g. default, work)."),
            click.option("--window", help="Only this window id (e.g. session, weekly)."),
            click.option("--until", metavar="WHEN", help=f"End (default: now). {TIME_HELP}."),
        )
    ):
        fn = option(fn)
    return fn


@contextmanager
def _reading(state: Any) -> Iterator[tuple[Store, Names]]:
    """The store and the display names its account states carry (the config's providers are not loaded)."""
    from ..query.cycles import names_of
    from .commands import _session

    with _session(state.config(providers=False)) as store:
        yield store, names_of(s.snapshot for s in store.states().values())


@click.group()
def history() -> None:
    """The stored history: the reset-cycle ledger of each account's windows (docs/forecast.md)."""


@history.command("cycles")
@_filters
@click.option("--since", metavar="WHEN", help=f"Start (default: 30d). {TIME_HELP}.")
@click.option("--json", "as_json", is_flag=True, help="Print the ledger and the forecast accuracy as JSON.")
@click.pass_context
def cycles_command(ctx: click.Context, **options: Any) -> None:
    """One row per reset cycle: start, reset, peak, when it first hit 100 % and for how long, and the
    share left unused at the reset; then how often the forecasts' 80 % interval held the outcome."""
    from ..query.cycles import accuracy_view, cycles_view, select_series
    from .commands import _print_json

    now, since, until = _window(ctx, "30d")
    with _reading(ctx.obj) as (store, names):
        series = select_series(
            store, providers=options["providers"], account=options["account"], window=options["window"]
        )
        view = cycles_view(store, series, since=since, until=until, now=now, names=names)
        accuracy = accuracy_view(store, series, since=since, until=until, now=now, names=names)
    if options["as_json"]:
        _print_json({**view, "accuracy": accuracy})
        return
    from rich.console import Console

    from .render import cycles_table

    console = Console()
    if not console.is_terminal:
        console = Console(width=140)  # piped output is not cut to 80 columns
    console.print(cycles_table(view["cycles"], accuracy, now))


@click.command("export")
@click.option("--what", type=click.Choice(WHAT), default="samples", show_default=True, help="Which records.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True, help="CSV or JSON.")
@_filters
@click.option("--since", metavar="WHEN", help=f"Start (default: everything stored). {TIME_HELP}.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file (replaced only once the export is complete) instead of stdout.",
)
@click.pass_context
def export_command(ctx: click.Context, what: str, fmt: str, output: Path | None, **options: Any) -> None:
    """Export the stored history: raw samples (kept history_raw_days), the reset-cycle ledger or the
    forecast log, as CSV with a header row or as a JSON array (docs/forecast.md#exports)."""
    from ..query.cycles import select_series
    from ..query.export import export_chunks, export_rows

    now, since, until = _window(ctx, None)
    with _reading(ctx.obj) as (store, _names):
        series = select_series(
            store, providers=options["providers"], account=options["account"], window=options["window"]
        )
        chunks = export_chunks(fmt, what, export_rows(store, what, series, since=since, until=until, now=now))
        if output is None:
            _to_stdout(chunks)
        else:
            _to_file(chunks, output)


def _to_stdout(chunks: Iterator[bytes]) -> None:
    out: IO[bytes] = sys.stdout.buffer
    try:
        for chunk in chunks:
            out.write(chunk)
        out.flush()
    except BrokenPipeError:  # `| head`: the reader has all it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)


def _to_file(chunks: Iterator[bytes], output: Path) -> None:
    partial = output.with_name(output.name + ".partial")
    try:
        f = partial.open("wb")
    except OSError as exc:
        raise click.BadParameter(f"cannot write {output}: {exc.strerror}", param_hint="--output") from None
    try:
        with f:
            for chunk in chunks:
                f.write(chunk)
        partial.replace(output)
    except OSError as exc:  # a full disk: the older file, if any, stays as it was
        partial.unlink(missing_ok=True)
        raise click.ClickException(f"could not write {output}: {exc.strerror}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
