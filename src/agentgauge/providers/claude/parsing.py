"""Pure parsers for the JSON Claude reports usage in, and the organization lists of the web source.

* ``/api/oauth/usage`` (OAuth) and ``claude.ai/api/organizations/{org}/usage`` (web) share one
  shape: keyed windows, a newer ``limits[]`` list and ``extra_usage``. Each window is read on
  its own (``_parse.Salvage``): one that drifted becomes a warning naming its field while the
  others are shown;
* ``claude.ai/api/bootstrap`` (the account's organization memberships and the last active
  one) and ``claude.ai/api/organizations`` (a list that may hold non-objects).

The CLI's ``/usage`` panel is read by ``panel``. Nothing here does I/O.
"""

from __future__ import annotations

from typing import Any

from ...errors import AuthError, ParseError
from ...models import Usage, Window
from .._parse import Salvage, items, obj, opt_num, opt_str, opt_time, pct_of, slug

SESSION_SECONDS = 18000
WEEK_SECONDS = 604800
# Keyed windows of the usage JSON, in display order.
KEYED: dict[str, tuple[str, str, int]] = {
    "five_hour": ("session", "Session (5h)", SESSION_SECONDS),
    "seven_day": ("weekly", "Weekly", WEEK_SECONDS),
    "seven_day_opus": ("weekly_opus", "Weekly · Opus", WEEK_SECONDS),
    "seven_day_sonnet": ("weekly_sonnet", "Weekly · Sonnet", WEEK_SECONDS),
}
# Claude Design variants draw from the main weekly limit; showing them would double count it.
SHARED_WITH_MAIN = frozenset({"seven_day_design", "seven_day_omelette"})


# -- plan ---------------------------------------------------------------------------------
def plan_from(tier: str | None, subscription: str | None) -> str | None:
    """``rateLimitTier`` names the Max multiplier; otherwise ``subscriptionType`` (pro, team...)."""
    lowered = (tier or "").lower()
    for multiplier in ("max_20x", "max_5x"):
        if multiplier in lowered:
            return multiplier
    return subscription.strip().lower() if subscription and subscription.strip() else None


def plan_from_org(org: dict[str, Any]) -> str | None:
    """A claude.ai organization names its plan by ``rate_limit_tier`` or a ``claude_*`` capability."""
    capabilities = [c for c in org.get("capabilities") or [] if isinstance(c, str)]
    subscription = next(
        (
            c.removeprefix("claude_")
            for c in capabilities
            if c in ("claude_max", "claude_pro", "claude_team", "claude_enterprise")
        ),
        None,
    )
    return plan_from(opt_str(org.get("rate_limit_tier")), subscription)


# -- organizations (web source) -----------------------------------------------------------
def pick_org(orgs: list[dict[str, Any]], preferred: str | None = None) -> dict[str, Any]:
    """The organization to read: among those with the ``chat`` capability (the list also holds
    API-only orgs), or all of them when none has it, the last active one, else the first."""
    chat = [o for o in orgs if isinstance(o.get("capabilities"), list) and "chat" in o["capabilities"]]
    candidates = chat or orgs
    return next((o for o in candidates if preferred and opt_str(o.get("uuid")) == preferred), candidates[0])


def org_from_list(payload: Any) -> dict[str, Any]:
    """The organization of ``/api/organizations`` (a list that may hold non-objects)."""
    if not isinstance(payload, list):
        raise ParseError("Claude: organizations response is not a list", field="organizations")
    orgs = [o for o in items(payload) if opt_str(o.get("uuid"))]
    if not orgs:
        raise ParseError(
            "Claude: no organization with a uuid in the organizations response", field="organizations[].uuid"
        )
    return pick_org(orgs)


def org_from_bootstrap(payload: Any) -> dict[str, Any] | None:
    """The organization ``/api/bootstrap`` names (``account.memberships[].organization``, the
    ``lastActiveOrgId`` first), or None when it names none (the caller falls back to the list).
    ``account: null`` is claude.ai's answer for a signed-out cookie."""
    root = obj(payload)
    if "account" in root and root["account"] is None:
        raise AuthError(
            "Claude: claude.ai has no signed-in account for this session cookie (bootstrap account is null)"
        )
    account = obj(root.get("account"))
    memberships = account.get("memberships") if "memberships" in account else root.get("memberships")
    orgs = [org for m in items(memberships) if (org := obj(m.get("organization"))) and opt_str(org.get("uuid"))]
    if not orgs:
        return None
    last = opt_str(account.get("lastActiveOrgId")) or opt_str(account.get("last_active_org_id"))
    return pick_org(orgs, last)


# -- the usage JSON ----------------------------------------------------------------------
def parse_usage(payload: Any, plan: str | None) -> Usage:
    if not isinstance(payload, dict):
        raise ParseError("Claude: usage response is not an object", field="$")
    known = any(k in payload for k in ("five_hour", "seven_day", "limits", "extra_usage")) or any(
        isinstance(k, str) and k.startswith("seven_day_") for k in payload
    )
    if not known:
        raise ParseError(
            "Claude: usage response has none of five_hour, seven_day, limits or extra_usage", field="five_hour"
        )
    salvage = Salvage()
    windows = salvage.each(
        KEYED.items(), lambda _i, kv: _keyed(payload.get(kv[0]), kv[0], *kv[1], salvage=salvage, strict=True)
    )
    variants = [
        (key, value)
        for key, value in payload.items()
        if isinstance(key, str) and key.startswith("seven_day_") and key not in KEYED and key not in SHARED_WITH_MAIN
    ]
    windows += salvage.each(variants, lambda _i, kv: _variant(kv[0], kv[1], salvage))
    windows += _limits(payload.get("limits"), {w.id for w in windows}, salvage)
    extra = salvage.keep(lambda: _extra_usage(payload.get("extra_usage")))
    if extra:
        windows.append(extra)
    return Usage(windows=tuple(windows), plan=plan, warnings=salvage.warnings())


def _variant(key: str, value: Any, salvage: Salvage) -> Window | None:
    """A ``seven_day_<variant>`` the keyed list does not know: it may be a flag rather than a
    window, so only an object is read, and one without a figure is a meter the plan lacks."""
    suffix = key.removeprefix("seven_day_")
    label = f"Weekly · {suffix.replace('_', ' ').capitalize()}"
    return _keyed(value, key, f"weekly_{slug(suffix)}", label, WEEK_SECONDS, salvage=salvage, strict=False)


def _keyed(
    value: Any, key: str, wid: str, label: str, seconds: int, *, salvage: Salvage, strict: bool
) -> Window | None:
    if value is None:
        return None  # the plan has no such window (enterprise accounts send five_hour: null)
    if not isinstance(value, dict):
        if strict:
            raise ParseError(f"Claude: '{key}' is not an object", field=key)
        return None
    pct = opt_num(value.get("utilization"), f"{key}.utilization")
    if pct is None:
        if strict:
            raise ParseError(
                f"Claude: '{key}.utilization' is null, so the window is not shown", field=f"{key}.utilization"
            )
        return None
    return Window(
        id=wid,
        label=label,
        used_pct=pct,
        window_seconds=seconds,
        resets_at=salvage.keep(lambda: opt_time(value.get("resets_at"), f"{key}.resets_at")),
    )


def _name_of(value: Any) -> str | None:
    if isinstance(value, str):
        return opt_str(value)
    node = obj(value)
    return opt_str(node.get("display_name")) or opt_str(node.get("name")) or opt_str(node.get("id"))


# Claude model families: a scoped limit's id names the family, not the version, so the history of
# ``weekly_opus`` survives "Opus 4.5" becoming "Opus 5" (and matches the keyed seven_day_opus).
FAMILIES = ("opus", "sonnet", "haiku")


def scoped_id(name: str) -> str:
    words = slug(name).split("_")
    family = next((f for f in FAMILIES if f in words), None)
    return f"weekly_{family or slug(name)}"


def _limits(value: Any, taken: set[str], salvage: Salvage) -> list[Window]:
    """Entries of the newer ``limits[]`` list that the keyed fields did not already give."""
    if value is None:
        return []
    if not isinstance(value, list):
        salvage.problems.append(ParseError("Claude: 'limits' is not a list", field="limits"))
        return []
    return salvage.each(value, lambda i, entry: _limit(entry, f"limits[{i}]", taken, salvage))


def _limit(entry: Any, where: str, taken: set[str], salvage: Salvage) -> Window | None:
    """One ``limits[]`` entry. A ``weekly_scoped`` one names its model (``weekly_<family>``) or,
    failing that, its surface; an entry naming neither, or of an unknown kind, has no id or label
    that would say what it limits, so it is a warning rather than a guess."""
    if not isinstance(entry, dict):
        raise ParseError(f"Claude: '{where}' is not an object", field=where)
    kind = (opt_str(entry.get("kind")) or "").lower()
    if kind == "session":
        wid, label, seconds = "session", "Session (5h)", SESSION_SECONDS
    elif kind in ("weekly_all", "weekly"):
        wid, label, seconds = "weekly", "Weekly", WEEK_SECONDS
    elif kind == "weekly_scoped":
        scope = obj(entry.get("scope"))
        name = _name_of(scope.get("model")) or _name_of(scope.get("surface"))
        if not name:
            raise ParseError(f"Claude: '{where}.scope' names no model or surface", field=f"{where}.scope")
        wid, label, seconds = scoped_id(name), f"Weekly · {name}", WEEK_SECONDS
    else:
        raise ParseError(f"Claude: '{where}.kind' is unknown ({kind[:40]!r})", field=f"{where}.kind")
    if wid in taken:
        return None
    pct = opt_num(entry.get("percent"), f"{where}.percent")
    if pct is None:
        pct = opt_num(entry.get("utilization"), f"{where}.utilization")
    if pct is None:
        raise ParseError(f"Claude: '{where}.percent' is null, so the window is not shown", field=f"{where}.percent")
    taken.add(wid)
    return Window(
        id=wid,
        label=label,
        used_pct=pct,
        window_seconds=seconds,
        resets_at=salvage.keep(lambda: opt_time(entry.get("resets_at"), f"{where}.resets_at")),
    )


def _extra_usage(value: Any) -> Window | None:
    """The monthly pay-as-you-go cap. Amounts are minor units (cents) of ``currency``."""
    extra = obj(value)
    if not extra or extra.get("is_enabled") is False:
        return None
    limit_minor = opt_num(extra.get("monthly_limit"), "extra_usage.monthly_limit")
    if limit_minor is None:
        return None
    used_minor = opt_num(extra.get("used_credits"), "extra_usage.used_credits")
    limit = limit_minor / 100
    used = used_minor / 100 if used_minor is not None else None
    pct = opt_num(extra.get("utilization"), "extra_usage.utilization")
    if pct is None:
        pct = pct_of(used, limit)
    if pct is None:
        return None
    unit = (opt_str(extra.get("currency")) or "usd").lower()
    return Window(id="extra_usage", label="Extra usage (monthly)", used_pct=pct, used=used, limit=limit, unit=unit)
