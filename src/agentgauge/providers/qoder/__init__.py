"""Qoder: big-model credits from ``GET {url}/api/v2/me/usages/big_model_credits`` with the
signed-in qoder.com (or qoder.com.cn) web session's cookies.

The cookie setting takes a ``Cookie`` header or a whole ``curl`` command copied from the usage
page (``capture``); a capture aimed at qoder.com.cn selects the China site unless ``region`` says
otherwise. ``parsing`` reads the answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar

from ...errors import AuthError, ProviderConfigError
from ...models import Usage
from .. import _capture, _http
from .._base import AuthSource, FetchContext, Provider, Raw, Sample, Setting, WindowSpec
from .._capture import unquote
from .._settings import choice
from . import parsing

REGION_URLS = {"global": "https://qoder.com", "china": "https://qoder.com.cn"}
REGION_ALIASES = {"global": "global", "intl": "global", "china": "china", "cn": "china"}
USAGE_PATH = "/api/v2/me/usages/big_model_credits"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36"
HINT = (
    "Copy the Cookie header (or the whole request as cURL) of qoder.com/account/usage from your "
    "browser's network panel into AGENTGAUGE_QODER_COOKIE, then refresh."
)


def region_of(settings: Mapping[str, str], host: str | None) -> str:
    """The ``region`` setting, else the site a pasted capture was aimed at."""
    if unquote(settings.get("region")):
        hint = "Set region to 'global' or 'china'."
        return choice(settings, "region", REGION_ALIASES, default="global", provider="Qoder", hint=hint)
    return "china" if host and (host == "qoder.com.cn" or host.endswith(".qoder.com.cn")) else "global"


class Qoder(Provider):
    id = "qoder"
    name = "Qoder"
    docs_url = "https://qoder.com/account/usage"
    settings = (
        Setting(
            "cookie",
            "qoder.com cookies: the Cookie header of the usage page, or the whole request copied as cURL.",
            secret=True,
        ),
        Setting(
            "region",
            "Which site: 'global' (qoder.com) or 'china' (qoder.com.cn); a cURL capture of qoder.com.cn "
            "selects china when unset.",
            choices=("global", "china", "intl", "cn"),
        ),
        Setting("url", "Base URL of the Qoder site; the region's when unset.", default=REGION_URLS["global"]),
    )
    auth = (
        AuthSource(
            id="cookie",
            source="cookie",
            label="qoder.com session cookie",
            requires=("cookie",),
            hint=HINT,
            discovered_source="cookie",
        ),
    )
    windows = (
        WindowSpec("credits", "Model credits", None, "credits"),
        WindowSpec("shared_credits", "Shared credits", None, "credits"),
    )
    urls: ClassVar[Mapping[str, str]] = {"url": REGION_URLS["global"]}
    min_interval = 120.0
    redact_keys = frozenset({"userId"})
    samples = (Sample("big-model-credits*.json", "credits"),)
    sim_credentials: ClassVar[Mapping[str, str]] = {"cookie": "qoder_session=sim-qoder-session"}
    demo_accounts = ("team",)

    async def fetch(self, ctx: FetchContext) -> Raw:
        pasted = _capture.parse(ctx.secret("cookie"))
        if not pasted.cookie:
            raise ProviderConfigError("Qoder: the cookie setting holds no Cookie header", hint=HINT)
        region = region_of(ctx.settings, pasted.host)
        site = REGION_URLS[region]
        base = (ctx.setting("url") or site).rstrip("/")
        headers = {
            "Cookie": pasted.cookie,
            "Accept": "application/json, text/plain, */*",
            "Accept-Language": "en-US,en;q=0.9",
            "User-Agent": pasted.headers.get("user-agent", USER_AGENT),
            "Origin": site,
            "Referer": f"{site}/account/usage",
            "X-Requested-With": "XMLHttpRequest",
            "Bx-V": "2.5.35",  # the web app's client version header, as CodexBar sends it
        }
        try:
            payload = await _http.get_json(ctx, base + USAGE_PATH, what="credits request", headers=headers)
        except AuthError as exc:
            raise AuthError(exc.message, hint=HINT, status_code=exc.status_code) from None
        return {"credits": payload}

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parsing.parse(raw.get("credits"))


PROVIDER = Qoder()
