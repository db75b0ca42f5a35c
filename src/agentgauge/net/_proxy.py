"""Proxy choice from the environment, with httpx's rules, for the curl transport.

httpx reads proxies once, when a client is made, from ``urllib.request.getproxies()``
(HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY in either case; the system settings on macOS and
Windows). libcurl would read the environment on its own with slightly different rules (it
ignores upper-case HTTP_PROXY, for one), so the transport decides here and tells curl exactly.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class _Bypass:
    """One NO_PROXY entry: a host pattern, optionally a scheme and port."""

    host: re.Pattern[str] | None  # None: any host
    scheme: str = ""
    port: int | None = None

    def matches(self, url: httpx.URL) -> bool:
        if self.scheme and url.scheme != self.scheme:
            return False
        if self.port is not None and url.port != self.port:
            return False
        return self.host is None or bool(self.host.match(url.host))


@dataclass(frozen=True)
class ProxyRules:
    proxies: Mapping[str, str]  # "http" | "https" | "all" -> proxy URL
    bypass: tuple[_Bypass, ...] = ()

    def proxy_for(self, url: httpx.URL) -> str | None:
        """The proxy URL for ``url``, or None to connect directly."""
        if any(rule.matches(url) for rule in self.bypass):
            return None
        return self.proxies.get(url.scheme) or self.proxies.get("all")


def environment_rules(found: Mapping[str, str] | None = None) -> ProxyRules:
    """The environment's proxies (``found`` defaults to ``urllib.request.getproxies()``)."""
    info = urllib.request.getproxies() if found is None else found
    proxies = {
        scheme: value if "://" in value else f"http://{value}"
        for scheme in ("http", "https", "all")
        if (value := info.get(scheme))
    }
    bypass: list[_Bypass] = []
    for entry in (part.strip() for part in info.get("no", "").split(",")):
        if entry == "*":
            return ProxyRules({})
        if entry:
            bypass.append(_bypass_rule(entry))
    return ProxyRules(proxies, tuple(bypass))


def _bypass_rule(entry: str) -> _Bypass:
    # As httpx: "example.com" covers the domain and its subdomains, ".example.com" only the
    # subdomains, IP addresses and "localhost" only themselves; "scheme://host[:port]" is exact.
    scheme = ""
    if "://" in entry:
        scheme, entry = entry.split("://", 1)
    host, port = entry, None
    if entry.startswith("["):  # [v6]:port
        host, _, rest = entry[1:].partition("]")
        port = _port(rest.removeprefix(":"))
    elif entry.count(":") == 1:
        host, raw_port = entry.split(":")
        port = _port(raw_port)
    host = host.lower()
    if host in ("", "*"):
        return _Bypass(None, scheme, port)
    if _is_ip(host) or host == "localhost" or scheme:
        return _Bypass(re.compile(f"^{re.escape(host)}$", re.IGNORECASE), scheme, port)
    if host.startswith("*."):
        host = host[1:]
    if host.startswith("."):
        return _Bypass(re.compile(f"^.+{re.escape(host)}$", re.IGNORECASE), scheme, port)
    return _Bypass(re.compile(f"^(.+\\.)?{re.escape(host)}$", re.IGNORECASE), scheme, port)


def _port(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("/")[0])
    except ValueError:
        return False
    return True
