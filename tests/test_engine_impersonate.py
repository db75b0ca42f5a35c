"""Auth sources declared ``impersonate=True`` (the Cloudflare-fronted web logins: claude.ai, chatgpt.com,
kimi.com) are fetched with the browser-TLS client, which sends Chrome's own headers; every other source
with plain httpx (agentgauge's User-Agent unless the provider sets its own); with
``AGENTGAUGE_IMPERSONATE=off`` plain httpx everywhere. The simulator records what arrived."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentgauge.config import AccountConfig, Config, load
from agentgauge.engine import Engine
from agentgauge.models import Status
from agentgauge.providers import registry
from tests.harness import sim_settings
from tests.simlog import Mark

# (provider, the settings that select one source) for each source declared impersonate=True...
BROWSER_SOURCES = {
    "claude": {"oauth_token": ""},
    "codex": {"access_token": "", "refresh_token": ""},
    "kimi": {"api_key": ""},
}
# ...and for sources that are not.
PLAIN_SOURCES = {
    "claude": {"session_key": ""},
    "codex": {"session_token": ""},
    "kimi": {"auth_token": ""},
    "zai": {},
    "ollama": {},
}


def _config(sim_url: str, sources: dict[str, dict[str, str]], impersonate: str, account: str) -> Config:
    """One named account per provider (a name of its own per test pass, so no gate is shared)."""
    accounts = []
    for provider_id, overrides in sources.items():
        settings = {k: v for k, v in sim_settings(provider_id, sim_url, **overrides).items() if v}
        accounts.append(AccountConfig(provider_id, account, True, settings, dict.fromkeys(settings, "test"), True))
    return Config(path=None, accounts=tuple(accounts), env={}, home=Path("/nonexistent"), impersonate=impersonate)


async def _arrived(sim: Any, store: Any, config: Config) -> dict[str, list[dict[str, str]]]:
    """The headers of every request each provider's refresh sent to the simulator."""
    mark = Mark(sim)
    async with Engine(config, store) as engine:
        snapshot = await engine.refresh()
    assert all(p.status == Status.OK for p in snapshot.providers), [(p.provider, p.error) for p in snapshot.providers]
    chosen = {p.provider: p.source for p in snapshot.providers}
    arrived: dict[str, list[dict[str, str]]] = {}
    for request in mark.requests():
        arrived.setdefault(request["path"].split("/")[1], []).append(request["headers"])
    assert set(arrived) == set(chosen), (arrived.keys(), chosen)
    return arrived


def _own_user_agent(provider_id: str) -> str | None:
    return getattr(__import__(type(registry.get(provider_id)).__module__, fromlist=["x"]), "USER_AGENT", None)


def _is_browser(headers: dict[str, str]) -> bool:
    """Chrome's request as curl-impersonate sends it: its client hints and its User-Agent."""
    return "sec-ch-ua" in headers and "Chrome/" in headers.get("user-agent", "")


async def test_web_logins_go_out_as_chrome_and_the_rest_as_agentgauge(sim, store) -> None:
    browser = await _arrived(sim, store, _config(sim.url, BROWSER_SOURCES, "", "browser"))
    for provider_id, requests in browser.items():
        for headers in requests:
            assert _is_browser(headers), (provider_id, headers)
    plain = await _arrived(sim, store, _config(sim.url, PLAIN_SOURCES, "", "plain"))
    for provider_id, requests in plain.items():
        for headers in requests:
            assert "sec-ch-ua" not in headers, (provider_id, headers)
            assert headers["user-agent"] in ("agentgauge", _own_user_agent(provider_id)), (provider_id, headers)
    assert any(h["user-agent"] == "agentgauge" for rs in plain.values() for h in rs)


@pytest.mark.parametrize("setting", ["off", "OFF"])
async def test_impersonate_off_uses_plain_httpx_everywhere(sim, store, setting: str) -> None:
    assert load(env={"AGENTGAUGE_IMPERSONATE": setting}, providers=False).impersonate == setting
    arrived = await _arrived(sim, store, _config(sim.url, BROWSER_SOURCES, setting, "off"))
    for provider_id, requests in arrived.items():
        for headers in requests:
            assert not _is_browser(headers) and "sec-ch-ua" not in headers, (provider_id, headers)
            assert headers["user-agent"] in ("agentgauge", _own_user_agent(provider_id)), (provider_id, headers)
