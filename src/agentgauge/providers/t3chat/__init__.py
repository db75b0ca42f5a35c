"""T3 Chat: the 4-hour base allowance and the monthly overage budget from the web app's tRPC
``GET {url}/api/trpc/getCustomerData?batch=1&input=...`` with the signed-in t3.chat cookies.

The cookie setting takes a ``Cookie`` header or a whole ``curl`` command copied from the settings
page (``capture``); a capture's browser headers that T3 Chat's edge looks at are forwarded.
``parsing`` reads the answer (JSON lines).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar
from urllib.parse import urlencode

from ...errors import AuthError, ChallengeError, ProviderConfigError, RateLimitedError
from ...models import Usage
from .. import _capture, _http
from .._base import AuthSource, FetchContext, Provider, Raw, Sample, Setting, WindowSpec
from . import parsing

DEFAULT_URL = "https://t3.chat"
TRPC_PATH = "/api/trpc/getCustomerData"
# The web app's batch input for this procedure (CodexBar captured it from the page, May 2026).
BATCH_INPUT = '{"0":{"json":{"sessionId":null},"meta":{"values":{"sessionId":["undefined"]}}}}'
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36"
# Browser headers a pasted cURL capture may override (CodexBar's allow-list); the Cookie and
# Origin are always agentgauge's.
FORWARDED = (
    "accept",
    "accept-language",
    "cache-control",
    "pragma",
    "priority",
    "referer",
    "sec-fetch-dest",
    "sec-fetch-mode",
    "sec-fetch-site",
    "trpc-accept",
    "user-agent",
    "x-client-context",
    "x-deployment-id",
    "x-trpc-batch",
    "x-trpc-source",
)
HINT = (
    "Copy the getCustomerData request of t3.chat/settings/customization as cURL (or its Cookie header) "
    "from your browser's network panel into AGENTGAUGE_T3CHAT_COOKIE, then refresh."
)
CHALLENGE_HINT = (
    "T3 Chat's edge asked for a browser check: paste the whole request as cURL, not only the Cookie header."
)


def request_headers(pasted: _capture.Capture, base: str) -> dict[str, str]:
    headers = {
        "Accept": "*/*",
        "trpc-accept": "application/jsonl",
        "x-trpc-source": "web-client",
        "x-trpc-batch": "true",
        "Accept-Language": "en-US,en;q=0.9",
        "User-Agent": USER_AGENT,
        "Referer": f"{base}/settings/customization",
        "Sec-Fetch-Dest": "empty",
        "Sec-Fetch-Mode": "cors",
        "Sec-Fetch-Site": "same-origin",
        "Priority": "u=4",
        "Pragma": "no-cache",
        "Cache-Control": "no-cache",
    }
    lowered = {k.lower(): k for k in headers}
    for name in FORWARDED:
        if name in pasted.headers:
            headers.pop(lowered.get(name, name), None)
            headers[name] = pasted.headers[name]
    return {**headers, "Origin": base, "Cookie": pasted.cookie}


class T3Chat(Provider):
    id = "t3chat"
    name = "T3 Chat"
    docs_url = "https://t3.chat/settings/customization"
    settings = (
        Setting(
            "cookie",
            "t3.chat cookies: the Cookie header of a signed-in request, or the whole request copied as cURL.",
            secret=True,
        ),
        Setting("url", "Base URL of T3 Chat.", default=DEFAULT_URL),
    )
    auth = (
        AuthSource(
            id="cookie",
            source="cookie",
            label="t3.chat session cookie",
            requires=("cookie",),
            hint=HINT,
            discovered_source="cookie",
        ),
    )
    windows = (
        WindowSpec("base", "Base (4h)", 14400, None),
        WindowSpec("overage", "Overage (monthly)", None, None),
    )
    urls: ClassVar[Mapping[str, str]] = {"url": DEFAULT_URL}
    min_interval = 120.0
    samples = (Sample("trpc-customer-data*.json", "customer"),)
    sim_credentials: ClassVar[Mapping[str, str]] = {"cookie": "t3_session=sim-t3chat-session"}

    async def fetch(self, ctx: FetchContext) -> Raw:
        pasted = _capture.parse(ctx.secret("cookie"))
        if not pasted.cookie:
            raise ProviderConfigError("T3 Chat: the cookie setting holds no Cookie header", hint=HINT)
        base = ctx.url("url")
        url = f"{base}{TRPC_PATH}?{urlencode({'batch': '1', 'input': BATCH_INPUT})}"
        try:
            response = await _http.send(
                ctx,
                "GET",
                url,
                what="getCustomerData request",
                headers=request_headers(pasted, base),
                ok_statuses=(200, 429),
            )
        except AuthError as exc:
            raise AuthError(exc.message, hint=HINT, status_code=exc.status_code) from None
        if response.status_code == 429:
            if response.headers.get("x-vercel-mitigated", "").lower() == "challenge":
                raise ChallengeError("T3 Chat: the request met a Vercel challenge (HTTP 429)", hint=CHALLENGE_HINT)
            retry = _http.retry_after_seconds(response.headers.get("retry-after"), ctx.now())
            suffix = f"; retry after {int(retry)} s" if retry else ""
            raise RateLimitedError(
                f"T3 Chat: getCustomerData request was rate limited (HTTP 429){suffix}", retry_after=retry
            )
        if _http.looks_like_html(response):
            _http.decode_json(ctx, response, what="getCustomerData request")  # raises the typed HTML error
        return {"customer": response.text}

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parsing.parse(raw.get("customer"))


PROVIDER = T3Chat()
