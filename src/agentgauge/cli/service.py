"""``agentgauge service install|uninstall|status``: ``serve`` in the background for this user, started at
login by the platform's own service manager (agentgauge.service)."""

from __future__ import annotations

import dataclasses
import getpass
import os
import subprocess
import sys

import click

from .commands import State, _print_json
from .exits import EXIT_DEGRADED, EXIT_NOTHING, EXIT_OK


@click.group()
def service() -> None:
    """Run `agentgauge serve` in the background at login: a systemd user unit (Linux), a launchd agent
    (macOS) or a scheduled task (Windows). Secrets never go into them (docs/deploy.md)."""


@service.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (off loopback needs a token).")
@click.option("--port", default=8777, show_default=True, type=click.IntRange(1, 65535))
@click.option("--root-path", default="", help="Sub-path when hosted behind a reverse proxy (e.g. /gauge).")
@click.option("--no-start", is_flag=True, help="Install and enable it, but start it only at the next login.")
@click.option("--print", "print_only", is_flag=True, help="Print the definition and change nothing.")
@click.pass_obj
def install(state: State, host: str, port: int, root_path: str, no_start: bool, print_only: bool) -> None:
    """Install (or reinstall) and start the service."""
    from ..config import load
    from ..service import TOKEN_VAR, ServeCommand, Systemd, install, manager_for
    from ..web.security import needs_token

    root_path = root_path.rstrip("/")
    if root_path and not root_path.startswith("/"):
        raise click.BadParameter("must start with '/'", param_hint="--root-path")
    config_path = state.config_path.expanduser().resolve() if state.config_path else None
    command = ServeCommand(host=host, port=port, root_path=root_path, config=config_path)
    manager = manager_for()
    if print_only:
        sys.stdout.buffer.write(manager.render(command))
        return
    # The service sees the config file (and service.env), never this shell's environment.
    without_token = {k: v for k, v in os.environ.items() if k != TOKEN_VAR}
    settings = load(state.config_path, env=without_token, providers=False)  # a broken config fails here, once
    done = install(
        manager,
        command,
        start=not no_start,
        token_required=needs_token(host),
        file_token=bool(settings.serve_token),
        shell_token=os.environ.get(TOKEN_VAR) or None,
    )
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "", "::", "localhost") else host
    click.echo(f"agentgauge service: {manager.label}: {done.definition}")
    click.echo(
        f"  {'started' if done.started else 'enabled; starts at the next login'}: http://{shown}:{port}{root_path}/"
    )
    for note in done.notes:
        click.echo(f"  {note}")
    if isinstance(manager, Systemd) and not _lingering():
        click.echo("  to keep it running after you log out (and start it at boot): loginctl enable-linger $USER")
    click.echo("  check it with: agentgauge service status")


def _lingering() -> bool:
    try:
        done = subprocess.run(
            ["loginctl", "show-user", getpass.getuser(), "--property=Linger", "--value"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.stdout.strip() == "yes"


@service.command()
def uninstall() -> None:
    """Stop and remove the service (the data, the config file and service.env stay)."""
    from ..service import manager_for, uninstall

    manager = manager_for()
    if uninstall(manager):
        click.echo(f"agentgauge service: stopped and removed {manager.path}")
    else:
        click.echo(f"agentgauge service: not installed ({manager.path} does not exist)")


@service.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON (nothing else on stdout).")
def status(as_json: bool) -> None:
    """Whether the service is installed, enabled and running, and whether it answers.

    Exit codes: 0 running and answering, 1 installed but not running or not answering, 3 not installed."""
    from ..service import manager_for, status

    found = status(manager_for(), _ping)
    if as_json:
        _print_json(dataclasses.asdict(found))
    else:
        click.echo(f"manager:    {found.manager}")
        click.echo(f"definition: {found.definition}{'' if found.installed else ' (not installed)'}")
        if found.installed:
            click.echo(f"state:      {found.detail}")
            answer = f"answering (agentgauge {found.version})" if found.answering else "not answering"
            click.echo(f"server:     {found.url}: {answer}")
    if not found.installed:
        sys.exit(EXIT_NOTHING)
    sys.exit(EXIT_OK if found.running and found.answering else EXIT_DEGRADED)


def _ping(url: str) -> str | None:
    import httpx

    try:
        answer = httpx.get(url, timeout=3)
        version = answer.json().get("version") if answer.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    return str(version) if version else None
