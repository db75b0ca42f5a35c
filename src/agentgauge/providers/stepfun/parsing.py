"""Pure reading of the StepFun platform's Step Plan answers and of its Oasis tokens."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from ...errors import AuthError, ParseError, UpstreamError
from ...models import Usage, Window
from .. import _capture, _jwt
from .._parse import items, obj, opt_num, opt_str, opt_time

AUTH_WORDS = ("auth", "token", "login", "unauthorized", "embezzled")
HINT = (
    "Set AGENTGAUGE_STEPFUN_COOKIE (or STEPFUN_TOKEN) to the Oasis-Token of a platform.stepfun.com login, "
    "or AGENTGAUGE_STEPFUN_USERNAME and AGENTGAUGE_STEPFUN_PASSWORD (or STEPFUN_USERNAME / STEPFUN_PASSWORD), "
    "then refresh."
)


def halves(token: str) -> list[str]:
    """An Oasis token is a JWT, or an ``access...refresh`` pair of them."""
    return [h for h in token.split("...") if h]


def device_id(token: str) -> str | None:
    """The ``device_id`` claim (the refresh half first): the ``Oasis-Webid`` the token is bound to.
    Sending another webid makes the platform refuse the token ("oasis-token is embezzled")."""
    for half in reversed(halves(token)):
        found = opt_str(_jwt.claims(half).get("device_id"))
        if found:
            return found
    return None


def access_expiry(token: str) -> datetime | None:
    parts = halves(token)
    if not parts:
        return None
    try:
        return opt_time(_jwt.claims(parts[0]).get("exp"), "exp")
    except ParseError:
        return None


def login_webid(username: str) -> str:
    """A stable device id for the password login (40 hex digits, as the web app's), from the username."""
    return hashlib.sha1(f"agentgauge:{username}".encode(), usedforsecurity=False).hexdigest()


def token_from_cookie(value: str) -> tuple[str, str | None]:
    """The Oasis token and webid from a pasted Cookie header, or a bare token."""
    text = _capture.cookie_header(value)
    if "=" not in text:
        return text, None
    pairs = dict(_capture.cookie_pairs(text))
    token = pairs.get("Oasis-Token")
    if not token:
        raise AuthError("StepFun: the cookie holds no Oasis-Token", hint=HINT)
    return token, pairs.get("Oasis-Webid")


def token_pair(root: Any, what: str) -> str:
    """A passport answer's ``{accessToken: {raw}, refreshToken: {raw}}`` as the ``access...refresh`` token."""
    access = opt_str(obj(obj(root).get("accessToken")).get("raw"))
    if not access:
        raise ParseError(f"StepFun: the {what} answer has no access token", field="accessToken.raw")
    refresh = opt_str(obj(obj(root).get("refreshToken")).get("raw"))
    return f"{access}...{refresh}" if refresh else access


def _envelope(root: dict[str, Any], what: str) -> None:
    status = opt_num(root.get("status"), "status")
    if status == 1:
        return
    message = opt_str(root.get("message")) or opt_str(root.get("desc")) or opt_str(root.get("msg")) or ""
    try:
        code = opt_num(root.get("code"), "code")
    except ParseError:
        code = None  # a word: the message says what happened
    text = f"StepFun: {what} failed ({message[:200] or (int(code) if code is not None else 'no message')})"
    if code in (401, 403) or any(word in message.lower() for word in AUTH_WORDS):
        raise AuthError(text, hint=HINT)
    if status is None and not message:
        raise ParseError(f"StepFun: {what} answer has no 'status'", field="status")
    raise UpstreamError(text)


def _reset(value: Any, field: str) -> datetime | None:
    """Reset times are epoch seconds, often as strings; ``"0"`` means no window is configured."""
    return opt_time(value, field)


def _credit_left(credit: dict[str, Any]) -> float | None:
    """The credit pool's fraction left: the buckets' residual over total when every bucket reads (the
    subscription and top-up rates are fractions of different pools and cannot be added), else the
    subscription rate, else the top-up rate."""
    buckets = items(credit.get("credit_buckets"))
    sized = []
    for index, bucket in enumerate(buckets):
        where = f"plan_credit_rate_limit.credit_buckets[{index}]"
        total = opt_num(bucket.get("credit_total"), f"{where}.credit_total")
        left = opt_num(bucket.get("credit_residual"), f"{where}.credit_residual")
        if total is not None and left is not None and total > 0 and 0 <= left <= total:
            sized.append((total, left))
    if buckets and len(sized) == len(buckets):
        return sum(left for _, left in sized) / sum(total for total, _ in sized)
    for key in ("subscription_credit_left_rate", "topup_credit_left_rate"):
        rate = opt_num(credit.get(key), f"plan_credit_rate_limit.{key}")
        if rate is not None:
            return rate
    return None


def _used_pct(left: float) -> float:
    return round(min(max((1.0 - left) * 100.0, 0.0), 100.0), 4)


def parse_rate_limit(root: Any, status: Any) -> Usage:
    """``QueryStepPlanRateLimit``: the Coding Plan's 5-hour and weekly windows (fractions LEFT, resets in
    epoch seconds), or the Token Plan's monthly credit pool (``plan_credit_rate_limit``)."""
    if not isinstance(root, dict):
        raise ParseError("StepFun: rate limit response is not an object", field="$")
    _envelope(root, "rate limit request")
    session_reset = _reset(root.get("five_hour_usage_reset_time"), "five_hour_usage_reset_time")
    weekly_reset = _reset(root.get("weekly_usage_reset_time"), "weekly_usage_reset_time")
    credit = obj(root.get("plan_credit_rate_limit"))
    family = opt_num(root.get("plan_family"), "plan_family")
    # Classify by what the answer carries: a live window is the Coding Plan; no window and a credit
    # pool is the Token Plan; plan_family 2 (credits) only breaks a tie.
    live = session_reset is not None or weekly_reset is not None
    pool = any(credit.get(k) is not None for k in ("subscription_credit_left_rate", "topup_credit_left_rate")) or bool(
        items(credit.get("credit_buckets"))
    )
    windows: list[Window] = []
    if not live and (pool or family == 2):
        left = _credit_left(credit)
        if left is None:
            raise ParseError("StepFun: the credit plan has no credit rate", field="plan_credit_rate_limit")
        resets = _reset(
            credit.get("subscription_credit_reset_time"), "plan_credit_rate_limit.subscription_credit_reset_time"
        )
        windows.append(Window(id="monthly", label="Credits (monthly)", used_pct=_used_pct(left), resets_at=resets))
    else:
        for key, window_id, label, seconds, resets in (
            ("five_hour_usage_left_rate", "session", "Session (5h)", 18000, session_reset),
            ("weekly_usage_left_rate", "weekly", "Weekly", 604800, weekly_reset),
        ):
            left = opt_num(root.get(key), key)
            if left is None:
                raise ParseError(f"StepFun: rate limit answer has no '{key}'", field=key)
            windows.append(
                Window(id=window_id, label=label, used_pct=_used_pct(left), resets_at=resets, window_seconds=seconds)
            )
    return Usage(windows=tuple(windows), plan=plan_name(status))


def plan_name(root: Any) -> str | None:
    """``GetStepPlanStatus``: ``subscription.name`` ("Plus", "Mini") when the answer is a success."""
    try:
        ok = isinstance(root, dict) and opt_num(root.get("status"), "status") == 1
    except ParseError:
        return None  # the plan name is an enrichment
    return opt_str(obj(root.get("subscription")).get("name")) if ok else None
