"""Alert rules and delivery targets managed from the dashboard (docs/alerts.md): rows of
``managed_alerts``, and each target's URL, webhook and signing secret in the encrypted secret store
(under ``ALERT_TARGETS``, the account being the target's name), never in the database.

The config file's ``[alerts]`` and ``AGENTGAUGE_ALERTS`` come first and win: a row whose name one of
them uses is left out (the dashboard refuses to make one). :class:`AlertSource` hands the evaluator,
the deliverer and the pages the merged settings. At the start of each pass it reads one counter
(``managed_alerts_version``, moved in the same transaction as every change) and reads the rows and the
store again only when it moved, so a change saved through any replica's dashboard reaches whichever
process runs the alerts, without a restart.

Values saved from the dashboard are literal: one that looks like a ``$env:``/``$file:``/``$cmd:``
reference is refused when saved and never resolved here, since only the config file may make
agentgauge read a file or run a command.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import orjson

from ..alert_settings import AlertSettings, Rule, TargetSpec, parse_rule
from ..credentials import ALERT_TARGETS, SecretStore
from ..errors import AgentGaugeError, ConfigError, StoreUnavailableError
from ..store import Store

log = logging.getLogger("agentgauge.alerts")

RULE, TARGET = "rule", "target"
ADDRESS = ("url", "webhook", "secret")  # a target's settings kept in the secret store
DASHBOARD_ORIGIN = "dashboard"  # the secret store entries' origin
_REFS = ("$env:", "$file:", "$cmd:")


@dataclass(frozen=True)
class Row:
    """One rule (``settings``: its ``[[alerts.rules]]`` keys but name and enabled) or one target
    (``settings``: ``type`` apprise/webhook, ``address`` as scheme and host, ``signed``)."""

    kind: str
    name: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    enabled: bool = True
    updated_at: int = 0
    updated_by: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)


def read_version(store: Store) -> int:
    found = store.query("SELECT version FROM managed_alerts_version WHERE id = 1")
    return int(str(found[0][0])) if found else 0


def read_rows(store: Store) -> dict[tuple[str, str], Row]:
    found = store.query(
        "SELECT kind, name, settings, enabled, updated_at, updated_by FROM managed_alerts ORDER BY kind, name"
    )
    out = {}
    for r in found:
        settings = orjson.loads(str(r[2]) or "{}")
        row = Row(
            str(r[0]),
            str(r[1]),
            settings if isinstance(settings, dict) else {},
            bool(r[3]),
            int(str(r[4])),
            None if r[5] is None else str(r[5]),
        )
        out[row.key] = row
    return out


def save(store: Store, row: Row, now: datetime, *, new: bool = False) -> Row:
    """Insert (``new``: refused when the name is taken) or replace one row; the version moves with it."""
    row = replace(row, updated_at=int(now.timestamp()))
    with store.transaction() as tx:
        # The counter first: its row lock queues concurrent saves (PostgreSQL), so the second of two
        # adds of one name sees the first and gets the 409 below, not a key violation.
        tx.execute("UPDATE managed_alerts_version SET version = version + 1 WHERE id = 1")
        taken = tx.query("SELECT 1 FROM managed_alerts WHERE kind = ? AND name = ?", row.key)
        if new and taken:
            raise ConfigError(f"an alert {row.kind} named '{row.name}' exists already", hint="Edit it instead.")
        tx.execute("DELETE FROM managed_alerts WHERE kind = ? AND name = ?", row.key)
        tx.execute(
            "INSERT INTO managed_alerts (kind, name, settings, enabled, updated_at, updated_by) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                row.kind,
                row.name,
                orjson.dumps(dict(row.settings)).decode(),
                int(row.enabled),
                row.updated_at,
                row.updated_by,
            ),
        )
    return row


def delete(store: Store, kind: str, name: str) -> None:
    with store.transaction() as tx:
        tx.execute("DELETE FROM managed_alerts WHERE kind = ? AND name = ?", (kind, name))
        tx.execute("UPDATE managed_alerts_version SET version = version + 1 WHERE id = 1")


def rule_of(row: Row) -> Rule:
    """The row's rule, through the config file's own checks."""
    return parse_rule({**row.settings, "name": row.name, "enabled": row.enabled}, f"alert rule '{row.name}'")


def target_of(row: Row, values: Mapping[str, str]) -> TargetSpec:
    """The row's target with its address from the secret store; without one (a store this server
    cannot read, or a reference that should never have been saved) it has none, and a delivery says so."""
    url, webhook, secret = (values.get(k, "") for k in ADDRESS)
    if any(v.startswith(_REFS) for v in (url, webhook, secret)):
        log.warning("alert target '%s' from the dashboard holds a reference; it is not used", row.name)
        url = webhook = secret = ""
    if webhook:
        return TargetSpec(row.name, webhook=webhook, secret=secret, enabled=row.enabled)
    return TargetSpec(row.name, url=url, enabled=row.enabled)


def addresses(secrets: SecretStore) -> dict[str, dict[str, str]]:
    """Target name -> its stored url / webhook / secret (decrypted: for delivery only, never shown)."""
    if not secrets.exists():
        return {}
    out: dict[str, dict[str, str]] = {}
    for entry in secrets.entries():
        if entry.provider == ALERT_TARGETS and entry.value is not None:
            out.setdefault(entry.account, {})[entry.setting] = entry.value.reveal()
    return out


def stored_settings(secrets: SecretStore, name: str) -> set[str]:
    """Which of a target's settings the store holds (metadata only: nothing is decrypted)."""
    if not secrets.exists():
        return set()
    return {e.setting for e in secrets.metadata() if e.provider == ALERT_TARGETS and e.account == name}


def merge(base: AlertSettings, rows: Iterable[Row], stored: Mapping[str, Mapping[str, str]]) -> AlertSettings:
    """``base`` (config file and environment) with the dashboard's rules and targets after its own;
    a row named like one of them is left out (they win)."""
    rules, targets = list(base.rules), list(base.targets)
    taken_rules, taken_targets = {r.name for r in rules}, {t.name for t in targets}
    for row in rows:
        if row.kind == TARGET and row.name not in taken_targets:
            targets.append(target_of(row, stored.get(row.name, {})))
        elif row.kind == RULE and row.name not in taken_rules:
            try:
                rules.append(rule_of(row))
            except ConfigError as exc:  # written by another version of agentgauge, say: skipped, said once
                log.warning("dashboard alert rule '%s' is not used: %s", row.name, exc.message)
    return replace(base, rules=tuple(rules), targets=tuple(targets))


class AlertSource:
    """The alert settings in force: the config's, merged with the dashboard's rows. ``refresh`` is
    cheap while nothing changed (one single-row query); thread-safe (the chores run in threads)."""

    def __init__(self, base: AlertSettings, store: Store | None, secrets: SecretStore | None = None) -> None:
        self.base = base
        self.store = store
        self._secrets = secrets  # opened on first need: most servers never store an alert target
        self.settings = base
        self.rows: dict[tuple[str, str], Row] = {}
        self.version: int | None = None
        self._lock = threading.Lock()

    @property
    def secrets(self) -> SecretStore:
        if self._secrets is None:
            self._secrets = SecretStore()
        return self._secrets

    @secrets.setter
    def secrets(self, store: SecretStore) -> None:
        self._secrets = store
        self.version = None  # read again from the new store

    def refresh(self) -> AlertSettings:
        """The merged settings, read again if the version moved; the last ones while the database is down."""
        if self.store is None:
            return self.settings
        with self._lock:
            try:
                version = read_version(self.store)
                if version == self.version:
                    return self.settings
                rows = read_rows(self.store)
            except StoreUnavailableError:
                return self.settings
            stored: dict[str, dict[str, str]] = {}
            if any(k[0] == TARGET for k in rows):
                try:
                    stored = addresses(self.secrets)
                except AgentGaugeError as exc:  # the store's key is gone: targets stay, without address
                    log.warning("alert targets' addresses not read from the secret store: %s", exc.message)
            self.settings = merge(self.base, rows.values(), stored)
            self.rows, self.version = rows, version
            return self.settings
