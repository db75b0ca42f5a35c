"""Pure reading of DeepSeek's balance answers (public API and Platform session) and the Platform's
monthly usage answers (token amounts and cost per model and day)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from ...errors import AuthError, ParseError, UpstreamError
from ...models import Balance, Breakdown, BreakdownItem, ErrorInfo, ErrorKind
from .._parse import Salvage, items, obj, opt_num, opt_str

# Platform envelope codes for a missing or expired session (top-level ``code`` or ``data.biz_code``).
AUTH_CODES = (40002, 40003)
TOKEN_KINDS = {
    "PROMPT_CACHE_HIT_TOKEN": "Input (cache hit)",
    "PROMPT_CACHE_MISS_TOKEN": "Input (cache miss)",
    "RESPONSE_TOKEN": "Output",
}
REQUEST_KIND = "REQUEST"
PLATFORM_HINT = (
    "Log in to platform.deepseek.com again (agentgauge reads its userToken from the browser), or set "
    "AGENTGAUGE_DEEPSEEK_PLATFORM_TOKEN, then refresh."
)


def _currency(value: Any) -> str:
    return (opt_str(value) or "usd").lower()


def _order(currencies: dict[str, float]) -> list[str]:
    """Currencies in display order: a funded USD first, then any funded one, then USD, then the rest
    (DeepSeek may answer an empty USD row beside a funded CNY one)."""

    def rank(cur: str) -> tuple[int, str]:
        funded = currencies[cur] > 0
        return (0 if funded and cur == "usd" else 1 if funded else 2 if cur == "usd" else 3, cur)

    return sorted(currencies, key=rank)


def _money_balances(totals: dict[str, tuple[float, float | None, float | None]]) -> list[Balance]:
    """Per currency: the total, then what was paid (topped up) and granted. The first currency's ids are
    plain (``total``), the others carry their code (``total_cny``)."""
    out: list[Balance] = []
    for index, cur in enumerate(_order({c: t[0] for c, t in totals.items()})):
        total, paid, granted = totals[cur]
        suffix, code = ("" if index == 0 else f"_{cur}"), cur.upper()
        out.append(Balance(id=f"total{suffix}", label=f"Balance ({code})", unit=cur, remaining=total))
        if paid is not None:
            out.append(Balance(id=f"topped_up{suffix}", label=f"Paid ({code})", unit=cur, remaining=paid))
        if granted is not None:
            out.append(Balance(id=f"granted{suffix}", label=f"Granted ({code})", unit=cur, remaining=granted))
    return out


def api_balance(root: Any, salvage: Salvage) -> tuple[list[Balance], str | None]:
    """``GET /user/balance``: ``is_available`` and ``balance_infos[]`` with amounts as strings."""
    if not isinstance(root, dict):
        raise ParseError("DeepSeek: balance response is not an object", field="$")
    if "balance_infos" not in root and root.get("error") is not None:
        error = obj(root.get("error"))
        message = (opt_str(error.get("message")) or opt_str(root.get("error")) or "request failed")[:200]
        raise UpstreamError(f"DeepSeek: balance request failed: {message}")
    infos = root.get("balance_infos")
    if not isinstance(infos, list):
        raise ParseError("DeepSeek: balance response has no 'balance_infos' list", field="balance_infos")

    def info(index: int, entry: dict[str, Any]) -> tuple[str, tuple[float, float | None, float | None]]:
        where = f"balance_infos[{index}]"
        total = opt_num(entry.get("total_balance"), f"{where}.total_balance")
        if total is None:
            raise ParseError(f"DeepSeek: '{where}.total_balance' is missing", field=f"{where}.total_balance")
        paid = opt_num(entry.get("topped_up_balance"), f"{where}.topped_up_balance")
        granted = opt_num(entry.get("granted_balance"), f"{where}.granted_balance")
        return _currency(entry.get("currency")), (total, paid, granted)

    totals = dict(salvage.each(items(infos), info))
    balances = _money_balances(totals)
    note = None
    if root.get("is_available") is False:
        note = "DeepSeek reports the balance as not available for API calls (is_available: false)."
    elif not infos:
        note = "DeepSeek reports no balance on this account yet."
    return balances, note


def check_envelope(root: Any, what: str) -> dict[str, Any]:
    """A Platform answer's ``{code, msg, data: {biz_code, biz_msg, biz_data}}``: the session codes are
    auth errors, any other non-zero code an upstream error; returns ``data``."""
    if not isinstance(root, dict):
        raise ParseError(f"DeepSeek: {what} response is not an object", field="$")
    for code_key, msg_key, scope, where in (
        ("code", "msg", root, ""),
        ("biz_code", "biz_msg", obj(root.get("data")), "data."),
    ):
        try:
            code = opt_num(scope.get(code_key), where + code_key)
        except ParseError:
            code = None  # a word instead of a number: the data decides
        if code is None or code == 0:
            continue
        message = (opt_str(scope.get(msg_key)) or "no message")[:200]
        if int(code) in AUTH_CODES:
            raise AuthError(f"DeepSeek: the Platform session is missing or expired ({int(code)})", hint=PLATFORM_HINT)
        raise UpstreamError(f"DeepSeek: {what} request failed ({int(code)}): {message}")
    data = root.get("data")
    if not isinstance(data, dict):
        raise ParseError(f"DeepSeek: {what} response has no 'data' object", field="data")
    return data


def platform_balance(root: Any, salvage: Salvage) -> list[Balance]:
    """``GET /api/v0/users/get_user_summary``: paid (``normal_wallets``) and granted (``bonus_wallets``)
    money per currency; the total is their sum."""
    biz = check_envelope(root, "user summary").get("biz_data")
    if not isinstance(biz, dict):
        raise ParseError("DeepSeek: user summary has no 'data.biz_data' object", field="data.biz_data")
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for slot, key in ((0, "normal_wallets"), (1, "bonus_wallets")):

        def wallet(index: int, entry: dict[str, Any], key: str = key) -> tuple[str, float]:
            where = f"data.biz_data.{key}[{index}].balance"
            amount = opt_num(entry.get("balance"), where)
            if amount is None:
                raise ParseError(f"DeepSeek: '{where}' is missing", field=where)
            return _currency(entry.get("currency")), amount

        for cur, amount in salvage.each(items(biz.get(key)), wallet):
            sums[cur][slot] += amount
    return _money_balances({cur: (round(p + g, 6), round(p, 6), round(g, 6)) for cur, (p, g) in sums.items()})


def _kinds(entry: dict[str, Any], where: str) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for index, item in enumerate(items(entry.get("usage"))):
        kind = (opt_str(item.get("type")) or "").upper()
        value = opt_num(item.get("amount"), f"{where}.usage[{index}].amount")
        if kind and value is not None:
            out[kind] += value
    return out


def _per_model(rows: Any, where: str, salvage: Salvage) -> dict[str, dict[str, float]]:
    def row(index: int, entry: dict[str, Any]) -> tuple[str, dict[str, float]]:
        return opt_str(entry.get("model")) or "unknown", _kinds(entry, f"{where}[{index}]")

    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for model, kinds in salvage.each(items(rows), row):
        for kind, value in kinds.items():
            out[model][kind] += value
    return out


def _per_day(days: Any, where: str, salvage: Salvage) -> dict[str, dict[str, float]]:
    def day(index: int, entry: dict[str, Any]) -> tuple[str, dict[str, float]]:
        date = opt_str(entry.get("date"))
        if date is None:
            raise ParseError(f"DeepSeek: '{where}[{index}].date' is missing", field=f"{where}[{index}].date")
        totals: dict[str, float] = defaultdict(float)
        for kinds in _per_model(entry.get("data"), f"{where}[{index}].data", salvage).values():
            for kind, value in kinds.items():
                totals[kind] += value
        return date[:10], totals

    return dict(salvage.each(items(days), day))


def _tokens(kinds: dict[str, float]) -> float:
    return sum(v for k, v in kinds.items() if k in TOKEN_KINDS)


def _money(kinds: dict[str, float]) -> float:
    return sum(v for k, v in kinds.items() if k != REQUEST_KIND)


def _items(values: dict[str, float], *, by_value: bool) -> tuple[BreakdownItem, ...]:
    ordered = sorted(values.items(), key=lambda kv: (-kv[1], kv[0])) if by_value else sorted(values.items())
    return tuple(BreakdownItem(key=k, value=round(v, 6)) for k, v in ordered)


def usage_parts(amount: Any, cost: Any, now: datetime, salvage: Salvage) -> tuple[list[Balance], list[Breakdown]]:
    """This month's tokens (``/usage/amount``) and cost (``/usage/cost``): spend this month and today
    as balances (used only), spend per model and per day, tokens per model and per kind."""
    balances: list[Balance] = []
    breakdowns: list[Breakdown] = []
    today = now.date().isoformat()
    if amount is not None:
        biz = check_envelope(amount, "usage amount").get("biz_data")
        if not isinstance(biz, dict):
            raise ParseError("DeepSeek: usage amount has no 'data.biz_data' object", field="data.biz_data")
        models = _per_model(biz.get("total"), "data.biz_data.total", salvage)
        kinds: dict[str, float] = defaultdict(float)
        for per in models.values():
            for kind, value in per.items():
                kinds[kind] += value
        breakdowns += [
            Breakdown(
                id="tokens_per_model",
                label="Tokens per model (this month)",
                unit="tokens",
                items=_items({m: _tokens(k) for m, k in models.items()}, by_value=True),
            ),
            Breakdown(
                id="tokens_by_kind",
                label="Tokens by kind (this month)",
                unit="tokens",
                items=tuple(
                    BreakdownItem(key=k.lower(), label=label, value=round(kinds.get(k, 0.0), 6))
                    for k, label in TOKEN_KINDS.items()
                ),
            ),
        ]
    if cost is not None:
        data = check_envelope(cost, "usage cost")
        blocks = items(data.get("biz_data"))
        if not isinstance(data.get("biz_data"), list):
            raise ParseError("DeepSeek: usage cost has no 'data.biz_data' list", field="data.biz_data")
        for index, block in enumerate(blocks):
            cur = _currency(block.get("currency") or "cny")
            suffix = "" if index == 0 else f"_{cur}"
            models = _per_model(block.get("total"), f"data.biz_data[{index}].total", salvage)
            days = _per_day(block.get("days"), f"data.biz_data[{index}].days", salvage)
            month = round(sum(_money(k) for k in models.values()), 6)
            balances.append(
                Balance(id=f"spend_month{suffix}", label="Spend this month", unit=cur, used=month, period="monthly")
            )
            if today in days:
                spent = round(_money(days[today]), 6)
                balances.append(
                    Balance(id=f"spend_today{suffix}", label="Spend today", unit=cur, used=spent, period="daily")
                )
            breakdowns += [
                Breakdown(
                    id=f"spend_per_model{suffix}",
                    label="Spend per model (this month)",
                    unit=cur,
                    items=_items({m: _money(k) for m, k in models.items()}, by_value=True),
                ),
                Breakdown(
                    id=f"spend_per_day{suffix}",
                    label="Spend per day (this month)",
                    unit=cur,
                    items=_items({d: _money(k) for d, k in days.items()}, by_value=False),
                ),
            ]
    return balances, breakdowns


def usage_warning(problem: Any) -> ErrorInfo | None:
    """The optional usage requests' failure, as fetch recorded it (``{kind, message, hint}``)."""
    problem = obj(problem)
    message = opt_str(problem.get("message"))
    if message is None:
        return None
    try:
        kind = ErrorKind(problem.get("kind"))
    except ValueError:
        kind = ErrorKind.UPSTREAM
    return ErrorInfo(kind=kind, message=message, hint=opt_str(problem.get("hint")) or PLATFORM_HINT)
