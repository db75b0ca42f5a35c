"""Qwen Cloud (home.qwencloud.com): the individual Token Plan's five-hour and weekly usage.

Qwen Cloud is Alibaba Cloud's international Qwen console; its Token Plan pages read three calls of
the one-console gateway at ``{api_url}/data/api.json`` (the toolkit's ``_aliyun``): action
``IntlBroadScopeAspnGateway``, product ``sfm_bailian``, apis
``zeldaHttp.apikeyMgr./tokenplan/personal/api/v2/usage`` (required), ``.../subscription`` (with the
product's commodity code) and ``.../quota-config``. The login is the browser session's cookies; the
page's ``sec_token`` is read from ``{url}/billing/subscription/token-plan-individual`` first.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from ...errors import AuthError, ProviderError
from ...models import Usage
from .. import _aliyun, _capture
from .._base import AuthSource, BrowserLogin, CookieRule, FetchContext, Provider, Raw, Sample, Setting, WindowSpec
from .parsing import parse_token_plan

DEFAULT_URL = "https://home.qwencloud.com"
DEFAULT_API_URL = "https://cs-data.qwencloud.com"
DASHBOARD_PATH = "/billing/subscription/token-plan-individual"
ACTION = "IntlBroadScopeAspnGateway"
PRODUCT = "sfm_bailian"
COMMODITY = "sfm_tokenplansolo_public_intl"
REGION = "ap-southeast-1"
CONSOLE_SITE = "QWENCLOUD"
API_PREFIX = "zeldaHttp.apikeyMgr./tokenplan/personal/api/v2/"
TICKETS = ("login_qwencloud_ticket", "login_aliyunid_ticket", "qwen_sso_ticket")
HINT = (
    "Log in to home.qwencloud.com in Firefox or Chrome, or copy its Cookie header into "
    "AGENTGAUGE_QWENCLOUD_COOKIE (or QWEN_CLOUD_COOKIE), then refresh."
)


def _login_page(html: str) -> bool:
    lowered = html.lower()
    return _aliyun.default_login_page(html) or "login.qwencloud.com" in lowered


class QwenCloud(Provider):
    id = "qwencloud"
    name = "Qwen Cloud"
    docs_url = "https://home.qwencloud.com/billing/subscription/token-plan-individual"
    settings = (
        Setting(
            "cookie",
            "home.qwencloud.com cookies: a whole Cookie header of the logged-in console.",
            secret=True,
            env=("QWEN_CLOUD_COOKIE",),
        ),
        Setting(
            "url",
            "Base URL of the Qwen Cloud console (its pages and sec_token).",
            default=DEFAULT_URL,
            env=("QWEN_CLOUD_HOST",),
        ),
        Setting("api_url", "Base URL of the Qwen Cloud data gateway (/data/api.json).", default=DEFAULT_API_URL),
    )
    auth = (
        AuthSource(
            id="web",
            source="cookie",
            label="Qwen Cloud session cookies",
            requires=("cookie",),
            hint=HINT,
            browser=BrowserLogin(
                "home.qwencloud.com", cookies=(CookieRule("cookie", ("qwencloud.com",), TICKETS, header=True),)
            ),
            discovered_source="browser",
        ),
    )
    windows = (
        WindowSpec("session", "Session (5h)", 18000, "credits"),
        WindowSpec("weekly", "Weekly", 604800, "credits"),
    )
    urls = {"url": DEFAULT_URL, "api_url": DEFAULT_API_URL}
    min_interval = 180.0  # a console page and three console calls per refresh
    redact_keys = frozenset({"Uid", "uid", "instanceCode", "InstanceCode", "requestId", "RequestId"})
    samples = (
        Sample("usage-*.json", "usage", {"subscription": None, "quota_config": None}),
        Sample("summary-*.json", "usage", {"subscription": None, "quota_config": None}),
    )
    sim_credentials = {
        "cookie": "login_qwencloud_ticket=sim-qwencloud-ticket; login_aliyunid_csrf=sim-csrf; cna=sim-cna"
    }

    async def fetch(self, ctx: FetchContext) -> Raw:
        cookie = _capture.cookie_header(ctx.secret("cookie"))
        dashboard = ctx.url("url") + DASHBOARD_PATH
        info = ctx.url("url") + _aliyun.USER_INFO_PATH
        token = await _aliyun.sec_token(ctx, cookie, dashboard, info, is_login_page=_login_page)
        if token is None:
            raise AuthError("Qwen Cloud: the session gave no console token (log in again)", hint=HINT)
        results: tuple[Any, ...] = await asyncio.gather(
            self._call(ctx, cookie, token, "usage", {}),
            self._optional(ctx, cookie, token, "subscription", {"commodityCode": COMMODITY}),
            self._optional(ctx, cookie, token, "quota-config", {}),
            return_exceptions=True,
        )
        for result in results:  # the usage call's own error first
            if isinstance(result, BaseException):
                raise result
        return {"usage": results[0], "subscription": results[1], "quota_config": results[2]}

    @staticmethod
    async def _call(ctx: FetchContext, cookie: str, token: str, name: str, data: dict[str, Any]) -> Any:
        api = API_PREFIX + name
        dashboard = ctx.url("url") + DASHBOARD_PATH
        payload = {**data, "cornerstoneParam": _aliyun.cornerstone(dashboard, CONSOLE_SITE, cookie)}
        form = _aliyun.api_form(api, payload, product=PRODUCT, action=ACTION, region=REGION, token=token)
        url = _aliyun.gateway_url(ctx.url("api_url"), action=ACTION, product=PRODUCT, api=api, _v="undefined")
        return await _aliyun.call(
            ctx, url, form, cookie, origin=ctx.url("url"), referer=dashboard, what=f"{name} request", hint=HINT
        )

    @classmethod
    async def _optional(cls, ctx: FetchContext, cookie: str, token: str, name: str, data: dict[str, Any]) -> Any:
        """The plan and its limits: without them the percentages still show."""
        try:
            return await cls._call(ctx, cookie, token, name, data)
        except AuthError:
            raise
        except ProviderError as exc:
            ctx.log.info("qwencloud: optional %s request failed: %s", name, exc.message)
            return None

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parse_token_plan(
            raw.get("usage"), raw.get("subscription"), raw.get("quota_config"), name=self.name, hint=HINT
        )


PROVIDER = QwenCloud()
