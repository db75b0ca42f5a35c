"""Finding Antigravity's running language server: its command-line flags and listening ports.

The Antigravity app (and the Antigravity IDE's extension) start a ``language_server_<os>_<arch>``
binary (``language_server_macos_arm``, ``language_server_linux_x64``,
``language_server_windows_x64.exe``) with, among others, ``--csrf_token <token>`` (the header
``X-Codeium-Csrf-Token`` every local request must carry), ``--extension_server_port <port>``,
``--app_data_dir antigravity`` (``antigravity-ide`` for the IDE) and sometimes ``--server_port
<port>``; without ``--server_port`` it picks its HTTPS port itself, so the process's listening TCP
ports are read (psutil; ``lsof`` where psutil is refused). Windsurf runs the same binary under its
own paths: only command lines with an Antigravity marker count. Everything here is read-only.
"""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from ...errors import ConfigError

_BINARY = re.compile(r"^language[_-]server(?:[_-][a-z0-9]+)*(?:\.exe)?$")
_IDE_MARKERS = (
    "antigravity ide.app/",
    "antigravity ide.app\\",
    "--app_data_dir antigravity-ide",
    "--app_data_dir=antigravity-ide",
    "/extensions/antigravity/bin/language_server",
    "\\extensions\\antigravity\\bin\\language_server",
)
_APP_MARKERS = (
    "antigravity.app/",
    "antigravity.app\\",
    "/gemini.app/",
    "\\gemini.app\\",
    "/antigravity/",
    "\\antigravity\\",
)
_LSOF_PORT = re.compile(r":(\d+)\s+\(LISTEN\)")
LOOPBACK_OR_ANY = ("127.0.0.1", "::1", "0.0.0.0", "::", "::ffff:127.0.0.1", "localhost", "*")


@dataclass(frozen=True)
class LanguageServer:
    pid: int
    kind: str  # "app" (the Antigravity app) or "ide" (the Antigravity IDE's extension)
    csrf_token: str
    server_port: int | None
    extension_port: int | None
    ports: tuple[int, ...]  # listening TCP ports, ``--server_port`` first
    started: float


# -- pure ----------------------------------------------------------------------------------------
def flag(args: Sequence[str], name: str) -> str | None:
    """A ``--name value`` or ``--name=value`` flag of a command line."""
    for index, arg in enumerate(args):
        if arg == name and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(name + "="):
            return arg[len(name) + 1 :]
    return None


def port_flag(args: Sequence[str], name: str) -> int | None:
    value = flag(args, name)
    if value is None or not value.isdigit():
        return None
    port = int(value)
    return port if 0 < port < 65536 else None


def kind_of(args: Sequence[str]) -> str | None:
    """``app``/``ide`` for an Antigravity language server's command line, else None."""
    if not args:
        return None
    exe = args[0]
    name = (PureWindowsPath(exe).name if "\\" in exe else PurePosixPath(exe).name).lower()
    if not _BINARY.match(name):
        return None
    line = " ".join(args).lower()
    app_dir = (flag(args, "--app_data_dir") or "").lower()
    if any(marker in line for marker in _IDE_MARKERS) or app_dir == "antigravity-ide":
        return "ide"
    if app_dir == "antigravity" or any(marker in line for marker in _APP_MARKERS):
        return "app"
    return None


def lsof_ports(output: str) -> list[int]:
    return sorted({int(m) for m in _LSOF_PORT.findall(output) if 0 < int(m) < 65536})


def order(servers: Sequence[LanguageServer]) -> list[LanguageServer]:
    """The app's server before the IDE's (it has the richer quota summary), then the newest."""
    return sorted(servers, key=lambda s: (s.kind != "app", -s.started, s.pid))


# -- I/O -------------------------------------------------------------------------------------------
def _psutil() -> Any:
    # Imported by name: loaded only when discovery runs, and psutil ships no type stubs.
    try:
        return importlib.import_module("psutil")
    except ImportError:
        raise ConfigError(
            "Antigravity: finding the language server needs the psutil package",
            hint="Install it (`pip install psutil`), or set AGENTGAUGE_ANTIGRAVITY_PORT and "
            "AGENTGAUGE_ANTIGRAVITY_CSRF_TOKEN.",
        ) from None


def _lsof(pid: int) -> list[int]:
    lsof = shutil.which("lsof") or next((p for p in ("/usr/sbin/lsof", "/usr/bin/lsof") if shutil.which(p)), None)
    if lsof is None or sys.platform == "win32":
        return []
    try:
        result = subprocess.run(
            [lsof, "-nP", "-iTCP", "-sTCP:LISTEN", "-a", "-p", str(pid)],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return lsof_ports(result.stdout)


def listening_ports(pid: int) -> list[int]:
    """The TCP ports ``pid`` listens on (loopback or any address)."""
    psutil = _psutil()
    try:
        process = psutil.Process(pid)
        getter = getattr(process, "net_connections", None) or process.connections
        connections = getter(kind="tcp")
    except psutil.AccessDenied:
        return _lsof(pid)
    except psutil.Error:
        return []
    ports = {
        c.laddr.port
        for c in connections
        if c.status == psutil.CONN_LISTEN
        and c.laddr
        and (c.laddr.ip in LOOPBACK_OR_ANY or c.laddr.ip.startswith("127."))
    }
    return sorted(ports)


def find_servers() -> list[LanguageServer]:
    """Every running Antigravity language server of this user that carries a CSRF token, best first."""
    psutil = _psutil()
    found: list[LanguageServer] = []
    for process in psutil.process_iter(["pid", "cmdline", "create_time"]):
        args = process.info.get("cmdline") or []
        kind = kind_of(args)
        token = flag(args, "--csrf_token") if kind else None
        if not kind or not token:
            continue  # a server without a token cannot be called
        server_port = port_flag(args, "--server_port")
        ports = listening_ports(process.info["pid"])
        if server_port is not None:
            ports = [server_port, *(p for p in ports if p != server_port)]
        found.append(
            LanguageServer(
                pid=process.info["pid"],
                kind=kind,
                csrf_token=token,
                server_port=server_port,
                extension_port=port_flag(args, "--extension_server_port"),
                ports=tuple(ports),
                started=float(process.info.get("create_time") or 0.0),
            )
        )
    return order(found)
