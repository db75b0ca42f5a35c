"""The ``agentgauge`` command line: the click group and its core commands (``cli.main`` runs it; exit
codes in ``cli.exits``)."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

# Heavy modules (engine, pydantic models, providers, rich) are imported inside the commands that
# need them, so quick commands such as `cost` start in a fraction of the time.
from ..config import Config, data_dir, load
from ..errors import AgentGaugeError
from .exits import EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, exit_code
from .remote import server_option

if TYPE_CHECKING:
    from ..models import Snapshot
    from ..store import Store

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

    def config(self, *, providers: bool = True, secrets: bool = True) -> Config:
        """The config file and environment, plus the secrets saved with ``agentgauge auth``."""
        config = load(self.config_path, providers=providers)
        if providers and secrets:
            from ..credentials import with_stored

            config = with_stored(config)
        return config


@contextmanager
def _session(config: Config) -> Iterator[Store]:
    from ..store import open_store

    store = open_store(config.database_url, data_dir=data_dir())
    try:
        yield store
    finally:
        store.close()


@contextmanager
def _demo_or_real(state: State, demo: bool, *, process: bool = False, serve: Config | None = None) -> Iterator[Config]:
    """The real config, or the demo's (simulator, temp data; removed on the way out). ``serve``: the
    real config's global settings, for a demo that serves (its own store, the real token)."""
    if not demo:
        yield state.config()
        return
    from .demo import demo_run

    with demo_run(process=process, serve=serve) as run:
        _DEMO_SIM.append(run.sim)
        try:
            if serve is not None:
                click.echo(f"agentgauge demo: simulated providers at {run.sim.url}; store: {run.store}", err=True)
            yield run.config
        finally:
            _DEMO_SIM.remove(run.sim)


def _print_json(data: Any) -> None:
    sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.flush()


class LazyGroup(click.Group):
    """Command groups that live in their own modules are imported only when invoked, so a quick
    command never pays for another's imports (the secret store's cryptography, for one)."""

    lazy = {
        "alerts": ("agentgauge.cli.alerts", "alerts"),
        "auth": ("agentgauge.cli.auth", "auth"),
        "cost": ("agentgauge.cli.cost", "cost"),
        "export": ("agentgauge.cli.history", "export_command"),
        "extension": ("agentgauge.cli.extension", "extension"),
        "guard": ("agentgauge.cli.agents", "guard_command"),
        "hub": ("agentgauge.cli.hub", "hub"),
        "history": ("agentgauge.cli.history", "history"),
        "pick": ("agentgauge.cli.agents", "pick_command"),
        "push": ("agentgauge.cli.hub", "push_command"),
        "mcp": ("agentgauge.cli.agents", "mcp_command"),
        "service": ("agentgauge.cli.service", "service"),
        "statusline": ("agentgauge.cli.agents", "statusline_command"),
        "users": ("agentgauge.cli.users", "users"),
        "keys": ("agentgauge.cli.keys", "keys"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            import importlib

            module, attr = self.lazy[cmd_name]
            command: click.Command = getattr(importlib.import_module(module), attr)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="AGENTGAUGE_CONFIG",
    help="Config file (default: the platform config dir).",
)
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
@click.option(
    "--interval",
    type=click.FloatRange(min=1),
    default=30.0,
    show_default=True,
    help="Seconds between screen updates with --watch.",
)
@click.option("--demo", is_flag=True, help="Use the built-in simulator: every provider, no credentials.")
@server_option
@click.pass_obj
def status(
    state: State,
    as_json: bool,
    providers: tuple[str, ...],
    watch: bool,
    interval: float,
    demo: bool,
    server: str | None,
) -> None:
    """Show every account's windows: percent used, reset countdown, plan and status."""
    import asyncio

    from rich.console import Console
    from rich.live import Live

    from ..engine import Engine
    from ..query import Query
    from .render import render

    if server:  # another machine's serve: its cached snapshot, read with an API key (docs/users.md)
        from .remote_status import remote_status

        sys.exit(remote_status(server, providers, as_json=as_json, watch=watch, interval=interval))
    with _demo_or_real(state, demo) as config, _session(config) as store:
        if not demo:  # accounts added or adjusted from the dashboard (docs/users.md)
            from ..managed import managed_config

            config = managed_config(config, store)

        async def once(engine: Engine) -> Snapshot:
            # A window whose reset passed reads "reset, confirming..." until a fetch confirms it.
            return Query(config, store, engine.clock).settle(await engine.refresh(providers or None))

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
                with Live(
                    render(snapshot, width=console.width, watch=True), console=console, refresh_per_second=1
                ) as live:
                    next_fetch = time.monotonic() + interval
                    while True:
                        await asyncio.sleep(1)
                        if time.monotonic() >= next_fetch:
                            snapshot = await once(engine)
                            next_fetch = time.monotonic() + interval
                        live.update(render(snapshot, width=console.width, watch=True))  # countdowns tick every second

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
    from ..providers import registry
    from ..query import sources

    rows = [{k: v for k, v in row.items() if k != "checks"} for row in sources(state.config())]
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
@click.option(
    "--bundle",
    "bundle_provider",
    metavar="PROVIDER",
    help="Write a redacted fixture of PROVIDER's answer (for a bug report) to the current folder.",
)
@click.option("--account", default="default", show_default=True, help="The account to bundle (with --bundle).")
@click.pass_obj
def doctor(state: State, bundle_provider: str | None, account: str) -> None:
    """Check each provider's credential sources and explain what is missing."""
    if bundle_provider:
        from .bundle import run_bundle

        sys.exit(run_bundle(state.config(), bundle_provider, account))
    from .doctor import run_doctor

    sys.exit(run_doctor(state.config_path))


@cli.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help='Address to bind. Anything but loopback (0.0.0.0, ::, "" included) requires AGENTGAUGE_SERVE_TOKEN.',
)
@click.option(
    "--port",
    default=8777,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on; 0 picks a free one (the URL printed shows it).",
)
@click.option("--root-path", default="", help="Sub-path when hosted behind a reverse proxy (e.g. /gauge).")
@click.option("--demo", is_flag=True, help="Run against the built-in simulator: every provider, no credentials.")
@click.option(
    "--history-days",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0, 90),
    envvar="AGENTGAUGE_DEMO_HISTORY_DAYS",
    help="With --demo: days of simulated history made before serving (0: none, the quickest start).",
)
@click.option(
    "--push-to",
    metavar="URL",
    envvar="AGENTGAUGE_PUSH_TO",
    help="Also push this machine's snapshots to the hub at URL, with the token in AGENTGAUGE_PUSH_TOKEN "
    "or saved by `agentgauge hub token set` (docs/hub.md).",
)
@click.pass_obj
def serve(
    state: State, host: str, port: int, root_path: str, demo: bool, history_days: float, push_to: str | None
) -> None:
    """Run the dashboard and HTTP API with the refresh scheduler (the main job).

    Ctrl-C, SIGTERM and SIGHUP stop it cleanly (exit 0)."""
    import asyncio

    from ..errors import ConfigError
    from ..web.app import create_app
    from ..web.security import needs_token
    from .serving import StopSignals, bind, dashboard_url, run_server

    root_path = root_path.rstrip("/")
    if root_path and not root_path.startswith("/"):
        raise click.BadParameter("must start with '/'", param_hint="--root-path")
    with StopSignals() as signals:
        try:
            settings = state.config(providers=False)
            if needs_token(host) and not settings.serve_token and settings.auth != "users":
                where = host or 'every interface (--host "")'
                raise ConfigError(
                    f"refusing to serve on {where} without an access token or user accounts",
                    hint='Set AGENTGAUGE_SERVE_TOKEN (or serve_token), or auth = "users" in the config file '
                    "(docs/users.md), or bind to 127.0.0.1.",
                )
            hub_target = None
            if push_to:  # checked before binding: a missing token is one line, not a server that cannot push
                from ..hub.push import HubTarget, hub_url, push_token

                hub_target = HubTarget(hub_url(push_to), push_token(settings.env))
            with (
                bind(host, port) as listener,
                _demo_or_real(state, demo, process=True, serve=settings) as config,
                _session(config) as store,
            ):
                signals.deferring = True  # from here a stop is checked for, never raised (StopSignals)
                if demo and history_days:
                    from .demo import backfill

                    click.echo(f"agentgauge demo: preparing {history_days:g} days of simulated history...", err=True)
                    asyncio.run(
                        backfill(config, store, _DEMO_SIM[-1], days=history_days, stop=lambda: signals.requested)
                    )
                if signals.requested:
                    raise KeyboardInterrupt
                app = create_app(config, store, bind_host=host, root_path=root_path, demo=demo, push_to=hub_target)
                url = dashboard_url(listener, host, root_path)
                click.echo(f"agentgauge dashboard: {url}  (API: {root_path}/api/usage)", err=True)
                if app.state.setup_code:  # multi-user mode, no user yet: straight to the console, never a log
                    click.echo(f"agentgauge setup code: {app.state.setup_code}  (enter it at {url}setup)", err=True)
                if hub_target is not None:
                    click.echo(f"agentgauge: pushing this machine's snapshots to {hub_target.url}", err=True)
                run_server(app, listener, signals)
        except KeyboardInterrupt:
            pass  # Ctrl-C, SIGTERM or SIGHUP before the server ran: a clean stop as well


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

    CalmServer(uvicorn.Config(app, host=host, port=port, log_level="warning", http="h11")).run()


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


def _run_cli() -> None:
    """click's standalone mode, without its "Aborted!": Ctrl-C (or the end of input at a prompt)
    before a command's own handling is a quiet stop, exit 130 as a shell reports it. Long-running
    commands (serve, status --watch) catch Ctrl-C themselves and exit 0."""
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


def main() -> None:
    _guarded(_run_cli)
