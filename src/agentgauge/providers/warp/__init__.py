"""Warp: the plan's credits and bonus grants from Warp's GraphQL API with an API key (``wk-...``).

``POST {url}/graphql/v2?op=GetRequestLimitInfo``. Warp's edge limiter answers HTTP 429 "Rate
exceeded." to any client whose User-Agent is not Warp's own (``Warp/1.0``), so that is what is sent.
``requestLimitInfo`` counts credits despite its "request" names: ``requestLimit`` credits per cycle,
``requestsUsedSinceLastRefresh`` used, ``nextRefreshTime`` (ISO) the reset; ``isUnlimited`` plans
show as unlimited, never as 0 %. Bonus grants (the user's and each workspace's) are balances.
"""

from __future__ import annotations

import platform
from datetime import datetime
from typing import Any

from ...errors import AuthError, ParseError, ProviderError, RateLimitedError, UpstreamError
from ...models import Balance, Usage, Window
from .. import _http
from .._base import AuthSource, FetchContext, Provider, Raw, Sample, Setting, WindowSpec
from .._parse import Salvage, items, obj, opt_num, opt_str, opt_time

DEFAULT_URL = "https://app.warp.dev"
GRAPHQL_PATH = "/graphql/v2"
OPERATION = "GetRequestLimitInfo"
USER_AGENT = "Warp/1.0"  # anything else is refused by Warp's edge with HTTP 429
CLIENT_ID = "warp-app"
HINT = "Set AGENTGAUGE_WARP_API_KEY (or WARP_API_KEY) to a key from Warp: Settings > Platform > API Keys."
# The fields Warp's own client selects; "request" in their names means credits.
QUERY = """query GetRequestLimitInfo($requestContext: RequestContext!) {
  user(requestContext: $requestContext) {
    __typename
    ... on UserOutput {
      user {
        requestLimitInfo { isUnlimited nextRefreshTime requestLimit requestsUsedSinceLastRefresh }
        bonusGrants { requestCreditsGranted requestCreditsRemaining expiration }
        workspaces { bonusGrantsInfo { grants { requestCreditsGranted requestCreditsRemaining expiration } } }
      }
    }
  }
}"""
AUTH_WORDS = ("unauthorized", "unauthenticated", "not authenticated", "invalid api key", "invalid token", "forbidden")


def os_context() -> dict[str, str]:
    """This machine's OS as Warp's client reports it (``category``, ``name``, ``version``)."""
    system = platform.system()
    name = {"Darwin": "macOS"}.get(system, system or "Unknown")
    version = (platform.mac_ver()[0] if system == "Darwin" else platform.release()) or "0"
    return {"category": name, "name": name, "version": version}


def truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return value is True or (isinstance(value, int | float) and not isinstance(value, bool) and value == 1)


def graphql_error(errors: list[Any]) -> ProviderError:
    messages = [opt_str(e) or opt_str(obj(e).get("message")) for e in errors]
    text = " | ".join(m for m in messages[:3] if m)[:300] or "GraphQL request failed"
    lowered = text.lower()
    if any(word in lowered for word in AUTH_WORDS):
        return AuthError(f"Warp rejected the API key: {text}", hint=HINT)
    if "rate" in lowered and ("limit" in lowered or "exceed" in lowered):
        return RateLimitedError(f"Warp rate limited the request: {text}")
    return UpstreamError(f"Warp GraphQL error: {text}")


def credits_window(info: dict[str, Any], where: str) -> Window | None:
    """``requestLimitInfo`` as the monthly credits window; None when the plan states no limit."""
    used = opt_num(info.get("requestsUsedSinceLastRefresh"), f"{where}.requestsUsedSinceLastRefresh")
    if truthy(info.get("isUnlimited")):
        return Window(id="monthly", label="Monthly credits", used_pct=0.0, used=used, unit="credits", unlimited=True)
    limit = opt_num(info.get("requestLimit"), f"{where}.requestLimit")
    if limit is None or limit <= 0:
        return None
    if used is None:
        raise ParseError(
            f"Warp: {where} has no requestsUsedSinceLastRefresh", field=f"{where}.requestsUsedSinceLastRefresh"
        )
    return Window(
        id="monthly",
        label="Monthly credits",
        used_pct=round(used / limit * 100.0, 4),
        resets_at=opt_time(info.get("nextRefreshTime"), f"{where}.nextRefreshTime"),
        used=used,
        limit=limit,
        unit="credits",
    )


def bonus_balance(grants: list[dict[str, Any]], where: str, bid: str, label: str, salvage: Salvage) -> Balance | None:
    """Bonus grants summed: granted and left, expiring first when the earliest grant with credits left does."""

    def grant(index: int, entry: dict[str, Any]) -> tuple[float, float, datetime | None]:
        at = f"{where}[{index}]"
        granted = opt_num(entry.get("requestCreditsGranted"), f"{at}.requestCreditsGranted")
        left = opt_num(entry.get("requestCreditsRemaining"), f"{at}.requestCreditsRemaining")
        if granted is None and left is None:
            raise ParseError(f"Warp: bonus grant {at} has no credit figures", field=f"{at}.requestCreditsGranted")
        return granted or 0.0, left or 0.0, opt_time(entry.get("expiration"), f"{at}.expiration")

    parsed = salvage.each(grants, grant)
    if not parsed:
        return None
    granted = sum(g for g, _, _ in parsed)
    left = sum(r for _, r, _ in parsed)
    expiring = [when for _, r, when in parsed if r > 0 and when is not None]
    return Balance(
        id=bid,
        label=label,
        unit="credits",
        remaining=left,
        used=max(granted - left, 0.0),
        limit=granted,
        expires_at=min(expiring) if expiring else None,
    )


class Warp(Provider):
    id = "warp"
    name = "Warp"
    docs_url = "https://app.warp.dev/settings/billing"
    status_page = "https://status.warp.dev"
    settings = (
        Setting(
            "api_key",
            "Warp API key (wk-...): Settings > Platform > API Keys.",
            secret=True,
            env=("WARP_API_KEY", "WARP_TOKEN"),
        ),
        Setting("url", "Base URL of Warp's server.", default=DEFAULT_URL),
    )
    auth = (
        AuthSource(
            id="api_key",
            source="api_key",
            label="API key",
            requires=("api_key",),
            hint=HINT,
            discovered_source="api_key",
        ),
    )
    windows = (WindowSpec("monthly", "Monthly credits", None, "credits"),)
    urls = {"url": DEFAULT_URL}
    min_interval = 60.0
    samples = (Sample("graphql-*.json", "usage"),)
    sim_credentials = {"api_key": "wk-sim-warp-key"}
    demo_accounts = ("unlimited",)

    async def fetch(self, ctx: FetchContext) -> Raw:
        system = os_context()
        headers = {
            "Authorization": f"Bearer {ctx.secret('api_key')}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "x-warp-client-id": CLIENT_ID,
            "x-warp-os-category": system["category"],
            "x-warp-os-name": system["name"],
            "x-warp-os-version": system["version"],
        }
        body = {
            "query": QUERY,
            "variables": {"requestContext": {"clientContext": {}, "osContext": system}},
            "operationName": OPERATION,
        }
        url = f"{ctx.url('url')}{GRAPHQL_PATH}?op={OPERATION}"
        return {"usage": await _http.post_json(ctx, url, what="credits request", headers=headers, json=body)}

    def parse(self, raw: Raw, now: datetime) -> Usage:
        root = raw.get("usage")
        if not isinstance(root, dict):
            raise ParseError("Warp: response is not an object", field="$")
        errors = root.get("errors")
        if isinstance(errors, list) and errors:
            raise graphql_error(errors)
        user = obj(obj(root.get("data")).get("user"))
        if not user:
            raise ParseError("Warp: response has no data.user", field="data.user")
        typename = opt_str(user.get("__typename"))
        inner = user.get("user")
        if not isinstance(inner, dict):
            if typename == "AuthError":
                raise AuthError("Warp rejected the API key (AuthError)", hint=HINT)
            raise ParseError(f"Warp: unexpected user type '{typename or '?'}'", field="data.user.user")
        salvage = Salvage()
        where = "data.user.user.requestLimitInfo"
        info = inner.get("requestLimitInfo")
        window = salvage.keep(lambda: credits_window(info, where)) if isinstance(info, dict) else None
        if not isinstance(info, dict):
            salvage.problems.append(ParseError(f"Warp: response has no {where}", field=where))
        balances = [
            bonus_balance(items(inner.get("bonusGrants")), "bonusGrants", "bonus", "Bonus credits", salvage),
            bonus_balance(
                [g for w in items(inner.get("workspaces")) for g in items(obj(w.get("bonusGrantsInfo")).get("grants"))],
                "workspaces.bonusGrantsInfo.grants",
                "workspace_bonus",
                "Workspace bonus credits",
                salvage,
            ),
        ]
        return Usage(
            windows=(window,) if window is not None else (),
            balances=tuple(b for b in balances if b is not None),
            warnings=salvage.warnings(),
        )


PROVIDER = Warp()
