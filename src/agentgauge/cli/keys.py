"""``agentgauge keys create|list|revoke`` (API keys of this machine's server, in its database) and
``agentgauge keys use URL`` (save a key for reading another machine's server with ``status``, ``guard``
and ``pick --server URL``; docs/users.md). A new key is printed once, alone on stdout; a key to save
is read from a hidden prompt or stdin, never argv."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click
import orjson

from ..errors import ConfigError, StoreUnavailableError
from .users import read_secret

if TYPE_CHECKING:
    from .commands import State


def _stamp(value: str | None) -> str:
    return datetime.fromisoformat(value).astimezone().strftime("%Y-%m-%d %H:%M") if value else "never"


@click.group()
def keys() -> None:
    """API keys for scripts, the Stream Deck plugin, other machines (Authorization: Bearer)."""


@keys.command()
@click.option("--name", required=True, help="What uses the key: 'stream deck', 'laptop'...")
@click.option(
    "--scope",
    type=click.Choice(["read", "write"]),
    default="read",
    show_default=True,
    help="read: read, refresh and MCP; write: also manage provider accounts and extensions.",
)
@click.option("--user", "owner", metavar="NAME", help="The user it belongs to (their role caps it); default: no one.")
@click.option("--json", "as_json", is_flag=True, help="Print the key and its record as JSON.")
@click.pass_obj
def create(state: State, name: str, scope: str, owner: str | None, as_json: bool) -> None:
    """Make a key and print it once (only its digest is kept)."""
    from ..users import keys as api_keys
    from ..users import people
    from .commands import _session

    with _session(state.config(providers=False)) as store:
        user = None
        if owner:
            user = people.by_name(store, owner)
            if user is None:
                raise ConfigError(f"no user is named '{owner[:64]}'", hint="`agentgauge users list` shows them.")
        text, key = api_keys.create(store, name, scope, user, datetime.now(UTC))
    if as_json:
        sys.stdout.buffer.write(orjson.dumps({"key": text, **key.to_json()}) + b"\n")
        return
    click.echo(text)
    click.echo(
        f"API key {key.id} ({key.scope}) made; it is not shown again. Send it as Authorization: Bearer.", err=True
    )


@keys.command(name="list")
@click.option("--all", "revoked", is_flag=True, help="Revoked keys too.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def list_keys(state: State, revoked: bool, as_json: bool) -> None:
    """The keys: id, name, scope, owner, last use (never a key)."""
    from ..users import keys as api_keys
    from .commands import _session

    with _session(state.config(providers=False)) as store:
        rows = [k.to_json() for k in api_keys.listing(store, revoked=revoked)]
    if as_json:
        sys.stdout.buffer.write(orjson.dumps({"keys": rows}, option=orjson.OPT_INDENT_2) + b"\n")
        return
    if not rows:
        click.echo("No API key. `agentgauge keys create --name NAME` makes one.")
        return
    click.echo(f"{'ID':<10} {'NAME':<24} {'SCOPE':<6} {'OWNER':<16} {'LAST USED':<17} REVOKED")
    for row in rows:
        click.echo(
            f"{row['id'] or '':<10} {row['name'] or '':<24} {row['scope'] or '':<6} {row['user'] or '-':<16} "
            f"{_stamp(row['last_used_at']):<17} {_stamp(row['revoked_at']) if row['revoked_at'] else ''}"
        )


@keys.command()
@click.argument("key_id", metavar="ID")
@click.pass_obj
def revoke(state: State, key_id: str) -> None:
    """Revoke a key (its next request is refused); ID as `agentgauge keys list` shows it."""
    from ..users import keys as api_keys
    from .commands import _session

    with _session(state.config(providers=False)) as store:
        gone = api_keys.revoke(store, key_id, datetime.now(UTC))
    click.echo(f"Revoked {gone.id} ({gone.name}).", err=True)


@keys.command()
@click.argument("url")
@click.option("--forget", is_flag=True, help="Forget the key saved for URL instead.")
def use(url: str, forget: bool) -> None:
    """Save the API key for the server at URL (read from a hidden prompt or stdin): `status`, `guard` and
    `pick --server URL` use it. AGENTGAUGE_SERVER_KEY, when set, wins."""
    from .remote import Remote, forget_key, save_key, server_url

    base = server_url(url)
    if forget:
        gone = forget_key(base, os.environ)
        click.echo(f"Forgot {gone} saved key(s) for {base}.", err=True)
        return
    key = read_secret("API key").strip()
    env = {**os.environ, "AGENTGAUGE_SERVER_KEY": key}
    try:
        with Remote(base, env) as remote:
            me = remote.call("GET", "/api/me")
        click.echo(f"{base} accepts the key ({me.get('role', '?')}).", err=True)
    except StoreUnavailableError as exc:  # saved all the same: the server may just be down now
        click.echo(f"warning: could not check the key: {exc.message}", err=True)
    where = save_key(base, key, os.environ)
    click.echo(f"Saved the key for {base} in {where}.", err=True)
