"""Reading a provider's own settings the same way everywhere: a choice among names with aliases
(``region``, ``source``, ``plan``), ``when=`` gates built from one, the opt-in paid ``probe`` call, and
base URLs that may be a bare host but never point a key at another region's host.

A gate (``AuthSource.when``) decides only what discovery looks for; credentials set directly are
always tried, so ``fetch`` reports a setting that contradicts them. A gate raises
``ProviderConfigError`` for an invalid setting: discovery then offers nothing, and ``fetch`` reports it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar
from urllib.parse import urlsplit

from ..errors import ProviderConfigError
from ._base import Setting
from ._capture import unquote

Gate = Callable[[Mapping[str, str]], bool]
T = TypeVar("T")


def choice(
    settings: Mapping[str, str],
    name: str,
    aliases: Mapping[str, T],
    *,
    default: str,
    provider: str,
    hint: str,
) -> T:
    """The setting ``name`` as one of ``aliases``' values (keys compared unquoted and in lower case);
    unset or empty is ``default``. Anything else is a ``ProviderConfigError`` quoting it (shortened)."""
    raw = unquote(settings.get(name)).lower() or default
    if raw not in aliases:
        raise ProviderConfigError(f"{provider}: unknown {name} '{raw[:20]}'", hint=hint)
    return aliases[raw]


def same(*names: str) -> dict[str, str]:
    """Aliases where every name stands for itself (``same("auto", "app", "web")``)."""
    return {name: name for name in names}


def gate(read: Callable[[Mapping[str, str]], str], *allowed: str) -> Gate:
    """A ``when=`` gate: ``read(settings)`` is one of ``allowed`` (an invalid setting raises)."""

    def offered(settings: Mapping[str, str]) -> bool:
        return read(settings) in allowed

    return offered


# -- the opt-in minimal call -------------------------------------------------------------------------
PROBE = "probe"


def probe_setting(help: str) -> Setting:
    """The ``probe`` setting: ``on`` sends one minimal paid call per refresh (its cost in ``help``)."""
    return Setting(PROBE, help, default="off", choices=("off", "on"))


def probe_on(settings: Mapping[str, str]) -> bool:
    """Whether the paid minimal call is on (``on``, any case, quotes and spaces ignored)."""
    return unquote(settings.get(PROBE)).lower() == "on"


# -- base URLs -----------------------------------------------------------------------------------------
def with_scheme(value: str) -> str:
    """A base URL from a URL or a bare host (``api.example.com`` is an https one)."""
    value = value.strip()
    return value if "://" in value else f"https://{value}"


def guard_region(
    url: str, region: str, host_regions: Mapping[str, str], *, provider: str, setting: str, hint: str
) -> str:
    """``url`` unless its host is a known host of another region (a key is never sent to the other
    region's platform): then a ``ProviderConfigError`` naming the host and both regions."""
    host = (urlsplit(url).hostname or "").lower()
    if host_regions.get(host, region) != region:
        raise ProviderConfigError(
            f"{provider}: '{setting}' points at {host}, the {host_regions[host]} region's host, but the region is "
            f"{region}",
            hint=hint,
        )
    return url
