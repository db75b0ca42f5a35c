"""An httpx transport that sends each request through curl_cffi's browser impersonation.

httpx stays in charge of everything above one HTTP exchange (client headers, the cookie jar,
redirects, auth, event hooks); curl does the exchange itself with the pinned browser's TLS
ClientHello, HTTP/2 settings and default headers. So curl must not add state of its own: it
never follows redirects, never keeps cookies and never reads proxies from the environment
(``_proxy`` decides, with httpx's rules). Bodies are read whole: adapters fetch small JSON.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any, cast

import certifi
import httpx
from curl_cffi import CurlError, CurlHttpVersion
from curl_cffi.const import CurlECode
from curl_cffi.requests import AsyncSession, BrowserType

from ..errors import ConfigError
from . import IMPERSONATE_ENV
from ._proxy import ProxyRules, environment_rules

MAX_HANDLES = 20
"""Concurrent exchanges per client (curl handles, each with its own connection cache)."""

# Request headers curl must derive itself: it frames the body and, over HTTP/2, turns Host
# into :authority and may not send connection-specific headers at all.
_CURL_OWNS = frozenset(
    {"host", "content-length", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te"}
)

_HTTP_VERSIONS = {
    CurlHttpVersion.V1_0: b"HTTP/1.0",
    CurlHttpVersion.V1_1: b"HTTP/1.1",
    CurlHttpVersion.V2_0: b"HTTP/2",
    CurlHttpVersion.V3: b"HTTP/3",
}

_CONNECT_FAILURES = frozenset(
    {
        CurlECode.COULDNT_RESOLVE_HOST,
        CurlECode.COULDNT_CONNECT,
        CurlECode.SSL_CONNECT_ERROR,
        CurlECode.PEER_FAILED_VERIFICATION,
        CurlECode.SSL_CERTPROBLEM,
        CurlECode.SSL_CIPHER,
        CurlECode.SSL_CACERT_BADFILE,
        CurlECode.SSL_ISSUER_ERROR,
        CurlECode.SSL_PINNEDPUBKEYNOTMATCH,
        CurlECode.SSL_INVALIDCERTSTATUS,
        CurlECode.SSL_CLIENTCERT,
        CurlECode.ECH_REQUIRED,
        CurlECode.QUIC_CONNECT_ERROR,
        CurlECode.INTERFACE_FAILED,
    }
)
_PROTOCOL_FAILURES = frozenset(
    {
        CurlECode.WEIRD_SERVER_REPLY,
        CurlECode.GOT_NOTHING,
        CurlECode.HTTP2,
        CurlECode.HTTP2_STREAM,
        CurlECode.HTTP3,
        CurlECode.PARTIAL_FILE,
    }
)
# curl says which phase timed out only in its message: the connect phase (TCP, proxy, TLS).
_CONNECT_PHASE = re.compile(r"connection timed out|resolving timed out|ssl connection timeout", re.IGNORECASE)
_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


def known_profiles() -> list[str]:
    return [browser.value for browser in BrowserType]


def check_profile(name: str) -> None:
    """Raise ConfigError unless curl_cffi has ``name`` as an exact target (no moving aliases)."""
    known = known_profiles()
    if name not in known:
        sample = ", ".join(p for p in known if p.startswith(("chrome15", "firefox15", "safari26")))
        raise ConfigError(
            f"{IMPERSONATE_ENV}: unknown browser profile {name!r}",
            hint=f"Use a profile curl_cffi supports (e.g. {sample}), or 'off' for plain TLS.",
        )


def default_ca_bundle() -> str:
    # As httpx: SSL_CERT_FILE if set, else certifi's bundle.
    return os.environ.get("SSL_CERT_FILE") or certifi.where()


class CurlTransport(httpx.AsyncBaseTransport):
    """``httpx.AsyncBaseTransport`` over one curl_cffi ``AsyncSession`` impersonating ``profile``."""

    def __init__(self, profile: str, *, verify: str | None = None, proxies: ProxyRules | None = None) -> None:
        self.profile = profile
        self._proxies = environment_rules() if proxies is None else proxies
        self._session: AsyncSession[Any] = AsyncSession(
            impersonate=profile,  # checked against BrowserType by check_profile
            default_headers=True,
            discard_cookies=True,
            allow_redirects=False,
            trust_env=False,
            verify=verify or default_ca_bundle(),  # type: ignore[arg-type]  # curl_cffi takes a CA path too
            max_clients=MAX_HANDLES,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        proxy = self._proxies.proxy_for(request.url)
        try:
            answer = await self._session.request(
                request.method,  # type: ignore[arg-type]
                str(request.url),
                # curl_cffi takes None values (its typing says otherwise): see _request_headers
                headers=cast("list[tuple[str, str]]", _request_headers(request, body)),
                content=body if body or request.method in ("POST", "PUT", "PATCH") else None,
                timeout=_curl_timeout(request.extensions.get("timeout", {})),
                proxy=proxy or None,
                quote=False,  # httpx already encoded the URL; curl_cffi must not re-quote it
            )
        except CurlError as exc:
            raise _httpx_error(exc, request) from None
        extensions = {"http_version": _HTTP_VERSIONS.get(answer.http_version, b"HTTP/1.1")}
        if answer.reason:  # HTTP/2 has none: httpx then names the status itself, as over httpcore
            extensions["reason_phrase"] = answer.reason.encode("ascii", "replace")
        return httpx.Response(
            answer.status_code,
            headers=_response_headers(answer.headers.multi_items()),
            content=answer.content,
            request=request,
            extensions=extensions,
        )

    async def aclose(self) -> None:
        await self._session.close()


def _request_headers(request: httpx.Request, body: bytes) -> list[tuple[str, str | None]]:
    headers: list[tuple[str, str | None]] = [
        (name, value) for name, value in request.headers.multi_items() if name.lower() not in _CURL_OWNS
    ]
    if body and "content-type" not in request.headers:
        # httpx sends raw bytes without a Content-Type; curl would add application/octet-stream.
        headers.append(("Content-Type", None))  # None: curl_cffi tells curl to send no such header
    return headers


def _response_headers(items: Iterable[tuple[str, str | None]]) -> list[tuple[str, str]]:
    headers = [(name, value or "") for name, value in items]
    if any(name.lower() == "content-encoding" for name, _ in headers):
        # curl already decoded the body (gzip/br/zstd, as the browser asked); httpx must not again.
        headers = [(n, v) for n, v in headers if n.lower() not in ("content-encoding", "content-length")]
    return headers


def _curl_timeout(timeout: dict[str, float | None]) -> tuple[float, float] | None:
    """httpx's (connect, read) timeouts as curl's connect and total limits (curl has no per-read one)."""
    connect, read = timeout.get("connect"), timeout.get("read")
    if connect is None and read is None:
        return None
    # curl_cffi turns (connect, read) into CONNECTTIMEOUT=connect and TIMEOUT=connect+read; a
    # missing half becomes a day, which is unbounded for a usage poll.
    return (connect if connect is not None else 86400.0, read if read is not None else 86400.0)


def _httpx_error(exc: CurlError, request: httpx.Request) -> httpx.TransportError:
    code = exc.code
    text = _describe(exc)
    if code == CurlECode.OPERATION_TIMEDOUT:
        if _CONNECT_PHASE.search(text):
            return httpx.ConnectTimeout(text, request=request)
        return httpx.ReadTimeout(text, request=request)
    if code in (CurlECode.COULDNT_RESOLVE_PROXY, CurlECode.PROXY) or (
        code == CurlECode.RECV_ERROR and "CONNECT" in text
    ):
        return httpx.ProxyError(text, request=request)
    if code in _CONNECT_FAILURES:
        return httpx.ConnectError(text, request=request)
    if code in _PROTOCOL_FAILURES:
        return httpx.RemoteProtocolError(text, request=request)
    if code == CurlECode.SEND_ERROR:
        return httpx.WriteError(text, request=request)
    if code in (CurlECode.RECV_ERROR, CurlECode.BAD_CONTENT_ENCODING):
        return httpx.ReadError(text, request=request)
    if code in (CurlECode.UNSUPPORTED_PROTOCOL, CurlECode.URL_MALFORMAT):
        return httpx.UnsupportedProtocol(text, request=request)
    return httpx.TransportError(text, request=request)


def _describe(exc: CurlError) -> str:
    """curl's own words (they name host and port, never headers), minus its doc link and any userinfo."""
    text = str(exc).split(" See https://curl.se/", 1)[0]
    text = text.removeprefix("Failed to perform, ")
    return _USERINFO.sub("***@", text)
