"""Manus (manus.im): the credits of a Manus account, as its web app reads them.

``POST {url}/user.v1.UserService/GetAvailableCredits`` (a Connect RPC, JSON body ``{}``) with the
manus.im ``session_id`` cookie's value as a Bearer token, from the web app's origin. The answer holds
the credit balance and its parts, the plan's monthly credits (``proMonthlyCredits``, with
``periodicCredits`` left of them) and the refresh credits (``maxRefreshCredits`` per
``refreshInterval``, ``refreshCredits`` left, next at ``nextRefreshTime``). Connect's JSON leaves out
fields that are 0, so a missing figure of a credits answer is 0.
"""

from __future__ import annotations

from datetime import datetime

from ...errors import AuthError
from ...models import Usage
from .. import _capture, _http
from .._base import AuthSource, BrowserLogin, CookieRule, FetchContext, Provider, Raw, Sample, Setting, WindowSpec
from .parsing import parse_credits

DEFAULT_URL = "https://api.manus.im"
CREDITS_PATH = "/user.v1.UserService/GetAvailableCredits"
WEB_ORIGIN = "https://manus.im"
SESSION_COOKIE = "session_id"
HINT = (
    "Log in to manus.im in Firefox or Chrome (agentgauge reads its session_id cookie), or set "
    "AGENTGAUGE_MANUS_COOKIE (or MANUS_SESSION_TOKEN) to that cookie's value, then refresh."
)


def session_token(value: str) -> str:
    """The ``session_id`` value of a pasted Cookie header, or the value itself when given bare."""
    text = _capture.cookie_header(value)
    if f"{SESSION_COOKIE}=" not in text:
        return text
    found = _capture.cookie_value(text, SESSION_COOKIE, ignore_case=True)
    if found:
        return found
    raise AuthError("Manus: the cookie has no session_id value", hint=HINT)


class Manus(Provider):
    id = "manus"
    name = "Manus"
    docs_url = "https://manus.im/app"
    settings = (
        Setting(
            "cookie",
            "manus.im login: the session_id cookie's value, or a whole Cookie header holding it.",
            secret=True,
            env=("MANUS_SESSION_TOKEN", "MANUS_COOKIE"),
        ),
        Setting("url", "Base URL of the Manus API.", default=DEFAULT_URL),
    )
    auth = (
        AuthSource(
            id="web",
            source="cookie",
            label="manus.im session cookie",
            requires=("cookie",),
            hint=HINT,
            browser=BrowserLogin("manus.im", cookies=(CookieRule("cookie", ("manus.im",), (SESSION_COOKIE,)),)),
            discovered_source="browser",
        ),
    )
    windows = (
        WindowSpec("monthly", "Monthly credits", None, "credits"),
        WindowSpec("refresh_*", "Refresh credits", None, "credits"),
    )
    urls = {"url": DEFAULT_URL}
    min_interval = 120.0  # a web app's RPC: poll gently
    samples = (Sample("credits-*.json", "credits"),)
    sim_credentials = {"cookie": "sim-manus-session"}

    async def fetch(self, ctx: FetchContext) -> Raw:
        headers = {
            "Authorization": f"Bearer {session_token(ctx.secret('cookie'))}",
            "Accept": "application/json",
            "Content-Type": "application/json",  # a Connect server answers 415 without it
            "Connect-Protocol-Version": "1",
            "Origin": WEB_ORIGIN,
            "Referer": WEB_ORIGIN + "/",
        }
        url = ctx.url("url") + CREDITS_PATH
        return {"credits": await _http.post_json(ctx, url, what="credits request", headers=headers, json={})}

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parse_credits(raw.get("credits"))


PROVIDER = Manus()
