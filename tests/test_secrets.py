"""A sentinel secret must never reach stdout, stderr/logs, error messages or the database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agentgauge.cli.demo import demo_config
from agentgauge.providers import registry
from agentgauge.providers._base import Provider
from agentgauge.secret import Secret, redact, scrub
from agentgauge.sim.server import SimServer
from tests.harness import add_fault

SENTINEL = "SENTINEL-7f3a9c1e"


def test_secret_is_masked():
    s = Secret("abc-" + SENTINEL)
    assert SENTINEL not in repr(s) and SENTINEL not in str(s) and SENTINEL not in f"{s}"
    assert s.reveal().endswith(SENTINEL)
    assert redact({"api_key": "x", "nested": {"session_token": "y"}, "plan": "pro"}) == {
        "api_key": "***",
        "nested": {"session_token": "***"},
        "plan": "pro",
    }
    assert SENTINEL not in scrub(f"echo: Bearer tok-{SENTINEL} and sk-ant-oat01-{SENTINEL}", [])


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentgauge", *args], capture_output=True, text=True, env=env, timeout=120
    )


def _marked(provider: Provider) -> dict[str, str]:
    """The provider's simulator credentials with the sentinel inside every secret one."""
    return {
        key: f"{value}#{SENTINEL}" if (spec := provider.setting_spec(key)) is not None and spec.secret else value
        for key, value in provider.sim_credentials.items()
    }


@pytest.fixture
def marked_sim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SimServer]:
    """A simulator of its own whose credentials carry the sentinel: every provider's simulator
    accepts them as they are (no simulator has to take a ``#suffix``, Bedrock's signatures are
    recomputed with the sentinel-bearing secret), and the demo's local sources (fake CLIs, credential
    files) are written with them too."""
    for provider in registry.all_providers():
        monkeypatch.setattr(provider, "sim_credentials", _marked(provider))
    with SimServer() as server:
        server.workdir = str(tmp_path / "sim-local")
        yield server


def test_sentinel_never_leaks(marked_sim: SimServer, tmp_path: Path):
    sim = marked_sim
    env = {k: v for k, v in os.environ.items()}
    db = tmp_path / "s.db"
    env["AGENTGAUGE_DATABASE_URL"] = str(db)
    secret_values = {}
    # Every provider's default account as the demo points it at the simulator (its first auth
    # source's credentials and the settings the simulator needs: a region, a subscription, ...).
    for account in demo_config(sim.url, workdir=tmp_path / "demo").accounts:
        if account.account != "default":
            continue
        provider = registry.get(account.provider)
        for key, value in account.settings.items():
            env[f"AGENTGAUGE_{provider.id.upper()}_{key.upper()}"] = value
            if SENTINEL in value:
                secret_values[provider.id] = value
    # 1) everything ok: the sentinel rides on every request but must not show anywhere
    ok = _run(["-vv", "status", "--json"], env)
    assert ok.returncode == 0, ok.stderr
    assert {p["provider"] for p in json.loads(ok.stdout)["providers"]} == set(registry.ids())
    # 2) upstreams echo the credential back in error bodies and in malformed payloads
    ids = sorted(secret_values)  # providers with a secret (a local-file provider has none to leak)
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


# -- fragments an upstream echoes ------------------------------------------------------------
def _b64(data: dict[str, object]) -> str:
    import base64
    import json

    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


ZAI_ID, ZAI_HALF = "5f0c9e2b7a4d4c1e8b3f6a9d2e7c1b40", "Zx9SecretHalfQ7w"
CLAUDE_BARE = "Qm9sZXNzaW9uS2V5VmFsdWVfMTIzNDU2Nzg5"
JWT_SIGNATURE = "S1gnatureFragmentXYZ0123456789abcdef"
JWT = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64({'sub': 'user-42', 'exp': 4102444800})}.{JWT_SIGNATURE}"
OLLAMA_SESSION = "OllamaSessionValue0123456789"
# What each echoed piece is: never the whole credential (that was always scrubbed), only parts of it.
FRAGMENTS = {
    "the id half of a z.ai id.secret key": ZAI_ID,
    "the secret half of a z.ai key": ZAI_HALF,
    "a claude.ai session key without its sk-ant-sid01- prefix": CLAUDE_BARE,
    "a JWT's signature": JWT_SIGNATURE,
    "a JWT's payload": JWT.split(".")[1],
    "a cookie value inside a longer Cookie header": OLLAMA_SESSION,
}


def _echoed_parts(headers: dict[str, str]) -> list[str]:
    """What a careless upstream quotes back: the pieces of the credential it was sent."""
    parts: list[str] = []
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        parts += auth[7:].split(".")
    for item in headers.get("cookie", "").split(";"):
        value = item.partition("=")[2].strip()
        parts.append(value.removeprefix("sk-ant-sid01-"))
    return [p for p in parts if len(p) >= 6]


class EchoUpstream:
    """A tiny local HTTP server that answers every request with the fragments of the credential it
    got: as an error envelope (``mode = "envelope"``, z.ai's code/msg shape, an error message) or
    as a 200 payload agentgauge cannot parse (``mode = "payload"``), JSON or HTML as asked."""

    def __init__(self) -> None:
        import socket
        import threading

        import uvicorn

        from agentgauge.sim.server import CalmServer

        self.mode = "envelope"
        self.seen: list[str] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = CalmServer(
            uvicorn.Config(self.app, log_level="warning", lifespan="off", http="h11", interface="asgi3")
        )
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    async def app(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        import json

        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.seen.append(scope["path"])
        echo = " ".join(_echoed_parts(headers))
        if scope["path"].startswith("/ollama/"):
            body = f"<html><body><p>session {echo} is not signed in</p></body></html>".encode()
            ctype = b"text/html"
        elif self.mode == "envelope":
            message = f"invalid credential {echo}"
            body = json.dumps({"code": 1001, "success": False, "msg": message, "error": {"message": message}}).encode()
            ctype = b"application/json"
        else:
            body = json.dumps({"code": 200, "success": True, "data": {"note": echo}, "echo": echo}).encode()
            ctype = b"application/json"
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", ctype)]})
        await send({"type": "http.response.body", "body": body})

    def __enter__(self) -> EchoUpstream:
        import time

        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
        self.sock.close()


def _echo_config(url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    from agentgauge.config import AccountConfig, Config

    def account(provider_id: str, **settings: str) -> AccountConfig:
        urls = {name: f"{url}/{provider_id}/{name}" for name in registry.get(provider_id).urls}
        values = {**urls, **settings}
        return AccountConfig(provider_id, "default", True, values, dict.fromkeys(values, "test"), True)

    accounts = (
        account("zai", api_key=f"{ZAI_ID}.{ZAI_HALF}"),
        account("claude", session_key=f"sk-ant-sid01-{CLAUDE_BARE}", org_id="org-echo"),
        account("codex", access_token=JWT, account_id="acct-echo"),
        account("ollama", cookie=f"wos-session={OLLAMA_SESSION}; __cf_bm=cfbm-value-0123456789"),
    )
    return Config(path=None, accounts=accounts, env={}, home=tmp_path / "home", database_url=str(tmp_path / "e.db"))


def _served_usage(config, store) -> str:  # type: ignore[no-untyped-def]
    """GET /api/usage from the real app over HTTP on 127.0.0.1."""
    import socket
    import threading
    import time

    import uvicorn

    from agentgauge.sim.server import CalmServer
    from agentgauge.web.app import create_app

    app = create_app(config, store, schedule=False)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = CalmServer(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.01)
        response = httpx.get(f"http://127.0.0.1:{sock.getsockname()[1]}/api/usage")
        response.raise_for_status()
        return response.text
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_echoed_fragments_of_structured_secrets_are_scrubbed_everywhere(tmp_path: Path) -> None:
    import asyncio
    import logging
    from datetime import UTC, datetime, timedelta

    from agentgauge.engine import Engine
    from agentgauge.store import open_store

    logged: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            logged.append(self.format(record))

    handler = Collect(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("agentgauge")
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    now = [datetime.now(UTC)]
    snapshots: list[str] = []
    try:
        with EchoUpstream() as upstream:
            config = _echo_config(upstream.url, tmp_path)
            store = open_store(config.database_url, data_dir=tmp_path)

            async def refresh() -> None:
                async with Engine(config, store, clock=lambda: now[0]) as engine:
                    snapshots.append((await engine.refresh()).model_dump_json())

            asyncio.run(refresh())  # error envelopes that quote the credential
            upstream.mode = "payload"  # 200s agentgauge cannot parse: the raw answer is stored
            now[0] += timedelta(hours=2)
            asyncio.run(refresh())
            api = _served_usage(config, store)
            states = store.states()
            store.close()
    finally:
        root.removeHandler(handler)
        root.setLevel(level)

    assert {path.split("/")[1] for path in upstream.seen} == {"zai", "claude", "codex", "ollama"}
    raws = {key[0]: state.last_raw for key, state in states.items()}
    assert all(raws[p] for p in ("zai", "claude", "codex", "ollama")), raws  # each parse failure kept its raw answer
    zai = states[("zai", "default")].snapshot
    assert zai is not None and zai.error is not None and "invalid credential ***" in "".join(snapshots)
    places = {"snapshot": "\n".join(snapshots), "/api/usage": api, "log": "\n".join(logged)}
    places |= {f"stored state of {key[0]}": state.snapshot.model_dump_json() for key, state in states.items()}
    places |= {f"stored raw of {p}": raw or "" for p, raw in raws.items()}
    for where, text in places.items():
        for what, fragment in FRAGMENTS.items():
            assert fragment not in text, f"{what} reached the {where}"
    assert all("***" in (raws[p] or "") for p in raws), raws  # what each echoed was there, masked


def test_fragments_of_a_secret() -> None:
    from agentgauge.secret import fragments

    assert fragments(f"{ZAI_ID}.{ZAI_HALF}")[1:] == [ZAI_ID, ZAI_HALF]
    assert CLAUDE_BARE in fragments(f"sk-ant-sid01-{CLAUDE_BARE}")
    assert set(JWT.split(".")) <= set(fragments(JWT))
    cookie = fragments(f"wos-session={OLLAMA_SESSION}; __cf_bm=cfbm-value-0123456789")
    assert OLLAMA_SESSION in cookie and "cfbm-value-0123456789" in cookie
    assert "wos-session" not in cookie and "__cf_bm" not in cookie  # names are not secret: hints quote them
    assert all(len(f) >= 6 for f in fragments("ab.cdefgh.ij:klmnop"))
    assert scrub(f"the wos-session cookie {OLLAMA_SESSION} was refused", [f"wos-session={OLLAMA_SESSION}"]) == (
        "the wos-session cookie *** was refused"
    )
