"""``agentgauge doctor --bundle PROVIDER``: writes the redacted fixture (agentgauge.bundle)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from ..config import Config, data_dir
from ..errors import ConfigError


def run_bundle(config: Config, provider_id: str, account: str) -> int:
    from .. import bundle
    from ..engine import Engine
    from ..providers import registry
    from ..store import open_store

    registry.get(provider_id)  # an unknown id is a ConfigError with the known ones
    store = open_store(config.database_url, data_dir=data_dir())
    try:

        async def run() -> dict[str, object]:
            async with Engine(config, store) as engine:
                target = next((t for t in engine.targets([provider_id]) if t.account.account == account), None)
                if target is None:
                    raise ConfigError(
                        f"{provider_id} has no account '{account}'", hint="`agentgauge providers` lists the accounts."
                    )
                return await bundle.capture(engine, target)

        data = asyncio.run(run())
    finally:
        store.close()
    path = bundle.write(data, Path.cwd())
    click.echo(f"wrote {path}", err=True)
    click.echo(
        f"  {data['note']}; credentials and secret-looking fields are masked. Attach it to your bug report.", err=True
    )
    return 0
