"""Poe: the point balance and the last 30 days of point use, from Poe's official usage API.

``GET {url}/usage/current_balance`` answers ``{current_point_balance}`` (plan plus add-on points);
``GET {url}/usage/points_history?limit=100[&starting_after=<query_id>]`` pages through entries
newest first (``{has_more, length, data: [{creation_time (µs), bot_name, query_id, usage_type,
cost_points}]}``, 30 days at most). Both take ``Authorization: Bearer <key>``. Poe states no
limit with a period for points, so the balance is a balance; the history becomes points used
today and in 30 days and per day, bot and usage type.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode

from ...errors import FetchTimeoutError, ParseError, ProviderError, UpstreamError
from ...models import Balance, Breakdown, BreakdownItem, ErrorInfo, ErrorKind, Usage
from .. import _capture, _http
from .._base import AuthSource, FetchContext, Provider, Raw, Sample, Setting, WindowSpec
from .._parse import Salvage, items, obj, opt_num, opt_str

DEFAULT_URL = "https://api.poe.com"
BALANCE_PATH = "/usage/current_balance"
HISTORY_PATH = "/usage/points_history"
PAGE_SIZE = 100  # Poe's maximum
MAX_PAGES = 5  # 500 entries a refresh at most: the history is an enrichment, not worth hammering for
HISTORY_DAYS = 30
HISTORY_SHARE = 0.7  # of the provider's timeout, for all history pages together
HINT = "Set AGENTGAUGE_POE_API_KEY (or POE_API_KEY) to a key from https://poe.com/api/keys, then refresh."


def entry_time(value: Any, field: str) -> datetime | None:
    """``creation_time``: microseconds per Poe's reference (its guide shows seconds; ms tolerated)."""
    number = opt_num(value, field)
    if number is None or number <= 0:
        return None
    seconds = number / 1e6 if number > 1e14 else number / 1e3 if number > 1e11 else number
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ParseError(f"Poe: '{field}' is not a plausible time", field=field) from None


def _pages(history: Any) -> list[dict[str, Any]]:
    if isinstance(history, dict):
        return [history]
    return items(history)


def history_parts(history: Any, now: datetime, salvage: Salvage) -> tuple[list[Balance], list[Breakdown]]:
    cutoff = now - timedelta(days=HISTORY_DAYS)
    today = now.astimezone(UTC).date().isoformat()
    per_day: defaultdict[str, float] = defaultdict(float)
    per_bot: defaultdict[str, float] = defaultdict(float)
    per_type: defaultdict[str, float] = defaultdict(float)
    for page_no, page in enumerate(_pages(history)):
        rows = page.get("data")
        if not isinstance(rows, list):
            raise ParseError("Poe: points history has no 'data' list", field="data")

        def row(index: int, entry: dict[str, Any], page_no: int = page_no) -> tuple[datetime, str, str, float] | None:
            where = f"data[{index}]" if page_no == 0 else f"pages[{page_no}].data[{index}]"
            when = entry_time(entry.get("creation_time"), f"{where}.creation_time")
            points = opt_num(entry.get("cost_points"), f"{where}.cost_points")
            if when is None or points is None:
                raise ParseError(f"Poe: history entry '{where}' has no time or points", field=f"{where}.cost_points")
            bot = opt_str(entry.get("bot_name")) or opt_str(entry.get("app_name")) or "unknown"
            kind = opt_str(entry.get("usage_type")) or "unknown"
            return (when, bot, kind, max(points, 0.0)) if when >= cutoff else None

        for when, bot, kind, points in salvage.each(items(rows), row):
            per_day[when.date().isoformat()] += points
            per_bot[bot] += points
            per_type[kind] += points
    total = sum(per_day.values())
    balances = [
        Balance(
            id="points_today", label="Points used today", unit="points", used=per_day.get(today, 0.0), period="daily"
        ),
        Balance(id="points_30d", label="Points used (30 days)", unit="points", used=total),
    ]

    def ranked(values: Mapping[str, float]) -> tuple[BreakdownItem, ...]:
        return tuple(BreakdownItem(key=k, value=v) for k, v in sorted(values.items(), key=lambda kv: (-kv[1], kv[0])))

    breakdowns = [
        Breakdown(
            id="points_per_day",
            label="Points per day (30 days)",
            unit="points",
            items=tuple(BreakdownItem(key=d, value=v) for d, v in sorted(per_day.items())),
        ),
        Breakdown(id="points_per_bot", label="Points per bot (30 days)", unit="points", items=ranked(per_bot)),
        Breakdown(id="points_per_type", label="Points per usage type (30 days)", unit="points", items=ranked(per_type)),
    ]
    return balances, breakdowns


def parse_usage(raw: Raw, now: datetime) -> Usage:
    root = raw.get("balance")
    if not isinstance(root, dict):
        raise ParseError("Poe: balance response is not an object", field="$")
    points = opt_num(root.get("current_point_balance"), "current_point_balance")
    if points is None:
        error = root.get("error")
        if error is not None:
            message = opt_str(obj(error).get("message")) or opt_str(error) or "request failed"
            raise UpstreamError(f"Poe: balance request failed: {message[:200]}")
        raise ParseError("Poe: balance response has no 'current_point_balance'", field="current_point_balance")
    balances = [Balance(id="points", label="Points", unit="points", remaining=points)]
    breakdowns: list[Breakdown] = []
    salvage = Salvage()
    warnings: list[ErrorInfo] = []
    if raw.get("history") is not None:
        try:
            more, breakdowns = history_parts(raw["history"], now, salvage)
        except ProviderError as exc:  # the history is an enrichment: the balance stands
            warnings.append(exc.info())
        else:
            balances += more
    problem = obj(raw.get("history_error"))
    said = opt_str(problem.get("message"))
    if said:
        try:
            kind = ErrorKind(str(problem.get("kind")))
        except ValueError:
            kind = ErrorKind.UPSTREAM
        warnings.append(ErrorInfo(kind=kind, message=said, hint=opt_str(problem.get("hint")) or HINT))
    return Usage(balances=tuple(balances), breakdowns=tuple(breakdowns), warnings=(*salvage.warnings(), *warnings))


class Poe(Provider):
    id = "poe"
    name = "Poe"
    docs_url = "https://poe.com/api/keys"
    settings = (
        Setting("api_key", "Poe API key.", secret=True, env=("POE_API_KEY",)),
        Setting("url", "Base URL of the Poe API.", default=DEFAULT_URL),
    )
    auth = (
        AuthSource(
            id="api_key",
            source="api_key",
            label="API key",
            requires=("api_key",),
            hint=HINT,
            discovered_source="api_key",
        ),
    )
    # Declared for the contract; points have no stated limit or period, so nothing is a window.
    windows = (WindowSpec("points", "Points", None, "points"),)
    urls: ClassVar[Mapping[str, str]] = {"url": DEFAULT_URL}
    min_interval = 120.0  # the history pages through up to 500 entries
    samples = (
        Sample("balance-*.json", "balance", {"history": None}),
        Sample("points-history-*.json", "history", {"balance": {"current_point_balance": 1500}}),
    )
    sim_credentials: ClassVar[Mapping[str, str]] = {"api_key": "sim-poe-key"}

    async def fetch(self, ctx: FetchContext) -> Raw:
        key = _capture.bare_token(ctx.secret("api_key"))  # a pasted "Bearer ..." header too
        headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
        base = ctx.url("url")
        # The history pages run beside the balance, within a share of the fetch's time: when they are
        # slow the balance still arrives (the engine gives the whole fetch ``timeout`` seconds).
        budget = ctx.provider.timeout * HISTORY_SHARE
        balance, history = await asyncio.gather(
            _http.get_json(ctx, base + BALANCE_PATH, what="balance request", headers=headers),
            asyncio.wait_for(self._history(ctx, base, headers), timeout=budget),
            return_exceptions=True,
        )
        if isinstance(balance, BaseException):
            raise balance
        raw: Raw = {"balance": balance, "history": None}
        if isinstance(history, TimeoutError):
            problem: BaseException = FetchTimeoutError(f"Poe: points history request took more than {budget:g} s")
        elif isinstance(history, BaseException):
            problem = history
        else:
            raw["history"] = history
            return raw
        if not isinstance(problem, ProviderError):
            raise problem  # a bug, not an upstream problem
        ctx.log.info("poe: optional points history failed: %s", problem.message)
        raw["history_error"] = {
            "kind": problem.kind.value,
            "message": f"Poe: the points history is unavailable: {problem.message}",
            "hint": problem.hint,
        }
        return raw

    @staticmethod
    async def _history(ctx: FetchContext, base: str, headers: dict[str, str]) -> list[Any]:
        """Pages newest first until Poe has no more, the entries pass 30 days, or MAX_PAGES."""
        cutoff = ctx.now() - timedelta(days=HISTORY_DAYS)
        pages: list[Any] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            query = {"limit": PAGE_SIZE} | ({"starting_after": cursor} if cursor else {})
            url = f"{base}{HISTORY_PATH}?{urlencode(query)}"
            page = await _http.get_json(ctx, url, what="points history request", headers=headers)
            pages.append(page)
            rows = items(obj(page).get("data"))
            cursor = opt_str(rows[-1].get("query_id")) if rows else None
            if obj(page).get("has_more") is not True or not cursor:
                break
            try:
                oldest = entry_time(rows[-1].get("creation_time"), "creation_time")
            except ParseError:
                oldest = None
            if oldest is not None and oldest < cutoff:
                break
        return pages

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parse_usage(raw, now)


PROVIDER = Poe()
