"""Pure parser for Cline Pass's ``/api/v1/users/me/plan/usage-limits`` answer.

``{success: true, data: {limits: [{type, percentUsed, resetsAt}]}}``. ``percentUsed`` is a
percent (0-100, fractions allowed); ``resetsAt`` is ISO-8601 or ``null`` (a window not started).
``five_hour``, ``weekly`` and ``monthly`` are the plan's rolling limits; any other type (Cline
has sent ``experimental_pool``) is shown under its own name with no assumed length. Each limit
is read on its own: one that drifted becomes a warning naming its field.
"""

from __future__ import annotations

from typing import Any

from ...errors import ParseError, UpstreamError
from ...models import Usage, Window
from .._parse import Salvage, obj, opt_num, opt_str, opt_time, slug, unique_id

# type -> (window id, label, seconds)
KNOWN = {
    "five_hour": ("session", "Session (5h)", 18000),
    "weekly": ("weekly", "Weekly", 604800),
    "monthly": ("monthly", "Monthly", None),
}


def parse_limits(root: Any) -> Usage:
    if not isinstance(root, dict):
        raise ParseError("Cline Pass: the usage-limits answer is not an object", field="$")
    if root.get("success") is False:
        message = opt_str(root.get("error")) or opt_str(obj(root.get("error")).get("message")) or "request failed"
        raise UpstreamError(f"Cline Pass: the usage-limits request failed: {message[:200]}")
    data = root.get("data")
    if not isinstance(data, dict):
        raise ParseError("Cline Pass: the answer has no 'data' object", field="data")
    limits = data.get("limits")
    if not isinstance(limits, list):
        raise ParseError("Cline Pass: 'data.limits' is not a list", field="data.limits")
    salvage = Salvage()
    taken: set[str] = set()
    windows = salvage.each(limits, lambda i, entry: _window(entry, f"data.limits[{i}]", taken))
    order = {"session": 0, "weekly": 1, "monthly": 2}
    windows.sort(key=lambda w: order.get(w.id, 3))
    return Usage(windows=tuple(windows), warnings=salvage.warnings())


def _window(entry: Any, where: str, taken: set[str]) -> Window:
    if not isinstance(entry, dict):
        raise ParseError(f"Cline Pass: '{where}' is not an object", field=where)
    kind = opt_str(entry.get("type"))
    if kind is None:
        raise ParseError(f"Cline Pass: '{where}.type' is missing", field=f"{where}.type")
    pct = opt_num(entry.get("percentUsed"), f"{where}.percentUsed")
    if pct is None:
        raise ParseError(f"Cline Pass: '{where}.percentUsed' is missing", field=f"{where}.percentUsed")
    if kind.lower() in KNOWN:
        wid, label, seconds = KNOWN[kind.lower()]
    else:
        wid, label, seconds = f"limit_{slug(kind)}", kind.replace("_", " ").strip().capitalize(), None
    return Window(
        id=unique_id(wid, taken),
        label=label,
        used_pct=max(0.0, pct),
        resets_at=opt_time(entry.get("resetsAt"), f"{where}.resetsAt"),
        window_seconds=seconds,
    )
