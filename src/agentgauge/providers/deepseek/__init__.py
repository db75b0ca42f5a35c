"""DeepSeek: the account balance and, with a Platform session, this month's usage and cost.

With an API key: ``GET {url}/user/balance`` (DeepSeek's documented API) answers ``is_available``
and ``balance_infos[]`` (total, granted and topped-up balance per currency, as strings). With the
DeepSeek Platform's own session token (``userToken`` in platform.deepseek.com's localStorage):
``GET {platform_url}/api/v0/users/get_user_summary`` for the balance, and
``GET {platform_url}/api/v0/usage/amount`` and ``.../usage/cost`` (``?month=&year=``, the current
UTC month) for tokens and cost per model and day. Those dashboard endpoints are not a public API;
an API key cannot read them. Balances are balances: DeepSeek states no quota window.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

import orjson

from ...errors import ParseError, ProviderError
from ...models import ErrorInfo, Usage
from .. import _capture, _http
from .._base import (
    AuthSource,
    BrowserLogin,
    FetchContext,
    Provider,
    Raw,
    Sample,
    Setting,
    StorageRule,
    WindowSpec,
)
from .._parse import Salvage, obj, opt_str
from . import parsing

DEFAULT_URL = "https://api.deepseek.com"
PLATFORM_URL = "https://platform.deepseek.com"
BALANCE_PATH = "/user/balance"
SUMMARY_PATH = "/api/v0/users/get_user_summary"
AMOUNT_PATH = "/api/v0/usage/amount"
COST_PATH = "/api/v0/usage/cost"
HINT = (
    "Set AGENTGAUGE_DEEPSEEK_API_KEY (or DEEPSEEK_API_KEY) to a key from platform.deepseek.com/api_keys, then refresh."
)


def clean_token(value: str) -> str:
    """The Platform token as pasted or as localStorage keeps it (``{"value": "...", "__version": "0"}``)."""
    text = _capture.unquote(value)
    if text.startswith("{"):
        try:
            root = obj(orjson.loads(text))
        except orjson.JSONDecodeError:
            return text
        for key in ("value", "token", "userToken", "access_token"):
            found = opt_str(root.get(key))
            if found:
                return found
    return _capture.bare_token(text)


def month_query(now: datetime) -> str:
    return urlencode({"month": now.month, "year": now.year})


class DeepSeek(Provider):
    id = "deepseek"
    name = "DeepSeek"
    docs_url = "https://platform.deepseek.com/usage"
    settings = (
        Setting("api_key", "DeepSeek API key (sk-...).", secret=True, env=("DEEPSEEK_API_KEY", "DEEPSEEK_KEY")),
        Setting("url", "Base URL of the DeepSeek API.", default=DEFAULT_URL),
        Setting(
            "platform_token",
            "The DeepSeek Platform's session token (localStorage 'userToken' of platform.deepseek.com): adds "
            "this month's tokens and cost, or gives the balance without an API key.",
            secret=True,
            env=("DEEPSEEK_PLATFORM_TOKEN", "DEEPSEEK_USER_TOKEN"),
        ),
        Setting("platform_url", "Base URL of the DeepSeek Platform (its dashboard API).", default=PLATFORM_URL),
    )
    auth = (
        AuthSource(
            id="api_key",
            source="api_key",
            label="API key",
            requires=("api_key",),
            optional=("platform_token",),
            hint=HINT,
            discovered_source="api_key",
        ),
        AuthSource(
            id="platform",
            source="cookie",
            label="DeepSeek Platform login",
            requires=("platform_token",),
            hint=parsing.PLATFORM_HINT,
            browser=BrowserLogin(
                "platform.deepseek.com", storage=(StorageRule("platform_token", (PLATFORM_URL,), ("userToken",)),)
            ),
            discovered_source="browser",
        ),
    )
    # Declared for the contract; DeepSeek states no limit with a period, so nothing is a window.
    windows = (WindowSpec("balance", "Balance", None, None),)
    urls: ClassVar[Mapping[str, str]] = {"url": DEFAULT_URL, "platform_url": PLATFORM_URL}
    min_interval = 60.0
    samples = (
        Sample("user-balance*.json", "balance", {"summary": None, "amount": None, "cost": None}),
        Sample("platform-user-summary*.json", "summary", {"balance": None, "amount": None, "cost": None}),
        Sample("usage-amount*.json", "amount", {"balance": {"balance_infos": []}, "summary": None, "cost": None}),
        Sample("usage-cost*.json", "cost", {"balance": {"balance_infos": []}, "summary": None, "amount": None}),
    )
    sim_credentials: ClassVar[Mapping[str, str]] = {
        "api_key": "sim-deepseek-key",
        "platform_token": "sim-deepseek-user-token",
    }

    async def fetch(self, ctx: FetchContext) -> Raw:
        token = ctx.credentials.get("platform_token")
        token = clean_token(token) if token else None
        platform = ctx.url("platform_url")
        platform_headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"} if token else {}
        query = month_query(ctx.now())
        usage: list[Any] = []
        if token:
            usage = [
                _http.get_json(
                    ctx, f"{platform}{AMOUNT_PATH}?{query}", what="usage amount request", headers=platform_headers
                ),
                _http.get_json(
                    ctx, f"{platform}{COST_PATH}?{query}", what="usage cost request", headers=platform_headers
                ),
            ]
        if ctx.credentials.auth.id == "api_key":
            key = ctx.secret("api_key").strip()
            headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
            first = _http.get_json(ctx, ctx.url("url") + BALANCE_PATH, what="balance request", headers=headers)
        else:
            first = _http.get_json(ctx, platform + SUMMARY_PATH, what="user summary request", headers=platform_headers)
        results = await asyncio.gather(first, *usage, return_exceptions=True)
        if isinstance(results[0], BaseException):
            raise results[0]  # the balance is required; the usage is an enrichment
        raw: Raw = {"balance": None, "summary": None, "amount": None, "cost": None}
        raw["balance" if ctx.credentials.auth.id == "api_key" else "summary"] = results[0]
        problems = [r for r in results[1:] if isinstance(r, BaseException)]
        if problems:
            problem = problems[0]
            if not isinstance(problem, ProviderError):
                raise problem
            ctx.log.info("deepseek: optional usage request failed: %s", problem.message)
            raw["usage_error"] = {
                "kind": problem.kind.value,
                "message": f"DeepSeek: this month's usage is unavailable: {problem.message}",
                "hint": problem.hint,
            }
        elif usage:
            raw["amount"], raw["cost"] = results[1], results[2]
        return raw

    def parse(self, raw: Raw, now: datetime) -> Usage:
        salvage = Salvage()
        note = None
        if raw.get("balance") is not None:
            balances, note = parsing.api_balance(raw["balance"], salvage)
        elif raw.get("summary") is not None:
            balances = parsing.platform_balance(raw["summary"], salvage)
        else:
            raise ParseError("DeepSeek: no balance answer", field="$")
        breakdowns: list[Any] = []
        optional: list[ErrorInfo] = []
        if raw.get("amount") is not None or raw.get("cost") is not None:
            try:
                spend, breakdowns = parsing.usage_parts(raw.get("amount"), raw.get("cost"), now, salvage)
            except ProviderError as exc:  # an expired session or drift in the enrichment: the balance stands
                optional.append(exc.info())
            else:
                balances += spend
        warnings = [*salvage.warnings(), *optional]
        problem = parsing.usage_warning(raw.get("usage_error"))
        if problem is not None:
            warnings.append(problem)
        return Usage(balances=tuple(balances), breakdowns=tuple(breakdowns), warnings=tuple(warnings), note=note)


PROVIDER = DeepSeek()
