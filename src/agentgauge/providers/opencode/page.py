"""Pure parsing of opencode.ai's workspace billing page (``GET /workspace/{wrk}/billing``), the source
seed 001 reads: server-rendered HTML whose SolidStart hydration scripts carry, in seroval, the Zen
billing object (``customerID``, ``balance``, ``monthlyLimit``, ``monthlyUsage``,
``timeMonthlyUsageUpdated``, ``subscription: {plan, seats, status}``) and the subscription's
``rollingUsage`` / ``weeklyUsage`` (``{status, resetInSec, usagePercent}`` or ``null``).

Objects are found by their keys, never by their ``$R[n]`` index, which shifts between deploys. A page
without them that looks like a sign-in page (OpenAuth) is a logout.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from ...errors import AuthError, ParseError
from ...models import Usage
from .._parse import Salvage
from .parsing import (
    _BACKREF,
    _LITERAL,
    HINT,
    _literal,
    _object_after,
    billing_usage,
    plan_of,
    signed_out,
    subscription_windows,
)

LOGIN_MARKERS = ("<title>openauth</title>", "window.location.href =", "/auth/authorize")


def login_page(html: str) -> bool:
    lower = html.lower()
    return signed_out(html) or any(marker in lower for marker in LOGIN_MARKERS)


def _enclosing(text: str, index: int) -> tuple[int, int] | None:
    """The bounds of the innermost ``{...}`` around ``index`` (strings skipped)."""
    depth, start = 0, None
    for i in range(index, -1, -1):
        if text[i] == "}":
            depth += 1
        elif text[i] == "{":
            if depth == 0:
                start = i
                break
            depth -= 1
    if start is None:
        return None
    depth, in_string, escaped = 0, False, False
    for i in range(start, len(text)):
        char = text[i]
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
            continue
        if char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return start, i + 1
    return None


def customer(html: str) -> dict[str, Any] | None:
    """The billing object (the one holding ``customerID``), its own fields only."""
    found = re.search(r"""["']?\bcustomerID["']?\s*:""", html)
    if found is None:
        return None
    bounds = _enclosing(html, found.start())
    if bounds is None:
        return None
    body = html[bounds[0] + 1 : bounds[1] - 1]
    nested = _object_after(body, "subscription")
    flat = re.sub(r"\{[^{}]*\}", "{}", body)  # nested objects dropped: every field is then top level
    fields: dict[str, Any] = {k: _literal(v) for k, v in _LITERAL.findall(_BACKREF.sub("", flat))}
    fields["subscription"] = nested if nested is not None else fields.get("subscription")
    return fields


def parse_page(html: str, now: datetime) -> Usage:
    salvage = Salvage()
    windows = subscription_windows(html, now, salvage)
    billing = customer(html)
    if billing is None and not windows:
        if login_page(html):
            raise AuthError("OpenCode: the billing page is the sign-in page (the session has expired)", hint=HINT)
        if salvage.problems:
            raise salvage.problems[0]
        raise ParseError("OpenCode: the billing page holds no usage (rollingUsage) and no billing", field="customerID")
    money_windows, balances = billing_usage(billing, now) if billing is not None else ([], [])
    return Usage(
        windows=(*windows, *money_windows),
        balances=tuple(balances),
        plan=plan_of(billing) if billing is not None else None,
        warnings=salvage.warnings(),
    )
