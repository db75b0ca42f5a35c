"""Alerts: rules over what the engine refreshes and what status pages say, delivered through apprise
URLs and signed webhooks (docs/alerts.md). ``service`` evaluates, ``deliver`` sends, ``ledger`` is
the SQL, ``rules`` the pure state machines, ``messages`` the wording."""

from __future__ import annotations

from .deliver import SIGNATURE_HEADER, Deliverer, DeliveryError, describe, sign
from .ledger import recent
from .service import AlertService

__all__ = ["SIGNATURE_HEADER", "AlertService", "Deliverer", "DeliveryError", "describe", "recent", "sign"]
