"""StepFun (阶跃星辰) Step Plan: the Coding Plan's 5-hour and weekly windows, or the Token Plan's monthly
credit pool, from the platform's own dashboard calls.

``POST {url}/api/step.openapi.devcenter.Dashboard/QueryStepPlanRateLimit`` and ``.../GetStepPlanStatus``
(body ``{}``) with the ``Oasis-Token`` login cookie and the web app's headers (``oasis-appid``,
``oasis-platform``, ``oasis-webid``). The token is bound to a device: ``Oasis-Webid`` must be the
``device_id`` of its JWT. The token comes from the browser or a setting; or agentgauge logs in
with a username and password as the web app does (``GET {url}`` for ``INGRESSCOOKIE``, then the
passport's ``RegisterDevice`` and ``SignInByPassword``) and keeps the token in its own secret
store until it expires. Fractions in the answer are what is LEFT (see ``parsing``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from ...errors import AgentGaugeError, AuthError, ProviderError, UpstreamError
from ...models import Usage
from .. import _http, _oauth
from .._base import AuthSource, BrowserLogin, CookieRule, FetchContext, Provider, Raw, Sample, Setting, WindowSpec
from . import parsing

DEFAULT_URL = "https://platform.stepfun.com"
DASHBOARD = "/api/step.openapi.devcenter.Dashboard/"
RATE_LIMIT_PATH = DASHBOARD + "QueryStepPlanRateLimit"
PLAN_STATUS_PATH = DASHBOARD + "GetStepPlanStatus"
PASSPORT = "/passport/proto.api.passport.v1.PassportService/"
REGISTER_PATH = PASSPORT + "RegisterDevice"
SIGN_IN_PATH = PASSPORT + "SignInByPassword"
APP_ID = "10300"  # the web app's oasis-appid
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36"
REDIRECTS = (301, 302, 303, 307, 308)


def headers_for(token: str | None, webid: str | None, *, extra_cookies: str = "") -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "oasis-appid": APP_ID,
        "oasis-platform": "web",
        "User-Agent": USER_AGENT,
    }
    if webid:
        headers["oasis-webid"] = webid
    cookies = [f"Oasis-Token={token}"] if token else []
    cookies += [f"Oasis-Webid={webid}"] if webid and token else []
    cookies += [extra_cookies] if extra_cookies else []
    if cookies:
        headers["Cookie"] = "; ".join(cookies)
    return headers


class StepFun(Provider):
    id = "stepfun"
    name = "StepFun"
    docs_url = "https://platform.stepfun.com"
    settings = (
        Setting(
            "cookie",
            "The platform.stepfun.com login: its Cookie header (Oasis-Token, Oasis-Webid) or the bare Oasis-Token.",
            secret=True,
            env=("STEPFUN_TOKEN",),
        ),
        Setting(
            "username", "StepFun platform username (phone or e-mail) for the password login.", env=("STEPFUN_USERNAME",)
        ),
        Setting(
            "password", "StepFun platform password for the password login.", secret=True, env=("STEPFUN_PASSWORD",)
        ),
        Setting(
            "session_token",
            "The Oasis-Token the password login got; agentgauge keeps it here itself (no need to set it).",
            secret=True,
        ),
        Setting("url", "Base URL of the StepFun platform.", default=DEFAULT_URL),
    )
    auth = (
        AuthSource(
            id="token",
            source="cookie",
            label="StepFun Oasis-Token",
            requires=("cookie",),
            hint=parsing.HINT,
            browser=BrowserLogin(
                "platform.stepfun.com", cookies=(CookieRule("cookie", ("stepfun.com",), ("Oasis-Token",), header=True),)
            ),
            discovered_source="browser",
        ),
        AuthSource(
            id="password",
            source="cookie",
            label="StepFun password login",
            requires=("password", "username"),
            optional=("session_token",),
            hint=parsing.HINT,
            discovered_source="cookie",
        ),
    )
    windows = (
        WindowSpec("session", "Session (5h)", 18000, None),
        WindowSpec("weekly", "Weekly", 604800, None),
        WindowSpec("monthly", "Credits (monthly)", None, None),
    )
    urls: ClassVar[Mapping[str, str]] = {"url": DEFAULT_URL}
    min_interval = 120.0
    samples = (
        Sample("rate-limit-*.json", "rate_limit", {"plan_status": {"status": 1, "subscription": {"name": "Plus"}}}),
    )
    sim_credentials: ClassVar[Mapping[str, str]] = {
        # A JWT whose payload is {"device_id": "sim-web-id", "exp": 4102444800}; the signature is the simulator's.
        "cookie": "eyJhbGciOiJIUzI1NiJ9.eyJkZXZpY2VfaWQiOiJzaW0td2ViLWlkIiwiZXhwIjo0MTAyNDQ0ODAwfQ.sim-stepfun-sig",
        "username": "sim-stepfun-user",
        "password": "sim-stepfun-password",
    }

    async def fetch(self, ctx: FetchContext) -> Raw:
        base = ctx.url("url")
        if ctx.credentials.auth.id == "token":
            token, pasted_webid = parsing.token_from_cookie(ctx.secret("cookie"))
            return await self._query(ctx, base, token, parsing.device_id(token) or pasted_webid)
        kept = ctx.credentials.get("session_token")
        fresh = not kept or _expired(kept, ctx.now())
        session = await self._log_in(ctx, base) if fresh or not kept else kept
        try:
            return await self._query(ctx, base, session, parsing.device_id(session))
        except AuthError:
            if fresh:
                raise
        # The kept token was refused (logged out elsewhere): log in once more.
        token = await self._log_in(ctx, base)
        return await self._query(ctx, base, token, parsing.device_id(token))

    async def _query(self, ctx: FetchContext, base: str, token: str, webid: str | None) -> Raw:
        headers = headers_for(token, webid)
        results: tuple[Any, Any] = await asyncio.gather(
            _http.post_json(ctx, base + RATE_LIMIT_PATH, what="rate limit request", headers=headers, json={}),
            _http.post_json(ctx, base + PLAN_STATUS_PATH, what="plan status request", headers=headers, json={}),
            return_exceptions=True,
        )
        rate, status = results
        if isinstance(rate, AuthError):
            raise AuthError(rate.message, hint=parsing.HINT, status_code=rate.status_code)
        if isinstance(rate, BaseException):
            raise rate
        if isinstance(status, BaseException):
            if not isinstance(status, ProviderError):
                raise status
            ctx.log.info("stepfun: optional plan status request failed: %s", status.message)
            status = None  # the plan name is an enrichment
        return {"rate_limit": rate, "plan_status": status}

    async def _log_in(self, ctx: FetchContext, base: str) -> str:
        """The web app's password login; the token is kept in agentgauge's secret store when it can be."""
        username, password = ctx.secret("username").strip(), ctx.secret("password")
        webid = parsing.login_webid(username)
        home = await _http.send(
            ctx,
            "GET",
            base + "/",
            what="platform page request",
            headers=headers_for(None, webid),
            ok_statuses=(200, *REDIRECTS),
        )
        ingress = home.cookies.get("INGRESSCOOKIE")
        if not ingress:
            raise UpstreamError("StepFun: the platform set no INGRESSCOOKIE, so the login cannot start")
        extra = f"INGRESSCOOKIE={ingress}"
        device = await _http.post_json(
            ctx,
            base + REGISTER_PATH,
            what="device registration",
            headers=headers_for(None, webid, extra_cookies=extra),
            json={},
        )
        anonymous = parsing.token_pair(device, "device registration")
        signed = await _http.send(
            ctx,
            "POST",
            base + SIGN_IN_PATH,
            what="sign-in request",
            headers=headers_for(anonymous, parsing.device_id(anonymous) or webid, extra_cookies=extra),
            json={"username": username, "password": password},
            ok_statuses=(200, 400, 401, 403),
        )
        if signed.status_code != 200:
            raise AuthError(
                f"StepFun: the password login was refused (HTTP {signed.status_code})",
                hint=parsing.HINT,
                status_code=signed.status_code,
            )
        token = parsing.token_pair(_http.decode_json(ctx, signed, what="sign-in request"), "sign-in")
        if ctx.tokens is not None:
            try:
                await asyncio.to_thread(
                    ctx.tokens.save,
                    {"session_token": token},
                    expires_at=parsing.access_expiry(token),
                    origin="stepfun-login",
                )
            except (AgentGaugeError, OSError) as exc:  # the fetch goes on; the next one logs in again
                ctx.log.warning(
                    "StepFun: could not keep the login token: %s", getattr(exc, "message", type(exc).__name__)
                )
        ctx.log.info("stepfun/%s: logged in with the password", ctx.account)
        return token

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parsing.parse_rate_limit(raw.get("rate_limit"), raw.get("plan_status"))


def _expired(token: str, now: datetime) -> bool:
    when = parsing.access_expiry(token)
    return when is not None and when <= now + _oauth.LEEWAY


PROVIDER = StepFun()
