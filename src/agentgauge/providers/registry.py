"""Loads provider packages (built-in and entry points) and looks them up by id.

Built-in providers are found, not listed: every package of ``agentgauge.providers`` whose name
does not start with ``_`` is one. Adding a provider adds its package and nothing else.
"""

from __future__ import annotations

import difflib
import importlib
import logging
import os
import pkgutil
from functools import cache
from importlib.metadata import entry_points

from ..errors import ConfigError
from ._base import Provider

log = logging.getLogger(__name__)


def builtin_modules() -> list[str]:
    """The built-in provider packages, in name order (the order every surface lists them)."""
    from . import __path__ as package_path

    return [
        f"{__package__}.{info.name}"
        for info in sorted(pkgutil.iter_modules(package_path), key=lambda i: i.name)
        if info.ispkg and not info.name.startswith("_")
    ]


@cache
def _load() -> dict[str, Provider]:
    modules = builtin_modules()
    if not os.environ.get("AGENTGAUGE_NO_PLUGINS"):
        modules += [ep.value for ep in entry_points(group="agentgauge.providers")]
    found: dict[str, Provider] = {}
    for name in modules:
        try:
            provider = importlib.import_module(name).PROVIDER
        except Exception as exc:  # a broken third-party plugin must not take the others down
            log.error("could not load provider module %s: %s", name, exc)
            continue
        if provider.id in found:
            log.error("provider id %r is registered twice; keeping the first", provider.id)
            continue
        found[provider.id] = provider
    return found


def all_providers() -> list[Provider]:
    return list(_load().values())


def ids() -> list[str]:
    return list(_load())


def suggest(provider_id: str) -> str:
    """ "did you mean ...?" for a mistyped id, or the list of known ids."""
    close = difflib.get_close_matches(provider_id, ids(), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else f"known: {', '.join(ids())}"


def get(provider_id: str) -> Provider:
    try:
        return _load()[provider_id]
    except KeyError:
        raise ConfigError(
            f"unknown provider '{provider_id}' ({suggest(provider_id)})",
            hint="`agentgauge providers` lists every provider id.",
        ) from None
