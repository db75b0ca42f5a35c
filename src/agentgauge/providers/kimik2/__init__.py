"""Kimi K2 (kimi-k2.ai, an unofficial credit service): ``GET {url}/api/user/credits`` with an API key.

The answer has no fixed shape: credits consumed and remaining sit at the top level or under
``data``, ``data.usage``, ``data.credits``, ``result``, ``usage`` or ``credits``, under one of
several names; the remaining credits may come only in the ``X-Credits-Remaining`` response header.
There is no limit and no reset time, so the credits are a balance, never a percent window.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from ...errors import ParseError, UpstreamError
from ...models import Balance, Usage
from .. import _http
from .._base import AuthSource, FetchContext, Provider, Raw, Sample, Setting, WindowSpec
from .._parse import obj, opt_num, opt_str

DEFAULT_URL = "https://kimi-k2.ai"
CREDITS_PATH = "/api/user/credits"
REMAINING_HEADER = "x-credits-remaining"
HINT = "Set AGENTGAUGE_KIMIK2_API_KEY (or KIMI_K2_API_KEY) to your kimi-k2.ai API key, then refresh."
CONSUMED_KEYS = (
    "total_credits_consumed",
    "totalCreditsConsumed",
    "total_credits_used",
    "totalCreditsUsed",
    "credits_consumed",
    "creditsConsumed",
    "consumedCredits",
    "usedCredits",
    "total",
    "consumed",
)
REMAINING_KEYS = (
    "credits_remaining",
    "creditsRemaining",
    "remaining_credits",
    "remainingCredits",
    "available_credits",
    "availableCredits",
    "credits_left",
    "creditsLeft",
    "remaining",
)


def _contexts(root: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every object the figures may sit in, with its path, most specific last."""
    out: list[tuple[str, dict[str, Any]]] = [("", root)]
    for outer in ("data", "result"):
        block = root.get(outer)
        if isinstance(block, dict):
            out.append((f"{outer}.", block))
            out += [(f"{outer}.{k}.", block[k]) for k in ("usage", "credits") if isinstance(block.get(k), dict)]
    out += [(f"{k}.", root[k]) for k in ("usage", "credits") if isinstance(root.get(k), dict)]
    return out


def _first(contexts: list[tuple[str, dict[str, Any]]], keys: tuple[str, ...]) -> float | None:
    """The first finite number under ``keys`` (in key order, then context order). A value that is not
    a number is skipped for the next candidate, but reported when no candidate is usable."""
    problem: ParseError | None = None
    for key in keys:
        for prefix, context in contexts:
            if key not in context:
                continue
            try:
                number = opt_num(context[key], prefix + key)
            except ParseError as exc:
                problem = problem or exc
                continue
            if number is not None:
                return number
    if problem is not None:
        raise problem
    return None


def _header_number(value: Any) -> float | None:
    try:
        return opt_num(value, "X-Credits-Remaining")
    except ParseError:
        return None  # a header that is not a number is no figure


def error_message(body: bytes) -> str:
    """What an error answer says (its ``error``/``message``, else its text), shortened."""
    try:
        root = obj(orjson.loads(body))
        text = (
            opt_str(root.get("error")) or opt_str(obj(root.get("error")).get("message")) or opt_str(root.get("message"))
        )
    except orjson.JSONDecodeError:
        text = None
    return (text or body.decode("utf-8", "replace").strip() or "no message")[:200]


class KimiK2(Provider):
    id = "kimik2"
    name = "Kimi K2"
    docs_url = "https://kimrel.com/my-credits"
    settings = (
        Setting("api_key", "kimi-k2.ai API key.", secret=True, env=("KIMI_K2_API_KEY",)),
        Setting("url", "Base URL of the kimi-k2.ai credits API.", default=DEFAULT_URL),
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
    # No window: credits have neither a limit nor a period (declared for the contract; never reported).
    windows = (WindowSpec("credits", "Credits", None, "credits"),)
    urls = {"url": DEFAULT_URL}
    min_interval = 60.0
    samples = (Sample("credits-*.json", "credits", {"remaining_header": None}),)
    sim_credentials = {"api_key": "sim-kimik2-key"}

    async def fetch(self, ctx: FetchContext) -> Raw:
        headers = {"Authorization": f"Bearer {ctx.secret('api_key')}", "Accept": "application/json"}
        url = ctx.url("url") + CREDITS_PATH
        # A 403 here is not a rejected key (kimi-k2.ai uses it for other refusals): say what it said.
        response = await _http.send(ctx, "GET", url, what="credits request", headers=headers, ok_statuses=(200, 403))
        if response.status_code == 403:  # a challenge page was raised as one by send
            raise UpstreamError(
                f"Kimi K2: credits request was refused (HTTP 403): {error_message(response.content)}", status_code=403
            )
        body = _http.decode_json(ctx, response, what="credits request")
        return {"credits": body, "remaining_header": response.headers.get(REMAINING_HEADER)}

    def parse(self, raw: Raw, now: datetime) -> Usage:
        root = raw.get("credits")
        if not isinstance(root, dict):
            raise ParseError("Kimi K2: credits response is not an object", field="$")
        contexts = _contexts(root)
        consumed = _first(contexts, CONSUMED_KEYS)
        remaining = _first(contexts, REMAINING_KEYS)
        if remaining is None:
            remaining = _header_number(raw.get("remaining_header"))
        if consumed is None and remaining is None:
            message = opt_str(root.get("error")) or opt_str(root.get("message"))
            if message:  # an error envelope in a 200
                raise UpstreamError(f"Kimi K2: credits request failed: {message[:200]}")
            raise ParseError("Kimi K2: no credit figures in the answer", field="credits_remaining")
        return Usage(
            balances=(Balance(id="credits", label="Credits", unit="credits", remaining=remaining, used=consumed),)
        )


PROVIDER = KimiK2()
