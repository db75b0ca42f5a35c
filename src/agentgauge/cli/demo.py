"""``--demo``: every provider against the built-in simulator, no credentials needed.

Everything comes from the registry: each provider's URL settings point at the simulator, its
first auth source gets the simulator's credentials, ``demo_accounts`` adds more accounts, and a
provider whose source is local (a CLI, a file) prepares it in ``<package>/sim.py``'s
``demo_settings(sim_url, workdir)``.

``demo_run`` owns everything a demo creates (the simulator, a temp workdir and, for ``serve``, its
store) and removes all of it when the demo ends; ``serve``'s signal handling makes sure it ends
through that cleanup.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..config import AccountConfig, Config
from ..errors import ConfigError
from ..providers import registry
from ..sim.process import SimProcess
from ..sim.server import SimServer, sim_module

log = logging.getLogger("agentgauge.demo")
DEMO_REFRESH_INTERVAL = 120.0
SCHEMA_PREFIX = "agentgauge_demo_"
# pg_advisory_lock(class, key): each running demo holds (LOCK_CLASS, hashtext(its schema)) for its
# lifetime, so a later demo can tell an abandoned schema (kill -9) from one still in use.
LOCK_CLASS = 0x61676175


def demo_config(sim_url: str, *, database_url: str = ":memory:", workdir: Path | None = None) -> Config:
    """A config with every provider pointed at the simulator at ``sim_url``. Local sources (fake CLIs,
    config trees) are written below ``workdir`` (a new temp dir when None; the caller removes it)."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix="agentgauge-demo-"))
    accounts: list[AccountConfig] = []
    for provider in registry.all_providers():
        settings = {name: f"{sim_url}/{provider.id}/{name}" for name in provider.urls}
        first = provider.auth[0] if provider.auth else None
        creds = {
            k: v
            for k, v in provider.sim_credentials.items()
            if first is None or k in first.requires or k in first.optional
        }
        module = sim_module(provider)
        if module is not None and hasattr(module, "demo_settings"):
            settings.update(module.demo_settings(sim_url, workdir / provider.id))
        accounts.append(
            AccountConfig(
                provider.id,
                "default",
                True,
                {**settings, **creds},
                dict.fromkeys({**settings, **creds}, "demo"),
                explicit=True,
            )
        )
        for name in provider.demo_accounts:
            secret_names = set(provider.secret_settings())
            named = {k: (f"{v}#{name}" if k in secret_names else v) for k, v in creds.items()}
            accounts.append(
                AccountConfig(
                    provider.id,
                    name,
                    True,
                    {**settings, **named},
                    dict.fromkeys({**settings, **named}, "demo"),
                    explicit=True,
                )
            )
    return Config(
        path=None, accounts=tuple(accounts), database_url=database_url, env=dict(os.environ), home=Path.home()
    )


@dataclass(frozen=True)
class DemoRun:
    config: Config
    sim: SimServer | SimProcess
    store: str  # which store the demo uses, in words


@contextmanager
def demo_run(*, process: bool = False, serve: Config | None = None) -> Iterator[DemoRun]:
    """Start the simulator (in a child process with ``process``) and yield the demo's config; everything
    is removed on the way out, in reverse order. With ``serve`` (the real config's global settings) the
    demo gets its own store: a schema in ``serve``'s PostgreSQL database when it names one, else a SQLite
    file in the workdir. It never writes to the user's own history. Its token and allowed hosts are
    ``serve``'s."""
    with ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="agentgauge-demo-"))
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        sim: SimServer | SimProcess = SimProcess(cleanup=workdir) if process else SimServer()
        stack.callback(sim.stop)
        sim.start()
        config = demo_config(sim.url, workdir=workdir)
        label = "in memory"
        if serve is not None:
            url, label = stack.enter_context(_demo_store(workdir, serve.database_url))
            config = replace(
                config,
                database_url=url,
                refresh_interval=DEMO_REFRESH_INTERVAL,
                serve_token=serve.serve_token,
                allowed_hosts=serve.allowed_hosts,
            )
        yield DemoRun(config, sim, label)


@contextmanager
def _demo_store(workdir: Path, database_url: str | None) -> Iterator[tuple[str, str]]:
    """(database URL, description) of the demo's store."""
    if database_url and database_url.startswith(("postgresql://", "postgres://")):
        with _demo_schema(database_url) as found:
            yield found
        return
    path = workdir / "demo.db"
    yield str(path), f"a temporary SQLite file, {path} (removed on exit)"


@contextmanager
def _demo_schema(url: str) -> Iterator[tuple[str, str]]:
    """A fresh schema in the PostgreSQL database at ``url``, dropped on exit. Schemas left by demos that
    were killed are dropped first (no demo holds their lock any more)."""
    from ..store.postgres import connect, target_of

    conn = connect(url)  # a ConfigError naming the host (never the password) when it cannot connect
    conn.autocommit = True
    schema = SCHEMA_PREFIX + secrets.token_hex(4)
    try:
        try:
            _drop_abandoned(conn)
            conn.execute("SELECT pg_advisory_lock(%s::int4, hashtext(%s))", (LOCK_CLASS, schema))
            conn.execute(f'CREATE SCHEMA "{schema}"')
        except Exception as exc:
            raise ConfigError(
                f"the demo cannot create its schema on {target_of(url)} ({type(exc).__name__})",
                hint="The demo needs permission to create a schema in that database; or unset "
                "AGENTGAUGE_DATABASE_URL to give the demo a temporary SQLite file.",
            ) from None
        separator = "&" if "?" in url else "?"
        options = quote(f"-c search_path={schema}", safe="")
        try:
            yield f"{url}{separator}options={options}", f"{target_of(url)}, schema {schema} (dropped on exit)"
        finally:
            with suppress(Exception):  # the database may be gone; the next demo drops the schema then
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        conn.close()


def _drop_abandoned(conn: Any) -> None:
    rows = conn.execute("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", (SCHEMA_PREFIX,))
    for (name,) in rows.fetchall():
        if conn.execute("SELECT pg_try_advisory_lock(%s::int4, hashtext(%s))", (LOCK_CLASS, name)).fetchone()[0]:
            log.info("dropping %s, left by a demo that did not stop cleanly", name)
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
            conn.execute("SELECT pg_advisory_unlock(%s::int4, hashtext(%s))", (LOCK_CLASS, name))


def history_steps(now: datetime, days: float) -> list[datetime]:
    """When the demo's history is sampled: daily before the last week, every 6 hours in it, hourly in
    the last day and every 15 minutes in the last two hours (what the charts and forecasts show at
    each range), from ``days`` ago; none for 0."""
    if days <= 0:
        return []
    start = now - timedelta(days=days)
    steps: list[datetime] = []
    for begin, end, step in (
        (start, now - timedelta(days=7), timedelta(days=1)),
        (max(start, now - timedelta(days=7)), now - timedelta(days=1), timedelta(hours=6)),
        (max(start, now - timedelta(days=1)), now - timedelta(hours=2), timedelta(hours=1)),
        (max(start, now - timedelta(hours=2)), now, timedelta(minutes=15)),
    ):
        when = begin
        while when < end:
            steps.append(when)
            when += step
    return steps


async def backfill(
    config: Config,
    store: object,
    sim: SimServer | SimProcess,
    *,
    days: float = 30.0,
    stop: Callable[[], bool] = lambda: False,
) -> None:
    """Give the demo real history: walk the simulator's clock back and run the real engine at
    each step, so every sample goes through fetch, parse and the store like live data does.
    ``stop()`` is asked between steps: true ends the backfill early."""
    import httpx

    from ..engine import Engine

    steps = history_steps(datetime.now(UTC), days)
    if not steps:
        return
    clock = {"now": steps[0]}

    async def sim_now(client: httpx.AsyncClient, seconds: float) -> datetime:
        reply = await client.post(f"{sim.url}/__sim/advance", json={"seconds": seconds})
        return datetime.fromisoformat(reply.json()["now"])

    async with httpx.AsyncClient() as client, Engine(config, store, clock=lambda: clock["now"]) as engine:  # type: ignore[arg-type]
        for when in steps:
            if stop():
                break
            current = await sim_now(client, 0)
            await sim_now(client, (when - current).total_seconds())
            clock["now"] = when
            await engine.refresh()
        current = await sim_now(client, 0)
        await sim_now(client, (datetime.now(UTC) - current).total_seconds())
    # The backfill's gates lie in the past, so live refreshes start at once.
