"""``agentgauge extension pair|list|revoke``: the browser extensions paired with this server
(docs/extension.md). Codes and tokens live in the database, so this works beside a running
``serve`` (same database) or before it starts."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click
import orjson

if TYPE_CHECKING:
    from .commands import State


def _stamp(value: str | None) -> str:
    if not value:
        return "never"
    return datetime.fromisoformat(value).astimezone().strftime("%Y-%m-%d %H:%M")


@click.group()
def extension() -> None:
    """Pair the agentgauge browser extension with this server, list and revoke paired ones."""


@extension.command()
@click.option("--json", "as_json", is_flag=True, help="Print the code and its expiry as JSON.")
@click.pass_obj
def pair(state: State, as_json: bool) -> None:
    """Show a one-time pairing code (valid 10 minutes) to enter in the extension's options."""
    from ..web import pairing
    from .commands import _session

    config = state.config(providers=False)
    with _session(config) as store:
        code = pairing.new_code(store, datetime.now(UTC))
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(code.to_json()) + b"\n")
        return
    until = code.expires_at.astimezone().strftime("%H:%M")
    click.echo(f"Pairing code: {code.code}  (valid until {until}, once)")
    click.echo("Enter it with this server's address in the extension's options (docs/extension.md).", err=True)


@extension.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def list_paired(state: State, as_json: bool) -> None:
    """The paired extensions: id, name, when paired and when last seen."""
    from ..web import pairing
    from .commands import _session

    config = state.config(providers=False)
    with _session(config) as store:
        rows = [p.to_json() for p in pairing.paired(store)]
    if as_json:
        sys.stdout.buffer.write(orjson.dumps({"extensions": rows}, option=orjson.OPT_INDENT_2) + b"\n")
        return
    if not rows:
        click.echo("No extension is paired. `agentgauge extension pair` shows a code to pair one.")
        return
    click.echo(f"{'ID':<10} {'NAME':<30} {'PAIRED':<17} LAST SEEN")
    for row in rows:
        paired, seen = _stamp(row["created_at"]), _stamp(row["last_used_at"])
        click.echo(f"{row['id'] or '':<10} {row['name'] or '':<30} {paired:<17} {seen}")


@extension.command()
@click.argument("extension_id", metavar="ID")
@click.pass_obj
def revoke(state: State, extension_id: str) -> None:
    """Revoke a paired extension (its next request is refused); ID as `agentgauge extension list` shows it."""
    from ..web import pairing
    from .commands import _session

    config = state.config(providers=False)
    with _session(config) as store:
        gone = pairing.revoke(store, extension_id)
    click.echo(f"Revoked {gone.id} ({gone.name}).")
