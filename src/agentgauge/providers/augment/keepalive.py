"""Keeping the app.augmentcode.com web session alive, so the cookie does not lapse between visits.

With each refresh the schedule is consulted: the session is looked at no more than every 5
minutes; it is renewed when its cookie expires within 5 minutes (a cookie without an expiry,
such as a pasted header, every 30 minutes), and never more than once every 2 minutes. Renewing
is a ``GET`` of the session endpoint with the cookie (``/api/auth/session``, then
``/api/session`` and ``/api/user`` where that one is missing), which answers with the session and
``Set-Cookie`` headers carrying the renewed cookie. The renewed ``Cookie`` header is used at once
and kept in agentgauge's secret store (``FetchContext.tokens``); a browser's own files are never
written. A failed renewal is only logged: the credits request then says what is wrong.
"""

from __future__ import annotations

import asyncio
import email.utils
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.cookies import CookieError, SimpleCookie

from ...errors import AgentGaugeError, ProviderError
from .. import _http
from .._base import Credentials, FetchContext
from .._parse import opt_time

CHECK_EVERY = 300.0  # look at the session's expiry at most this often
REFRESH_BEFORE = 300.0  # renew when the cookie expires within this
MIN_GAP = 120.0  # never renew more often than this
SESSION_COOKIE_EVERY = 1800.0  # a cookie with no expiry is renewed this often
SESSION_PATHS = ("/api/auth/session", "/api/session", "/api/user")
ORIGIN = "session kept alive"


@dataclass
class _State:
    checked: datetime | None = None
    attempted: datetime | None = None
    renewed: datetime | None = None


class Schedule:
    """When each account's session is next looked at and renewed (this process's memory; across
    processes the engine's per-account gate already spaces refreshes by the minimum interval)."""

    def __init__(self) -> None:
        self._states: dict[str, _State] = {}

    def due(self, key: str, now: datetime, expires_at: datetime | None) -> bool:
        """Whether this refresh should renew the session first."""
        state = self._states.setdefault(key, _State())
        if state.checked is not None and (now - state.checked).total_seconds() < CHECK_EVERY:
            return False
        state.checked = now
        if not self.may_try(key, now):
            return False
        if expires_at is not None:
            return (expires_at - now).total_seconds() < REFRESH_BEFORE
        return state.renewed is None or (now - state.renewed).total_seconds() >= SESSION_COOKIE_EVERY

    def may_try(self, key: str, now: datetime) -> bool:
        attempted = self._states.setdefault(key, _State()).attempted
        return attempted is None or (now - attempted).total_seconds() >= MIN_GAP

    def tried(self, key: str, now: datetime, *, renewed: bool) -> None:
        state = self._states.setdefault(key, _State())
        state.attempted = now
        if renewed:
            state.renewed = now


@dataclass(frozen=True)
class Renewal:
    cookie: str
    expires_at: datetime | None


# -- pure -----------------------------------------------------------------------------------------
def expiry_of(creds: Credentials) -> datetime | None:
    """The cookie's expiry as discovery or the secret store recorded it (epoch seconds or ISO)."""
    try:
        return opt_time(creds.details.get("expires_at"), "expires_at")
    except AgentGaugeError:
        return None


def _pairs(header: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name:
            out[name.strip()] = value.strip()
    return out


def _cookie_expiry(morsel_max_age: str, morsel_expires: str, now: datetime) -> datetime | None:
    if morsel_max_age.strip().lstrip("-").isdigit():  # Max-Age wins over Expires (RFC 6265 5.3)
        return now + timedelta(seconds=int(morsel_max_age))
    if morsel_expires:
        try:
            when = email.utils.parsedate_to_datetime(morsel_expires)
        except (TypeError, ValueError):
            return None
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    return None


def merge_set_cookies(header: str, set_cookies: list[str], now: datetime) -> Renewal:
    """``header`` with the cookies a response set (replaced, added, or removed when expired) and the
    earliest expiry among them (None: session cookies only)."""
    pairs = _pairs(header)
    expiries: list[datetime] = []
    for line in set_cookies:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(line)
        except CookieError:
            continue  # one odd cookie does not spoil the others
        for name, morsel in jar.items():
            expires = _cookie_expiry(morsel["max-age"], morsel["expires"], now)
            if expires is not None and expires <= now:
                pairs.pop(name, None)
                continue
            pairs[name] = morsel.value
            if expires is not None:
                expiries.append(expires)
    return Renewal("; ".join(f"{k}={v}" for k, v in pairs.items()), min(expiries, default=None))


def keep_origin(creds: Credentials) -> str:
    """How the kept cookie's origin reads: a browser login stays a browser login, so a later
    rejection says to log in there again."""
    if creds.source == "browser":
        return f"browser:{creds.details.get('browser') or creds.origin} ({ORIGIN})"
    found = re.search(r"browser:([^()]+)", creds.origin)
    return f"browser:{found.group(1).strip()} ({ORIGIN})" if found else ORIGIN


# -- I/O ---------------------------------------------------------------------------------------------
async def renew(ctx: FetchContext, base: str, header: str) -> Renewal | None:
    """Ask the session endpoint to renew the session; the renewed header, or None."""
    headers = {"Cookie": header, "Accept": "application/json", "Origin": base, "Referer": base + "/"}
    for path in SESSION_PATHS:
        try:
            response = await _http.send(
                ctx, "GET", base + path, what="session renewal", headers=headers, ok_statuses=(200, 401, 403, 404)
            )
            if response.status_code == 404:
                continue  # not this deployment's session endpoint
            if response.status_code != 200:
                ctx.log.info("augment: the session could not be renewed (HTTP %s)", response.status_code)
                return None
            payload = _http.decode_json(ctx, response, what="session renewal")
        except ProviderError as exc:
            ctx.log.info("augment: session renewal failed: %s", exc.message)
            return None
        if not isinstance(payload, dict) or not any(payload.get(k) for k in ("user", "email", "session")):
            ctx.log.info("augment: the session endpoint reports no session (logged out)")
            return None
        return merge_set_cookies(header, response.headers.get_list("set-cookie"), ctx.now())
    return None


async def keep(ctx: FetchContext, renewal: Renewal) -> None:
    """Save the renewed cookie for this account (never fatal: the fetch goes on with it)."""
    if ctx.tokens is None:
        return
    try:
        await asyncio.to_thread(
            ctx.tokens.save,
            {"cookie": renewal.cookie},
            expires_at=renewal.expires_at,
            origin=keep_origin(ctx.credentials),
        )
    except (AgentGaugeError, OSError) as exc:
        ctx.log.warning("augment: could not keep the renewed session: %s", getattr(exc, "message", type(exc).__name__))
