"""Kimi Code: the Code API with an API key, or the www.kimi.com ConnectRPC gateway with the
``kimi-auth`` token.

Both answer with the same two meters: a weekly request quota (``usage`` on the Code API,
``usages[scope=FEATURE_CODING].detail`` on the web) and short rate-limit windows in
``limits[]`` sized by ``window.duration`` x ``window.timeUnit`` (300 minutes = ``session``).
Counts arrive as strings ("2048"); ``used`` may be missing (then ``limit - remaining``);
reset times are ISO with nanoseconds. The web path also reads the plan title from
``SubscriptionService/GetSubscription`` and, as a fallback for windows ``GetUsages`` did not
give, the 0-1 ratios of ``MembershipService/GetSubscriptionStats``. Both extra calls are
optional: their failure never fails the fetch.
"""

from __future__ import annotations

import asyncio
import platform
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..browser.sources import browser_discover, first_found
from ..errors import AuthError, ConfigError, ParseError, ProviderError, RateLimitedError, UpstreamError
from ..models import Usage, Window
from ..secret import Secret
from ..sim.context import SimContext
from . import _http
from ._base import AuthSource, DiscoverContext, Discovered, FetchContext, Provider, Raw, Setting, WindowSpec
from ._parse import label_for, obj, opt_num, opt_str, opt_time, pct_from_fraction, unique_id, window_id_for

CODE_USAGES_PATH = "/coding/v1/usages"
GATEWAY = "/apiv2/kimi.gateway"
USAGES_PATH = f"{GATEWAY}.billing.v1.BillingService/GetUsages"
# The plan lives in the order package, not billing (seed 000: AgentsUsageDashboard).
SUBSCRIPTION_PATH = f"{GATEWAY}.order.v1.SubscriptionService/GetSubscription"
STATS_PATH = f"{GATEWAY}.membership.v2.MembershipService/GetSubscriptionStats"
CODING_SCOPE = "FEATURE_CODING"
WEEK = 604800
TIME_UNITS = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400}
RESET_KEYS = ("resetTime", "resetAt", "reset_at", "reset_time")
# ConnectRPC error codes (https://connectrpc.com/docs/protocol#error-codes) that mean "log in again".
AUTH_CODES = {"unauthenticated", "permission_denied"}
HINT_API_KEY = ("Set AGENTGAUGE_KIMI_API_KEY to a Kimi Code API key (Kimi Code console > API keys), "
                "then refresh.")
HINT_CLI = "The Kimi Code CLI login has expired or is unreadable: run `kimi` and log in again, then refresh."
KIMI_CLI_VERSION = "1.12.0"
HINT_WEB = ("Log in to www.kimi.com, copy the 'kimi-auth' cookie into AGENTGAUGE_KIMI_AUTH_TOKEN, "
            "then refresh.")


def _from_env(name: str, setting: str) -> Callable[[DiscoverContext], Discovered | None]:
    """Discovery of one credential from one environment variable (read-only)."""

    def discover(ctx: DiscoverContext) -> Discovered | None:
        value = (ctx.env.get(name) or "").strip()
        return Discovered({setting: Secret(value)}, f"environment variable {name}") if value else None

    return discover


def kimi_home(ctx: DiscoverContext) -> Path:
    base = ctx.env.get("KIMI_CODE_HOME")
    return ctx.expand(base) if base else ctx.home / ".kimi-code"


def _discover_cli_login(ctx: DiscoverContext) -> Discovered | None:
    """The Kimi Code CLI's own login (read-only). Its refresh token is never used: the CLI owns it."""
    home = kimi_home(ctx)
    path = home / "credentials" / "kimi-code.json"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise ConfigError(f"Kimi: {path} is not valid JSON", hint=HINT_CLI) from None
    root = obj(data)
    token = next((opt_str(root.get(k)) for k in ("access_token", "accessToken", "token") if opt_str(root.get(k))),
                 None)
    if not token:
        return None  # logged out: the other sources may still work
    try:
        device_id = (home / "device_id").read_text(encoding="utf-8").strip()
    except OSError:
        device_id = ""
    details = {"kimi_cli": "1", "device_id": device_id, "device_name": platform.node(),
               "device_model": f"{platform.system()} {platform.release()} {platform.machine()}".strip(),
               "os_version": platform.version()}
    return Discovered({"api_key": Secret(token)}, str(path), details)


def _discover_api_key(ctx: DiscoverContext) -> Discovered | None:
    """KIMI_CODE_API_KEY first, then the Kimi Code CLI's login file."""
    return _from_env("KIMI_CODE_API_KEY", "api_key")(ctx) or _discover_cli_login(ctx)


def cli_headers(details: Mapping[str, str]) -> dict[str, str]:
    """The device headers the Kimi Code CLI sends; the Code API expects them with a CLI token."""
    if not details.get("kimi_cli"):
        return {}
    headers = {"User-Agent": f"KimiCLI/{KIMI_CLI_VERSION}", "X-Msh-Platform": "kimi_cli",
               "X-Msh-Version": KIMI_CLI_VERSION, "X-Msh-Device-Name": details.get("device_name", ""),
               "X-Msh-Device-Model": details.get("device_model", ""), "X-Msh-Os-Version": details.get("os_version", ""),
               "X-Msh-Device-Id": details.get("device_id", "")}
    # Header values must be ASCII without line breaks; a host name may not be.
    return {k: v.encode("ascii", "ignore").decode().replace("\r", " ").replace("\n", " ")
            for k, v in headers.items() if v}


def _seconds(window: dict[str, Any], where: str) -> int | None:
    """``window.duration`` x ``window.timeUnit``; ``None`` when either is missing or unknown."""
    duration = opt_num(window.get("duration"), f"{where}.duration")
    unit = str(window.get("timeUnit") or window.get("time_unit") or "").upper().removeprefix("TIME_UNIT_")
    factor = TIME_UNITS.get(unit.removesuffix("S"))
    if duration is None or duration <= 0 or factor is None:
        return None
    return int(duration * factor)


def _quota_window(
    detail: dict[str, Any], where: str, wid: str, label: str, seconds: int | None
) -> Window | None:
    """One request meter; ``None`` when it has no positive limit (never divide by zero)."""
    limit = opt_num(detail.get("limit"), f"{where}.limit")
    if limit is None or limit <= 0:
        return None
    used = opt_num(detail.get("used"), f"{where}.used")
    if used is None:
        remaining = opt_num(detail.get("remaining"), f"{where}.remaining")
        if remaining is None:
            raise ParseError(f"Kimi: {where} has neither 'used' nor 'remaining'", field=f"{where}.used")
        used = max(limit - remaining, 0.0)
    reset = next((detail.get(k) for k in RESET_KEYS if detail.get(k) not in (None, "")), None)
    return Window(
        id=wid, label=label, used_pct=round(used / limit * 100.0, 4),
        resets_at=opt_time(reset, f"{where}.resetTime"), window_seconds=seconds,
        used=used, limit=limit, unit="requests",
    )


def _quota_windows(weekly: Any, limits: Any, where_weekly: str, where_limits: str) -> list[Window]:
    taken = {"weekly"}  # the weekly quota owns the id; a 7-day rate limit becomes weekly_2
    windows: list[Window] = []
    for index, entry in enumerate(limits if isinstance(limits, list) else []):
        if not isinstance(entry, dict):
            continue
        where = f"{where_limits}[{index}]"
        seconds = _seconds(obj(entry.get("window")), f"{where}.window")
        wid = unique_id(window_id_for(seconds), taken)
        detail = obj(entry.get("detail"))
        window = _quota_window(detail, f"{where}.detail", wid, label_for(wid, seconds), seconds)
        if window is not None:
            windows.append(window)
    windows.sort(key=lambda w: (w.window_seconds is None, w.window_seconds or 0))
    weekly_window = _quota_window(obj(weekly), where_weekly, "weekly", "Weekly", WEEK)
    if weekly_window is not None:
        windows.append(weekly_window)
    return windows


def _stats_windows(stats: Any, have: set[str]) -> list[Window]:
    """Windows from GetSubscriptionStats ratios, only for the ids GetUsages did not give."""
    out: list[Window] = []
    for key, wid, seconds in (("ratelimitCode5h", "session", 18000), ("ratelimitCode7d", "weekly", WEEK)):
        entry = obj(obj(stats).get(key))
        if wid in have or entry.get("enabled") is False:
            continue
        pct = pct_from_fraction(entry.get("ratio"), f"{key}.ratio")
        if pct is None:
            continue
        reset = opt_time(entry.get("resetTime"), f"{key}.resetTime")
        out.append(Window(id=wid, label=label_for(wid, seconds), used_pct=pct, resets_at=reset,
                          window_seconds=seconds))
    return out


def parse_code_usages(root: Any) -> list[Window]:
    """The Code API's ``{usage, limits}`` payload as windows."""
    if not isinstance(root, dict):
        raise ParseError("Kimi: usages response is not an object", field="$")
    if not obj(root.get("usage")) and not isinstance(root.get("limits"), list):
        raise ParseError("Kimi: usages response has neither 'usage' nor 'limits'", field="usage")
    return _quota_windows(root.get("usage"), root.get("limits"), "usage", "limits")


def coding_entry(root: Any) -> dict[str, Any] | None:
    """The FEATURE_CODING entry of a GetUsages answer (or its only entry when none names a scope)."""
    if not isinstance(root, dict):
        raise ParseError("Kimi: GetUsages response is not an object", field="$")
    usages = root.get("usages")
    entries = [e for e in usages if isinstance(e, dict)] if isinstance(usages, list) else []
    entry = next((e for e in entries if str(e.get("scope") or "").upper() == CODING_SCOPE), None)
    if entry is None and len(entries) == 1 and not entries[0].get("scope"):
        entry = entries[0]
    return entry


def _connect_error(root: Any, what: str, secret: str) -> ProviderError:
    """A ConnectRPC error body (``{code, message}``) as the matching typed error."""
    body = obj(root)
    code = (opt_str(body.get("code")) or "unknown").lower()
    message = (opt_str(body.get("message")) or "no message")[:200]
    if secret:
        message = message.replace(secret, "***")  # an upstream echo of the token must not reach logs
    text = f"Kimi: {what} failed ({code}): {message}"
    if code in AUTH_CODES:
        return AuthError(text, hint=HINT_WEB)
    if code == "resource_exhausted":
        return RateLimitedError(text)
    return UpstreamError(text, status_code=400)


class Kimi(Provider):
    id = "kimi"
    name = "Kimi Code"
    docs_url = "https://www.kimi.com/code"
    settings = (
        Setting("api_key", "Kimi Code API key (Kimi Code console > API keys).", secret=True),
        Setting("auth_token", "The 'kimi-auth' cookie (a JWT) from www.kimi.com.", secret=True),
        Setting("api_url", "Base URL of the Kimi Code API.", default="https://api.kimi.com"),
        Setting("web_url", "Base URL of the kimi.com web gateway.", default="https://www.kimi.com"),
    )
    auth = (
        AuthSource(
            id="api_key", source="api_key", label="Kimi Code API key", requires=("api_key",),
            hint=HINT_API_KEY,
            discover=_discover_api_key, discovered_source="api_key",
        ),
        AuthSource(
            id="web", source="cookie", label="kimi-auth token (www.kimi.com)", requires=("auth_token",),
            hint=HINT_WEB, discovered_source="cookie",
            # KIMI_AUTH_TOKEN first, then the kimi-auth cookie of the user's browser.
            discover=first_found(_from_env("KIMI_AUTH_TOKEN", "auth_token"), browser_discover("kimi")),
        ),
    )
    windows = (
        WindowSpec("session", "Session (5h)", 18000, "requests"),
        WindowSpec("weekly", "Weekly", WEEK, "requests"),
        WindowSpec("window*", "Rate-limit window", None, "requests"),
        WindowSpec("daily", "Daily", 86400, "requests"),
    )
    urls: ClassVar[Mapping[str, str]] = {"api_url": "https://api.kimi.com", "web_url": "https://www.kimi.com"}
    min_interval = 60.0
    sim_credentials: ClassVar[Mapping[str, str]] = {
        "api_key": "sim-kimi-api-key", "auth_token": "sim-kimi-auth-jwt",
    }

    async def fetch(self, ctx: FetchContext) -> Raw:
        if ctx.credentials.auth.id == "api_key":
            headers = {"Authorization": f"Bearer {ctx.secret('api_key')}", "Accept": "application/json",
                       **cli_headers(ctx.credentials.details)}
            url = ctx.url("api_url") + CODE_USAGES_PATH
            try:
                return {"code": await _http.get_json(ctx, url, what="usages request", headers=headers)}
            except AuthError as exc:
                if ctx.credentials.details.get("kimi_cli"):  # the CLI refreshes its own token; we never do
                    raise AuthError(exc.message, hint=HINT_CLI, status_code=exc.status_code) from None
                raise
        base = ctx.url("web_url")
        usages = await self._connect(ctx, base, USAGES_PATH, {"scope": [CODING_SCOPE]}, "GetUsages request")
        subscription, stats = await asyncio.gather(
            self._optional(ctx, base, SUBSCRIPTION_PATH, "GetSubscription request"),
            self._optional(ctx, base, STATS_PATH, "GetSubscriptionStats request"),
        )
        return {"web": usages, "subscription": subscription, "stats": stats}

    async def _connect(self, ctx: FetchContext, base: str, path: str, body: dict[str, Any], what: str) -> Any:
        token = ctx.secret("auth_token")
        headers = {
            "Content-Type": "application/json", "Accept": "application/json", "connect-protocol-version": "1",
            "x-msh-platform": "web", "Origin": base, "Authorization": f"Bearer {token}",
        }
        # 400 carries a ConnectRPC error body ("invalid_argument"...) worth reading; the rest map by status.
        response = await _http.send(ctx, "POST", base + path, what=what, headers=headers, json=body,
                                    cookies={"kimi-auth": token}, ok_statuses=(200, 400))
        if response.status_code == 400:
            try:
                error_body = orjson.loads(response.content)
            except orjson.JSONDecodeError:
                raise UpstreamError(f"Kimi: {what} answered HTTP 400", status_code=400) from None
            raise _connect_error(error_body, what, token)
        return _http.decode_json(ctx, response, what=what)

    async def _optional(self, ctx: FetchContext, base: str, path: str, what: str) -> Any:
        """An enrichment call: its failure is logged, never raised (the quota is already read)."""
        try:
            return await self._connect(ctx, base, path, {}, what)
        except ProviderError as exc:
            ctx.log.info("kimi: optional %s failed: %s", what, exc.message)
            return None

    def parse(self, raw: Raw, now: datetime) -> Usage:
        if "code" in raw:
            return Usage(windows=tuple(parse_code_usages(raw["code"])))
        entry = coding_entry(raw.get("web"))
        detail, limits = obj(obj(entry).get("detail")), obj(entry).get("limits")
        windows: list[Window] = []
        if detail or isinstance(limits, list):
            windows = _quota_windows(detail, limits, "usages[0].detail", "usages[0].limits")
        windows += _stats_windows(raw.get("stats"), {w.id for w in windows})
        if not windows and not detail and not isinstance(limits, list):
            field = "usages[0].detail" if entry is not None else "usages[scope=FEATURE_CODING]"
            raise ParseError(f"Kimi: GetUsages has no FEATURE_CODING quota ('{field}')", field=field)
        windows.sort(key=lambda w: (w.window_seconds is None, w.window_seconds or 0))
        goods = obj(obj(obj(raw.get("subscription")).get("subscription")).get("goods"))
        return Usage(windows=tuple(windows), plan=opt_str(goods.get("title")))

    def sim_routes(self, sim: SimContext) -> Mapping[str, list[Any]]:
        def meters(account: str) -> dict[str, Any]:
            """Weekly quota and 5h limit of one account, numbers as strings like upstream."""
            weekly_pct, weekly_reset = sim.window(f"kimi:{account}:weekly", WEEK)
            session_pct, session_reset = sim.window(f"kimi:{account}:session", 18000)
            weekly_used, session_used = round(2048 * weekly_pct / 100), round(200 * session_pct / 100)
            return {
                "detail": {"limit": "2048", "used": str(weekly_used), "remaining": str(2048 - weekly_used),
                           "resetTime": _nano_iso(weekly_reset)},
                "limits": [{"window": {"duration": 300, "timeUnit": "TIME_UNIT_MINUTE"},
                            "detail": {"limit": "200", "used": str(session_used),
                                       "remaining": str(200 - session_used),
                                       "resetTime": _nano_iso(session_reset)}}],
                "ratios": (session_used / 200, session_reset, weekly_used / 2048, weekly_reset),
            }

        async def code_usages(request: Request) -> Response:
            account = sim.bearer_account(request, self.id, "api_key")
            if account is None:
                return JSONResponse({"error": {"type": "unauthorized", "message": "invalid api key"}},
                                    status_code=401)
            m = meters(account)
            return JSONResponse({"usage": m["detail"], "limits": m["limits"]})

        def connect_error(code: str, message: str, status: int) -> Response:
            return JSONResponse({"code": code, "message": message}, status_code=status)

        def web_account(request: Request) -> str | Response:
            """The account of a gateway call, or the ConnectRPC error upstream would send."""
            if request.headers.get("connect-protocol-version") != "1":
                return connect_error("invalid_argument", "missing connect-protocol-version header", 400)
            account = (sim.bearer_account(request, self.id, "auth_token")
                       or sim.cookie_account(request, self.id, "auth_token", "kimi-auth"))
            return account or connect_error("unauthenticated", "token is invalid or expired", 401)

        async def get_usages(request: Request) -> Response:
            account = web_account(request)
            if isinstance(account, Response):
                return account
            try:
                body = orjson.loads(await request.body() or b"{}")
            except orjson.JSONDecodeError:
                return connect_error("invalid_argument", "request body is not JSON", 400)
            scope = obj(body).get("scope")
            if not isinstance(scope, list):
                return connect_error("invalid_argument", "scope must be a list", 400)
            m = meters(account)
            usages = [{"scope": CODING_SCOPE, "detail": m["detail"], "limits": m["limits"]}] \
                if CODING_SCOPE in scope else []
            return JSONResponse({"usages": usages})

        async def get_subscription(request: Request) -> Response:
            account = web_account(request)
            if isinstance(account, Response):
                return account
            return JSONResponse({"subscription": {"id": "sim-subscription", "status": "ACTIVE",
                                                  "goods": {"id": "sim-goods", "title": "Allegretto"}}})

        async def get_stats(request: Request) -> Response:
            account = web_account(request)
            if isinstance(account, Response):
                return account
            session_ratio, session_reset, weekly_ratio, weekly_reset = meters(account)["ratios"]
            return JSONResponse({
                "ratelimitCode5h": {"ratio": round(session_ratio, 4), "enabled": True,
                                    "resetTime": _nano_iso(session_reset)},
                "ratelimitCode7d": {"ratio": round(weekly_ratio, 4), "enabled": True,
                                    "resetTime": _nano_iso(weekly_reset)},
            })

        return {
            "api_url": [Route(CODE_USAGES_PATH, code_usages)],
            "web_url": [
                Route(USAGES_PATH, get_usages, methods=["POST"]),
                Route(SUBSCRIPTION_PATH, get_subscription, methods=["POST"]),
                Route(STATS_PATH, get_stats, methods=["POST"]),
            ],
        }


def _nano_iso(value: datetime) -> str:
    """ISO-8601 UTC with nine fraction digits, the way Kimi's Go backend writes times."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


PROVIDER = Kimi()
