"""Cline Pass: the plan's usage limits, ``GET {url}/api/v1/users/me/plan/usage-limits`` with a Cline
API key as the Bearer token.

The answer is ``{success, data: {limits: [{type, percentUsed, resetsAt}]}}``: each limit is a
percent used of a rolling allowance (``five_hour``, ``weekly``, ``monthly``; others appear, such
as ``experimental_pool``). ``parsing`` reads it.
"""

from __future__ import annotations

from datetime import datetime

from ...errors import AuthError
from ...models import Usage
from .. import _capture, _http
from .._base import AuthSource, FetchContext, Provider, Raw, Sample, Setting, WindowSpec
from . import parsing

DEFAULT_URL = "https://api.cline.bot"
LIMITS_PATH = "/api/v1/users/me/plan/usage-limits"
HINT = (
    "Set AGENTGAUGE_CLINEPASS_API_KEY (or CLINE_API_KEY) to a key from "
    "https://app.cline.bot (Settings, API keys), then refresh."
)


def bare_key(value: str) -> str:
    """A key as people paste it: quotes, spaces and a leading ``Bearer`` removed."""
    return _capture.bare_token(value)


class ClinePass(Provider):
    id = "clinepass"
    name = "Cline Pass"
    docs_url = "https://app.cline.bot/dashboard/subscription?personal=true"
    settings = (
        Setting(
            "api_key",
            "Cline API key (the account's key from app.cline.bot).",
            secret=True,
            env=("CLINE_API_KEY", "CLINEPASS_API_KEY"),
        ),
        Setting("url", "Base URL of the Cline API.", default=DEFAULT_URL, env=("CLINEPASS_API_URL",)),
    )
    auth = (
        AuthSource(
            id="api_key",
            source="api_key",
            label="Cline API key",
            requires=("api_key",),
            hint=HINT,
            discovered_source="api_key",
        ),
    )
    windows = (
        WindowSpec("session", "Session (5h)", 18000, None),
        WindowSpec("weekly", "Weekly", 604800, None),
        WindowSpec("monthly", "Monthly", None, None),
        WindowSpec("limit_*", "Other limit", None, None),
    )
    urls = {"url": DEFAULT_URL}
    min_interval = 60.0
    samples = (Sample("usage-limits*.json", "limits"),)
    sim_credentials = {"api_key": "sim-clinepass-key"}
    demo_accounts = ("team",)

    async def fetch(self, ctx: FetchContext) -> Raw:
        headers = {"Authorization": f"Bearer {bare_key(ctx.secret('api_key'))}", "Accept": "application/json"}
        try:
            payload = await _http.get_json(
                ctx, ctx.url("url") + LIMITS_PATH, what="usage-limits request", headers=headers
            )
        except AuthError as exc:
            raise AuthError(exc.message, hint=HINT, status_code=exc.status_code) from None
        return {"limits": payload}

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parsing.parse_limits(raw.get("limits"))


PROVIDER = ClinePass()
