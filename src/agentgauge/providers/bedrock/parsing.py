"""Pure: Bedrock's Service Quotas, foundation models and CloudWatch metrics as windows.

- Service Quotas (``ListServiceQuotas`` merged over ``ListAWSDefaultServiceQuotas`` by ``QuotaCode``,
  the applied value winning): ``Quotas[{QuotaCode, QuotaName, Value, Unit, Period: {PeriodValue,
  PeriodUnit}}]``. Bedrock's quota names are free text, read by a tolerant pattern:
  "On-demand model inference tokens per minute for Anthropic Claude 3.5 Sonnet V2",
  "Cross-region model inference requests per minute for ...", "Global cross-region ...",
  "Model invocation max tokens per day for ... (doubled for cross-region calls)".
- ``ListFoundationModels``: ``modelSummaries[{modelId, modelName, providerName}]``: a quota names a model
  by "<providerName> <modelName>", CloudWatch by ``modelId``; this is the join.
- CloudWatch ``GetMetricData`` (namespace ``AWS/Bedrock``, dimension ``ModelId``; labels set to the
  model id): per minute ``InputTokenCount`` + ``OutputTokenCount`` (or ``EstimatedTPMQuotaUsage``,
  what counts against the TPM quota, when present) and ``Invocations``; since UTC midnight the tokens.
  Cross-region inference profiles have ids like ``us.anthropic...``: their use counts against the
  cross-region quotas of the base model (``global.`` against the global ones).

A quota with a period and measured use against it is a window; the busiest recent minute counts for
per-minute quotas. There are no live "remaining" values on Bedrock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...errors import ParseError
from ...models import Breakdown, BreakdownItem, ErrorInfo, ErrorKind, Usage, Window
from .._parse import Salvage, items, obj, opt_num, opt_str, recorded_warning, slug

_RATE = re.compile(
    r"^\s*(?P<scope>on-demand|cross-region|global cross-region)\s+(?:model\s+)?inference\s+"
    r"(?P<what>tokens|requests)\s+per\s+(?P<per>minute|day)\s+for\s+(?P<model>.+?)\s*$",
    re.I,
)
_DAILY = re.compile(r"^\s*model invocation max tokens per day for\s+(?P<model>.+?)(?:\s*\(.*\))?\s*$", re.I)
GEO_PREFIXES = ("us.", "eu.", "apac.", "jp.", "au.", "ca.", "us-gov.")
NOTE = "No Bedrock model has been invoked in this region recently (CloudWatch has no AWS/Bedrock metrics)."


@dataclass(frozen=True)
class Quota:
    scope: str  # on-demand | cross-region | global
    what: str  # tokens | requests
    seconds: int
    model: str  # normalized "<provider> <model name>"
    value: float
    name: str


def normalize(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


def quota_of(entry: dict[str, Any], where: str) -> Quota | None:
    name = opt_str(entry.get("QuotaName")) or ""
    value = opt_num(entry.get("Value"), f"{where}.Value")
    if value is None or value <= 0:
        return None
    period = obj(entry.get("Period"))
    unit = (opt_str(period.get("PeriodUnit")) or "").upper()
    length = opt_num(period.get("PeriodValue"), f"{where}.Period.PeriodValue") or 1
    stated = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400, "WEEK": 604800}.get(unit)
    if match := _RATE.match(name):
        scope = match["scope"].lower()
        scope = "global" if scope.startswith("global") else scope
        seconds = int(stated * length) if stated else (60 if match["per"].lower() == "minute" else 86400)
        return Quota(scope, match["what"].lower(), seconds, normalize(match["model"]), value, name)
    if match := _DAILY.match(name):
        seconds = int(stated * length) if stated else 86400
        return Quota("daily", "tokens", seconds, normalize(match["model"]), value, name)
    return None  # one of Bedrock's many other quotas (custom models, batch, agents...)


def merged_quotas(applied: Any, defaults: Any, salvage: Salvage) -> list[Quota]:
    by_code: dict[str, dict[str, Any]] = {}
    for source in (defaults, applied):  # applied values win
        for entry in items(obj(source).get("Quotas")):
            code = opt_str(entry.get("QuotaCode")) or opt_str(entry.get("QuotaName"))
            if code:
                by_code[code] = entry
    return [q for q in salvage.each(list(by_code.values()), lambda i, e: quota_of(e, f"Quotas[{i}]")) if q]


def model_names(models: Any) -> dict[str, str]:
    """model id -> normalized "<provider> <model name>" (the words quotas use)."""
    out = {}
    for summary in items(obj(models).get("modelSummaries")):
        model_id, name = opt_str(summary.get("modelId")), opt_str(summary.get("modelName"))
        if model_id and name:
            provider = opt_str(summary.get("providerName")) or ""
            out[model_id] = normalize(f"{provider} {name}")
    return out


def split_profile(model_id: str) -> tuple[str, str]:
    """(scope, base model id): ``us.anthropic.x`` -> (cross-region, anthropic.x), ``global.x`` -> global."""
    if model_id.startswith("global."):
        return "global", model_id[len("global.") :]
    for prefix in GEO_PREFIXES:
        if model_id.startswith(prefix):
            return "cross-region", model_id[len(prefix) :]
    return "on-demand", model_id


def series(payload: Any, salvage: Salvage) -> dict[str, dict[str, list[float]]]:
    """query id -> model id -> values, from GetMetricData results (labels are model ids)."""
    out: dict[str, dict[str, list[float]]] = {}

    def one(i: int, result: dict[str, Any]) -> None:
        query, label = opt_str(result.get("Id")), opt_str(result.get("Label"))
        values = result.get("Values")
        if not query or not label:
            raise ParseError(f"Bedrock: MetricDataResults[{i}] has no Id or Label", field=f"MetricDataResults[{i}]")
        numbers = [opt_num(v, f"MetricDataResults[{i}].Values") for v in (values if isinstance(values, list) else [])]
        out.setdefault(query, {}).setdefault(label, []).extend(n for n in numbers if n is not None)

    salvage.each(items(obj(payload).get("MetricDataResults")), one)
    return out


def _peak(values: list[float]) -> float:
    return max(values, default=0.0)


def parse(raw: Mapping[str, Any], now: datetime) -> Usage:
    salvage = Salvage()
    quotas = merged_quotas(raw.get("applied"), raw.get("defaults"), salvage)
    names = model_names(raw.get("models"))
    minutes = series(raw.get("minutes"), salvage)
    today = series(raw.get("today"), salvage)
    used_ids = sorted({m for per in (*minutes.values(), *today.values()) for m in per})
    windows: list[Window] = []
    tokens_today: dict[str, float] = {}
    # (scope, base id) -> [peak tokens per minute, peak requests per minute]; base id -> tokens today.
    per_minute: dict[tuple[str, str], list[float]] = {}
    daily: dict[str, float] = {}
    for model_id in used_ids:
        scope, base = split_profile(model_id)
        estimated = minutes.get("estimated", {}).get(model_id)
        if estimated:
            tokens = _peak(estimated)
        else:
            inputs, outputs = minutes.get("input", {}).get(model_id, []), minutes.get("output", {}).get(model_id, [])
            tokens = _peak([a + b for a, b in zip(inputs, outputs, strict=False)] or inputs or outputs)
        slot = per_minute.setdefault((scope, base), [0.0, 0.0])
        slot[0] += tokens
        slot[1] += _peak(minutes.get("invocations", {}).get(model_id, []))
        day = sum(today.get("input", {}).get(model_id, [])) + sum(today.get("output", {}).get(model_id, []))
        daily[base] = daily.get(base, 0.0) + day
        if day:
            tokens_today[model_id] = day
    for (scope, base), (tokens, requests) in sorted(per_minute.items()):
        name = names.get(base)
        if name is None:
            continue
        for what, used in (("tokens", tokens), ("requests", requests)):
            quota = next((q for q in quotas if (q.scope, q.what, q.model) == (scope, what, name)), None)
            if quota is not None:
                windows.append(_window(quota, base, used, scope))
    for base, used in sorted(daily.items()):
        name = names.get(base)
        quota = next((q for q in quotas if q.scope == "daily" and q.model == name), None) if name else None
        if quota is not None:
            windows.append(_window(quota, base, used, "daily"))
    windows.sort(key=lambda w: -w.used_pct)
    unmatched = sorted({split_profile(m)[1] for m in used_ids} - {b for b in names})
    problems = list(salvage.warnings())
    if unmatched and raw.get("models") is not None and not isinstance(obj(raw.get("models")).get("error"), dict):
        problems.append(
            ErrorInfo(
                kind=ErrorKind.PARSE,
                message=f"Bedrock: no foundation model is listed for {', '.join(unmatched[:3])}"
                + (f" and {len(unmatched) - 3} more" if len(unmatched) > 3 else ""),
                hint="Their use is in the breakdown; their quotas cannot be matched.",
            )
        )
    problems += _soft_errors(raw)
    breakdowns: tuple[Breakdown, ...] = ()
    if tokens_today:
        ranked = sorted(tokens_today.items(), key=lambda kv: -kv[1])
        breakdowns = (
            Breakdown(
                id="tokens_today",
                label="Tokens today by model (UTC)",
                unit="tokens",
                items=tuple(BreakdownItem(key=k, value=v) for k, v in ranked),
            ),
        )
    if raw.get("applied") is None and raw.get("defaults") is None:
        raise ParseError("Bedrock: no Service Quotas answer", field="Quotas")
    return Usage(
        windows=tuple(windows),
        breakdowns=breakdowns,
        warnings=tuple(problems),
        note=None if windows or used_ids else NOTE,
    )


def _window(quota: Quota, base: str, used: float, scope: str) -> Window:
    words = {"on-demand": "", "cross-region": "cross-region ", "global": "global cross-region ", "daily": ""}[scope]
    if scope == "daily":
        wid, label = f"tpd_{slug(base)}", f"{base} · tokens per day (today, UTC)"
    else:
        kind = "tpm" if quota.what == "tokens" else "rpm"
        prefix = {"on-demand": "", "cross-region": "xr_", "global": "global_"}[scope]
        wid = f"{kind}_{prefix}{slug(base)}"
        label = f"{base} · {words}{quota.what} per minute (busiest recent minute)"
    return Window(
        id=wid,
        label=label,
        used_pct=round(used / quota.value * 100.0, 4),
        window_seconds=quota.seconds,
        used=used,
        limit=quota.value,
        unit=quota.what,
    )


def _soft_errors(raw: Mapping[str, Any]) -> list[ErrorInfo]:
    found = (recorded_warning(obj(raw.get(key)).get("error"), "-") for key in ("models", "defaults"))
    return [warning for warning in found if warning is not None]
