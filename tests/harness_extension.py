"""Helpers for the browser extension's tests: a real ``serve`` app whose extension providers have no
server-side credentials (push-only), pairing, what the extension pushes (read from the simulator
with the same requests), and an HTTPS front that answers for the providers' real host names with
the simulator behind it (Chromium maps those names to it with --host-resolver-rules)."""

from __future__ import annotations

import datetime as dt
import gzip
import http.client
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from agentgauge.cli.serving import server_config
from agentgauge.config import AccountConfig, Config
from agentgauge.providers import registry
from agentgauge.sim.server import CalmServer, SimServer
from agentgauge.store import Store, open_store
from agentgauge.web import pairing
from agentgauge.web.app import create_app
from agentgauge.web.extension import ExtensionHub

from .harness_web import MovableClock

ROOT = Path(__file__).resolve().parent.parent
EXTENSION_DIR = ROOT / "clients" / "extension"
PUSHED = ("claude", "codex", "kimi", "ollama", "zai")  # the providers the extension reads
# The real host each provider is read from -> where the simulator serves it.
SIM_PREFIX = {
    "claude.ai": "/claude/web_url",
    "chatgpt.com": "/codex/url",
    "www.kimi.com": "/kimi/web_url",
    "ollama.com": "/ollama/url",
    "api.z.ai": "/zai/url",
}
LOGIN_HOSTS = ("chat.z.ai", "z.ai")  # pages only (the z.ai login lives in their localStorage)
HOSTS = (*SIM_PREFIX, *LOGIN_HOSTS)


def push_only_config(
    database_url: str, home: Path, *, refresh: str = "interval", extra: Sequence[AccountConfig] = ()
) -> Config:
    """The extension's providers configured with nothing: the server has no credential for them
    (no environment, an empty home), so only pushes fill them."""
    accounts = tuple(AccountConfig(p, "default", True, {}, {}, explicit=True) for p in PUSHED) + tuple(extra)
    return Config(
        path=None,
        accounts=accounts,
        database_url=database_url,
        env={},
        home=home,
        refresh=refresh,
        refresh_interval=60.0,
    )


@dataclass
class GaugeServer:
    url: str
    store: Store
    app: Any
    clock: MovableClock

    @property
    def hub(self) -> ExtensionHub:
        hub: ExtensionHub = self.app.state.server.extensions
        return hub

    def now(self) -> dt.datetime:
        return self.clock()


@contextmanager
def gauge_server(config: Config, data_dir: Path, *, token: str | None = None) -> Iterator[GaugeServer]:
    """``serve`` (uvicorn as `serve` configures it) on 127.0.0.1 with a clock the test can move."""
    from dataclasses import replace

    config = replace(config, serve_token=token)
    store = open_store(config.database_url, data_dir=data_dir)
    clock = MovableClock()
    app = create_app(config, store, clock=clock)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = CalmServer(server_config(app))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield GaugeServer(f"http://127.0.0.1:{sock.getsockname()[1]}", store, app, clock)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        store.close()


def pair(server: GaugeServer, name: str = "test browser") -> tuple[str, str]:
    """(token, id) of a newly paired extension, paired the way the options page does it."""
    code = pairing.new_code(server.store, server.now())
    answer = httpx.post(f"{server.url}/api/extension/pair", json={"code": code.code, "name": name}, timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()["token"], answer.json()["id"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def push(server: GaugeServer, token: str, provider: str, body: dict[str, Any], **params: str) -> httpx.Response:
    """A push as the extension sends it: gzip JSON."""
    import orjson

    return httpx.post(
        f"{server.url}/api/extension/ingest/{provider}",
        params=params,
        content=gzip.compress(orjson.dumps(body)),
        headers={**bearer(token), "Content-Type": "application/json", "Content-Encoding": "gzip"},
        timeout=30,
    )


def browser_parts(sim: SimServer, provider_id: str, *, account_suffix: str = "") -> dict[str, Any]:
    """What the extension pushes for ``provider_id``: the simulator's answers to the same requests
    it makes in the browser (cookies and tokens are the simulator's credentials)."""
    creds = registry.get(provider_id).sim_credentials
    base = sim.url
    cookies = {
        "claude": {"sessionKey": creds.get("session_key", "") + account_suffix},
        "codex": {"__Secure-next-auth.session-token": creds.get("session_token", "") + account_suffix},
        "ollama": {"wos-session": creds.get("cookie", "=").split("=", 1)[1] + account_suffix},
    }.get(provider_id, {})
    with httpx.Client(timeout=10, cookies=cookies) as client:
        if provider_id == "claude":
            boot = client.get(f"{base}/claude/web_url/api/bootstrap").json()
            org = boot["account"]["lastActiveOrgId"]
            usage = client.get(f"{base}/claude/web_url/api/organizations/{org}/usage").json()
            return {"bootstrap": boot, "org_id": org, "usage": usage}
        if provider_id == "codex":
            session = client.get(f"{base}/codex/url/api/auth/session").json()
            headers = {
                "Authorization": f"Bearer {session['accessToken']}",
                "ChatGPT-Account-Id": session["account"]["id"],
            }
            usage = client.get(f"{base}/codex/url/backend-api/wham/usage", headers=headers).json()
            daily = client.get(f"{base}/codex/url/backend-api/wham/usage/daily-token-usage-breakdown", headers=headers)
            return {"usage": usage, "daily": daily.json()}
        if provider_id == "kimi":
            headers = {
                "Authorization": f"Bearer {creds['auth_token'] + account_suffix}",
                "connect-protocol-version": "1",
            }
            gateway = f"{base}/kimi/web_url/apiv2/kimi.gateway"
            web = client.post(
                f"{gateway}.billing.v1.BillingService/GetUsages", json={"scope": ["FEATURE_CODING"]}, headers=headers
            )
            sub = client.post(f"{gateway}.order.v1.SubscriptionService/GetSubscription", json={}, headers=headers)
            stats = client.post(
                f"{gateway}.membership.v2.MembershipService/GetSubscriptionStats", json={}, headers=headers
            )
            return {"web": web.json(), "subscription": sub.json(), "stats": stats.json()}
        if provider_id == "ollama":
            return {"settings_html": client.get(f"{base}/ollama/url/settings").text}
        if provider_id == "zai":
            headers = {"Authorization": f"Bearer {creds['api_key'] + account_suffix}"}
            quota = client.get(f"{base}/zai/url/api/monitor/usage/quota/limit", headers=headers)
            listed = client.get(f"{base}/zai/url/api/biz/subscription/list", headers=headers)
            return {"quota": quota.json(), "subscriptions": listed.json() if listed.is_success else None}
    raise AssertionError(provider_id)


# -- the providers' host names, answered by the simulator (for Chromium) -------------------------------
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "upgrade", "proxy-connection"}
ZAI_PAGE = b"<!doctype html><html><head><title>Z.ai Chat</title></head><body><p>chat.z.ai (test page)</p></body></html>"


class _Front(BaseHTTPRequestHandler):
    server: Any
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _host(self) -> str:
        return (self.headers.get("Host") or "").split(":")[0].lower()

    def _forward(self) -> None:
        host = self._host()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if host in LOGIN_HOSTS:
            self._answer(200, [("Content-Type", "text/html; charset=utf-8")], ZAI_PAGE)
            return
        prefix = SIM_PREFIX.get(host)
        if prefix is None:
            self._answer(404, [("Content-Type", "text/plain")], b"no such host here")
            return
        self.server.seen.append((self.command, host, self.path, self.headers.get("User-Agent", "")))
        sim = urlsplit(self.server.sim_url)
        conn = http.client.HTTPConnection(sim.hostname, sim.port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP and k.lower() != "accept-encoding"}
        conn.request(self.command, prefix + self.path, body=body, headers=headers)
        answer = conn.getresponse()
        content = answer.read()
        out = []
        for name, value in answer.getheaders():
            if name.lower() in _HOP:
                continue
            if name.lower() == "location":  # the simulator's own address -> the real host's
                value = value.replace(self.server.sim_url + prefix, f"https://{host}")
            out.append((name, value))
        conn.close()
        self._answer(answer.status, out, content)

    def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _forward


def tls_context(folder: Path, hosts: Sequence[str]) -> ssl.SSLContext:
    """A self-signed certificate for ``hosts`` (Chromium runs with --ignore-certificate-errors)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "agentgauge extension test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), False)
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return ctx


@contextmanager
def provider_front(sim: SimServer, folder: Path) -> Iterator[ThreadingHTTPServer]:
    """HTTPS on 127.0.0.1 for the providers' host names; ``.seen`` lists (method, host, path, user agent)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Front)
    server.sim_url = sim.url  # type: ignore[attr-defined]
    server.seen = []  # type: ignore[attr-defined]
    server.socket = tls_context(folder, HOSTS).wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
