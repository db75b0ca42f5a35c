"""Pure parsing of Kiro's two answers: the ``kiro-cli chat --no-interactive /usage`` text and the
CodeWhisperer ``GetUsageLimits`` JSON that adds the overage figures the text lacks.

The CLI text comes in two formats, both parsed:

- current (kiro-cli 2.x): ``Estimated Usage | resets on 2026-06-01 | KIRO FREE``, then
  ``Credits (0.17 of 50 covered in plan)`` over a bar ending in ``0%``, ``Bonus credits: 45.53/2000
  credits used, expires in 19 days``, ``Overages: Disabled`` (or ``Enabled billed at $0.04 per
  request`` with ``Credits used: 40.29`` and ``Est. cost: $1.61 USD``);
- the older boxed panel: ``| KIRO FREE |``, a bar ``████ 100% (resets on 01/01)`` and ``(0.00 of 50
  covered in plan)``; legacy Q Developer plans print ``Plan: Q Developer Pro`` (and may be
  "managed by admin", with no figures at all).
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from ...errors import AuthError, ParseError, UpstreamError
from ...models import Balance, ErrorInfo, Usage, Window
from .._parse import Salvage, items, obj, opt_num, opt_str, opt_time
from .._process import strip_ansi

LOGIN_MARKERS = ("not logged in", "login required", "failed to initialize auth portal", "kiro-cli login", "oauth error")
LOGIN_HINT = "Log in with `kiro-cli login` (AWS Builder ID, Google or GitHub), then refresh."
NUM = r"(\d[\d,]*(?:\.\d+)?)"
_PLAN_CURRENT = re.compile(r"Estimated Usage[ \t]*\|[^\n|]*\|[ \t]*([A-Za-z][A-Za-z0-9 ]*[A-Za-z0-9])")
_PLAN_BOXED = re.compile(r"\|[ \t]*(KIRO[ \t]+\w+)")
_PLAN_LEGACY = re.compile(r"^[ \t]*Plan:[ \t]*([^\n]+)", re.M)
_BAR = re.compile(r"[█▉▊▋▌▍▎▏▓▒░]+[ \t]*" + NUM + r"[ \t]*%")
_COVERED = re.compile(r"\(" + NUM + r"\s+of\s+" + NUM + r"\s+covered\s+in\s+plan\)", re.I)
_RESET = re.compile(r"resets on (\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2})", re.I)
_BONUS = re.compile(r"Bonus credits:\s*" + NUM + r"\s*/\s*" + NUM + r"[^\n]*", re.I)
_EXPIRES = re.compile(r"expires in (\d+) days?", re.I)
_OVERAGES = re.compile(r"^[ \t]*Overages:[ \t]*([^\n]+)", re.I | re.M)
_OVERAGE_USED = re.compile(r"^[ \t]*Credits used:\s*" + NUM, re.I | re.M)
_OVERAGE_COST = re.compile(r"Est\.\s*cost:\s*\$?" + NUM + r"\s*([A-Z]{3})?", re.I)
_BOX = re.compile(r"[\u2500-\u257f]")
_MANAGED = re.compile(r"managed by (?:admin|organization|your organization)", re.I)


def _num(text: str) -> float:
    return float(text.replace(",", ""))


def display_plan(raw: str) -> str:
    """``KIRO FREE`` -> ``Kiro Free``; other names (``Q Developer Pro``) as printed."""
    words = raw.split()
    if not any(w.upper() == "KIRO" for w in words):
        return " ".join(words)
    return " ".join(w.capitalize() for w in words)


def plan_name(text: str) -> tuple[str | None, bool]:
    """The plan as printed, and whether it came from the legacy ``Plan:`` line."""
    legacy = _PLAN_LEGACY.search(text)
    if legacy:
        return legacy.group(1).strip(), True
    for pattern in (_PLAN_CURRENT, _PLAN_BOXED):
        found = pattern.search(text)
        if found:
            return found.group(1).strip(), False
    return None, False


def reset_date(text: str, now: datetime) -> datetime | None:
    """``resets on 2026-06-01`` (midnight UTC), or ``resets on 01/15`` (the next such date)."""
    found = _RESET.search(text)
    if not found:
        return None
    value = found.group(1)
    try:
        if "-" in value:
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        month, day = (int(p) for p in value.split("/"))
        when = datetime(now.year, month, day, tzinfo=UTC)
        return when if when > now else datetime(now.year + 1, month, day, tzinfo=UTC)
    except ValueError:
        raise ParseError(f"Kiro: the reset date '{value}' is not a date", field="resets on") from None


def check_text(text: str) -> None:
    """The CLI's own error texts as typed errors."""
    lowered = text.lower()
    if "could not retrieve usage information" in lowered:
        raise UpstreamError(
            "Kiro CLI could not retrieve usage information from its backend",
            hint="Kiro's service did not answer the CLI; agentgauge retries on the next refresh.",
        )
    if any(marker in lowered for marker in LOGIN_MARKERS):
        raise AuthError("Kiro CLI: not logged in", hint=LOGIN_HINT)


def report_complete(text: str) -> bool:
    """Whether the CLI has printed a whole report (figures, a managed plan or one of its errors):
    only then does its silence mean it is done rather than still waiting on its backend."""
    lowered = _BOX.sub(" ", text).lower()
    if "could not retrieve usage information" in lowered or any(m in lowered for m in LOGIN_MARKERS):
        return True
    return bool(_COVERED.search(text) or _BAR.search(text) or _MANAGED.search(text))


class CliReport:
    """What the ``/usage`` text states, figures as printed."""

    def __init__(self, raw: str, now: datetime) -> None:
        # The older panel is drawn in a box: its frame goes, so wrapped lines read as text.
        text = _BOX.sub(" ", strip_ansi(raw))
        if not text.strip():
            raise ParseError("Kiro: kiro-cli printed nothing for /usage", field="usage_text")
        check_text(text)
        self.plan, self.legacy = plan_name(text)
        self.managed = bool(_MANAGED.search(text))
        bar = _BAR.search(text)
        covered = _COVERED.search(text)
        self.bar_pct = _num(bar.group(1)) if bar else None
        self.used = _num(covered.group(1)) if covered else None
        self.limit = _num(covered.group(2)) if covered else None
        self.resets_at = reset_date(text, now)
        self.bonus: Balance | None = None
        bonus = _BONUS.search(text)
        if bonus:
            used, total = _num(bonus.group(1)), _num(bonus.group(2))
            days = _EXPIRES.search(bonus.group(0))
            self.bonus = Balance(
                id="bonus",
                label="Bonus credits",
                unit="credits",
                used=used,
                limit=total,
                remaining=max(total - used, 0.0),
                expires_at=now + timedelta(days=int(days.group(1))) if days else None,
            )
        overages = _OVERAGES.search(text)
        self.overages = " ".join(overages.group(1).split()) if overages else None
        used_line = _OVERAGE_USED.search(text)
        self.overage_used = _num(used_line.group(1)) if used_line else None
        cost = _OVERAGE_COST.search(text)
        self.overage_cost = _num(cost.group(1)) if cost else None
        self.overage_currency = (cost.group(2) or "USD").lower() if cost else "usd"

    @property
    def has_figures(self) -> bool:
        return self.bar_pct is not None or (self.used is not None and self.limit is not None)


class Limits:
    """The one CREDIT entry of ``GetUsageLimits``, split into plan and overage (``currentUsage``
    includes the overage, so plan usage is total minus overage)."""

    def __init__(self, root: Any) -> None:
        if not isinstance(root, dict):
            raise ParseError("Kiro: GetUsageLimits answer is not an object", field="limits")
        credits = [e for e in items(root.get("usageBreakdownList")) if str(e.get("resourceType")).upper() == "CREDIT"]
        if len(credits) != 1:
            what = "no credit balance" if not credits else "several credit balances"
            raise ParseError(f"Kiro: GetUsageLimits reported {what}", field="limits.usageBreakdownList")
        entry, where = credits[0], "limits.usageBreakdownList[CREDIT]"
        total = self._credits(entry, "currentUsage", where, required=True) or 0.0
        self.plan_limit: float = self._credits(entry, "usageLimit", where, required=True) or 0.0
        self.overage_used: float = self._credits(entry, "currentOverages", where) or 0.0
        if self.overage_used > total:
            raise ParseError("Kiro: GetUsageLimits overage exceeds the total usage", field=f"{where}.currentOverages")
        self.plan_used = total - self.overage_used
        # Bonus spend is folded into currentUsage: with bonuses the plan share cannot be told apart.
        self.unseparated_bonus = bool(entry.get("bonuses"))
        if not self.unseparated_bonus and self.plan_used > self.plan_limit + 1e-9:
            raise ParseError("Kiro: GetUsageLimits plan usage exceeds the plan limit", field=f"{where}.currentUsage")
        status = str(obj(root.get("overageConfiguration")).get("overageStatus") or "").upper()
        self.overage_enabled = {"ENABLED": True, "DISABLED": False}.get(status)
        cap = self._credits(entry, "overageCap", where)
        self.overage_cap = cap if self.overage_enabled and cap else None
        charges = opt_num(entry.get("overageCharges"), f"{where}.overageCharges")
        rate = opt_num(entry.get("overageRate"), f"{where}.overageRate")
        self.overage_charges = charges if charges is not None and charges >= 0 else None
        self.overage_rate = rate if rate is not None and rate > 0 else None
        self.currency = (opt_str(entry.get("currency")) or "USD").lower()
        field = f"{where}.nextDateReset"
        reset = opt_time(entry.get("nextDateReset"), field) or opt_time(
            root.get("nextDateReset"), "limits.nextDateReset"
        )
        # Epoch seconds today (milliseconds are told apart); a date outside 2001..2100 is a unit change.
        if reset is None or not 2001 <= reset.year < 2100:
            raise ParseError("Kiro: GetUsageLimits has no plausible reset date", field=field)
        self.resets_at = reset
        self.plan = opt_str(obj(root.get("subscriptionInfo")).get("subscriptionTitle"))

    @staticmethod
    def _credits(entry: dict[str, Any], name: str, where: str, *, required: bool = False) -> float | None:
        field = f"{where}.{name}WithPrecision"
        value = opt_num(entry.get(f"{name}WithPrecision"), field)
        value = value if value is not None else opt_num(entry.get(name), f"{where}.{name}")
        if value is None:
            if required:
                raise ParseError(f"Kiro: GetUsageLimits has no {name}", field=field)
            return None
        if value < 0:
            raise ParseError(f"Kiro: GetUsageLimits {name} is negative", field=field)
        return value

    @property
    def charge_limit(self) -> float | None:
        if self.overage_cap and self.overage_rate:
            return round(self.overage_cap * self.overage_rate, 6)
        return None


def _pct(used: float, limit: float) -> float:
    return round(used / limit * 100.0, 4) if limit > 0 else 0.0


def _monthly(report: CliReport | None, limits: Limits | None) -> Window | None:
    if limits is not None and not limits.unseparated_bonus:
        return Window(
            id="monthly",
            label="Monthly credits",
            used_pct=_pct(limits.plan_used, limits.plan_limit),
            resets_at=limits.resets_at,
            used=limits.plan_used,
            limit=limits.plan_limit,
            unit="credits",
        )
    if report is None or not report.has_figures:
        return None
    if report.used is not None and report.limit is not None and report.limit > 0:
        pct = _pct(report.used, report.limit)
    elif report.bar_pct is not None:
        pct = report.bar_pct
    else:
        return None  # "(0 of 0 covered in plan)" with no bar: nothing to show
    return Window(
        id="monthly",
        label="Monthly credits",
        used_pct=pct,
        resets_at=report.resets_at or (limits.resets_at if limits else None),
        used=report.used,
        limit=report.limit,
        unit="credits" if report.limit is not None else None,
    )


def _overage(report: CliReport | None, limits: Limits | None) -> tuple[list[Window], list[Balance]]:
    windows: list[Window] = []
    balances: list[Balance] = []
    if limits is not None:
        if limits.overage_cap:
            windows.append(
                Window(
                    id="overage",
                    label="Overage credits",
                    used_pct=min(_pct(limits.overage_used, limits.overage_cap), 100.0),
                    resets_at=limits.resets_at,
                    used=limits.overage_used,
                    limit=limits.overage_cap,
                    unit="credits",
                )
            )
        if limits.overage_enabled and limits.overage_charges is not None:
            balances.append(
                Balance(
                    id="overage_cost",
                    label="Overage cost",
                    unit=limits.currency,
                    used=limits.overage_charges,
                    limit=limits.charge_limit,
                    period="monthly",
                    resets_at=limits.resets_at,
                )
            )
        return windows, balances
    enabled = report is not None and (report.overages or "").lower().startswith("enabled")
    if report is None or not enabled:
        return windows, balances
    if report.overage_used is not None:
        balances.append(
            Balance(
                id="overage_credits",
                label="Overage credits",
                unit="credits",
                used=report.overage_used,
                period="monthly",
                resets_at=report.resets_at,
            )
        )
    if report.overage_cost is not None:
        balances.append(
            Balance(
                id="overage_cost",
                label="Overage cost",
                unit=report.overage_currency,
                used=report.overage_cost,
                period="monthly",
                resets_at=report.resets_at,
            )
        )
    return windows, balances


def parse_usage(raw: dict[str, Any], now: datetime) -> Usage:
    """``raw``: ``usage_text`` (the CLI's report), ``limits`` (GetUsageLimits JSON, optional) and
    ``limits_error`` (why the API part is missing, shown as a warning)."""
    text = raw.get("usage_text")
    if text is not None and not isinstance(text, str):
        raise ParseError("Kiro: the CLI report is not text", field="usage_text")
    salvage = Salvage()
    report = CliReport(text, now) if isinstance(text, str) else None
    limits = salvage.keep(lambda: Limits(raw["limits"])) if raw.get("limits") is not None else None
    if report is None and limits is None:
        if salvage.problems:
            raise salvage.problems[0]
        raise ParseError("Kiro: nothing to read (no CLI report, no GetUsageLimits answer)", field="usage_text")
    windows: list[Window] = []
    monthly = _monthly(report, limits)
    if monthly is not None:
        windows.append(monthly)
    overage_windows, balances = _overage(report, limits)
    windows += overage_windows
    if report is not None and report.bonus is not None:
        balances.insert(0, report.bonus)
    plan_raw = (report.plan if report else None) or (limits.plan if limits else None)
    plan = display_plan(plan_raw) if plan_raw else None
    if not windows and not balances:
        if report is not None and report.managed:
            raise UpstreamError(
                f"Kiro: the plan {plan or ''} is managed by an administrator and kiro-cli reports no usage for it",
                hint="Ask your administrator for the usage; it is shown in the AWS console, not to members.",
            )
        raise ParseError("Kiro: no recognizable usage in the kiro-cli /usage report", field="usage_text")
    warnings = list(salvage.warnings())
    problem = raw.get("limits_error")
    if isinstance(problem, dict):
        with contextlib.suppress(ValueError):  # a malformed note about an optional part is not worth failing for
            warnings.insert(0, ErrorInfo.model_validate(problem))
    return Usage(windows=tuple(windows), balances=tuple(balances), plan=plan, warnings=tuple(warnings))


def region_of(profile_arn: str) -> str | None:
    """``arn:aws:codewhisperer:eu-central-1:123:profile/X`` -> ``eu-central-1`` (checked, since it
    becomes part of a host name)."""
    parts = profile_arn.split(":")
    region = parts[3] if len(parts) > 4 else ""
    return region if re.fullmatch(r"[a-z]{2}(?:-[a-z]+)+-\d", region) else None


def endpoint_for(region: str | None) -> str:
    """The CodeWhisperer runtime host of a region: ``codewhisperer.`` resolves only in us-east-1;
    other regions are served by ``q.<region>``."""
    if region in (None, "us-east-1"):
        return "https://codewhisperer.us-east-1.amazonaws.com"
    return f"https://q.{region}.amazonaws.com"
