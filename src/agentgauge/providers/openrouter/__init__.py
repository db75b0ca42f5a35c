"""OpenRouter: the API key's limit and spend (``GET {url}/key``), the account's credits
(``GET {url}/credits``) and, with a management key, 30 days of spend (``GET {url}/activity``).

Money is US dollars. A key limit with a ``limit_reset`` period (daily, weekly, monthly; resets at
midnight UTC, weeks from Monday) is a window; everything else is a balance: the credits left of
what was purchased, a limit without a period, the key's spend today / this week / this month.
``/credits`` may need a management key: a 403 there leaves the credits out instead of failing.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from ...errors import AuthError, ParseError, ProviderError
from ...models import Usage
from .. import _http
from .._base import AuthSource, FetchContext, Provider, Raw, Sample, Setting, WindowSpec
from .._parse import Salvage
from .parsing import activity_breakdowns, credits_balance, key_parts

DEFAULT_URL = "https://openrouter.ai/api/v1"
KEY_PATH = "/key"
CREDITS_PATH = "/credits"
ACTIVITY_PATH = "/activity"
HINT = "Set AGENTGAUGE_OPENROUTER_API_KEY (or OPENROUTER_API_KEY) to a key from https://openrouter.ai/settings/keys."


class OpenRouter(Provider):
    id = "openrouter"
    name = "OpenRouter"
    docs_url = "https://openrouter.ai/settings/credits"
    settings = (
        Setting("api_key", "OpenRouter API key (sk-or-v1-...).", secret=True, env=("OPENROUTER_API_KEY",)),
        Setting("url", "Base URL of the OpenRouter API.", default=DEFAULT_URL, env=("OPENROUTER_API_URL",)),
        Setting("http_referer", "Sent as the HTTP-Referer header (app attribution).", env=("OPENROUTER_HTTP_REFERER",)),
        Setting(
            "x_title",
            "Sent as the X-Title header (app attribution).",
            default="agentgauge",
            env=("OPENROUTER_X_TITLE",),
        ),
        Setting(
            "management_key",
            "Optional management key: reads the credits and 30 days of spend per day and model (/activity).",
            secret=True,
            env=("OPENROUTER_MANAGEMENT_API_KEY",),
        ),
    )
    auth = (
        AuthSource(
            id="api_key",
            source="api_key",
            label="API key",
            requires=("api_key",),
            optional=("management_key",),
            hint=HINT,
            discovered_source="api_key",
        ),
    )
    windows = (
        WindowSpec("key_daily", "API key limit (daily)", 86400, "usd"),
        WindowSpec("key_weekly", "API key limit (weekly)", 604800, "usd"),
        WindowSpec("key_monthly", "API key limit (monthly)", None, "usd"),
    )
    urls = {"url": DEFAULT_URL}
    min_interval = 60.0  # OpenRouter caches credits for about a minute anyway
    redact_keys = frozenset({"label", "creator_user_id"})  # label is a partial key
    samples = (
        Sample("key-*.json", "limits", {"credits": None, "activity": None}),
        Sample("credits-*.json", "credits", {"limits": None, "activity": None}),
        Sample("activity*.json", "activity", {"limits": None, "credits": None}),
    )
    sim_credentials = {"api_key": "sim-openrouter-key", "management_key": "sim-openrouter-management-key"}

    async def fetch(self, ctx: FetchContext) -> Raw:
        base = ctx.url("url")
        api_headers = self._headers(ctx, ctx.secret("api_key"))
        management = ctx.credentials.get("management_key")
        credits_headers = self._headers(ctx, management) if management else api_headers
        tasks: list[Any] = [
            _http.get_json(ctx, base + KEY_PATH, what="key request", headers=api_headers),
            self._credits(ctx, base + CREDITS_PATH, credits_headers, management=bool(management)),
        ]
        if management:
            tasks.append(self._activity(ctx, base + ACTIVITY_PATH, self._headers(ctx, management)))
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:  # the key answer's own error first: it says most about the credential
            if isinstance(result, BaseException):
                raise result
        return {"limits": results[0], "credits": results[1], "activity": results[2] if management else None}

    @staticmethod
    def _headers(ctx: FetchContext, token: str) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if ctx.setting("http_referer"):
            headers["HTTP-Referer"] = ctx.setting("http_referer") or ""
        headers["X-Title"] = ctx.setting("x_title") or "agentgauge"
        return headers

    @staticmethod
    async def _credits(ctx: FetchContext, url: str, headers: dict[str, str], *, management: bool) -> Any:
        """The credits, or None when this key may not read them (403: a management key is needed)."""
        try:
            return await _http.get_json(ctx, url, what="credits request", headers=headers)
        except AuthError as exc:
            if exc.status_code != 403 and not management:
                raise
            ctx.log.info("openrouter: credits unavailable to this key: %s", exc.message)
            return None

    @staticmethod
    async def _activity(ctx: FetchContext, url: str, headers: dict[str, str]) -> Any:
        """Spend history: an enrichment whose failure is logged, never raised."""
        try:
            return await _http.get_json(ctx, url, what="activity request", headers=headers)
        except ProviderError as exc:
            ctx.log.info("openrouter: optional activity request failed: %s", exc.message)
            return None

    def parse(self, raw: Raw, now: datetime) -> Usage:
        if all(raw.get(k) is None for k in ("limits", "credits", "activity")):
            raise ParseError("OpenRouter: no key, credits or activity answer", field="$")
        salvage = Salvage()
        windows, balances, plan = key_parts(raw["limits"], now) if raw.get("limits") is not None else ([], [], None)
        if raw.get("credits") is not None:
            credits = salvage.keep(lambda: credits_balance(raw["credits"]))
            if credits is not None:
                balances.insert(0, credits)
        breakdowns = []
        if raw.get("activity") is not None:
            breakdowns = salvage.keep(lambda: activity_breakdowns(raw["activity"], salvage)) or []
        return Usage(
            windows=tuple(windows),
            plan=plan,
            balances=tuple(balances),
            breakdowns=tuple(breakdowns),
            warnings=salvage.warnings(),
        )


PROVIDER = OpenRouter()
