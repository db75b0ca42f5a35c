"""OpenCode (opencode.ai, Zen subscriptions and pay-as-you-go) from the web app's server functions.

opencode.ai has no usage API for subscriptions: its pages call SolidStart server functions at
``{url}/_server`` by hashed id (``?id=<fn>&args=<json>`` for GET, the id in ``X-Server-Id`` and
the args as the JSON body for POST), authenticated by the ``auth`` session cookie. Three are
used: ``workspaces`` (the account's ``wrk_…`` ids), ``subscription.get`` (``rollingUsage`` /
``weeklyUsage``: percent used and seconds to reset) and the billing function (Zen balance and
monthly spend, for workspaces without a subscription). The ids change when OpenCode redeploys:
an unknown id answers 404, which is reported as such. Answers are parsed in ``parsing``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

import orjson

from ...errors import AuthError, ParseError, ProviderConfigError, UpstreamError
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
    WindowSpec,
)
from . import parsing
from .page import parse_page

SERVER_PATH = "/_server"
WORKSPACES_FN = "def39973159c7f0483d8793a822b8dbb10d067e12c65455fcb4608459ba0234f"
SUBSCRIPTION_FN = "7abeebee372f304e050aaaf92be863f4a86490e382f8c79db68fd94040d691b4"
BILLING_FN = "c83b78a614689c38ebee981f9b39a8b377716db85c1fd7dbab604adc02d3313d"
AUTH_COOKIES = ("auth", "__Host-auth")  # the session; other opencode.ai cookies are never sent
ACCEPT = "text/javascript, application/json;q=0.9, */*;q=0.8"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36"


def request_cookie(value: str) -> str:
    """Only the session cookie(s) of a pasted Cookie header, or ``auth=<value>`` for a bare value."""
    kept = _capture.only_cookies(_capture.named_cookie(value, "auth"), AUTH_COOKIES)
    if not kept:
        raise AuthError("OpenCode: the cookie has no 'auth' session cookie", hint=parsing.HINT)
    return kept


class OpenCode(Provider):
    id = "opencode"
    name = "OpenCode"
    docs_url = "https://opencode.ai/auth"
    settings = (
        Setting(
            "cookie",
            "opencode.ai cookies: a whole Cookie header, or the bare value of the 'auth' cookie.",
            secret=True,
        ),
        Setting(
            "workspace",
            "The opencode.ai workspace (wrk_... id or its URL); the account's first one when unset.",
        ),
        Setting("url", "Base URL of opencode.ai.", default="https://opencode.ai"),
    )
    auth = (
        AuthSource(
            id="web",
            source="cookie",
            label="opencode.ai session cookie",
            requires=("cookie",),
            hint="Log in to opencode.ai in Firefox or Chrome (agentgauge reads the 'auth' cookie), or copy it "
            "into AGENTGAUGE_OPENCODE_COOKIE.",
            browser=BrowserLogin(
                "opencode.ai", cookies=(CookieRule("cookie", ("opencode.ai",), ("__Host-auth", "auth"), header=True),)
            ),
            discovered_source="browser",
        ),
    )
    windows = (
        WindowSpec("session", "Session (5h)", 18000, None),
        WindowSpec("weekly", "Weekly", 604800, None),
        WindowSpec("monthly", "Monthly spend", None, "usd"),
    )
    urls: ClassVar[Mapping[str, str]] = {"url": "https://opencode.ai"}
    # Each refresh calls two or three server functions of a web app: poll gently.
    min_interval = 120.0
    response_format = "text"
    redact_keys = frozenset({"customerID", "paymentMethodID", "paymentMethodLast4", "subscriptionID"})
    samples = (
        Sample("server-subscription-*.json", "subscription", {"billing": None, "workspace": "wrk_sample"}),
        Sample("zen-billing*.json", "billing", {"subscription": None, "workspace": "wrk_sample"}),
        Sample("fixture-billing-*.txt", "billing", {"subscription": None, "workspace": "wrk_sample"}, format="text"),
        Sample("billing-page-*.html", "page", {"workspace": "wrk_sample"}, format="html"),
    )
    sim_credentials: ClassVar[Mapping[str, str]] = {"cookie": "sim-opencode-auth"}

    async def fetch(self, ctx: FetchContext) -> Raw:
        cookie = request_cookie(ctx.secret("cookie"))
        base = ctx.url("url")
        workspace: str | None = None
        try:
            workspace = await self._workspace(ctx, base, cookie)
            return await self._functions(ctx, base, cookie, workspace)
        except UpstreamError as exc:
            if exc.status_code != 404:
                raise
            # The hashed server-function ids changed with a redeploy: the billing page still renders the
            # same data into its hydration scripts (seed 001's source).
            if workspace is None:
                raise ProviderConfigError(
                    "OpenCode: opencode.ai's server functions moved (HTTP 404) and no workspace is set",
                    hint="Set `workspace` to your wrk_... id (from opencode.ai/workspace/<id>) so agentgauge can "
                    "read the billing page instead, then refresh.",
                ) from None
            return {"workspace": workspace, "page": await self._billing_page(ctx, base, cookie, workspace)}

    async def _billing_page(self, ctx: FetchContext, base: str, cookie: str, workspace: str) -> str:
        headers = {
            "Cookie": cookie,
            "User-Agent": USER_AGENT,
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        }
        try:
            response = await _http.send(
                ctx, "GET", f"{base}/workspace/{workspace}/billing", what="billing page", headers=headers,
                ok_statuses=(200, 301, 302, 303, 307, 308),
            )  # fmt: skip
        except AuthError as exc:
            raise AuthError(exc.message, hint=parsing.HINT, status_code=exc.status_code) from None
        if response.status_code != 200:
            location = response.headers.get("location", "")
            if "auth" in location.lower() or "login" in location.lower():
                raise AuthError("OpenCode: the billing page redirected to sign-in", hint=parsing.HINT)
            raise UpstreamError(
                f"OpenCode: the billing page redirected unexpectedly (HTTP {response.status_code})",
                status_code=response.status_code,
            )
        return response.text

    async def _functions(self, ctx: FetchContext, base: str, cookie: str, workspace: str) -> Raw:
        billing_page = f"{base}/workspace/{workspace}/billing"
        subscription = await self._server(ctx, base, cookie, SUBSCRIPTION_FN, [workspace], billing_page)
        if not parsing.is_null(subscription) and not parsing.usage_objects(subscription):
            # A GET that came back without the usage fields is retried as a POST, as the web app can.
            subscription = await self._server(ctx, base, cookie, SUBSCRIPTION_FN, [workspace], billing_page, "POST")
        billing = None
        if parsing.is_null(subscription) or not parsing.usage_objects(subscription):
            # No subscription (a pay-as-you-go Zen workspace): its money is in the billing object.
            billing = await self._server(ctx, base, cookie, BILLING_FN, [workspace], f"{base}/workspace/{workspace}")
        return {"workspace": workspace, "subscription": subscription, "billing": billing}

    async def _workspace(self, ctx: FetchContext, base: str, cookie: str) -> str:
        configured = ctx.setting("workspace")
        if configured:
            workspace = parsing.normalize_workspace(configured)
            if workspace is None:
                raise ProviderConfigError(
                    "OpenCode: workspace must be a wrk_... id or an opencode.ai workspace URL",
                    hint="Copy the id from the address bar of opencode.ai/workspace/<id>.",
                )
            return workspace
        for method in ("GET", "POST"):
            text = await self._server(ctx, base, cookie, WORKSPACES_FN, [], f"{base}/", method)
            found = parsing.workspace_ids(text)
            if found:
                return found[0]
        raise ParseError("OpenCode: the workspaces answer has no wrk_ id", field="workspaces[0].id")

    async def _server(
        self,
        ctx: FetchContext,
        base: str,
        cookie: str,
        function: str,
        args: list[Any],
        referer: str,
        method: str = "GET",
    ) -> str:
        """One server-function call; its text, or a typed error (signed out, challenge, HTML page)."""
        headers = {
            "Cookie": cookie,
            "X-Server-Id": function,
            "X-Server-Instance": f"server-fn:{uuid.uuid4()}",
            "User-Agent": USER_AGENT,
            "Origin": base,
            "Referer": referer,
            "Accept": ACCEPT,
        }
        what = {WORKSPACES_FN: "workspaces", SUBSCRIPTION_FN: "subscription", BILLING_FN: "billing"}[function]
        if method == "GET":
            query = {"id": function, **({"args": orjson.dumps(args).decode()} if args else {})}
            url, body = f"{base}{SERVER_PATH}?{urlencode(query)}", None
        else:
            url, body = base + SERVER_PATH, args
            headers["Content-Type"] = "application/json"
        try:
            response = await _http.send(ctx, method, url, what=f"{what} request", headers=headers, json=body)
        except AuthError as exc:
            raise AuthError(exc.message, hint=parsing.HINT, status_code=exc.status_code) from None
        text = response.text
        if _http.looks_like_html(response):  # a challenge page was raised as one by send
            if parsing.signed_out(text) or "sign in" in text.lower():
                raise AuthError("OpenCode: opencode.ai answered with its sign-in page", hint=parsing.HINT)
            raise ParseError(
                f"OpenCode: the {what} request returned an HTML page where a server-function answer was expected",
                field=what,
            )
        if parsing.signed_out(text):
            raise AuthError("OpenCode: opencode.ai does not know this session (signed out)", hint=parsing.HINT)
        return text

    def parse(self, raw: Raw, now: datetime) -> Usage:
        if raw.get("page") is not None:
            if not isinstance(raw["page"], str):
                raise ParseError("OpenCode: the billing page is not text", field="page")
            return parse_page(raw["page"], now)
        return parsing.parse(raw, now)


PROVIDER = OpenCode()
