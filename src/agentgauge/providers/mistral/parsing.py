"""Pure reading of Mistral's admin billing answers (month usage with its price list, the credit wallet)
and the console's Vibe plan usage."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from functools import partial
from typing import Any

from ...errors import ParseError
from ...models import Balance, Breakdown, BreakdownItem, Window
from .._parse import Salvage, items, obj, opt_num, opt_str, opt_time

# Where models sit in the usage answer: (path, whether their units are tokens).
CATEGORIES: tuple[tuple[tuple[str, ...], bool], ...] = (
    (("completion", "models"), True),
    (("ocr", "models"), False),
    (("connectors", "models"), False),
    (("audio", "models"), False),
    (("libraries_api", "pages", "models"), False),
    (("libraries_api", "tokens", "models"), True),
    (("fine_tuning", "training"), False),
    (("fine_tuning", "storage"), False),
)
GROUPS = ("input", "output", "cached")


def _currency(root: dict[str, Any]) -> str:
    return (opt_str(root.get("currency")) or "eur").lower()


def _prices(root: dict[str, Any]) -> dict[tuple[str, str], float]:
    """``prices[]``: unit price (a decimal string, ``8.50E-8`` too) per billing metric and group."""
    out: dict[tuple[str, str], float] = {}
    for entry in items(root.get("prices")):
        metric, group = opt_str(entry.get("billing_metric")), opt_str(entry.get("billing_group"))
        try:
            price = opt_num(entry.get("price"), "prices[].price")
        except ParseError:
            continue  # one unreadable price leaves its metric at no cost, as Mistral's page shows none
        if metric and group and price is not None:
            out[(metric, group)] = price
    return out


def _node(root: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    node: Any = root
    for key in path:
        node = obj(node).get(key)
    return obj(node)


def _next_month(root: dict[str, Any]) -> datetime | None:
    """``next_month`` ("2025-12") as its first instant, when the month's spend starts over."""
    text = opt_str(root.get("next_month")) or ""
    try:
        year, month = (int(part) for part in text.split("-")[:2])
        return datetime(year, month, 1, tzinfo=UTC)
    except ValueError:
        return None


def _priced(
    index: int, row: dict[str, Any], *, group: str, where: str, model: str, prices: dict[tuple[str, str], float]
) -> tuple[str | None, str, float, float]:
    """One usage entry: its day, model name, units (``value_paid``, else ``value``) and cost."""
    units = opt_num(row.get("value_paid"), f"{where}[{index}].value_paid")
    if units is None:
        units = opt_num(row.get("value"), f"{where}[{index}].value")
    if units is None:
        raise ParseError(f"Mistral: '{where}[{index}]' has no value", field=f"{where}[{index}].value")
    metric = opt_str(row.get("billing_metric")) or ""
    cost = units * prices.get((metric, opt_str(row.get("billing_group")) or group), 0.0)
    day = (opt_str(row.get("timestamp")) or "")[:10] or None
    return day, opt_str(row.get("billing_display_name")) or model, units, cost


def usage_parts(root: Any, salvage: Salvage) -> tuple[list[Balance], list[Breakdown]]:
    """``GET /api/billing/v2/usage?month=&year=``: entries per model and group (``input``, ``output``,
    ``cached``) with ``value_paid`` (else ``value``) units, priced by ``prices[]``. Gives the month's
    spend and spend per model and day, and tokens per model."""
    if not isinstance(root, dict):
        raise ParseError("Mistral: billing usage response is not an object", field="$")
    if not any(key in root for key in ("completion", "prices", "currency", "start_date")):
        raise ParseError("Mistral: billing usage response has none of its fields", field="completion")
    prices = _prices(root)
    currency = _currency(root)
    spend_model: defaultdict[str, float] = defaultdict(float)
    spend_day: defaultdict[str, float] = defaultdict(float)
    tokens_model: defaultdict[str, float] = defaultdict(float)
    for path, counts_tokens in CATEGORIES:
        for name, model in _node(root, path).items():
            if not isinstance(model, dict):
                continue  # not a model entry (drift or an added field)
            for group in GROUPS:
                where = ".".join((*path, name, group))
                one = partial(_priced, group=group, where=where, model=name.split("::")[0], prices=prices)
                priced = salvage.each(items(model.get(group)), one)
                for day, label, units, cost in priced:
                    spend_model[label] += cost
                    if day:
                        spend_day[day] += cost
                    if counts_tokens:
                        tokens_model[label] += units
    total = round(sum(spend_model.values()), 6)
    balances = [
        Balance(
            id="spend_month",
            label="Spend this month",
            unit=currency,
            used=total,
            period="monthly",
            resets_at=_next_month(root),
        )
    ]

    def ranked(values: dict[str, float], digits: int) -> tuple[BreakdownItem, ...]:
        ordered = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
        return tuple(BreakdownItem(key=k, value=round(v, digits)) for k, v in ordered)

    breakdowns = [
        Breakdown(
            id="spend_per_model", label="Spend per model (this month)", unit=currency, items=ranked(spend_model, 6)
        ),
        Breakdown(
            id="spend_per_day",
            label="Spend per day (this month)",
            unit=currency,
            items=tuple(BreakdownItem(key=d, value=round(v, 6)) for d, v in sorted(spend_day.items())),
        ),
        Breakdown(
            id="tokens_per_model", label="Tokens per model (this month)", unit="tokens", items=ranked(tokens_model, 0)
        ),
    ]
    return balances, breakdowns


def credits_balance(root: Any) -> Balance:
    """``GET /api/billing/credits``: the wallet plus credit notes, less the usage not yet billed."""
    if not isinstance(root, dict):
        raise ParseError("Mistral: credits response is not an object", field="$")
    wallet = opt_num(root.get("wallet_amount"), "wallet_amount")
    if wallet is None:
        raise ParseError("Mistral: credits response has no 'wallet_amount'", field="wallet_amount")
    notes = opt_num(root.get("credit_notes_amount"), "credit_notes_amount") or 0.0
    ongoing = opt_num(root.get("ongoing_usage_balance"), "ongoing_usage_balance") or 0.0
    return Balance(id="credits", label="Credits", unit=_currency(root), remaining=round(wallet + notes - ongoing, 6))


def vibe_window(root: Any) -> Window:
    """``billing.vibeUsage`` (tRPC batch): the Vibe plan's percent used this month and its reset."""
    first = obj(items(root)[0]) if items(root) else obj(root)
    data = obj(obj(obj(first.get("result")).get("data")).get("json"))
    pct = opt_num(data.get("usage_percentage"), "[0].result.data.json.usage_percentage")
    if pct is None:
        raise ParseError("Mistral: Vibe usage has no 'usage_percentage'", field="[0].result.data.json.usage_percentage")
    return Window(
        id="vibe_monthly",
        label="Vibe (monthly)",
        used_pct=round(min(max(pct, 0.0), 100.0), 4),
        resets_at=opt_time(data.get("reset_at"), "[0].result.data.json.reset_at"),
    )
