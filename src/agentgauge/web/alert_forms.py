"""What the settings page's alert forms read and send: the rules and targets as shown (a target's
address only as scheme and host, its secrets only as set / not set, what the config file holds
locked), and the checks on what a form sends. A rule goes through the config file's own parsing
(``alert_settings.parse_rule``/``check_rule``), a target through ``parse_target``; only the rules a
web form adds on top are here: names fit a URL path, values are literal and on one line."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..alert_settings import (
    KINDS,
    RULE_KEYS,
    TARGET_KEYS,
    WINDOW_KINDS,
    AlertSettings,
    Rule,
    TargetSpec,
    parse_target,
)
from ..alerts import describe as address_of
from ..alerts.managed import RULE, TARGET, Row
from ..errors import ConfigError
from ..managed import MAX_VALUE, REFERENCE
from ..providers import registry

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
FORM_RULE_KEYS = RULE_KEYS - {"name", "enabled"}  # name is the row's key, enabled its column
ENV_TARGET = re.compile(r"^env\d*$")  # AGENTGAUGE_ALERTS' targets: env, env2, ...


def check_name(value: Any, what: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not NAME.match(text):
        raise ConfigError(
            f"{str(value)[:64]!r} is not a valid {what} name",
            hint="Use letters, digits, '.', '_' or '-' (at most 64), e.g. 'phone' or 'claude-high'.",
        )
    return text


def enabled_of(data: Mapping[str, Any], default: bool) -> bool:
    value = data.get("enabled", default)
    if not isinstance(value, bool):
        raise ConfigError("'enabled' must be true or false")
    return value


def config_lock(kind: str, name: str, base: AlertSettings, env: Mapping[str, str]) -> str | None:
    """Why a rule or target of this name is the config's (it wins, and the dashboard cannot touch it)."""
    names = {r.name for r in base.rules} if kind == RULE else {t.name for t in base.targets}
    if name not in names:
        return None
    if kind == TARGET and ENV_TARGET.match(name) and (env.get("AGENTGAUGE_ALERTS") or "").strip():
        return f"alert target '{name}' is set by AGENTGAUGE_ALERTS: change it there"
    return f"alert {kind} '{name}' is set in the config file: change it there"


def rule_table(data: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """A rule's ``[[alerts.rules]]`` keys after this request: a key sent replaces the current one, a
    ``null`` drops it (back to its default). parse_rule checks the result like the config file's."""
    unknown = sorted(set(data) - RULE_KEYS)
    if unknown:
        raise ConfigError(f"unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(RULE_KEYS))}")
    table = dict(current)
    for key in FORM_RULE_KEYS & set(data):
        value = data[key]
        if value is None:
            table.pop(key, None)
        elif isinstance(value, str):
            table[key] = literal(value, key, refs=False)
        else:
            table[key] = value
    return table


def literal(value: Any, what: str, *, refs: bool = True) -> str:
    """A value as typed: a string, one line, not too long; with ``refs``, never a reference."""
    if not isinstance(value, str):
        raise ConfigError(f"'{what}' must be a string")
    text = value.strip()
    if len(text) > MAX_VALUE or "\n" in text or "\r" in text:
        raise ConfigError(f"'{what}': the value is too long or spans several lines")
    if refs and text.startswith(REFERENCE):
        raise ConfigError(
            f"'{what}': references ($env:, $file:, $cmd:) can only be written in the config file",
            hint="Paste the value itself; the dashboard stores it encrypted.",
        )
    return text


def target_values(data: Mapping[str, Any], current: Mapping[str, str]) -> dict[str, str]:
    """A target's url / webhook / secret after this request (``current``: what the store holds). A
    new address replaces the old one of either type. An empty secret keeps the stored one, ``null``
    drops it; a webhook moves only with its secret typed again (or dropped), so nobody sends what is
    signed with a secret they did not enter to a server of their choosing."""
    unknown = sorted(set(data) - TARGET_KEYS)
    if unknown:
        raise ConfigError(f"unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(TARGET_KEYS))}")
    url = literal(data["url"], "url") if data.get("url") is not None else ""
    webhook = literal(data["webhook"], "webhook") if data.get("webhook") is not None else ""
    drop_secret = "secret" in data and data["secret"] is None
    new_secret = literal(data["secret"], "secret") if data.get("secret") is not None else ""
    values = dict(current)
    if url or webhook:
        values = {k: v for k, v in (("url", url), ("webhook", webhook)) if v}  # both: parse_target refuses
        if webhook and not url and current.get("secret") and not (drop_secret or new_secret):
            if webhook != current.get("webhook"):
                raise ConfigError(
                    "changing the webhook needs its signing secret typed again in the same edit (or null to drop it)",
                    hint="A signing secret is only ever used where the person who entered it chose.",
                )
            values["secret"] = current["secret"]
    if drop_secret:
        values.pop("secret", None)
    elif new_secret:
        values["secret"] = new_secret
    if values.get("url") and "://" not in values["url"]:
        raise ConfigError("'url' must be an apprise URL such as ntfy://ntfy.sh/topic or tgram://bot-token/chat-id")
    return {k: v for k, v in values.items() if v}


def target_spec(name: str, values: Mapping[str, str], enabled: bool) -> TargetSpec:
    """The config file's own checks on a target (exactly one of url or webhook, an http(s) webhook...)."""
    return parse_target({"name": name, **values, "enabled": enabled}, f"alert target '{name}'")


def target_row(spec: TargetSpec, who: str | None) -> Row:
    """What the database keeps of a target: its type, its address as scheme and host, whether it signs."""
    settings = {"type": spec.kind, "address": address_of(spec), "signed": bool(spec.secret)}
    return Row(TARGET, spec.name, settings, spec.enabled, updated_by=who)


def _rule_json(rule: Rule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "kind": rule.kind,
        "enabled": rule.enabled,
        "providers": list(rule.providers),
        "accounts": list(rule.accounts),
        "windows": list(rule.windows),
        "targets": list(rule.targets),
        "thresholds": list(rule.thresholds),
        "after_minutes": rule.after_minutes,
        "min_peak_pct": rule.min_peak_pct,
        "min_lead_minutes": rule.min_lead_minutes,
        "cooldown_minutes": rule.cooldown_minutes,  # None: [alerts]' or the kind's default
        "quiet_hours": (str(rule.quiet_hours) if rule.quiet_hours else "") if rule.quiet_set else None,
    }


def listing(
    settings: AlertSettings,
    base: AlertSettings,
    rows: Mapping[tuple[str, str], Row],
    stored: Mapping[str, set[str]],
    env: Mapping[str, str],
) -> dict[str, Any]:
    """Every rule and target in force, the config's locked; never an address beyond scheme and host."""
    rules = []
    for rule in settings.rules:
        lock = config_lock(RULE, rule.name, base, env)
        row = None if lock else rows.get((RULE, rule.name))
        origin = "dashboard" if row else "config"
        rules.append({**_rule_json(rule), "origin": origin, "locked": lock, "updated_by": row and row.updated_by})
    targets = []
    for target in settings.targets:
        lock = config_lock(TARGET, target.name, base, env)
        row = None if lock else rows.get((TARGET, target.name))
        item: dict[str, Any] = {"name": target.name, "enabled": target.enabled, "locked": lock}
        if row is None:
            item.update(origin="config", kind=target.kind, address=address_of(target), address_set=True)
            item.update(secret_set=bool(target.secret))
        else:
            held = stored.get(target.name, set())
            item.update(origin="dashboard", kind=str(row.settings.get("type") or "apprise"))
            item.update(address=str(row.settings.get("address") or ""), address_set=bool(held & {"url", "webhook"}))
            item.update(secret_set="secret" in held, updated_by=row.updated_by)
        targets.append(item)
    shown = {(RULE, r["name"]) for r in rules if r["origin"] == "dashboard"}
    shown |= {(TARGET, t["name"]) for t in targets if t["origin"] == "dashboard"}
    return {
        "enabled": settings.enabled,
        "kinds": list(KINDS),
        "window_kinds": sorted(WINDOW_KINDS),
        "providers": [{"id": p.id, "name": p.name} for p in registry.all_providers()],
        "rules": rules,
        "targets": targets,
        # Saved here under a name the config file took later (or unreadable): not in force, removable.
        "shadowed": [{"kind": k[0], "name": k[1]} for k in rows if k not in shown],
    }
