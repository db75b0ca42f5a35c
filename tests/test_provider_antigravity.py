"""Antigravity: the language server's answers parsed exactly (samples and variations), command lines
classified, the Connect calls and their fallbacks against the simulator, and a real fake language
server process (the real flag names, self-signed HTTPS on loopback, extra ports that are not it)
found, called and refused where its certificate must not be trusted."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agentgauge.credentials import resolve as auth
from agentgauge.engine import Engine
from agentgauge.errors import (
    AgentGaugeError,
    AuthError,
    FetchTimeoutError,
    NetworkError,
    ParseError,
    ProviderConfigError,
    RateLimitedError,
    UpstreamError,
)
from agentgauge.models import Status, Usage, Window
from agentgauge.providers.antigravity import HINT_TOKEN, PROVIDER, SERVICE, is_loopback_ip
from agentgauge.providers.antigravity.process import LanguageServer, flag, kind_of, lsof_ports, order
from agentgauge.store import open_store
from tests.harness import account_config, add_fault, fetch_usage, fixture_json, sim_settings
from tests.simlog import Mark

NOW = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)
TOKEN = "sim-antigravity-csrf"
FIXTURES = Path(__file__).parent / "fixtures" / "antigravity"
PREFIX = "/antigravity/url" + SERVICE


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def parse(**raw: Any) -> Usage:
    return PROVIDER.parse(raw, NOW)


SUMMARY_WINDOWS = (
    Window(
        id="gemini_session",
        label="Gemini · Session (5h)",
        used_pct=9.0,
        resets_at=at("2026-06-15T11:39:34Z"),
        window_seconds=18000,
    ),
    Window(
        id="gemini_weekly",
        label="Gemini · Weekly",
        used_pct=18.0,
        resets_at=at("2026-06-19T08:45:39Z"),
        window_seconds=604800,
    ),
    Window(
        id="claude_gpt_session",
        label="Claude + GPT · Session (5h)",
        used_pct=27.0,
        resets_at=at("2026-06-15T12:52:10Z"),
        window_seconds=18000,
    ),
    Window(
        id="claude_gpt_weekly",
        label="Claude + GPT · Weekly",
        used_pct=36.0,
        resets_at=at("2026-06-20T00:39:54Z"),
        window_seconds=604800,
    ),
)


# -- the shared samples -------------------------------------------------------------------------------
def test_quota_summary_sample() -> None:
    summary = fixture_json("antigravity", "retrieve-user-quota-summary.json")
    assert parse(summary=summary, user_status=None) == Usage(windows=SUMMARY_WINDOWS)
    status = fixture_json("antigravity", "get-user-status.json")
    assert parse(summary=summary, user_status=status) == Usage(windows=SUMMARY_WINDOWS, plan="Pro")


def test_user_status_sample_one_window_per_pool() -> None:
    assert parse(user_status=fixture_json("antigravity", "get-user-status.json")) == Usage(
        windows=(
            # Gemini Flash (0.2 left) is the most used Gemini model; Gemini Pro Low (0.8) shares the pool.
            Window(id="gemini", label="Gemini models", used_pct=80.0, resets_at=at("2025-12-24T12:00:00Z")),
            Window(id="claude_gpt", label="Claude and GPT models", used_pct=50.0, resets_at=at("2025-12-24T10:00:00Z")),
        ),
        plan="Pro",
    )


def test_command_model_configs_sample() -> None:
    assert parse(model_configs=fixture_json("antigravity", "get-command-model-configs.json")) == Usage(
        windows=(Window(id="claude_gpt", label="Claude and GPT models", used_pct=50.0),)
    )


# -- variations ------------------------------------------------------------------------------------------
def bucket(bucket_id: str, name: str, **fields: Any) -> dict[str, Any]:
    return {"bucketId": bucket_id, "displayName": name, **fields}


def test_summary_shapes() -> None:
    summary = {
        "summary": {
            "groups": [
                {
                    "displayName": "Claude and GPT models",
                    "buckets": [
                        bucket("3p-weekly", "Weekly Limit", remainingFraction="0.25", resetTime="1781913594"),
                        bucket("3p-5h", "Five Hour Limit", remaining={"case": "remainingFraction", "value": 0.6}),
                        bucket("3p-daily", "Daily Limit", remaining={"remainingFraction": 1}, extra=True),
                    ],
                },
                {
                    "displayName": "Gemini Models",
                    "buckets": [
                        bucket("gemini-5h", "Five Hour Limit", remaining={}, resetTime="2026-06-15T11:39:34Z"),
                        bucket("gemini-weekly", "Weekly Limit", remaining={"remainingFraction": 0.5}, disabled=True),
                        bucket("gemini_session", "Session", remainingFraction=1.7),
                    ],
                },
                {"displayName": "Imagen", "buckets": [bucket("img-weekly", "Weekly Limit", remainingFraction=0.9)]},
                {"displayName": "Empty", "buckets": None},
            ]
        }
    }
    usage = parse(summary=summary)
    assert [(w.id, w.label, w.used_pct, w.window_seconds) for w in usage.windows] == [
        # A bucket with no fraction (proto3 drops zeros) is unknown, not exhausted; disabled ones are skipped.
        ("gemini_session", "Gemini · Session (5h)", 0.0, 18000),
        ("claude_gpt_session", "Claude + GPT · Session (5h)", 40.0, 18000),
        ("claude_gpt_weekly", "Claude + GPT · Weekly", 75.0, 604800),
        ("claude_gpt_3p_daily", "Claude + GPT · Daily Limit", 0.0, None),
        ("group_imagen_weekly", "Imagen · Weekly", 10.0, 604800),
    ]
    assert usage.windows[2].resets_at == datetime.fromtimestamp(1781913594, UTC)
    assert all(PROVIDER.window_spec(w.id) for w in usage.windows)


def test_groups_at_the_root() -> None:
    root = fixture_json("antigravity", "retrieve-user-quota-summary.json")["response"]
    assert parse(summary=root).windows == SUMMARY_WINDOWS


@pytest.mark.parametrize(
    ("code", "error"),
    [(16, AuthError), ("unauthenticated", AuthError), (13, UpstreamError), ("internal", UpstreamError)],
)
def test_error_codes_in_200_answers(code: Any, error: type[Exception]) -> None:
    for raw in ({"summary": {"code": code, "message": "nope"}}, {"user_status": {"code": code, "message": "nope"}}):
        with pytest.raises(error, match="nope"):
            PROVIDER.parse(raw, NOW)
    assert parse(model_configs={"code": "OK", "clientModelConfigs": []}) == Usage()


def test_models_pools_and_outsiders() -> None:
    configs = [
        {
            "label": "Gemini 3 Pro (High)",
            "modelOrAlias": {"model": "MODEL_PLACEHOLDER_M7"},
            "quotaInfo": {"remainingFraction": 0.7, "resetTime": "2026-06-15T10:00:00Z"},
        },
        {
            "label": "Gemini 3 Flash",
            "modelOrAlias": {"model": "M18"},
            "quotaInfo": {"remainingFraction": 0.7, "resetTime": "2026-06-15T09:00:00Z"},
        },
        {"label": "Gemini 2.5 Flash Lite", "modelOrAlias": {"model": "M9"}, "quotaInfo": {"remainingFraction": 0.01}},
        {"label": "Gemini Image", "modelOrAlias": {"model": "M10"}, "quotaInfo": {"remainingFraction": 0.0}},
        {"label": "Tab", "modelOrAlias": {"model": "tab_jump"}, "quotaInfo": {"remainingFraction": 0.0}},
        {
            "label": "GPT-OSS 120B (Medium)",
            "modelOrAlias": {"model": "M342"},
            "quotaInfo": {"remainingFraction": "0.4"},
        },
        {
            "label": "Claude Opus 4.5 (Thinking)",
            "modelOrAlias": {"model": "M1012"},
            "quotaInfo": {"resetTime": "2026-06-15T12:00:00Z"},
        },
        {"label": "Kimi K2", "modelOrAlias": {"model": "M77"}, "quotaInfo": {"remainingFraction": 0.9}},
        {"label": "No quota", "modelOrAlias": {"model": "M1"}},
        {"modelOrAlias": None, "quotaInfo": {"remainingFraction": 0.1}},
    ]
    usage = parse(model_configs={"clientModelConfigs": configs, "x": 1})
    assert usage.windows == (
        Window(id="gemini", label="Gemini models", used_pct=30.0, resets_at=at("2026-06-15T09:00:00Z")),
        Window(id="claude_gpt", label="Claude and GPT models", used_pct=60.0),
        Window(id="model_kimi_k2", label="Kimi K2", used_pct=10.0),
    )


def test_plan_prefers_the_tier() -> None:
    status = {"userStatus": {"userTier": {"name": "Google AI Ultra"}, "planStatus": {"planInfo": {"planName": "Pro"}}}}
    assert parse(user_status=status).plan == "Google AI Ultra"
    status = {"userStatus": {"planStatus": {"planInfo": {"planName": "Pro", "planDisplayName": "Google AI Pro"}}}}
    assert parse(user_status=status).plan == "Google AI Pro"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"summary": {"response": {"groups": []}}}, "response.groups"),
        ({"user_status": {"code": 0}}, "userStatus"),
        ({}, "$"),
    ],
)
def test_unknown_shapes_name_the_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(ParseError) as info:
        PROVIDER.parse(raw, NOW)
    assert info.value.field == field


def test_a_drifting_bucket_is_a_warning() -> None:
    summary = fixture_json("antigravity", "retrieve-user-quota-summary.json")
    summary["response"]["groups"][0]["buckets"][0]["remaining"]["remainingFraction"] = "most"
    usage = parse(summary=summary)
    assert [w.id for w in usage.windows] == ["gemini_session", "claude_gpt_session", "claude_gpt_weekly"]
    assert "remainingFraction" in usage.warnings[0].message


# -- command lines ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "kind"),
    [
        (
            [
                "/usr/share/antigravity/bin/language_server_linux_x64",
                "--csrf_token",
                "t",
                "--app_data_dir",
                "antigravity",
            ],
            "app",
        ),
        (
            ["/Applications/Antigravity.app/Contents/Resources/bin/language_server_macos_arm", "--csrf_token", "t"],
            "app",
        ),
        (["/opt/x/language-server", "--app_data_dir=antigravity"], "app"),
        (
            [
                "/Applications/Antigravity IDE.app/Contents/Resources/app/extensions/antigravity/bin/"
                "language_server_macos",
                "--csrf_token",
                "t",
            ],
            "ide",
        ),
        (
            [
                r"C:\Users\me\AppData\Local\Programs\Antigravity\resources\app\extensions\antigravity\bin\language_server_windows_x64.exe",
                "--csrf_token",
                "t",
            ],
            "ide",
        ),
        (["/x/language_server_linux_x64", "--app_data_dir", "antigravity-ide"], "ide"),
        (
            [
                "/Applications/Windsurf.app/Contents/Resources/app/extensions/windsurf/bin/language_server_macos_arm",
                "--app_data_dir",
                "windsurf",
            ],
            None,
        ),
        (["grep", "language_server", "antigravity"], None),
        (["/home/me/.local/bin/agy"], None),
        (["/usr/share/antigravity/antigravity", "--type=renderer"], None),
        ([], None),
    ],
)
def test_command_lines(line: list[str], kind: str | None) -> None:
    assert kind_of(line) == kind


def test_flags_and_lsof() -> None:
    args = ["ls", "--csrf_token=abc", "--extension_server_port", "4123", "--server_port"]
    assert (flag(args, "--csrf_token"), flag(args, "--extension_server_port"), flag(args, "--server_port")) == (
        "abc",
        "4123",
        None,
    )
    output = (
        "language 412 me 9u IPv4 0x1 0t0 TCP 127.0.0.1:53124 (LISTEN)\n"
        "language 412 me 10u IPv6 0x2 0t0 TCP [::1]:53125 (LISTEN)\n"
    )
    assert lsof_ports(output) == [53124, 53125]


def test_app_servers_before_ide_then_newest() -> None:
    def server(pid: int, kind: str, started: float) -> LanguageServer:
        return LanguageServer(pid, kind, "t", None, None, (1,), started)

    assert [s.pid for s in order([server(1, "ide", 9), server(2, "app", 1), server(3, "app", 5)])] == [3, 2, 1]


def test_loopback_means_a_loopback_address() -> None:
    assert [is_loopback_ip(h) for h in ("127.0.0.1", "127.8.9.1", "::1", "[::1]")] == [True] * 4
    assert [is_loopback_ip(h) for h in ("localhost", "10.0.0.1", "example.com", "", None)] == [False] * 5


# -- against the simulator (plain HTTP, the url setting) --------------------------------------------------
def calls(since: Mark) -> list[dict[str, Any]]:
    return since.requests(PREFIX)


async def test_summary_then_the_plan(sim: Any) -> None:
    since = Mark(sim)
    usage = await fetch_usage("antigravity", sim_settings("antigravity", sim.url))
    assert [w.id for w in usage.windows] == [
        "gemini_session",
        "gemini_weekly",
        "claude_gpt_session",
        "claude_gpt_weekly",
    ]
    assert usage.plan == "Google AI Ultra"
    summary, status = calls(since)
    assert (summary["path"], status["path"]) == (PREFIX + "RetrieveUserQuotaSummary", PREFIX + "GetUserStatus")
    for call in (summary, status):
        assert call["method"] == "POST"
        assert call["headers"]["content-type"] == "application/json"
        assert call["headers"]["connect-protocol-version"] == "1"
        assert call["headers"]["x-codeium-csrf-token"] == TOKEN
    assert json.loads(summary["body"]) == {"forceRefresh": True}
    assert json.loads(status["body"]) == {
        "metadata": {"ideName": "antigravity", "extensionName": "antigravity", "ideVersion": "unknown", "locale": "en"}
    }


async def test_the_ide_server_falls_back_to_user_status(sim: Any) -> None:
    add_fault(
        sim,
        PREFIX + "RetrieveUserQuotaSummary",
        "status",
        status=404,
        body="404 page not found",
        headers={"content-type": "text/plain"},
    )
    usage = await fetch_usage("antigravity", sim_settings("antigravity", sim.url))
    assert [w.id for w in usage.windows] == ["gemini", "claude_gpt"] and usage.plan == "Google AI Ultra"


async def test_then_to_model_configs(sim: Any) -> None:
    add_fault(sim, PREFIX + "RetrieveUserQuotaSummary", "status", status=404, body="")
    add_fault(sim, PREFIX + "GetUserStatus", "status", status=500, body='{"code": "internal"}')
    since = Mark(sim)
    usage = await fetch_usage("antigravity", sim_settings("antigravity", sim.url))
    assert [w.id for w in usage.windows] == ["gemini", "claude_gpt"] and usage.plan is None
    assert [c["path"].removeprefix(PREFIX) for c in calls(since)] == [
        "RetrieveUserQuotaSummary",
        "GetUserStatus",
        "GetCommandModelConfigs",
    ]


async def test_a_summary_without_known_buckets_falls_back(sim: Any) -> None:
    body = {
        "response": {
            "groups": [{"displayName": "Gemini Models", "buckets": [bucket("g-5h", "Five Hour Limit", remaining={})]}]
        }
    }
    add_fault(sim, PREFIX + "RetrieveUserQuotaSummary", "body", body=json.dumps(body))
    usage = await fetch_usage("antigravity", sim_settings("antigravity", sim.url))
    assert [w.id for w in usage.windows] == ["gemini", "claude_gpt"]


async def test_the_plan_is_optional(sim: Any) -> None:
    add_fault(sim, PREFIX + "GetUserStatus", "status", status=503, body="")
    usage = await fetch_usage("antigravity", sim_settings("antigravity", sim.url))
    assert len(usage.windows) == 4 and usage.plan is None


async def test_a_wrong_token_stops_at_once(sim: Any) -> None:
    since = Mark(sim)
    with pytest.raises(AuthError) as info:
        await fetch_usage("antigravity", sim_settings("antigravity", sim.url, csrf_token="stale-token-123"))
    assert len(calls(since)) == 1
    assert info.value.hint == HINT_TOKEN and "stale-token-123" not in info.value.message


async def test_throttling_stops_at_once(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=429, body="{}", headers={"retry-after": "30"})
    since = Mark(sim)
    with pytest.raises(RateLimitedError):
        await fetch_usage("antigravity", sim_settings("antigravity", sim.url))
    assert len(calls(since)) == 1


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"kind": "status", "status": 500, "body": "x"}, UpstreamError),
        ({"kind": "truncate"}, ParseError),
        ({"kind": "html"}, ParseError),
    ],
)
async def test_every_method_failing(sim: Any, fault: dict[str, Any], error: type[Exception]) -> None:
    add_fault(sim, PREFIX, **fault)
    since = Mark(sim)
    with pytest.raises(error):
        await fetch_usage("antigravity", sim_settings("antigravity", sim.url))
    assert len(calls(since)) == 3


async def test_timeout(sim: Any) -> None:
    add_fault(sim, PREFIX, "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("antigravity", sim_settings("antigravity", sim.url), timeout=0.5)


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_answers_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    assert len((await fetch_usage("antigravity", sim_settings("antigravity", sim.url))).windows) == 4


async def test_port_setting_must_be_a_port(sim: Any) -> None:
    settings = sim_settings("antigravity", sim.url, port="http")
    settings.pop("url")
    with pytest.raises(ProviderConfigError, match="not a TCP port"):
        await fetch_usage("antigravity", settings)


# -- a real language-server process -------------------------------------------------------------------------
@dataclass
class FakeServer:
    process: subprocess.Popen[str]
    https: int
    http: int
    closer: int
    extension: int
    log: Path

    def requests(self) -> list[dict[str, Any]]:
        text = self.log.read_text(encoding="utf-8") if self.log.exists() else ""
        return [json.loads(line) for line in text.splitlines()]


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate, as the language server makes for itself."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("ls-cert")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return folder / "cert.pem", folder / "key.pem"


def start_fake(tmp_path: Path, certificate: tuple[Path, Path], *, token: str, ide: bool = False) -> FakeServer:
    folder = tmp_path / ("Antigravity IDE/resources/app/extensions/antigravity/bin" if ide else "antigravity/bin")
    folder.mkdir(parents=True)
    binary = folder / "language_server_linux_x64"
    binary.symlink_to(os.path.realpath(sys.executable))
    log = tmp_path / "requests.jsonl"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "FAKE_LS_CERT": str(certificate[0]),
        "FAKE_LS_KEY": str(certificate[1]),
        "FAKE_LS_FIXTURES": str(FIXTURES),
        "FAKE_LS_MODE": "ide" if ide else "app",
        "FAKE_LS_LOG": str(log),
    }
    args = [
        str(binary),
        str(Path(__file__).parent / "fake_antigravity_ls.py"),
        "--csrf_token",
        token,
        "--extension_server_port",
        "41999",
        "--app_data_dir",
        "antigravity-ide" if ide else "antigravity",
        "--random_port",
        "--enable_lsp",
    ]
    process = subprocess.Popen(
        args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # blocks until the server listens (or exits)
    if not line.startswith("ready"):
        process.kill()
        raise AssertionError(f"fake language server did not start: {line!r} {process.communicate()[1][-2000:]}")
    ports = dict(part.split("=") for part in line.split()[1:])
    return FakeServer(process, int(ports["https"]), int(ports["http"]), int(ports["closer"]), 41999, log)


@pytest.fixture
def fake_ls(tmp_path: Path, certificate: tuple[Path, Path]) -> Iterator[FakeServer]:
    server = start_fake(tmp_path, certificate, token="real-flag-token-7f3a9c")
    yield server
    server.process.terminate()
    server.process.communicate(timeout=10)


def discovered(tmp_path: Path) -> list[Any]:
    config = account_config("antigravity", {}, home=tmp_path)
    return auth.resolve(PROVIDER, config.accounts[0], config)


async def test_found_from_its_flags_and_ports(fake_ls: FakeServer, tmp_path: Path) -> None:
    (creds,) = discovered(tmp_path)
    assert creds.get("csrf_token") == "real-flag-token-7f3a9c"
    assert creds.origin == f"Antigravity language server (pid {fake_ls.process.pid})"
    assert creds.details["kind"] == "app" and creds.details["extension_port"] == "41999"
    assert set(map(int, creds.details["ports"].split(","))) == {fake_ls.https, fake_ls.http, fake_ls.closer}
    # Every listening port is tried in order: the plain-HTTP one and the one that hangs up are not it.
    usage = await fetch_usage("antigravity", {}, home=tmp_path)
    assert usage == Usage(windows=SUMMARY_WINDOWS, plan="Pro")
    paths = [r["path"].removeprefix(SERVICE) for r in fake_ls.requests()]
    assert paths == ["RetrieveUserQuotaSummary", "GetUserStatus"]
    headers = fake_ls.requests()[0]["headers"]
    assert headers["X-Codeium-Csrf-Token"] == "real-flag-token-7f3a9c" and headers["Connect-Protocol-Version"] == "1"


async def test_port_and_token_set_directly(fake_ls: FakeServer, tmp_path: Path) -> None:
    settings = {"csrf_token": "real-flag-token-7f3a9c", "port": str(fake_ls.https)}
    assert (await fetch_usage("antigravity", settings, home=tmp_path)).windows == SUMMARY_WINDOWS


async def test_a_token_set_directly_finds_its_server(fake_ls: FakeServer, tmp_path: Path) -> None:
    usage = await fetch_usage("antigravity", {"csrf_token": "real-flag-token-7f3a9c"}, home=tmp_path)
    assert usage.windows == SUMMARY_WINDOWS
    with pytest.raises(ProviderConfigError, match="no running language server has the configured CSRF token") as info:
        await fetch_usage("antigravity", {"csrf_token": "from-last-week"}, home=tmp_path)
    assert info.value.hint == HINT_TOKEN


async def test_a_wrong_token_on_the_real_port(fake_ls: FakeServer, tmp_path: Path) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("antigravity", {"csrf_token": "from-last-week", "port": str(fake_ls.https)}, home=tmp_path)
    assert "from-last-week" not in info.value.message


async def test_self_signed_is_trusted_on_loopback_only(fake_ls: FakeServer, tmp_path: Path) -> None:
    token = {"csrf_token": "real-flag-token-7f3a9c"}
    ok = await fetch_usage("antigravity", {**token, "url": f"https://127.0.0.1:{fake_ls.https}"}, home=tmp_path)
    assert ok.windows == SUMMARY_WINDOWS
    # The same server by name: a name could resolve anywhere, so its certificate is verified, and refused.
    with pytest.raises(NetworkError) as info:
        await fetch_usage("antigravity", {**token, "url": f"https://localhost:{fake_ls.https}"}, home=tmp_path)
    assert isinstance(info.value, AgentGaugeError)
    assert len(fake_ls.requests()) == 2  # the refused connection never sent a request


async def test_the_ide_server(tmp_path: Path, certificate: tuple[Path, Path]) -> None:
    server = start_fake(tmp_path, certificate, token="ide-token-51d2", ide=True)
    try:
        (creds,) = discovered(tmp_path)
        assert creds.details["kind"] == "ide"
        usage = await fetch_usage("antigravity", {}, home=tmp_path)
    finally:
        server.process.terminate()
        server.process.communicate(timeout=10)
    assert [w.id for w in usage.windows] == ["gemini", "claude_gpt"] and usage.plan == "Pro"
    assert [r["path"].removeprefix(SERVICE) for r in server.requests()] == ["RetrieveUserQuotaSummary", "GetUserStatus"]


async def test_no_server_running_is_not_configured(tmp_path: Path) -> None:
    assert discovered(tmp_path) == []
    config = account_config("antigravity", {}, home=tmp_path)
    store = open_store(str(tmp_path / "m.db"), data_dir=tmp_path)
    async with Engine(config, store) as engine:
        snapshot = await engine.refresh(["antigravity"])
    store.close()
    (account,) = snapshot.providers
    assert account.status == Status.UNCONFIGURED
    assert account.error is not None and "Start Antigravity" in account.error.hint


def test_declarations() -> None:
    assert [(s.name, s.env_var("antigravity"), s.secret) for s in PROVIDER.settings] == [
        ("csrf_token", "AGENTGAUGE_ANTIGRAVITY_CSRF_TOKEN", True),
        ("port", "AGENTGAUGE_ANTIGRAVITY_PORT", False),
        ("url", "AGENTGAUGE_ANTIGRAVITY_URL", False),
    ]
    assert [(a.id, a.source, a.requires) for a in PROVIDER.auth] == [("language_server", "cli", ("csrf_token",))]
