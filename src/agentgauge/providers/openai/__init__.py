"""OpenAI API platform: the organization's hard monthly spend limit, its spend this month and today
(Costs API), its tokens this month per model (Usage API), and, opt-in, the live rate limits of an
ordinary API key.

Sources, in fallback order:

1. ``admin``: an admin key (``sk-admin-...``, ``OPENAI_ADMIN_KEY``) as the Bearer on
   ``GET {url}/organization/spend_limit`` (404: no limit), ``GET {url}/organization/costs``
   (``start_time`` = the UTC month's start, ``bucket_width=1d``, ``group_by=line_item``, paged by
   ``next_page`` while ``has_more``) and ``GET {url}/organization/usage/completions``
   (``group_by=model``, paged the same way).
2. ``api_key``: an ordinary key (``OPENAI_API_KEY``), used only when ``probe`` is ``on``.

With ``probe = on`` and an API key, each refresh also sends one minimal chat completion
(``max_completion_tokens: 1``, ``probe_model``) and reads its ``x-ratelimit-*`` headers: it costs a
few tokens, so it is off by default and never runs more often than the minimum interval. Parsing
is in ``parsing``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

import orjson

from ...errors import AuthError, ParseError, ProviderConfigError, ProviderError
from ...models import Usage
from .. import _http, _time
from .._base import AuthSource, FetchContext, Provider, Raw, Sample, Setting, WindowSpec
from .._parse import obj, opt_str
from .._settings import probe_on, probe_setting
from . import parsing

DEFAULT_URL = "https://api.openai.com/v1"
SPEND_LIMIT_PATH = "/organization/spend_limit"
COSTS_PATH = "/organization/costs"
USAGE_PATH = "/organization/usage/completions"
PROBE_PATH = "/chat/completions"
DEFAULT_PROBE_MODEL = "gpt-4o-mini"
MAX_PAGES = 10
ADMIN_HINT = (
    "Set AGENTGAUGE_OPENAI_ADMIN_KEY (or OPENAI_ADMIN_KEY) to an admin key from "
    "https://platform.openai.com/settings/organization/admin-keys, then refresh."
)
KEY_HINT = "Set AGENTGAUGE_OPENAI_API_KEY (or OPENAI_API_KEY) to a working API key, then refresh."
KEPT_HEADERS = ("x-ratelimit-", "retry-after")


def _next_page(root: dict[str, Any]) -> str | None:
    """The Admin API's cursor: ``next_page`` while ``has_more``."""
    return opt_str(root.get("next_page")) if root.get("has_more") is True else None


class OpenAI(Provider):
    id = "openai"
    name = "OpenAI"
    docs_url = "https://platform.openai.com/settings/organization/usage"
    status_page = "https://status.openai.com"
    settings = (
        Setting(
            "admin_key",
            "Admin key (sk-admin-...) of the organization: spend limit, costs and usage.",
            secret=True,
            env=("OPENAI_ADMIN_KEY",),
        ),
        Setting(
            "api_key",
            "Ordinary API key, used only for the opt-in rate-limit call (probe = on).",
            secret=True,
            env=("OPENAI_API_KEY",),
        ),
        Setting("url", "Base URL of the OpenAI API.", default=DEFAULT_URL),
        Setting("organization", "Organization id (org-...) sent as OpenAI-Organization.", env=("OPENAI_ORG_ID",)),
        Setting("project", "Only this project's costs and usage (proj_...); the whole organization when unset."),
        probe_setting(
            "'on': send one minimal chat completion per refresh (costs a few tokens) to read the key's "
            "x-ratelimit-* headers."
        ),
        Setting("probe_model", "Model of the rate-limit call.", default=DEFAULT_PROBE_MODEL),
    )
    auth = (
        AuthSource(
            id="admin",
            source="api_key",
            label="OpenAI admin key",
            requires=("admin_key",),
            optional=("api_key",),
            hint=ADMIN_HINT,
            discovered_source="api_key",
        ),
        AuthSource(  # an ordinary key alone shows only its rate limits, so it counts only with the probe on
            id="api_key",
            source="api_key",
            label="OpenAI API key (rate-limit headers)",
            requires=("api_key", "probe"),
            hint="Set AGENTGAUGE_OPENAI_PROBE=on with OPENAI_API_KEY to read the key's rate limits "
            "(one minimal call per refresh), or set OPENAI_ADMIN_KEY.",
            discovered_source="api_key",
        ),
    )
    windows = (
        WindowSpec("monthly_spend", "Monthly spend limit", None, "usd"),
        WindowSpec("rate_requests", "Requests (rate limit)", None, "requests"),
        WindowSpec("rate_tokens", "Tokens (rate limit)", None, "tokens"),
    )
    urls: ClassVar[Mapping[str, str]] = {"url": DEFAULT_URL}
    # Costs lag by hours; the opt-in probe costs tokens: every five minutes at most.
    min_interval = 300.0
    timeout = 30.0
    redact_keys = frozenset({"project_id", "api_key_id", "user_id"})
    samples = (
        Sample("organization-costs*.json", "costs", {"spend_limit": None, "usage": None}),
        Sample("spend-limit*.json", "spend_limit", {"costs": {"object": "page", "data": []}}),
        Sample("usage-completions*.json", "usage", {"costs": {"object": "page", "data": []}}),
        Sample("probe-*.json", "probe"),
    )
    sim_credentials: ClassVar[Mapping[str, str]] = {
        "admin_key": "sk-admin-sim-openai-admin-key",
        "api_key": "sk-proj-sim-openai-api-key",
    }

    async def fetch(self, ctx: FetchContext) -> Raw:
        base = ctx.url("url")
        api_key = ctx.credentials.get("api_key")
        if ctx.credentials.auth.id == "api_key":
            if not probe_on(ctx.settings):
                raise ProviderConfigError(
                    "OpenAI: an API key alone shows only its rate limits, and probe is off",
                    hint="Set AGENTGAUGE_OPENAI_PROBE=on (one minimal call per refresh), or set OPENAI_ADMIN_KEY.",
                )
            return {"probe": await self._probe(ctx, base, str(api_key))}
        headers = self._headers(ctx, ctx.secret("admin_key"))
        since = int(_time.month_start(ctx.now()).timestamp())
        query: list[tuple[str, str]] = [("start_time", str(since)), ("bucket_width", "1d"), ("limit", "31")]
        if ctx.setting("project"):
            query.append(("project_ids", str(ctx.setting("project"))))
        spend_limit, costs, usage = await _http.together(  # three independent calls at once
            self._spend_limit(ctx, base, headers),
            self._pages(ctx, base + COSTS_PATH, [*query, ("group_by", "line_item")], headers, "costs"),
            self._pages(ctx, base + USAGE_PATH, [*query, ("group_by", "model")], headers, "usage"),
        )
        raw: dict[str, Any] = {"spend_limit": spend_limit, "costs": costs, "usage": usage}
        if api_key and probe_on(ctx.settings):
            try:
                raw["probe"] = await self._probe(ctx, base, api_key)
            except ProviderError as exc:  # the admin data stands; the probe's failure is a warning
                raw["probe"] = {"headers": {}, "error": _http.problem(exc, with_hint=False)}
        return raw

    @staticmethod
    def _headers(ctx: FetchContext, key: str) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {key.strip()}", "Accept": "application/json"}
        if ctx.setting("organization"):
            headers["OpenAI-Organization"] = str(ctx.setting("organization"))
        return headers

    async def _spend_limit(self, ctx: FetchContext, base: str, headers: dict[str, str]) -> Any:
        try:
            response = await _http.send(
                ctx, "GET", base + SPEND_LIMIT_PATH, what="spend limit request", headers=headers, ok_statuses=(200, 404)
            )
        except AuthError as exc:
            raise AuthError(exc.message, hint=ADMIN_HINT, status_code=exc.status_code) from None
        if response.status_code == 404 and not _http.looks_like_html(response):
            return None  # no hard limit set
        return _http.decode_json(ctx, response, what="spend limit request")

    async def _pages(
        self, ctx: FetchContext, url: str, query: list[tuple[str, str]], headers: dict[str, str], what: str
    ) -> dict[str, Any]:
        """Every bucket of a paged organization report, merged into one page."""

        async def page(cursor: str | None) -> dict[str, Any]:
            params = query + ([("page", cursor)] if cursor else [])
            try:
                page = await _http.get_json(ctx, f"{url}?{urlencode(params)}", what=f"{what} request", headers=headers)
            except AuthError as exc:
                raise AuthError(exc.message, hint=ADMIN_HINT, status_code=exc.status_code) from None
            root = obj(page)
            if not isinstance(root.get("data"), list):
                raise ParseError(f"OpenAI: the {what} answer has no 'data' list", field=f"{what}.data")
            return root

        found = await _http.pages(page, _next_page, limit=MAX_PAGES)
        return {"object": "page", "data": [entry for root in found for entry in root["data"]]}

    async def _probe(self, ctx: FetchContext, base: str, key: str) -> dict[str, Any]:
        """One minimal chat completion; its rate-limit headers (a 429 carries them too)."""
        body = {
            "model": ctx.setting("probe_model") or DEFAULT_PROBE_MODEL,
            "messages": [{"role": "user", "content": "hi"}],
            "max_completion_tokens": 1,
            "store": False,
        }
        headers = self._headers(ctx, key)
        try:
            response = await _http.send(
                ctx,
                "POST",
                base + PROBE_PATH,
                what="rate-limit call",
                headers=headers,
                json=body,
                ok_statuses=(200, 429),
            )
        except AuthError as exc:
            raise AuthError(exc.message, hint=KEY_HINT, status_code=exc.status_code) from None
        record: dict[str, Any] = {"status": response.status_code, "headers": _http.kept_headers(response, KEPT_HEADERS)}
        if response.status_code == 429:
            try:
                code = opt_str(obj(obj(orjson.loads(response.content)).get("error")).get("code"))
            except orjson.JSONDecodeError:
                code = None
            shown = code if code and code.replace("_", "").isalnum() and len(code) <= 40 else "rate_limit_exceeded"
            record["error"] = {
                "kind": "rate_limited",
                "message": f"OpenAI: the rate-limit call was refused (HTTP 429, {shown})",
                "hint": "The account is out of credits: add credits or raise the budget."
                if shown == "insufficient_quota"
                else "The key is at its rate limit right now.",
            }
        return record

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parsing.parse(raw, now)


PROVIDER = OpenAI()
