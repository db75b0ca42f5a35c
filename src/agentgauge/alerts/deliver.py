"""Delivering alerts: apprise URLs (ntfy, Telegram, Slack, Discord, e-mail... apprise's 100+ services)
and plain webhooks (a JSON body signed with HMAC-SHA256 under the target's secret). A chore runs
``Deliverer.run`` in a worker thread, so a slow or dead target never holds up a refresh; a failed
attempt is retried later with back-off (the due time is stored, nothing sleeps).

Target addresses and secrets are resolved only here, at delivery, and never written anywhere:
errors are our own words ("HTTP 502", "connection failed"), not a library's message, which could
quote the URL and the token in it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx
import orjson

from ..alert_settings import AlertSettings, TargetSpec
from ..config import Config, resolve_ref
from ..errors import AgentGaugeError
from ..store import Store
from . import ledger

if TYPE_CHECKING:
    from .managed import AlertSource

log = logging.getLogger("agentgauge.alerts")

SIGNATURE_HEADER = "X-AgentGauge-Signature"
TIMEOUT = 10.0
BACKOFF = (30, 60, 120, 300, 900)  # seconds before attempts 2..6
MAX_ATTEMPTS = len(BACKOFF) + 1
_GOOD_NEWS = {"restored", "recovered", "incident_ended"}
_REFS = ("$env:", "$file:", "$cmd:")


class DeliveryError(Exception):
    """One attempt failed; ``reason`` is safe to store and show (it never holds the address)."""

    def __init__(self, reason: str, *, retry: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: ``sha256=`` and the hex HMAC-SHA256 of the exact body bytes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def describe(target: TargetSpec) -> str:
    """A target's address for people: the scheme (and a webhook's host), never a token or a path."""
    value = target.webhook or target.url
    if value.startswith(_REFS):
        return value.split()[0] if value.startswith("$cmd:") else value  # a reference, not the secret itself
    scheme, _, rest = value.partition("://")
    if target.webhook:
        host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
        return f"{scheme}://{host}/…"
    return f"{scheme}://…"


def webhook_body(item: ledger.Due) -> bytes:
    return orjson.dumps(
        {
            "version": 1,
            "source": "agentgauge",
            "id": item.event_id,
            "event": item.event,
            "severity": item.severity,
            "title": item.title,
            "message": item.message,
            "provider": item.provider or None,
            "account": item.account or None,
            "window": item.subject or None,
            "created_at": datetime.fromtimestamp(item.created_at, UTC).isoformat().replace("+00:00", "Z"),
            "data": item.data,
        }
    )


_apprise_quiet = threading.Lock()
_apprise_muted = False


def _mute_apprise() -> None:
    """apprise logs its own errors with the service's URL in them: keep them out of every log."""
    global _apprise_muted
    with _apprise_quiet:
        if not _apprise_muted:
            logger = logging.getLogger("apprise")
            logger.addHandler(logging.NullHandler())
            logger.propagate = False
            logger.setLevel(logging.CRITICAL + 1)
            _apprise_muted = True


class Deliverer:
    """Sends due deliveries (``run``) and samples (``test``)."""

    def __init__(
        self,
        config: Config,
        store: Store | None,
        clock: Callable[[], datetime],
        *,
        http: Callable[[], httpx.Client] | None = None,
        source: AlertSource | None = None,
    ) -> None:
        self.config = config
        self.settings: AlertSettings = config.alerts
        self.source = source  # the dashboard's targets too (alerts.managed), read again each pass
        self.store = store
        self.clock = clock
        self._http = http or (lambda: httpx.Client(timeout=TIMEOUT, headers={"User-Agent": "agentgauge"}))
        self._resolved: dict[tuple[str, str], str] = {}

    def run(self) -> int:
        """Try every delivery that is due once; returns how many were sent."""
        store = self.store
        if self.source is not None:
            fresh = self.source.refresh()
            if fresh is not self.settings:  # a target changed: its address is resolved again
                self.settings, self._resolved = fresh, {}
        if store is None or not self.settings.targets:
            return 0
        now = int(self.clock().timestamp())
        sent = 0
        for item in ledger.due(store, now):
            target = self.settings.target(item.target)
            attempts = item.attempts + 1
            try:
                if target is None or not target.enabled:
                    raise DeliveryError("the target is no longer configured", retry=False)
                self.send(target, item)
            except DeliveryError as exc:
                final = not exc.retry or attempts >= MAX_ATTEMPTS
                wait = 0 if final else BACKOFF[attempts - 1]
                if final:
                    log.warning("alert %d to %s failed for good: %s", item.event_id, item.target, exc.reason)
                ledger.finish(
                    store,
                    item,
                    status="failed" if final else "pending",
                    attempts=attempts,
                    next_try_at=now + wait,
                    error=exc.reason,
                    now=now,
                )
                continue
            ledger.finish(store, item, status="sent", attempts=attempts, next_try_at=now, error=None, now=now)
            sent += 1
        return sent

    def test(self, target: TargetSpec) -> str | None:
        """Send a sample alert to ``target`` now: None when it went through, else why not."""
        from .messages import render, zone

        now = self.clock()
        title, message = render("test", {}, zone(self.settings.timezone), now)
        item = ledger.Due(0, target.name, 0, "test", "info", "", "", "", title, message, {}, int(now.timestamp()))
        try:
            self.send(target, item)
        except DeliveryError as exc:
            return exc.reason
        return None

    # -- one attempt ----------------------------------------------------------------------------
    def send(self, target: TargetSpec, item: ledger.Due) -> None:
        if not target.webhook and not target.url:  # a dashboard target whose address this server lacks
            raise DeliveryError("the target's address is not in this server's secret store")
        if target.webhook:
            self._webhook(target, item)
        else:
            self._apprise(self._value(target, "url", target.url), item)

    def _value(self, target: TargetSpec, what: str, value: str) -> str:
        key = (target.name, what)
        if key not in self._resolved:
            try:
                self._resolved[key] = resolve_ref(value, env=self.config.env, home=self.config.home, what=target.name)
            except AgentGaugeError as exc:  # names the variable, file or command: never the value
                raise DeliveryError(f"cannot read the target's {what}: {exc.message}", retry=False) from None
        return self._resolved[key]

    def _webhook(self, target: TargetSpec, item: ledger.Due) -> None:
        url = self._value(target, "webhook", target.webhook)
        body = webhook_body(item)
        headers = {
            "Content-Type": "application/json",
            "X-AgentGauge-Event": item.event,
            "X-AgentGauge-Delivery": str(item.event_id),
        }
        if target.secret:
            headers[SIGNATURE_HEADER] = sign(self._value(target, "secret", target.secret), body)
        try:
            with self._http() as http:
                response = http.post(url, content=body, headers=headers)
        except httpx.TimeoutException:
            raise DeliveryError(f"no answer within {TIMEOUT:g} s") from None
        except httpx.HTTPError as exc:
            raise DeliveryError(f"connection failed ({type(exc).__name__})") from None
        if response.is_success:
            return
        status = response.status_code
        raise DeliveryError(f"HTTP {status}", retry=status >= 500 or status in (408, 425, 429))

    def _apprise(self, url: str, item: ledger.Due) -> None:
        _mute_apprise()
        import apprise

        notify = apprise.Apprise()
        if not notify.add(url):
            raise DeliveryError("apprise does not know this URL (check its scheme and form)", retry=False)
        kind = (
            apprise.NotifyType.SUCCESS
            if item.event in _GOOD_NEWS
            else apprise.NotifyType.FAILURE
            if item.severity == "critical"
            else apprise.NotifyType.WARNING
            if item.severity == "warning"
            else apprise.NotifyType.INFO
        )
        if not notify.notify(body=item.message, title=item.title, notify_type=kind):
            raise DeliveryError("apprise could not deliver it (the service refused it or did not answer)")
