"""Moonshot / Kimi open platform: the account balance, ``GET {url}/users/me/balance`` with an API key.

The answer is ``{code, data: {available_balance, voucher_balance, cash_balance}, scode, status}``.
``available_balance`` is cash plus vouchers (at or below 0 the inference API refuses calls);
``cash_balance`` goes negative when the account owes money. Amounts carry no currency: the
international platform (``api.moonshot.ai``) bills in US dollars, the China platform
(``api.moonshot.cn``) in yuan, so the currency follows the region. Keys are issued per platform:
a key is never sent to the other region's host. There is no quota window: these are balances.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import orjson

from ...errors import AuthError, ParseError, UpstreamError
from ...models import Balance, Usage
from .. import _capture, _http
from .._base import AuthSource, FetchContext, Provider, Raw, Sample, Setting, WindowSpec
from .._capture import unquote
from .._parse import obj, opt_num, opt_str
from .._settings import choice, guard_region, with_scheme

REGION_ALIASES = {
    "global": "global",
    "international": "global",
    "intl": "global",
    "china": "china",
    "cn": "china",
}
REGION_URLS = {"global": "https://api.moonshot.ai/v1", "china": "https://api.moonshot.cn/v1"}
REGION_CURRENCY = {"global": "usd", "china": "cny"}
HOST_REGIONS = {"api.moonshot.ai": "global", "api.moonshot.cn": "china"}
BALANCE_PATH = "/users/me/balance"
HINT = (
    "Set AGENTGAUGE_MOONSHOT_API_KEY (or MOONSHOT_API_KEY) to a key from platform.moonshot.ai "
    "(platform.moonshot.cn keys also need AGENTGAUGE_MOONSHOT_REGION=china), then refresh."
)


def region_of(settings: Mapping[str, str]) -> str:
    hint = "Set AGENTGAUGE_MOONSHOT_REGION to 'global' or 'china'."
    return choice(settings, "region", REGION_ALIASES, default="global", provider="Moonshot", hint=hint)


def base_url(settings: Mapping[str, str]) -> str:
    """``url`` when set (a host alone is an https one), else the region's API base; a URL on the other
    region's known host is refused, so a key never leaves the platform that issued it."""
    region = region_of(settings)
    given = unquote(settings.get("url"))
    url = with_scheme(given) if given else REGION_URLS[region]
    hint = "Set AGENTGAUGE_MOONSHOT_REGION to match the host, or point the URL at your platform's host."
    return guard_region(url, region, HOST_REGIONS, provider="Moonshot", setting="url", hint=hint).rstrip("/")


def error_message(body: bytes) -> str:
    """What an OpenAI-style error answer says (``error.message``, ``error.type``), shortened."""
    try:
        root = obj(orjson.loads(body))
    except orjson.JSONDecodeError:
        return ""
    error = obj(root.get("error"))
    return (opt_str(error.get("message")) or opt_str(error.get("type")) or opt_str(root.get("message")) or "")[:200]


class Moonshot(Provider):
    id = "moonshot"
    name = "Moonshot"
    docs_url = "https://platform.moonshot.ai/console/account"
    settings = (
        Setting(
            "api_key",
            "Moonshot / Kimi open platform API key (sk-...).",
            secret=True,
            env=("MOONSHOT_API_KEY", "MOONSHOT_KEY"),
        ),
        Setting(
            "region",
            "Platform that issued the key: 'global' (api.moonshot.ai, USD) or 'china' (api.moonshot.cn, CNY).",
            default="global",
            choices=("global", "china", "international", "intl", "cn"),
            env=("MOONSHOT_REGION",),
        ),
        Setting(
            "url",
            "Base URL of the API (with /v1); defaults to the region's (https://api.moonshot.ai/v1).",
        ),
    )
    auth = (
        AuthSource(
            id="api_key",
            source="api_key",
            label="API key",
            requires=("api_key",),
            hint=HINT,
            discovered_source="api_key",
        ),
    )
    # Declared for the contract; a balance is never a window (no limit, no period).
    windows = (WindowSpec("balance", "Balance", None, None),)
    urls: ClassVar[Mapping[str, str]] = {"url": ""}  # the default depends on the region
    min_interval = 60.0
    samples = (Sample("balance-*.json", "balance", {"currency": "usd"}),)
    sim_credentials: ClassVar[Mapping[str, str]] = {"api_key": "sim-moonshot-key"}

    async def fetch(self, ctx: FetchContext) -> Raw:
        region = region_of(ctx.settings)
        url = base_url(ctx.settings) + BALANCE_PATH
        key = _capture.bare_token(ctx.secret("api_key"))
        headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
        # A 401 carries Moonshot's own reason ("Invalid Authentication"); _http maps every other status.
        response = await _http.send(ctx, "GET", url, what="balance request", headers=headers, ok_statuses=(200, 401))
        if response.status_code == 401:
            said = error_message(response.content)
            raise AuthError(
                "Moonshot: the API key was rejected (HTTP 401)" + (f": {said}" if said else ""),
                hint=HINT,
                status_code=401,
            )
        body = _http.decode_json(ctx, response, what="balance request")
        return {"balance": body, "currency": REGION_CURRENCY[region]}

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parse_balance(raw.get("balance"), str(raw.get("currency") or "usd"))


def parse_balance(root: Any, currency: str) -> Usage:
    if not isinstance(root, dict):
        raise ParseError("Moonshot: balance response is not an object", field="$")
    code = opt_num(root.get("code"), "code")
    status = root.get("status")
    failed = (code is not None and code != 0) or status is False or str(status).lower() == "false"
    if failed or ("error" in root and not isinstance(root.get("data"), dict)):
        message = error_message(orjson.dumps(root)) or opt_str(root.get("scode")) or "request failed"
        shown = int(code) if code is not None else "?"
        raise UpstreamError(f"Moonshot: balance request failed (code {shown}): {message}")
    data = root.get("data")
    if not isinstance(data, dict):
        raise ParseError("Moonshot: balance response has no 'data' object", field="data")
    available = opt_num(data.get("available_balance"), "data.available_balance")
    if available is None:
        raise ParseError("Moonshot: balance response has no 'data.available_balance'", field="data.available_balance")
    voucher = opt_num(data.get("voucher_balance"), "data.voucher_balance")
    cash = opt_num(data.get("cash_balance"), "data.cash_balance")
    balances = [Balance(id="available", label="Available balance", unit=currency, remaining=available)]
    if voucher is not None:
        balances.append(Balance(id="voucher", label="Vouchers", unit=currency, remaining=voucher))
    if cash is not None:
        label = "Cash (owed)" if cash < 0 else "Cash"
        balances.append(Balance(id="cash", label=label, unit=currency, remaining=cash))
    return Usage(balances=tuple(balances))


PROVIDER = Moonshot()
