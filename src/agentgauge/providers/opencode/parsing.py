"""Pure parsing of opencode.ai server-function answers (no I/O).

opencode.ai is a SolidStart app: ``/_server`` answers ``text/javascript`` in seroval's format,
e.g. ``;0x…;((self.$R=self.$R||{})["server-fn:…"]=[],($R=>$R[0]={rollingUsage:$R[1]={status:"ok",
resetInSec:5944,usagePercent:17},…})($R["server-fn:…"]))``: JavaScript object literals with
unquoted keys, ``!0``/``!1`` for booleans and ``$R[n]=`` back-references. Some deployments (and
tests) answer plain JSON instead; both are read. Zen billing amounts (``balance``,
``monthlyUsage``) are fixed-point 1e-8 USD while ``monthlyLimit`` is whole dollars.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import orjson

from ...errors import AuthError, ParseError
from ...models import Balance, ErrorInfo, Usage, Window
from .._parse import Salvage, after, obj, opt_num, opt_str, opt_time
from .._time import month_start, next_month

ZEN_SCALE = 100_000_000.0
PERCENT_KEYS = ("usagePercent", "usedPercent", "percentUsed", "percent", "usage_percent", "used_percent")
RESET_IN_KEYS = ("resetInSec", "resetInSeconds", "resetsInSec", "reset_in_sec", "resetSec")
RESET_AT_KEYS = ("resetAt", "resetsAt", "reset_at", "resets_at")
WINDOWS = (("rollingUsage", "session", "Session (5h)", 18000), ("weeklyUsage", "weekly", "Weekly", 604800))
# What opencode.ai answers to a request without a valid session (a seroval Error), or a login page.
SIGNED_OUT = (
    'actor of type "public"',
    'actor of type \\"public\\"',
    "not associated with an account",
    "auth/authorize",
)
HINT = "Log in to opencode.ai in your browser again (agentgauge reads the 'auth' cookie), then refresh."
_WORKSPACE_ID = re.compile(r"""["']?id["']?\s*:\s*["'](wrk_[A-Za-z0-9]+)["']""")
_ANY_WORKSPACE = re.compile(r"""["'](wrk_[A-Za-z0-9]+)["']""")
_WORKSPACE_URL = re.compile(r"/workspace/(wrk_[A-Za-z0-9]+)")
_BACKREF = re.compile(r"\$R\[\d+\]\s*=\s*")
_LITERAL = re.compile(
    r"""["']?([A-Za-z_$][\w$]*)["']?\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|!0|!1|true|false|null"""
    r"""|new\s+Date\(\s*"[^"]*"\s*\))"""
)


def signed_out(text: str) -> bool:
    lower = text.lower()
    return any(marker.lower() in lower for marker in SIGNED_OUT)


def workspace_ids(text: str) -> list[str]:
    """Workspace ids (``wrk_…``) in a ``workspaces`` answer, in order, without repeats."""
    found = _WORKSPACE_ID.findall(text) or _ANY_WORKSPACE.findall(text)
    return list(dict.fromkeys(found))


def normalize_workspace(value: str) -> str | None:
    """A ``wrk_…`` id, or the id inside an opencode.ai workspace URL; ``None`` for anything else."""
    value = value.strip()
    if re.fullmatch(r"wrk_[A-Za-z0-9]+", value):
        return value
    match = _WORKSPACE_URL.search(value)
    return match.group(1) if match else None


def is_null(text: str) -> bool:
    """The server function resolved to ``null`` (a workspace without that object)."""
    body = text.strip()
    return body == "null" or bool(re.search(r"\]=\[\],\s*null\)\s*;?$", body))


def _literal(raw: str) -> Any:
    if raw.startswith('"'):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            return raw.strip('"')
    if raw.startswith("new"):
        return raw[raw.index('"') + 1 : raw.rindex('"')]
    return {"!0": True, "true": True, "!1": False, "false": False, "null": None}.get(raw, raw)


def _object_after(text: str, key: str) -> dict[str, Any] | None:
    """The flat object literal following ``key:`` in seroval text (``$R[n]=`` references skipped)."""
    match = re.search(rf"""["']?\b{re.escape(key)}["']?\s*:\s*(?:\$R\[\d+\]\s*=\s*)?\{{([^{{}}]*)\}}""", text)
    if match is None:
        return None
    body = _BACKREF.sub("", match.group(1))
    return {k: _literal(v) for k, v in _LITERAL.findall(body)}


def _json(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def _find(value: Any, wanted: tuple[str, ...], depth: int = 0) -> dict[str, Any] | None:
    """The first object (depth-first, a few levels) holding any of ``wanted`` as a key."""
    if depth > 4:
        return None
    if isinstance(value, dict):
        if any(k in value for k in wanted):
            return value
        children: list[Any] = list(value.values())
    elif isinstance(value, list):
        children = value
    else:
        return None
    for child in children:
        found = _find(child, wanted, depth + 1)
        if found is not None:
            return found
    return None


def usage_objects(payload: Any) -> dict[str, dict[str, Any]]:
    """``rollingUsage`` / ``weeklyUsage`` objects of a ``subscription.get`` answer (text or decoded)."""
    keys = tuple(k for k, *_ in WINDOWS)
    decoded = _json(payload) if isinstance(payload, str) else payload
    if isinstance(payload, str) and decoded is None:
        found = {k: _object_after(payload, k) for k in keys}
        return {k: v for k, v in found.items() if v is not None}
    holder = _find(decoded, keys) or {}
    return {k: holder[k] for k in keys if isinstance(holder.get(k), dict)}


def _window(entry: dict[str, Any], key: str, wid: str, label: str, seconds: int, now: datetime) -> Window:
    pct = next((opt_num(entry.get(k), f"{key}.{k}") for k in PERCENT_KEYS if entry.get(k) is not None), None)
    if pct is None:
        used, limit = opt_num(entry.get("used"), f"{key}.used"), opt_num(entry.get("limit"), f"{key}.limit")
        if used is None or not limit:
            raise ParseError(f"OpenCode: {key} has no usagePercent", field=f"{key}.usagePercent")
        pct = used / limit * 100.0
    reset_in = next((entry.get(k) for k in RESET_IN_KEYS if entry.get(k) is not None), None)
    if reset_in is not None:
        resets = after(now, reset_in, f"{key}.resetInSec")
    else:
        reset_at = next((entry.get(k) for k in RESET_AT_KEYS if entry.get(k) is not None), None)
        resets = opt_time(reset_at, f"{key}.resetAt")
    return Window(id=wid, label=label, used_pct=round(pct, 4), resets_at=resets, window_seconds=seconds)


def subscription_windows(payload: Any, now: datetime, salvage: Salvage) -> list[Window]:
    """The rolling 5-hour and weekly windows; one that does not parse is a warning, the other stays."""
    objects = usage_objects(payload)
    present = [spec for spec in WINDOWS if spec[0] in objects]
    return salvage.each(present, lambda _, spec: _window(objects[spec[0]], *spec, now))


def billing_object(payload: Any) -> dict[str, Any] | None:
    """The Zen customer/billing object (it carries ``customerID``), from text or decoded JSON."""
    if isinstance(payload, str):
        decoded = _json(payload)
        if decoded is None:
            fields = _object_with_customer(payload)
            return fields
        payload = decoded
    return _find(payload, ("customerID",))


def _object_with_customer(text: str) -> dict[str, Any] | None:
    if not re.search(r"""["']?customerID["']?\s*:""", text):
        return None
    # Nested objects (``lite:$R[2]={}``) are dropped first so every field is a top-level literal.
    flat = re.sub(r"\{[^{}]*\}", "{}", text[text.index("customerID") :]) if "{" in text else text
    fields = {k: _literal(v) for k, v in _LITERAL.findall(_BACKREF.sub("", flat))}
    fields["subscription"] = _subscription_literal(text)
    return fields


def _subscription_literal(text: str) -> Any:
    match = re.search(r"""["']?\bsubscription["']?\s*:\s*(null|\$R\[\d+\]\s*=\s*\{|\{)""", text)
    if match is None:
        return None
    return None if match.group(1) == "null" else (_object_after(text, "subscription") or {})


def billing_usage(customer: dict[str, Any], now: datetime) -> tuple[list[Window], list[Balance]]:
    """Zen pay-as-you-go money: the prepaid balance, and this month's spend against the monthly limit.

    A monthly limit states a cap for a period (the UTC calendar month, as opencode.ai's console counts
    it), so spend against it is a window; without a limit the spend is a balance line. ``monthlyUsage``
    belongs to the month of ``timeMonthlyUsageUpdated``: from an earlier month, this month's spend is 0.
    """
    usage = opt_num(customer.get("monthlyUsage"), "monthlyUsage")
    if usage is None:
        raise ParseError("OpenCode: Zen billing has no monthlyUsage", field="monthlyUsage")
    updated = opt_time(customer.get("timeMonthlyUsageUpdated"), "timeMonthlyUsageUpdated")
    spent = 0.0 if updated is not None and updated < month_start(now) else round(usage / ZEN_SCALE, 6)
    limit = opt_num(customer.get("monthlyLimit"), "monthlyLimit")
    balance = opt_num(customer.get("balance"), "balance")
    windows: list[Window] = []
    balances: list[Balance] = []
    resets = next_month(now)
    if limit is not None and limit > 0:
        windows.append(
            Window(
                id="monthly",
                label="Monthly spend",
                used_pct=round(spent / limit * 100.0, 4),
                resets_at=resets,
                used=spent,
                limit=limit,
                unit="usd",
            )
        )
    else:
        balances.append(
            Balance(id="monthly_spend", label="Spend this month", unit="usd", used=spent, period="monthly",
                    resets_at=resets)
        )  # fmt: skip
    if balance is not None:
        balances.insert(
            0, Balance(id="balance", label="Zen balance", unit="usd", remaining=round(balance / ZEN_SCALE, 6))
        )
    return windows, balances


def plan_of(customer: dict[str, Any]) -> str | None:
    """``subscriptionPlan``, else the subscription's ``plan`` (a price such as "200": "$200 plan")."""
    named = opt_str(customer.get("subscriptionPlan"))
    if named:
        return named
    plan = opt_str(obj(customer.get("subscription")).get("plan"))
    if plan and re.fullmatch(r"\d+(?:\.\d+)?", plan):
        return f"${plan} plan"
    return plan


def parse(raw: dict[str, Any], now: datetime) -> Usage:
    subscription, billing = raw.get("subscription"), raw.get("billing")
    for text in (subscription, billing):
        if isinstance(text, str) and signed_out(text):
            raise AuthError("OpenCode: opencode.ai does not know this session (signed out)", hint=HINT)
    salvage = Salvage()
    windows = subscription_windows(subscription, now, salvage) if subscription is not None else []
    customer = billing_object(billing) if billing is not None else None
    if customer is None:
        if windows:
            return Usage(windows=tuple(windows), warnings=salvage.warnings())
        if salvage.problems:
            raise salvage.problems[0]
        workspace = opt_str(raw.get("workspace")) or "?"
        raise ParseError(
            f"OpenCode: workspace {workspace} has no subscription usage (rollingUsage) and no Zen billing",
            field="rollingUsage",
            hint="Set `workspace` to the opencode.ai workspace you use (its id wrk_… or URL), then refresh.",
        )
    money_windows, balances = billing_usage(customer, now)
    warnings: list[ErrorInfo] = list(salvage.warnings())
    if not windows and not warnings and isinstance(obj(customer).get("subscription"), dict):
        # Billing still names a subscription whose usage did not come: say so, show the money anyway.
        missing = ParseError("OpenCode: the subscription's usage was not in the answer", field="rollingUsage")
        warnings.append(missing.info())
    return Usage(
        windows=(*windows, *money_windows), balances=tuple(balances), plan=plan_of(customer), warnings=tuple(warnings)
    )
