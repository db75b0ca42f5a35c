"""Every provider through the real HTTP stack and the engine, with one provider misbehaving at a
time: that provider gets the right typed error and status; every other provider stays ok."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentgauge.cli.demo import demo_config
from agentgauge.engine import Engine
from agentgauge.models import ErrorKind, Status
from agentgauge.providers import registry
from agentgauge.store import open_store
from tests.harness import add_fault

CLOUDFLARE = "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>cf-chl</body></html>"
# Providers whose upstream answers HTML (a page scrape) rather than JSON.
HTML_PROVIDERS = {"ollama"}

FAULTS: dict[str, tuple[dict, ErrorKind | None]] = {
    "401": ({"kind": "status", "status": 401, "body": '{"error": "unauthorized"}'}, ErrorKind.AUTH),
    "403-cloudflare": ({"kind": "status", "status": 403, "body": CLOUDFLARE,
                        "headers": {"content-type": "text/html", "cf-mitigated": "challenge"}}, ErrorKind.UPSTREAM),
    "429-retry-after": ({"kind": "status", "status": 429, "body": "{}", "headers": {"retry-after": "120"}},
                        ErrorKind.RATE_LIMITED),
    "500": ({"kind": "status", "status": 500, "body": "internal error"}, ErrorKind.UPSTREAM),
    "timeout": ({"kind": "timeout", "seconds": 4}, ErrorKind.TIMEOUT),
    "truncated": ({"kind": "truncate"}, ErrorKind.PARSE),
    "html-for-json": ({"kind": "html"}, ErrorKind.PARSE),
    "numbers-as-strings": ({"kind": "stringify_numbers"}, None),
    "unknown-extra-fields": ({"kind": "extra_fields"}, None),
}


def cases() -> list[tuple[str, str]]:
    out = []
    for provider_id in registry.ids():
        for name in FAULTS:
            json_only = name in ("numbers-as-strings", "unknown-extra-fields", "truncated")
            if json_only and provider_id in HTML_PROVIDERS:
                continue  # these alter JSON bodies; the HTML page has its own cases in its test file
            out.append((provider_id, name))
    return out


@pytest.mark.parametrize(("provider_id", "fault"), cases())
async def test_fault_hits_only_its_provider(sim, tmp_path: Path, monkeypatch, provider_id: str, fault: str):
    spec, expected = FAULTS[fault]
    provider = registry.get(provider_id)
    monkeypatch.setattr(type(provider), "timeout", 1.0)
    add_fault(sim, f"/{provider_id}/", **spec)
    store = open_store(str(tmp_path / "m.db"), data_dir=tmp_path)
    async with Engine(demo_config(sim.url), store) as engine:
        snapshot = await engine.refresh()
    store.close()
    for p in snapshot.providers:
        if p.provider != provider_id:
            assert p.status == Status.OK, (p.provider, p.error)
            continue
        if expected is None:
            assert p.status == Status.OK and p.windows, p.error
        else:
            assert p.status == Status.ERROR, p
            assert p.error is not None and p.error.kind == expected, p.error
            assert p.error.message and p.error.hint
