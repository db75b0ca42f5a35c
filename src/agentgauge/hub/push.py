"""The pushing machine's side: send this machine's snapshots to a hub (``serve --push-to``, ``agentgauge push``).

Snapshots go through the outbox (numbered, in the local store) and leave in batches, oldest first,
gzip-compressed, with this machine's token in ``Authorization`` (never in a URL or on the command
line). The hub answers with the highest number it has applied, and those items are dropped here.
A hub that cannot be reached, answers 5xx or 429, or refuses the token leaves everything buffered
for the next try (agentgauge.hub.loop, ``agentgauge push``). Each account's fingerprint is computed
here, from the credential this machine used, with the hub's salt: only the keyed hash is sent
(agentgauge.hub.fingerprint).
"""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from .. import __version__
from ..config import Config
from ..credentials import Vault
from ..errors import AgentGaugeError, ConfigError, NetworkError, UpstreamError
from ..models import ProviderSnapshot, Status
from ..providers import registry
from ..secret import Secret
from ..store import Store
from . import HELLO_PATH, PUSH_PATH, TOKEN_ENV, outbox
from .fingerprint import fingerprint, identity

log = logging.getLogger("agentgauge.hub")

BATCH_ITEMS = 50  # items per request at most
MAX_WIRE = 56 * 1024  # compressed bytes per request (the hub takes 64 KiB bodies)
MIN_BACKOFF = 1.0
MAX_BACKOFF = 300.0  # seconds between tries while the hub is away (AGENTGAUGE_PUSH_MAX_BACKOFF)
BACKOFF_ENV = "AGENTGAUGE_PUSH_MAX_BACKOFF"
IDENTITY_TTL = 3600.0  # seconds an account's fingerprint is reused before its credential is looked at again
# Sources whose account has no identity in reach here: never looked up (a browser profile is not read for nothing).
NAMELESS_SOURCES = frozenset({None, "browser", "extension", "statusline"})
REFUSED = frozenset({400, 413, 415, 422})  # the hub cannot take this batch as it is: split it, in the end drop one
AWAY_HINT = "The snapshots stay buffered in this machine's store and go out once the hub takes them again."
TOKEN_STORE = ("hub", "push", "token")  # where `agentgauge hub token set` keeps the token (secret store)
TOKEN_HINT = (
    f"Add this machine on the hub (`agentgauge hub machines add NAME` there prints its token once), then set "
    f"{TOKEN_ENV} or save it with `agentgauge hub token set` (docs/hub.md)."
)


@dataclass(frozen=True)
class HubTarget:
    url: str  # the hub's base URL (its root path included), no trailing slash
    token: Secret


def hub_url(raw: str) -> str:
    """The hub's base URL, checked: http(s), a host, no user or password in it, no query."""
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"'{raw}' is not a hub URL", hint="Give the hub's address, e.g. https://hub.example:8777")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigError(
            "the hub URL must not carry a user, a password, a query or a fragment",
            hint=f"The machine's token goes in {TOKEN_ENV} or `agentgauge hub token set`, never in the URL.",
        )
    if parts.scheme == "http" and not _local(parts.hostname):
        log.warning(
            "pushing to %s over plain http: the machine token and the snapshots cross the network unencrypted "
            "(put the hub behind TLS, docs/deploy.md)",
            parts.hostname,
        )
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def push_token(env: Mapping[str, str]) -> Secret:
    """The machine token: ``AGENTGAUGE_PUSH_TOKEN``, else the secret store (``agentgauge hub token set``)."""
    value = (env.get(TOKEN_ENV) or "").strip()
    if not value:
        from ..credentials import SecretStore

        store = SecretStore(env=env)
        entry = store.get(*TOKEN_STORE) if store.exists() else None
        value = entry.value.reveal() if entry is not None and entry.value is not None else ""
    if not value:
        raise ConfigError("no machine token to push with", hint=TOKEN_HINT)
    return Secret(value)


def max_backoff(env: Mapping[str, str]) -> float:
    raw = (env.get(BACKOFF_ENV) or "").strip()
    try:
        return min(3600.0, max(MIN_BACKOFF, float(raw))) if raw else MAX_BACKOFF
    except ValueError:
        raise ConfigError(f"{BACKOFF_ENV} must be a number of seconds, got {raw!r}") from None


def pushable(snapshot: ProviderSnapshot) -> bool:
    """This machine's own accounts with something fetched (an account a hub was sent is not pushed on)."""
    return (
        snapshot.machine is None
        and snapshot.fetched_at is not None
        and snapshot.status not in (Status.UNCONFIGURED, Status.DISABLED)
    )


def account_identity(vault: Vault, config: Config, provider_id: str, account: str, source: str | None) -> Any:
    """(kind, identity) of the credential behind an account's data, or None (blocking: discovery)."""
    target = config.account(provider_id, account)
    if target is None or source in NAMELESS_SOURCES:
        return None
    provider = registry.get(provider_id)
    found = vault.open(provider, target)
    try:
        for _ in range(len(provider.auth) + 1):
            creds = found.next()
            if creds is None:
                return None
            if source is None or creds.source == source:
                values = {name: secret.reveal() for name, secret in creds.values.items()}
                return identity(creds.auth.source, values, {**found.settings(), **creds.details})
    except AgentGaugeError:
        return None
    return None


class Fingerprints:
    """Each account's fingerprint under one hub's salt, worked out once an hour; only the hash is kept."""

    def __init__(self, config: Config, vault: Vault, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.config, self.vault, self.monotonic = config, vault, monotonic
        self._known: dict[tuple[str, str, str | None, str], tuple[str | None, float]] = {}

    async def of(self, salt: str, provider: str, account: str, source: str | None) -> str | None:
        key = (provider, account, source, salt)
        known = self._known.get(key)
        if known is not None and self.monotonic() - known[1] < IDENTITY_TTL:
            return known[0]
        found = await asyncio.to_thread(account_identity, self.vault, self.config, provider, account, source)
        value = fingerprint(salt, provider, found[0], found[1]) if found else None
        self._known[key] = (value, self.monotonic())
        return value


def _retry_after(response: httpx.Response) -> float | None:
    try:
        value = float(response.headers.get("retry-after", ""))
    except ValueError:
        return None
    return value if 0 < value < 86400 else None


def _problem(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    error = data.get("error") if isinstance(data, dict) else None
    return f"HTTP {response.status_code}: {str(error)[:200]}" if error else f"HTTP {response.status_code}"


class PushClient:
    """Talks to one hub for one store: hello (who am I, the salt), batches, acknowledgements."""

    def __init__(
        self,
        target: HubTarget,
        store: Store,
        fingerprints: Fingerprints,
        *,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.target = target
        self.store = store
        self.fingerprints = fingerprints
        self.clock = clock or (lambda: datetime.now(UTC))
        self._http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(30.0), headers={"User-Agent": f"agentgauge/{__version__}"}
        )
        self._own_http = http is None
        self.machine: str | None = None  # the name the hub knows this machine by
        self._salt: str | None = None
        self._batch = BATCH_ITEMS
        self.retry_after: float | None = None  # what the hub last asked for

    async def aclose(self) -> None:
        if self._own_http:
            await self._http.aclose()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.target.token.reveal()}"}

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = self.target.url + path
        try:
            response = await self._http.request(method, url, **kwargs)
        except httpx.TimeoutException:
            raise NetworkError(f"the hub at {self.target.url} did not answer in time", hint=AWAY_HINT) from None
        except httpx.HTTPError as exc:
            raise NetworkError(
                f"the hub at {self.target.url} cannot be reached ({type(exc).__name__})", hint=AWAY_HINT
            ) from None
        self.retry_after = _retry_after(response)
        if response.status_code in (401, 403):
            raise ConfigError(
                f"the hub at {self.target.url} refused this machine's token ({_problem(response)}): "
                "revoked, or not a token of this hub",
                hint=TOKEN_HINT,
            )
        if response.status_code >= 400:
            raise UpstreamError(
                f"the hub at {self.target.url} answered {_problem(response)}",
                hint=AWAY_HINT,
                status_code=response.status_code,
            )
        return response

    async def hello(self) -> str:
        """Ask the hub who this token is and its fingerprint salt; returns the machine's name."""
        response = await self._request("GET", HELLO_PATH, headers=self._headers())
        data = response.json()
        self.machine, self._salt = str(data["machine"]), str(data["salt"])
        return self.machine

    async def _items(self, queued: list[outbox.Queued]) -> list[dict[str, Any]]:
        assert self._salt is not None
        items = []
        for q in queued:
            fp = await self.fingerprints.of(self._salt, q.provider, q.account, q.snapshot.get("source"))
            items.append(
                {"seq": q.seq, "provider": q.provider, "account": q.account, "fingerprint": fp, "snapshot": q.snapshot}
            )
        return items

    async def send_batch(self) -> int:
        """Send the oldest buffered items; returns how many the hub acknowledged (0: nothing was waiting).
        Raises NetworkError/UpstreamError/ConfigError when the hub did not take them (they stay)."""
        if self._salt is None:
            await self.hello()
        stream = await asyncio.to_thread(outbox.stream_id, self.store)
        queued = await asyncio.to_thread(outbox.pending, self.store, self._batch)
        if not queued:
            return 0
        items = await self._items(queued)
        body = gzip.compress(orjson.dumps({"stream": stream, "items": items}))
        while len(body) > MAX_WIRE and len(items) > 1:
            items = items[: len(items) // 2]
            body = gzip.compress(orjson.dumps({"stream": stream, "items": items}))
        headers = {**self._headers(), "Content-Type": "application/json", "Content-Encoding": "gzip"}
        try:
            response = await self._request("POST", PUSH_PATH, content=body, headers=headers)
        except UpstreamError as exc:
            if exc.status_code not in REFUSED:
                raise
            if len(items) > 1:  # find the item the hub cannot take: smaller batches from here on
                self._batch = max(1, len(items) // 2)
                raise
            log.error("the hub refused buffered snapshot %d for good; dropping it: %s", items[0]["seq"], exc.message)
            return await asyncio.to_thread(outbox.acknowledge, self.store, int(items[0]["seq"]))
        self._batch = BATCH_ITEMS
        reply = response.json()
        for rejected in reply.get("rejected") or ():
            log.warning("the hub did not take snapshot %s: %s", rejected.get("seq"), rejected.get("reason"))
        acked = int(reply.get("acked") or 0)
        return await asyncio.to_thread(outbox.acknowledge, self.store, acked)

    async def flush(self) -> int:
        """Send until nothing is buffered; returns how many items the hub acknowledged."""
        total = 0
        while True:
            sent = await self.send_batch()
            if sent == 0 and not await asyncio.to_thread(outbox.buffered, self.store):
                return total
            total += sent
