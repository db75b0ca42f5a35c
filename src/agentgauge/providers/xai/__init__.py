"""xAI API (console.x.ai): the team's prepaid credits and daily spend from xAI's Management API.

With a management key (console.x.ai > Settings > Management Keys) and the team id:
``GET {management_url}/v1/billing/teams/{team}/prepaid/balance`` (the ledger total in cents, sign
inverted: see ``parsing``) and ``POST .../usage`` with a 30-day, per-day USD analytics query
(an enrichment: its failure is a warning). Inference keys (``XAI_API_KEY``) cannot read billing;
with one, ``GET {url}/api-key`` tells its team (so the team id need not be set) and whether it is
blocked or disabled. Prepaid money is a balance and spend is spend: xAI states no quota window here.
Consumer Grok / SuperGrok subscriptions are the ``grok`` provider.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote

from ...errors import AuthError, ParseError, ProviderConfigError, ProviderError
from ...models import ErrorInfo, ErrorKind, Usage
from .. import _capture, _http, _time
from .._base import AuthSource, FetchContext, Provider, Raw, Sample, Setting, WindowSpec
from .._parse import Salvage, obj, opt_str
from . import parsing

DEFAULT_URL = "https://api.x.ai/v1"
MANAGEMENT_URL = "https://management-api.x.ai"
API_KEY_PATH = "/api-key"
BILLING_PATH = "/v1/billing/teams/{team}"
HISTORY_DAYS = 30
HINT_MANAGEMENT = (
    "Set AGENTGAUGE_XAI_MANAGEMENT_KEY (or XAI_MANAGEMENT_API_KEY) to a management key from console.x.ai > "
    "Settings > Management Keys, and AGENTGAUGE_XAI_TEAM_ID (or XAI_TEAM_ID), then refresh."
)
HINT_KEY = "Set AGENTGAUGE_XAI_API_KEY (or XAI_API_KEY) to an API key from console.x.ai, then refresh."


def _bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {_capture.bare_token(value)}", "Accept": "application/json"}


def team_path(team: str) -> str:
    """The team's billing path; a team id is one path segment, never a way out of it."""
    team = team.strip().strip("\"'").strip()
    if not team or "/" in team or team in (".", ".."):
        raise ProviderConfigError(
            "xAI: the team id must be one identifier (no '/')", hint="Copy it from console.x.ai/team/<team id>/..."
        )
    return BILLING_PATH.format(team=quote(team, safe=""))


def usage_query(now: datetime) -> dict[str, Any]:
    """The 30-day per-day USD sum xAI's console asks for (UTC, ``Etc/GMT``)."""
    start = _time.day_start(now - timedelta(days=HISTORY_DAYS - 1))
    stamp = "%Y-%m-%d %H:%M:%S"
    return {
        "analyticsRequest": {
            "timeRange": {
                "startTime": start.strftime(stamp),
                "endTime": now.astimezone(UTC).strftime(stamp),
                "timezone": "Etc/GMT",
            },
            "timeUnit": "TIME_UNIT_DAY",
            "values": [{"name": "usd", "aggregation": "AGGREGATION_SUM"}],
            "groupBy": [],
            "filters": [],
        }
    }


class XAI(Provider):
    id = "xai"
    name = "xAI API"
    docs_url = "https://console.x.ai"
    settings = (
        Setting(
            "management_key",
            "xAI management key (console.x.ai > Settings > Management Keys): reads the team's credits and spend.",
            secret=True,
            env=("XAI_MANAGEMENT_API_KEY",),
        ),
        Setting(
            "team_id", "The xAI team id (in the console's URL); found from api_key when unset.", env=("XAI_TEAM_ID",)
        ),
        Setting(
            "api_key",
            "xAI inference API key (xai-...): tells the team id and whether the key works; no billing.",
            secret=True,
            env=("XAI_API_KEY",),
        ),
        Setting("url", "Base URL of the xAI inference API.", default=DEFAULT_URL),
        Setting("management_url", "Base URL of the xAI Management API.", default=MANAGEMENT_URL),
    )
    auth = (
        AuthSource(
            id="management",
            source="api_key",
            label="xAI management key",
            requires=("management_key",),
            optional=("api_key",),
            hint=HINT_MANAGEMENT,
            discovered_source="api_key",
        ),
        AuthSource(
            id="api_key",
            source="api_key",
            label="xAI API key",
            requires=("api_key",),
            hint=HINT_KEY,
            discovered_source="api_key",
        ),
    )
    # Declared for the contract; prepaid credits and spend are balances, never a window.
    windows = (WindowSpec("credits", "Prepaid credits", None, "usd"),)
    urls: ClassVar[Mapping[str, str]] = {"url": DEFAULT_URL, "management_url": MANAGEMENT_URL}
    min_interval = 120.0
    redact_keys = frozenset({"user_id", "modified_by", "redacted_api_key", "api_key_id"})
    samples = (
        Sample("prepaid-balance-*.json", "balance", {"usage": None, "key": None}),
        Sample("usage-timeseries-*.json", "usage", {"balance": {"total": {"val": "-1000"}}, "key": None}),
        Sample("api-key-*.json", "key", {"balance": None, "usage": None}),
    )
    sim_credentials: ClassVar[Mapping[str, str]] = {
        "management_key": "sim-xai-management-key",
        "api_key": "sim-xai-api-key",
    }

    async def fetch(self, ctx: FetchContext) -> Raw:
        if ctx.credentials.auth.id == "api_key":
            return {"balance": None, "usage": None, "key": await self._key_info(ctx)}
        key: Any = None
        team = ctx.setting("team_id")
        if not team:
            if not ctx.credentials.get("api_key"):
                raise ProviderConfigError(
                    "xAI: no team id: set team_id, or an API key to find it", hint=HINT_MANAGEMENT
                )
            key = await self._key_info(ctx)
            team = opt_str(obj(key).get("team_id"))
            if not team:
                raise ParseError("xAI: the API key info names no team", field="team_id")
        root = ctx.url("management_url") + team_path(team)
        headers = _bearer(ctx.secret("management_key"))
        results: tuple[Any, Any] = await asyncio.gather(
            self._balance(ctx, root, headers),
            _http.post_json(
                ctx,
                root + "/usage",
                what="usage request",
                headers=headers | {"Content-Type": "application/json"},
                json=usage_query(ctx.now()),
            ),
            return_exceptions=True,
        )
        balance, usage = results
        if isinstance(balance, BaseException):
            raise balance
        raw: Raw = {"balance": balance, "usage": None, "key": key}
        if isinstance(usage, AuthError):
            raise usage  # the same key as the balance: a refusal here is not an enrichment failing
        if isinstance(usage, ProviderError):
            ctx.log.info("xai: optional usage request failed: %s", usage.message)
            raw["usage_error"] = {
                "kind": usage.kind.value,
                "message": f"xAI: the spend history is unavailable: {usage.message}",
            }
        elif isinstance(usage, BaseException):
            raise usage
        else:
            raw["usage"] = usage
        return raw

    @staticmethod
    async def _balance(ctx: FetchContext, root: str, headers: dict[str, str]) -> Any:
        response = await _http.send(
            ctx,
            "GET",
            root + "/prepaid/balance",
            what="prepaid balance request",
            headers=headers,
            ok_statuses=(200, 404),
        )
        if response.status_code == 404:
            raise ProviderConfigError(
                "xAI: the Management API knows no such team for this key (HTTP 404)",
                hint="Check the team id, and that the management key belongs to that team.",
            )
        return _http.decode_json(ctx, response, what="prepaid balance request")

    @staticmethod
    async def _key_info(ctx: FetchContext) -> Any:
        """``GET {url}/api-key``; xAI answers an unknown key with HTTP 400 (or 401)."""
        url = ctx.url("url") + API_KEY_PATH
        response = await _http.send(
            ctx, "GET", url, what="API key request", headers=_bearer(ctx.secret("api_key")), ok_statuses=(200, 400, 401)
        )
        if response.status_code in (400, 401):
            raise AuthError(
                f"xAI: the API key was rejected (HTTP {response.status_code})",
                hint=HINT_KEY,
                status_code=response.status_code,
            )
        return _http.decode_json(ctx, response, what="API key request")

    def parse(self, raw: Raw, now: datetime) -> Usage:
        info = parsing.key_info(raw["key"]) if raw.get("key") is not None else None
        if raw.get("balance") is None:
            if info is None:
                raise ParseError("xAI: no balance or key answer", field="$")
            refusal = parsing.key_refusal(info)
            if refusal is not None:
                raise refusal
            return Usage(note=parsing.key_note(info))
        salvage = Salvage()
        balances = [parsing.prepaid_balance(raw["balance"])]
        breakdowns: list[Any] = []
        warnings: list[ErrorInfo] = []
        if raw.get("usage") is not None:
            try:
                spend, breakdowns, partial = parsing.spend_parts(raw["usage"], now, salvage)
            except ProviderError as exc:
                warnings.append(exc.info())
            else:
                balances += spend
                warnings += [partial] if partial else []
        said = opt_str(obj(raw.get("usage_error")).get("message"))
        if said:
            warnings.append(ErrorInfo(kind=ErrorKind.UPSTREAM, message=said, hint="Retried on the next refresh."))
        refusal = parsing.key_refusal(info) if info is not None else None
        if refusal is not None:  # the management key works; the API key that named the team does not
            warnings.append(refusal.info())
        return Usage(balances=tuple(balances), breakdowns=tuple(breakdowns), warnings=(*salvage.warnings(), *warnings))


PROVIDER = XAI()
