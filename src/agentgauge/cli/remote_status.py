"""``agentgauge status --server URL``: the table (or JSON) of another machine's ``serve``, from the
snapshot it keeps (``GET /api/usage``; no fetch is asked of it), with the same exit codes as a local
``status``. Unreachable: exit 1 with the reason; a refused key: exit 2 with the fix (docs/users.md)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence

import click
import orjson

from ..errors import StoreUnavailableError
from ..models import Snapshot
from .remote import Remote


def fetch(remote: Remote, providers: Sequence[str]) -> Snapshot:
    body = remote.call("GET", "/api/usage")
    snapshot = Snapshot.model_validate(body)
    if providers:
        snapshot = Snapshot(
            generated_at=snapshot.generated_at,
            providers=tuple(p for p in snapshot.providers if p.provider in providers),
        )
    return snapshot


def remote_status(server: str, providers: Sequence[str], *, as_json: bool, watch: bool, interval: float) -> int:
    from rich.console import Console
    from rich.live import Live

    from .exits import EXIT_DEGRADED, exit_code
    from .render import render

    with Remote(server, os.environ) as remote:
        try:
            snapshot = fetch(remote, providers)
        except StoreUnavailableError as exc:
            click.echo(f"error: {exc.message}", err=True)
            click.echo(f"hint: {exc.hint}", err=True)
            return EXIT_DEGRADED
        if as_json and not watch:
            sys.stdout.buffer.write(orjson.dumps(snapshot.to_json_dict(), option=orjson.OPT_INDENT_2) + b"\n")
            return exit_code(snapshot)
        console = Console() if sys.stdout.isatty() else Console(width=140)
        if not watch:
            console.print(render(snapshot, width=console.width))
            return exit_code(snapshot)
        try:
            if as_json:
                while True:
                    sys.stdout.buffer.write(orjson.dumps(snapshot.to_json_dict()) + b"\n")
                    sys.stdout.flush()
                    time.sleep(interval)
                    snapshot = fetch(remote, providers)
            with Live(render(snapshot, width=console.width, watch=True), console=console, refresh_per_second=1) as live:
                next_read = time.monotonic() + interval
                while True:
                    time.sleep(1)
                    if time.monotonic() >= next_read:
                        snapshot = fetch(remote, providers)
                        next_read = time.monotonic() + interval
                    live.update(render(snapshot, width=console.width, watch=True))
        except KeyboardInterrupt:
            return exit_code(snapshot)
