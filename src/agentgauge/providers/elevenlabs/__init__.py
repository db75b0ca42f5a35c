"""ElevenLabs: the subscription's character (credit) quota, ``GET {url}/v1/user/subscription``.

The key goes in the ``xi-api-key`` header. ``character_count`` of ``character_limit`` is a limit
with a period: it refreshes at ``next_character_count_reset_unix`` (epoch seconds), every
``character_refresh_period`` (``monthly_period``, ``annual_period``), so it is a window. Voice
slots are limits without a period (balances); ``current_overage`` is money owed this period.
A key without the ``user_read`` permission answers HTTP 401 ``missing_permissions``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import orjson

from ...errors import AuthError, ParseError, UpstreamError
from ...models import Balance, Usage, Window
from .. import _http
from .._base import AuthSource, FetchContext, Provider, Raw, Sample, Setting, WindowSpec
from .._parse import obj, opt_num, opt_str, opt_time

DEFAULT_URL = "https://api.elevenlabs.io"
SUBSCRIPTION_PATH = "/v1/user/subscription"
HINT = (
    "Set AGENTGAUGE_ELEVENLABS_API_KEY (or ELEVENLABS_API_KEY) to a key from "
    "https://elevenlabs.io/app/settings/api-keys with the User: Read permission, then refresh."
)
# ``character_refresh_period`` -> (window id, label)
PERIODS = {"monthly_period": ("monthly", "Characters (monthly)"), "annual_period": ("yearly", "Characters (yearly)")}


def subscription_url(base: str) -> str:
    """``{url}/v1/user/subscription``; a ``url`` that already ends in ``/v1`` is not doubled."""
    base = base.rstrip("/")
    return base + SUBSCRIPTION_PATH.removeprefix("/v1") if base.endswith("/v1") else base + SUBSCRIPTION_PATH


def error_detail(body: bytes) -> tuple[str | None, str | None]:
    """``{"detail": {"status", "message"}}`` (or a plain ``detail`` string): status and message."""
    try:
        root = obj(orjson.loads(body))
    except orjson.JSONDecodeError:
        return None, None
    detail = root.get("detail")
    if isinstance(detail, str):
        return None, detail[:200]
    detail = obj(detail)
    message = opt_str(detail.get("message"))
    return opt_str(detail.get("status")), message[:200] if message else None


def _plan(root: dict[str, Any]) -> str | None:
    tier = opt_str(root.get("tier"))
    status = opt_str(root.get("status"))
    name = tier.replace("_", " ").title() if tier else None
    if status and status.lower() != "active":
        return f"{name} · {status.replace('_', ' ')}" if name else status.replace("_", " ")
    return name


def parse_subscription(root: Any) -> Usage:
    if not isinstance(root, dict):
        raise ParseError("ElevenLabs: subscription response is not an object", field="$")
    if "detail" in root and "character_limit" not in root:
        _, message = error_detail(orjson.dumps(root))
        raise UpstreamError(f"ElevenLabs: subscription request failed: {message or 'no message'}")
    count = opt_num(root.get("character_count"), "character_count")
    limit = opt_num(root.get("character_limit"), "character_limit")
    if count is None or limit is None:
        field = "character_count" if count is None else "character_limit"
        raise ParseError(f"ElevenLabs: subscription response has no '{field}'", field=field)
    period = (opt_str(root.get("character_refresh_period")) or "").lower()
    window_id, label = PERIODS.get(period, ("characters", "Characters"))
    windows: list[Window] = []
    note = None
    if limit > 0:
        windows.append(
            Window(
                id=window_id,
                label=label,
                used_pct=round(min(max(count, 0.0) / limit * 100.0, 100.0), 4),
                resets_at=opt_time(root.get("next_character_count_reset_unix"), "next_character_count_reset_unix"),
                used=count,
                limit=limit,
                unit="characters",
            )
        )
    else:
        note = "ElevenLabs reports no character quota on this subscription."
    balances: list[Balance] = []
    for key, used_key, limit_key, label_text in (
        ("voice_slots", "voice_slots_used", "voice_limit", "Voice slots"),
        ("professional_voices", "professional_voice_slots_used", "professional_voice_limit", "Professional voices"),
    ):
        cap = opt_num(root.get(limit_key), limit_key)
        used = opt_num(root.get(used_key), used_key)
        if cap is not None and cap > 0:
            remaining = cap - used if used is not None else None
            balances.append(Balance(id=key, label=label_text, unit="voices", used=used, limit=cap, remaining=remaining))
    overage = obj(root.get("current_overage"))
    amount = opt_num(overage.get("amount"), "current_overage.amount")
    if amount is not None and amount > 0:
        currency = (opt_str(overage.get("currency")) or opt_str(root.get("currency")) or "usd").lower()
        balances.append(Balance(id="overage", label="Overage this period", unit=currency, used=amount))
    return Usage(windows=tuple(windows), balances=tuple(balances), plan=_plan(root), note=note)


class ElevenLabs(Provider):
    id = "elevenlabs"
    name = "ElevenLabs"
    docs_url = "https://elevenlabs.io/app/subscription"
    settings = (
        Setting(
            "api_key",
            "ElevenLabs API key (needs the User: Read permission).",
            secret=True,
            env=("ELEVENLABS_API_KEY", "XI_API_KEY"),
        ),
        Setting("url", "Base URL of the ElevenLabs API.", default=DEFAULT_URL, env=("ELEVENLABS_API_URL",)),
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
        WindowSpec("monthly", "Characters (monthly)", None, "characters"),
        WindowSpec("yearly", "Characters (yearly)", None, "characters"),
        WindowSpec("characters", "Characters", None, "characters"),
    )
    urls: ClassVar[Mapping[str, str]] = {"url": DEFAULT_URL}
    min_interval = 60.0
    samples = (Sample("subscription-*.json", "subscription"),)
    sim_credentials: ClassVar[Mapping[str, str]] = {"api_key": "sim-elevenlabs-key"}

    async def fetch(self, ctx: FetchContext) -> Raw:
        headers = {"xi-api-key": ctx.secret("api_key").strip(), "Accept": "application/json"}
        url = subscription_url(ctx.url("url"))
        # A 401 says why in ``detail`` (a bad key, or a key without user_read); _http maps the rest.
        response = await _http.send(
            ctx, "GET", url, what="subscription request", headers=headers, ok_statuses=(200, 401)
        )
        if response.status_code == 401:
            status, message = error_detail(response.content)
            if status == "missing_permissions":
                raise AuthError(
                    "ElevenLabs: the API key lacks the User: Read permission (HTTP 401 missing_permissions)",
                    hint=HINT,
                    status_code=401,
                )
            said = f": {status or message}" if (status or message) else ""
            raise AuthError(f"ElevenLabs: the API key was rejected (HTTP 401){said}", hint=HINT, status_code=401)
        return {"subscription": _http.decode_json(ctx, response, what="subscription request")}

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parse_subscription(raw.get("subscription"))


PROVIDER = ElevenLabs()
