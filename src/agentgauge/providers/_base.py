"""The provider contract: a provider is declarations (data) plus ``fetch`` (I/O) and ``parse`` (pure).

A provider is a package ``agentgauge.providers.<id>`` exposing one object, ``PROVIDER``. The
core reads its declarations without any I/O (``agentgauge providers``, ``doctor``, the docs
and contract tests all do), calls ``fetch`` with an injected HTTP client and clock, and hands
the result to ``parse``, which returns only :class:`~agentgauge.models.Usage`.

A provider package imports only this toolkit (``_base``, ``_http``, ``_parse``, ``_oauth``,
``_process``), ``agentgauge.errors`` and ``agentgauge.models``. Its simulator endpoints live
beside it in ``<id>/sim.py``, which only the simulator loads; where its web login lives in a
browser is data on its auth source (:class:`BrowserLogin`). The import contract in
``.importlinter`` and ``tests/test_layers.py`` enforce this.
"""

from __future__ import annotations

import fnmatch
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol

import httpx

from ..errors import ProviderConfigError
from ..models import Usage
from ..secret import Secret, scrub

__all__ = [
    "AuthSource",
    "BrowserLogin",
    "CookieRule",
    "Credentials",
    "DiscoverContext",
    "Discovered",
    "FetchContext",
    "Provider",
    "Raw",
    "Sample",
    "Secret",
    "Setting",
    "StorageRule",
    "TokenSink",
    "WindowSpec",
    "scrub",
]

Raw = dict[str, Any]
"""What ``fetch`` returns: decoded upstream payload(s) keyed by what they are."""


@dataclass(frozen=True)
class Setting:
    """One provider setting. Its environment override is ``AGENTGAUGE_<PROVIDER>_<NAME>``."""

    name: str
    help: str
    secret: bool = False
    default: str | None = None
    choices: tuple[str, ...] = ()
    # The ecosystem's own variables for this setting (``OPENROUTER_API_KEY``), read for the default
    # account after ``AGENTGAUGE_<ID>_<NAME>``; the first one set wins.
    env: tuple[str, ...] = ()

    def env_var(self, provider_id: str) -> str:
        return f"AGENTGAUGE_{provider_id.upper()}_{self.name.upper()}"


@dataclass(frozen=True)
class CookieRule:
    """Cookies on ``domains`` (suffix match, so ``kimi.com`` covers ``www.kimi.com``) giving one setting.

    ``names`` are tried in order; the first present wins. ``chunked`` joins ``<name>.0``,
    ``<name>.1``... when the unsplit cookie is absent (NextAuth splits cookies over 4 KB).
    ``header`` makes the setting a whole ``Cookie`` header of every cookie on the domains,
    for sites that need more than the session cookie (Cloudflare's ``cf_clearance``...).
    """

    setting: str
    domains: tuple[str, ...]
    names: tuple[str, ...]
    chunked: bool = False
    header: bool = False


@dataclass(frozen=True)
class StorageRule:
    """A ``localStorage`` entry of one of ``origins`` (``https://chat.z.ai``) giving one setting."""

    setting: str
    origins: tuple[str, ...]
    keys: tuple[str, ...]


@dataclass(frozen=True)
class BrowserLogin:
    """Where a provider's web login lives in a browser: declared here, read by the browser cookie reader."""

    label: str  # what the user logs in to, for hints: "claude.ai"
    cookies: tuple[CookieRule, ...] = ()
    storage: tuple[StorageRule, ...] = ()

    def cookie_domains(self) -> tuple[str, ...]:
        """Every domain whose cookies are read (the readers filter by these before decrypting)."""
        seen: dict[str, None] = {}
        for rule in self.cookies:
            seen.update(dict.fromkeys(rule.domains))
        return tuple(seen)


@dataclass(frozen=True)
class DiscoverContext:
    """What an auth source may look at to find credentials already on this machine."""

    env: Mapping[str, str]
    home: Path
    settings: Mapping[str, str]

    def expand(self, path: str) -> Path:
        return Path(path.replace("~", str(self.home), 1)) if path.startswith("~") else Path(path)


@dataclass(frozen=True)
class Discovered:
    """Credentials found on the machine (a CLI's login file...), with where they came from."""

    values: Mapping[str, Secret]
    origin: str
    details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AuthSource:
    """One way to authenticate, tried in the provider's declared order.

    ``requires`` are settings that must all be present for the source to be usable when set
    directly (config file or environment); ``optional`` ride along. ``discover`` looks for the
    same values on the machine (read-only) when they are not set directly.
    """

    id: str
    source: str  # the snapshot's ``source`` value: oauth, cookie, api_key, cli, local_file, browser
    label: str  # the source in words, as the dashboard shows it: "Claude Code login", "API key"
    requires: tuple[str, ...]
    hint: str
    optional: tuple[str, ...] = ()
    discover: Callable[[DiscoverContext], Discovered | None] | None = None
    discovered_source: str = "cli"
    # The web login in the user's browsers, tried after ``discover`` (source ``browser``).
    browser: BrowserLogin | None = None
    # Only offered when the provider's settings allow it (z.ai: a chat.z.ai token suits the global region).
    when: Callable[[Mapping[str, str]], bool] | None = None
    # Cloudflare-fronted web paths refuse Python's TLS handshake: send a browser's (docs/tls.md).
    impersonate: bool = False


@dataclass(frozen=True)
class Credentials:
    """The resolved credentials of one account for one auth source."""

    auth: AuthSource
    values: Mapping[str, Secret]
    origin: str
    details: Mapping[str, str] = field(default_factory=dict)
    source: str = ""

    def get(self, name: str) -> str | None:
        secret = self.values.get(name)
        return secret.reveal() if secret else None

    def secrets(self) -> list[Secret]:
        return list(self.values.values())


@dataclass(frozen=True)
class WindowSpec:
    """A window the provider can report. ``id`` may be a glob for model-scoped windows."""

    id: str
    label: str
    window_seconds: int | None = None
    unit: str | None = None

    def matches(self, window_id: str) -> bool:
        return fnmatch.fnmatchcase(window_id, self.id)


@dataclass(frozen=True)
class Sample:
    """How a recorded upstream payload (``tests/fixtures/<id>/<glob>``) becomes ``parse`` input, so
    the fuzz tests derive their cases from the fixtures. ``format`` is how the file is decoded."""

    glob: str
    key: str
    extra: Mapping[str, Any] = field(default_factory=dict)
    format: str = "json"  # json | html | text

    def raw(self, payload: Any) -> Raw:
        return {self.key: payload, **self.extra}


class TokenSink(Protocol):
    """Where ``fetch`` may keep tokens it refreshed for its own account (the engine backs it with
    agentgauge's secret store); the CLI's own credential files are never written."""

    def save(self, values: Mapping[str, str], *, expires_at: datetime | None, origin: str) -> None: ...


@dataclass
class FetchContext:
    """Everything ``fetch`` may use; every boundary is injected."""

    provider: Provider
    account: str
    http: httpx.AsyncClient
    settings: Mapping[str, str]
    credentials: Credentials
    now: Callable[[], datetime]
    log: logging.Logger
    tokens: TokenSink | None = None  # None: nowhere to keep a refreshed token, so never refresh

    def setting(self, name: str) -> str | None:
        value = self.settings.get(name)
        return value if value not in (None, "") else None

    def url(self, name: str) -> str:
        value = self.setting(name) or self.provider.urls.get(name)
        if not value:
            raise ProviderConfigError(f"{self.provider.name}: no base URL configured for '{name}'")
        return value.rstrip("/")

    def secret(self, name: str) -> str:
        value = self.credentials.get(name)
        if not value:
            raise ProviderConfigError(f"{self.provider.name}: credential '{name}' is empty")
        return value


class Provider(ABC):
    """Base class for provider declarations. Subclasses set the class attributes and override
    ``fetch`` and ``parse``; ``<id>/sim.py`` serves the same protocol for the simulator."""

    id: ClassVar[str]
    name: ClassVar[str]
    docs_url: ClassVar[str] = ""
    # The provider's public status page (an Atlassian Statuspage or incident.io site serving
    # /api/v2/summary.json): the server shows its open incidents on the cards (agentgauge.incidents).
    status_page: ClassVar[str] = ""
    settings: ClassVar[tuple[Setting, ...]] = ()
    auth: ClassVar[tuple[AuthSource, ...]] = ()
    windows: ClassVar[tuple[WindowSpec, ...]] = ()
    urls: ClassVar[Mapping[str, str]] = {}
    min_interval: ClassVar[float] = 60.0
    timeout: ClassVar[float] = 20.0
    redact_keys: ClassVar[frozenset[str]] = frozenset()
    # Credentials the simulator accepts; ``--demo`` configures them.
    sim_credentials: ClassVar[Mapping[str, str]] = {}
    # Extra demo accounts beside ``default`` (how several accounts of one provider look).
    demo_accounts: ClassVar[tuple[str, ...]] = ()
    # Every environment variable discovery reads besides the settings' own: discovery sees only
    # these (plus HOME/PATH-like basics), and tests isolate them.
    env_vars: ClassVar[tuple[str, ...]] = ()
    # What the upstream answers: ``json``, ``html`` (a page scrape), ``text`` or ``local`` (no HTTP).
    response_format: ClassVar[str] = "json"
    # Recorded payloads and how each becomes ``parse`` input (fuzz tests, ``doctor --bundle``).
    samples: ClassVar[tuple[Sample, ...]] = ()

    @abstractmethod
    async def fetch(self, ctx: FetchContext) -> Raw:
        """The upstream I/O: request(s) with ``ctx.http``, returning decoded payloads."""

    @abstractmethod
    def parse(self, raw: Raw, now: datetime) -> Usage:
        """Pure: the payloads from ``fetch`` as normalized windows and plan."""

    # -- declarations helpers -------------------------------------------------------------
    def setting_spec(self, name: str) -> Setting | None:
        return next((s for s in self.settings if s.name == name), None)

    def window_spec(self, window_id: str) -> WindowSpec | None:
        return next((w for w in self.windows if w.matches(window_id)), None)

    def secret_settings(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.settings if s.secret)

    def environment(self) -> tuple[str, ...]:
        """Every environment variable this provider reads: overrides, ecosystem aliases, discovery."""
        names = [s.env_var(self.id) for s in self.settings] + [e for s in self.settings for e in s.env]
        names.append(f"AGENTGAUGE_{self.id.upper()}_ENABLED")
        return tuple(dict.fromkeys([*names, *self.env_vars]))

    def __repr__(self) -> str:
        return f"<Provider {self.id}>"
