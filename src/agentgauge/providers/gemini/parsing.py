"""Pure: the Gemini API's quotas (Cloud Quotas), their use (Cloud Monitoring) and what a refused call
says (a 429's ``QuotaFailure``/``RetryInfo``), as windows.

- Cloud Quotas ``quotaInfos[{quotaId, metric, refreshInterval ("minute" | "day"), dimensionsInfos:
  [{dimensions: {model?}, details: {value (int64 as a string)}}]}]``: limits only, never use.
- Cloud Monitoring ``serviceruntime.googleapis.com/quota/rate/net_usage`` of ``consumer_quota`` for
  ``generativelanguage.googleapis.com``, summed per minute (the last 15) and since midnight Pacific
  (when Gemini's per-day limits reset), labelled ``quota_metric`` and ``method``; ``int64Value`` strings.
- A 429 ``{"error": {"status": "RESOURCE_EXHAUSTED", "details": [QuotaFailure{violations[{quotaMetric,
  quotaId, quotaDimensions, quotaValue}]}, RetryInfo{retryDelay: "47.9s"}, Help]}}``.

Monitoring reports use per quota metric, not per model (unless a series carries a ``model`` label).
A limit gets a window only when the use can be attributed to it: the use is labelled with its model,
or the limit is the only one of its metric and period. Use that cannot be attributed is a breakdown;
no number is ever guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ...errors import ParseError
from ...models import Breakdown, BreakdownItem, Usage, Window, evolve
from .._parse import Salvage, items, obj, opt_num, opt_str, slug, unique_id
from .._time import next_pacific_midnight

INTERVALS = {"minute": 60, "day": 86400}
KEY_ONLY_NOTE = (
    "A Gemini API key cannot read quotas or usage: Google serves them only to Google Cloud credentials "
    "(set credentials_file to an ADC or service-account file)."
)
PROBE_OFF = " Turn probe on to learn from one minimal call whether a limit is exhausted."
PROBE_OK = " The minimal call went through: no limit was exhausted."
_DELAY = re.compile(r"^(\d+(?:\.\d+)?)s$")


@dataclass(frozen=True)
class Limit:
    metric: str
    quota_id: str
    seconds: int
    model: str | None
    value: float
    only_one: bool  # the only limit of its metric and period


# -- limits and use --------------------------------------------------------------------------------
def limits(payload: Any, salvage: Salvage) -> list[Limit]:
    raw: list[tuple[str, str, int, str | None, float]] = []

    def one(i: int, info: dict[str, Any]) -> None:
        where = f"quotaInfos[{i}]"
        metric, quota_id = opt_str(info.get("metric")), opt_str(info.get("quotaId"))
        if not metric or not quota_id:
            raise ParseError(f"Gemini: {where} has no metric or quotaId", field=f"{where}.metric")
        seconds = INTERVALS.get((opt_str(info.get("refreshInterval")) or "").lower())
        if seconds is None:
            return  # not a rate quota (concurrency, storage...)
        for j, dims in enumerate(items(info.get("dimensionsInfos"))):
            value = opt_num(obj(dims.get("details")).get("value"), f"{where}.dimensionsInfos[{j}].details.value")
            if value is None or value < 0:
                continue  # -1: unlimited
            model = opt_str(obj(dims.get("dimensions")).get("model"))
            raw.append((metric, quota_id, seconds, model, value))

    salvage.each(items(obj(payload).get("quotaInfos")), one)
    counts: dict[tuple[str, int], int] = {}
    for metric, _, seconds, _, _ in raw:
        counts[(metric, seconds)] = counts.get((metric, seconds), 0) + 1
    return [Limit(m, q, s, d, v, counts[(m, s)] == 1) for m, q, s, d, v in raw]


def use(payload: Any, salvage: Salvage, *, peak: bool) -> dict[tuple[str, str | None], float]:
    """(quota metric, model or None) -> the busiest minute (``peak``) or the total of the period."""
    per_time: dict[tuple[str, str | None], dict[str, float]] = {}

    def one(i: int, series: dict[str, Any]) -> None:
        where = f"timeSeries[{i}]"
        labels = obj(obj(series.get("metric")).get("labels"))
        quota_metric = opt_str(labels.get("quota_metric"))
        if quota_metric is None:
            raise ParseError(f"Gemini: {where} has no quota_metric label", field=f"{where}.metric.labels.quota_metric")
        model = opt_str(labels.get("model")) or opt_str(obj(obj(series.get("resource")).get("labels")).get("model"))
        slots = per_time.setdefault((quota_metric, model), {})
        for j, point in enumerate(items(series.get("points"))):
            value = obj(point.get("value"))
            number = opt_num(value.get("int64Value"), f"{where}.points[{j}].value.int64Value")
            if number is None:
                number = opt_num(value.get("doubleValue"), f"{where}.points[{j}].value.doubleValue")
            stamp = opt_str(obj(point.get("interval")).get("endTime")) or str(j)
            if number is not None:
                slots[stamp] = slots.get(stamp, 0.0) + number

    salvage.each(items(obj(payload).get("timeSeries")), one)
    return {key: (max(v.values(), default=0.0) if peak else sum(v.values())) for key, v in per_time.items()}


def _words(limit: Limit) -> tuple[str, str, str]:
    """(id prefix, what, unit) of a limit from its metric: requests or (input) tokens, per minute or day."""
    name = limit.metric.lower()
    tokens = "token" in name
    per = "m" if limit.seconds == 60 else "d"
    what = ("input tokens" if "input_token" in name or "inputtoken" in name else "tokens") if tokens else "requests"
    return f"{'t' if tokens else 'r'}p{per}", what, "tokens" if tokens else "requests"


def _window(limit: Limit, used: float, now: datetime, taken: set[str]) -> Window:
    prefix, what, unit = _words(limit)
    free = "free_tier" in limit.metric or limit.quota_id.endswith("FreeTier")
    wid = unique_id(f"{prefix}_{slug(limit.model or 'all')}{'_free' if free else ''}", taken)
    per = "minute" if limit.seconds == 60 else "day"
    label = f"{limit.model or 'All models'} · {what} per {per}{' (free tier)' if free else ''}"
    return Window(
        id=wid,
        label=label,
        used_pct=round(used / limit.value * 100.0, 4) if limit.value > 0 else 100.0,
        resets_at=next_pacific_midnight(now) if limit.seconds == 86400 else None,
        window_seconds=limit.seconds,
        used=used,
        limit=limit.value,
        unit=unit,
    )


def quota_windows(raw: Mapping[str, Any], now: datetime, salvage: Salvage) -> tuple[list[Window], list[Breakdown]]:
    found = limits(raw.get("quotas"), salvage)
    minutes = use(raw.get("minutes"), salvage, peak=True)
    today = use(raw.get("today"), salvage, peak=False)
    windows: list[Window] = []
    attributed: set[tuple[str, str | None, int]] = set()
    taken: set[str] = set()
    for limit in found:
        usage = minutes if limit.seconds == 60 else today
        key: tuple[str, str | None] | None = None
        if limit.model is not None and (limit.metric, limit.model) in usage:
            key = (limit.metric, limit.model)
        elif (limit.metric, None) in usage and (limit.model is None or limit.only_one):
            key = (limit.metric, None)
        if key is None:
            continue
        windows.append(_window(limit, usage[key], now, taken))
        attributed.add((key[0], key[1], limit.seconds))
    windows.sort(key=lambda w: -w.used_pct)
    breakdowns: list[Breakdown] = []
    for seconds, usage, words in ((60, minutes, "busiest recent minute"), (86400, today, "today (Pacific day)")):
        left = [
            BreakdownItem(key=f"{metric.rsplit('/', 1)[-1]}{f' · {model}' if model else ''}", value=value)
            for (metric, model), value in sorted(usage.items())
            if (metric, model, seconds) not in attributed and value > 0
        ]
        if left:
            breakdowns.append(
                Breakdown(
                    id=f"unattributed_{'minute' if seconds == 60 else 'day'}",
                    label=f"Use without a limit it can be matched to ({words})",
                    items=tuple(left),
                )
            )
    return windows, breakdowns


# -- a refused call -----------------------------------------------------------------------------
def retry_seconds(details: list[dict[str, Any]]) -> float | None:
    for detail in details:
        if str(detail.get("@type", "")).endswith("google.rpc.RetryInfo"):
            match = _DELAY.match(opt_str(detail.get("retryDelay")) or "")
            if match:
                return float(match[1])
    return None


def refusal(probe: Mapping[str, Any], now: datetime, salvage: Salvage) -> tuple[list[Window], str]:
    """Exhausted limits named by a 429 (each at 100 %), and a sentence saying what it taught."""
    error = obj(obj(probe.get("body")).get("error"))
    details = items(error.get("details"))
    delay = retry_seconds(details)
    violations = [
        v for d in details if str(d.get("@type", "")).endswith("QuotaFailure") for v in items(d.get("violations"))
    ]
    taken: set[str] = set()

    def one(i: int, violation: dict[str, Any]) -> Window:
        where = f"probe.violations[{i}]"
        quota_id = opt_str(violation.get("quotaId")) or ""
        metric = opt_str(violation.get("quotaMetric")) or quota_id
        value = opt_num(violation.get("quotaValue"), f"{where}.quotaValue")
        if value is None:
            raise ParseError(f"Gemini: {where} has no quotaValue", field=f"{where}.quotaValue")
        seconds = 86400 if "PerDay" in quota_id else 60
        model = opt_str(obj(violation.get("quotaDimensions")).get("model"))
        window = _window(Limit(metric, quota_id, seconds, model, value, True), value, now, taken)
        if seconds == 60 and delay is not None:  # a per-minute limit is free again when Google says so
            window = evolve(window, resets_at=now + timedelta(seconds=delay))
        return window

    windows = salvage.each(violations, one)
    wait = f"; retry in {int(delay + 0.999)} s" if delay is not None else ""
    if windows:
        named = ", ".join(
            f"{opt_str(v.get('quotaId')) or '?'} = {opt_str(v.get('quotaValue')) or '?'}" for v in violations[:3]
        )
        return windows, f" A minimal call was refused: {named} is exhausted{wait}."
    return [], f" A minimal call was refused as out of quota, without saying which limit{wait}."


def parse(raw: Mapping[str, Any], now: datetime) -> Usage:
    salvage = Salvage()
    windows: list[Window] = []
    breakdowns: list[Breakdown] = []
    oauth = raw.get("quotas") is not None
    if oauth:
        windows, breakdowns = quota_windows(raw, now, salvage)
    probe = raw.get("probe")
    told = ""
    if isinstance(probe, dict):
        if probe.get("status") == 429:
            refused, told = refusal(probe, now, salvage)
            windows += refused
        else:
            told = PROBE_OK
    elif probe is not None:
        raise ParseError("Gemini: the minimal call's record is not an object", field="probe")
    elif not oauth:
        told = PROBE_OFF
    if not oauth and raw.get("models") is None:
        raise ParseError("Gemini: nothing was fetched", field="quotas")
    note: str | None = None
    if not oauth:
        note = (KEY_ONLY_NOTE + told).strip()
    elif not windows:
        note = (
            "No Gemini API quota in this project has measured use that can be attributed to it (Cloud "
            "Monitoring splits use by quota metric, not by model)." + told
        )
    return Usage(windows=tuple(windows), breakdowns=tuple(breakdowns), warnings=salvage.warnings(), note=note)
