"""Venice: the API balance, ``GET {url}/billing/balance`` with an admin API key.

The answer is ``{canConsume, consumptionCurrency, balances: {diem, usd}, diemEpochAllocation}``.
Staked DIEM grants API credit per day: ``diemEpochAllocation`` is the day's allocation and
``balances.diem`` what is left of it, a limit with a period, so it is a window that resets at
00:00 UTC. The USD balance is prepaid money: a balance. Inference keys get HTTP 401 here; the
endpoint needs an admin key.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from ...errors import AuthError, ParseError, UpstreamError
from ...models import Balance, Usage, Window
from .. import _capture, _http, _time
from .._base import AuthSource, FetchContext, Provider, Raw, Sample, Setting, WindowSpec
from .._parse import obj, opt_num, opt_str

DEFAULT_URL = "https://api.venice.ai/api/v1"
BALANCE_PATH = "/billing/balance"
HINT = (
    "Set AGENTGAUGE_VENICE_API_KEY (or VENICE_API_KEY) to an ADMIN key from https://venice.ai/settings/api "
    "(inference keys cannot read the balance), then refresh."
)


def parse_balance(root: Any, now: datetime) -> Usage:
    if not isinstance(root, dict):
        raise ParseError("Venice: balance response is not an object", field="$")
    if "balances" not in root and root.get("error") is not None:
        error = root.get("error")
        message = opt_str(obj(error).get("message")) or opt_str(error) or "request failed"
        raise UpstreamError(f"Venice: balance request failed: {message[:200]}")
    balances_obj = root.get("balances")
    if not isinstance(balances_obj, dict):
        raise ParseError("Venice: balance response has no 'balances' object", field="balances")
    diem = opt_num(balances_obj.get("diem"), "balances.diem")
    usd = opt_num(balances_obj.get("usd"), "balances.usd")
    allocation = opt_num(root.get("diemEpochAllocation"), "diemEpochAllocation")
    windows: list[Window] = []
    balances: list[Balance] = []
    if allocation is not None and allocation > 0:
        left = diem if diem is not None else 0.0
        used = max(allocation - left, 0.0)
        windows.append(
            Window(
                id="daily",
                label="DIEM (daily)",
                used_pct=round(min(used / allocation * 100.0, 100.0), 4),
                resets_at=_time.next_midnight(now),
                window_seconds=86400,
                used=round(used, 6),
                limit=allocation,
                unit="diem",
            )
        )
    elif diem is not None and diem != 0:
        # DIEM left without an allocation this epoch (legacy credits): what it is, not a percent.
        balances.append(Balance(id="diem", label="DIEM", unit="diem", remaining=diem))
    if usd is not None:
        balances.append(Balance(id="usd", label="USD balance", unit="usd", remaining=usd))
    currency = (opt_str(root.get("consumptionCurrency")) or "").upper()
    note = None
    if root.get("canConsume") is False:
        note = "Venice says the balance cannot pay for API calls now (canConsume: false)."
    elif not windows and not balances:
        note = "Venice reports no DIEM allocation and no USD balance."
    plan = f"Paying with {currency}" if currency else None
    return Usage(windows=tuple(windows), balances=tuple(balances), plan=plan, note=note)


class Venice(Provider):
    id = "venice"
    name = "Venice"
    docs_url = "https://venice.ai/settings/api"
    settings = (
        Setting(
            "api_key",
            "Venice ADMIN API key (inference keys cannot read the balance).",
            secret=True,
            env=("VENICE_API_KEY", "VENICE_KEY"),
        ),
        Setting("url", "Base URL of the Venice API.", default=DEFAULT_URL),
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
    windows = (WindowSpec("daily", "DIEM (daily)", 86400, "diem"),)
    urls: ClassVar[Mapping[str, str]] = {"url": DEFAULT_URL}
    min_interval = 60.0
    samples = (Sample("balance-*.json", "balance"),)
    sim_credentials: ClassVar[Mapping[str, str]] = {"api_key": "sim-venice-admin-key"}

    async def fetch(self, ctx: FetchContext) -> Raw:
        key = _capture.bare_token(ctx.secret("api_key"))  # a pasted "Bearer ..." header too
        headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
        try:
            body = await _http.get_json(ctx, ctx.url("url") + BALANCE_PATH, what="balance request", headers=headers)
        except AuthError as exc:  # re-raised with the hint that inference keys do not work here
            raise AuthError(exc.message, hint=HINT, status_code=exc.status_code) from None
        return {"balance": body}

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parse_balance(raw.get("balance"), now)


PROVIDER = Venice()
