"""Pure: the language server's quota answers as windows.

``RetrieveUserQuotaSummary`` (the Antigravity app): ``response.groups[]`` ("Gemini Models", "Claude
and GPT models"), each with ``buckets[]`` ("Five Hour Limit", "Weekly Limit") holding
``remaining.remainingFraction`` (0-1 left) and ``resetTime``. ``GetUserStatus`` and
``GetCommandModelConfigs`` (the IDE's server, older apps): per-model
``clientModelConfigs[].quotaInfo {remainingFraction, resetTime}``; models of one family share a
pool, so each pool is shown once, as its most used model. A fraction left out of a bucket or model
is unknown (proto3 JSON drops zeros, so it may mean exhausted): never shown as a number.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...errors import AuthError, ParseError, UpstreamError
from ...models import Window
from .._parse import Salvage, items, obj, opt_num, opt_str, opt_time, slug

SESSION_ALIASES = ("session", "5h", "5-hour", "five hour", "five-hour")
POOLS = {"gemini": "Gemini models", "claude_gpt": "Claude and GPT models"}
GROUP_TITLES = {"gemini": "Gemini", "claude_gpt": "Claude + GPT"}
_OK_CODES = {"0", "ok", "success"}


def check_code(root: Any, what: str) -> None:
    """A non-OK ``code`` in a 200 answer (``{"code": 16, "message": ...}``) is an error."""
    code = obj(root).get("code")
    if code is None or str(code).strip().lower() in _OK_CODES:
        return
    message = (opt_str(obj(root).get("message")) or "no message")[:200]
    text = f"Antigravity: {what} answered code {str(code)[:20]}: {message}"
    if str(code).lower() in ("16", "unauthenticated", "7", "permission_denied"):
        raise AuthError(text)
    raise UpstreamError(text)


def _fraction(value: Any, where: str) -> float | None:
    number = opt_num(value, where)
    return None if number is None else min(max(number, 0.0), 1.0)


def _pool(text: str) -> str | None:
    lowered = text.lower()
    if "claude" in lowered or "gpt" in lowered or "openai" in lowered:
        return "claude_gpt"
    if "gemini" in lowered:
        return "gemini"
    return None


# -- RetrieveUserQuotaSummary --------------------------------------------------------------------
def _bucket_kind(bucket: dict[str, Any]) -> str | None:
    for raw in (bucket.get("bucketId"), bucket.get("displayName")):
        text = (opt_str(raw) or "").lower().replace("_", "-").removesuffix(" limit")
        if not text:
            continue
        if text in SESSION_ALIASES or text.endswith(tuple(f"-{a}" for a in SESSION_ALIASES)):
            return "session"
        if text == "weekly" or text.endswith("-weekly"):
            return "weekly"
    return None


def _bucket_fraction(bucket: dict[str, Any], where: str) -> float | None:
    if bucket.get("remainingFraction") is not None:
        return _fraction(bucket.get("remainingFraction"), f"{where}.remainingFraction")
    remaining = obj(bucket.get("remaining"))
    if remaining.get("remainingFraction") is not None:
        return _fraction(remaining.get("remainingFraction"), f"{where}.remaining.remainingFraction")
    if remaining.get("case") == "remainingFraction":  # the oneof written as {case, value}
        return _fraction(remaining.get("value"), f"{where}.remaining.value")
    return None


def summary_groups(root: Any) -> list[dict[str, Any]]:
    data = obj(root)
    payload = obj(data.get("response")) or obj(data.get("summary")) or data
    return items(payload.get("groups"))


def summary_is_usable(root: Any) -> bool:
    """Whether a summary has any bucket with a known fraction (else the next method is asked)."""
    try:
        return any(
            not b.get("disabled") and _bucket_fraction(b, "bucket") is not None
            for g in summary_groups(root)
            for b in items(g.get("buckets"))
        )
    except ParseError:
        return True  # a drifting field is reported by parse, not hidden by a fallback


def summary_windows(root: Any, salvage: Salvage) -> list[Window]:
    check_code(root, "RetrieveUserQuotaSummary")
    groups = summary_groups(root)
    if not groups:
        raise ParseError("Antigravity: the quota summary has no groups", field="response.groups")
    windows: list[tuple[tuple[int, int, int], Window]] = []
    taken: set[str] = set()
    for gi, group in enumerate(groups):
        name = opt_str(group.get("displayName")) or "Quota"
        pool = _pool(name)
        group_id = pool or f"group_{slug(name)}"
        title = GROUP_TITLES.get(pool or "", name)
        group_rank = list(POOLS).index(pool) if pool else len(POOLS)

        def build(bi: int, bucket: dict[str, Any], gi: int = gi, group_id: str = group_id, title: str = title) -> Any:
            where = f"response.groups[{gi}].buckets[{bi}]"
            fraction = _bucket_fraction(bucket, where)
            if bucket.get("disabled") is True or fraction is None:
                return None
            kind = _bucket_kind(bucket)
            seconds = {"session": 18000, "weekly": 604800}.get(kind or "")
            label = {"session": "Session (5h)", "weekly": "Weekly"}.get(kind or "")
            bucket_name = opt_str(bucket.get("displayName")) or opt_str(bucket.get("bucketId")) or f"bucket {bi}"
            # The bucket id, not its display name, names an unknown bucket: names may be translated.
            wid = f"{group_id}_{kind or slug(opt_str(bucket.get('bucketId')) or bucket_name)}"
            if wid in taken:
                return None
            taken.add(wid)
            return Window(
                id=wid,
                label=f"{title} · {label or bucket_name}",
                used_pct=round((1.0 - fraction) * 100.0, 4),
                resets_at=opt_time(bucket.get("resetTime"), f"{where}.resetTime"),
                window_seconds=seconds,
            )

        for bi, window in enumerate(salvage.each(items(group.get("buckets")), build)):
            kind_rank = {"session": 0, "weekly": 1}.get(window.id.rsplit("_", 1)[-1], 2)
            windows.append(((group_rank, gi, kind_rank * 1000 + bi), window))
    return [w for _, w in sorted(windows, key=lambda pair: pair[0])]


# -- GetUserStatus / GetCommandModelConfigs ------------------------------------------------------------
def model_configs(root: Any, what: str) -> list[dict[str, Any]]:
    check_code(root, what)
    data = obj(root)
    if "userStatus" in data or what == "GetUserStatus":
        status = obj(data.get("userStatus"))
        if not status:
            raise ParseError("Antigravity: GetUserStatus has no userStatus", field="userStatus")
        return items(obj(status.get("cascadeModelConfigData")).get("clientModelConfigs"))
    return items(data.get("clientModelConfigs"))


def _is_text_model(label: str, model: str) -> bool:
    """Lite, autocomplete (``tab_`` ids) and image models have quotas of their own, not the pool's."""
    text = f"{label} {model}".lower()
    return not any(mark in text for mark in ("lite", "autocomplete", "image")) and not model.lower().startswith("tab_")


def model_windows(configs: Iterable[dict[str, Any]], where: str, salvage: Salvage) -> list[Window]:
    """One window per pool (its most used text model), plus any text model outside both pools."""
    best: dict[str, tuple[float, str, Any, str]] = {}  # window id -> (fraction, label, reset, sort key)

    def build(index: int, config: dict[str, Any]) -> None:
        at = f"{where}[{index}]"
        quota = obj(config.get("quotaInfo"))
        fraction = _fraction(quota.get("remainingFraction"), f"{at}.quotaInfo.remainingFraction")
        if fraction is None:
            return
        label = opt_str(config.get("label")) or ""
        model = opt_str(obj(config.get("modelOrAlias")).get("model")) or ""
        if not (label or model) or not _is_text_model(label, model):
            return
        pool = _pool(model) or _pool(label)
        wid = pool or f"model_{slug(label or model)}"
        reset = opt_time(quota.get("resetTime"), f"{at}.quotaInfo.resetTime")
        current = best.get(wid)
        reset_key = reset.isoformat() if reset else "~"
        if current is None or (fraction, reset_key) < (current[0], current[3]):
            best[wid] = (fraction, POOLS.get(wid, label or model), reset, reset_key)

    salvage.each(configs, build)
    ordered = sorted(best.items(), key=lambda kv: (list(POOLS).index(kv[0]) if kv[0] in POOLS else len(POOLS), kv[0]))
    return [
        Window(id=wid, label=label, used_pct=round((1.0 - fraction) * 100.0, 4), resets_at=reset)
        for wid, (fraction, label, reset, _) in ordered
    ]


def plan_of(user_status: Any) -> str | None:
    status = obj(obj(user_status).get("userStatus"))
    tier = opt_str(obj(status.get("userTier")).get("name"))
    if tier:
        return tier  # the real tier (planInfo says "Pro" for Ultra users)
    info = obj(obj(status.get("planStatus")).get("planInfo"))
    keys = ("planDisplayName", "displayName", "productName", "planName", "planShortName")
    return next((opt_str(info.get(k)) for k in keys if opt_str(info.get(k))), None)
