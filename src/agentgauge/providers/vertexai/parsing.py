"""Pure: Cloud Monitoring ``consumer_quota`` time series of ``aiplatform.googleapis.com`` as windows.

Three metrics (resource ``consumer_quota``, labels ``project_id``/``service``/``location``):

- ``serviceruntime.googleapis.com/quota/allocation/usage`` (GAUGE): what an allocation quota holds
  now (entities, endpoints...); the newest point counts.
- ``serviceruntime.googleapis.com/quota/rate/net_usage`` (DELTA): rate-quota use, fetched as sums per
  minute; the busiest minute of the last hour counts against a per-minute limit.
- ``serviceruntime.googleapis.com/quota/limit`` (GAUGE, label ``limit_name``): each limit's value.

Every series carries ``metric.labels.quota_metric``. A usage series is matched to its limit by
(quota metric, limit name, location); a usage series without ``limit_name`` takes the one positive
limit of its quota metric and location, else the one project-wide limit among them (``...PerProject``,
``...PerProjectPerRegion``), else none (several per-dimension limits cannot be told apart: a warning).
Rate usage is only compared with per-minute limits (``...PerMinute...``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ...errors import ParseError
from ...models import Usage, Window
from .._parse import Salvage, items, obj, opt_num, opt_str, slug

ALLOCATION = "serviceruntime.googleapis.com/quota/allocation/usage"
RATE = "serviceruntime.googleapis.com/quota/rate/net_usage"
LIMIT = "serviceruntime.googleapis.com/quota/limit"
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
PROJECT_WIDE = ("PerProject", "PerProjectPerRegion")


@dataclass(frozen=True)
class Key:
    quota_metric: str
    limit_name: str
    location: str


def _key(series: dict[str, Any], where: str) -> Key:
    metric, resource = obj(series.get("metric")), obj(series.get("resource"))
    labels, resource_labels = obj(metric.get("labels")), obj(resource.get("labels"))
    quota_metric = opt_str(labels.get("quota_metric")) or opt_str(resource_labels.get("quota_id"))
    if quota_metric is None:
        raise ParseError(f"Vertex AI: {where} has no quota_metric label", field=f"{where}.metric.labels.quota_metric")
    location = opt_str(resource_labels.get("location")) or "global"
    return Key(quota_metric, opt_str(labels.get("limit_name")) or "", location)


def _value(point: Any, where: str) -> float | None:
    value = obj(obj(point).get("value"))
    for name in ("int64Value", "doubleValue"):
        number = opt_num(value.get(name), f"{where}.value.{name}")
        if number is not None:
            return number
    return None


def _values(series: dict[str, Any], where: str) -> list[float]:
    """The series' point values, newest first (the order Cloud Monitoring returns them in)."""
    points = items(series.get("points"))
    out = [_value(p, f"{where}.points[{i}]") for i, p in enumerate(points)]
    return [v for v in out if v is not None]


def aggregate(payload: Any, name: str, *, newest: bool, salvage: Salvage) -> dict[Key, float]:
    """One value per key: the newest point (a gauge now) or the largest (the busiest minute)."""
    out: dict[Key, float] = {}

    def build(index: int, series: dict[str, Any]) -> None:
        where = f"{name}.timeSeries[{index}]"
        key = _key(series, where)
        values = _values(series, where)
        if not values:
            return
        value = values[0] if newest else max(values)
        out[key] = max(out.get(key, value), value)

    salvage.each(items(obj(payload).get("timeSeries")), build)
    return out


def _candidates(key: Key, limits: dict[Key, float], rate: bool) -> list[tuple[Key, float]]:
    if key.limit_name:
        exact = limits.get(key)
        return [(key, exact)] if exact and exact > 0 else []
    found = [
        (k, v)
        for k, v in limits.items()
        if v > 0
        and k.quota_metric == key.quota_metric
        and k.location == key.location
        and (not rate or "PerMinute" in k.limit_name)
    ]
    if len(found) > 1:
        wide = [(k, v) for k, v in found if k.limit_name.endswith(PROJECT_WIDE)]
        found = wide if len(wide) == 1 else found
    return found


def words(limit_name: str) -> str:
    """``GenerateContentRequestsPerMinutePerProject`` -> ``Generate content requests per minute per project``."""
    text = _CAMEL.sub(" ", limit_name).lower()
    return text[:1].upper() + text[1:]


def _window(key: Key, used: float, limit: float, rate: bool) -> Window:
    kind = "rate" if rate else "alloc"
    name = key.limit_name or key.quota_metric.rsplit("/", 1)[-1]
    return Window(
        id=f"{kind}_{slug(_CAMEL.sub('_', name))}_{slug(key.location)}",
        label=f"{words(name)} · {key.location}",
        used_pct=round(used / limit * 100.0, 4),
        window_seconds=60 if rate else None,
        used=used,
        limit=limit,
    )


def parse_quota(raw: dict[str, Any]) -> Usage:
    salvage = Salvage()
    allocation = aggregate(raw.get("allocation"), "allocation", newest=True, salvage=salvage)
    rate = aggregate(raw.get("rate"), "rate", newest=False, salvage=salvage)
    limits = aggregate(raw.get("limit"), "limit", newest=True, salvage=salvage)
    windows: list[Window] = []
    unmatched: list[str] = []
    for usage, is_rate in ((allocation, False), (rate, True)):
        for key, used in sorted(usage.items(), key=lambda kv: (kv[0].quota_metric, kv[0].limit_name, kv[0].location)):
            found = _candidates(key, limits, is_rate)
            if len(found) != 1:
                unmatched.append(f"{key.quota_metric} ({key.location})")
                continue
            limit_key, limit = found[0]
            windows.append(_window(limit_key, used, limit, is_rate))
    if unmatched:
        salvage.problems.append(
            ParseError(
                f"Vertex AI: no single limit matches the usage of {', '.join(unmatched[:3])}"
                + (f" and {len(unmatched) - 3} more" if len(unmatched) > 3 else ""),
                field="limit.timeSeries",
            )
        )
    seen: dict[str, Window] = {}
    for window in windows:  # two usage series for one limit (several methods): keep the larger
        if window.id not in seen or window.used_pct > seen[window.id].used_pct:
            seen[window.id] = window
    windows = sorted(seen.values(), key=lambda w: -w.used_pct)
    if windows:
        top = windows[0]
        windows.insert(0, Window(id="quota", label="Highest quota", used_pct=top.used_pct))
    elif not allocation and not rate and (limits or raw.get("has_limits")):
        # Quotas exist and nothing uses them: every quota is at 0 %, which is the truth, not a guess.
        windows.append(Window(id="quota", label="Highest quota", used_pct=0.0))
    return Usage(windows=tuple(windows), warnings=salvage.warnings())
