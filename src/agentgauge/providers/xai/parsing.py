"""Pure reading of the xAI answers: the prepaid ledger, the daily spend series and an API key's info."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from ...errors import AuthError, ParseError
from ...models import Balance, Breakdown, BreakdownItem, ErrorInfo, ErrorKind
from .._parse import Salvage, items, obj, opt_num, opt_str, opt_time

KEY_HINT = "Create a new key at https://console.x.ai (API Keys), or enable this one, then refresh."


def prepaid_balance(root: Any) -> Balance:
    """``prepaid/balance``: the ledger total in US cents, as a string, with the sign inverted (a $10
    top-up is ``"-1000"``), so the money left is its negation. Without a total there is no balance:
    never shown as $0."""
    if not isinstance(root, dict):
        raise ParseError("xAI: prepaid balance response is not an object", field="$")
    cents = opt_num(obj(root.get("total")).get("val"), "total.val")
    if cents is None:
        raise ParseError("xAI: prepaid balance has no 'total.val'", field="total.val")
    return Balance(id="prepaid", label="Prepaid credits", unit="usd", remaining=round(-cents / 100.0, 2))


def spend_parts(root: Any, now: datetime, salvage: Salvage) -> tuple[list[Balance], list[Breakdown], ErrorInfo | None]:
    """``usage`` (USD summed per day, 30 days): spend today and in 30 days, spend per day. xAI says
    ``limitReached`` when its analytics cap cut the series: the figures are then partial."""
    if not isinstance(root, dict) or not isinstance(root.get("timeSeries"), list):
        raise ParseError("xAI: usage response has no 'timeSeries' list", field="timeSeries")
    per_day: defaultdict[str, float] = defaultdict(float)
    for s_index, series in enumerate(items(root["timeSeries"])):

        def point(index: int, entry: dict[str, Any], s_index: int = s_index) -> tuple[str, float]:
            where = f"timeSeries[{s_index}].dataPoints[{index}]"
            when = opt_time(entry.get("timestamp"), f"{where}.timestamp")
            values = entry.get("values")
            value = opt_num(values[0], f"{where}.values[0]") if isinstance(values, list) and values else None
            if when is None or value is None or value < 0:
                raise ParseError(f"xAI: usage point '{where}' has no time or amount", field=f"{where}.values")
            return when.date().isoformat(), value

        for day, value in salvage.each(items(series.get("dataPoints")), point):
            per_day[day] += value
    today = now.date().isoformat()
    partial = root.get("limitReached") is True
    suffix = " (partial)" if partial else ""
    balances = [
        Balance(
            id="spend_today", label="Spend today", unit="usd", used=round(per_day.get(today, 0.0), 6), period="daily"
        ),
        Balance(id="spend_30d", label=f"Spend (30 days){suffix}", unit="usd", used=round(sum(per_day.values()), 6)),
    ]
    days = tuple(BreakdownItem(key=d, value=round(v, 6)) for d, v in sorted(per_day.items()))
    breakdowns = [Breakdown(id="spend_per_day", label=f"Spend per day (30 days){suffix}", unit="usd", items=days)]
    warning = None
    if partial:
        warning = ErrorInfo(
            kind=ErrorKind.UPSTREAM,
            message="xAI: the spend history hit xAI's analytics limit (limitReached): the 30-day figures are partial",
            hint="Nothing to do; the balance is exact.",
        )
    return balances, breakdowns, warning


def key_info(root: Any) -> dict[str, Any]:
    """``GET /v1/api-key``: the key's team and whether it (or its team) is blocked or disabled."""
    if not isinstance(root, dict):
        raise ParseError("xAI: API key info is not an object", field="$")
    return root


def key_refusal(info: dict[str, Any]) -> AuthError | None:
    """A blocked or disabled key (or team) cannot be used: said as the auth problem it is."""
    for field, what in (
        ("team_blocked", "the key's team is blocked"),
        ("api_key_blocked", "this API key is blocked"),
        ("api_key_disabled", "this API key is disabled"),
    ):
        if info.get(field) is True:
            return AuthError(f"xAI: {what} ({field})", hint=KEY_HINT)
    return None


def key_note(info: dict[str, Any]) -> str:
    team = opt_str(info.get("team_id"))
    name = opt_str(info.get("name"))
    where = f" of team {team}" if team else ""
    label = f" '{name}'" if name else ""
    return (
        f"The API key{label}{where} is active. xAI shows credits and spend only to a management key "
        "(set AGENTGAUGE_XAI_MANAGEMENT_KEY or XAI_MANAGEMENT_API_KEY)."
    )
