"""JetBrains AI: the AI Assistant quota every JetBrains IDE caches in ``options/AIAssistantQuotaManager2.xml``.

No network: the IDE's own copy of the account's quota is read. ``quotaInfo`` holds the figures
(numbers as strings): ``tariffQuota`` is the subscription's allowance that refills every
``nextRefill.tariff.duration`` (``PT720H``) at ``nextRefill.next``, ``topUpQuota`` a purchased
balance that carries over, and the top-level ``current``/``maximum`` their sum. Raw units are a
hundred-thousandth of an AI credit (the IDE shows a 1 000 000 allowance as 10 credits).

An empty ``quotaInfo`` means the IDE has no quota yet (AI Assistant never used there): discovery
then looks at the other IDEs, and reports nothing found rather than an error.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

from ...errors import ParseError, ProviderConfigError
from ...models import Balance, Usage, Window
from .._base import (
    AuthSource,
    DiscoverContext,
    Discovered,
    FetchContext,
    Provider,
    Raw,
    Sample,
    Secret,
    Setting,
    WindowSpec,
)
from .._parse import Salvage, label_for, obj, opt_num, opt_time, window_id_for
from . import locate
from .quota import QUOTA_FILE, QuotaOptions, duration_seconds, read_options

CREDIT = 100_000.0  # raw quota units per AI credit, as the IDE's own widget counts them
HINT = (
    "Use AI Assistant once in a JetBrains IDE (it then caches the quota in options/AIAssistantQuotaManager2.xml), "
    "or set AGENTGAUGE_JETBRAINS_PATH to the IDE's config directory, then refresh."
)
HINT_EMPTY = "Use AI Assistant once in that IDE (it writes the quota after its first request), then refresh."


def _discover(ctx: DiscoverContext) -> Discovered | None:
    """The config directory of the IDE whose quota file was written last and holds a quota."""
    files = locate.quota_files(locate.config_roots(ctx.env, ctx.home))
    chosen = locate.newest_with_quota(files)
    if chosen is None:
        return None  # no IDE has a quota yet: nothing to show, not an error
    folder = chosen.path.parent.parent
    return Discovered({"path": Secret(str(folder))}, str(chosen.path), {"ide": chosen.ide})


def _credits(value: float | None) -> float | None:
    return None if value is None else round(value / CREDIT, 6)


class JetBrains(Provider):
    id = "jetbrains"
    name = "JetBrains AI"
    docs_url = "https://www.jetbrains.com/ai-ides/buy/"
    settings = (
        Setting(
            "path",
            "An IDE config directory (e.g. ~/.config/JetBrains/PyCharm2025.3), its quota file, or a vendor "
            "folder holding several IDEs; found automatically when unset.",
        ),
    )
    auth = (
        AuthSource(
            id="ide",
            source="local_file",
            label="JetBrains IDE quota file",
            requires=("path",),
            hint=HINT,
            discover=_discover,
            discovered_source="local_file",
        ),
    )
    windows = (
        WindowSpec("monthly", "Monthly credits", 2592000, "credits"),
        WindowSpec("weekly", "Weekly credits", 604800, "credits"),
        WindowSpec("daily", "Daily credits", 86400, "credits"),
        WindowSpec("window_*", "Credits", None, "credits"),
    )
    min_interval = 60.0
    timeout = 10.0
    response_format = "local"
    samples = (
        Sample("*.xml", "quota_xml", format="text"),
        Sample("quotaInfo-decoded*.json", "quota_info", {"next_refill": None}),
        Sample(
            "nextRefill-decoded*.json",
            "next_refill",
            {"quota_info": {"type": "Available", "current": "250000", "maximum": "1000000"}},
        ),
    )

    async def fetch(self, ctx: FetchContext) -> Raw:
        setting = Path(ctx.secret("path")).expanduser()
        found = await asyncio.to_thread(locate.resolve, setting)
        if found is None:
            # Messages never quote the path: credential values are scrubbed from them, mangling it.
            raise ProviderConfigError(f"JetBrains AI: no {QUOTA_FILE} at or under the configured path", hint=HINT)
        try:
            text = await asyncio.to_thread(found.path.read_text, encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ProviderConfigError(
                f"JetBrains AI: cannot read the quota file of {found.ide} ({type(exc).__name__})"
            ) from None
        return {"quota_xml": text, "ide": found.ide}

    def parse(self, raw: Raw, now: datetime) -> Usage:
        if "quota_xml" in raw:
            if not isinstance(raw["quota_xml"], str):
                raise ParseError("JetBrains AI: the quota file is not text", field="$")
            options = read_options(raw["quota_xml"])
        else:
            options = QuotaOptions(raw.get("quota_info"), raw.get("next_refill"))
        if options.quota_info is None:
            ide = raw.get("ide")
            where = f"the quota file of {ide}" if isinstance(ide, str) and ide else "the quota file"
            # An empty value means "no data yet" (AI Assistant not used in that IDE), not an error.
            return Usage(note=f"JetBrains AI: {where} holds no quota yet. {HINT_EMPTY}")
        quota = options.quota_info
        if not isinstance(quota, dict):
            raise ParseError("JetBrains AI: quotaInfo is not an object", field="quotaInfo")
        salvage = Salvage()
        windows = [w for w in [salvage.keep(lambda: _allowance(quota, options.next_refill))] if w is not None]
        balances = [b for b in [salvage.keep(lambda: _top_up(quota))] if b is not None]
        return Usage(windows=tuple(windows), balances=tuple(balances), warnings=salvage.warnings())


def _refill(next_refill: Any) -> tuple[datetime | None, int | None]:
    refill = obj(next_refill)
    tariff = obj(refill.get("tariff"))
    seconds = duration_seconds(tariff.get("duration") or refill.get("duration"))
    return opt_time(refill.get("next"), "nextRefill.next"), seconds


def _allowance(quota: dict[str, Any], next_refill: Any) -> Window | None:
    """The subscription's allowance (``tariffQuota``; the totals when an older IDE wrote none)."""
    tariff = obj(quota.get("tariffQuota"))
    block, where = (tariff, "quotaInfo.tariffQuota") if tariff else (quota, "quotaInfo")
    maximum = opt_num(block.get("maximum"), f"{where}.maximum")
    if maximum is None:
        raise ParseError(f"JetBrains AI: {where} has no maximum", field=f"{where}.maximum")
    if maximum <= 0:
        return None  # a plan without an allowance: no window, never a 0 % one
    used = opt_num(block.get("current"), f"{where}.current")
    if used is None:
        available = opt_num(block.get("available"), f"{where}.available")
        if available is None:
            raise ParseError(f"JetBrains AI: {where} has neither current nor available", field=f"{where}.current")
        used = max(maximum - available, 0.0)
    resets_at, seconds = _refill(next_refill)
    wid = window_id_for(seconds) if seconds else "monthly"
    label = "Monthly credits" if wid == "monthly" else f"{label_for(wid, seconds)} credits"
    return Window(
        id=wid,
        label=label,
        used_pct=round(used / maximum * 100.0, 4),
        resets_at=resets_at,
        window_seconds=seconds,
        used=_credits(used),
        limit=_credits(maximum),
        unit="credits",
    )


def _top_up(quota: dict[str, Any]) -> Balance | None:
    """Purchased credits (``topUpQuota``): a balance that carries over, drawn once the allowance is spent."""
    top_up = obj(quota.get("topUpQuota"))
    maximum = opt_num(top_up.get("maximum"), "quotaInfo.topUpQuota.maximum")
    if not maximum or maximum <= 0:
        return None
    used = opt_num(top_up.get("current"), "quotaInfo.topUpQuota.current")
    available = opt_num(top_up.get("available"), "quotaInfo.topUpQuota.available")
    if available is None and used is not None:
        available = max(maximum - used, 0.0)
    return Balance(
        id="top_up",
        label="Top-up credits",
        unit="credits",
        remaining=_credits(available),
        used=_credits(used),
        limit=_credits(maximum),
    )


PROVIDER = JetBrains()
