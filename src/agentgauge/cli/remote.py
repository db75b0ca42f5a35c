"""``--server URL`` for ``status``, ``guard`` and ``pick``: read another machine's ``agentgauge serve``
instead of this machine's store (docs/users.md).

The API key comes from ``AGENTGAUGE_SERVER_KEY``, else from the OS keyring where ``agentgauge keys use
URL`` saved it (on a machine without a keyring: from the encrypted secret store), never from argv. It
is sent only as ``Authorization: Bearer`` to the server it was saved for, never printed. A server that
cannot be reached reads as "unavailable" (``StoreUnavailableError``: ``guard`` answers 69), a refused
key as a configuration error that says how to fix it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click
import orjson

from ..errors import ConfigError, StoreUnavailableError
from ..secret import Secret

if TYPE_CHECKING:  # httpx loads only when a server is asked: guard's fast path stays fast
    import httpx

KEY_ENV = "AGENTGAUGE_SERVER_KEY"
SERVER_ENV = "AGENTGAUGE_SERVER"
SERVICE = "agentgauge-server"  # the keyring service; the user name is the server's URL
STORE_PROVIDER, STORE_SETTING = "server", "api_key"  # the secret store's entry where no keyring works
TIMEOUT = 30.0

server_option = click.option(
    "--server",
    metavar="URL",
    envvar=SERVER_ENV,
    help="Read the agentgauge server at URL instead of this machine's store; the API key comes from "
    f"{KEY_ENV} or `agentgauge keys use URL` (never the command line).",
)


def server_url(raw: str) -> str:
    """The server's base URL (its root path kept), checked: http(s), a host, nothing secret in it."""
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"'{raw[:200]}' is not a server URL", hint="e.g. --server https://gauge.example:8777")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigError(
            "the server URL must not carry a user, a password, a query or a fragment",
            hint=f"The API key goes in {KEY_ENV} or `agentgauge keys use URL`, never in the URL.",
        )
    return f"{parts.scheme}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def _keyring() -> Any | None:
    from ..credentials.store import keyring_backend

    return keyring_backend()


def saved_key(url: str, env: Mapping[str, str]) -> Secret | None:
    """The key saved for ``url`` (keyring, else the secret store), or None."""
    backend = _keyring()
    if backend is not None:
        try:
            value = backend.get_password(SERVICE, url)
        except Exception:  # a locked or broken keyring: as if nothing were saved there
            value = None
        if value:
            return Secret(value)
    from ..credentials import SecretStore

    store = SecretStore(env=env)
    entry = store.get(STORE_PROVIDER, url, STORE_SETTING) if store.exists() else None
    return entry.value if entry is not None else None


def save_key(url: str, key: str, env: Mapping[str, str]) -> str:
    """Keep ``key`` for ``url``; returns where, in words."""
    backend = _keyring()
    if backend is not None:
        try:
            backend.set_password(SERVICE, url, key)
            return f"the OS keyring (service '{SERVICE}')"
        except Exception as exc:
            raise ConfigError(
                f"the OS keyring refused the key ({type(exc).__name__})",
                hint=f"Unlock the keyring and try again, or set {KEY_ENV} instead.",
            ) from None
    from ..credentials import SecretStore

    store = SecretStore(env=env)
    store.put(STORE_PROVIDER, url, {STORE_SETTING: key}, origin="keys use")
    return f"the encrypted secret store {store.path} (no OS keyring here; its key is in {store.key_location()})"


def forget_key(url: str, env: Mapping[str, str]) -> int:
    """Forget the key saved for ``url`` everywhere; how many copies went."""
    gone = 0
    backend = _keyring()
    if backend is not None:
        try:
            if backend.get_password(SERVICE, url):
                backend.delete_password(SERVICE, url)
                gone += 1
        except Exception:
            pass  # nothing there, or a keyring that cannot delete: the secret store may still hold one
    from ..credentials import SecretStore

    store = SecretStore(env=env)
    if store.exists():
        gone += store.forget(STORE_PROVIDER, url)
    return gone


class Remote:
    """A few JSON calls to one server with its API key."""

    def __init__(self, raw_url: str, env: Mapping[str, str], *, transport: httpx.BaseTransport | None = None) -> None:
        import httpx

        self.url = server_url(raw_url)
        given = (env.get(KEY_ENV) or "").strip()
        self.key = Secret(given) if given else saved_key(self.url, env)
        headers = {"Accept": "application/json", "User-Agent": "agentgauge-cli"}
        if self.key is not None:
            headers["Authorization"] = f"Bearer {self.key.reveal()}"
        self._client = httpx.Client(base_url=self.url, headers=headers, timeout=TIMEOUT, transport=transport)

    def __enter__(self) -> Remote:
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()

    def call(self, method: str, path: str, params: Any = None, timeout: float | None = None) -> Any:
        import httpx

        try:
            answer = self._client.request(method, path, params=params, timeout=timeout or TIMEOUT)
        except httpx.HTTPError as exc:
            raise StoreUnavailableError(
                f"cannot reach the agentgauge server at {self.url} ({type(exc).__name__})",
                hint="Check the URL and that `agentgauge serve` runs there.",
            ) from None
        if answer.status_code in (401, 403):
            raise self._refused(answer)
        if answer.status_code >= 500:
            raise StoreUnavailableError(
                f"the agentgauge server at {self.url} answered HTTP {answer.status_code}: {_error_of(answer)}",
                hint="Its log says more; try again shortly.",
            )
        if answer.status_code >= 400:
            raise ConfigError(
                f"the agentgauge server at {self.url} answered HTTP {answer.status_code}: {_error_of(answer)}"
            )
        try:
            return orjson.loads(answer.content)
        except orjson.JSONDecodeError:
            raise StoreUnavailableError(f"{self.url}{path} did not answer JSON: is it an agentgauge server?") from None

    def _refused(self, answer: httpx.Response) -> ConfigError:
        if self.key is None:
            return ConfigError(
                f"the agentgauge server at {self.url} needs an API key",
                hint=f"Make one there (`agentgauge keys create`, or the settings page), then set {KEY_ENV} or run "
                f"`agentgauge keys use {self.url}`.",
            )
        what = "refused the API key" if answer.status_code == 401 else "does not let this key do that"
        return ConfigError(
            f"the agentgauge server at {self.url} {what} (HTTP {answer.status_code}: {_error_of(answer)})",
            hint=f"Check {KEY_ENV} or the key saved with `agentgauge keys use {self.url}` (revoked? read-only?).",
        )


def _error_of(answer: httpx.Response) -> str:
    try:
        body = orjson.loads(answer.content)
    except orjson.JSONDecodeError:
        return "no details"
    return str(body.get("error") or "no details")[:300] if isinstance(body, dict) else "no details"
