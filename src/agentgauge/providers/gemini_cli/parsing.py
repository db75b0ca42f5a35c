"""Pure reading of Code Assist's ``loadCodeAssist`` and ``retrieveUserQuota`` answers.

``retrieveUserQuota`` gives buckets ``{modelId, remainingFraction (0-1), resetTime, tokenType,
remainingAmount}``; a model may have several (one per token type): the one with the least left is
the model's limit. Google's deprecation of Gemini CLI sign-in for individual accounts (2026-06-18)
answers ``UNSUPPORTED_CLIENT`` or an ``IneligibleTierError``: an auth error pointing to Antigravity.
"""

from __future__ import annotations

from typing import Any

from ...errors import AuthError, ParseError
from ...models import Usage, Window
from .._parse import Salvage, items, obj, opt_num, opt_str, opt_time, slug, unique_id

NAME = "Gemini CLI"
TIERS = {"free-tier": "Free", "standard-tier": "Standard", "legacy-tier": "Legacy"}
MIGRATE_HINT = (
    "Google no longer serves Gemini CLI sign-in for individual, AI Pro and Ultra accounts: use the "
    "antigravity provider for those; Workspace and Standard/Enterprise Code Assist accounts keep working."
)
DEPRECATION_MARKERS = ("unsupported_client", "ineligibletiererror", "no longer supported")


def deprecated(text: str) -> bool:
    lowered = text.lower()
    return any(marker in lowered for marker in DEPRECATION_MARKERS) or (
        "migrate" in lowered and "antigravity" in lowered
    )


def deprecation_error() -> AuthError:
    return AuthError(f"{NAME}: Google no longer serves this account through the Gemini CLI", hint=MIGRATE_HINT)


def plan_of(load: Any) -> str | None:
    """The tier in words: Google's paid tier name when given, else the current tier's."""
    root = obj(load)
    paid = opt_str(obj(root.get("paidTier")).get("name"))
    if paid:
        return paid
    current = obj(root.get("currentTier"))
    tier = opt_str(current.get("id"))
    return TIERS.get(tier or "") or opt_str(current.get("name"))


def project_of(load: Any) -> str | None:
    """``cloudaicompanionProject``: a string, or an object with ``id``."""
    value = obj(load).get("cloudaicompanionProject")
    if isinstance(value, dict):
        return opt_str(value.get("id")) or opt_str(value.get("projectId"))
    return opt_str(value)


def ineligible(load: Any) -> str | None:
    """Why the account has no tier: the ineligible tiers' messages, when there is no current tier."""
    root = obj(load)
    if root.get("currentTier"):
        return None
    reasons = [
        opt_str(t.get("reasonMessage")) or opt_str(t.get("reasonCode")) for t in items(root.get("ineligibleTiers"))
    ]
    found = [r for r in reasons if r]
    return "; ".join(found)[:200] if found else None


def parse_all(quota: Any, load: Any) -> Usage:
    if not isinstance(quota, dict):
        raise ParseError(f"{NAME}: quota response is not an object", field="$")
    salvage = Salvage()

    def bucket(index: int, entry: dict[str, Any]) -> tuple[str, float, Any] | None:
        where = f"buckets[{index}]"
        model = opt_str(entry.get("modelId"))
        fraction = opt_num(entry.get("remainingFraction"), f"{where}.remainingFraction")
        if model is None:
            return None
        if fraction is None:
            raise ParseError(f"{NAME}: a bucket has no '{where}.remainingFraction'", field=f"{where}.remainingFraction")
        return model, fraction, opt_time(entry.get("resetTime"), f"{where}.resetTime")

    lowest: dict[str, tuple[float, Any]] = {}
    for model, fraction, resets in salvage.each(items(quota.get("buckets")), bucket):
        if model not in lowest or fraction < lowest[model][0]:
            lowest[model] = (fraction, resets)
    taken: set[str] = set()
    windows = tuple(
        Window(
            id=unique_id(f"model_{slug(model)}", taken),
            label=model,
            used_pct=round(max(0.0, min(1.0, 1.0 - fraction)) * 100.0, 4),
            resets_at=resets,
        )
        for model, (fraction, resets) in sorted(lowest.items())
    )
    note = None
    if not windows and not salvage.problems:
        note = "Code Assist reports no model quota for this account"
    return Usage(windows=windows, plan=plan_of(load), note=note, warnings=salvage.warnings())
