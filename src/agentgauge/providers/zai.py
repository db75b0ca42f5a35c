"""z.ai / GLM Coding Plan: ``GET {base}/api/monitor/usage/quota/limit`` with an API key.

``TOKENS_LIMIT`` (and ``CREDIT_LIMIT``) entries are the token windows, sized by
``unit`` x ``number`` (unit 1 = day, 3 = hour, 5 = minute, 6 = week): the 5-hour one is
``session``, the weekly one ``weekly``. ``TIME_LIMIT`` is the MCP/tool-call allowance
(``tools_monthly``): ``usage`` is its cap, ``currentValue`` the calls used.
``nextResetTime`` is epoch milliseconds; numbers may arrive as strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..browser.sources import browser_discover
from ..errors import AuthError, ParseError, ProviderConfigError, RateLimitedError, UpstreamError
from ..models import Usage, Window
from ..sim.context import SimContext
from . import _http
from ._base import AuthSource, DiscoverContext, Discovered, FetchContext, Provider, Raw, Setting, WindowSpec
from ._parse import humanize_seconds, items, label_for, obj, opt_num, opt_str, opt_time, unique_id, window_id_for

REGION_URLS = {"global": "https://api.z.ai", "china": "https://open.bigmodel.cn"}
REGION_ALIASES = {"global": "global", "intl": "global", "china": "china", "cn": "china", "bigmodel-cn": "china"}
QUOTA_PATH = "/api/monitor/usage/quota/limit"
# Seconds per ``unit`` code (CodexBar's z.ai plugin: 1 day, 3 hour, 5 minute, 6 week).
UNIT_SECONDS = {1: 86400, 3: 3600, 5: 60, 6: 604800}
# Envelope codes that mean the key is missing, invalid or expired.
AUTH_CODES = {401, 1000, 1001, 1002, 1003, 1004}
RATE_CODES = {429, 1302, 1303}
CHINA_ENV = ("BIGMODEL_API_KEY", "ZHIPU_API_KEY", "ZHIPUAI_API_KEY", "GLM_API_KEY")
CHINA_KEY_FILES = ("~/.coding-relay/glm-api-key", "~/.config/bigmodel/api_key", "~/.config/zhipu/api_key")


def region_of(settings: Mapping[str, str]) -> str:
    raw = (settings.get("region") or "global").strip().lower()
    if raw not in REGION_ALIASES:
        raise ProviderConfigError(
            f"z.ai: unknown region '{raw}'", hint="Set AGENTGAUGE_ZAI_REGION to 'global' or 'china'."
        )
    return REGION_ALIASES[raw]


def _discover_key(ctx: DiscoverContext) -> Discovered | None:
    from ..secret import Secret

    if ctx.env.get("Z_AI_API_KEY"):
        return Discovered({"api_key": Secret(ctx.env["Z_AI_API_KEY"])}, "environment variable Z_AI_API_KEY")
    try:
        china = region_of(ctx.settings) == "china"
    except ProviderConfigError:
        return None
    if not china:
        return None  # never send a China-platform key to the global host
    for name in CHINA_ENV:
        if ctx.env.get(name):
            return Discovered({"api_key": Secret(ctx.env[name])}, f"environment variable {name}")
    for path in CHINA_KEY_FILES:
        file = ctx.expand(path)
        try:
            key = file.read_text(encoding="utf-8").strip()
        except OSError:
            continue
        if key:
            return Discovered({"api_key": Secret(key)}, str(path))
    return None


class Zai(Provider):
    id = "zai"
    name = "z.ai"
    docs_url = "https://z.ai/manage-apikey/apikey-list"
    settings = (
        Setting("api_key", "z.ai (or BigModel) API key from the API keys page.", secret=True),
        Setting("region", "API region: 'global' (api.z.ai) or 'china' (open.bigmodel.cn).", default="global",
                choices=("global", "china")),
        Setting("url", "Base URL of the quota API; defaults to the region's host."),
        Setting("organization", "Team scope: the Bigmodel-Organization id (with project)."),
        Setting("project", "Team scope: the Bigmodel-Project id (with organization)."),
    )
    auth = (
        AuthSource(
            id="api_key", source="api_key", label="API key", requires=("api_key",),
            hint="Set AGENTGAUGE_ZAI_API_KEY to a key from https://z.ai/manage-apikey/apikey-list, then refresh.",
            discover=_discover_key, discovered_source="api_key",
        ),
        AuthSource(  # the chat.z.ai / z.ai login token (a JWT the quota API takes as a Bearer)
            id="browser", source="browser", label="z.ai login from the browser", requires=("api_key",),
            hint="Log in to chat.z.ai in Firefox or Chrome, then refresh.",
            discover=browser_discover("zai", when=lambda ctx: region_of(ctx.settings) == "global"),
            discovered_source="browser",
        ),
    )
    windows = (
        WindowSpec("session", "Session (5h)", 18000, "tokens"),
        WindowSpec("weekly", "Weekly", 604800, "tokens"),
        WindowSpec("daily", "Daily", 86400, "tokens"),
        WindowSpec("monthly", "Monthly", None, "tokens"),
        WindowSpec("window*", "Token window", None, "tokens"),
        WindowSpec("tools_*", "Tools (MCP)", None, "requests"),
    )
    urls = {"url": ""}  # the default depends on the region, see fetch
    min_interval = 60.0
    redact_keys = frozenset({"organization", "project"})
    sim_credentials = {"api_key": "sim-zai-key.secret"}

    async def fetch(self, ctx: FetchContext) -> Raw:
        region = region_of(ctx.settings)  # validated even when a URL override makes it moot
        base = (ctx.setting("url") or REGION_URLS[region]).rstrip("/")
        headers = {"Authorization": f"Bearer {ctx.secret('api_key')}", "Accept": "application/json"}
        url = base + QUOTA_PATH
        org, project = ctx.setting("organization"), ctx.setting("project")
        if org or project:
            if not (org and project):
                raise ProviderConfigError("z.ai: team scope needs both organization and project")
            headers |= {"Bigmodel-Organization": org, "Bigmodel-Project": project}
            url += "?type=2"
        return {"quota": await _http.get_json(ctx, url, what="quota request", headers=headers)}

    def parse(self, raw: Raw, now: datetime) -> Usage:
        root = raw.get("quota")
        if not isinstance(root, dict):
            raise ParseError("z.ai: quota response is not an object", field="$")
        code = opt_num(root.get("code"), "code")
        if root.get("success") is False or (code is not None and code != 200):
            message = opt_str(root.get("msg")) or "request failed"
            if code in AUTH_CODES:
                raise AuthError(f"z.ai rejected the API key: {message}")
            if code in RATE_CODES:
                raise RateLimitedError(f"z.ai rate limited the request: {message}")
            raise UpstreamError(f"z.ai quota API error {int(code) if code is not None else '?'}: {message}")
        data = obj(root.get("data"))
        if "limits" not in data and "data" not in root:
            raise ParseError("z.ai: response has no 'data'", field="data")
        taken: set[str] = set()
        token_windows: list[tuple[int | None, dict[str, Any], int]] = []
        tools: list[Window] = []
        for index, entry in enumerate(items(data.get("limits"))):
            kind = str(entry.get("type") or "").upper()
            seconds = self._seconds(entry, index)
            if kind in ("TOKENS_LIMIT", "CREDIT_LIMIT"):
                token_windows.append((seconds, entry, index))
            elif kind == "TIME_LIMIT":
                unit = opt_num(entry.get("unit"), f"data.limits[{index}].unit")
                suffix = "monthly" if unit in (None, 5) or seconds is None else humanize_seconds(seconds)
                wid = unique_id(f"tools_{suffix}", taken)
                tools.append(self._window(entry, index, wid, f"Tools (MCP, {suffix})", None, "requests", now))
        token_windows.sort(key=lambda t: (t[0] is None, t[0] or 0))
        windows: list[Window] = []
        for seconds, entry, index in token_windows:
            wid = unique_id(window_id_for(seconds), taken)
            unit = "credits" if str(entry.get("type")).upper() == "CREDIT_LIMIT" else "tokens"
            windows.append(self._window(entry, index, wid, label_for(wid, seconds), seconds, unit, now))
        windows += tools
        plan = next((opt_str(data.get(k)) for k in ("planName", "plan", "plan_type", "packageName", "level")
                     if opt_str(data.get(k))), None)
        return Usage(windows=tuple(windows), plan=plan)

    @staticmethod
    def _seconds(entry: dict[str, Any], index: int) -> int | None:
        unit = opt_num(entry.get("unit"), f"data.limits[{index}].unit")
        number = opt_num(entry.get("number"), f"data.limits[{index}].number")
        if unit is None or number is None or number <= 0 or int(unit) not in UNIT_SECONDS:
            return None
        return int(UNIT_SECONDS[int(unit)] * number)

    @staticmethod
    def _window(entry: dict[str, Any], index: int, wid: str, label: str, seconds: int | None, unit: str,
                now: datetime) -> Window:
        where = f"data.limits[{index}]"
        cap = opt_num(entry.get("usage"), f"{where}.usage")
        current = opt_num(entry.get("currentValue"), f"{where}.currentValue")
        remaining = opt_num(entry.get("remaining"), f"{where}.remaining")
        used = current if current is not None else (cap - remaining if cap is not None and remaining is not None
                                                    else None)
        pct = opt_num(entry.get("percentage"), f"{where}.percentage")
        if pct is None:
            if used is None or not cap:
                raise ParseError(f"z.ai: {where} has no percentage", field=f"{where}.percentage")
            pct = round(used / cap * 100.0, 4)
        return Window(
            id=wid, label=label, used_pct=pct, resets_at=opt_time(entry.get("nextResetTime"), f"{where}.nextResetTime"),
            window_seconds=seconds, used=used, limit=cap, unit=unit if cap is not None else None,
        )

    def sim_routes(self, sim: SimContext) -> Mapping[str, list[Any]]:
        async def quota(request: Request) -> Response:
            account = sim.bearer_account(request, self.id, "api_key")
            if account is None:
                return JSONResponse({"code": 1001, "msg": "Authorization Token Missing", "success": False},
                                    status_code=401)
            session_pct, session_reset = sim.window(f"zai:{account}:session", 18000)
            weekly_pct, weekly_reset = sim.window(f"zai:{account}:weekly", 604800)
            tools_pct, tools_reset = sim.window(f"zai:{account}:tools", 30 * 86400, high=60)
            used_calls = round(1000 * tools_pct / 100)
            limits = [
                {"type": "TOKENS_LIMIT", "unit": 3, "number": 5, "percentage": round(session_pct),
                 "nextResetTime": int(session_reset.timestamp() * 1000)},
                {"type": "TOKENS_LIMIT", "unit": 6, "number": 1, "percentage": round(weekly_pct),
                 "nextResetTime": int(weekly_reset.timestamp() * 1000)},
                {"type": "TIME_LIMIT", "unit": 5, "number": 1, "usage": 1000, "currentValue": used_calls,
                 "remaining": 1000 - used_calls, "percentage": round(tools_pct),
                 "nextResetTime": int(tools_reset.timestamp() * 1000),
                 "usageDetails": [{"modelCode": "search-prime", "usage": used_calls}]},
            ]
            return JSONResponse({"code": 200, "msg": "success", "success": True,
                                 "data": {"planName": "Pro", "limits": limits}})

        return {"url": [Route(QUOTA_PATH, quota)]}


PROVIDER = Zai()
