"""ZenMux: the subscription's rolling quotas and the pay-as-you-go balance from the Management API.

``GET {url}/subscription/detail`` and ``GET {url}/payg/balance`` with a *Management* API key as a
Bearer token (ordinary inference keys are refused). Answers are ``{"success": true, "data": {...}}``.
The five-hour and seven-day quotas are counted in Flows (``usage_percentage`` is a fraction 0-1);
the monthly quota states only its cap. ZenMux answers a rate-limited call with HTTP 422, not 429.
The balance is an enrichment: its failure (other than a rejected key) leaves it out.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from ...errors import AuthError, ProviderError, RateLimitedError
from ...models import Usage
from .. import _http
from .._base import AuthSource, FetchContext, Provider, Raw, Sample, Setting, WindowSpec
from .parsing import parse_all

DEFAULT_URL = "https://zenmux.ai/api/v1/management"
SUBSCRIPTION_PATH = "/subscription/detail"
BALANCE_PATH = "/payg/balance"
HINT = (
    "Set AGENTGAUGE_ZENMUX_API_KEY (or ZENMUX_MANAGEMENT_API_KEY) to a Management API key from "
    "https://zenmux.ai/platform/management (ordinary API keys are not accepted), then refresh."
)


class ZenMux(Provider):
    id = "zenmux"
    name = "ZenMux"
    docs_url = "https://zenmux.ai/platform/management"
    settings = (
        Setting(
            "api_key",
            "ZenMux Management API key (not an inference key).",
            secret=True,
            env=("ZENMUX_MANAGEMENT_API_KEY", "ZENMUX_MANAGEMENT_KEY"),
        ),
        Setting("url", "Base URL of the ZenMux Management API.", default=DEFAULT_URL),
    )
    auth = (
        AuthSource(
            id="api_key",
            source="api_key",
            label="Management API key",
            requires=("api_key",),
            hint=HINT,
            discovered_source="api_key",
        ),
    )
    windows = (
        WindowSpec("session", "Session (5h)", 18000, "flows"),
        WindowSpec("weekly", "Weekly (7d)", 604800, "flows"),
    )
    urls = {"url": DEFAULT_URL}
    min_interval = 60.0
    samples = (
        Sample("subscription-*.json", "subscription", {"balance": None}),
        Sample("payg-*.json", "balance", {"subscription": None}),
    )
    sim_credentials = {"api_key": "sim-zenmux-management-key"}

    async def fetch(self, ctx: FetchContext) -> Raw:
        base = ctx.url("url")
        headers = {"Authorization": f"Bearer {ctx.secret('api_key').strip()}", "Accept": "application/json"}
        results: tuple[Any, ...] = await asyncio.gather(
            self._get(ctx, base + SUBSCRIPTION_PATH, "subscription request", headers),
            self._balance(ctx, base + BALANCE_PATH, headers),
            return_exceptions=True,
        )
        for result in results:  # the subscription's own error first
            if isinstance(result, BaseException):
                raise result
        return {"subscription": results[0], "balance": results[1]}

    @staticmethod
    async def _get(ctx: FetchContext, url: str, what: str, headers: dict[str, str]) -> Any:
        response = await _http.send(ctx, "GET", url, what=what, headers=headers, ok_statuses=(200, 422))
        if response.status_code == 422:  # ZenMux's rate limit (no Retry-After is documented)
            raise RateLimitedError(f"ZenMux: {what} was rate limited (HTTP 422)")
        return _http.decode_json(ctx, response, what=what)

    @classmethod
    async def _balance(cls, ctx: FetchContext, url: str, headers: dict[str, str]) -> Any:
        try:
            return await cls._get(ctx, url, "balance request", headers)
        except AuthError:
            raise
        except ProviderError as exc:
            ctx.log.info("zenmux: optional balance request failed: %s", exc.message)
            return None

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parse_all(raw.get("subscription"), raw.get("balance"))


PROVIDER = ZenMux()
