"""Pure parsing of MiniMax's Coding/Token Plan ``remains`` answers (no I/O).

``model_remains[]`` has one entry per model lane (``general`` text, ``video``, or a model id such
as ``MiniMax-M1``), each with an interval window (``start_time``/``end_time``, epoch s or ms;
``remains_time`` until the reset, ms or s) and, for text models, a weekly one. Beware:
``current_*_usage_count`` is the **remaining** count, not the used one; ``current_*_remaining_percent``
is the remaining percent and wins over the counts when present (the counts are then often 0).
Status 3 with zero counts and 100 % remaining marks a lane the plan does not include (left out),
except a text model's weekly lane, which is then unlimited. ``base_resp.status_code`` (maybe a
string) is 0 on success; 1004 means the login or key is not accepted.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import orjson

from ...errors import AuthError, ParseError, ProviderError, RateLimitedError, UpstreamError
from ...models import Balance, Usage, Window
from .._parse import (
    Salvage,
    humanize_seconds,
    items,
    label_for,
    obj,
    opt_num,
    opt_str,
    opt_time,
    slug,
    unique_id,
    window_id_for,
)
from . import extras

AUTH_CODES = {1004, 2049}  # not authorized / cookie missing; invalid api key
RATE_CODES = {1002, 1039}  # rate limit (requests); token rate limit
PLAN_KEYS = ("current_subscribe_title", "plan_name", "combo_title", "current_plan_title")
BALANCE_KEYS = ("points_balance", "point_balance", "credits_balance", "credit_balance", "balance")
MODEL_LABELS = {"general": "Text", "video": "Video"}
SHORT_MIN, SHORT_MAX = 4 * 3600, 6 * 3600  # what MiniMax's own page calls the "5 hours" window
_NEXT_DATA = re.compile(r'<script[^>]*id="__NEXT_DATA__"[^>]*>(.*?)</script>', re.S | re.I)
_HIDDEN = re.compile(r"(?is)<script\b[^>]*>.*?</script>|<style\b[^>]*>.*?</style>|<!--.*?-->")
SIGNED_OUT_WORDS = ("sign in", "log in", "登录", "登入")


def envelope_error(root: Any) -> ProviderError | None:
    """``base_resp`` (at the root or under ``data``) as a typed error, or None on success."""
    if not isinstance(root, dict):
        return None
    base = obj(root.get("base_resp")) or obj(obj(root.get("data")).get("base_resp"))
    try:
        code = opt_num(base.get("status_code"), "base_resp.status_code")
    except ParseError:
        code = None
    if code is None or code == 0:
        return None
    message = (opt_str(base.get("status_msg")) or f"status_code {int(code)}")[:160]
    lower = message.lower()
    text = f"MiniMax: request refused ({int(code)}): {message}"
    if int(code) in AUTH_CODES or "cookie" in lower or "log in" in lower or "login" in lower or "api key" in lower:
        return AuthError(text, status_code=401)
    if int(code) in RATE_CODES:
        return RateLimitedError(text, status_code=None)
    return UpstreamError(text)


def payload_of(root: dict[str, Any]) -> dict[str, Any]:
    """The object holding ``model_remains`` / ``services``: ``data`` when the answer nests it."""
    data = root.get("data")
    if isinstance(data, dict) and any(k in data for k in ("model_remains", "services", *PLAN_KEYS)):
        return data
    return root


def has_quota(root: Any) -> bool:
    """Whether an answer carries quota data at all (used to decide whether to try another endpoint)."""
    if not isinstance(root, dict):
        return False
    data = payload_of(root)
    return bool(items(data.get("model_remains"))) or bool(items(data.get("services")))


def is_text_model(name: str) -> bool:
    lower = name.strip().lower()
    return lower == "general" or "minimax-m" in lower or lower.startswith("m2.")


def _epoch(value: Any, field: str) -> datetime | None:
    """Epoch seconds or ms; small numbers (not a plausible date) count as absent."""
    number = opt_num(value, field)
    return opt_time(number, field) if number is not None and number > 1e9 else None


def _reset(end: datetime | None, remains: Any, field: str, now: datetime) -> datetime | None:
    if end is not None and end > now:
        return end
    left = opt_num(remains, field)
    if left is None or left <= 0:
        return None
    return now + timedelta(seconds=left / 1000.0 if left > 1_000_000 else left)


class _Lane:
    """One interval or weekly lane of a ``model_remains`` entry, read under its field prefix."""

    def __init__(self, entry: dict[str, Any], where: str, weekly: bool) -> None:
        p = "current_weekly" if weekly else "current_interval"
        self.where = where
        self.total = opt_num(entry.get(f"{p}_total_count"), f"{where}.{p}_total_count")
        self.remaining = opt_num(entry.get(f"{p}_usage_count"), f"{where}.{p}_usage_count")  # REMAINING
        self.remaining_pct = opt_num(entry.get(f"{p}_remaining_percent"), f"{where}.{p}_remaining_percent")
        self.status = opt_num(entry.get(f"{p}_status"), f"{where}.{p}_status")
        prefix = "weekly_" if weekly else ""
        self.start = _epoch(entry.get(f"{prefix}start_time"), f"{where}.{prefix}start_time")
        self.end = _epoch(entry.get(f"{prefix}end_time"), f"{where}.{prefix}end_time")
        self.remains = entry.get(f"{prefix}remains_time")
        self.pct_field = f"{where}.{p}_remaining_percent"

    @property
    def present(self) -> bool:
        return any(v is not None for v in (self.total, self.remaining, self.remaining_pct))

    @property
    def placeholder(self) -> bool:
        """Status 3 with nothing in it: a lane the subscription does not include."""
        return (
            self.status == 3
            and not self.total
            and not self.remaining
            and self.remaining_pct is not None
            and self.remaining_pct >= 100
        )

    @property
    def seconds(self) -> int | None:
        if self.start and self.end and self.end > self.start:
            return int((self.end - self.start).total_seconds())
        return None

    def window(self, wid: str, label: str, seconds: int | None, now: datetime) -> Window:
        resets = _reset(self.end, self.remains, f"{self.where}.remains_time", now)
        if self.remaining_pct is not None:  # the percent wins: the counts are placeholders then
            pct = min(max(100.0 - self.remaining_pct, 0.0), 100.0)
            return Window(id=wid, label=label, used_pct=round(pct, 4), resets_at=resets, window_seconds=seconds)
        if not self.total or self.total <= 0 or self.remaining is None:
            raise ParseError(f"MiniMax: {self.where} has neither a remaining percent nor counts", field=self.pct_field)
        used = max(self.total - self.remaining, 0.0)
        return Window(
            id=wid,
            label=label,
            used_pct=round(used / self.total * 100.0, 4),
            resets_at=resets,
            window_seconds=seconds,
            used=used,
            limit=self.total,
            unit="prompts",
        )


def _model_windows(entry: dict[str, Any], index: int, taken: set[str], multi_text: bool, now: datetime) -> list[Window]:
    where = f"model_remains[{index}]"
    name = opt_str(entry.get("model_name"))
    if name is None:
        return []
    text = is_text_model(name)
    tag = "" if name.lower() == "general" or not multi_text else f" · {name}"
    out: list[Window] = []
    lane = _Lane(entry, where, weekly=False)
    if lane.present and not lane.placeholder:
        seconds = lane.seconds
        if text and (seconds is None or SHORT_MIN <= seconds <= SHORT_MAX):
            # The plan's short rolling window ("5 hours"): one id whatever length this interval states.
            wid = unique_id("session", taken)
            label = ("Session (5h)" if seconds in (None, 18000) else f"Session ({humanize_seconds(seconds)})") + tag
        elif text:
            wid = unique_id(window_id_for(seconds), taken)
            label = label_for(wid, seconds) + tag
        else:
            wid = unique_id(f"{slug(name)}_{window_id_for(seconds) if seconds else 'window'}", taken)
            label = f"{MODEL_LABELS.get(name.lower(), name)} · {label_for(window_id_for(seconds), seconds)}"
        out.append(lane.window(wid, label, seconds, now))
    weekly = _Lane(entry, where, weekly=True)
    if text and weekly.present:
        wid = unique_id("weekly", taken)
        if weekly.status == 3 and weekly.remaining_pct is not None and weekly.remaining_pct >= 100:
            out.append(Window(id=wid, label="Weekly" + tag, used_pct=0.0, window_seconds=604800, unlimited=True))
        else:
            out.append(weekly.window(wid, "Weekly" + tag, weekly.seconds or 604800, now))
    return out


def plan_of(data: dict[str, Any]) -> str | None:
    for key in PLAN_KEYS:
        if opt_str(data.get(key)):
            return opt_str(data.get(key))
    return opt_str(obj(data.get("current_combo_card")).get("title"))


def balances_of(data: dict[str, Any]) -> list[Balance]:
    for key in BALANCE_KEYS:
        value = opt_num(data.get(key), key)
        if value is not None:
            return [Balance(id="points", label="Points balance", unit="points", remaining=value)]
    return []


def parse_remains(root: Any, now: datetime, salvage: Salvage) -> Usage:
    if not isinstance(root, dict):
        raise ParseError("MiniMax: the remains answer is not an object", field="$")
    problem = envelope_error(root)
    if problem is not None:
        raise problem
    data = payload_of(root)
    if items(data.get("services")):
        windows = extras.service_windows(data["services"], now, salvage)
    else:
        entries = items(data.get("model_remains"))
        if not entries:
            raise ParseError("MiniMax: the answer has no model_remains", field="model_remains")
        taken: set[str] = set()
        multi_text = sum(is_text_model(opt_str(e.get("model_name")) or "") for e in entries) > 1
        per_model = salvage.each(entries, lambda i, e: _model_windows(e, i, taken, multi_text, now))
        windows = [w for group in per_model for w in group]
    plan = salvage.keep(lambda: plan_of(data))
    balances = salvage.keep(lambda: balances_of(data)) or []
    return Usage(windows=tuple(windows), balances=tuple(balances), plan=plan)


def _find_remains(value: Any, depth: int = 0) -> dict[str, Any] | None:
    if depth > 12:
        return None
    if isinstance(value, dict):
        if isinstance(value.get("model_remains"), list):
            return value
        children: list[Any] = list(value.values())
    elif isinstance(value, list):
        children = value
    else:
        return None
    return next((found for c in children if (found := _find_remains(c, depth + 1)) is not None), None)


def signed_out(html: str) -> bool:
    """Login words in the page's visible text (scripts hold translations of them on every page)."""
    visible = _HIDDEN.sub(" ", html)
    visible = re.sub(r"<[^>]+>", " ", visible).lower()
    return any(word in visible for word in SIGNED_OUT_WORDS)


def parse_page(html: str, now: datetime, salvage: Salvage) -> Usage:
    """The Coding Plan page: its ``__NEXT_DATA__`` JSON carries the same remains payload."""
    match = _NEXT_DATA.search(html)
    payload = None
    if match:
        try:
            payload = _find_remains(orjson.loads(match.group(1)))
        except orjson.JSONDecodeError:
            payload = None
    if payload is None:
        if signed_out(html):
            raise AuthError("MiniMax: the Coding Plan page asks to log in")
        raise ParseError("MiniMax: the Coding Plan page has no quota data", field="__NEXT_DATA__")
    return parse_remains(payload, now, salvage)


def parse(raw: dict[str, Any], now: datetime) -> Usage:
    salvage = Salvage()
    if "page" in raw:
        usage = parse_page(str(raw.get("page") or ""), now, salvage)
    else:
        usage = parse_remains(raw.get("remains"), now, salvage)
    breakdowns = salvage.keep(lambda: extras.billing_breakdowns(raw.get("billing"), now)) or []
    if not usage.windows and not usage.balances and salvage.problems:
        raise salvage.problems[0]
    return Usage(
        windows=usage.windows,
        balances=usage.balances,
        plan=usage.plan,
        breakdowns=tuple(breakdowns),
        warnings=salvage.warnings(),
    )
