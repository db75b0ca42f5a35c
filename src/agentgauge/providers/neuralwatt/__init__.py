"""Neuralwatt Cloud: ``GET {url}/v1/quota`` with an API key as a Bearer token.

One answer holds two separate things: the prepaid balance in US dollars (``balance``, spent as
used, refilled by topping up: no period, so a balance) and an energy subscription billed in kWh
against an allowance per billing period (``subscription``: a window, resetting at
``current_period_end``). Beside them: this month's spend and energy (``usage.current_month``), an
optional spending allowance of the key itself (``key.allowance``, a window when it names its
period) and an overage cap (``limits.overage_limit_usd``). Neuralwatt allows one quota request per
second per customer.
"""

from __future__ import annotations

from datetime import datetime

from ...models import Usage
from .. import _http
from .._base import AuthSource, FetchContext, Provider, Raw, Sample, Setting, WindowSpec
from .parsing import parse_quota

DEFAULT_URL = "https://api.neuralwatt.com"
HINT = (
    "Set AGENTGAUGE_NEURALWATT_API_KEY (or NEURALWATT_API_KEY) to a key from "
    "https://portal.neuralwatt.com/dashboard, then refresh."
)


def quota_url(base: str) -> str:
    """``{url}/v1/quota``; a base already ending in ``/v1`` (as OpenAI-style clients set it) gets ``/quota``."""
    base = base.rstrip("/")
    return base + ("/quota" if base.endswith("/v1") else "/v1/quota")


class Neuralwatt(Provider):
    id = "neuralwatt"
    name = "Neuralwatt"
    docs_url = "https://portal.neuralwatt.com/dashboard"
    settings = (
        Setting("api_key", "Neuralwatt API key (sk-...).", secret=True, env=("NEURALWATT_API_KEY",)),
        Setting(
            "url",
            "Base URL of the Neuralwatt API (a trailing /v1 is accepted).",
            default=DEFAULT_URL,
            env=("NEURALWATT_API_URL",),
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
    windows = (
        WindowSpec("energy", "Subscription energy", None, "kwh"),
        WindowSpec("key_*", "API key allowance", None, "usd"),
    )
    urls = {"url": DEFAULT_URL}
    min_interval = 60.0
    redact_keys = frozenset({"name"})  # the key's own name
    samples = (Sample("quota-*.json", "quota"),)
    sim_credentials = {"api_key": "sim-neuralwatt-key"}

    async def fetch(self, ctx: FetchContext) -> Raw:
        headers = {"Authorization": f"Bearer {ctx.secret('api_key').strip()}", "Accept": "application/json"}
        return {"quota": await _http.get_json(ctx, quota_url(ctx.url("url")), what="quota request", headers=headers)}

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parse_quota(raw.get("quota"))


PROVIDER = Neuralwatt()
