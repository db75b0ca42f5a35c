"""Cloud Monitoring's query rules and aggregation for the simulator (pure; only ``sim`` loads it):
which requests the real API refuses, how it aligns points into periods and reduces series, and how
it renders them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from .parsing import ALLOCATION, LIMIT, RATE

KINDS = {ALLOCATION: "GAUGE", LIMIT: "GAUGE", RATE: "DELTA"}
ALIGNERS = {
    "GAUGE": {"ALIGN_NEXT_OLDER", "ALIGN_MAX", "ALIGN_MIN", "ALIGN_MEAN", "ALIGN_SUM", "ALIGN_COUNT"},
    "DELTA": {"ALIGN_SUM", "ALIGN_DELTA", "ALIGN_RATE", "ALIGN_MAX", "ALIGN_MIN", "ALIGN_MEAN", "ALIGN_COUNT"},
}
TYPE = re.compile(r'metric\.type\s*=\s*"([^"]+)"')
ONE_OF = re.compile(r"metric\.labels?\.quota_metric\s*=\s*one_of\(([^)]*)\)")
PERIOD = re.compile(r"^(\d+)s$")


def aggregate(raw: list[dict[str, Any]], start: datetime, end: datetime, query: Mapping[str, Any]) -> Any:
    """Align each series into periods ending at ``end`` (newest first), then reduce across series."""
    aligner = query.get("aggregation.perSeriesAligner") or "ALIGN_NONE"
    window = [s | {"points": [p for p in s["points"] if start < p["at"] <= end]} for s in raw]
    if aligner == "ALIGN_NONE":
        return [s for s in window if s["points"]]
    period = timedelta(seconds=int(PERIOD.match(query["aggregation.alignmentPeriod"])[1]))  # type: ignore[index]
    aligned = []
    for s in window:
        buckets: dict[int, list[tuple[datetime, float]]] = {}
        for p in s["points"]:
            buckets.setdefault((end - p["at"]) // period, []).append((p["at"], p["value"]))
        points = []
        for index in sorted(buckets):
            values = buckets[index]
            if aligner == "ALIGN_NEXT_OLDER":
                value = max(values)[1]
            elif aligner == "ALIGN_SUM":
                value = sum(v for _, v in values)
            elif aligner == "ALIGN_MAX":
                value = max(v for _, v in values)
            else:
                value = sum(v for _, v in values) / len(values)
            points.append({"at": end - period * index, "value": value})
        if points:
            aligned.append(s | {"points": points})
    reducer = query.get("aggregation.crossSeriesReducer") or "REDUCE_NONE"
    if reducer == "REDUCE_NONE":
        return aligned
    groups: dict[tuple[str, ...], dict[str, Any]] = {}
    fields = query.get("aggregation.groupByFields") or []
    for s in aligned:
        key = tuple(_label(s, f) for f in fields)
        group = groups.setdefault(
            key,
            {
                "metric": {"type": s["metric"]["type"], "labels": {}},
                "resource": {
                    "type": "consumer_quota",
                    "labels": {"project_id": s["resource"]["labels"]["project_id"]},
                },
                "metricKind": s["metricKind"],
                "valueType": s["valueType"],
                "points": {},
            },
        )
        for field, label_value in zip(fields, key, strict=True):
            scope, _, name = field.partition(".label.")
            group["metric" if scope == "metric" else "resource"]["labels"][name] = label_value
        for p in s["points"]:
            group["points"][p["at"]] = group["points"].get(p["at"], 0) + p["value"]
    return [
        g | {"points": [{"at": at, "value": v} for at, v in sorted(g["points"].items(), reverse=True)]}
        for g in groups.values()
    ]


def _label(series: dict[str, Any], field: str) -> str:
    scope, _, name = field.partition(".label.")
    part = series["metric"] if scope == "metric" else series["resource"]
    return str(part.get("labels", {}).get(name, ""))


def invalid(query: Mapping[str, Any]) -> str | None:
    """What the real API would answer INVALID_ARGUMENT for, or None."""
    flt = query.get("filter") or ""
    types = TYPE.findall(flt)
    if len(types) != 1 or types[0] not in KINDS:
        return "The filter must name exactly one known metric.type."
    if 'resource.type="consumer_quota"' not in flt or 'resource.labels.service="aiplatform.googleapis.com"' not in flt:
        return "The filter must select the consumer_quota resource of the service."
    for name in ("interval.endTime", "interval.startTime"):
        value = query.get(name)
        if name == "interval.endTime" and not value:
            return "Field interval.endTime had an invalid value: it is required."
        if value and not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", value):
            return f'Field {name} had an invalid value of "{value}": it must be RFC 3339.'
    aligner = query.get("aggregation.perSeriesAligner") or "ALIGN_NONE"
    if aligner != "ALIGN_NONE":
        period = PERIOD.match(query.get("aggregation.alignmentPeriod") or "")
        if period is None or int(period[1]) < 60:
            return "The alignment period must be at least 60 seconds when an aligner is given."
        if aligner not in ALIGNERS[KINDS[types[0]]]:
            return f"The aligner {aligner} is not valid for a {KINDS[types[0]]} metric."
    reducer = query.get("aggregation.crossSeriesReducer") or "REDUCE_NONE"
    if reducer != "REDUCE_NONE" and aligner == "ALIGN_NONE":
        return "A cross-series reducer needs a per-series aligner."
    if reducer not in ("REDUCE_NONE", "REDUCE_SUM", "REDUCE_MAX", "REDUCE_MEAN"):
        return f"Unknown reducer {reducer}."
    if query.get("view", "FULL") not in ("FULL", "HEADERS"):
        return "Unknown view."
    return None


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def render(series: dict[str, Any], headers_only: bool) -> dict[str, Any]:
    out = {k: v for k, v in series.items() if k != "points"}
    if headers_only:
        return out
    points = []
    for p in series["points"]:
        value = p["value"]
        typed: dict[str, Any] = {"int64Value": str(int(value))} if float(value).is_integer() else {"doubleValue": value}
        points.append({"interval": {"startTime": _iso(p["at"]), "endTime": _iso(p["at"])}, "value": typed})
    return out | {"points": points}
