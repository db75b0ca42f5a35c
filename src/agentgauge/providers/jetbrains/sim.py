"""JetBrains AI for the simulator and the demo: no endpoints (the source is a local file), and a demo
IDE config directory whose quota file is written the way the IDE writes it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from ..simkit import SimContext, iso
from .quota import COMPONENT, QUOTA_FILE

PERIOD = timedelta(hours=720)
ALLOWANCE = 1_000_000  # raw units: 10 AI credits, the AI Pro allowance
DEMO_IDE = "IntelliJIdea2026.1"


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    return {}  # nothing to serve: the IDE's own file is the source


def _attribute(value: Any) -> str:
    """JSON pretty-printed and escaped into an XML attribute, as the IDE writes its options."""
    text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace("\n", "&#10;")


def quota_xml(quota_info: Any, next_refill: Any = None) -> str:
    """An ``AIAssistantQuotaManager2.xml`` with these options (None leaves one out)."""
    options = [
        f'    <option name="{name}" value="{_attribute(value)}" />'
        for name, value in (("quotaInfo", quota_info), ("nextRefill", next_refill))
        if value is not None
    ]
    body = "\n".join(options)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<application>\n'
        f'  <component name="{COMPONENT}">\n{body}\n  </component>\n</application>\n'
    )


def demo_quota(now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """A quota part-way through its 30-day period: use climbs with the period's progress."""
    epoch = datetime(2026, 1, 1, tzinfo=UTC)
    start = epoch + PERIOD * ((now - epoch) // PERIOD)
    progress = (now - start) / PERIOD
    used = round(ALLOWANCE * (0.05 + 0.8 * progress), 3)
    info = {
        "type": "Available",
        "current": str(used + 120_000),
        "maximum": str(ALLOWANCE + 500_000),
        "until": iso(start + timedelta(days=365)),
        "tariffQuota": {"current": str(used), "maximum": str(ALLOWANCE), "available": str(round(ALLOWANCE - used, 3))},
        "topUpQuota": {"current": "120000", "maximum": "500000", "available": "380000"},
    }
    refill = {"type": "Known", "next": iso(start + PERIOD), "tariff": {"amount": str(ALLOWANCE), "duration": "PT720H"}}
    return info, refill


def demo_settings(sim_url: str, workdir: Path) -> dict[str, str]:
    """A demo IDE config directory with a quota file; ``path`` points at it."""
    folder = workdir / "JetBrains" / DEMO_IDE
    (folder / "options").mkdir(parents=True, exist_ok=True)
    (folder / "options" / QUOTA_FILE).write_text(quota_xml(*demo_quota(datetime.now(UTC))), encoding="utf-8")
    return {"path": str(folder)}
