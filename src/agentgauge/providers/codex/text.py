"""Pure parsers for the Codex text surfaces: the TUI ``/status`` text and the chatgpt.com usage
page (both give the percent *left*). Nothing here does I/O; ``now`` is always passed in."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, tzinfo

from ...errors import ParseError
from ...models import Usage, Window
from .._parse import label_for, obj, opt_str, unique_id

# -- text surfaces: TUI /status and the chatgpt.com usage page -------------------------------
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_STATUS_LINE = re.compile(
    r"(?P<name>5h|Weekly)\s*limit:[^\n%]*?(?P<pct>\d+(?:\.\d+)?)\s*%\s*left"
    r"(?:\s*\(resets\s*(?P<h>\d{1,2}):(?P<m>\d{2})(?:\s*on\s*(?P<day>\d{1,2})\s*(?P<mon>[A-Za-z]{3}))?\))?",
    re.I,
)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_STATUS_IDS = {"5h": ("session", 18000), "weekly": ("weekly", 604800)}


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text).replace("\r", "")


def _next_local(now: datetime, tz: tzinfo, hour: int, minute: int, day: int | None, month: int | None) -> datetime:
    """The next ``HH:MM`` (optionally on ``day month``) after ``now`` in ``tz``, in UTC."""
    local = now.astimezone(tz)
    if day and month:
        when = datetime(local.year, month, day, hour, minute, tzinfo=tz)
        if when <= local:
            when = when.replace(year=local.year + 1)
    else:
        when = datetime(local.year, local.month, local.day, hour, minute, tzinfo=tz)
        if when <= local:
            nxt = local.date() + timedelta(days=1)
            when = datetime(nxt.year, nxt.month, nxt.day, hour, minute, tzinfo=tz)
    return when.astimezone(UTC)


def parse_status_text(text: str, now: datetime, tz: tzinfo | None = None) -> Usage:
    """Codex TUI ``/status``: ``5h limit: [...] 75% left (resets 09:01)``. Reset times are the
    machine's local time (``tz``, default the local zone); the percent is what is *left*."""
    zone = tz or datetime.now().astimezone().tzinfo or UTC
    windows: list[Window] = []
    taken: set[str] = set()
    for match in _STATUS_LINE.finditer(strip_ansi(text)):
        base, seconds = _STATUS_IDS[match["name"].lower()]
        resets = None
        if match["h"]:
            month = _MONTHS.index(match["mon"].lower()) + 1 if match["mon"] else None
            try:
                resets = _next_local(
                    now, zone, int(match["h"]), int(match["m"]), int(match["day"]) if match["day"] else None, month
                )
            except ValueError:
                resets = None
        wid = unique_id(base, taken)
        windows.append(
            Window(
                id=wid,
                label=label_for(base, seconds),
                used_pct=100.0 - float(match["pct"]),
                resets_at=resets,
                window_seconds=seconds,
            )
        )
    if not windows:
        raise ParseError("Codex CLI: /status text has no '5h limit' or 'Weekly limit' line", field="5h limit")
    return Usage(windows=tuple(windows))


_TAGS = re.compile(r"<script\b[^>]*>[\s\S]*?</script>|<style\b[^>]*>[\s\S]*?</style>|<[^>]+>", re.I)
_PAGE_LIMIT = re.compile(r"(?P<name>5h|Weekly)\s*limit\s*(?P<pct>\d+(?:\.\d+)?)\s*%\s*remaining", re.I)
_BOOTSTRAP = re.compile(r'<script[^>]*id="client-bootstrap"[^>]*>([\s\S]*?)</script>', re.I)


def parse_dashboard_html(html: str) -> Usage:
    """chatgpt.com/codex/settings/usage: "5h limit 72% remaining". Its reset lines ("today at
    2:15 PM") carry no zone or date, so no reset time is derived from them."""
    text = " ".join(_TAGS.sub(" ", html).split())
    windows: list[Window] = []
    taken: set[str] = set()
    for match in _PAGE_LIMIT.finditer(text):
        base, seconds = _STATUS_IDS[match["name"].lower()]
        windows.append(
            Window(
                id=unique_id(base, taken),
                label=label_for(base, seconds),
                used_pct=100.0 - float(match["pct"]),
                window_seconds=seconds,
            )
        )
    if not windows:
        raise ParseError("Codex: usage page has no '5h limit' or 'Weekly limit' figure", field="5h limit")
    plan = None
    bootstrap = _BOOTSTRAP.search(html)
    if bootstrap:
        try:
            plan = opt_str(obj(json.loads(bootstrap.group(1))).get("planType"))
        except ValueError:
            plan = None
    return Usage(windows=tuple(windows), plan=plan)
