"""Pure parsing of Azure's management (ARM) answers and of the data plane's rate-limit headers.

- ``.../locations/{loc}/usages``: ``value[{name: {value: "OpenAI.Standard.gpt-4o", localizedValue},
  currentValue, limit, unit}]``. Token quotas are in **thousands of tokens per minute**, and
  ``currentValue`` is the quota **assigned to deployments**, not what is being used.
- ``.../accounts/{a}/deployments``: ``value[{name, sku: {name, capacity}, properties: {model: {name,
  version}, rateLimits: [{key: "request" | "token", renewalPeriod (s), count}]}}]``.
- ``.../providers/Microsoft.Insights/metrics`` (``interval=PT1M``, ``aggregation=Total``, split by
  ``ModelDeploymentName``): ``value[{name: {value}, timeseries: [{metadatavalues: [{name: {value},
  value}], data: [{timeStamp, total}]}]}]``, one to a few minutes late.
- ``x-ratelimit-{limit,remaining,reset}-{requests,tokens}`` on an inference answer: plain numbers
  (the reset in seconds); ``-1`` means unknown (seen on the Responses API).

A deployment's rate limit states a count per renewal period, so the busiest recent minute of its
measured use against it (scaled to a minute) is a window. The regional quota is an allocation, and
configured limits without measured use are only limits: both are breakdowns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...errors import ParseError
from ...models import Breakdown, BreakdownItem, ErrorInfo, Usage, Window
from .._parse import Salvage, after, items, limit_and_used, lower_keys, obj, opt_num, opt_str, recorded_warning, slug

TOKEN_METRICS = ("ProcessedPromptTokens", "GeneratedTokens")
REQUEST_METRIC = "AzureOpenAIRequests"
NOTE = (
    "Azure shows each deployment's configured limits and the quota assigned to deployments; live use "
    "needs the Monitoring Reader role (metrics) or probe = on."
)


@dataclass(frozen=True)
class Limits:
    deployment: str
    account: str
    tokens_per_minute: float | None
    requests_per_minute: float | None


def _per_minute(rule: dict[str, Any], where: str) -> float | None:
    count = opt_num(rule.get("count"), f"{where}.count")
    period = opt_num(rule.get("renewalPeriod"), f"{where}.renewalPeriod")
    if count is None or not period or period <= 0:
        return None
    return round(count * 60.0 / period, 4)


def deployment_limits(accounts: Any, salvage: Salvage) -> list[Limits]:
    out: list[Limits] = []
    for a, account in enumerate(items(accounts)):
        name = opt_str(account.get("name")) or f"account {a}"

        def one(i: int, deployment: dict[str, Any], a: int = a, name: str = name) -> Limits:
            where = f"accounts[{a}].deployments[{i}]"
            deployment_name = opt_str(deployment.get("name"))
            if deployment_name is None:
                raise ParseError(f"Azure OpenAI: {where} has no name", field=f"{where}.name")
            tokens = requests = None
            for j, rule in enumerate(items(obj(deployment.get("properties")).get("rateLimits"))):
                key = (opt_str(rule.get("key")) or "").lower()
                rate = _per_minute(rule, f"{where}.properties.rateLimits[{j}]")
                if key == "token":
                    tokens = rate
                elif key == "request":
                    requests = rate
            return Limits(deployment_name, name, tokens, requests)

        out += salvage.each(items(obj(account.get("deployments")).get("value")), one)
    return out


def busiest_minutes(accounts: Any, salvage: Salvage) -> dict[tuple[str, str], tuple[float, float]]:
    """(account, deployment) -> (tokens, requests) in the busiest minute the metrics cover."""
    out: dict[tuple[str, str], tuple[float, float]] = {}
    for a, account in enumerate(items(accounts)):
        metrics = account.get("metrics")
        if not isinstance(metrics, dict) or "value" not in metrics:
            continue
        name = opt_str(account.get("name")) or f"account {a}"
        per_minute: dict[tuple[str, str], list[float]] = {}  # (deployment, time) -> [tokens, requests]

        def one(
            i: int, metric: dict[str, Any], a: int = a, per_minute: dict[tuple[str, str], list[float]] = per_minute
        ) -> None:
            kind = opt_str(obj(metric.get("name")).get("value"))
            if kind not in (*TOKEN_METRICS, REQUEST_METRIC):
                return
            for s, series in enumerate(items(metric.get("timeseries"))):
                labels = {
                    (opt_str(obj(m.get("name")).get("value")) or "").lower(): opt_str(m.get("value"))
                    for m in items(series.get("metadatavalues"))
                }
                deployment = labels.get("modeldeploymentname")
                if not deployment:
                    continue
                for d, point in enumerate(items(series.get("data"))):
                    where = f"accounts[{a}].metrics.value[{i}].timeseries[{s}].data[{d}]"
                    total = opt_num(point.get("total"), f"{where}.total")
                    stamp = opt_str(point.get("timeStamp")) or ""
                    if total is None:
                        continue
                    slot = per_minute.setdefault((deployment, stamp), [0.0, 0.0])
                    slot[0 if kind in TOKEN_METRICS else 1] += total

        salvage.each(items(metrics.get("value")), one)
        for (deployment, _), (tokens, requests) in per_minute.items():
            best_tokens, best_requests = out.get((name, deployment), (0.0, 0.0))
            out[(name, deployment)] = (max(best_tokens, tokens), max(best_requests, requests))
    return out


def deployment_windows(limits: list[Limits], busiest: dict[tuple[str, str], tuple[float, float]]) -> list[Window]:
    windows: list[Window] = []
    several = len({limit.account for limit in limits}) > 1
    for limit in limits:
        measured = busiest.get((limit.account, limit.deployment))
        if measured is None:
            continue
        prefix = f"{slug(limit.account)}_" if several else ""
        where = f"{limit.account} · {limit.deployment}" if several else limit.deployment
        for kind, cap, used, unit in (
            ("tpm", limit.tokens_per_minute, measured[0], "tokens"),
            ("rpm", limit.requests_per_minute, measured[1], "requests"),
        ):
            if not cap:
                continue
            words = "tokens" if kind == "tpm" else "requests"
            windows.append(
                Window(
                    id=f"{kind}_{prefix}{slug(limit.deployment)}",
                    label=f"{where} · {words} per minute (busiest recent minute)",
                    used_pct=round(used / cap * 100.0, 4),
                    window_seconds=60,
                    used=used,
                    limit=cap,
                    unit=unit,
                )
            )
    return windows


def limit_breakdowns(limits: list[Limits]) -> list[Breakdown]:
    several = len({limit.account for limit in limits}) > 1
    out = []
    for kind, label, unit in (
        ("tokens_per_minute", "Deployment limits: tokens per minute", "tokens"),
        ("requests_per_minute", "Deployment limits: requests per minute", "requests"),
    ):
        found = [
            BreakdownItem(key=f"{x.account}/{x.deployment}" if several else x.deployment, value=getattr(x, kind))
            for x in limits
            if getattr(x, kind) is not None
        ]
        if found:
            out.append(Breakdown(id=f"deployments_{kind}", label=label, unit=unit, items=tuple(found)))
    return out


def quota_breakdowns(usages: Any, salvage: Salvage) -> list[Breakdown]:
    """Per region: the OpenAI quota lines with some of it assigned to deployments."""
    out = []
    for location, payload in sorted(obj(usages).items()):

        def one(i: int, line: dict[str, Any], location: str = location) -> BreakdownItem | None:
            where = f"usages.{location}.value[{i}]"
            name = obj(line.get("name"))
            key = opt_str(name.get("value"))
            if key is None:
                raise ParseError(f"Azure OpenAI: {where}.name.value is missing", field=f"{where}.name.value")
            assigned = opt_num(line.get("currentValue"), f"{where}.currentValue")
            limit = opt_num(line.get("limit"), f"{where}.limit")
            if not key.startswith("OpenAI.") or not assigned:
                return None
            return BreakdownItem(key=key, label=opt_str(name.get("localizedValue")), value=assigned, limit=limit)

        found = salvage.each(items(obj(payload).get("value")), one)
        if found:
            out.append(
                Breakdown(
                    id=f"quota_{slug(location)}",
                    label=f"Quota assigned to deployments · {location} (thousands of tokens per minute)",
                    items=tuple(found),
                )
            )
    return out


def header_windows(headers: Mapping[str, Any], deployment: str | None, now: datetime, salvage: Salvage) -> list[Window]:
    lowered = lower_keys(headers)

    def one(_: int, name: str) -> Window | None:
        # -1 (the Responses API sends it) is "Azure does not know": no window
        found = limit_and_used(
            lowered, f"x-ratelimit-limit-{name}", f"x-ratelimit-remaining-{name}", name="Azure OpenAI"
        )
        if found is None:
            return None
        limit, used = found
        reset = opt_num(lowered.get(f"x-ratelimit-reset-{name}"), f"x-ratelimit-reset-{name}")
        return Window(
            id=f"rate_{name}",
            label=f"{deployment} · {name} (rate limit)" if deployment else f"{name.capitalize()} (rate limit)",
            used_pct=round(used / limit * 100.0, 4),
            resets_at=after(now, reset, f"x-ratelimit-reset-{name}") if reset and reset > 0 else None,
            used=used,
            limit=limit,
            unit=name,
        )

    return salvage.each(("requests", "tokens"), one)


def _warnings(raw: Mapping[str, Any]) -> list[ErrorInfo]:
    records = [obj(a).get("metrics") for a in items(raw.get("accounts"))] + [raw.get("probe")]
    found = (recorded_warning(obj(record).get("error"), "The rest is shown.") for record in records)
    return [warning for warning in found if warning is not None]


def parse(raw: Mapping[str, Any], now: datetime) -> Usage:
    salvage = Salvage()
    accounts = raw.get("accounts")
    if accounts is not None and not isinstance(accounts, list):
        raise ParseError("Azure OpenAI: 'accounts' is not a list", field="accounts")
    limits = deployment_limits(accounts, salvage)
    windows = deployment_windows(limits, busiest_minutes(accounts, salvage))
    probe = raw.get("probe")
    if probe is not None and not isinstance(probe, dict):
        raise ParseError("Azure OpenAI: the rate-limit call's record is not an object", field="probe")
    if isinstance(probe, dict):
        windows += header_windows(obj(probe.get("headers")), opt_str(probe.get("deployment")), now, salvage)
    breakdowns = [*limit_breakdowns(limits), *quota_breakdowns(raw.get("usages"), salvage)]
    if accounts is None and probe is None:
        raise ParseError("Azure OpenAI: nothing was fetched", field="accounts")
    return Usage(
        windows=tuple(windows),
        breakdowns=tuple(breakdowns),
        warnings=(*salvage.warnings(), *_warnings(raw)),
        note=None if windows else NOTE,
    )
