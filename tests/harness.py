"""Test helpers: run one provider's real fetch + parse against the simulator over HTTP."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from agentgauge.config import AccountConfig, Config
from agentgauge.credentials import resolve as auth
from agentgauge.models import Usage
from agentgauge.providers import registry
from agentgauge.providers._base import FetchContext

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_text(provider: str, name: str) -> str:
    return (FIXTURES / provider / name).read_text(encoding="utf-8")


def fixture_json(provider: str, name: str) -> Any:
    return json.loads(fixture_text(provider, name))


def sim_settings(provider_id: str, sim_url: str, **overrides: str) -> dict[str, str]:
    """Settings that point ``provider_id`` at the simulator with the simulator's credentials."""
    provider = registry.get(provider_id)
    settings = {name: f"{sim_url}/{provider.id}/{name}" for name in provider.urls}
    settings.update(provider.sim_credentials)
    settings.update(overrides)
    return settings


def account_config(
    provider_id: str,
    settings: dict[str, str],
    *,
    env: dict[str, str] | None = None,
    home: Path | None = None,
    account: str = "default",
) -> Config:
    """One account, as config.load would build it: ``settings`` set directly, and for the default
    account the ecosystem's own variables (``Setting.env``) from ``env`` for what is left unset."""
    settings, origins = dict(settings), {k: "test" for k in settings}
    if account == "default":
        for spec in registry.get(provider_id).settings:
            alias = next((n for n in spec.env if (env or {}).get(n)), None)
            if alias and not settings.get(spec.name):
                settings[spec.name], origins[spec.name] = (env or {})[alias], f"environment variable {alias}"
    acct = AccountConfig(provider_id, account, True, settings, origins, explicit=True)
    return Config(path=None, accounts=(acct,), env=env or {}, home=home or Path("/nonexistent-home"))


async def fetch_usage(
    provider_id: str,
    settings: dict[str, str],
    *,
    env: dict[str, str] | None = None,
    home: Path | None = None,
    timeout: float = 5.0,
    source: int = 0,
) -> Usage:
    """Resolve credentials like the engine does, then run fetch and parse for real."""
    provider = registry.get(provider_id)
    config = account_config(provider_id, settings, env=env, home=home)
    account = config.accounts[0]
    creds = auth.resolve(provider, account, config)
    assert creds, f"no usable auth source for {provider_id} with {sorted(settings)}"
    async with httpx.AsyncClient(timeout=timeout) as client:
        ctx = FetchContext(
            provider=provider,
            account="default",
            http=client,
            settings=auth.plain_settings(provider, account, config),
            credentials=creds[source],
            now=lambda: datetime.now(UTC),
            log=logging.getLogger("test"),
        )
        raw = await provider.fetch(ctx)
    return provider.parse(raw, datetime.now(UTC))


def add_fault(sim: Any, prefix: str, kind: str, **spec: object) -> None:
    """Make the simulator misbehave on paths starting with ``prefix`` (see sim/faults.py Fault)."""
    httpx.post(f"{sim.url}/__sim/faults", json={"prefix": prefix, "kind": kind, **spec}).raise_for_status()


def add_challenge(sim: Any, prefix: str) -> None:
    """Cloudflare's interstitial on paths starting with ``prefix``: a 403 HTML page marked as a challenge."""
    add_fault(
        sim,
        prefix,
        "status",
        status=403,
        headers={"content-type": "text/html", "cf-mitigated": "challenge"},
        body="<html><title>Just a moment...</title></html>",
    )


def sim_requests(sim: Any) -> list[dict[str, Any]]:
    return httpx.get(f"{sim.url}/__sim/requests").json()


def load(path: Path | None = None, *, secrets: bool = True, **kwargs: Any) -> Config:
    """The config as the CLI sees it: the file and environment, plus the secret store's values."""
    from agentgauge.config import load as load_file
    from agentgauge.credentials import with_stored

    config = load_file(path, **kwargs)
    return with_stored(config) if secrets else config
