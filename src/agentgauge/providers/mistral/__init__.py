"""Mistral (La Plateforme and Vibe) from the admin console's own billing calls, with its web session.

``GET {url}/api/billing/v2/usage?month=&year=`` (required; the current UTC month) gives every
model's units per day with the price list, from which the month's spend is computed;
``GET {url}/api/billing/credits`` the credit wallet; ``GET {console_url}/api-ui/trpc/billing.vibeUsage``
the Vibe plan's percent used and reset (a limit with a period: a window). The session is the Ory
cookie ``ory_session_*``; ``csrftoken`` goes back as ``X-CSRFTOKEN``. Only the Ory session and
the CSRF cookie are sent to console.mistral.ai. Credits and Vibe are enrichments: their failure
is a warning.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

import orjson

from ...errors import AuthError, ProviderError
from ...models import ErrorInfo, ErrorKind, Usage
from .. import _capture, _http
from .._base import AuthSource, BrowserLogin, CookieRule, FetchContext, Provider, Raw, Sample, Setting, WindowSpec
from .._parse import Salvage
from . import parsing

DEFAULT_URL = "https://admin.mistral.ai"
CONSOLE_URL = "https://console.mistral.ai"
USAGE_PATH = "/api/billing/v2/usage"
CREDITS_PATH = "/api/billing/credits"
VIBE_PATH = "/api-ui/trpc/billing.vibeUsage"
VIBE_QUERY = urlencode(
    {"batch": "1", "input": orjson.dumps({"0": {"json": None, "meta": {"values": ["undefined"], "v": 1}}}).decode()}
)
HINT = (
    "Log in to admin.mistral.ai in Firefox or Chrome, or set AGENTGAUGE_MISTRAL_COOKIE to the Cookie header of an "
    "admin.mistral.ai request (it must hold an ory_session_* cookie), then refresh."
)
REDIRECTS = (301, 302, 303, 307, 308)


def cookie_pairs(header: str) -> list[tuple[str, str]]:
    return _capture.cookie_pairs(_capture.cookie_header(header))


def session_cookies(header: str) -> tuple[str, str | None, str]:
    """The admin Cookie header, the CSRF token, and the console's own (Ory session and csrftoken only)."""
    pairs = cookie_pairs(header)
    if not any(name.startswith("ory_session_") for name, _ in pairs):
        raise AuthError("Mistral: the cookie holds no ory_session_* session cookie", hint=HINT)
    csrf = next((v for n, v in pairs if n == "csrftoken"), None)
    if csrf is not None and any(c in csrf for c in ";,\r\n"):
        csrf = None  # a value that cannot go in a header is no token
    console = [(n, v) for n, v in pairs if n.startswith("ory_session_") or n == "csrftoken"]
    return "; ".join(f"{n}={v}" for n, v in pairs), csrf, "; ".join(f"{n}={v}" for n, v in console)


class Mistral(Provider):
    id = "mistral"
    name = "Mistral"
    docs_url = "https://admin.mistral.ai/organization/usage"
    settings = (
        Setting(
            "cookie",
            "admin.mistral.ai cookies: the whole Cookie header (an ory_session_* cookie, and csrftoken for Vibe).",
            secret=True,
        ),
        Setting("url", "Base URL of the Mistral admin console.", default=DEFAULT_URL),
        Setting("console_url", "Base URL of the Mistral console (Vibe plan usage).", default=CONSOLE_URL),
    )
    auth = (
        AuthSource(
            id="web",
            source="cookie",
            label="admin.mistral.ai session cookie",
            requires=("cookie",),
            hint=HINT,
            # The Ory session cookie's name ends in a random id: the CSRF cookie finds the login, and the
            # whole header (the session included) is taken.
            browser=BrowserLogin(
                "admin.mistral.ai", cookies=(CookieRule("cookie", ("mistral.ai",), ("csrftoken",), header=True),)
            ),
            discovered_source="browser",
        ),
    )
    windows = (WindowSpec("vibe_monthly", "Vibe (monthly)", None, None),)
    urls: ClassVar[Mapping[str, str]] = {"url": DEFAULT_URL, "console_url": CONSOLE_URL}
    min_interval = 120.0
    samples = (
        Sample("billing-usage-*.json", "usage", {"credits": None, "vibe": None}),
        Sample("credits-*.json", "credits", {"usage": {"currency": "USD", "completion": {"models": {}}}, "vibe": None}),
        Sample(
            "vibe-usage-*.json", "vibe", {"usage": {"currency": "USD", "completion": {"models": {}}}, "credits": None}
        ),
    )
    sim_credentials: ClassVar[Mapping[str, str]] = {"cookie": "ory_session_sim=sim-mistral-session; csrftoken=sim-csrf"}

    async def fetch(self, ctx: FetchContext) -> Raw:
        admin_cookie, csrf, console_cookie = session_cookies(ctx.secret("cookie"))
        base = ctx.url("url")
        parts = urlsplit(base)
        origin = f"{parts.scheme}://{parts.netloc}"
        headers = {"Cookie": admin_cookie, "Accept": "*/*", "Origin": origin}
        if csrf:
            headers["X-CSRFTOKEN"] = csrf
        now = ctx.now()
        query = urlencode({"month": now.month, "year": now.year})
        calls: list[Any] = [
            self._admin(
                ctx,
                f"{base}{USAGE_PATH}?{query}",
                headers | {"Referer": f"{origin}/organization/usage"},
                "billing usage",
            ),
            self._admin(ctx, base + CREDITS_PATH, headers | {"Referer": f"{origin}/organization/billing"}, "credits"),
        ]
        if csrf:  # the console's tRPC call needs the CSRF token
            vibe_headers = {"Cookie": console_cookie, "Accept": "*/*", "X-CSRFToken": csrf}
            calls.append(
                _http.get_json(
                    ctx,
                    f"{ctx.url('console_url')}{VIBE_PATH}?{VIBE_QUERY}",
                    what="Vibe usage request",
                    headers=vibe_headers,
                )
            )
        results = await asyncio.gather(*calls, return_exceptions=True)
        if isinstance(results[0], BaseException):
            raise results[0]
        raw: Raw = {"usage": results[0], "credits": None, "vibe": None, "problems": []}
        for key, result in zip(("credits", "vibe"), results[1:], strict=False):
            if isinstance(result, ProviderError):
                ctx.log.info("mistral: optional %s request failed: %s", key, result.message)
                raw["problems"].append({"kind": result.kind.value, "message": result.message})
            elif isinstance(result, BaseException):
                raise result
            else:
                raw[key] = result
        return raw

    @staticmethod
    async def _admin(ctx: FetchContext, url: str, headers: dict[str, str], what: str) -> Any:
        """An admin console call; a redirect (to the login page) means the session is gone."""
        response = await _http.send(
            ctx, "GET", url, what=f"{what} request", headers=headers, ok_statuses=(200, *REDIRECTS)
        )
        if response.status_code in REDIRECTS:
            raise AuthError(
                f"Mistral: the {what} request went to the login page (HTTP {response.status_code}): session expired",
                hint=HINT,
                status_code=response.status_code,
            )
        return _http.decode_json(ctx, response, what=f"{what} request")

    def parse(self, raw: Raw, now: datetime) -> Usage:
        salvage = Salvage()
        balances, breakdowns = parsing.usage_parts(raw.get("usage"), salvage)
        windows = []
        if raw.get("credits") is not None:
            credits = salvage.keep(lambda: parsing.credits_balance(raw["credits"]))
            if credits is not None:
                balances.insert(0, credits)
        if raw.get("vibe") is not None:
            vibe = salvage.keep(lambda: parsing.vibe_window(raw["vibe"]))
            if vibe is not None:
                windows.append(vibe)
        warnings = list(salvage.warnings())
        for problem in raw.get("problems") or []:
            if isinstance(problem, dict) and problem.get("message"):
                try:
                    kind = ErrorKind(str(problem.get("kind")))
                except ValueError:
                    kind = ErrorKind.UPSTREAM
                hint = "Credits and Vibe usage are retried on the next refresh."
                warnings.append(ErrorInfo(kind=kind, message=str(problem["message"]), hint=hint))
        return Usage(
            windows=tuple(windows), balances=tuple(balances), breakdowns=tuple(breakdowns), warnings=tuple(warnings)
        )


PROVIDER = Mistral()
