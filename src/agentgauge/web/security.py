"""Who may talk to the server: the Host check (DNS-rebinding defence) and the access token.

- Every request's ``Host`` must be a loopback name, the bound host, a configured allowed host or,
  when bound to all interfaces, an IP literal (rebinding attacks use hostnames, not IPs).
- With a token configured (required off loopback), every route except ``api/ping``, the login
  page and static assets needs ``Authorization: Bearer <token>`` or the login cookie. Tokens are
  compared as SHA-256 digests in constant time, and never read from a query string.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

COOKIE = "agentgauge_session"
OPEN_PATHS = ("/api/ping", "/login", "/static/")
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def host_name(raw: str) -> str:
    raw = raw.strip().lower()
    if raw.startswith("["):
        return raw[: raw.find("]") + 1] if "]" in raw else raw
    return raw.rsplit(":", 1)[0] if raw.count(":") == 1 else raw


def session_value(token: str) -> str:
    """What the login cookie holds: derived from the token, never the token itself."""
    return hmac.new(token.encode(), b"agentgauge-session-v1", hashlib.sha256).hexdigest()


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(hashlib.sha256(a.encode()).digest(), hashlib.sha256(b.encode()).digest())


class Guard:
    def __init__(self, app: ASGIApp, *, bind_host: str, token: str | None, allowed_hosts: tuple[str, ...],
                 root_path: str = "") -> None:
        self.app = app
        self.token = token
        self.root_path = root_path.rstrip("/")
        self.wildcard = bind_host in ("0.0.0.0", "::", "")
        self.allowed = set(LOOPBACK_NAMES) | {h.lower() for h in allowed_hosts}
        if not self.wildcard:
            self.allowed.add(bind_host.lower())
        self.session = session_value(token) if token else None

    def host_allowed(self, host: str) -> bool:
        name = host_name(host)
        return name in self.allowed or (self.wildcard and _is_ip(name))

    def authorized(self, scope: Scope) -> bool:
        if self.token is None:
            return True
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer ") and _same(auth[7:].strip(), self.token):
            return True
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE and self.session and _same(value, self.session):
                return True
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        host = headers.get(b"host", b"").decode("latin-1")
        if not self.host_allowed(host):
            await _reply(send, 421, b'{"error":"misdirected request: this Host is not served here"}')
            return
        path = scope.get("path", "")
        if self.root_path and path.startswith(self.root_path):
            path = path[len(self.root_path):] or "/"
        if not any(path.startswith(p) for p in OPEN_PATHS) and not self.authorized(scope):
            if path.startswith("/api/"):
                await _reply(send, 401, b'{"error":"unauthorized"}', [(b"www-authenticate", b"Bearer")])
            else:
                location = (self.root_path + "/login").encode()
                await _reply(send, 303, b"", [(b"location", location)])
            return
        await self.app(scope, receive, send)


async def _reply(send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store"),
               (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def login_token(body: bytes) -> str:
    return (parse_qs(body.decode("utf-8", "replace")).get("token") or [""])[0].strip()
