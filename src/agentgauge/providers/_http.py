"""The one place HTTP outcomes become typed errors, shared by every adapter's ``fetch``."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from ..errors import (
    AuthError,
    ChallengeError,
    FetchTimeoutError,
    NetworkError,
    ParseError,
    RateLimitedError,
    UpstreamError,
)
from ._base import FetchContext

_CHALLENGE_MARKERS = ("just a moment", "cf-chl", "challenge-platform", "attention required! | cloudflare")


def is_challenge(response: httpx.Response) -> bool:
    if response.headers.get("cf-mitigated", "").lower() == "challenge":
        return True
    if response.status_code in (403, 429, 503) and "text/html" in response.headers.get("content-type", ""):
        head = response.text[:4000].lower()
        return any(marker in head for marker in _CHALLENGE_MARKERS)
    return False


def looks_like_html(response: httpx.Response) -> bool:
    ctype = response.headers.get("content-type", "").lower()
    if "html" in ctype:
        return True
    head = response.content[:200].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` as seconds from ``now``: delta-seconds or an HTTP date. ``0``/garbage -> None."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    return seconds if seconds > 0 else None


async def send(
    ctx: FetchContext,
    method: str,
    url: str,
    *,
    what: str,
    headers: dict[str, str] | None = None,
    json: Any = None,
    data: dict[str, str] | None = None,
    cookies: dict[str, str] | None = None,
    follow_redirects: bool = False,
    ok_statuses: tuple[int, ...] = (200,),
) -> httpx.Response:
    """Send one request and map every failure to the error tree. ``what`` names the call in messages."""
    name = ctx.provider.name
    request_headers = dict(headers or {})
    if cookies:
        request_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    try:
        response = await ctx.http.request(
            method,
            url,
            headers=request_headers,
            content=orjson.dumps(json) if json is not None else None,
            data=data,
            follow_redirects=follow_redirects,
        )
    except httpx.TimeoutException:
        raise FetchTimeoutError(f"{name}: {what} timed out") from None
    except httpx.TransportError as exc:
        raise NetworkError(f"{name}: {what} failed: {type(exc).__name__}") from None

    status = response.status_code
    if status in ok_statuses:
        return response
    if is_challenge(response):
        raise ChallengeError(f"{name}: {what} hit a Cloudflare challenge (HTTP {status})", status_code=status)
    if status == 401:
        raise AuthError(f"{name}: {what} was rejected: the credential is invalid or expired (HTTP 401)",
                        status_code=status)
    if status == 403:
        raise AuthError(f"{name}: {what} was refused (HTTP 403): the credential lacks access",
                        status_code=status)
    if status == 429:
        retry_after = retry_after_seconds(response.headers.get("retry-after"), ctx.now())
        suffix = f"; retry after {int(retry_after)} s" if retry_after else ""
        raise RateLimitedError(f"{name}: {what} was rate limited (HTTP 429){suffix}", retry_after=retry_after)
    if 300 <= status < 400:
        raise UpstreamError(f"{name}: {what} redirected unexpectedly (HTTP {status})", status_code=status)
    if status >= 500:
        raise UpstreamError(f"{name}: {what} failed upstream (HTTP {status})", status_code=status)
    raise UpstreamError(f"{name}: {what} answered HTTP {status}", status_code=status)


def decode_json(ctx: FetchContext, response: httpx.Response, *, what: str) -> Any:
    """The response body as JSON, or a ParseError that says what came instead."""
    name = ctx.provider.name
    if looks_like_html(response):
        if is_challenge(response):
            raise ChallengeError(f"{name}: {what} returned a Cloudflare challenge page")
        raise ParseError(
            f"{name}: {what} returned an HTML page where JSON was expected",
            hint="The provider may have shown a login or maintenance page; sign in again, then refresh.",
        )
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise ParseError(f"{name}: {what} returned malformed or truncated JSON") from None


async def get_json(ctx: FetchContext, url: str, *, what: str, **kwargs: Any) -> Any:
    response = await send(ctx, "GET", url, what=what, **kwargs)
    return decode_json(ctx, response, what=what)


async def post_json(ctx: FetchContext, url: str, *, what: str, **kwargs: Any) -> Any:
    response = await send(ctx, "POST", url, what=what, **kwargs)
    return decode_json(ctx, response, what=what)
