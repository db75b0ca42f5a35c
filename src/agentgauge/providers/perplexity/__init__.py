"""Perplexity: the account's API credits, ``GET {url}/rest/billing/credits?version=2.18&source=default``
with the perplexity.ai web session (the NextAuth / Auth.js session cookie, possibly chunked).

The answer: ``balance_cents``, ``renewal_date_ts`` (epoch seconds), ``total_usage_cents``,
``current_period_purchased_cents`` and ``credit_grants[]{type: recurring | promotional | purchased,
amount_cents, expires_at_ts}``, money in US cents. The recurring grant renews at the renewal date:
a limit with a period, so a window. Bonus (promotional, until they expire) and purchased credits
are balances. How the period's usage splits over the grants is not in the answer: it is
attributed recurring first, then purchased, then bonus (the order the usage page shows them).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

from ...errors import AuthError, ParseError
from ...models import Balance, Usage, Window
from .. import _capture, _http
from .._base import AuthSource, BrowserLogin, CookieRule, FetchContext, Provider, Raw, Sample, Setting, WindowSpec
from .._parse import items, obj, opt_num, opt_str, opt_time

DEFAULT_URL = "https://www.perplexity.ai"
CREDITS_PATH = "/rest/billing/credits"
QUERY = urlencode({"version": "2.18", "source": "default"})
SESSION_COOKIES = (
    "__Secure-authjs.session-token",
    "authjs.session-token",
    "__Secure-next-auth.session-token",
    "next-auth.session-token",
)
HINT = (
    "Log in to perplexity.ai in Firefox or Chrome, or set AGENTGAUGE_PERPLEXITY_COOKIE (or PERPLEXITY_COOKIE) to "
    "its Cookie header or PERPLEXITY_SESSION_TOKEN to the session token, then refresh."
)


def request_cookie(value: str) -> str:
    """A pasted Cookie header as is (it must hold a session cookie, whole or chunked ``.0``, ``.1``), or a
    bare session token sent under every session cookie name Perplexity has used."""
    text = _capture.cookie_header(value)
    if "=" not in text:
        return "; ".join(f"{name}={text}" for name in SESSION_COOKIES)
    names = {p.split("=", 1)[0].strip().lower() for p in text.split(";") if "=" in p}
    wanted = {n.lower() for n in SESSION_COOKIES}
    if not any(n in wanted or n.rsplit(".", 1)[0] in wanted for n in names):
        raise AuthError("Perplexity: the cookie holds no session-token cookie", hint=HINT)
    return text


def _cents(value: Any, field: str) -> float:
    return max(opt_num(value, field) or 0.0, 0.0)


def parse_credits(root: Any, now: datetime) -> Usage:
    if not isinstance(root, dict):
        raise ParseError("Perplexity: credits response is not an object", field="$")
    if "total_usage_cents" not in root and "credit_grants" not in root:
        message = (
            opt_str(root.get("detail")) or opt_str(obj(root.get("error")).get("message")) or opt_str(root.get("error"))
        )
        raise ParseError(
            f"Perplexity: credits response has no usage{f' ({message[:120]})' if message else ''}",
            field="total_usage_cents",
        )
    grants = root.get("credit_grants")
    if grants is not None and not isinstance(grants, list):
        raise ParseError("Perplexity: 'credit_grants' is not a list", field="credit_grants")
    recurring = promo = purchased_grants = 0.0
    promo_expiry: datetime | None = None
    for index, grant in enumerate(items(grants)):
        where = f"credit_grants[{index}]"
        kind = (opt_str(grant.get("type")) or "").lower()
        amount = _cents(grant.get("amount_cents"), f"{where}.amount_cents")
        if kind == "recurring":
            recurring += amount
        elif kind == "purchased":
            purchased_grants += amount
        elif kind == "promotional":
            expires = opt_time(grant.get("expires_at_ts"), f"{where}.expires_at_ts")
            if expires is not None and expires <= now:
                continue  # an expired bonus is gone
            promo += amount
            if expires is not None:
                promo_expiry = min(promo_expiry, expires) if promo_expiry else expires
    # Purchases may be listed as grants, in the top-level field, or both: the larger, never the sum.
    purchased = max(
        purchased_grants, _cents(root.get("current_period_purchased_cents"), "current_period_purchased_cents")
    )
    left = _cents(root.get("total_usage_cents"), "total_usage_cents")
    spent: dict[str, float] = {}
    for pool, size in (("recurring", recurring), ("purchased", purchased), ("promo", promo)):
        spent[pool] = min(left, size)
        left -= spent[pool]
    windows: list[Window] = []
    if recurring > 0:
        windows.append(
            Window(
                id="monthly",
                label="Monthly credits",
                used_pct=round(spent["recurring"] / recurring * 100.0, 4),
                resets_at=opt_time(root.get("renewal_date_ts"), "renewal_date_ts"),
                used=round(spent["recurring"] / 100.0, 2),
                limit=round(recurring / 100.0, 2),
                unit="usd",
            )
        )
    balances: list[Balance] = []
    if promo > 0:
        balances.append(
            Balance(
                id="bonus",
                label="Bonus credits",
                unit="usd",
                remaining=round((promo - spent["promo"]) / 100.0, 2),
                used=round(spent["promo"] / 100.0, 2),
                limit=round(promo / 100.0, 2),
                expires_at=promo_expiry,
            )
        )
    if purchased > 0:
        balances.append(
            Balance(
                id="purchased",
                label="Purchased credits",
                unit="usd",
                remaining=round((purchased - spent["purchased"]) / 100.0, 2),
                used=round(spent["purchased"] / 100.0, 2),
                limit=round(purchased / 100.0, 2),
            )
        )
    balance = opt_num(root.get("balance_cents"), "balance_cents")
    if balance is not None:
        balances.append(Balance(id="balance", label="Credit balance", unit="usd", remaining=round(balance / 100.0, 2)))
    note = None if windows or balances else "Perplexity reports no API credits on this account."
    return Usage(windows=tuple(windows), balances=tuple(balances), note=note)


class Perplexity(Provider):
    id = "perplexity"
    name = "Perplexity"
    docs_url = "https://www.perplexity.ai/account/usage"
    settings = (
        Setting(
            "cookie",
            "perplexity.ai cookies: a whole Cookie header, or the bare session-token value.",
            secret=True,
            env=("PERPLEXITY_COOKIE", "PERPLEXITY_SESSION_TOKEN"),
        ),
        Setting("url", "Base URL of perplexity.ai.", default=DEFAULT_URL),
    )
    auth = (
        AuthSource(
            id="web",
            source="cookie",
            label="perplexity.ai session cookie",
            requires=("cookie",),
            hint=HINT,
            browser=BrowserLogin(
                "perplexity.ai",
                cookies=(CookieRule("cookie", ("perplexity.ai",), SESSION_COOKIES, chunked=True, header=True),),
            ),
            discovered_source="browser",
            impersonate=True,  # perplexity.ai is behind Cloudflare
        ),
    )
    windows = (WindowSpec("monthly", "Monthly credits", None, "usd"),)
    urls: ClassVar[Mapping[str, str]] = {"url": DEFAULT_URL}
    min_interval = 120.0
    redact_keys = frozenset({"customer_id", "stripe_customer_id"})
    samples = (Sample("credits-*.json", "credits"),)
    sim_credentials: ClassVar[Mapping[str, str]] = {"cookie": "sim-perplexity-session"}

    async def fetch(self, ctx: FetchContext) -> Raw:
        base = ctx.url("url")
        parts = urlsplit(base)
        origin = f"{parts.scheme}://{parts.netloc}"
        headers = {
            "Cookie": request_cookie(ctx.secret("cookie")),
            "Accept": "application/json",
            "Origin": origin,
            "Referer": f"{origin}/account/usage",
        }
        try:
            body = await _http.get_json(ctx, f"{base}{CREDITS_PATH}?{QUERY}", what="credits request", headers=headers)
        except AuthError as exc:
            raise AuthError(exc.message, hint=HINT, status_code=exc.status_code) from None
        return {"credits": body}

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parse_credits(raw.get("credits"), now)


PROVIDER = Perplexity()
