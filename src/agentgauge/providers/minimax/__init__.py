"""MiniMax Coding/Token Plan: per-model 5-hour and weekly quotas from the ``remains`` API.

With a Coding/Token Plan API key: ``GET {url}/v1/token_plan/remains``, else the older
``/v1/api/openplatform/coding_plan/remains`` (``Authorization: Bearer``). The global host is
``api.minimax.io``, China's ``api.minimaxi.com``; with no region set, a key the global host
refuses is tried on the China host. With the platform web login: the same coding-plan remains
path on ``platform.minimax.io`` (``platform.minimaxi.com``) with the session cookies, a Bearer
and ``GroupId``; the Coding Plan page's ``__NEXT_DATA__`` when that path is gone; and the
billing history for token breakdowns. ``*_usage_count`` is the REMAINING count (see ``parsing``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

from ...errors import AuthError, ParseError, ProviderError, UpstreamError
from ...models import Usage
from .. import _capture, _http
from .._base import (
    AuthSource,
    BrowserLogin,
    CookieRule,
    FetchContext,
    Provider,
    Raw,
    Sample,
    Setting,
    StorageRule,
    WindowSpec,
)
from .._settings import choice, with_scheme
from . import parsing, web

REGION_ALIASES = {"global": "global", "intl": "global", "china": "china", "cn": "china"}
API_HOSTS = {"global": "https://api.minimax.io", "china": "https://api.minimaxi.com"}
WEB_HOSTS = {"global": "https://platform.minimax.io", "china": "https://platform.minimaxi.com"}
TOKEN_PLAN_PATH = "/v1/token_plan/remains"
CODING_PLAN_PATH = "/v1/api/openplatform/coding_plan/remains"
PAGE_PATH = "/user-center/payment/coding-plan"
BILLING_PATH = "/account/amount"
COOKIE_DOMAINS = ("minimax.io", "minimaxi.com")
STORAGE_ORIGINS = (
    "https://platform.minimax.io",
    "https://www.minimax.io",
    "https://platform.minimaxi.com",
    "https://www.minimaxi.com",
)
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36"
HINT_KEY = (
    "Set AGENTGAUGE_MINIMAX_API_KEY (or MINIMAX_CODING_API_KEY) to the Coding/Token Plan key (sk-cp-...) from "
    "platform.minimax.io > Coding Plan, then refresh."
)
HINT_WEB = (
    "Log in to platform.minimax.io (platform.minimaxi.com in China) in Firefox or Chrome, or copy the Cookie "
    "header of its coding_plan/remains request into AGENTGAUGE_MINIMAX_COOKIE, then refresh."
)


def region_of(settings: Mapping[str, str]) -> str:
    hint = "Set AGENTGAUGE_MINIMAX_REGION to 'global' or 'china'."
    return choice(settings, "region", REGION_ALIASES, default="global", provider="MiniMax", hint=hint)


def api_bases(settings: Mapping[str, str]) -> list[str]:
    """API hosts in order: ``url`` alone when set; the region's host; with no region, global then China."""
    region = region_of(settings)  # validated even when ``url`` makes it moot
    if settings.get("url"):
        return [with_scheme(settings["url"]).rstrip("/")]
    if settings.get("region"):
        return [API_HOSTS[region]]
    return [API_HOSTS["global"], API_HOSTS["china"]]


def web_base(settings: Mapping[str, str]) -> str:
    region = region_of(settings)
    return with_scheme(settings["web_url"]).rstrip("/") if settings.get("web_url") else WEB_HOSTS[region]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class MiniMax(Provider):
    id = "minimax"
    name = "MiniMax"
    docs_url = "https://platform.minimax.io/user-center/payment/coding-plan"
    settings = (
        Setting(
            "api_key",
            "MiniMax Coding/Token Plan API key (sk-cp-...); a standard sk-api key does not show the plan.",
            secret=True,
            env=("MINIMAX_CODING_API_KEY", "MINIMAX_API_KEY"),
        ),
        Setting(
            "region",
            "Platform: 'global' (minimax.io) or 'china' (minimaxi.com). Unset: global, then China for a refused key.",
            default="global",
            choices=("global", "china", "intl", "cn"),
        ),
        Setting("url", "Base URL of the API; defaults to the region's (api.minimax.io or api.minimaxi.com)."),
        Setting(
            "web_url",
            "Base URL (or host) of the web platform; defaults to the region's platform.minimax(i) host.",
            env=("MINIMAX_HOST",),
        ),
        Setting(
            "cookie",
            "Cookie header of a signed-in platform session (or its whole 'Copy as cURL' command).",
            secret=True,
            env=("MINIMAX_COOKIE", "MINIMAX_COOKIE_HEADER"),
        ),
        Setting(
            "web_token",
            "The platform's access token from the browser's localStorage (access_token), sent as the Bearer.",
            secret=True,
        ),
        Setting("group_id", "The platform account's group id (GroupId); found from the login when unset."),
        Setting("remains_url", "Full URL of the web remains API, overriding web_url.", env=("MINIMAX_REMAINS_URL",)),
        Setting(
            "coding_plan_url", "Full URL of the Coding Plan page, overriding web_url.", env=("MINIMAX_CODING_PLAN_URL",)
        ),
    )
    auth = (
        AuthSource(
            id="api_key",
            source="api_key",
            label="MiniMax Coding Plan API key",
            requires=("api_key",),
            hint=HINT_KEY,
        ),
        AuthSource(
            id="web",
            source="cookie",
            label="MiniMax platform session cookie",
            requires=("cookie",),
            optional=("web_token", "group_id"),
            hint=HINT_WEB,
            browser=BrowserLogin(
                "platform.minimax.io",
                cookies=(CookieRule("cookie", COOKIE_DOMAINS, ("HERTZ-SESSION", "_token"), header=True),),
            ),
            discovered_source="browser",
        ),
        AuthSource(  # cookies alone are often refused (1004): the stored access token goes with them
            id="web_token",
            source="cookie",
            label="MiniMax platform login (cookie and access token)",
            requires=("cookie", "web_token"),
            optional=("group_id",),
            hint=HINT_WEB,
            browser=BrowserLogin(
                "platform.minimax.io",
                cookies=(CookieRule("cookie", COOKIE_DOMAINS, ("HERTZ-SESSION", "_token"), header=True),),
                storage=(StorageRule("web_token", STORAGE_ORIGINS, ("access_token", "user_detail")),),
            ),
            discovered_source="browser",
        ),
    )
    windows = (
        WindowSpec("session", "Session (5h)", 18000, None),
        WindowSpec("weekly", "Weekly", 604800, None),
        WindowSpec("daily", "Daily", 86400, None),
        WindowSpec("session_*", "Session (5h) · model", 18000, None),
        WindowSpec("weekly_*", "Weekly · model", 604800, None),
        WindowSpec("window*", "Plan window", None, None),
        WindowSpec("*_session", "Model · 5h", 18000, None),
        WindowSpec("*_daily", "Model · daily", 86400, None),
        WindowSpec("*_weekly", "Model · weekly", 604800, None),
        WindowSpec("*_window*", "Model · window", None, None),
        WindowSpec("*_monthly", "Model · monthly", None, None),
        WindowSpec("monthly", "Monthly", None, None),
    )
    urls: ClassVar[Mapping[str, str]] = {"url": "", "web_url": ""}  # the defaults depend on the region
    min_interval = 60.0
    redact_keys = frozenset({"group_id", "GroupId", "user_id", "email"})
    samples = (
        Sample("*remains*.json", "remains"),
        Sample("fixture-token-plan-*.json", "remains"),
        Sample("services-windows.json", "remains"),
        Sample("error-cookie-missing.json", "remains"),
        Sample(
            "billing-history.json",
            "billing",
            {"remains": {"model_remains": [{"model_name": "general", "current_interval_remaining_percent": 50}]}},
        ),
        Sample("coding-plan-page.html", "page", format="html"),
    )
    sim_credentials: ClassVar[Mapping[str, str]] = {
        "api_key": "sk-cp-sim-minimax-key",
        "cookie": "HERTZ-SESSION=sim-minimax-session",
        "web_token": "sim-minimax-web-token",
    }
    demo_accounts = ("legacy",)

    async def fetch(self, ctx: FetchContext) -> Raw:
        if ctx.credentials.auth.id == "api_key":
            return await self._fetch_api(ctx)
        return await self._fetch_web(ctx)

    async def _fetch_api(self, ctx: FetchContext) -> Raw:
        headers = {
            "Authorization": f"Bearer {ctx.secret('api_key')}",
            "Accept": "application/json",
            "Content-Type": "application/json",
            "MM-API-Source": "agentgauge",
        }
        refused: AuthError | None = None
        problem: ProviderError | None = None
        shapeless: Any = None
        for base in api_bases(ctx.settings):
            for path in (TOKEN_PLAN_PATH, CODING_PLAN_PATH):
                try:
                    payload = await _http.get_json(ctx, base + path, what="remains request", headers=headers)
                except AuthError as exc:
                    refused = refused or exc
                    continue
                except (UpstreamError, ParseError) as exc:  # a path this plan or host does not serve
                    if isinstance(exc, UpstreamError) and exc.status_code not in (404, 405):
                        raise
                    problem = exc
                    continue
                error = parsing.envelope_error(payload)
                if isinstance(error, AuthError):
                    refused = refused or error
                    continue
                if error is not None:
                    raise error
                if parsing.has_quota(payload):
                    return {"remains": payload}
                shapeless = payload
        if refused is not None:
            raise AuthError(refused.message, hint=HINT_KEY, status_code=refused.status_code)
        if shapeless is not None:
            return {"remains": shapeless}  # parse names what is missing
        assert problem is not None
        raise problem

    async def _fetch_web(self, ctx: FetchContext) -> Raw:
        cookie = web.cookie_parts(ctx.secret("cookie"))
        token, token_group = web.token_parts(ctx.credentials.get("web_token"))
        session = _capture.cookie_value(cookie.header, "HERTZ-SESSION")
        bearers = list(dict.fromkeys(b for b in (cookie.bearer, token, session) if b))
        group = (
            ctx.setting("group_id")
            or cookie.group_id
            or _capture.cookie_value(cookie.header, "minimax_group_id_v2")
            or token_group
            or next((g for b in bearers if (g := web.group_of_token(b))), None)
        )
        base = web_base(ctx.settings)
        page_url = ctx.setting("coding_plan_url") or f"{base}{PAGE_PATH}?cycle_type=3"
        referer = page_url.split("?", 1)[0]
        remains_url = ctx.setting("remains_url") or base + CODING_PLAN_PATH
        if group:
            remains_url += ("&" if "?" in remains_url else "?") + urlencode({"GroupId": group})
        refused: AuthError | None = None
        for bearer in [*bearers, None]:  # with each token the login has, then with the cookies alone
            headers = self._web_headers(cookie.header, bearer, remains_url, referer)
            try:
                payload, page = await self._remains(ctx, remains_url, headers)
            except AuthError as exc:
                refused = refused or exc
                continue
            if page:
                html_headers = {**headers, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
                html = (await _http.send(ctx, "GET", page_url, what="Coding Plan page", headers=html_headers)).text
                return {"page": html, "billing": await self._billing(ctx, base, headers)}
            error = parsing.envelope_error(payload)
            if isinstance(error, AuthError):
                refused = refused or error
                continue
            if error is not None:
                raise error
            return {"remains": payload, "billing": await self._billing(ctx, base, headers)}
        assert refused is not None
        raise AuthError(refused.message, hint=HINT_WEB, status_code=refused.status_code)

    @staticmethod
    def _web_headers(cookie: str, bearer: str | None, url: str, referer: str) -> dict[str, str]:
        headers = {
            "Cookie": cookie,
            "Accept": "application/json, text/plain, */*",
            "x-requested-with": "XMLHttpRequest",
            "Accept-Language": "en-US,en;q=0.9",
            "User-Agent": USER_AGENT,
            "Origin": _origin(url),
            "Referer": referer,
        }
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        return headers

    @staticmethod
    async def _remains(ctx: FetchContext, url: str, headers: dict[str, str]) -> tuple[Any, bool]:
        """The remains JSON, or ``(None, True)`` when the path is gone (404/405) or serves a page."""
        try:
            response = await _http.send(ctx, "GET", url, what="remains request", headers=headers)
        except UpstreamError as exc:
            if exc.status_code in (404, 405):
                return None, True
            raise
        if _http.looks_like_html(response):  # a challenge page was raised as one by send
            return None, True
        return _http.decode_json(ctx, response, what="remains request"), False

    @staticmethod
    async def _billing(ctx: FetchContext, base: str, headers: dict[str, str]) -> Any:
        """The billing history's first page (optional: its failure only costs the breakdowns)."""
        url = f"{base}{BILLING_PATH}?{urlencode({'page': 1, 'limit': 100, 'aggregate': 'false'})}"
        try:
            payload = await _http.get_json(
                ctx, url, what="billing history request", headers={**headers, "Referer": f"{_origin(url)}/account"}
            )
        except ProviderError as exc:
            ctx.log.info("minimax: billing history unavailable: %s", exc.message)
            return None
        return None if parsing.envelope_error(payload) is not None else payload

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parsing.parse(raw, now)


PROVIDER = MiniMax()
