"""Loads provider modules (built-in and entry points) and looks them up by id."""

from __future__ import annotations

import importlib
import logging
import os
from functools import cache
from importlib.metadata import entry_points

from ..errors import ConfigError
from ._base import Provider

log = logging.getLogger(__name__)


@cache
def _load() -> dict[str, Provider]:
    from . import BUILTIN

    modules = list(BUILTIN)
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


def get(provider_id: str) -> Provider:
    try:
        return _load()[provider_id]
    except KeyError:
        raise ConfigError(f"unknown provider '{provider_id}' (known: {', '.join(ids())})") from None
