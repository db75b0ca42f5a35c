"""The ``agentgauge`` command line.

Exit codes (``status``):
  0  every configured account is ok
  1  at least one account is stale or in error (the table/JSON says which and why)
  2  bad usage or configuration (the message says what to fix)
  3  no provider account is configured
 70  internal error (rerun with -vv for the traceback)
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

# Heavy modules (engine, pydantic models, providers, rich) are imported inside the commands that
# need them, so quick commands such as `cost` start in a fraction of the time.
from ..config import Config, data_dir, load
from ..errors import AgentGaugeError
from ..kinds import Status

if TYPE_CHECKING:
    from ..models import Snapshot
    from ..store import Store

EXIT_OK, EXIT_DEGRADED, EXIT_USAGE, EXIT_NOTHING, EXIT_INTERNAL = 0, 1, 2, 3, 70
_DEMO_SIM: list[Any] = []  # the simulator of the running --demo, for commands that drive it


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("agentgauge")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    if verbose < 2:
        # httpx logs request URLs at INFO; URLs never carry secrets here, but keep the output calm.
        logging.getLogger("httpx").setLevel(logging.WARNING)


class State:
    def __init__(self, config_path: Path | None, verbose: int) -> None:
        self.config_path = config_path
        self.verbose = verbose

    def config(self, *, providers: bool = True) -> Config:
        return load(self.config_path, providers=providers)


@contextmanager
def _session(config: Config) -> Iterator[Store]:
    from ..store import open_store

    store = open_store(config.database_url, data_dir=data_dir())
    try:
        yield store
    finally:
        store.close()


@contextmanager
def _demo_or_real(state: State, demo: bool, *, process: bool = False) -> Iterator[Config]:
    if not demo:
        yield state.config()
        return
    from .demo import demo_config, start_simulator

    sim = start_simulator(process=process)
    _DEMO_SIM.append(sim)
    try:
        yield demo_config(sim.url)
    finally:
        _DEMO_SIM.remove(sim)
        sim.stop()


def exit_code(snapshot: Snapshot) -> int:
    active = [p for p in snapshot.providers if p.status not in (Status.UNCONFIGURED, Status.DISABLED)]
    if not active:
        return EXIT_NOTHING
    return EXIT_DEGRADED if any(p.status in (Status.STALE, Status.ERROR) for p in active) else EXIT_OK


def _print_json(data: Any) -> None:
    sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.flush()


class LazyGroup(click.Group):
    """Command groups that live in their own modules are imported only when invoked, so a quick
    command never pays for another's imports (the secret store's cryptography, for one)."""

    lazy = {"auth": ("agentgauge.cli.auth", "auth"), "cost": ("agentgauge.cli.cost", "cost")}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            import importlib

            module, attr = self.lazy[cmd_name]
            return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              envvar="AGENTGAUGE_CONFIG", help="Config file (default: the platform config dir).")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.version_option(package_name="agentgauge")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, verbose: int) -> None:
    """agentgauge: one view of every AI coding agent's usage limits."""
    _setup_logging(verbose)
    ctx.obj = State(config_path, verbose)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the snapshot as JSON (nothing else on stdout).")
@click.option("--provider", "providers", multiple=True, metavar="ID", help="Only this provider (repeatable).")
@click.option("--watch", is_flag=True, help="Keep refreshing (respecting each provider's minimum interval).")
@click.option("--interval", type=click.FloatRange(min=1), default=30.0, show_default=True,
              help="Seconds between screen updates with --watch.")
@click.option("--demo", is_flag=True, help="Use the built-in simulator: every provider, no credentials.")
@click.pass_obj
def status(state: State, as_json: bool, providers: tuple[str, ...], watch: bool, interval: float,
           demo: bool) -> None:
    """Show every account's windows: percent used, reset countdown, plan and status."""
    import asyncio

    from rich.console import Console
    from rich.live import Live

    from ..engine import Engine
    from .render import render

    with _demo_or_real(state, demo) as config, _session(config) as store:
        async def once(engine: Engine) -> Snapshot:
            return await engine.refresh(providers or None)

        async def run() -> int:
            async with Engine(config, store) as engine:
                snapshot = await once(engine)
                if as_json:
                    _print_json(snapshot.to_json_dict())
                    if not watch:
                        return exit_code(snapshot)
                console = Console()
                if not console.is_terminal:
                    console = Console(width=140)  # piped output is not cut to 80 columns
                if not watch:
                    console.print(render(snapshot, width=console.width))
                    return exit_code(snapshot)
                if as_json:
                    while True:
                        await asyncio.sleep(interval)
                        _print_json((await once(engine)).to_json_dict())
                with Live(render(snapshot, width=console.width), console=console, refresh_per_second=1) as live:
                    next_fetch = time.monotonic() + interval
                    while True:
                        await asyncio.sleep(1)
                        if time.monotonic() >= next_fetch:
                            snapshot = await once(engine)
                            next_fetch = time.monotonic() + interval
                        live.update(render(snapshot, width=console.width))  # countdowns tick every second

        try:
            code = asyncio.run(run())
        except KeyboardInterrupt:
            code = EXIT_OK
    sys.exit(code)


@cli.command(name="providers")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def providers_cmd(state: State, as_json: bool) -> None:
    """List every provider: whether it is configured and from which source (never the secret)."""
    from .. import auth
    from ..accounts import targets
    from ..providers import registry

    config = state.config()
    rows = []
    for target in targets(config):
        checks = auth.check_sources(target.provider, target.account, config)
        usable = next((c for c in checks if c.usable), None)
        rows.append({
            "provider": target.provider.id, "name": target.provider.name, "account": target.account.account,
            "enabled": target.account.enabled, "configured": usable is not None,
            "source": usable.source_id if usable else None, "origin": usable.origin if usable else None,
            "min_interval_seconds": target.provider.min_interval,
        })
    if as_json:
        _print_json({"providers": rows, "known": registry.ids()})
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    for column in ("Provider", "Account", "Configured", "Source", "From"):
        table.add_column(column)
    for row in rows:
        mark = "[green]yes[/]" if row["configured"] else "[dim]no[/]"
        if not row["enabled"]:
            mark = "[dim]disabled[/]"
        table.add_row(row["name"], row["account"], mark, row["source"] or "", row["origin"] or "")
    Console().print(table)


@cli.command()
@click.pass_obj
def doctor(state: State) -> None:
    """Check each provider's credential sources and explain what is missing."""
    from .doctor import run_doctor

    sys.exit(run_doctor(state.config_path))


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Anything but loopback requires AGENTGAUGE_SERVE_TOKEN.")
@click.option("--port", default=8777, show_default=True, type=int)
@click.option("--root-path", default="", help="Sub-path when hosted behind a reverse proxy (e.g. /gauge).")
@click.option("--demo", is_flag=True, help="Run against the built-in simulator: every provider, no credentials.")
@click.pass_obj
def serve(state: State, host: str, port: int, root_path: str, demo: bool) -> None:
    """Run the dashboard and HTTP API with the refresh scheduler (the main job)."""
    import asyncio
    import tempfile

    import uvicorn

    from ..web.app import create_app
    from ..web.security import is_loopback

    root_path = root_path.rstrip("/")
    if root_path and not root_path.startswith("/"):
        raise click.BadParameter("must start with '/'", param_hint="--root-path")
    with _demo_or_real(state, demo, process=True) as config:
        if demo:
            tmp = tempfile.mkdtemp(prefix="agentgauge-demo-")
            config = replace(config, database_url=str(Path(tmp) / "demo.db"), refresh_interval=120.0)
        if not is_loopback(host) and not config.serve_token:
            raise AgentGaugeError(
                f"refusing to serve on {host} without an access token",
                hint="Set AGENTGAUGE_SERVE_TOKEN (or serve_token in the config file), or bind to 127.0.0.1.")
        with _session(config) as store:
            if demo:
                from .demo import backfill

                click.echo("agentgauge demo: preparing 30 days of simulated history...", err=True)
                asyncio.run(backfill(config, store, _DEMO_SIM[-1]))
            app = create_app(config, store, bind_host=host, root_path=root_path, demo=demo)
            shown = "localhost" if is_loopback(host) else host
            click.echo(f"agentgauge dashboard: http://{shown}:{port}{root_path}/  (API: {root_path}/api/usage)",
                       err=True)
            from ..sim.server import CalmServer

            CalmServer(uvicorn.Config(app, host=host, port=port, log_level="warning", proxy_headers=False,
                                      access_log=False)).run()


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback only by default).")
@click.option("--port", default=8790, show_default=True, type=int)
def sim(host: str, port: int) -> None:
    """Serve every provider's simulated API (for demos, tests and benchmarks)."""
    import uvicorn

    from ..sim.server import base_urls, build_app

    app, _ = build_app()
    base = f"http://{host}:{port}"
    click.echo(f"agentgauge simulator on {base}", err=True)
    for provider_id, urls in base_urls(base).items():
        for name, url in urls.items():
            click.echo(f"  AGENTGAUGE_{provider_id.upper()}_{name.upper()}={url}", err=True)
    from ..sim.server import CalmServer

    CalmServer(uvicorn.Config(app, host=host, port=port, log_level="warning")).run()


def _guarded(entry: Callable[[], Any]) -> None:
    try:
        entry()
    except AgentGaugeError as exc:
        click.echo(f"error: {exc.message}", err=True)
        click.echo(f"hint: {exc.hint}", err=True)
        sys.exit(EXIT_USAGE)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if logging.getLogger("agentgauge").isEnabledFor(logging.DEBUG):
            raise
        click.echo(f"internal error: {type(exc).__name__}; rerun with -vv for details", err=True)
        sys.exit(EXIT_INTERNAL)


def main() -> None:
    _guarded(lambda: cli.main(standalone_mode=True))
