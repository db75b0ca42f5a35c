"""The one place HTTP outcomes become typed errors, shared by every adapter's ``fetch``, plus the
request patterns adapters share: calls at once (``together``), enrichment calls whose failure is
logged (``optional``, ``problem``), paging (``pages``) and the response headers a parse needs
(``kept_headers``)."""

from __future__ import annotations

import asyncio
import email.utils
import math
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import orjson

from ..errors import (
    AuthError,
    ChallengeError,
    FetchTimeoutError,
    NetworkError,
    ParseError,
    ProviderError,
    RateLimitedError,
    UpstreamError,
)
from ._base import FetchContext

T = TypeVar("T")

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


MAX_RETRY_AFTER = 86400.0
"""A ``Retry-After`` beyond a day is an upstream mistake (``99999999999``, a date in 2099): wait a day."""

_odd_retry_after_logged: set[tuple[str, str]] = set()  # accounts whose odd header was logged already


def parse_retry_after(value: str | None, now: datetime) -> tuple[float | None, str | None]:
    """``Retry-After`` as (seconds from ``now``, what was odd about it). Delta-seconds or an HTTP
    date; absent, ``0`` or a past date is (None, None); garbage, ``inf``, ``nan`` or a negative
    number is (None, reason); more than :data:`MAX_RETRY_AFTER` is clamped to it, with a reason."""
    if not value or not value.strip():
        return None, None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, OverflowError, IndexError):
            return None, "neither seconds nor a valid HTTP date"
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
        if seconds <= 0:
            return None, None  # a date already past: retry at once (the floor still applies)
    else:
        if math.isnan(seconds):
            return None, "not a number"
        if seconds < 0:
            return None, "negative"
        if seconds == 0:
            return None, None
    if seconds > MAX_RETRY_AFTER:  # also inf
        return MAX_RETRY_AFTER, f"more than a day (clamped to {MAX_RETRY_AFTER:g} s)"
    return seconds, None


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` as seconds from ``now``, at most a day; ``0``, garbage, ``inf``... -> None or clamped."""
    return parse_retry_after(value, now)[0]


def _note_odd_retry_after(ctx: FetchContext, value: str, reason: str) -> None:
    """Log an unusable ``Retry-After`` once per account: the next 429s carry the same header."""
    key = (ctx.provider.id, ctx.account)
    if key in _odd_retry_after_logged:
        return
    _odd_retry_after_logged.add(key)
    ctx.log.warning(
        "%s/%s sent an unusable Retry-After header %r (%s)", ctx.provider.id, ctx.account, value[:64], reason
    )


async def send(
    ctx: FetchContext,
    method: str,
    url: str,
    *,
    what: str,
    headers: dict[str, str] | None = None,
    json: Any = None,
    data: dict[str, str] | None = None,
    content: bytes | None = None,
    cookies: dict[str, str] | None = None,
    follow_redirects: bool = False,
    ok_statuses: tuple[int, ...] = (200,),
) -> httpx.Response:
    """Send one request and map every failure to the error tree. ``what`` names the call in messages.

    The body is ``json`` (encoded here, ``Content-Type: application/json`` added unless given), a
    form (``data``) or raw bytes (``content``: protobuf...; the caller sets its Content-Type). A
    status in ``ok_statuses`` comes back for the caller to read, unless it is a Cloudflare
    challenge page: that is a ``ChallengeError`` whatever the status.
    """
    name = ctx.provider.name
    request_headers = dict(headers or {})
    if cookies:
        request_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if json is not None:
        content = orjson.dumps(json)
        if not any(key.lower() == "content-type" for key in request_headers):
            request_headers["Content-Type"] = "application/json"
    try:
        response = await ctx.http.request(
            method,
            url,
            headers=request_headers,
            content=content,
            data=data,
            follow_redirects=follow_redirects,
        )
    except httpx.TimeoutException:
        raise FetchTimeoutError(f"{name}: {what} timed out") from None
    except httpx.TransportError as exc:
        raise NetworkError(f"{name}: {what} failed: {type(exc).__name__}") from None

    status = response.status_code
    if is_challenge(response):
        raise ChallengeError(f"{name}: {what} hit a Cloudflare challenge (HTTP {status})", status_code=status)
    if status in ok_statuses:
        return response
    if status == 401:
        raise AuthError(
            f"{name}: {what} was rejected: the credential is invalid or expired (HTTP 401)", status_code=status
        )
    if status == 403:
        raise AuthError(f"{name}: {what} was refused (HTTP 403): the credential lacks access", status_code=status)
    if status == 429:
        header = response.headers.get("retry-after")
        retry_after, odd = parse_retry_after(header, ctx.now())
        if odd and header is not None:
            _note_odd_retry_after(ctx, header, odd)
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
    """POST (a ``json=`` body goes as ``application/json``) and decode the JSON answer."""
    response = await send(ctx, "POST", url, what=what, **kwargs)
    return decode_json(ctx, response, what=what)


def kept_headers(response: httpx.Response, prefixes: tuple[str, ...]) -> dict[str, str]:
    """The response headers whose (lower-cased) names start with one of ``prefixes``: what a parse
    needs of them (``x-ratelimit-``, ``retry-after``), as plain data for the raw payload."""
    return {k.lower(): v for k, v in response.headers.items() if k.lower().startswith(prefixes)}


# -- patterns of calls -----------------------------------------------------------------------------
async def together(*calls: Coroutine[Any, Any, Any], finish_all: bool = False) -> list[Any]:
    """Run ``calls`` at once and return their results in order.

    By default the first failure cancels the others and is raised as itself (not an exception
    group). With ``finish_all`` every call runs to its end first (nothing is left running), then the
    failure of the earliest call *in argument order* is raised: put the required call first, and its
    own error is the one shown.
    """
    if finish_all:
        results = await asyncio.gather(*calls, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return list(results)
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(call) for call in calls]
    except BaseExceptionGroup as failed:
        raise _first(failed) from None
    return [task.result() for task in tasks]


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    for exc in group.exceptions:
        return _first(exc) if isinstance(exc, BaseExceptionGroup) else exc
    return group


async def optional(
    ctx: FetchContext,
    what: str,
    call: Awaitable[T],
    *,
    fatal: Callable[[ProviderError], bool] | None = None,
) -> T | None:
    """An enrichment call (a plan name, a history) beside the required one: its failure is logged
    and None comes back, unless ``fatal(error)`` says the error belongs to the account (a rejected
    key). Anything but a ``ProviderError`` is a bug and propagates."""
    try:
        return await call
    except ProviderError as exc:
        if fatal is not None and fatal(exc):
            raise
        ctx.log.info("%s: optional %s failed: %s", ctx.provider.id, what, exc.message)
        return None


def problem(
    exc: ProviderError, message: str | None = None, *, hint: str | None = None, with_hint: bool = True
) -> dict[str, Any]:
    """A failed enrichment as plain data for the raw payload (``{"kind", "message", "hint"}``), so
    ``parse`` shows it as a warning (``_parse.recorded_warning``) beside what did arrive. The hint is
    ``hint`` or the error's own; without ``with_hint`` the parse's default hint applies."""
    record: dict[str, Any] = {"kind": exc.kind.value, "message": message or exc.message}
    if with_hint:
        record["hint"] = hint or exc.hint
    return record


async def pages(
    get_page: Callable[[str | None], Awaitable[Any]],
    next_cursor: Callable[[Any], str | None],
    *,
    limit: int,
) -> list[Any]:
    """Every page of a paged list, at most ``limit`` of them: ``get_page(cursor)`` (None for the
    first), while ``next_cursor(page)`` names another. The caller merges the pages."""
    found: list[Any] = []
    cursor: str | None = None
    for _ in range(limit):
        page = await get_page(cursor)
        found.append(page)
        cursor = next_cursor(page)
        if not cursor:
            break
    return found
