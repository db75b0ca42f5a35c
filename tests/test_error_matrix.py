"""Every provider through the real HTTP stack and the engine, with one provider misbehaving at a
time: that provider gets the right typed error and status; every other provider stays ok."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from agentgauge.cli.demo import demo_config
from agentgauge.engine import Engine
from agentgauge.models import ErrorKind, Status
from agentgauge.providers import registry
from agentgauge.store import open_store
from tests.harness import add_fault

CLOUDFLARE = "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>cf-chl</body></html>"

FAULTS: dict[str, tuple[dict, ErrorKind | None]] = {
    "401": ({"kind": "status", "status": 401, "body": '{"error": "unauthorized"}'}, ErrorKind.AUTH),
    "403-cloudflare": (
        {
            "kind": "status",
            "status": 403,
            "body": CLOUDFLARE,
            "headers": {"content-type": "text/html", "cf-mitigated": "challenge"},
        },
        ErrorKind.UPSTREAM,
    ),
    "429-retry-after": (
        {"kind": "status", "status": 429, "body": "{}", "headers": {"retry-after": "120"}},
        ErrorKind.RATE_LIMITED,
    ),
    "500": ({"kind": "status", "status": 500, "body": "internal error"}, ErrorKind.UPSTREAM),
    "timeout": ({"kind": "timeout", "seconds": 4}, ErrorKind.TIMEOUT),
    "truncated": ({"kind": "truncate"}, ErrorKind.PARSE),
    "html-for-json": ({"kind": "html"}, ErrorKind.PARSE),
    "numbers-as-strings": ({"kind": "stringify_numbers"}, None),
    "unknown-extra-fields": ({"kind": "extra_fields"}, None),
}


GROUPS = 3  # each fault is applied to a third of the providers at once; the other two thirds must stay ok


def eligible(fault: str) -> list[str]:
    """The providers a fault applies to: every provider spoken to over HTTP (a local one's own test
    module runs the CLI/file fault cases); the JSON-altering faults only where answers are JSON (a
    page scrape has its own cases in its test file)."""
    json_only = fault in ("numbers-as-strings", "unknown-extra-fields", "truncated")
    return [
        p.id
        for p in registry.all_providers()
        if p.response_format != "local" and (not json_only or p.response_format == "json")
    ]


def cases() -> list[tuple[str, int]]:
    return [(fault, group) for fault in FAULTS for group in range(GROUPS)]


@pytest.mark.parametrize(("fault", "group"), cases())
async def test_fault_hits_only_its_providers(sim, tmp_path: Path, monkeypatch, fault: str, group: int):
    """Every provider gets every fault in one of the groups, while every other provider (the other
    groups, and those the fault does not apply to) is refreshed beside it and must stay ok."""
    spec, expected = FAULTS[fault]
    faulty = set(eligible(fault)[group::GROUPS])
    for provider_id in faulty:
        if expected == ErrorKind.TIMEOUT:  # the fault's 4 s outlast it; any other fault keeps the real
            # timeout, so a loaded machine's slow answer is not taken for the fault's error
            monkeypatch.setattr(type(registry.get(provider_id)), "timeout", 1.0)
        add_fault(sim, f"/{provider_id}/", **spec)
    store = open_store(str(tmp_path / "m.db"), data_dir=tmp_path)
    async with Engine(demo_config(sim.url, workdir=tmp_path / "demo"), store) as engine:
        snapshot = await engine.refresh()
    store.close()
    problems = []
    for p in snapshot.providers:
        if p.provider not in faulty or expected is None:
            # a balance-only provider counts as showing data
            if p.status != Status.OK or (p.provider in faulty and not (p.windows or p.balances)):
                problems.append((p.provider, p.account, "should be ok", p.status.value, p.error))
        elif p.status != Status.ERROR or p.error is None or p.error.kind != expected:
            problems.append((p.provider, p.account, f"should be a {expected.value} error", p.status.value, p.error))
        elif not (p.error.message and p.error.hint):
            problems.append((p.provider, p.account, "error without a message and a hint", p.error))
    assert {p.provider for p in snapshot.providers} >= faulty
    assert not problems, problems


@pytest.mark.parametrize("kind", ["extra_fields", "stringify_numbers"])
def test_json_altering_fault_leaves_other_answers_as_sent(sim, kind: str):
    """A JSON-altering fault on a provider whose flow also fetches non-JSON (an HTML page, a plain-text
    refusal) passes that answer through unchanged. It once crashed the simulator's handler: a 500 and
    a closed keep-alive connection that another provider's next request, reusing it, read as a
    network error."""
    add_fault(sim, "/warp/", kind=kind)
    url = f"{sim.url}/warp/url/graphql/v2?op=GetRequestLimitInfo"
    with httpx.Client() as client:
        refused = client.post(url, json={}, headers={"User-Agent": "curl/8"})
        assert (refused.status_code, refused.text) == (429, "Rate exceeded.")
        again = client.post(url, json={}, headers={"User-Agent": "curl/8"})  # the same connection still works
        assert (again.status_code, again.text) == (429, "Rate exceeded.")
