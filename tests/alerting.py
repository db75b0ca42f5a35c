"""Helpers for the alert, incident and metrics tests: a loopback HTTP sink that records what it is sent
(a webhook receiver, apprise's json:// target), a Statuspage-shaped server, a fake clock, snapshot
builders and the real app served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from agentgauge.config import AccountConfig, Config
from agentgauge.models import ErrorInfo, ErrorKind, Forecast, ProviderSnapshot, Status, Window

START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday, noon UTC


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Hit:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Sink:
    """A real HTTP server on 127.0.0.1 that records every request. ``statuses`` are answered in order
    (then 200); ``body`` is what a GET returns (a status page's summary)."""

    hits: list[Hit] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    body: Any = None
    port: int = 0
    got: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def sink() -> Iterator[Sink]:
    state = Sink()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            state.hits.append(Hit(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            status = state.statuses.pop(0) if state.statuses else 200
            payload = json.dumps(state.body).encode() if self.command == "GET" and state.body is not None else b"{}"
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            state.got.set()

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def dead_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def window(wid: str = "weekly", used: float = 10.0, *, resets_at: datetime | None = None, **extra: Any) -> Window:
    return Window(
        id=wid,
        label=extra.pop("label", wid.capitalize()),
        used_pct=used,
        resets_at=resets_at or START + timedelta(days=3),
        window_seconds=extra.pop("window_seconds", 7 * 86400),
        **extra,
    )


def account(
    *windows: Window,
    provider: str = "zai",
    name: str = "z.ai",
    acct: str = "default",
    status: Status = Status.OK,
    at: datetime = START,
    **extra: Any,
) -> ProviderSnapshot:
    return ProviderSnapshot(
        provider=provider,
        account=acct,
        name=name,
        status=status,
        windows=windows,
        fetched_at=at,
        last_success_at=extra.pop("last_success_at", at if status == Status.OK else START - timedelta(hours=1)),
        **extra,
    )


def forecast(verdict: str, runs_out_at: datetime | None = None, at: datetime = START) -> Forecast:
    return Forecast(verdict=verdict, pace_pct=50.0, runs_out_at=runs_out_at, made_at=at, expected_pct=120.0)


def parse_error(message: str = "z.ai: 'data.limits[0].percentage' is not a number") -> ErrorInfo:
    return ErrorInfo(kind=ErrorKind.PARSE, message=message, hint="Update agentgauge.")


def config_with(**changes: Any) -> Config:
    """A Config as built in code (no file), with one zai account so the engine and query know it."""
    acct = AccountConfig("zai", "default", True, {}, {}, explicit=True)
    return Config(path=None, accounts=(acct,), env={}, home=Path("/nonexistent"), **changes)


@contextmanager
def served(app: Any) -> Iterator[str]:
    """The ASGI app on uvicorn (configured as ``serve`` runs it) on 127.0.0.1; yields its base URL."""
    import uvicorn

    from agentgauge.sim.server import CalmServer

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = CalmServer(uvicorn.Config(app, http="h11", log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)  # uvicorn offers no start event to wait on from another thread
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
