"""The opencode.ai web login: the session cookie, the workspace id and the Go page's serialized usage.

opencode.ai is a SolidStart app. Its server functions answer ``text/javascript`` in seroval's
notation (``{id:"wrk_…",name:"Default"}``), and the Go page (``/workspace/<id>/go``) embeds the
same notation in its hydration script: ``rollingUsage:$R[28]={status:"ok",resetInSec:17591,
usagePercent:0}``, ``weeklyUsage``, ``monthlyUsage``, and, when the workspace has pay-as-you-go
billing, ``{customerID:"cus_…",balance:1250000000,…}`` with the Zen balance in 1e-8 dollars.
Everything here is pure text handling; the requests are in the package's ``fetch``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import partial

from ...errors import AuthError, ParseError
from ...models import Balance, Window
from .. import _capture
from .._parse import Salvage

AUTH_COOKIES = ("auth", "__Host-auth")
# The server function that lists the signed-in user's workspaces. Its id is a hash of the function and
# changes when opencode.ai redeploys; setting ``workspace`` avoids needing it.
WORKSPACES_FUNCTION = "def39973159c7f0483d8793a822b8dbb10d067e12c65455fcb4608459ba0234f"
BROWSER_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/143.0.0.0 Safari/537.36"
)
SIGNED_OUT = ('actor of type "public"', "not associated with an account", "auth/authorize", "sign in", "login")
BILLING_SCALE = 100_000_000.0  # Zen's billing object counts 1e-8 dollars
# The page's names, our window id, label and length (monthly: calendar months, no fixed length).
WINDOWS: tuple[tuple[str, str, str, int | None], ...] = (
    ("rollingUsage", "session", "Session (5h)", 18000),
    ("weeklyUsage", "weekly", "Weekly", 604800),
    ("monthlyUsage", "monthly", "Monthly", None),
)

_WORKSPACE_ID = re.compile(r"wrk_[A-Za-z0-9]+")
_LISTED_ID = re.compile(r"\bid\"?\s*:\s*\"(wrk_[A-Za-z0-9]+)\"")
_NUMBER = r"\"?(-?[0-9]+(?:\.[0-9]+)?)"
_CUSTOMER = re.compile(r"\"?customerID\"?\s*:\s*(?:\$R\[\d+\]\s*=\s*)?\"[^\"]+\"")
_BILLING_BALANCE = re.compile(r"\"?\bbalance\"?\s*:\s*(?:\$R\[\d+\]\s*=\s*)?" + _NUMBER)
_SHOWN_BALANCE = re.compile(
    r"(?i)(?:current\s+balance|zen\s+balance|現在の残高)[^$]{0,80}\$\s*([0-9][0-9,]*(?:\.[0-9]+)?)"
)


def cookie_header(value: str) -> str | None:
    """Only the session cookie of what was configured or read from a browser: a whole ``Cookie``
    header is filtered down to ``auth`` / ``__Host-auth``; a bare value is the ``auth`` cookie."""
    if not _capture.cookie_header(value):
        return None
    return _capture.only_cookies(_capture.named_cookie(value, "auth"), AUTH_COOKIES) or None


def workspace_id(value: str | None) -> str | None:
    """A ``wrk_…`` id from the setting: the id itself or any URL or text holding one."""
    match = _WORKSPACE_ID.search(value or "")
    return match.group(0) if match else None


def signed_out(text: str) -> bool:
    lowered = text.lower()
    return any(marker in lowered for marker in SIGNED_OUT)


def workspace_ids(text: str) -> list[str]:
    """The workspace ids a workspaces answer lists, in its order."""
    return list(dict.fromkeys(_LISTED_ID.findall(text)))


def _block(text: str, name: str) -> str | None:
    match = re.search(r"\"?\b" + name + r"\"?\s*:\s*(?:\$R\[\d+\]\s*=\s*)?\{([^{}]*)\}", text)
    return match.group(1) if match else None


def _field(block: str, name: str) -> float | None:
    match = re.search(r"\"?\b" + name + r"\"?\s*:\s*" + _NUMBER, block)
    return float(match.group(1)) if match else None


def page_windows(text: str, now: datetime, salvage: Salvage) -> list[Window]:
    """The usage windows serialized in the Go page; ``usagePercent`` is 0-100, ``resetInSec`` relative."""
    windows: list[Window] = []
    for key, wid, label, seconds in WINDOWS:
        block = _block(text, key)
        if block is None:
            continue
        window = salvage.keep(partial(_page_window, block, key, wid, label, seconds, now))
        if window is not None:
            windows.append(window)
    return windows


def _page_window(block: str, key: str, wid: str, label: str, seconds: int | None, now: datetime) -> Window:
    pct = _field(block, "usagePercent")
    if pct is None:
        raise ParseError(f"OpenCode Go: the Go page has no '{key}.usagePercent'", field=f"{key}.usagePercent")
    reset = _field(block, "resetInSec")
    resets_at = now + timedelta(seconds=reset) if reset is not None and 0 <= reset < 10**9 else None
    return Window(id=wid, label=label, used_pct=pct, resets_at=resets_at, window_seconds=seconds)


def zen_balance(text: str) -> Balance | None:
    """The workspace's Zen (pay-as-you-go) balance: the billing object's ``balance`` (1e-8 dollars, only
    next to a ``customerID``), else the balance the page shows ("Current balance $12.50")."""
    amount: float | None = None
    if _CUSTOMER.search(text):
        raw = _BILLING_BALANCE.search(text)
        amount = float(raw.group(1)) / BILLING_SCALE if raw else None
    if amount is None:
        shown = _SHOWN_BALANCE.search(text)
        amount = float(shown.group(1).replace(",", "")) if shown else None
    if amount is None:
        return None
    return Balance(id="zen_balance", label="Zen balance", unit="usd", remaining=round(amount, 8))


def parse_page(text: str, now: datetime, salvage: Salvage) -> tuple[list[Window], list[Balance]]:
    windows = page_windows(text, now, salvage)
    balance = zen_balance(text)
    if not windows and balance is None and not salvage.problems:
        if signed_out(text):
            raise AuthError("OpenCode Go: the opencode.ai session is signed out")
        raise ParseError("OpenCode Go: the Go page holds no rollingUsage", field="rollingUsage")
    return windows, [balance] if balance is not None else []
