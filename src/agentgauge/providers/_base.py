"""The provider contract: a provider is declarations (data) plus ``fetch`` (I/O) and ``parse`` (pure).

A provider module exposes one object, ``PROVIDER``. The core reads its declarations
without any I/O (``agentgauge providers``, ``doctor``, the docs test and the contract
test all do), calls ``fetch`` with an injected HTTP client and clock, and hands the
result to ``parse``, which returns only :class:`~agentgauge.models.Usage`.
"""

from __future__ import annotations

import fnmatch
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import httpx

from ..errors import ProviderConfigError
from ..models import Usage
from ..secret import Secret

if TYPE_CHECKING:
    from ..sim.context import SimContext

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

    def env_var(self, provider_id: str) -> str:
        return f"AGENTGAUGE_{provider_id.upper()}_{self.name.upper()}"


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
    label: str
    requires: tuple[str, ...]
    hint: str
    optional: tuple[str, ...] = ()
    discover: Callable[[DiscoverContext], Discovered | None] | None = None
    discovered_source: str = "cli"


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
    ``fetch`` and ``parse``; ``sim_routes`` serves the same protocol for the simulator."""

    id: ClassVar[str]
    name: ClassVar[str]
    docs_url: ClassVar[str] = ""
    settings: ClassVar[tuple[Setting, ...]] = ()
    auth: ClassVar[tuple[AuthSource, ...]] = ()
    windows: ClassVar[tuple[WindowSpec, ...]] = ()
    urls: ClassVar[Mapping[str, str]] = {}
    min_interval: ClassVar[float] = 60.0
    timeout: ClassVar[float] = 20.0
    redact_keys: ClassVar[frozenset[str]] = frozenset()
    # Credentials the simulator accepts; ``--demo`` configures them.
    sim_credentials: ClassVar[Mapping[str, str]] = {}

    @abstractmethod
    async def fetch(self, ctx: FetchContext) -> Raw:
        """The upstream I/O: request(s) with ``ctx.http``, returning decoded payloads."""

    @abstractmethod
    def parse(self, raw: Raw, now: datetime) -> Usage:
        """Pure: the payloads from ``fetch`` as normalized windows and plan."""

    def sim_routes(self, sim: SimContext) -> Mapping[str, list[Any]]:
        """Starlette routes per URL setting name, mounted at ``/<provider>/<url-name>``."""
        return {}

    # -- declarations helpers -------------------------------------------------------------
    def setting_spec(self, name: str) -> Setting | None:
        return next((s for s in self.settings if s.name == name), None)

    def window_spec(self, window_id: str) -> WindowSpec | None:
        return next((w for w in self.windows if w.matches(window_id)), None)

    def secret_settings(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.settings if s.secret)

    def __repr__(self) -> str:
        return f"<Provider {self.id}>"
