"""Anthropic API platform (Claude Console organizations): spend this month and today, per model,
tokens per model, today's Claude Code cost per user and the configured rate limits, from the Admin
API; opt-in, the live rate limits of an API key. (Claude subscriptions are the ``claude`` provider.)

Every request sends ``x-api-key`` and ``anthropic-version: 2023-06-01``. Sources, in order:

1. ``admin``: an admin key (``sk-ant-admin...``, ``ANTHROPIC_ADMIN_KEY``) on
   ``GET {url}/v1/organizations/cost_report`` and ``/usage_report/messages`` (from the UTC month's
   start, ``bucket_width=1d``, grouped by description / model, paged by ``page`` = ``next_page``),
   ``/usage_report/claude_code`` (``starting_at`` = today's UTC date) and ``/rate_limits``. The last
   two are extras: their failure (an organization without Claude Code) is a warning.
2. ``api_key``: an ordinary key (``ANTHROPIC_API_KEY``), used only when ``probe`` is ``on``.

With ``probe = on`` each refresh sends one ``POST {url}/v1/messages`` with ``max_tokens: 1`` and reads
its ``anthropic-ratelimit-*`` headers (a few tokens of ``probe_model``; off by default).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

import orjson

from ...errors import AuthError, ParseError, ProviderConfigError, ProviderError, UpstreamError
from ...models import Usage
from .. import _http, _time
from .._base import AuthSource, FetchContext, Provider, Raw, Sample, Setting, WindowSpec
from .._parse import obj, opt_str
from .._settings import probe_on, probe_setting
from . import parsing

DEFAULT_URL = "https://api.anthropic.com"
VERSION = "2023-06-01"
COST_PATH = "/v1/organizations/cost_report"
USAGE_PATH = "/v1/organizations/usage_report/messages"
CLAUDE_CODE_PATH = "/v1/organizations/usage_report/claude_code"
RATE_LIMITS_PATH = "/v1/organizations/rate_limits"
MESSAGES_PATH = "/v1/messages"
DEFAULT_PROBE_MODEL = "claude-haiku-4-5"
MAX_PAGES = 10
ADMIN_HINT = (
    "Set AGENTGAUGE_ANTHROPIC_ADMIN_KEY (or ANTHROPIC_ADMIN_KEY) to an admin key from "
    "https://console.anthropic.com/settings/admin-keys (organizations only), then refresh."
)
KEY_HINT = "Set AGENTGAUGE_ANTHROPIC_API_KEY (or ANTHROPIC_API_KEY) to a working API key, then refresh."
KEPT_HEADERS = ("anthropic-ratelimit-", "retry-after")


def envelope(body: bytes) -> tuple[str, str]:
    """(error type, message) of ``{"type": "error", "error": {type, message}}``; safe to show."""
    try:
        error = obj(obj(orjson.loads(body)).get("error"))
    except orjson.JSONDecodeError:
        return "error", ""
    kind = opt_str(error.get("type")) or "error"
    kind = kind if kind.replace("_", "").isalnum() and len(kind) <= 40 else "error"
    return kind, (opt_str(error.get("message")) or "")[:200]


def _next_page(root: dict[str, Any]) -> str | None:
    """The Admin API's cursor: ``next_page`` while ``has_more``."""
    return opt_str(root.get("next_page")) if root.get("has_more") is True else None


class Anthropic(Provider):
    id = "anthropic"
    name = "Anthropic API"
    docs_url = "https://console.anthropic.com/settings/usage"
    status_page = "https://status.claude.com"  # Anthropic's status page (status.anthropic.com moved there)
    settings = (
        Setting(
            "admin_key",
            "Admin key (sk-ant-admin...) of the organization: costs, usage, Claude Code and rate limits.",
            secret=True,
            env=("ANTHROPIC_ADMIN_KEY",),
        ),
        Setting(
            "api_key",
            "Ordinary API key, used only for the opt-in rate-limit call (probe = on).",
            secret=True,
            env=("ANTHROPIC_API_KEY",),
        ),
        Setting("url", "Base URL of the Anthropic API.", default=DEFAULT_URL),
        probe_setting(
            "'on': send one minimal message (max_tokens 1) per refresh (costs a few tokens) to read the key's "
            "anthropic-ratelimit-* headers."
        ),
        Setting("probe_model", "Model of the rate-limit call.", default=DEFAULT_PROBE_MODEL),
    )
    auth = (
        AuthSource(
            id="admin",
            source="api_key",
            label="Anthropic admin key",
            requires=("admin_key",),
            optional=("api_key",),
            hint=ADMIN_HINT,
            discovered_source="api_key",
        ),
        AuthSource(
            id="api_key",
            source="api_key",
            label="Anthropic API key (rate-limit headers)",
            requires=("api_key", "probe"),
            hint="Set AGENTGAUGE_ANTHROPIC_PROBE=on with ANTHROPIC_API_KEY to read the key's rate limits "
            "(one minimal call per refresh), or set ANTHROPIC_ADMIN_KEY.",
            discovered_source="api_key",
        ),
    )
    windows = (
        WindowSpec("rate_requests", "Requests per minute", 60, "requests"),
        WindowSpec("rate_tokens", "Tokens per minute", 60, "tokens"),
        WindowSpec("rate_input_tokens", "Input tokens per minute", 60, "tokens"),
        WindowSpec("rate_output_tokens", "Output tokens per minute", 60, "tokens"),
    )
    urls: ClassVar[Mapping[str, str]] = {"url": DEFAULT_URL}
    min_interval = 300.0  # reports lag by minutes; the opt-in call costs tokens
    timeout = 30.0
    redact_keys = frozenset({"email_address", "api_key_name", "workspace_id", "api_key_id", "account_id"})
    samples = (
        Sample("cost-report*.json", "costs", {"usage": None}),
        Sample("usage-report*.json", "usage", {"costs": {"data": []}}),
        Sample("claude-code*.json", "claude_code", {"costs": {"data": []}}),
        Sample("rate-limits*.json", "rate_limits", {"costs": {"data": []}}),
        Sample("probe-*.json", "probe"),
    )
    sim_credentials: ClassVar[Mapping[str, str]] = {
        "admin_key": "sk-ant-admin01-sim-anthropic-admin-key",
        "api_key": "sk-ant-api03-sim-anthropic-api-key",
    }

    async def fetch(self, ctx: FetchContext) -> Raw:
        base = ctx.url("url")
        api_key = ctx.credentials.get("api_key")
        if ctx.credentials.auth.id == "api_key":
            if not probe_on(ctx.settings):
                raise ProviderConfigError(
                    "Anthropic: an API key alone shows only its rate limits, and probe is off",
                    hint="Set AGENTGAUGE_ANTHROPIC_PROBE=on (one minimal call per refresh), or ANTHROPIC_ADMIN_KEY.",
                )
            return {"probe": await self._probe(ctx, base, str(api_key))}
        headers = self._headers(ctx.secret("admin_key"))
        now = ctx.now()
        since = _time.rfc3339(_time.month_start(now))
        report = [("starting_at", since), ("bucket_width", "1d"), ("limit", "31")]
        today = [("starting_at", _time.day_start(now).date().isoformat()), ("limit", "100")]
        costs, usage, code, limits = await _http.together(  # four independent reports at once
            self._pages(ctx, base + COST_PATH, [*report, ("group_by[]", "description")], headers),
            self._pages(ctx, base + USAGE_PATH, [*report, ("group_by[]", "model")], headers),
            self._extra(ctx, base + CLAUDE_CODE_PATH, today, headers, "Claude Code report"),
            self._extra(ctx, base + RATE_LIMITS_PATH, [], headers, "rate limits"),
        )
        raw: dict[str, Any] = {"costs": costs, "usage": usage, "claude_code": code, "rate_limits": limits}
        if api_key and probe_on(ctx.settings):
            try:
                raw["probe"] = await self._probe(ctx, base, api_key)
            except ProviderError as exc:  # the admin data stands; the probe's failure is a warning
                raw["probe"] = {"headers": {}, "error": _http.problem(exc, with_hint=False)}
        return raw

    @staticmethod
    def _headers(key: str) -> dict[str, str]:
        return {"x-api-key": key.strip(), "anthropic-version": VERSION, "Accept": "application/json"}

    async def _pages(
        self, ctx: FetchContext, url: str, query: list[tuple[str, str]], headers: dict[str, str]
    ) -> dict[str, Any]:
        what = url.rsplit("/", 1)[-1].replace("_", " ") + " request"

        async def page(cursor: str | None) -> dict[str, Any]:
            params = query + ([("page", cursor)] if cursor else [])
            try:
                response = await _http.send(
                    ctx, "GET", f"{url}?{urlencode(params)}", what=what, headers=headers, ok_statuses=(200, 400, 404)
                )
            except AuthError as exc:
                raise AuthError(exc.message, hint=ADMIN_HINT, status_code=exc.status_code) from None
            if response.status_code != 200:
                kind, message = envelope(response.content)
                raise UpstreamError(
                    f"Anthropic: the {what} was refused (HTTP {response.status_code}, {kind}): {message}",
                    hint="The Admin API is for organizations; check the admin key's organization, then refresh.",
                    status_code=response.status_code,
                )
            root = obj(_http.decode_json(ctx, response, what=what))
            if not isinstance(root.get("data"), list):
                raise ParseError(f"Anthropic: the {what} has no 'data' list", field="data")
            return root

        found = await _http.pages(page, _next_page, limit=MAX_PAGES)
        return {"data": [entry for root in found for entry in root["data"]]}

    async def _extra(
        self, ctx: FetchContext, url: str, query: list[tuple[str, str]], headers: dict[str, str], what: str
    ) -> dict[str, Any]:
        """A report the rest does not depend on: its failure is kept as a warning."""
        try:
            return await self._pages(ctx, url, query, headers)
        except (UpstreamError, ParseError) as exc:  # auth, rate limits and timeouts still fail the refresh
            return {"error": _http.problem(exc, f"{exc.message} ({what})")}

    async def _probe(self, ctx: FetchContext, base: str, key: str) -> dict[str, Any]:
        body = {
            "model": ctx.setting("probe_model") or DEFAULT_PROBE_MODEL,
            "max_tokens": 1,
            "messages": [{"role": "user", "content": "hi"}],
        }
        headers = self._headers(key)
        try:
            response = await _http.send(
                ctx, "POST", base + MESSAGES_PATH, what="rate-limit call", headers=headers, json=body,
                ok_statuses=(200, 429),
            )  # fmt: skip
        except AuthError as exc:
            raise AuthError(exc.message, hint=KEY_HINT, status_code=exc.status_code) from None
        record: dict[str, Any] = {"status": response.status_code, "headers": _http.kept_headers(response, KEPT_HEADERS)}
        if response.status_code == 429:
            kind, _ = envelope(response.content)
            record["error"] = {
                "kind": "rate_limited",
                "message": f"Anthropic: the rate-limit call was refused (HTTP 429, {kind})",
                "hint": "The key is at one of its rate limits right now.",
            }
        return record

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parsing.parse(raw, now)


PROVIDER = Anthropic()
