"""The server's side of the browser extension over real HTTP: pairing and its tokens, pushes parsed by
each provider's own parser (gzip, capped, token-checked), reported failures and the stale rules, the
refresh relay answered by a client that behaves like the extension's service worker, and the
``agentgauge extension`` commands in real processes."""

from __future__ import annotations

import asyncio
import gzip
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from agentgauge.config import AccountConfig
from agentgauge.engine import Engine
from agentgauge.models import Status
from agentgauge.providers import registry
from agentgauge.sim.server import SimServer
from agentgauge.web import pairing
from agentgauge.web.ingest import raw_of

from .harness import sim_settings
from .harness_extension import PUSHED, GaugeServer, bearer, browser_parts, gauge_server, pair, push, push_only_config


@pytest.fixture
def server(tmp_path: Path, sim: SimServer) -> Iterator[GaugeServer]:
    # openrouter has server-side credentials: a refresh fetches it itself and never asks the extension.
    own = AccountConfig("openrouter", "default", True, sim_settings("openrouter", sim.url), {}, explicit=True)
    config = push_only_config(str(tmp_path / "gauge.db"), tmp_path / "home", extra=[own])
    with gauge_server(config, tmp_path) as running:
        yield running


def account(server: GaugeServer, provider: str, name: str = "default") -> dict[str, Any]:
    rows = httpx.get(f"{server.url}/api/usage", timeout=10).json()["providers"]
    return next(p for p in rows if p["provider"] == provider and p["account"] == name)


# -- pairing ------------------------------------------------------------------------------------------
def test_pairing_code_is_used_once_and_the_token_opens_only_the_extension_routes(server: GaugeServer) -> None:
    code = pairing.new_code(server.store, server.now())
    first = httpx.post(
        f"{server.url}/api/extension/pair", json={"code": code.code.lower(), "name": "Chromium\non laptop"}
    )
    assert first.status_code == 201, first.text
    token = first.json()["token"]
    assert token.startswith("agx_") and first.json()["name"] == "Chromium on laptop"
    again = httpx.post(f"{server.url}/api/extension/pair", json={"code": code.code, "name": "x"})
    assert again.status_code == 403, "a code pairs once"
    hello = httpx.get(f"{server.url}/api/extension/hello", headers=bearer(token)).json()
    assert hello["id"] == first.json()["id"] and hello["server"]["refresh"] == "interval"
    assert set(hello["providers"]) == set(PUSHED)
    assert httpx.get(f"{server.url}/api/extension/hello").status_code == 401
    assert httpx.get(f"{server.url}/api/extension/hello", headers=bearer(token + "x")).status_code == 401
    # The database keeps digests only: neither the code nor the token's secret is stored.
    secret = token.split("_", 2)[2]
    dumped = repr(server.store.query("SELECT * FROM extension_tokens")) + repr(
        server.store.query("SELECT * FROM extension_pairing")
    )
    assert secret not in dumped and code.code.replace("-", "") not in dumped


def test_wrong_codes_strike_out_open_codes_and_then_the_client_waits(server: GaugeServer) -> None:
    code = pairing.new_code(server.store, server.now())
    for _ in range(pairing.MAX_ATTEMPTS):
        wrong = httpx.post(f"{server.url}/api/extension/pair", json={"code": "AAAA-AAAA", "name": "x"})
        assert wrong.status_code == 403
    # Five strikes: the real code is gone too (a guesser cannot keep trying against it).
    assert httpx.post(f"{server.url}/api/extension/pair", json={"code": code.code}).status_code == 403
    blocked = httpx.post(f"{server.url}/api/extension/pair", json={"code": "AAAA-AAAA"})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
    # A form post (what a web page could send without a preflight) is not accepted.
    form = httpx.post(f"{server.url}/api/extension/pair", content=b"code=AAAA", headers={"Content-Type": "text/plain"})
    assert form.status_code in (415, 429)


def test_codes_expire(server: GaugeServer) -> None:
    code = pairing.new_code(server.store, server.now())
    server.clock.offset += timedelta(seconds=pairing.CODE_TTL + 1)
    assert httpx.post(f"{server.url}/api/extension/pair", json={"code": code.code}).status_code == 403


def test_pairing_store_on_both_databases(store: Any) -> None:  # the conftest store: SQLite and PostgreSQL
    from datetime import UTC, datetime

    now = datetime(2030, 1, 1, tzinfo=UTC)
    code = pairing.new_code(store, now)
    token, paired = pairing.redeem(store, code.code, "one", now) or ("", None)
    assert paired is not None
    assert pairing.verify(store, token, now) == pairing.Paired(paired.id, "one", now, now)  # used now
    assert pairing.redeem(store, code.code, "again", now) is None
    seen = pairing.verify(store, token, now + timedelta(minutes=5))
    assert seen is not None and seen.last_used_at == now + timedelta(minutes=5)
    assert [p.id for p in pairing.paired(store)] == [paired.id]
    pairing.revoke(store, paired.id)
    assert pairing.verify(store, token, now) is None and pairing.paired(store) == []


# -- pushes -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("provider_id", PUSHED)
def test_a_push_is_parsed_by_the_providers_own_parser(server: GaugeServer, sim: SimServer, provider_id: str) -> None:
    token, _ = pair(server)
    parts = browser_parts(sim, provider_id)
    answer = push(server, token, provider_id, {"parts": parts})
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] is True and answer.json()["status"] == "ok"
    shown = account(server, provider_id)
    assert (shown["status"], shown["source"], shown["source_label"]) == ("ok", "extension", "browser extension")
    # Exactly what the adapter's parse makes of the same answers.
    provider = registry.get(provider_id)
    expected = provider.parse(raw_of(provider_id, parts), server.now())
    assert [(w["id"], w["used_pct"]) for w in shown["windows"]] == [(w.id, w.used_pct) for w in expected.windows]
    assert shown["plan"] == expected.plan
    assert shown["fetched_at"] == shown["last_success_at"]  # stamped with the server's receive time
    if provider_id == "claude":
        assert shown["plan"] == "max_5x", "the plan of the organization the extension read"


def test_a_push_to_a_named_account_and_unknown_targets(server: GaugeServer, sim: SimServer) -> None:
    token, _ = pair(server)
    parts = browser_parts(sim, "zai")
    assert push(server, token, "zai", {"parts": parts}, account="nope").status_code == 404
    assert push(server, token, "openrouter", {"parts": {"x": 1}}).status_code == 400, "not a provider it reads"
    assert push(server, token, "nosuch", {"parts": parts}).status_code in (400, 404)


def test_malformed_pushes_are_refused(server: GaugeServer) -> None:
    token, _ = pair(server)
    url = f"{server.url}/api/extension/ingest/zai"
    json_headers = {**bearer(token), "Content-Type": "application/json"}
    assert push(server, token, "zai", {"parts": {"quota": {}, "session": "tok"}}).status_code == 400
    assert push(server, token, "zai", {"nothing": 1}).status_code == 400
    assert httpx.post(url, content=b"{not json", headers=json_headers).status_code == 400
    bad_zip = {**json_headers, "Content-Encoding": "gzip"}
    assert httpx.post(url, content=b"not gzip at all", headers=bad_zip).status_code == 400
    assert httpx.post(url, content=b"{}", headers={**json_headers, "Content-Encoding": "br"}).status_code == 400
    # A small body that unzips past the cap (a zip bomb) and a wire body past the server's cap.
    bomb = gzip.compress(b'{"parts": {"quota": "' + b"0" * (5 * 1024 * 1024) + b'"}}')
    assert len(bomb) < 64 * 1024
    assert httpx.post(url, content=bomb, headers=bad_zip).status_code == 413
    assert httpx.post(url, content=os.urandom(100 * 1024), headers=json_headers).status_code == 413
    assert httpx.post(url, content=b"{}", headers={"Content-Type": "application/json"}).status_code == 401


def test_an_ollama_page_is_pushed_whole(server: GaugeServer, sim: SimServer) -> None:
    """A realistic settings page is mostly scripts and markup: gzip keeps it under the wire cap."""
    token, _ = pair(server)
    page = browser_parts(sim, "ollama")["settings_html"]
    filler = "<script>" + ";".join(f"window.__chunk{i}='{'x' * 90}'" for i in range(3000)) + "</script>"
    big = page.replace("<body>", "<body>" + filler, 1)
    assert len(big) > 250_000
    answer = push(server, token, "ollama", {"parts": {"settings_html": big}})
    assert answer.status_code == 200 and answer.json()["accepted"], answer.text
    assert account(server, "ollama")["status"] == "ok"


def test_reported_failures_and_drift_follow_the_stale_rules(server: GaugeServer, sim: SimServer) -> None:
    token, _ = pair(server)
    # Nothing pushed yet: a failure is an error with the site's fix, never a secret or free text.
    failed = push(server, token, "claude", {"error": {"status": 401, "what": "usage request<script>"}})
    assert failed.status_code == 200 and failed.json()["accepted"] is False
    shown = account(server, "claude")
    assert shown["status"] == "error" and shown["error"]["kind"] == "auth"
    assert "claude.ai" in shown["error"]["hint"] and "<script>" not in shown["error"]["message"]
    # Data, then a failure: the data stays, marked stale with the failure.
    assert push(server, token, "claude", {"parts": browser_parts(sim, "claude")}).json()["accepted"]
    windows = account(server, "claude")["windows"]
    server.clock.offset += timedelta(seconds=5)
    push(server, token, "claude", {"error": {"status": 429, "what": "usage request", "retry_after": 30}})
    shown = account(server, "claude")
    assert shown["status"] == "stale" and shown["error"]["kind"] == "rate_limited" and shown["windows"] == windows
    # A signed-out browser: the bootstrap alone, and the adapter's own parser says what it means.
    server.clock.offset += timedelta(seconds=5)
    answer = push(server, token, "claude", {"parts": {"bootstrap": {"account": None}}})
    assert answer.json()["error"]["kind"] == "auth" and account(server, "claude")["status"] == "stale"
    # The ollama sign-in page instead of the settings page: auth, from the adapter's parser.
    signin = httpx.get(f"{sim.url}/ollama/url/signin").text
    answer = push(server, token, "ollama", {"parts": {"settings_html": signin}})
    assert answer.json()["error"]["kind"] == "auth"
    # Drift: a page with no usage section is a parse error.
    answer = push(server, token, "ollama", {"parts": {"settings_html": "<html><body>hi</body></html>"}})
    assert answer.json()["error"]["kind"] == "parse"
    # Fresh data again: ok.
    server.clock.offset += timedelta(seconds=5)
    assert push(server, token, "claude", {"parts": browser_parts(sim, "claude")}).json()["accepted"]
    assert account(server, "claude")["status"] == "ok" and account(server, "claude")["error"] is None


def test_a_browser_failure_never_touches_data_the_server_fetched(server: GaugeServer, sim: SimServer) -> None:
    token, _ = pair(server)
    refreshed = httpx.post(f"{server.url}/api/refresh?provider=openrouter&wait=20", timeout=30)
    assert account(server, "openrouter")["status"] == "ok", refreshed.text
    # openrouter is not read by the extension at all; a zai account fetched by the server is the
    # same case: simulate one by storing server-fetched zai data, then a browser failure for it.
    zai = account(server, "zai")
    assert zai["status"] == "unconfigured"
    from agentgauge.models import ProviderSnapshot, Window

    now = server.now()
    server.store.save_state(
        ProviderSnapshot(
            provider="zai",
            name="z.ai",
            status=Status.OK,
            source="api_key",
            windows=(Window(id="session", label="Session (5h)", used_pct=12.0),),
            fetched_at=now,
            last_success_at=now,
        ),
        next_allowed_at=0,
        failures=0,
    )
    answer = push(server, token, "zai", {"error": {"status": 401, "what": "quota request"}})
    assert answer.json()["accepted"] is False and answer.json()["status"] is None
    assert server.store.state("zai", "default").snapshot.status == Status.OK  # type: ignore[union-attr]


def test_an_older_push_never_overwrites_newer_data(server: GaugeServer, sim: SimServer) -> None:
    token, _ = pair(server)
    assert push(server, token, "zai", {"parts": browser_parts(sim, "zai")}).json()["accepted"]
    server.clock.offset -= timedelta(seconds=30)  # a push that reaches the server stamped earlier
    second = push(server, token, "zai", {"parts": browser_parts(sim, "zai")})
    assert second.json() == {**second.json(), "accepted": False, "reason": "newer data is stored"}


def test_revoked_tokens_are_refused_at_once(server: GaugeServer, sim: SimServer) -> None:
    token, token_id = pair(server)
    listed = httpx.get(f"{server.url}/api/extensions").json()["extensions"]
    assert [e["id"] for e in listed] == [token_id]
    assert httpx.delete(f"{server.url}/api/extensions/{token_id}").json() == {"revoked": token_id}
    assert push(server, token, "zai", {"parts": browser_parts(sim, "zai")}).status_code == 401
    assert httpx.delete(f"{server.url}/api/extensions/{token_id}").status_code == 404


def test_with_an_access_token_the_extension_needs_only_its_own(tmp_path: Path, sim: SimServer) -> None:
    config = push_only_config(str(tmp_path / "gauge.db"), tmp_path / "home")
    with gauge_server(config, tmp_path, token="serve-secret-token") as server:
        assert httpx.get(f"{server.url}/api/extensions").status_code == 401
        created = httpx.post(f"{server.url}/api/extensions/pairing", headers=bearer("serve-secret-token"))
        assert created.status_code == 201 and len(created.json()["code"]) == 9
        paired = httpx.post(f"{server.url}/api/extension/pair", json={"code": created.json()["code"], "name": "b"})
        token = paired.json()["token"]
        assert push(server, token, "zai", {"parts": browser_parts(sim, "zai")}).json()["accepted"]
        assert httpx.get(f"{server.url}/api/extension/usage", headers=bearer(token)).status_code == 200
        # The extension's token is not the server's: the rest of the API stays closed to it.
        assert httpx.get(f"{server.url}/api/usage", headers=bearer(token)).status_code == 401
        # The serve token is not an extension token either.
        assert httpx.get(f"{server.url}/api/extension/usage", headers=bearer("serve-secret-token")).status_code == 401


# -- the refresh relay --------------------------------------------------------------------------------
class FakeServiceWorker:
    """Does what the extension's service worker does: long polls, and when asked for providers,
    pushes the simulator's answers for them (the browser part is tested in test_extension_browser)."""

    def __init__(self, server: GaugeServer, token: str, sim: SimServer, providers: tuple[str, ...]) -> None:
        self.server, self.token, self.sim, self.providers = server, token, sim, providers
        self.stop = threading.Event()
        self.pushed = threading.Event()
        self.fetched: list[str] = []
        self.polls = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        with httpx.Client(timeout=40) as client:
            while not self.stop.is_set():
                self.polls.set()
                answer = client.get(
                    f"{self.server.url}/api/extension/poll",
                    params={"providers": ",".join(self.providers), "wait": "2"},
                    headers=bearer(self.token),
                )
                for provider_id in answer.json()["fetch"]:
                    self.fetched.append(provider_id)
                    push(self.server, self.token, provider_id, {"parts": browser_parts(self.sim, provider_id)})
                    self.pushed.set()

    def __enter__(self) -> FakeServiceWorker:
        self.thread.start()
        self.polls.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)


def test_refresh_waits_for_the_extension_and_says_why_when_none_answers(server: GaugeServer, sim: SimServer) -> None:
    token, _ = pair(server)
    with FakeServiceWorker(server, token, sim, PUSHED) as worker:
        answer = httpx.post(f"{server.url}/api/refresh?wait=60", timeout=90)
        assert answer.status_code == 200 and answer.headers["x-agentgauge-fresh"] == "true"
        rows = {p["provider"]: p for p in answer.json()["providers"]}
        for provider_id in PUSHED:
            assert (rows[provider_id]["status"], rows[provider_id]["source"]) == ("ok", "extension"), provider_id
        assert rows["openrouter"]["source"] != "extension" and rows["openrouter"]["status"] == "ok"
        assert sorted(worker.fetched) == sorted(PUSHED) and "openrouter" not in worker.fetched
        # Within each provider's minimum interval the extension is not asked again.
        again = httpx.post(f"{server.url}/api/refresh?wait=30", timeout=60)
        assert again.headers["x-agentgauge-fresh"] == "true" and sorted(worker.fetched) == sorted(PUSHED)
        before = {p: rows[p]["fetched_at"] for p in PUSHED}
        server.clock.offset += timedelta(minutes=3)  # past every minimum interval: asked again
        answer = httpx.post(f"{server.url}/api/refresh?wait=60", timeout=90)
        rows = {p["provider"]: p for p in answer.json()["providers"]}
        assert all(rows[p]["fetched_at"] > before[p] and rows[p]["status"] == "ok" for p in PUSHED)
    # No browser any more: the refresh still answers within its wait, with the last data marked
    # stale and the reason.
    server.hub.relay.timeout = 1.0
    server.clock.offset += timedelta(minutes=3)
    answer = httpx.post(f"{server.url}/api/refresh?wait=30", timeout=60)
    assert answer.headers["x-agentgauge-fresh"] == "true"
    for row in (p for p in answer.json()["providers"] if p["provider"] in PUSHED):
        assert row["status"] == "stale" and row["windows"], row["provider"]
        assert row["error"]["kind"] == "timeout" and "no browser extension answered" in row["error"]["message"]
        assert "extension" in row["error"]["hint"]


def test_a_refresh_does_not_wait_for_an_extension_that_never_read_the_provider(server: GaugeServer) -> None:
    answer = httpx.post(f"{server.url}/api/refresh?wait=20", timeout=40)
    assert answer.headers["x-agentgauge-fresh"] == "true"  # nothing to relay: answered by the fetches alone
    assert {p["provider"]: p["status"] for p in answer.json()["providers"]}["claude"] == "unconfigured"


def test_the_popup_refresh_asks_the_extension_for_what_it_reads(server: GaugeServer, sim: SimServer) -> None:
    token, _ = pair(server)
    with FakeServiceWorker(server, token, sim, ("zai", "kimi")) as worker:
        answer = httpx.post(
            f"{server.url}/api/extension/refresh",
            params={"providers": "zai,kimi", "wait": "60"},
            headers=bearer(token),
            timeout=90,
        )
        assert answer.headers["x-agentgauge-fresh"] == "true"
        rows = {p["provider"]: p for p in answer.json()["providers"]}
        assert {rows[p]["source"] for p in ("zai", "kimi")} == {"extension"} and sorted(worker.fetched) == [
            "kimi",
            "zai",
        ]
        assert rows["claude"]["status"] == "unconfigured", "a provider no extension reads is not waited for"
    assert httpx.post(f"{server.url}/api/extension/refresh", headers=bearer("agx_x_y")).status_code == 401


# -- a pushed account with no credential on the server -------------------------------------------------
async def test_pushed_data_stays_while_fresh_then_goes_stale(tmp_path: Path, sim: SimServer) -> None:
    from agentgauge.ingest import PUSH_FRESH, ingest
    from agentgauge.store import open_store

    from .harness_web import MovableClock

    config = push_only_config(str(tmp_path / "p.db"), tmp_path / "home")
    store = open_store(config.database_url, data_dir=tmp_path)
    clock = MovableClock()
    usage = registry.get("zai").parse(raw_of("zai", browser_parts(sim, "zai")), clock())
    assert ingest(store, config, "zai", "default", usage, "extension", clock()).accepted
    async with Engine(config, store, clock=clock) as engine:
        kept = await engine.refresh(["zai"])
        assert kept.providers[0].status == Status.OK and kept.providers[0].source == "extension"
        clock.offset += PUSH_FRESH + timedelta(seconds=1)
        stale = (await engine.refresh(["zai"])).providers[0]
    store.close()
    assert stale.status == Status.STALE
    assert [(w.id, w.used_pct) for w in stale.windows] == [(w.id, w.used_pct) for w in usage.windows]
    assert stale.error is not None and "the data shown came from browser extension" in stale.error.message


# -- the commands -------------------------------------------------------------------------------------
def run_cli(database: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AGENTGAUGE_DATABASE_URL": database}
    return subprocess.run(
        [sys.executable, "-m", "agentgauge", "extension", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_extension_commands_pair_list_and_revoke(server: GaugeServer, sim: SimServer, tmp_path: Path) -> None:
    database = str(tmp_path / "gauge.db")
    made = run_cli(database, "pair", "--json")
    assert made.returncode == 0, made.stderr
    code = orjson.loads(made.stdout)["code"]
    paired = httpx.post(f"{server.url}/api/extension/pair", json={"code": code, "name": "Chromium test"})
    assert paired.status_code == 201
    token, token_id = paired.json()["token"], paired.json()["id"]
    listed = run_cli(database, "list")
    assert token_id in listed.stdout and "Chromium test" in listed.stdout and token not in listed.stdout
    assert orjson.loads(run_cli(database, "list", "--json").stdout)["extensions"][0]["id"] == token_id
    revoked = run_cli(database, "revoke", token_id)
    assert revoked.returncode == 0 and token_id in revoked.stdout
    assert push(server, token, "zai", {"parts": browser_parts(sim, "zai")}).status_code == 401
    missing = run_cli(database, "revoke", token_id)
    assert missing.returncode == 2 and "agentgauge extension list" in missing.stderr
    human = run_cli(database, "pair")
    assert human.returncode == 0 and "Pairing code:" in human.stdout


# -- the relay on its own -----------------------------------------------------------------------------
async def test_overlapping_refreshes_share_one_pending_request() -> None:
    from datetime import UTC, datetime

    from agentgauge.web.relay import Relay, Seen

    relay = Relay(lambda: datetime(2030, 1, 1, tzinfo=UTC), timeout=30)
    key = ("claude", "default")
    impatient = asyncio.ensure_future(relay.request([key], timeout=0.05))
    patient = asyncio.ensure_future(relay.request([key], timeout=30))
    assert await impatient == [key]  # gave up first ...
    seen = Seen("x", "browser", frozenset({"claude"}), "default", datetime(2030, 1, 1, tzinfo=UTC))
    assert await relay.poll(seen, 0) == [key], "... without dropping the request the other still waits on"
    relay.answered(key)
    assert await patient == []
    assert await relay.poll(seen, 0) == []


def test_no_secret_reaches_the_log(server: GaugeServer, sim: SimServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    code = pairing.new_code(server.store, server.now())
    token = httpx.post(f"{server.url}/api/extension/pair", json={"code": code.code, "name": "b"}).json()["token"]
    for provider_id in PUSHED:
        push(server, token, provider_id, {"parts": browser_parts(sim, provider_id)})
    push(server, token, "claude", {"error": {"status": 401, "what": "usage request"}})
    httpx.get(f"{server.url}/api/extension/poll", params={"providers": "claude"}, headers=bearer(token))
    secrets = [token, token.split("_", 2)[2], code.code, code.code.replace("-", "")]
    secrets += [v for p in PUSHED for v in registry.get(p).sim_credentials.values()]
    logged = caplog.text + repr(httpx.get(f"{server.url}/api/usage").json())
    assert "paired browser extension" in caplog.text, "the log is captured at all"
    assert not [s for s in secrets if s in logged]


def test_the_scheduler_asks_the_extension_on_its_interval(server: GaugeServer, sim: SimServer) -> None:
    """``refresh = "interval"``: nobody asks, yet a connected extension is asked for what only it can fetch."""
    token, _ = pair(server)
    with FakeServiceWorker(server, token, sim, ("zai", "ollama")) as worker:
        assert worker.pushed.wait(30), "the scheduler's pass asked the extension"
    assert {account(server, p)["source"] for p in ("zai", "ollama")} == {"extension"}


async def test_on_demand_the_scheduler_asks_nothing(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from agentgauge.models import Snapshot
    from agentgauge.store import open_store
    from agentgauge.web.extension import ExtensionHub
    from agentgauge.web.relay import Seen

    now = datetime(2030, 1, 1, tzinfo=UTC)
    for mode, asked in (("on-demand", []), ("interval", [("zai", "default")])):
        config = push_only_config(str(tmp_path / f"{mode}.db"), tmp_path / "home", refresh=mode)
        store = open_store(config.database_url, data_dir=tmp_path)
        async with Engine(config, store, clock=lambda: now) as engine:
            hub = ExtensionHub(config, store, engine, lambda: now)
            seen = Seen("x", "b", frozenset({"zai"}), "default", now)
            hub.relay.saw(seen)
            rows = tuple(p for p in (await engine.refresh(["zai", "claude"])).providers)
            hub.scheduled(Snapshot(generated_at=now, providers=rows))
            await asyncio.sleep(0)  # one turn of the loop: a round, if started, has marked its accounts
            assert await hub.relay.poll(seen, 0) == asked, mode
            if hub._round is not None:
                hub._round.cancel()
        store.close()


def test_a_push_carries_only_what_the_site_answered(server: GaugeServer, sim: SimServer) -> None:
    """The adapter turns a failed subscription call into a warning text of its own; a push may not
    bring such text along (it would reach every surface): it is dropped, the quota still counts."""
    token, _ = pair(server)
    parts = {**browser_parts(sim, "zai"), "subscriptions": {"error": {"message": "<img src=x> call me"}}}
    assert push(server, token, "zai", {"parts": parts}).json()["accepted"]
    shown = account(server, "zai")
    assert shown["status"] == "ok" and "call me" not in repr(shown)
    assert browser_parts(sim, "zai")["subscriptions"] is not None, "the simulator answers the list too"
