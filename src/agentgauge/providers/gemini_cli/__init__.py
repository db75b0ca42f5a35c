"""Gemini CLI: the Code Assist per-model quota of the Google account the Gemini CLI is signed in with.

With the CLI's OAuth access token (``login``: ``~/.gemini/oauth_creds.json``) as a Bearer token:

1. ``POST {url}/v1internal:loadCodeAssist`` with the CLI's client metadata: the tier (``currentTier``,
   ``paidTier``) and the Code Assist project (``cloudaicompanionProject``); the ``project`` setting
   (``GOOGLE_CLOUD_PROJECT``, as the CLI reads it) goes with it.
2. Without a project from either, ``GET {projects_url}/v1/projects``: a ``gen-lang-client-*`` project
   or one labelled ``generative-language`` (best effort).
3. ``POST {url}/v1internal:retrieveUserQuota`` with ``{"project": ...}``: the quota buckets (``parsing``).

An expired token is renewed at ``{token_url}/token`` with the refresh token and the CLI's own OAuth
client (``client``); a 401 renews it once. This differs from the ``gemini`` provider (the Gemini API
with an API key or Google Cloud credentials: Cloud Quotas and Monitoring) and from ``antigravity``
(the Antigravity app's local language server).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import orjson

from ...errors import AuthError, ProviderError, UpstreamError
from ...models import Usage
from .. import _http
from .._base import AuthSource, FetchContext, Provider, Raw, Sample, Setting, WindowSpec
from .._oauth import ORIGIN, is_expired
from .._parse import items, obj, opt_str
from .client import refresh
from .login import ENV_VARS, discover_login
from .parsing import deprecated, deprecation_error, ineligible, parse_all, project_of

DEFAULT_URL = "https://cloudcode-pa.googleapis.com"
LOAD_PATH = "/v1internal:loadCodeAssist"
QUOTA_PATH = "/v1internal:retrieveUserQuota"
PROJECTS_PATH = "/v1/projects"
# What the Gemini CLI sends as its client metadata (packages/core/src/code_assist/setup.ts).
METADATA = {"ideType": "IDE_UNSPECIFIED", "platform": "PLATFORM_UNSPECIFIED", "pluginType": "GEMINI"}
HINT = "Sign in to Gemini CLI with Google (run `gemini` and choose Login with Google), then refresh."


class GeminiCli(Provider):
    id = "gemini_cli"
    name = "Gemini CLI"
    docs_url = "https://codeassist.google.com/"
    settings = (
        Setting("api_key", "OAuth access token of the Google login (ya29...); read from the CLI's login.", secret=True),
        Setting("refresh_token", "OAuth refresh token of the same login; renews the access token.", secret=True),
        Setting(
            "client_id",
            "OAuth client id for renewing; read from the installed CLI when unset.",
            env=("GEMINI_OAUTH_CLIENT_ID",),
        ),
        Setting(
            "client_secret",
            "OAuth client secret for renewing; read from the installed CLI when unset.",
            secret=True,
            env=("GEMINI_OAUTH_CLIENT_SECRET",),
        ),
        Setting(
            "project",
            "Google Cloud project of a Standard/Enterprise Code Assist license (as the CLI reads it).",
            env=("GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_PROJECT_ID"),
        ),
        Setting("cli", "Path of the gemini executable (its OAuth client is read from its package)."),
        Setting("url", "Base URL of the Code Assist API.", default=DEFAULT_URL, env=("CODE_ASSIST_ENDPOINT",)),
        Setting(
            "token_url",
            "Base URL of Google's OAuth token service (/token is appended).",
            default="https://oauth2.googleapis.com",
        ),
        Setting(
            "projects_url",
            "Base URL of the Cloud Resource Manager API.",
            default="https://cloudresourcemanager.googleapis.com",
        ),
    )
    auth = (
        AuthSource(
            id="login",
            source="oauth",
            label="Gemini CLI login",
            requires=("api_key",),
            optional=("refresh_token", "client_id", "client_secret", "cli"),
            hint=HINT,
            discover=discover_login,
            discovered_source="oauth",
        ),
    )
    windows = (WindowSpec("model_*", "Model quota", None, None),)
    urls = {
        "url": DEFAULT_URL,
        "token_url": "https://oauth2.googleapis.com",
        "projects_url": "https://cloudresourcemanager.googleapis.com",
    }
    min_interval = 120.0
    env_vars = ENV_VARS
    redact_keys = frozenset({"cloudaicompanionProject", "projectId", "project"})
    samples = (
        Sample("retrieve-user-quota*.json", "quota", {"load": None}),
        Sample("load-code-assist*.json", "load", {"quota": {"buckets": []}}),
    )
    sim_credentials = {
        "api_key": "sim-gemini-access-token",
        "refresh_token": "sim-gemini-refresh-token",
        "client_id": "sim-gemini-cli.apps.googleusercontent.com",
        "client_secret": "sim-gemini-cli-secret",
    }

    async def fetch(self, ctx: FetchContext) -> Raw:
        token = ctx.secret("api_key").strip()
        refresh_token = ctx.credentials.get("refresh_token")
        renewed = False
        if refresh_token and is_expired(ctx.credentials.details, ctx.now()):
            token, renewed = await self._renew(ctx, refresh_token), True
        try:
            return await self._read(ctx, token)
        except AuthError as exc:
            if renewed or not refresh_token or exc.status_code != 401:
                raise
        return await self._read(ctx, await self._renew(ctx, refresh_token))

    @staticmethod
    async def _renew(ctx: FetchContext, refresh_token: str) -> str:
        pair = await refresh(ctx, refresh_token)
        if ctx.tokens is not None:  # keep it, so the next refresh does not renew again
            values = {"api_key": pair.access_token, "refresh_token": pair.refresh_token or refresh_token}
            try:
                await asyncio.to_thread(ctx.tokens.save, values, expires_at=pair.expires_at, origin=ORIGIN)
            except (ProviderError, OSError) as exc:
                ctx.log.warning("gemini_cli: could not keep the renewed token: %s", type(exc).__name__)
        return pair.access_token

    async def _read(self, ctx: FetchContext, token: str) -> Raw:
        base = ctx.url("url")
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": "application/json"}
        project = ctx.setting("project")
        body: dict[str, Any] = {"metadata": {**METADATA, **({"duetProject": project} if project else {})}}
        if project:
            body["cloudaicompanionProject"] = project
        load = await self._post(ctx, base + LOAD_PATH, "loadCodeAssist", headers, body, optional=True)
        project = project or project_of(load) or await self._find_project(ctx, headers)
        quota = await self._post(
            ctx, base + QUOTA_PATH, "retrieveUserQuota", headers, {"project": project} if project else {}
        )
        reason = ineligible(load)
        if reason and not items(obj(quota).get("buckets")):
            raise AuthError(f"Gemini CLI: the account has no Code Assist tier: {reason}", hint=HINT)
        return {"load": load, "quota": quota}

    @staticmethod
    async def _post(
        ctx: FetchContext, url: str, what: str, headers: dict[str, str], body: dict[str, Any], *, optional: bool = False
    ) -> Any:
        """One Code Assist call. Its refusals are read for Google's end of individual sign-in; a failed
        ``loadCodeAssist`` (``optional``) only loses the tier."""
        response = await _http.send(
            ctx, "POST", url, what=what, headers=headers, json=body, ok_statuses=(200, 400, 403, 404)
        )
        if response.status_code != 200:  # a challenge page was raised as one by send
            if deprecated(response.text[:4000]):
                raise deprecation_error()
            message = (
                opt_str(obj(_safe_json(response.content).get("error")).get("message")) or f"HTTP {response.status_code}"
            )
            if optional and response.status_code != 403:
                ctx.log.info("gemini_cli: %s failed: %s", what, message[:200])
                return None
            if response.status_code == 403:
                raise AuthError(f"Gemini CLI: {what} was refused: {message[:200]}", hint=HINT, status_code=403)
            raise UpstreamError(f"Gemini CLI: {what} failed: {message[:200]}", status_code=response.status_code)
        return _http.decode_json(ctx, response, what=what)

    @staticmethod
    async def _find_project(ctx: FetchContext, headers: dict[str, str]) -> str | None:
        """A Gemini API project of the account (``gen-lang-client-*`` or labelled), best effort."""
        try:
            found = await _http.get_json(
                ctx, ctx.url("projects_url") + PROJECTS_PATH, what="project list", headers=headers
            )
        except ProviderError as exc:
            ctx.log.info("gemini_cli: no project list: %s", exc.message)
            return None
        for project in items(obj(found).get("projects")):
            project_id = opt_str(project.get("projectId"))
            if project_id and (
                project_id.startswith("gen-lang-client") or "generative-language" in obj(project.get("labels"))
            ):
                return project_id
        return None

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parse_all(raw.get("quota"), raw.get("load"))


def _safe_json(content: bytes) -> dict[str, Any]:
    try:
        return obj(orjson.loads(content))
    except orjson.JSONDecodeError:
        return {}


PROVIDER = GeminiCli()
