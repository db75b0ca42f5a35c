"""HTTP clients for provider adapters: plain httpx, or httpx over a browser-impersonating TLS stack.

Cloudflare-fronted web paths (chatgpt.com, claude.ai, kimi.com...) block clients whose TLS
ClientHello is not a browser's. :func:`client` returns an ``httpx.AsyncClient`` either way, so
adapters keep one API; with a profile its transport is curl_cffi (curl-impersonate, BoringSSL),
imported only then so start-up stays fast. Why and how it is tested: docs/tls.md.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping
from typing import Any

import httpx

DEFAULT_PROFILE = "chrome152"
"""The pinned browser profile: a target of the exact curl_cffi version in pyproject.toml."""

IMPERSONATE_ENV = "AGENTGAUGE_IMPERSONATE"
"""The setting: a profile name (``chrome152``, ``firefox153``...) or ``off`` for plain httpx."""

OFF = "off"

__all__ = [
    "DEFAULT_PROFILE",
    "IMPERSONATE_ENV",
    "OFF",
    "browser_handles",
    "client",
    "profile_from_env",
    "profile_setting",
]


def profile_setting(value: str | None) -> str | None:
    """A setting's value as a profile: unset/empty -> the pinned default, ``off`` -> None (plain httpx)."""
    if value is None or not value.strip():
        return DEFAULT_PROFILE
    value = value.strip()
    return None if value.lower() == OFF else value


def profile_from_env(env: Mapping[str, str]) -> str | None:
    return profile_setting(env.get(IMPERSONATE_ENV))


def client(
    impersonate: str | None,
    timeout: float,
    headers: Mapping[str, str] | None = None,
    *,
    verify: str | None = None,
    client_class: Callable[..., httpx.AsyncClient] = httpx.AsyncClient,
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient``; browser TLS when ``impersonate`` names a profile, plain when None/"off".

    ``verify`` is a CA bundle path to trust instead of the default store (tests use it for their
    own CA); certificates are always verified. With a profile, the profile supplies the browser's
    own request headers (User-Agent, sec-ch-ua, Accept-Encoding...) and a client-level
    ``User-Agent`` in ``headers`` is dropped: a non-browser User-Agent over a browser handshake is
    itself a bot signal. A User-Agent set on one request still wins. Proxies come from the
    environment (HTTPS_PROXY, ALL_PROXY, NO_PROXY...) as in httpx. ``client_class`` makes the client
    (the engine passes one that limits requests per host).
    """
    if impersonate is None or impersonate.strip().lower() in (OFF, ""):
        return _plain_client(timeout, headers, verify, client_class)
    from ._curl import CurlTransport, check_profile  # curl_cffi loads here, never at start-up

    profile = impersonate.strip()
    check_profile(profile)
    transport = CurlTransport(profile, verify=verify)
    http = client_class(transport=transport, timeout=httpx.Timeout(timeout))
    # httpx's defaults (python-httpx User-Agent, Accept: */*, its own Accept-Encoding) would
    # override the profile's browser headers, so the client starts with none of them.
    http.headers.clear()
    http.headers.update({k: v for k, v in (headers or {}).items() if k.lower() != "user-agent"})
    return http


def browser_handles() -> int:
    """Exchanges one browser-TLS client runs at once (its curl handles): a caller that queues the rest
    itself never has them wait inside the transport."""
    from ._curl import MAX_HANDLES

    return MAX_HANDLES


def _plain_client(
    timeout: float, headers: Mapping[str, str] | None, verify: str | None, client_class: Callable[..., Any]
) -> httpx.AsyncClient:
    tls: ssl.SSLContext | bool = ssl.create_default_context(cafile=verify) if verify else True
    made: httpx.AsyncClient = client_class(timeout=httpx.Timeout(timeout), headers=dict(headers or {}), verify=tls)
    return made
