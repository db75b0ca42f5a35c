"""Pure parser for T3 Chat's ``getCustomerData`` tRPC answer.

The answer is JSON lines (tRPC's streamed batch, ``trpc-accept: application/jsonl``) or one JSON
document; the customer object sits somewhere inside (``{"json": [2, 0, [[{...}]]]}``). It is the
first object holding ``usageFourHourPercentage`` or ``usageMonthPercentage`` (or a
``subscription`` with a ``usageBand``):

- ``usageFourHourPercentage`` (0-100): the rolling 4-hour base allowance, resetting at
  ``usageFourHourNextResetAt`` (else ``usageWindowNextResetAt``), epoch ms or s;
- ``usageMonthPercentage`` (else ``usagePeriodPercentage``): the monthly overage budget, resetting
  at ``subscription.currentPeriodEnd`` (``billingNextResetAt`` tracks the base window, not this);
- ``subscription.productName`` / ``subTier``: the plan; ``usageBand``: the base window's band.
"""

from __future__ import annotations

from typing import Any

import orjson

from ...errors import ParseError
from ...models import Usage, Window
from .._parse import Salvage, obj, opt_num, opt_str, opt_time

MARKERS = ("usageFourHourPercentage", "usageMonthPercentage")


def find_customer(value: Any, depth: int = 0) -> dict[str, Any] | None:
    if depth > 12:
        return None
    if isinstance(value, dict):
        if any(k in value for k in MARKERS) or ("subscription" in value and "usageBand" in value):
            return value
        children: list[Any] = list(value.values())
    elif isinstance(value, list):
        children = value
    else:
        return None
    for child in children:
        found = find_customer(child, depth + 1)
        if found is not None:
            return found
    return None


def customer_of(text: str) -> dict[str, Any]:
    """The customer object of a JSON-lines (or plain, possibly indented, JSON) body."""
    for line in [text, *text.splitlines()]:
        if not line.strip():
            continue
        try:
            decoded = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        found = find_customer(decoded)
        if found is not None:
            return found
    raise ParseError("T3 Chat: no customer data in the getCustomerData answer", field="getCustomerData")


def plan_name(customer: dict[str, Any]) -> str | None:
    raw = opt_str(obj(customer.get("subscription")).get("productName")) or opt_str(customer.get("subTier"))
    return " ".join(p[:1].upper() + p[1:] for p in raw.split("-")) if raw else None


def parse(answer: Any) -> Usage:
    """``answer`` is the body as text (JSON lines) or one decoded line."""
    if isinstance(answer, str):
        customer = customer_of(answer)
    else:
        found = find_customer(answer)
        if found is None:
            raise ParseError("T3 Chat: no customer data in the getCustomerData answer", field="getCustomerData")
        customer = found
    salvage = Salvage()
    windows: list[Window] = []
    base = salvage.keep(lambda: _base(customer))
    windows += [base] if base else []
    overage = salvage.keep(lambda: _overage(customer))
    windows += [overage] if overage else []
    return Usage(windows=tuple(windows), plan=plan_name(customer), warnings=salvage.warnings())


def _base(customer: dict[str, Any]) -> Window | None:
    pct = opt_num(customer.get("usageFourHourPercentage"), "usageFourHourPercentage")
    if pct is None:
        return None
    resets = opt_time(customer.get("usageFourHourNextResetAt"), "usageFourHourNextResetAt") or opt_time(
        customer.get("usageWindowNextResetAt"), "usageWindowNextResetAt"
    )
    band = opt_str(customer.get("usageBand"))
    label = f"Base (4h) · {band}" if band else "Base (4h)"
    return Window(id="base", label=label, used_pct=max(0.0, pct), resets_at=resets, window_seconds=14400)


def _overage(customer: dict[str, Any]) -> Window | None:
    field = "usageMonthPercentage" if customer.get("usageMonthPercentage") is not None else "usagePeriodPercentage"
    pct = opt_num(customer.get(field), field)
    if pct is None:
        return None
    resets = opt_time(obj(customer.get("subscription")).get("currentPeriodEnd"), "subscription.currentPeriodEnd")
    return Window(id="overage", label="Overage (monthly)", used_pct=max(0.0, pct), resets_at=resets)
