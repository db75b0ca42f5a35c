"""Ollama Cloud: scrape ``GET {url}/settings`` with the ollama.com session cookie.

There is no quota API (an API key only proves API access), so the page is read as HTML:
the plan badge next to "Cloud Usage", then one block per meter ("Session usage",
"Hourly usage", "Weekly usage") holding "N% used" and a reset element with
``data-time="<ISO>"`` whose text says "Resets in 3 hours" (read against ``now`` when the
attribute is missing or unreadable). Each block is read on its own: one that drifted is a
warning naming it while the others are shown. Redirects are not followed: a redirect to the
sign-in page or to the WorkOS authorize URL means the session cookie has expired.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from html.parser import HTMLParser
from typing import ClassVar
from urllib.parse import urlsplit

from ...errors import AuthError, ParseError, UpstreamError
from ...models import Usage, Window
from .. import _capture, _http
from .._base import AuthSource, BrowserLogin, CookieRule, FetchContext, Provider, Raw, Sample, Setting, WindowSpec
from .._parse import Salvage, parse_iso

SETTINGS_PATH = "/settings"
SESSION_COOKIE = "wos-session"  # the WorkOS AuthKit session cookie ollama.com uses today
LEGACY_COOKIE = "__Secure-session"  # the session cookie before WorkOS, still sent by older logins
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
HINT = "log in to ollama.com in your browser again, then refresh"
REDIRECTS = (301, 302, 303, 307, 308)
# Meter label word -> (window id, label, length in seconds when known).
METERS: dict[str, tuple[str, str, int | None]] = {
    "session": ("session", "Session", None),
    "hourly": ("hourly", "Hourly", 3600),
    "daily": ("daily", "Daily", 86400),
    "weekly": ("weekly", "Weekly", 604800),
    "monthly": ("monthly", "Monthly", None),
}
_METER_LABEL = re.compile(r"^(\w+)\s+usage$", re.IGNORECASE)
_PCT_USED = re.compile(r"(\d+(?:[.,]\d+)?)\s*%\s*used", re.IGNORECASE)
_HTML_OPEN = re.compile(r"<html[\s>]", re.IGNORECASE)
_HTML_CLOSE = re.compile(r"</html\s*>", re.IGNORECASE)
_SIGNIN_MARKERS = ("sign in to ollama", "/auth/signin", 'type="password"', "type='password'")
# "Resets in 3 hours", "Resets in an hour", "Resets in 1 day 4 hours": the page's relative text.
_UNITS = r"(?:months?|weeks?|w|days?|d|hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)"
_AMOUNT = rf"(?:(?:\d+(?:[.,]\d+)?)\s*|\b(?:an?|one)\s+){_UNITS}\b"
_RESETS_IN = re.compile(rf"\bresets?\s+in\s+((?:{_AMOUNT}[\s,]*(?:and\s+)?)+)", re.IGNORECASE)
_PART = re.compile(rf"(?:(\d+(?:[.,]\d+)?)\s*|\b(an?|one)\s+)({_UNITS})\b", re.IGNORECASE)
_UNIT_SECONDS = (("mo", 30 * 86400), ("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def cookie_header(value: str) -> str:
    """A pasted ``Cookie`` header as is (minus a ``Cookie:`` prefix); a bare value is the session."""
    return _capture.named_cookie(value, SESSION_COOKIE)


def is_signin_redirect(location: str) -> bool:
    parts = urlsplit(location)
    path = parts.path.rstrip("/").lower()
    return (
        path.endswith(("/signin", "/login", "/sign-in"))
        or "workos" in parts.netloc.lower()
        or path.endswith("/authorize")
    )


class _Tokens(HTMLParser):
    """The page as a flat stream of text nodes and ``data-time`` values, in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tokens: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "data-time" and value:
                self.tokens.append(("time", value.strip()))

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text:
            self.tokens.append(("text", text))


def relative_reset(text: str, now: datetime) -> datetime | None:
    """``now`` plus the first "Resets in <amount> <unit>..." of ``text``; None when there is none."""
    match = _RESETS_IN.search(text)
    if match is None:
        return None
    seconds = 0.0
    for number, _word, unit in _PART.findall(match.group(1)):
        count = float(number.replace(",", ".")) if number else 1.0  # "an hour", "one day"
        seconds += count * next(size for prefix, size in _UNIT_SECONDS if unit.lower().startswith(prefix))
    try:
        return now + timedelta(seconds=seconds)
    except OverflowError:
        return None  # "in 10^12 days" is no time at all


def parse_settings_html(html: str, now: datetime) -> Usage:
    """Windows and plan from the settings page; AuthError for the sign-in page."""
    if _HTML_OPEN.search(html) and not _HTML_CLOSE.search(html):
        # A whole document that never closes was cut short: half a page would show partial windows.
        raise ParseError("Ollama: the settings page is cut short (no closing </html>)", field="html")
    parser = _Tokens()
    parser.feed(html)
    parser.close()
    tokens = parser.tokens
    starts = [
        (i, METERS[m.group(1).lower()])
        for i, (kind, text) in enumerate(tokens)
        if kind == "text" and (m := _METER_LABEL.match(text)) and m.group(1).lower() in METERS
    ]
    if not starts:
        lowered = html.lower()
        if any(marker in lowered for marker in _SIGNIN_MARKERS):
            raise AuthError("Ollama: the settings page is the sign-in page: the session has expired", hint=HINT)
        raise ParseError("Ollama: the settings page has no 'Cloud Usage' section", field="Cloud Usage")
    salvage = Salvage()

    def meter(n: int, start: tuple[int, tuple[str, str, int | None]]) -> Window:
        index, (wid, label, seconds) = start
        end = starts[n + 1][0] if n + 1 < len(starts) else len(tokens)
        block = tokens[index + 1 : end]
        text = " ".join(t for kind, t in block if kind == "text")
        match = _PCT_USED.search(text)
        if match is None:
            raise ParseError(f"Ollama: '{label} usage' has no 'N% used'", field=f"{label} usage")
        stamp = next((t for kind, t in block if kind == "time"), None)
        resets = salvage.keep(lambda: parse_iso(stamp, f"{label} usage.data-time")) if stamp else None
        return Window(
            id=wid,
            label=label,
            used_pct=float(match.group(1).replace(",", ".")),
            resets_at=resets or relative_reset(text, now),
            window_seconds=seconds,
        )

    windows = salvage.each(starts, meter)
    return Usage(windows=tuple(windows), plan=_plan(tokens), warnings=salvage.warnings())


def _plan(tokens: list[tuple[str, str]]) -> str | None:
    """The badge right after the "Cloud Usage" heading (free/pro/max), if it looks like one."""
    for i, (kind, text) in enumerate(tokens):
        if kind == "text" and text.lower() == "cloud usage":
            following = next((t for k, t in tokens[i + 1 :] if k == "text"), "")
            badge = following.strip()
            if badge and len(badge) <= 20 and "@" not in badge and "usage" not in badge.lower():
                return badge.lower()
            return None
    return None


class Ollama(Provider):
    id = "ollama"
    name = "Ollama"
    docs_url = "https://ollama.com/settings"
    settings = (
        Setting(
            "cookie",
            "ollama.com cookies: a full Cookie header (wos-session or __Secure-session), or the bare "
            "'wos-session' value.",
            secret=True,
        ),
        Setting("url", "Base URL of ollama.com.", default="https://ollama.com"),
    )
    auth = (
        AuthSource(
            id="cookie",
            source="cookie",
            label="ollama.com cookie",
            requires=("cookie",),
            hint="Log in to ollama.com in Firefox or Chrome (agentgauge reads its cookies), or copy the "
            "'wos-session' (or '__Secure-session') cookie into AGENTGAUGE_OLLAMA_COOKIE, then refresh.",
            # ``wos-session`` is the WorkOS session today; ``__Secure-session`` and ``session`` before it.
            browser=BrowserLogin(
                "ollama.com",
                cookies=(
                    CookieRule("cookie", ("ollama.com",), ("wos-session", "__Secure-session", "session"), header=True),
                ),
            ),
            discovered_source="browser",
        ),
    )
    windows = (
        WindowSpec("session", "Session", None, None),
        WindowSpec("hourly", "Hourly", 3600, None),
        WindowSpec("daily", "Daily", 86400, None),
        WindowSpec("weekly", "Weekly", 604800, None),
        WindowSpec("monthly", "Monthly", None, None),
    )
    urls: ClassVar[Mapping[str, str]] = {"url": "https://ollama.com"}
    # A scraped web page: poll gently.
    min_interval = 120.0
    response_format = "html"
    samples = (Sample("settings-*.html", "settings_html", format="html"),)
    sim_credentials: ClassVar[Mapping[str, str]] = {"cookie": f"{SESSION_COOKIE}=sim-ollama-session"}

    async def fetch(self, ctx: FetchContext) -> Raw:
        base = ctx.url("url")
        headers = {
            "Cookie": cookie_header(ctx.secret("cookie")),
            "User-Agent": USER_AGENT,
            "Accept": "text/html,application/xhtml+xml",
            "Origin": base,
            "Referer": base + SETTINGS_PATH,
        }
        try:
            response = await _http.send(
                ctx, "GET", base + SETTINGS_PATH, what="settings page", headers=headers, ok_statuses=(200, *REDIRECTS)
            )
        except AuthError as exc:
            raise AuthError(exc.message, hint=HINT, status_code=exc.status_code) from None
        status = response.status_code
        if status in REDIRECTS:
            if is_signin_redirect(response.headers.get("location", "")):
                raise AuthError(
                    "Ollama: the session cookie has expired (redirected to sign-in)", hint=HINT, status_code=status
                )
            raise UpstreamError(f"Ollama: settings page redirected unexpectedly (HTTP {status})", status_code=status)
        return {"settings_html": response.text}

    def parse(self, raw: Raw, now: datetime) -> Usage:
        html = raw.get("settings_html")
        if not isinstance(html, str):
            raise ParseError("Ollama: no settings page to read", field="settings_html")
        return parse_settings_html(html, now)


PROVIDER = Ollama()
