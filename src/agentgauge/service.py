"""``agentgauge serve`` as a per-user background service (``agentgauge service install|uninstall|status``):
a systemd user unit (Linux), a launchd agent (macOS) or a scheduled task run at logon (Windows); the
definitions themselves are in ``service_managers``.

No secret is ever written into a definition or put on a command line. Serving off loopback needs a
token the service can read: ``serve_token`` in the config file or, under systemd, ``AGENTGAUGE_SERVE_TOKEN``
in ``service.env`` (0600), which ``install`` fills when neither has one. Each manager runs the interpreter
agentgauge is installed in (``python -m agentgauge``), so a venv or pipx install keeps working.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

from .errors import ConfigError
from .service_managers import (
    NAME,
    Launchd,
    Manager,
    Runner,
    ScheduledTask,
    ServeCommand,
    Systemd,
    env_file,
    run_command,
)

__all__ = [
    "NAME",
    "TOKEN_VAR",
    "Installed",
    "Launchd",
    "Manager",
    "ScheduledTask",
    "ServeCommand",
    "State",
    "Systemd",
    "install",
    "manager_for",
    "status",
    "uninstall",
]
TOKEN_VAR = "AGENTGAUGE_SERVE_TOKEN"


@dataclass
class State:
    """What ``status`` reports: the manager's view plus whether the server answers."""

    manager: str
    definition: str
    installed: bool
    enabled: bool = False
    running: bool = False
    detail: str = ""
    url: str = ""
    answering: bool = False
    version: str = ""


def manager_for(platform: str = sys.platform, run: Runner = run_command) -> Manager:
    if platform.startswith("linux"):
        return Systemd(run)
    if platform == "darwin":
        return Launchd(run)
    if platform == "win32":
        return ScheduledTask(run)
    raise ConfigError(
        f"agentgauge service does not know this platform's service manager ({platform})",
        hint="Run `agentgauge serve` under your own supervisor (docs/deploy.md).",
    )


# -- the token ---------------------------------------------------------------------------------------------
def env_file_has_token(path: Path) -> bool:
    """Whether the env file sets the token (its value is never read out)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return False
    return any(re.match(rf"\s*{TOKEN_VAR}\s*=\s*\S", line) for line in text.splitlines())


def tighten(path: Path) -> bool:
    """Make an existing env file 0600; True when its mode had to change."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return False
    if mode & 0o077:
        path.chmod(0o600)
        return True
    return False


def add_token(path: Path, token: str) -> None:
    """Append ``AGENTGAUGE_SERVE_TOKEN=...`` to the env file, which is created 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(f"{TOKEN_VAR}={token}\n")
    path.chmod(0o600)


# -- install, uninstall, status ----------------------------------------------------------------------------
@dataclass
class Installed:
    definition: Path
    started: bool
    notes: list[str] = field(default_factory=list)  # what else was done or should be (never a secret)


def install(
    manager: Manager,
    command: ServeCommand,
    *,
    start: bool,
    token_required: bool,
    file_token: bool,
    shell_token: str | None,
) -> Installed:
    """Write the definition and activate it. ``token_required``: the host is off loopback;
    ``file_token``: the config file sets serve_token; ``shell_token``: AGENTGAUGE_SERVE_TOKEN of the
    installing shell, which a service never inherits (it is saved to service.env, never shown)."""
    notes: list[str] = []
    if token_required and not file_token:
        if not isinstance(manager, Systemd):
            raise ConfigError(
                f"serving on {command.host or 'every interface'} needs an access token the service can read",
                hint="Set serve_token in the config file (only you should be able to read it), or install "
                "with --host 127.0.0.1.",
            )
        path = env_file()
        if tighten(path):
            notes.append(f"{path}: made readable by you only (0600)")
        if not env_file_has_token(path):
            add_token(path, shell_token or secrets.token_urlsafe(32))
            where = "your shell's AGENTGAUGE_SERVE_TOKEN" if shell_token else "a new access token"
            notes.append(f"saved {where} in {path} (0600): sign in at /login with it")
    elif isinstance(manager, Systemd) and tighten(env_file()):
        notes.append(f"{env_file()}: made readable by you only (0600)")
    manager.path.parent.mkdir(parents=True, exist_ok=True)
    previous = manager.path.read_bytes() if manager.path.exists() else None
    manager.path.write_bytes(manager.render(command))
    try:
        manager.activate(start)
    except ConfigError:
        # The manager refused: leave the definition as it was, not one nothing runs.
        if previous is None:
            manager.path.unlink()
        else:
            manager.path.write_bytes(previous)
        raise
    return Installed(manager.path, start, notes)


def uninstall(manager: Manager) -> bool:
    """Stop and remove the service; False when there was none. Data, config and service.env stay."""
    if not manager.path.exists():
        return False
    manager.deactivate()
    with contextlib.suppress(FileNotFoundError):
        manager.path.unlink()
    manager.after_uninstall()
    return True


def status(manager: Manager, ping: Callable[[str], str | None]) -> State:
    """The manager's view and whether the server answers (``ping(url)``: its version, or None)."""
    state = State(manager=manager.label, definition=str(manager.path), installed=manager.path.exists())
    if not state.installed:
        return state
    state.enabled, state.running, state.detail = manager.probe()
    command = installed_command(manager)
    if command is not None:
        state.url = command.ping_url()
        version = ping(state.url)
        state.answering, state.version = version is not None, version or ""
    return state


def installed_command(manager: Manager) -> ServeCommand | None:
    try:
        argv = manager.read_argv(manager.path.read_bytes())
    except (OSError, ValueError, ET.ParseError):
        return None
    return ServeCommand.from_argv(argv) if argv else None
