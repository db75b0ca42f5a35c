"""``agentgauge users add|list|remove|passwd|role``: the people who sign in to ``serve`` in multi-user
mode (``auth = "users"``, docs/users.md). They live in the database, so this works beside a running
server (same database) or before it starts. Passwords come from a hidden prompt or stdin, never argv."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click
import orjson

from ..errors import ConfigError

if TYPE_CHECKING:
    from .commands import State


def read_secret(label: str, *, confirm: bool = False) -> str:
    """A value typed at a hidden prompt (twice with ``confirm``), or the first line of stdin."""
    if sys.stdin.isatty():
        value: str = click.prompt(label, hide_input=True, confirmation_prompt=confirm, err=True)
    else:
        value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise ConfigError(f"no {label.lower()} given", hint="Type it at the prompt, or pipe it on stdin.")
    return value


def _stamp(value: str | None) -> str:
    return datetime.fromisoformat(value).astimezone().strftime("%Y-%m-%d %H:%M") if value else "never"


@click.group()
def users() -> None:
    """People who sign in to the dashboard in multi-user mode (auth = "users"): add, list, remove, passwords."""


@users.command()
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "viewer"]), default="viewer", show_default=True)
@click.pass_obj
def add(state: State, name: str, role: str) -> None:
    """Add a user; the password is read from a hidden prompt or stdin."""
    from ..users import people
    from .commands import _session

    config = state.config(providers=False)
    password = read_secret("Password", confirm=True)
    with _session(config) as store:
        user = people.add(store, name, password, role, datetime.now(UTC))
    click.echo(f"Added {user.name} ({user.role}).", err=True)
    if config.auth != "users":
        click.echo('Note: sign-in with users needs auth = "users" in the config file (docs/users.md).', err=True)


@users.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def list_users(state: State, as_json: bool) -> None:
    """Every user and their role."""
    from ..users import people
    from .commands import _session

    with _session(state.config(providers=False)) as store:
        rows = [u.to_json() for u in people.all_users(store)]
    if as_json:
        sys.stdout.buffer.write(orjson.dumps({"users": rows}, option=orjson.OPT_INDENT_2) + b"\n")
        return
    if not rows:
        click.echo("No user yet. `agentgauge users add NAME --role admin` adds the first admin.")
        return
    click.echo(f"{'NAME':<24} {'ROLE':<8} SINCE")
    for row in rows:
        click.echo(f"{row['name']:<24} {row['role']:<8} {_stamp(row['created_at'])}")


@users.command()
@click.argument("name")
@click.pass_obj
def remove(state: State, name: str) -> None:
    """Remove a user: their sessions end and their API keys are revoked (never the last admin)."""
    from ..users import people
    from .commands import _session

    with _session(state.config(providers=False)) as store:
        gone = people.remove(store, name)
    click.echo(f"Removed {gone.name}.", err=True)


@users.command()
@click.argument("name")
@click.pass_obj
def passwd(state: State, name: str) -> None:
    """Set a user's password (hidden prompt or stdin); signs them out everywhere."""
    from ..users import people
    from .commands import _session

    password = read_secret("New password", confirm=True)
    with _session(state.config(providers=False)) as store:
        user = people.set_password(store, name, password, datetime.now(UTC))
    click.echo(f"Password of {user.name} changed; their sessions were ended.", err=True)


@users.command()
@click.argument("name")
@click.argument("role", type=click.Choice(["admin", "viewer"]))
@click.pass_obj
def role(state: State, name: str, role: str) -> None:
    """Change a user's role (the last admin stays one)."""
    from ..users import people
    from .commands import _session

    with _session(state.config(providers=False)) as store:
        user = people.set_role(store, name, role)
    click.echo(f"{user.name} is now {user.role}.", err=True)
