"""``agentgauge hub machines|token`` and ``agentgauge push``: the hub for many machines (docs/hub.md).

On the hub: ``hub machines add NAME`` prints a machine's token once, ``list`` shows the machines
(never a token), ``revoke`` refuses one from its next request. They work on the hub's database, so
beside a running ``serve`` or before it starts. On a machine: ``hub token set`` keeps the token in
the secret store (read from a hidden prompt or stdin, never argv), and ``push`` sends this
machine's stored snapshots once (``serve --push-to`` keeps sending).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click
import orjson

from ..errors import ConfigError
from ..hub import PUSH_TO_ENV, TOKEN_ENV

if TYPE_CHECKING:
    from .commands import State


def _stamp(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value else "never"


@click.group()
def hub() -> None:
    """Run a hub for many machines: their tokens, and this machine's token for pushing to one."""


@hub.group()
def machines() -> None:
    """The machines that may push to this hub (run these on the hub)."""


@machines.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def list_machines(state: State, as_json: bool) -> None:
    """Each machine: id, name, when added, when it last pushed, revoked or not."""
    from ..hub import machines as hub_machines
    from .commands import _session

    with _session(state.config(providers=False)) as store:
        rows = hub_machines.machines(store)
    if as_json:
        data = {"machines": [m.to_json() for m in rows]}
        sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
        return
    if not rows:
        click.echo("No machine may push here yet. `agentgauge hub machines add NAME` adds one.")
        return
    click.echo(f"{'ID':<14} {'NAME':<24} {'ADDED':<17} {'LAST PUSH':<17} STATE")
    for m in rows:
        status = f"revoked {_stamp(m.revoked_at)}" if m.revoked_at else "active"
        click.echo(f"{m.id:<14} {m.name:<24} {_stamp(m.created_at):<17} {_stamp(m.last_seen_at):<17} {status}")


@machines.command(name="add")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the machine and its token as JSON.")
@click.pass_obj
def add_machine(state: State, name: str, as_json: bool) -> None:
    """Add a machine and print its token, once (only a digest is kept)."""
    from ..hub import machines as hub_machines
    from .commands import _session

    with _session(state.config(providers=False)) as store:
        token, machine = hub_machines.add(store, name, datetime.now(UTC))
    if as_json:
        sys.stdout.buffer.write(orjson.dumps({**machine.to_json(), "token": token}) + b"\n")
        return
    click.echo(token)
    click.echo(
        f"Machine '{machine.name}' added (id {machine.id}). The token above is shown only now: on that machine, "
        f"put it in {TOKEN_ENV} or run `agentgauge hub token set`, then `agentgauge serve --push-to URL`.",
        err=True,
    )


@machines.command(name="revoke")
@click.argument("machine", metavar="NAME|ID")
@click.pass_obj
def revoke_machine(state: State, machine: str) -> None:
    """Refuse a machine's token from its next push (what it pushed stays)."""
    from ..hub import machines as hub_machines
    from .commands import _session

    with _session(state.config(providers=False)) as store:
        gone = hub_machines.revoke(store, machine, datetime.now(UTC))
    click.echo(f"Revoked machine '{gone.name}' ({gone.id}): its token is refused from now on.")


@hub.group()
def token() -> None:
    """This machine's token for pushing to a hub, kept in the secret store."""


@token.command(name="set")
def set_token() -> None:
    """Save the token from a hidden prompt or stdin (never argv); AGENTGAUGE_PUSH_TOKEN still wins."""
    from ..credentials import SecretStore
    from ..hub.machines import TOKEN_PREFIX
    from ..hub.push import TOKEN_STORE

    if sys.stdin.isatty():
        value = click.prompt("machine token (agh_...)", hide_input=True, prompt_suffix=": ", err=True)
    else:
        value = sys.stdin.read()
    value = value.strip()
    if not value.startswith(TOKEN_PREFIX) or any(c.isspace() for c in value):
        raise ConfigError(
            "that is not a machine token (they start with agh_ and are one word)",
            hint="Copy the line `agentgauge hub machines add NAME` printed on the hub.",
        )
    store = SecretStore()
    provider, account, setting = TOKEN_STORE
    store.put(provider, account, {setting: value}, origin="manual")
    click.echo(f"saved the machine token in {store.path} (key in {store.key_location()})", err=True)


@token.command(name="forget")
def forget_token() -> None:
    """Remove the saved machine token."""
    from ..credentials import SecretStore
    from ..hub.push import TOKEN_STORE

    removed = SecretStore().forget(TOKEN_STORE[0], TOKEN_STORE[1])
    click.echo("removed the saved machine token" if removed else "no machine token was saved", err=True)


@click.command(name="push")
@click.option(
    "--to", "url", envvar=PUSH_TO_ENV, metavar="URL", required=True, help=f"The hub's URL (or {PUSH_TO_ENV})."
)
@click.option("--refresh", is_flag=True, help="Refresh this machine's accounts first (behind the usual gates).")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@click.pass_obj
def push_command(state: State, url: str, refresh: bool, as_json: bool) -> None:
    """Send this machine's snapshots to a hub once; what it does not take stays buffered for the next push.

    Exit codes: 0 everything delivered, 1 some snapshots stay buffered (the hub is away or refused
    this machine: the message says which), 2 bad usage or configuration."""
    import asyncio

    from ..credentials import Vault
    from ..engine import Engine
    from ..errors import AgentGaugeError
    from ..hub import outbox
    from ..hub.push import Fingerprints, HubTarget, PushClient, hub_url, push_token, pushable
    from .commands import _session

    config = state.config()
    target = HubTarget(hub_url(url), push_token(config.env))

    with _session(config) as store:

        async def run() -> dict[str, object]:
            if refresh:
                async with Engine(config, store) as engine:
                    await engine.refresh()
            configured = {(a.provider, a.account) for a in config.accounts}
            states = await asyncio.to_thread(store.states)
            found = [s.snapshot for k, s in sorted(states.items()) if k in configured and s.snapshot is not None]
            await asyncio.to_thread(outbox.enqueue, store, [s for s in found if pushable(s)], datetime.now(UTC))
            client = PushClient(target, store, Fingerprints(config, Vault(config)))
            error: AgentGaugeError | None = None
            delivered = 0
            try:
                delivered = await client.flush()
            except AgentGaugeError as exc:
                error = exc
            finally:
                await client.aclose()
            left = await asyncio.to_thread(outbox.buffered, store)
            return {
                "hub": target.url,
                "machine": client.machine,
                "delivered": delivered,
                "buffered": left,
                "error": {"message": error.message, "hint": error.hint} if error else None,
            }

        outcome = asyncio.run(run())
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(outcome) + b"\n")
    elif outcome["error"] is None:
        click.echo(f"pushed {outcome['delivered']} snapshots to {outcome['hub']} as '{outcome['machine']}'")
    else:
        problem = outcome["error"]
        assert isinstance(problem, dict)
        click.echo(f"error: {problem['message']}", err=True)
        click.echo(f"hint: {problem['hint']}", err=True)
        click.echo(f"{outcome['buffered']} snapshots stay buffered in the local store for the next push", err=True)
    sys.exit(0 if outcome["error"] is None and outcome["buffered"] == 0 else 1)
