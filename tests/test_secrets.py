"""A sentinel secret must never reach stdout, stderr/logs, error messages or the database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from agentgauge.providers import registry
from agentgauge.secret import Secret, redact, scrub
from tests.harness import add_fault

SENTINEL = "SENTINEL-7f3a9c1e"


def test_secret_is_masked():
    s = Secret("abc-" + SENTINEL)
    assert SENTINEL not in repr(s) and SENTINEL not in str(s) and SENTINEL not in f"{s}"
    assert s.reveal().endswith(SENTINEL)
    assert redact({"api_key": "x", "nested": {"session_token": "y"}, "plan": "pro"}) == {
        "api_key": "***", "nested": {"session_token": "***"}, "plan": "pro"}
    assert SENTINEL not in scrub(f"echo: Bearer tok-{SENTINEL} and sk-ant-oat01-{SENTINEL}", [])


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agentgauge", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_sentinel_never_leaks(sim, tmp_path: Path):
    env = {k: v for k, v in os.environ.items()}
    db = tmp_path / "s.db"
    env["AGENTGAUGE_DATABASE_URL"] = str(db)
    secret_values = {}
    for provider in registry.all_providers():
        first = provider.auth[0]
        for name in provider.urls:
            env[f"AGENTGAUGE_{provider.id.upper()}_{name.upper()}"] = f"{sim.url}/{provider.id}/{name}"
        for key, value in provider.sim_credentials.items():
            if key in first.requires or key in first.optional:
                secret = f"{value}#{SENTINEL}" if provider.setting_spec(key).secret else value
                env[f"AGENTGAUGE_{provider.id.upper()}_{key.upper()}"] = secret
                secret_values[provider.id] = secret
    # 1) everything ok: the sentinel rides on every request but must not show anywhere
    ok = _run(["-vv", "status", "--json"], env)
    assert ok.returncode == 0, ok.stderr
    # 2) upstreams echo the credential back in error bodies and in malformed payloads
    ids = registry.ids()
    for i, provider_id in enumerate(ids):
        token = secret_values[provider_id]
        if i % 2:
            add_fault(sim, f"/{provider_id}/", "status", status=500, body=f"bad token Bearer {token}")
        else:
            add_fault(sim, f"/{provider_id}/", "body", body=f'{{"echo": "{token}", "data": null, "x": [1}}')
    httpx.post(f"{sim.url}/__sim/advance", json={"seconds": 0})
    env["AGENTGAUGE_REFRESH_INTERVAL"] = "1"
    # a new database so the minimum interval does not serve cached data
    env["AGENTGAUGE_DATABASE_URL"] = str(tmp_path / "s2.db")
    bad = _run(["-vv", "status", "--json"], env)
    assert bad.returncode == 1, bad.stderr
    assert '"status": "error"' in bad.stdout
    for result in (ok, bad):
        assert SENTINEL not in result.stdout
        assert SENTINEL not in result.stderr
        assert "Traceback" not in result.stderr
    for path in tmp_path.glob("s*.db*"):
        assert SENTINEL.encode() not in path.read_bytes(), path
