"""Pure parsers for everything Codex / ChatGPT reports usage in.

* ``/backend-api/wham/usage`` JSON (OAuth and web sources): ``rate_limit.primary_window`` /
  ``secondary_window``, ``additional_rate_limits[]``, ``plan_type``, ``spend_control``;
* the workspace spend-controls monthly usage JSON (``monthly_spend``);
* the ``codex app-server`` JSON-RPC ``account/rateLimits/read`` result, and its error text,
  which may embed the raw wham body after ``body=``;
* the TUI ``/status`` text and the chatgpt.com usage page text (percent *left*).

``credits.balance`` is not turned into a window: a balance has no cap, so it has no percent,
and the snapshot never shows an invented one.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from ...errors import ParseError
from ...models import Usage, Window
from .._parse import after, items, label_for, obj, opt_num, opt_str, opt_time, pct_of, slug, unique_id, window_id_for

# When a window does not state its length, its position says what it is (primary = 5 h).
POSITION_DEFAULT = {"primary_window": "session", "secondary_window": "weekly"}
INACTIVE_SPEND_MODES = frozenset({"none", "disabled", "off", "no_limit"})


# -- id_token claims -----------------------------------------------------------------------
def jwt_claims(token: str | None) -> dict[str, Any]:
    """The payload of a JWT, decoded without checking its signature (only for display details)."""
    parts = (token or "").split(".")
    if len(parts) < 2:
        return {}
    segment = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        data = json.loads(base64.urlsafe_b64decode(segment))
    except (ValueError, binascii.Error):
        return {}
    return data if isinstance(data, dict) else {}


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
def _wham_window(value: Any, where: str, default_id: str, now: datetime) -> tuple[str, int | None, Window] | None:
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
    resets = opt_time(value.get("reset_at"), f"{where}.reset_at") or after(
        now, value.get("reset_after_seconds"), f"{where}.reset_after_seconds")
    base = window_id_for(seconds) if seconds else default_id
    return base, seconds, Window(id=base, label=label_for(base, seconds), used_pct=pct, resets_at=resets,
                                 window_seconds=seconds)


def _rate_windows(rate: dict[str, Any], where: str, now: datetime, taken: set[str],
                  feature: tuple[str, str] | None = None) -> list[Window]:
    """Windows of one ``rate_limit`` object. ``feature`` = (id suffix, display name) for the
    model-specific ``additional_rate_limits`` entries."""
    out: list[Window] = []
    for key, default_id in POSITION_DEFAULT.items():
        found = _wham_window(rate.get(key), f"{where}.{key}", default_id, now)
        if found is None:
            continue
        base, seconds, window = found
        if feature:
            wid = unique_id(f"{base}_{feature[0]}", taken)
            label = f"{label_for(base, seconds)} · {feature[1]}"
        else:
            wid, label = unique_id(base, taken), window.label
        out.append(window.model_copy(update={"id": wid, "label": label}))
    return out


def additional_windows(entries: Any, now: datetime, taken: set[str]) -> list[Window]:
    out: list[Window] = []
    for index, entry in enumerate(items(entries)):
        name = opt_str(entry.get("limit_name")) or opt_str(entry.get("metered_feature"))
        if not name:
            continue
        suffix = slug(opt_str(entry.get("metered_feature")) or name)
        out += _rate_windows(obj(entry.get("rate_limit")), f"additional_rate_limits[{index}].rate_limit", now,
                             taken, (suffix, name))
    return out


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
    return Window(id="monthly_spend", label="Monthly spend cap", used_pct=pct_of(used, limit) or 0.0,
                  used=used, limit=limit, unit="credits")


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
    return Window(id="monthly_spend", label="Monthly spend cap", used_pct=pct, used=used, limit=limit,
                  unit="credits")


def wants_spend_controls(root: Any) -> bool:
    """Workspaces with spend controls but no inline seat cap expose it on a second endpoint."""
    if not isinstance(root, dict) or not ("spend_control" in root or "spendControl" in root):
        return False
    return _individual_limit(root) is None


def parse_wham(root: Any, now: datetime, plan: str | None = None, spend: Any = None) -> Usage:
    if not isinstance(root, dict):
        raise ParseError("Codex: usage response is not an object", field="$")
    if "rate_limit" not in root:
        raise ParseError("Codex: usage response has no 'rate_limit'", field="rate_limit")
    rate = root.get("rate_limit")
    if rate is not None and not isinstance(rate, dict):
        raise ParseError("Codex: 'rate_limit' is not an object", field="rate_limit")
    taken: set[str] = set()
    windows = _rate_windows(obj(rate), "rate_limit", now, taken)
    windows += additional_windows(root.get("additional_rate_limits"), now, taken)
    cap = _individual_limit(root) or (spend_window(spend) if spend is not None else None)
    if cap:
        windows.append(cap)
    # plan_type is an open set (prolite, edu...): unknown values are kept as sent.
    return Usage(windows=tuple(windows), plan=opt_str(root.get("plan_type")) or plan)


# -- app-server JSON-RPC -------------------------------------------------------------------
def _rpc_window(value: Any, where: str, default_id: str) -> tuple[str, int | None, Window] | None:
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
    return base, seconds, Window(id=base, label=label_for(base, seconds), used_pct=pct, window_seconds=seconds,
                                 resets_at=opt_time(value.get("resetsAt"), f"{where}.resetsAt"))


def _rpc_snapshot(snapshot: dict[str, Any], where: str, taken: set[str],
                  feature: tuple[str, str] | None) -> list[Window]:
    out: list[Window] = []
    for key, default_id in (("primary", "session"), ("secondary", "weekly")):
        found = _rpc_window(snapshot.get(key), f"{where}.{key}", default_id)
        if found is None:
            continue
        base, seconds, window = found
        if feature:
            wid, label = unique_id(f"{base}_{feature[0]}", taken), f"{label_for(base, seconds)} · {feature[1]}"
        else:
            wid, label = unique_id(base, taken), window.label
        out.append(window.model_copy(update={"id": wid, "label": label}))
    return out


def parse_rpc(result: Any, plan: str | None = None) -> Usage:
    """``account/rateLimits/read``: ``{rateLimits: {primary, secondary, planType, limitId},
    rateLimitsByLimitId: {id: {...}}}``; the per-id map adds model-specific limits."""
    root = obj(result)
    if "rateLimits" not in root:
        raise ParseError("Codex CLI: rateLimits/read result has no 'rateLimits'", field="rateLimits")
    main = obj(root.get("rateLimits"))
    taken: set[str] = set()
    windows = _rpc_snapshot(main, "rateLimits", taken, None)
    main_id = opt_str(main.get("limitId")) or "codex"
    for limit_id, snapshot in obj(root.get("rateLimitsByLimitId")).items():
        if limit_id == main_id or not isinstance(snapshot, dict):
            continue
        name = opt_str(snapshot.get("limitName")) or limit_id
        windows += _rpc_snapshot(snapshot, f"rateLimitsByLimitId.{limit_id}", taken, (slug(limit_id), name))
    return Usage(windows=tuple(windows), plan=opt_str(main.get("planType")) or plan)


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
                    return json.loads(text[start: index + 1])
                except ValueError:
                    return None
    return None


# -- text surfaces: TUI /status and the chatgpt.com usage page -------------------------------
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_STATUS_LINE = re.compile(
    r"(?P<name>5h|Weekly)\s*limit:[^\n%]*?(?P<pct>\d+(?:\.\d+)?)\s*%\s*left"
    r"(?:\s*\(resets\s*(?P<h>\d{1,2}):(?P<m>\d{2})(?:\s*on\s*(?P<day>\d{1,2})\s*(?P<mon>[A-Za-z]{3}))?\))?",
    re.I)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_STATUS_IDS = {"5h": ("session", 18000), "weekly": ("weekly", 604800)}


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text).replace("\r", "")


def _next_local(now: datetime, tz: tzinfo, hour: int, minute: int, day: int | None, month: int | None) -> datetime:
    """The next ``HH:MM`` (optionally on ``day month``) after ``now`` in ``tz``, in UTC."""
    local = now.astimezone(tz)
    if day and month:
        when = datetime(local.year, month, day, hour, minute, tzinfo=tz)
        if when <= local:
            when = when.replace(year=local.year + 1)
    else:
        when = datetime(local.year, local.month, local.day, hour, minute, tzinfo=tz)
        if when <= local:
            nxt = local.date() + timedelta(days=1)
            when = datetime(nxt.year, nxt.month, nxt.day, hour, minute, tzinfo=tz)
    return when.astimezone(UTC)


def parse_status_text(text: str, now: datetime, tz: tzinfo | None = None) -> Usage:
    """Codex TUI ``/status``: ``5h limit: [...] 75% left (resets 09:01)``. Reset times are the
    machine's local time (``tz``, default the local zone); the percent is what is *left*."""
    zone = tz or datetime.now().astimezone().tzinfo or UTC
    windows: list[Window] = []
    taken: set[str] = set()
    for match in _STATUS_LINE.finditer(strip_ansi(text)):
        base, seconds = _STATUS_IDS[match["name"].lower()]
        resets = None
        if match["h"]:
            month = _MONTHS.index(match["mon"].lower()) + 1 if match["mon"] else None
            try:
                resets = _next_local(now, zone, int(match["h"]), int(match["m"]),
                                     int(match["day"]) if match["day"] else None, month)
            except ValueError:
                resets = None
        wid = unique_id(base, taken)
        windows.append(Window(id=wid, label=label_for(base, seconds), used_pct=100.0 - float(match["pct"]),
                              resets_at=resets, window_seconds=seconds))
    if not windows:
        raise ParseError("Codex CLI: /status text has no '5h limit' or 'Weekly limit' line", field="5h limit")
    return Usage(windows=tuple(windows))


_TAGS = re.compile(r"<script\b[^>]*>[\s\S]*?</script>|<style\b[^>]*>[\s\S]*?</style>|<[^>]+>", re.I)
_PAGE_LIMIT = re.compile(r"(?P<name>5h|Weekly)\s*limit\s*(?P<pct>\d+(?:\.\d+)?)\s*%\s*remaining", re.I)
_BOOTSTRAP = re.compile(r'<script[^>]*id="client-bootstrap"[^>]*>([\s\S]*?)</script>', re.I)


def parse_dashboard_html(html: str) -> Usage:
    """chatgpt.com/codex/settings/usage: "5h limit 72% remaining". Its reset lines ("today at
    2:15 PM") carry no zone or date, so no reset time is derived from them."""
    text = " ".join(_TAGS.sub(" ", html).split())
    windows: list[Window] = []
    taken: set[str] = set()
    for match in _PAGE_LIMIT.finditer(text):
        base, seconds = _STATUS_IDS[match["name"].lower()]
        windows.append(Window(id=unique_id(base, taken), label=label_for(base, seconds),
                              used_pct=100.0 - float(match["pct"]), window_seconds=seconds))
    if not windows:
        raise ParseError("Codex: usage page has no '5h limit' or 'Weekly limit' figure", field="5h limit")
    plan = None
    bootstrap = _BOOTSTRAP.search(html)
    if bootstrap:
        try:
            plan = opt_str(obj(json.loads(bootstrap.group(1))).get("planType"))
        except ValueError:
            plan = None
    return Usage(windows=tuple(windows), plan=plan)
