"""Pure reading of LiteLLM's ``/key/info``, ``/user/info`` and ``/team/info`` (money in US dollars)."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from ...errors import AuthError, ParseError, RateLimitedError, UpstreamError
from ...models import Balance, Usage, Window, evolve
from .._parse import Salvage, items, obj, opt_num, opt_str, opt_time

NAME = "LiteLLM"
# LiteLLM's budget_duration: <n>s|m|h|d|w|mo, and the words it accepts for them.
DURATION = re.compile(r"^\s*(\d+)\s*(mo|[smhdw])\s*$", re.I)
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
WORDS = {"hourly": "1h", "daily": "24h", "weekly": "7d", "monthly": "30d"}


def duration_seconds(text: str | None) -> tuple[int | None, str | None]:
    """``budget_duration`` as (seconds, the words to show); months have no fixed length (None)."""
    if not text:
        return None, None
    raw = text.strip().lower()
    match = DURATION.match(WORDS.get(raw, raw))
    if not match:
        return None, text.strip()[:20]
    count, unit = int(match.group(1)), match.group(2).lower()
    if unit == "mo":
        return None, f"{count}mo"
    return count * UNIT_SECONDS[unit], f"{count}{unit}"


def error_in(root: dict[str, Any], what: str) -> Exception | None:
    """LiteLLM's ``{"error": {"message", "type", "code"}}`` (or FastAPI's ``{"detail": ...}``)."""
    error = root.get("error", root.get("detail"))
    if error is None or "info" in root or "user_info" in root or "team_info" in root:
        return None
    body = obj(error)
    message = (opt_str(body.get("message")) or opt_str(error) or "request failed")[:200]
    code = str(body.get("code") or "")
    kind = str(body.get("type") or "")
    if code in ("401", "403") or kind == "auth_error":
        return AuthError(f"{NAME}: {what} was refused: {message}", status_code=int(code) if code else 401)
    if code == "429" or "rate" in kind:
        return RateLimitedError(f"{NAME}: {what} was rate limited: {message}")
    return UpstreamError(f"{NAME}: {what} failed: {message}")


def _record(root: Any, key: str, what: str) -> dict[str, Any]:
    if not isinstance(root, dict):
        raise ParseError(f"{NAME}: {what} response is not an object", field="$")
    failure = error_in(root, what)
    if failure is not None:
        raise failure
    record = root.get(key)
    if not isinstance(record, dict):
        raise ParseError(f"{NAME}: {what} response has no '{key}' object", field=key)
    return record


def ids_of(key_root: Any) -> tuple[str | None, str | None]:
    """The key's ``user_id`` and ``team_id`` (fetch asks for the user's or team's record by them)."""
    info = _record(key_root, "info", "key info request")
    return opt_str(info.get("user_id")), opt_str(info.get("team_id"))


def budget(record: dict[str, Any], where: str, window_id: str, label: str) -> Window | Balance | None:
    """One budget: with a ``budget_duration`` a window resetting at ``budget_reset_at``; without one a
    balance of what is left; spend with no budget a balance of what was spent."""
    spend = opt_num(record.get("spend"), f"{where}.spend") or 0.0
    limit = opt_num(record.get("max_budget"), f"{where}.max_budget")
    seconds, period = duration_seconds(opt_str(record.get("budget_duration")))
    resets = opt_time(record.get("budget_reset_at"), f"{where}.budget_reset_at")
    if limit is not None and limit > 0 and period:
        return Window(
            id=window_id,
            label=f"{label} ({period})",
            used_pct=round(spend / limit * 100.0, 4),
            resets_at=resets,
            window_seconds=seconds,
            used=round(spend, 6),
            limit=limit,
            unit="usd",
        )
    if limit is not None and limit > 0:
        return Balance(
            id=window_id,
            label=label,
            unit="usd",
            remaining=round(max(limit - spend, 0.0), 6),
            used=round(spend, 6),
            limit=limit,
            resets_at=resets,
        )
    return Balance(
        id=window_id.replace("budget", "spend"),
        label=label.replace("budget", "spend"),
        unit="usd",
        used=round(spend, 6),
    )


def parse_all(key_root: Any, user_root: Any, team_root: Any) -> Usage:
    info = _record(key_root, "info", "key info request")
    salvage = Salvage()
    parts: list[Window | Balance] = []
    expires = salvage.keep(lambda: opt_time(info.get("expires"), "info.expires"))
    key_part = salvage.keep(lambda: budget(info, "info", "key_budget", "API key budget"))
    if isinstance(key_part, Balance) and expires is not None:
        key_part = evolve(key_part, expires_at=expires)
    if key_part is not None:
        parts.append(key_part)
    team_id = opt_str(info.get("team_id"))
    if user_root is not None:
        user = _record(user_root, "user_info", "user info request")
        found = salvage.keep(lambda: budget(user, "user_info", "user_budget", "User budget"))
        if found is not None:
            parts.append(found)
        mine = [t for t in items(user_root.get("teams")) if team_id and opt_str(t.get("team_id")) == team_id]
        for team in mine[:1]:
            found = salvage.keep(partial(budget, team, "teams[]", "team_budget", "Team budget"))
            if found is not None:
                parts.append(found)
    elif team_root is not None:
        record = _record(team_root, "team_info", "team info request")
        found = salvage.keep(lambda: budget(record, "team_info", "team_budget", "Team budget"))
        if found is not None:
            parts.append(found)
    windows = tuple(p for p in parts if isinstance(p, Window))
    balances = tuple(p for p in parts if isinstance(p, Balance))
    return Usage(windows=windows, balances=balances, warnings=salvage.warnings())
