"""What ``agentgauge serve`` needs to behave like a service.

- The listening socket is bound before anything is printed, so the URL shown is the one served
  (``--port 0`` picks a free port and shows it) and a port in use is one line, not a traceback.
- Ctrl-C, SIGTERM (Docker, systemd) and SIGHUP are a clean stop at any stage (``StopSignals``):
  before the server runs (the demo's backfill) they interrupt, once it exists they stop it
  gracefully (``ServiceServer``), and every cleanup on the way out runs. ``serve`` then exits 0.
"""

from __future__ import annotations

import errno
import ipaddress
import signal
import socket
import threading
from types import FrameType, TracebackType
from typing import Any

import uvicorn

from ..errors import ConfigError
from ..sim.server import STOP_SIGNALS, ServiceServer

BACKLOG = 2048
PORT_HINT = "Stop whatever uses it or pick another --port (--port 0 picks a free one and prints it)."


def server_config(app: Any) -> uvicorn.Config:
    """uvicorn as ``serve`` runs it (the web tests run the same). h11, not httptools: httptools
    drops the body of a request that asks to upgrade, and curl sends ``Upgrade: h2c`` with
    ``--http2`` on plain http, so a login form posted that way would arrive empty."""
    return uvicorn.Config(
        app,
        http="h11",
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=10,  # a stuck client must not hold a stop (systemd waits 90 s, then kills)
    )


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` ("" means every interface), or a ConfigError saying
    why not in one line."""
    address = host or "0.0.0.0"
    where = f"{_bracketed(address)}:{port}"
    try:
        infos = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        raise ConfigError(
            f"cannot listen on {host!r}: not an IP address or a host name this machine knows",
            hint="Use --host 127.0.0.1 (this machine only) or --host 0.0.0.0 (every interface).",
        ) from None
    family, _, _, _, sockaddr = infos[0]
    try:
        return socket.create_server(sockaddr, family=family, backlog=BACKLOG)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(f"cannot listen on {where}: the port is already in use", hint=PORT_HINT) from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise ConfigError(
                f"cannot listen on {where}: permission denied",
                hint="Ports below 1024 need privileges; use a higher --port (the default is 8777).",
            ) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise ConfigError(
                f"cannot listen on {where}: {address} is not an address of this machine",
                hint="Use --host 127.0.0.1 (this machine only) or --host 0.0.0.0 (every interface).",
            ) from None
        raise ConfigError(f"cannot listen on {where}: {exc.strerror or exc}", hint=PORT_HINT) from None


def dashboard_url(sock: socket.socket, host: str, root_path: str) -> str:
    """The URL to open: ``localhost`` for loopback and every-interface binds (the Host check accepts
    it), the bound address otherwise; always the port actually bound."""
    port = sock.getsockname()[1]
    shown = "localhost" if _local(host) else _bracketed(host)
    return f"http://{shown}:{port}{root_path}/"


def _local(host: str) -> bool:
    if host in ("", "localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def run_server(app: Any, sock: socket.socket, signals: StopSignals) -> None:
    """Serve ``app`` on ``sock`` until a stop signal; returns normally after a graceful shutdown."""
    server = ServiceServer(server_config(app))
    signals.server = server  # from here on a signal stops the server, never interrupts it
    if signals.requested:  # a stop recorded while the server was being made: a clean stop, unstarted
        return
    server.run(sockets=[sock])


class StopSignals:
    """SIGTERM, SIGHUP and Ctrl-C at any stage of ``serve``. Before the server runs (the demo's
    backfill) they interrupt like Ctrl-C (KeyboardInterrupt), so the cleanup of whatever was started
    runs on the way out. From the moment the server is created they ask it to stop gracefully, as
    its own handlers do while it runs, and after it has stopped they no longer interrupt anything:
    the cleanup finishes (every step of it is bounded)."""

    def __init__(self) -> None:
        self.server: ServiceServer | None = None
        # From the demo's backfill on, a signal is only recorded: the backfill checks ``requested``
        # between steps and serve before it starts the server. A KeyboardInterrupt raised in the
        # middle of an event loop's set-up or tear-down leaves the loop unclosed (a traceback at exit).
        self.deferring = False
        self._interrupted = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            self._previous = {sig: signal.signal(sig, self._on_signal) for sig in STOP_SIGNALS}
        return self

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.server is not None:
            self.server.handle_exit(signum, frame)
        elif self.deferring:
            self._interrupted = True
        elif not self._interrupted:
            self._interrupted = True
            raise KeyboardInterrupt

    @property
    def requested(self) -> bool:
        """A stop signal came before the server existed. Its KeyboardInterrupt can be lost (raised
        inside a finaliser the garbage collector ran, which swallows it), so long steps check this
        too: the backfill between its steps, serve before it creates the server."""
        return self._interrupted

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
