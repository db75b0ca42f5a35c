"""Pure parsing of Kilo's tRPC batch answers (no I/O).

A batch answer is a list (one entry per procedure, in request order) or, from some tRPC
versions, an object keyed ``"0"``, ``"1"``... Each entry is ``{"result": {"data": {"json": X}}}``
(``data`` without ``json`` on older servers) or ``{"error": {"json": {"message", "data":
{"code", "httpStatus"}}}}``: failures arrive inside an HTTP 200 (or 207), per procedure.
Amounts ending in ``_mUsd`` are micro-USD (divide by 1e6); ``*Usd`` amounts are dollars.
"""

from __future__ import annotations

from typing import Any

from ...errors import AuthError, ParseError, ProviderError, RateLimitedError, UpstreamError
from ...models import Balance, ErrorInfo, Usage, Window, evolve
from .._parse import Salvage, items, obj, opt_num, opt_str, opt_time, slug

CREDITS = "user.getCreditBlocks"
PASS = "kiloPass.getState"
TOP_UP = "user.getAutoTopUpPaymentMethod"
PROCEDURES = (CREDITS, PASS, TOP_UP)
ORGANIZATIONS = "user.getOrganizations"
MICRO = 1_000_000.0
# Kilo Pass tiers as the Kilo app names them (CodexBar's mapping of kiloPass.getState).
TIERS = {"tier_19": "Starter", "tier_49": "Pro", "tier_199": "Expert"}
AUTH_CODES = {"UNAUTHORIZED", "FORBIDDEN"}


def batch_entries(root: Any, count: int) -> list[dict[str, Any] | None]:
    """The batch's entries in procedure order (``None`` where an entry is missing)."""
    if isinstance(root, list):
        entries: list[dict[str, Any] | None] = [e if isinstance(e, dict) else None for e in root[:count]]
    elif isinstance(root, dict) and ("result" in root or "error" in root):
        entries = [root]
    elif isinstance(root, dict) and any(k.isdigit() for k in root):
        entries = [root.get(str(i)) if isinstance(root.get(str(i)), dict) else None for i in range(count)]
    else:
        raise ParseError("Kilo: the tRPC batch answer is neither a list nor indexed entries", field="$")
    return entries + [None] * (count - len(entries))


def result_of(entry: dict[str, Any] | None) -> Any:
    """The procedure's value: ``result.data.json``, ``result.data`` or ``result.json``."""
    result = obj(obj(entry).get("result"))
    data = result.get("data")
    if isinstance(data, dict) and "json" in data:
        return data["json"]
    if data is not None:
        return data
    return result.get("json")


def error_of(entry: dict[str, Any] | None, procedure: str) -> ProviderError | None:
    """A per-procedure tRPC error as the matching typed error (the message is Kilo's, capped)."""
    error = obj(entry).get("error")
    if not isinstance(error, dict):
        return None
    body = obj(error.get("json")) or error
    data = obj(body.get("data"))
    code = (opt_str(data.get("code")) or opt_str(body.get("code")) or "").upper()
    message = (opt_str(body.get("message")) or code.lower() or "error")[:160]
    text = f"Kilo: {procedure} failed ({code or 'unknown'}): {message}"
    if code in AUTH_CODES or "unauthorized" in message.lower():
        status = 403 if code == "FORBIDDEN" else 401
        # No hint here: the engine gives an auth error the hint of the source that sent the token.
        return AuthError(text, status_code=status)
    if code == "TOO_MANY_REQUESTS":
        return RateLimitedError(text)
    return UpstreamError(text, status_code=int(opt_num(data.get("httpStatus")) or 0) or None)


def _usd(value: Any, field: str) -> float | None:
    number = opt_num(value, field)
    return None if number is None else round(number / MICRO, 6)


def _block_label(block: dict[str, Any], where: str) -> str:
    kind = "Free credits" if block.get("is_free") is True else "Credits"
    since = opt_time(block.get("effective_date"), f"{where}.effective_date")
    return f"{kind} from {since:%Y-%m-%d}" if since else kind


def credit_balances(payload: Any) -> list[Balance]:
    """``user.getCreditBlocks``: the total balance, plus each block when there are several.

    A block is a prepaid grant (``amount_mUsd``) with what is left of it (``balance_mUsd``) and
    an optional ``expiry_date``; they are balances, never a percent window.
    """
    root = obj(payload)
    if isinstance(root.get("creditBlocks"), list):
        return _kilo_blocks(root)
    if isinstance(root.get("blocks"), list):
        return _generic_blocks(root)
    if "totalBalance_mUsd" in root:
        total = _usd(root.get("totalBalance_mUsd"), f"{CREDITS}.totalBalance_mUsd")
        return [Balance(id="credits", label="Credits", unit="usd", remaining=total)] if total is not None else []
    raise ParseError(f"Kilo: {CREDITS} has no creditBlocks", field=f"{CREDITS}.creditBlocks")


def _kilo_blocks(root: dict[str, Any]) -> list[Balance]:
    blocks: list[Balance] = []
    for index, block in enumerate(items(root.get("creditBlocks"))):
        where = f"{CREDITS}.creditBlocks[{index}]"
        remaining = _usd(block.get("balance_mUsd"), f"{where}.balance_mUsd")
        amount = _usd(block.get("amount_mUsd"), f"{where}.amount_mUsd")
        used = round(max(amount - remaining, 0.0), 6) if amount is not None and remaining is not None else None
        blocks.append(
            Balance(
                id=f"credits_{slug(opt_str(block.get('id')) or str(index))}",
                label=_block_label(block, where),
                unit="usd",
                remaining=remaining,
                used=used,
                limit=amount,
                expires_at=opt_time(block.get("expiry_date"), f"{where}.expiry_date"),
            )
        )
    total = _usd(root.get("totalBalance_mUsd"), f"{CREDITS}.totalBalance_mUsd")
    if total is None:
        known = [b.remaining for b in blocks if b.remaining is not None]
        total = round(sum(known), 6) if known else None
    if total is None:
        return []
    limits = [b.limit for b in blocks if b.limit is not None]
    limit = round(sum(limits), 6) if limits and len(limits) == len(blocks) else None
    used = round(max(limit - total, 0.0), 6) if limit is not None and total is not None else None
    summary = Balance(id="credits", label="Credits", unit="usd", remaining=total, used=used, limit=limit)
    if len(blocks) == 1:  # one block: its expiry is the balance's, no second line for the same money
        return [evolve(summary, expires_at=blocks[0].expires_at)]
    return [summary, *blocks]


def _generic_blocks(root: dict[str, Any]) -> list[Balance]:
    """An older answer shape: ``blocks[{usedCredits, totalCredits, remainingCredits}]`` in credits."""
    out: list[Balance] = []
    for index, block in enumerate(items(root.get("blocks"))):
        where = f"{CREDITS}.blocks[{index}]"
        used = opt_num(block.get("usedCredits", block.get("used")), f"{where}.usedCredits")
        total = opt_num(block.get("totalCredits", block.get("total")), f"{where}.totalCredits")
        remaining = opt_num(block.get("remainingCredits", block.get("remaining")), f"{where}.remainingCredits")
        if remaining is None and total is not None and used is not None:
            remaining = max(total - used, 0.0)
        if used is None and total is not None and remaining is not None:
            used = max(total - remaining, 0.0)
        wid = "credits" if index == 0 else f"credits_{index + 1}"
        out.append(Balance(id=wid, label="Credits", unit="credits", remaining=remaining, used=used, limit=total))
    return out


def pass_window(payload: Any) -> Window | None:
    """``kiloPass.getState``: the Kilo Pass period allowance (base + bonus dollars) and its use.

    The pass states a limit with a period (the billing month, ending ``nextBillingAt``), so it is
    a window. ``subscription: null`` (no pass) gives none.
    """
    sub = obj(obj(payload).get("subscription"))
    if not sub:
        return None
    base = opt_num(sub.get("currentPeriodBaseCreditsUsd"), f"{PASS}.subscription.currentPeriodBaseCreditsUsd")
    bonus = opt_num(sub.get("currentPeriodBonusCreditsUsd"), f"{PASS}.subscription.currentPeriodBonusCreditsUsd")
    used = opt_num(sub.get("currentPeriodUsageUsd"), f"{PASS}.subscription.currentPeriodUsageUsd")
    if base is None:
        return None
    limit = max(base, 0.0) + max(bonus or 0.0, 0.0)
    if limit <= 0:
        return None  # a pass with nothing in it this period: no meter to show
    used = max(used or 0.0, 0.0)
    reset = next((sub.get(k) for k in ("nextBillingAt", "nextRenewalAt", "renewsAt") if sub.get(k)), None)
    return Window(
        id="monthly",
        label="Kilo Pass (monthly)",
        used_pct=round(used / limit * 100.0, 4),
        resets_at=opt_time(reset, f"{PASS}.subscription.nextBillingAt"),
        used=used,
        limit=limit,
        unit="usd",
    )


def plan_of(payload: Any) -> str | None:
    root = obj(payload)
    sub = obj(root.get("subscription"))
    if sub:
        tier = opt_str(sub.get("tier"))
        return f"Kilo Pass {TIERS.get(tier, tier)}" if tier else "Kilo Pass"
    return opt_str(obj(root.get("plan")).get("name"))


def organizations(root: Any) -> list[dict[str, str]]:
    """``user.getOrganizations`` as ``[{id, name}]`` (entries without an id are skipped)."""
    (entry,) = batch_entries(root, 1)
    problem = error_of(entry, ORGANIZATIONS)
    if problem is not None:
        raise problem
    value = result_of(entry)
    listed = value if isinstance(value, list) else obj(value).get("organizations")
    out = []
    for org in items(listed):
        org_id = opt_str(org.get("id"))
        if org_id:
            out.append({"id": org_id, "name": opt_str(org.get("name")) or org_id})
    return out


def parse_batch(root: Any) -> Usage:
    """The usage batch (credit blocks, pass state, auto top-up) as balances, the pass window and plan."""
    entries = dict(zip(PROCEDURES, batch_entries(root, len(PROCEDURES)), strict=True))
    problems = {p: error_of(e, p) for p, e in entries.items()}
    for problem in problems.values():
        if isinstance(problem, AuthError):
            raise problem  # the token itself is refused: nothing else in the batch is trustworthy
    credits_problem, pass_problem = problems[CREDITS], problems[PASS]
    if credits_problem is not None:
        raise credits_problem
    # The pass is optional to the picture: its failure is a warning while the credits still show.
    warnings: list[ErrorInfo] = [pass_problem.info()] if pass_problem is not None else []
    salvage = Salvage()
    balances = salvage.keep(lambda: credit_balances(result_of(entries[CREDITS]))) or []
    window = salvage.keep(lambda: pass_window(result_of(entries[PASS])))
    plan = plan_of(result_of(entries[PASS])) if pass_problem is None else None
    if not balances and window is None and salvage.problems:
        raise salvage.problems[0]
    return Usage(
        windows=(window,) if window else (),
        balances=tuple(balances),
        plan=plan,
        warnings=(*warnings, *salvage.warnings()),
    )
