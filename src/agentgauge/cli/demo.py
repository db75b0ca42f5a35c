"""``--demo``: every provider against the built-in simulator, no credentials needed."""

from __future__ import annotations

import os
from pathlib import Path

from ..config import AccountConfig, Config
from ..providers import registry
from ..sim.server import SimProcess, SimServer

# A second Codex account shows how several accounts of one provider look.
EXTRA_ACCOUNTS = {"codex": ("work",)}


def demo_config(sim_url: str, *, database_url: str = ":memory:") -> Config:
    accounts: list[AccountConfig] = []
    for provider in registry.all_providers():
        settings = {name: f"{sim_url}/{provider.id}/{name}" for name in provider.urls}
        first = provider.auth[0] if provider.auth else None
        creds = {k: v for k, v in provider.sim_credentials.items()
                 if first is None or k in first.requires or k in first.optional}
        accounts.append(AccountConfig(provider.id, "default", True, {**settings, **creds},
                                      dict.fromkeys({**settings, **creds}, "demo"), explicit=True))
        for name in EXTRA_ACCOUNTS.get(provider.id, ()):
            secret_names = set(provider.secret_settings())
            named = {k: (f"{v}#{name}" if k in secret_names else v) for k, v in creds.items()}
            accounts.append(AccountConfig(provider.id, name, True, {**settings, **named},
                                          dict.fromkeys({**settings, **named}, "demo"), explicit=True))
    return Config(path=None, accounts=tuple(accounts), database_url=database_url, env=dict(os.environ),
                  home=Path.home())


def start_simulator(*, process: bool = False) -> SimServer | SimProcess:
    return SimProcess().start() if process else SimServer().start()


async def backfill(config: Config, store: object, sim: SimServer | SimProcess, *, days: float = 30.0) -> None:
    """Give the demo real history: walk the simulator's clock back and run the real engine at
    each step, so every sample goes through fetch, parse and the store like live data does."""
    from datetime import UTC, datetime, timedelta

    import httpx

    from ..engine import Engine

    now = datetime.now(UTC)
    steps = [now - timedelta(days=days) + timedelta(hours=12) * i for i in range(int(days * 2) - 14)]
    steps += [now - timedelta(days=7) + timedelta(hours=2) * i for i in range(7 * 12 - 12)]
    steps += [now - timedelta(days=1) + timedelta(minutes=20) * i for i in range(72)]
    clock = {"now": steps[0]}

    async def sim_now(client: httpx.AsyncClient, seconds: float) -> datetime:
        reply = await client.post(f"{sim.url}/__sim/advance", json={"seconds": seconds})
        return datetime.fromisoformat(reply.json()["now"])

    async with httpx.AsyncClient() as client, Engine(config, store, clock=lambda: clock["now"]) as engine:  # type: ignore[arg-type]
        for when in steps:
            current = await sim_now(client, 0)
            await sim_now(client, (when - current).total_seconds())
            clock["now"] = when
            await engine.refresh()
        current = await sim_now(client, 0)
        await sim_now(client, (datetime.now(UTC) - current).total_seconds())
    # The backfill's gates lie in the past, so live refreshes start at once.
