"""Pure parsers for everything Codex / ChatGPT reports usage in.

* ``/backend-api/wham/usage`` JSON (OAuth and web sources): ``rate_limit.primary_window`` /
  ``secondary_window``, ``additional_rate_limits[]``, ``plan_type``, ``spend_control``;
* the workspace spend-controls monthly usage JSON (``monthly_spend``);
* the ``codex app-server`` JSON-RPC ``account/rateLimits/read`` result, and its error text,
  which may embed the raw wham body after ``body=``;
* the credits balance and the daily breakdown (``extras``).

Each window is read on its own (``_parse.Salvage``): one that drifted becomes a warning naming
its field while the others are shown. The text surfaces (TUI ``/status``, the usage page) are
read by ``text``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ...errors import ParseError
from ...models import Usage, Window
from .._parse import Salvage, after, label_for, obj, opt_num, opt_str, opt_time, pct_of, slug, unique_id, window_id_for
from . import extras

# When a window does not state its length, its position says what it is (primary = 5 h).
POSITION_DEFAULT = {"primary_window": "session", "secondary_window": "weekly"}
INACTIVE_SPEND_MODES = frozenset({"none", "disabled", "off", "no_limit"})


# -- id_token claims -----------------------------------------------------------------------


def identity_from_claims(claims: dict[str, Any]) -> dict[str, str]:
    auth = obj(claims.get("https://api.openai.com/auth"))
    profile = obj(claims.get("https://api.openai.com/profile"))
    out = {
        "email": opt_str(profile.get("email")) or opt_str(claims.get("email")),
        "plan": opt_str(auth.get("chatgpt_plan_type")),
        "account_id": opt_str(auth.get("chatgpt_account_id")),
    }
    return {k: v for k, v in out.items() if v}


# -- wham/usage ----------------------------------------------------------------------------
def _wham_window(
    value: Any, where: str, default_id: str, now: datetime, salvage: Salvage
) -> tuple[str, int | None, Window] | None:
    if value is None:
        return None  # the plan has no such window
    if not isinstance(value, dict):
        raise ParseError(f"Codex: '{where}' is not an object", field=where)
    pct = opt_num(value.get("used_percent"), f"{where}.used_percent")
    if pct is None:
        pct = opt_num(value.get("usage_percent"), f"{where}.usage_percent")
    if pct is None:
        raise ParseError(f"Codex: '{where}' has no used_percent", field=f"{where}.used_percent")
    length = opt_num(value.get("limit_window_seconds"), f"{where}.limit_window_seconds")
    seconds = int(length) if length else None
    resets = salvage.keep(
        lambda: (
            opt_time(value.get("reset_at"), f"{where}.reset_at")
            or after(now, value.get("reset_after_seconds"), f"{where}.reset_after_seconds")
        )
    )
    base = window_id_for(seconds) if seconds else default_id
    return (
        base,
        seconds,
        Window(id=base, label=label_for(base, seconds), used_pct=pct, resets_at=resets, window_seconds=seconds),
    )


def _rate_windows(
    rate: dict[str, Any],
    where: str,
    now: datetime,
    taken: set[str],
    salvage: Salvage,
    feature: tuple[str, str] | None = None,
) -> list[Window]:
    """Windows of one ``rate_limit`` object, each on its own. ``feature`` = (id suffix, display
    name) for the model-specific ``additional_rate_limits`` entries."""

    def build(_index: int, item: tuple[str, str]) -> Window | None:
        key, default_id = item
        found = _wham_window(rate.get(key), f"{where}.{key}", default_id, now, salvage)
        if found is None:
            return None
        base, seconds, window = found
        if feature:
            wid = unique_id(f"{base}_{feature[0]}", taken)
            label = f"{label_for(base, seconds)} · {feature[1]}"
        else:
            wid, label = unique_id(base, taken), window.label
        return window.model_copy(update={"id": wid, "label": label})

    return salvage.each(POSITION_DEFAULT.items(), build)


def additional_windows(entries: Any, now: datetime, taken: set[str], salvage: Salvage) -> list[Window]:
    """Model-specific limits; an entry that names no model is a warning (no id would say what it limits)."""

    def build(index: int, entry: Any) -> list[Window]:
        where = f"additional_rate_limits[{index}]"
        if not isinstance(entry, dict):
            raise ParseError(f"Codex: '{where}' is not an object", field=where)
        name = opt_str(entry.get("limit_name")) or opt_str(entry.get("metered_feature"))
        if not name:
            raise ParseError(f"Codex: '{where}' names no limit_name or metered_feature", field=f"{where}.limit_name")
        suffix = slug(opt_str(entry.get("metered_feature")) or name)
        return _rate_windows(obj(entry.get("rate_limit")), f"{where}.rate_limit", now, taken, salvage, (suffix, name))

    groups = salvage.each(entries if isinstance(entries, list) else [], build)
    return [window for group in groups for window in group]


def spend_window(payload: Any) -> Window | None:
    """The workspace spend cap (``spend-controls/current-user/monthly-usage``), in credits.

    No window when enforcement is off or the limit is missing or zero (no cap to measure)."""
    root = obj(payload)
    limits = obj(root.get("effective_monthly_limit"))
    mode = limits.get("enforcement_mode")
    mode_name = opt_str(mode) or opt_str(obj(mode).get("mode"))
    if mode_name and mode_name.lower() in INACTIVE_SPEND_MODES:
        return None
    limit = opt_num(limits.get("limit"), "effective_monthly_limit.limit")
    if not limit:
        return None
    used = max(0.0, opt_num(root.get("current_month_usage"), "current_month_usage") or 0.0)
    return Window(
        id="monthly_spend",
        label="Monthly spend cap",
        used_pct=pct_of(used, limit) or 0.0,
        used=used,
        limit=limit,
        unit="credits",
    )


def _individual_limit(root: dict[str, Any]) -> Window | None:
    """An education/enterprise seat cap carried inside wham/usage (``spend_control.individual_limit``)."""
    spend = obj(root.get("spend_control") or root.get("spendControl"))
    cap = obj(spend.get("individual_limit"))
    limit = opt_num(cap.get("limit"), "spend_control.individual_limit.limit")
    if not limit:
        return None
    used = opt_num(cap.get("used"), "spend_control.individual_limit.used")
    remaining = opt_num(cap.get("remaining_percent"), "spend_control.individual_limit.remaining_percent")
    pct = pct_of(used, limit) if used is not None else (100.0 - remaining if remaining is not None else None)
    if pct is None:
        return None
    return Window(id="monthly_spend", label="Monthly spend cap", used_pct=pct, used=used, limit=limit, unit="credits")


def wants_spend_controls(root: Any) -> bool:
    """Workspaces with spend controls but no inline seat cap expose it on a second endpoint."""
    if not isinstance(root, dict) or not ("spend_control" in root or "spendControl" in root):
        return False
    try:
        return _individual_limit(root) is None
    except ParseError:
        return False  # a drifting inline cap is reported by parse; no second call for it


def parse_wham(root: Any, now: datetime, plan: str | None = None, spend: Any = None, daily: Any = None) -> Usage:
    """``wham/usage`` (plus the optional spend-controls and daily-breakdown answers). Each window,
    the credits balance and the breakdown are read on their own: one that drifted becomes a warning
    naming its field while the rest are shown; no ``rate_limit`` at all is a warning too, since the
    credits may still be there."""
    if not isinstance(root, dict):
        raise ParseError("Codex: usage response is not an object", field="$")
    salvage = Salvage()
    rate = root.get("rate_limit")
    if "rate_limit" not in root:
        salvage.problems.append(ParseError("Codex: usage response has no 'rate_limit'", field="rate_limit"))
    elif rate is not None and not isinstance(rate, dict):
        salvage.problems.append(ParseError("Codex: 'rate_limit' is not an object", field="rate_limit"))
    taken: set[str] = set()
    windows = _rate_windows(obj(rate), "rate_limit", now, taken, salvage)
    windows += additional_windows(root.get("additional_rate_limits"), now, taken, salvage)
    cap = salvage.keep(lambda: _individual_limit(root) or (spend_window(spend) if spend is not None else None))
    if cap:
        windows.append(cap)
    credits = salvage.keep(lambda: extras.credits_balance(root.get("credits"), "credits"))
    breakdown = salvage.keep(lambda: extras.daily_breakdown(daily, now, salvage))
    # plan_type is an open set (prolite, edu...): unknown values are kept as sent.
    return Usage(
        windows=tuple(windows),
        plan=opt_str(root.get("plan_type")) or plan,
        balances=(credits,) if credits else (),
        breakdowns=(breakdown,) if breakdown else (),
        warnings=salvage.warnings(),
    )


# -- app-server JSON-RPC -------------------------------------------------------------------
def _rpc_window(value: Any, where: str, default_id: str, salvage: Salvage) -> tuple[str, int | None, Window] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ParseError(f"Codex CLI: '{where}' is not an object", field=where)
    pct = opt_num(value.get("usedPercent"), f"{where}.usedPercent")
    if pct is None:
        raise ParseError(f"Codex CLI: '{where}' has no usedPercent", field=f"{where}.usedPercent")
    minutes = opt_num(value.get("windowDurationMins"), f"{where}.windowDurationMins")
    seconds = int(minutes * 60) if minutes else None
    base = window_id_for(seconds) if seconds else default_id
    return (
        base,
        seconds,
        Window(
            id=base,
            label=label_for(base, seconds),
            used_pct=pct,
            window_seconds=seconds,
            resets_at=salvage.keep(lambda: opt_time(value.get("resetsAt"), f"{where}.resetsAt")),
        ),
    )


def _rpc_snapshot(
    snapshot: dict[str, Any], where: str, taken: set[str], salvage: Salvage, feature: tuple[str, str] | None
) -> list[Window]:
    def build(_index: int, item: tuple[str, str]) -> Window | None:
        key, default_id = item
        found = _rpc_window(snapshot.get(key), f"{where}.{key}", default_id, salvage)
        if found is None:
            return None
        base, seconds, window = found
        if feature:
            wid, label = unique_id(f"{base}_{feature[0]}", taken), f"{label_for(base, seconds)} · {feature[1]}"
        else:
            wid, label = unique_id(base, taken), window.label
        return window.model_copy(update={"id": wid, "label": label})

    return salvage.each((("primary", "session"), ("secondary", "weekly")), build)


def parse_rpc(result: Any, plan: str | None = None) -> Usage:
    """``account/rateLimits/read``: ``{rateLimits: {primary, secondary, planType, limitId, credits},
    rateLimitsByLimitId: {id: {...}}}``; the per-id map adds model-specific limits."""
    root = obj(result)
    if "rateLimits" not in root:
        raise ParseError("Codex CLI: rateLimits/read result has no 'rateLimits'", field="rateLimits")
    main = obj(root.get("rateLimits"))
    salvage = Salvage()
    taken: set[str] = set()
    windows = _rpc_snapshot(main, "rateLimits", taken, salvage, None)
    main_id = opt_str(main.get("limitId")) or "codex"
    for limit_id, snapshot in obj(root.get("rateLimitsByLimitId")).items():
        if limit_id == main_id or not isinstance(snapshot, dict):
            continue
        name = opt_str(snapshot.get("limitName")) or limit_id
        where = f"rateLimitsByLimitId.{limit_id}"
        windows += _rpc_snapshot(snapshot, where, taken, salvage, (slug(limit_id), name))
    credits = salvage.keep(lambda: extras.credits_balance(main.get("credits"), "rateLimits.credits"))
    return Usage(
        windows=tuple(windows),
        plan=opt_str(main.get("planType")) or plan,
        balances=(credits,) if credits else (),
        warnings=salvage.warnings(),
    )


def embedded_json(text: str, marker: str = "body=") -> Any:
    """The JSON object that follows ``marker`` in an error message, or ``None``."""
    start = text.find(marker)
    if start < 0:
        return None
    start = text.find("{", start)
    if start < 0:
        return None
    depth, in_string, escaped = 0, False, False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                try:
                    return json.loads(text[start : index + 1])
                except ValueError:
                    return None
    return None
