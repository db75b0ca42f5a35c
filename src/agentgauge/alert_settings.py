"""The ``[alerts]`` and ``[status_pages]`` tables of the config file, parsed and checked at load.

Only data and validation live here (``config.load`` calls :func:`parse_alerts` and
:func:`parse_status_pages`); evaluation and delivery are ``agentgauge.alerts``. Target addresses
and webhook secrets stay as written (a ``$env:``/``$file:``/``$cmd:`` reference is resolved only
when a delivery needs it), and nothing here ever prints one.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from .errors import ConfigError

KINDS = ("threshold", "depleted", "restored", "reset", "forecast", "stale", "drift", "incident", "budget")
WINDOW_KINDS = frozenset({"threshold", "depleted", "restored", "reset", "forecast"})
# "budget" watches the monthly budgets of config's [budgets] (nothing without one).
DEFAULT_KINDS = ("threshold", "depleted", "restored", "forecast", "stale", "drift", "incident", "budget")
DEFAULT_THRESHOLDS: tuple[float, ...] = (80.0, 95.0)
DEFAULT_STALE_MINUTES = 30.0
DEFAULT_RESET_MIN_PEAK = 80.0
DEFAULT_FORECAST_LEAD = 10.0
# Minutes between two alerts of one rule about the same thing when neither the rule nor [alerts] sets one:
# flapping conditions (a failing account, drifting upstream) get longer pauses than usage crossings.
DEFAULT_COOLDOWN = {"stale": 30.0, "drift": 360.0, "forecast": 60.0}
FALLBACK_COOLDOWN = 10.0
STATUS_PAGE_INTERVAL = 300.0
_QUIET = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_RULE_KEYS = {
    "kind",
    "name",
    "providers",
    "accounts",
    "windows",
    "targets",
    "thresholds",
    "after_minutes",
    "min_peak_pct",
    "min_lead_minutes",
    "cooldown_minutes",
    "quiet_hours",
    "enabled",
}
_TARGET_KEYS = {"name", "url", "webhook", "secret", "enabled"}
RULE_KEYS, TARGET_KEYS = frozenset(_RULE_KEYS), frozenset(_TARGET_KEYS)  # what a form may send
_ALERT_KEYS = {"enabled", "timezone", "cooldown_minutes", "quiet_hours", "rules", "targets"}
_STATUS_KEYS = {"enabled", "interval_seconds", "urls"}


@dataclass(frozen=True)
class QuietHours:
    """A daily span (local to the alerts' time zone) in which deliveries wait; may wrap midnight."""

    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str
    providers: tuple[str, ...] = ()  # empty: every provider
    accounts: tuple[str, ...] = ()
    windows: tuple[str, ...] = ()  # globs; empty: every window
    targets: tuple[str, ...] = ()  # empty: every target
    thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS
    after_minutes: float = DEFAULT_STALE_MINUTES
    min_peak_pct: float = DEFAULT_RESET_MIN_PEAK
    min_lead_minutes: float = DEFAULT_FORECAST_LEAD
    cooldown_minutes: float | None = None  # None: [alerts] cooldown_minutes, else the kind's default
    quiet_hours: QuietHours | None = None
    quiet_set: bool = False  # quiet_hours given on the rule ("" turns [alerts]' off for it)
    enabled: bool = True


@dataclass(frozen=True)
class TargetSpec:
    """Where alerts go: an apprise URL (``url``) or a plain webhook (``webhook`` + optional ``secret``).
    Values may be references resolved at delivery; ``repr`` never shows them."""

    name: str
    url: str = field(default="", repr=False)
    webhook: str = field(default="", repr=False)
    secret: str = field(default="", repr=False)
    enabled: bool = True

    @property
    def kind(self) -> str:
        return "webhook" if self.webhook else "apprise"


@dataclass(frozen=True)
class AlertSettings:
    enabled: bool = True
    timezone: str = ""  # "" = the server's local zone
    cooldown_minutes: float | None = None
    quiet_hours: QuietHours | None = None
    rules: tuple[Rule, ...] = tuple(Rule(name=k, kind=k) for k in DEFAULT_KINDS)
    targets: tuple[TargetSpec, ...] = ()

    def cooldown(self, rule: Rule) -> float:
        """Seconds between two alerts of ``rule`` about the same thing."""
        for minutes in (rule.cooldown_minutes, self.cooldown_minutes):
            if minutes is not None:
                return minutes * 60
        return DEFAULT_COOLDOWN.get(rule.kind, FALLBACK_COOLDOWN) * 60

    def quiet(self, rule: Rule) -> QuietHours | None:
        return rule.quiet_hours if rule.quiet_set else self.quiet_hours

    def target(self, name: str) -> TargetSpec | None:
        return next((t for t in self.targets if t.name == name), None)

    def targets_of(self, rule: Rule) -> tuple[TargetSpec, ...]:
        chosen = [t for t in self.targets if t.enabled and (not rule.targets or t.name in rule.targets)]
        return tuple(chosen)


@dataclass(frozen=True)
class StatusPages:
    """The providers' status-page checks (incident badges and alerts). A Config built in code (tests,
    the demo) leaves them off so nothing reaches a public site; ``config.load`` turns them on."""

    enabled: bool = False
    interval_seconds: float = STATUS_PAGE_INTERVAL
    urls: Mapping[str, str] = field(default_factory=dict)  # provider id -> status page ("" = none)


def _fail(where: str, message: str, hint: str | None = None) -> ConfigError:
    return ConfigError(f"{where}: {message}", hint=hint or "docs/alerts.md shows every alert setting with examples.")


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(where, "must be a table")
    return value


def _bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise _fail(where, f"must be true or false, got {value!r}")


def _number(value: Any, where: str, *, low: float = 0.0, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _fail(where, f"must be a number, got {type(value).__name__}")
    try:
        number = float(value)
    except ValueError:
        raise _fail(where, f"must be a number, got {value!r}") from None
    if number != number or number < low or (high is not None and number > high):
        bounds = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        raise _fail(where, f"must be {bounds}, got {number:g}")
    return number


def _names(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _fail(where, "must be a list of names")
    return tuple(v.strip() for v in value)


def parse_quiet_hours(value: Any, where: str) -> QuietHours | None:
    """``"22:00-07:00"`` (may wrap midnight); ``""`` means none."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    match = _QUIET.match(str(value))
    if not match:
        raise _fail(where, f'must look like "22:00-07:00", got {value!r}')
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise _fail(where, f"{value!r} is not a time of day")
    if (h1, m1) == (h2, m2):
        raise _fail(where, "start and end are the same time")
    return QuietHours(time(h1, m1), time(h2, m2))


def _rule(raw: Any, index: int) -> Rule:
    return parse_rule(raw, f"[[alerts.rules]] #{index + 1}")


def parse_rule(raw: Any, where: str) -> Rule:
    """One ``[[alerts.rules]]`` table (or the same keys sent by the dashboard's form), checked alone;
    :func:`check_rule` checks what it names against the targets and providers."""
    table = _table(raw, where)
    unknown = sorted(set(table) - _RULE_KEYS)
    if unknown:
        raise _fail(where, f"unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_RULE_KEYS))}")
    kind = str(table.get("kind") or "").strip()
    if kind not in KINDS:
        raise _fail(where, f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    name = str(table.get("name") or kind).strip()
    where = f"alert rule '{name}'"
    windows = _names(table["windows"], f"{where}: windows") if "windows" in table else ()
    if windows and kind not in WINDOW_KINDS:
        raise _fail(where, f"'windows' applies to window rules ({', '.join(sorted(WINDOW_KINDS))}), not {kind}")
    thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS
    if "thresholds" in table:
        raw_t = table["thresholds"]
        items = raw_t if isinstance(raw_t, list) else [raw_t]
        thresholds = tuple(sorted({_number(t, f"{where}: thresholds", low=1, high=100) for t in items}))
        if not thresholds:
            raise _fail(where, "thresholds must name at least one percent")
    quiet_set = "quiet_hours" in table
    return Rule(
        name=name,
        kind=kind,
        providers=_names(table["providers"], f"{where}: providers") if "providers" in table else (),
        accounts=_names(table["accounts"], f"{where}: accounts") if "accounts" in table else (),
        windows=windows,
        targets=_names(table["targets"], f"{where}: targets") if "targets" in table else (),
        thresholds=thresholds,
        after_minutes=_number(table.get("after_minutes", DEFAULT_STALE_MINUTES), f"{where}: after_minutes", low=1),
        min_peak_pct=_number(table.get("min_peak_pct", DEFAULT_RESET_MIN_PEAK), f"{where}: min_peak_pct", high=100),
        min_lead_minutes=_number(table.get("min_lead_minutes", DEFAULT_FORECAST_LEAD), f"{where}: min_lead_minutes"),
        cooldown_minutes=(
            _number(table["cooldown_minutes"], f"{where}: cooldown_minutes") if "cooldown_minutes" in table else None
        ),
        quiet_hours=parse_quiet_hours(table.get("quiet_hours"), f"{where}: quiet_hours") if quiet_set else None,
        quiet_set=quiet_set,
        enabled=_bool(table.get("enabled", True), f"{where}: enabled"),
    )


def _target(raw: Any, index: int) -> TargetSpec:
    return parse_target(raw, f"[[alerts.targets]] #{index + 1}")


def parse_target(raw: Any, where: str) -> TargetSpec:
    """One ``[[alerts.targets]]`` table (or the same keys sent by the dashboard's form)."""
    table = _table(raw, where)
    unknown = sorted(set(table) - _TARGET_KEYS)
    if unknown:
        raise _fail(where, f"unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_TARGET_KEYS))}")
    name = str(table.get("name") or "").strip()
    if not name:
        raise _fail(where, "needs a name (rules pick targets by name)")
    where = f"alert target '{name}'"
    url, webhook, secret = (str(table.get(k) or "").strip() for k in ("url", "webhook", "secret"))
    if bool(url) == bool(webhook):
        raise _fail(where, "set exactly one of 'url' (an apprise URL) or 'webhook' (an http(s) URL)")
    if webhook and not webhook.startswith(("http://", "https://", "$env:", "$file:", "$cmd:")):
        raise _fail(where, "'webhook' must be an http:// or https:// URL (or a $env:/$file:/$cmd: reference)")
    if secret and not webhook:
        raise _fail(where, "'secret' signs webhook bodies; an apprise URL carries its own credentials")
    return TargetSpec(name, url, webhook, secret, _bool(table.get("enabled", True), f"{where}: enabled"))


def _env_targets(raw: str) -> list[TargetSpec]:
    """AGENTGAUGE_ALERTS: apprise URLs separated by whitespace, named env, env2, ..."""
    urls = raw.split()
    return [TargetSpec("env" if i == 0 else f"env{i + 1}", url=u) for i, u in enumerate(urls)]


def parse_alerts(value: Any, env_value: str | None, known_providers: Sequence[str] | None) -> AlertSettings:
    """The ``[alerts]`` table (absent: the default rules, no targets) plus ``AGENTGAUGE_ALERTS``:
    ``off`` turns alerting off, anything else is apprise URLs added as targets."""
    table = _table(value, "[alerts]") if value is not None else {}
    unknown = sorted(set(table) - _ALERT_KEYS)
    if unknown:
        raise _fail("[alerts]", f"unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_ALERT_KEYS))}")
    enabled = _bool(table.get("enabled", True), "[alerts] enabled")
    env_targets: list[TargetSpec] = []
    if env_value and env_value.strip():
        if env_value.strip().lower() in ("off", "false", "0", "no"):
            enabled = False
        elif env_value.strip().lower() not in ("on", "true", "1", "yes"):
            env_targets = _env_targets(env_value)
    raw_rules = table.get("rules")
    if raw_rules is not None and not isinstance(raw_rules, list):
        raise _fail("[alerts] rules", "must be an array of tables ([[alerts.rules]])")
    rules = tuple(_rule(r, i) for i, r in enumerate(raw_rules)) if raw_rules is not None else AlertSettings.rules
    raw_targets = table.get("targets", [])
    if not isinstance(raw_targets, list):
        raise _fail("[alerts] targets", "must be an array of tables ([[alerts.targets]])")
    targets = (*(_target(t, i) for i, t in enumerate(raw_targets)), *env_targets)
    _unique([r.name for r in rules], "alert rule", "give each rule of one kind its own 'name'")
    _unique([t.name for t in targets], "alert target", "target names must differ")
    names = {t.name for t in targets}
    for rule in rules:
        check_rule(rule, names, known_providers)
    timezone = str(table.get("timezone") or "").strip()
    if timezone:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise _fail("[alerts] timezone", f"{timezone!r} is not a time zone name (e.g. Europe/Berlin)") from None
    return AlertSettings(
        enabled=enabled,
        timezone=timezone,
        cooldown_minutes=(
            _number(table["cooldown_minutes"], "[alerts] cooldown_minutes") if "cooldown_minutes" in table else None
        ),
        quiet_hours=parse_quiet_hours(table.get("quiet_hours"), "[alerts] quiet_hours"),
        rules=rules,
        targets=targets,
    )


def check_rule(rule: Rule, target_names: Collection[str], known_providers: Sequence[str] | None) -> None:
    """What a rule names must exist: its targets, and (when known) its providers."""
    missing = sorted(set(rule.targets) - set(target_names))
    if missing:
        raise _fail(f"alert rule '{rule.name}'", f"names unknown target(s) {', '.join(missing)}")
    if known_providers is not None:
        strangers = sorted(set(rule.providers) - set(known_providers))
        if strangers:
            raise _fail(
                f"alert rule '{rule.name}'",
                f"names unknown provider(s) {', '.join(strangers)}",
                hint="`agentgauge providers` lists every provider id.",
            )


def _unique(names: list[str], what: str, hint: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise _fail(f"{what} '{name}'", "is defined twice", hint=hint)
        seen.add(name)


def parse_status_pages(value: Any, env_value: str | None) -> StatusPages:
    """``status_pages = false``, or a ``[status_pages]`` table (``enabled``, ``interval_seconds``,
    ``urls.<provider>`` to override or, with "", drop a provider's page); ``AGENTGAUGE_STATUS_PAGES``
    (``on``/``off``) wins."""
    enabled, interval, urls = True, STATUS_PAGE_INTERVAL, {}
    if isinstance(value, bool):
        enabled = value
    elif value is not None:
        table = _table(value, "[status_pages]")
        unknown = sorted(set(table) - _STATUS_KEYS)
        if unknown:
            raise _fail(
                "[status_pages]", f"unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_STATUS_KEYS))}"
            )
        enabled = _bool(table.get("enabled", True), "[status_pages] enabled")
        interval = _number(
            table.get("interval_seconds", STATUS_PAGE_INTERVAL), "[status_pages] interval_seconds", low=30
        )
        raw_urls = _table(table.get("urls", {}), "[status_pages.urls]")
        for provider, url in raw_urls.items():
            text = str(url).strip()
            if text and not text.startswith(("http://", "https://")):
                raise _fail(f"[status_pages.urls] {provider}", 'must be an http:// or https:// URL, or "" for none')
            urls[str(provider)] = text.rstrip("/")
    if env_value and env_value.strip():
        enabled = _bool(env_value, "AGENTGAUGE_STATUS_PAGES")
    return StatusPages(enabled=enabled, interval_seconds=interval, urls=urls)
