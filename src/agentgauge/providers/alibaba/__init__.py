"""Alibaba Cloud Model Studio (Bailian): the Coding Plan, or the Token Plan (personal or team).

One provider, two products on the same console and login, chosen by ``plan``:

- ``coding`` (the default): ``queryCodingPlanInstanceInfoV2``, the Coding Plan's five-hour, weekly
  and monthly request quotas. Read with the Coding Plan API key (``POST {url}/data/api.json?action=
  zeldaEasy.broadscope-bailian.codingPlan.queryCodingPlanInstanceInfoV2&...``, the key as Bearer,
  ``x-api-key`` and ``X-DashScope-API-Key``; some accounts are answered ``ConsoleNeedLogin`` there, an
  auth error, so the console session is tried next), or with the console session through the RPC
  gateway ``{rpc_url}/data/api.json`` (form, ``sec_token``).
- ``token``: the personal (Solo) Token Plan, ``tokenplan/personal/api/v2/usage`` / ``subscription`` /
  ``quota-config`` on the RPC gateway: five-hour and weekly fractions.
- ``token_team``: the team Token Plan's credit pool, ``GetSubscriptionSummary`` (``BssOpenAPI-V3``)
  on the console gateway.

``region`` picks the site: ``intl`` (modelstudio.console.alibabacloud.com, Singapore) or ``cn``
(bailian.console.aliyun.com, Beijing). The console calls are the toolkit's ``_aliyun``, the answers in ``parsing``.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

import orjson

from ...errors import AuthError, ProviderError
from ...models import Usage
from .. import _aliyun, _capture, _http
from .._base import AuthSource, BrowserLogin, CookieRule, FetchContext, Provider, Raw, Sample, Setting, WindowSpec
from .parsing import parse_coding, parse_team, parse_token
from .regions import Region, is_region, plan_of, region_of

CODING_API = "zeldaEasy.broadscope-bailian.codingPlan.queryCodingPlanInstanceInfoV2"
TOKEN_API = "zeldaHttp.apikeyMgr./tokenplan/personal/api/v2/"
RPC_PRODUCT = "sfm_bailian"
TICKETS = ("login_aliyunid_ticket",)
COOKIE_HINT = (
    "Log in to the Model Studio console (modelstudio.console.alibabacloud.com, or bailian.console.aliyun.com "
    "with region = cn) in Firefox or Chrome, or copy its Cookie header into AGENTGAUGE_ALIBABA_COOKIE, then refresh."
)
KEY_HINT = (
    "Set AGENTGAUGE_ALIBABA_API_KEY (or ALIBABA_CODING_PLAN_API_KEY) to the Coding Plan key; if Alibaba answers "
    "that the console must be logged in, use the console session instead (AGENTGAUGE_ALIBABA_COOKIE)."
)


def _browser(region: Region) -> BrowserLogin:
    return BrowserLogin(
        region.console.removeprefix("https://"),
        cookies=(CookieRule("cookie", (region.cookie_domain,), TICKETS, header=True),),
    )


def base(ctx: FetchContext, name: str, default: str) -> str:
    return (ctx.setting(name) or default).rstrip("/")


class Alibaba(Provider):
    id = "alibaba"
    name = "Alibaba"
    docs_url = "https://modelstudio.console.alibabacloud.com/ap-southeast-1/?tab=coding-plan#/efm/coding_plan"
    settings = (
        Setting(
            "api_key",
            "Model Studio Coding Plan API key (reads the Coding Plan only).",
            secret=True,
            env=("ALIBABA_CODING_PLAN_API_KEY", "ALIBABA_QWEN_API_KEY", "DASHSCOPE_API_KEY"),
        ),
        Setting(
            "cookie",
            "Model Studio / Bailian console cookies: a whole Cookie header of the logged-in console.",
            secret=True,
            env=("ALIBABA_CODING_PLAN_COOKIE", "ALIBABA_TOKEN_PLAN_COOKIE"),
        ),
        Setting(
            "plan",
            "Which plan to read: 'coding' (Coding Plan), 'token' (Token Plan, personal) or 'token_team'.",
            default="coding",
            choices=("coding", "token", "token_personal", "token_team"),
        ),
        Setting(
            "region",
            "'intl' (modelstudio.console.alibabacloud.com) or 'cn' (bailian.console.aliyun.com).",
            default="intl",
            choices=("intl", "international", "cn", "china"),
        ),
        Setting(
            "url",
            "Base URL of the console (its pages and gateway); defaults to the region's.",
            env=("ALIBABA_CODING_PLAN_HOST", "ALIBABA_TOKEN_PLAN_HOST"),
        ),
        Setting("rpc_url", "Base URL of the console RPC gateway; defaults to the region's."),
    )
    auth = (
        AuthSource(
            id="api_key",
            source="api_key",
            label="Coding Plan API key",
            requires=("api_key",),
            hint=KEY_HINT,
            discovered_source="api_key",
        ),
        AuthSource(
            id="web",
            source="cookie",
            label="Alibaba Cloud console cookies",
            requires=("cookie",),
            hint=COOKIE_HINT,
            browser=_browser(region_of({"region": "intl"})),
            when=is_region("intl"),
            discovered_source="browser",
        ),
        AuthSource(
            id="web_cn",
            source="cookie",
            label="Aliyun console cookies (China)",
            requires=("cookie",),
            hint=COOKIE_HINT,
            browser=_browser(region_of({"region": "cn"})),
            when=is_region("cn"),
            discovered_source="browser",
        ),
    )
    windows = (
        WindowSpec("session", "Session (5h)", 18000, None),
        WindowSpec("weekly", "Weekly", 604800, None),
        WindowSpec("monthly", "Monthly", None, "requests"),
    )
    urls: ClassVar[dict[str, str]] = {"url": "", "rpc_url": ""}  # the defaults depend on the region
    min_interval = 180.0
    redact_keys = frozenset({"instanceCode", "InstanceCode", "Uid", "requestId", "RequestId", "instanceId"})
    samples = (
        Sample("coding-*.json", "coding", {"plan": "coding"}),
        Sample("token-usage-*.json", "usage", {"plan": "token", "subscription": None, "quota_config": None}),
        Sample("team-*.json", "summary", {"plan": "token_team"}),
    )
    sim_credentials: ClassVar[dict[str, str]] = {
        "api_key": "sk-sp-sim-alibaba-coding-key",
        "cookie": "login_aliyunid_ticket=sim-alibaba-ticket; login_aliyunid_csrf=sim-csrf; cna=sim-cna",
    }

    async def fetch(self, ctx: FetchContext) -> Raw:
        region, plan = region_of(ctx.settings), plan_of(ctx.settings)
        console_url = base(ctx, "url", region.console)
        if ctx.credentials.auth.id == "api_key":
            if plan != "coding":
                raise AuthError(
                    "Alibaba: the API key reads only the Coding Plan; the Token Plan needs the console session",
                    hint=COOKIE_HINT,
                )
            answer = await self._coding_by_key(ctx, region, console_url)
            if isinstance(_aliyun.console_error(answer, self.name, KEY_HINT), AuthError):
                raise AuthError(
                    "Alibaba: the Coding Plan cannot be read with the API key here (the console asks for a login)",
                    hint=KEY_HINT,
                )
            return {"plan": "coding", "coding": answer}
        cookie = _capture.cookie_header(ctx.secret("cookie"))
        page = console_url + (region.coding_page if plan == "coding" else region.token_page)
        token = await _aliyun.sec_token(ctx, cookie, page, console_url + _aliyun.USER_INFO_PATH)
        if plan == "coding":
            if token is None:
                raise AuthError("Alibaba: the console session gave no token (log in again)", hint=COOKIE_HINT)
            return {"plan": "coding", "coding": await self._coding_by_session(ctx, region, cookie, token, page)}
        if plan == "token_team":
            return {"plan": "token_team", "summary": await self._team(ctx, region, cookie, token, console_url, page)}
        return {"plan": "token", **await self._token(ctx, region, cookie, token, page)}

    @staticmethod
    async def _coding_by_key(ctx: FetchContext, region: Region, console_url: str) -> Any:
        key = ctx.secret("api_key").strip()
        query = {
            "action": CODING_API,
            "product": "broadscope-bailian",
            "api": "queryCodingPlanInstanceInfoV2",
            "currentRegionId": region.region_id,
        }
        headers = {
            "Authorization": f"Bearer {key}",
            "x-api-key": key,
            "X-DashScope-API-Key": key,
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Origin": console_url,
            "Referer": console_url + region.coding_page,
            "User-Agent": _aliyun.USER_AGENT,
        }
        body = {"queryCodingPlanInstanceInfoRequest": {"commodityCode": region.coding_commodity}}
        url = f"{console_url}/data/api.json?{urlencode(query)}"
        return _aliyun.expand(await _http.post_json(ctx, url, what="Coding Plan request", headers=headers, json=body))

    @staticmethod
    async def _coding_by_session(ctx: FetchContext, region: Region, cookie: str, token: str, page: str) -> Any:
        data = {
            "queryCodingPlanInstanceInfoRequest": {"commodityCode": region.coding_commodity, "onlyLatestOne": True},
            "cornerstoneParam": _aliyun.cornerstone(page, region.coding_site, cookie),
        }
        params = orjson.dumps({"Api": CODING_API, "V": "1.0", "Data": data}).decode()
        form = {"params": params, "region": region.region_id, "sec_token": token}
        rpc = base(ctx, "rpc_url", region.rpc)
        url = _aliyun.gateway_url(rpc, action=region.action, product=RPC_PRODUCT, api=CODING_API, _v="undefined")
        return await _aliyun.call(
            ctx,
            url,
            form,
            cookie,
            origin=base(ctx, "url", region.console),
            referer=page,
            what="Coding Plan request",
            hint=COOKIE_HINT,
        )

    async def _token(
        self, ctx: FetchContext, region: Region, cookie: str, token: str | None, page: str
    ) -> dict[str, Any]:
        calls: tuple[tuple[str, dict[str, Any]], ...] = (
            ("usage", {}),
            ("subscription", {"commodityCode": region.token_commodity}),
            ("quota-config", {}),
        )
        results: list[Any] = await asyncio.gather(
            *(
                self._token_call(ctx, region, cookie, token, page, name, data, required=name == "usage")
                for name, data in calls
            ),
            return_exceptions=True,
        )
        for result in results:  # the usage call's own error first
            if isinstance(result, BaseException):
                raise result
        return {"usage": results[0], "subscription": results[1], "quota_config": results[2]}

    @staticmethod
    async def _token_call(
        ctx: FetchContext,
        region: Region,
        cookie: str,
        token: str | None,
        page: str,
        name: str,
        data: dict[str, Any],
        *,
        required: bool,
    ) -> Any:
        api = TOKEN_API + name
        # No switchAgent in cornerstoneParam: the gateway then uses the session's own workspace.
        payload = {**data, "cornerstoneParam": _aliyun.cornerstone(page, region.token_site, cookie, switchUserType=3)}
        form = _aliyun.api_form(
            api, payload, product=RPC_PRODUCT, action=region.action, region=region.region_id, token=token
        )
        rpc = base(ctx, "rpc_url", region.rpc)
        url = _aliyun.gateway_url(rpc, action=region.action, product=RPC_PRODUCT, api=api, _v="undefined")
        try:
            return await _aliyun.call(
                ctx,
                url,
                form,
                cookie,
                origin=base(ctx, "url", region.console),
                referer=page,
                what=f"Token Plan {name} request",
                hint=COOKIE_HINT,
            )
        except AuthError:
            raise
        except ProviderError as exc:
            if required:
                raise
            ctx.log.info("alibaba: optional Token Plan %s request failed: %s", name, exc.message)
            return None

    @staticmethod
    async def _team(
        ctx: FetchContext, region: Region, cookie: str, token: str | None, console_url: str, page: str
    ) -> Any:
        form = {
            "product": "BssOpenAPI-V3",
            "action": "GetSubscriptionSummary",
            "params": orjson.dumps({"ProductCode": region.team_product}).decode(),
            "region": region.region_id,
        }
        if token:
            form["sec_token"] = token
        url = _aliyun.gateway_url(console_url, action="GetSubscriptionSummary", product="BssOpenAPI-V3", _tag="")
        return await _aliyun.call(
            ctx,
            url,
            form,
            cookie,
            origin=console_url,
            referer=page,
            what="Token Plan summary request",
            hint=COOKIE_HINT,
        )

    def parse(self, raw: Raw, now: datetime) -> Usage:
        plan = raw.get("plan") or "coding"
        if plan == "token_team":
            return parse_team(raw.get("summary"), COOKIE_HINT)
        if plan == "token":
            return parse_token(raw.get("usage"), raw.get("subscription"), raw.get("quota_config"), COOKIE_HINT)
        return parse_coding(raw.get("coding"), COOKIE_HINT)


PROVIDER = Alibaba()
