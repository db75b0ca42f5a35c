"""Who may talk to the server: the Host check (DNS-rebinding defence), the access token, and the
cross-site checks on requests that change something.

- Every request's ``Host`` must be a loopback name, the bound host, a configured allowed host or,
  when bound to all interfaces, an IP literal (rebinding attacks use hostnames, not IPs).
- With a token configured (required off loopback), every route except ``api/ping``, the login
  page and static assets needs ``Authorization: Bearer <token>`` or the login cookie. Tokens are
  compared as SHA-256 digests in constant time, and never read from a query string.
- The login cookie is per session: a random nonce and its HMAC under the token. Its CSRF token is
  another HMAC of the same nonce, so the server checks both without storing sessions.
- A state-changing request (POST...) authenticated by the cookie needs a matching ``Origin`` (or
  ``Referer``) and the session's CSRF token in ``X-AgentGauge-CSRF``: SameSite does not separate
  other ports of the same host. Without a token, a browser's cross-site ``Origin`` is refused.
  Bearer requests are exempt (a browser cannot add that header cross-site without CORS, which the
  server never grants).
- Multi-user mode (``auth = "users"``, docs/users.md): the cookie names a stored session of a user,
  API keys (``Bearer agk_...``) are looked up in the store (in either mode), and every request is
  then checked against the role it acts with (``refusal``): viewers and read keys read, refresh and
  use MCP; managing accounts, alert settings, users and extensions takes an admin; users and keys are
  managed only by a signed-in person or the access token, never by an API key.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import StoreUnavailableError

COOKIE = "agentgauge_session"
CSRF_HEADER = "x-agentgauge-csrf"
CSRF_STATE = "csrf_token"  # where the Guard leaves the session's CSRF token for the page (request.state)
PRINCIPAL_STATE = "principal"  # where it leaves the request's Auth (who, with which role)
# The extension routes and the hub's machine routes check their own tokens (web/extension.py, web/hub.py);
# /setup works only while no user exists (docs/users.md).
OPEN_PATHS = ("/api/ping", "/login", "/setup", "/static/", "/api/extension/", "/api/hub/push", "/api/hub/hello")
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
DEFAULT_PORTS = {"http": 80, "https": 443}


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach. "" (every interface), 0.0.0.0 and :: are not."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def needs_token(bind_host: str) -> bool:
    return not is_loopback(bind_host)


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


def _mac(token: str, purpose: str, nonce: str) -> str:
    return hmac.new(token.encode(), f"agentgauge-{purpose}-v2:{nonce}".encode(), hashlib.sha256).hexdigest()


def new_session(token: str) -> str:
    """A fresh login cookie value: derived from the token, never the token itself."""
    nonce = secrets.token_hex(16)
    return f"{nonce}.{_mac(token, 'session', nonce)}"


def session_nonce(token: str, cookie: str) -> str | None:
    """The nonce of a valid login cookie (constant-time check), else None."""
    nonce, _, mac = cookie.partition(".")
    if not nonce or len(nonce) > 64 or not hmac.compare_digest(mac.encode(), _mac(token, "session", nonce).encode()):
        return None
    return nonce


def csrf_token(token: str, nonce: str) -> str:
    return _mac(token, "csrf", nonce)


def same_secret(a: str, b: str) -> bool:
    """Constant-time equality that also hides the length (both sides are hashed first)."""
    return hmac.compare_digest(hashlib.sha256(a.encode()).digest(), hashlib.sha256(b.encode()).digest())


@dataclass(frozen=True)
class Auth:
    """Who a request comes from, and the role it acts with."""

    how: str  # "bearer" (the access token) | "cookie" (its login) | "open" | "key" (API key) | "session" (a user)
    csrf: str | None = None  # the session's CSRF token (cookie and session)
    role: str = "admin"  # "admin" | "viewer"
    user: Any = None  # agentgauge.users.User of a session or of a key's owner
    key: Any = None  # agentgauge.users.ApiKey
    session: str | None = None  # the session's id digest (sign-out ends it)

    @property
    def person(self) -> bool:
        """A signed-in person or the access token: may manage users and keys (an API key may not)."""
        return self.how != "key"


class Identities(Protocol):
    """Multi-user mode and API keys, backed by the store (agentgauge.web.users). Blocking calls: the
    Guard runs them in a worker thread."""

    users_mode: bool

    def setup_needed(self) -> bool: ...
    def session(self, cookie: str) -> Auth | None: ...
    def api_key(self, token: str) -> Auth | None: ...


# Path prefixes by who may use them (a prefix matches itself and what lies below it).
ADMIN_PATHS = ("/api/accounts", "/api/alert-settings", "/api/users", "/api/extensions", "/extension")
PERSON_PATHS = ("/api/users", "/api/keys")  # never an API key: a leaked key cannot make more
VIEWER_WRITES = ("/api/refresh", "/mcp", "/logout", "/api/me", "/api/keys")  # POSTs a viewer may make


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


def refusal(auth: Auth, method: str, path: str) -> str | None:
    """Why ``auth`` may not make this request (a 403), or None."""
    if _under(path, PERSON_PATHS) and not auth.person:
        return "API keys cannot manage users or API keys: sign in, or use the access token"
    if auth.role == "admin":
        return None
    if _under(path, ADMIN_PATHS):
        return "this needs an admin"
    if method not in SAFE_METHODS and not _under(path, VIEWER_WRITES):
        return "read-only access: this needs an admin (or a write key of one)"
    return None


def _authority(scheme: str, netloc: str) -> tuple[str, int] | None:
    """(host, port) of a URL's authority, the scheme's default port filled in."""
    parts = urlsplit(f"{scheme}://{netloc}")
    try:
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    return parts.hostname, port


def same_origin(source: str, host: str) -> bool:
    """Whether ``source`` (an Origin or Referer value) names the site at ``host`` (the Host header):
    same name and port, the port defaulting from the source's scheme on both sides (a TLS proxy in
    front keeps the browser's https origin and the Host it was sent to)."""
    parts = urlsplit(source)
    if parts.scheme not in DEFAULT_PORTS or not parts.netloc:
        return False
    mine = _authority(parts.scheme, host)
    return mine is not None and _authority(parts.scheme, parts.netloc) == mine


class Guard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        bind_host: str,
        token: str | None,
        allowed_hosts: tuple[str, ...],
        root_path: str = "",
        identities: Identities | None = None,
    ) -> None:
        self.app = app
        self.token = token
        self.identities = identities
        self.users_mode = identities is not None and identities.users_mode
        self.root_path = root_path.rstrip("/")
        self.wildcard = bind_host in ("0.0.0.0", "::", "")
        self.allowed = set(LOOPBACK_NAMES) | {h.lower() for h in allowed_hosts}
        if not self.wildcard:
            self.allowed.add(bind_host.lower())

    def host_allowed(self, host: str) -> bool:
        name = host_name(host)
        return name in self.allowed or (self.wildcard and _is_ip(name))

    async def authenticate(self, headers: dict[str, str]) -> Auth | None:
        if self.token is None and not self.users_mode:
            return Auth("open")
        auth = headers.get("authorization", "")
        bearer = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        if bearer and self.identities is not None and bearer.startswith("agk_"):
            return await asyncio.to_thread(self.identities.api_key, bearer)
        if bearer and self.token is not None and same_secret(bearer, self.token):
            return Auth("bearer")
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name != COOKIE:
                continue
            if self.users_mode and self.identities is not None:
                return await asyncio.to_thread(self.identities.session, value)
            if self.token is not None and (nonce := session_nonce(self.token, value)) is not None:
                return Auth("cookie", csrf_token(self.token, nonce))
        return None

    def cross_site(self, headers: dict[str, str], auth: Auth) -> str | None:
        """Why a state-changing request is refused as cross-site, or None when it may proceed."""
        host = headers.get("host", "")
        origin = headers.get("origin")
        source = origin if origin is not None else headers.get("referer")
        if auth.how == "open":
            # Scripts send no Origin; a browser always does on a POST, and a page elsewhere (or one
            # that hides its origin as "null") must not drive this server.
            return None if origin is None or same_origin(origin, host) else "cross-site request refused"
        if source is None or not same_origin(source, host):
            return "cross-site request refused: Origin (or Referer) must be this site"
        given = headers.get(CSRF_HEADER, "")
        if not (auth.csrf and given and hmac.compare_digest(given.encode(), auth.csrf.encode())):
            return "missing or wrong CSRF token (X-AgentGauge-CSRF)"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if not self.host_allowed(headers.get("host", "")):
            await _reply(send, 421, b'{"error":"misdirected request: this Host is not served here"}')
            return
        path = scope.get("path", "")
        if self.root_path and path.startswith(self.root_path):
            path = path[len(self.root_path) :] or "/"
        if any(path.startswith(p) for p in OPEN_PATHS):
            await self.app(scope, receive, send)
            return
        try:
            auth = await self.authenticate(headers)
            setup = False
            if auth is None and self.users_mode and self.identities is not None:
                setup = await asyncio.to_thread(self.identities.setup_needed)
        except StoreUnavailableError:  # sessions and keys live in the database: no answer is a 503, not a 500
            body = b'{"error":"the database is unavailable: sign-in cannot be checked right now"}'
            await _reply(send, 503, body, [(b"retry-after", b"5")])
            return
        if auth is None:
            if path.startswith("/api/") or path == "/mcp":  # programs get a 401, browsers the login page
                why = b'{"error":"unauthorized: no user exists yet; see docs/users.md"}' if setup else None
                await _reply(send, 401, why or b'{"error":"unauthorized"}', [(b"www-authenticate", b"Bearer")])
            else:
                location = (self.root_path + ("/setup" if setup else "/login")).encode()
                await _reply(send, 303, b"", [(b"location", location)])
            return
        method = scope.get("method", "GET")
        if method not in SAFE_METHODS and auth.how not in ("bearer", "key"):
            refused = self.cross_site(headers, auth)
            if refused is not None:
                await _reply(send, 403, b'{"error":"' + refused.encode() + b'"}')
                return
        denied = refusal(auth, method, path)
        if denied is not None:
            await _reply(send, 403, b'{"error":"' + denied.encode() + b'"}')
            return
        state = {**(scope.get("state") or {}), PRINCIPAL_STATE: auth}
        if auth.csrf is not None:
            state[CSRF_STATE] = auth.csrf
        await self.app({**scope, "state": state}, receive, send)


async def _reply(send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"cache-control", b"no-store"),
        (b"content-length", str(len(body)).encode()),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def login_token(body: bytes) -> str:
    return (parse_qs(body.decode("utf-8", "replace")).get("token") or [""])[0].strip()
