"""Doubao (Volcengine Ark): Coding Plan and Agent Plan usage, from three sources in this order.

1. **Volcengine access key** (AK/SK): ``POST {url}/?Action=GetCodingPlanUsage&Version=2024-01-01``
   and ``...Action=GetAFPUsage...`` (the Agent Plan), signed with Volcengine's HMAC-SHA256 scheme
   (``signer``) for the service ``ark`` in ``region``. The Agent Plan call is best effort: an account
   without one answers 403/404 there.
2. **arkcli login**: ``arkcli usage plan --format json``, the official CLI with its own login (it
   refreshes it; nothing of it is read or written here).
3. **Ark API key** (opt-in, ``probe = on``): one ``POST {ark_url}/chat/completions`` with
   ``max_tokens: 1`` per refresh, whose ``x-ratelimit-*-requests`` headers give the key's request
   window. It costs a token or two, so an ``ARK_API_KEY`` alone configures nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from ...errors import AuthError, ParseError, ProviderConfigError, ProviderError, UpstreamError
from ...models import Usage
from .. import _http, _process
from .._base import (
    AuthSource,
    DiscoverContext,
    Discovered,
    FetchContext,
    Provider,
    Raw,
    Sample,
    Secret,
    Setting,
    WindowSpec,
)
from .._parse import opt_num
from .._settings import probe_on, probe_setting
from .parsing import openapi_error, parse_all
from .signer import signed_headers

DEFAULT_URL = "https://open.volcengineapi.com"
DEFAULT_ARK_URL = "https://ark.cn-beijing.volces.com/api/coding/v3"
VERSION = "2024-01-01"
PROBE_MODELS = ("doubao-seed-2.0-code", "doubao-1.5-pro-32k", "doubao-lite-32k")
CLI_ARGS = ("usage", "plan", "--format", "json")
CLI_TIMEOUT = 15.0
LOGIN_MARKERS = ("not logged in", "not authenticated", "authentication required", "login required", "please log in")
LOGIN_HINT = "Run `arkcli auth login`, then refresh."
WELL_KNOWN = ("~/.local/bin/arkcli", "/opt/homebrew/bin/arkcli", "/usr/local/bin/arkcli")
AKSK_HINT = (
    "Set AGENTGAUGE_DOUBAO_ACCESS_KEY_ID and AGENTGAUGE_DOUBAO_SECRET_ACCESS_KEY (or VOLCENGINE_ACCESS_KEY and "
    "VOLCENGINE_SECRET_KEY) to a Volcengine access key, or log in with `arkcli auth login`, then refresh."
)


def _discover_cli(ctx: DiscoverContext) -> Discovered | None:
    found = _process.find_executable("arkcli", ctx.env, ctx.home, WELL_KNOWN)
    return Discovered({"cli": Secret(found)}, f"arkcli ({found})") if found else None


class Doubao(Provider):
    id = "doubao"
    name = "Doubao"
    docs_url = "https://console.volcengine.com/ark/region:ark+cn-beijing/openManagement"
    settings = (
        Setting(
            "access_key_id",
            "Volcengine access key id (AK) for the signed usage calls.",
            secret=True,
            env=("VOLCENGINE_ACCESS_KEY_ID", "VOLCENGINE_ACCESS_KEY", "VOLC_ACCESSKEY", "DOUBAO_ACCESS_KEY_ID"),
        ),
        Setting(
            "secret_access_key",
            "Volcengine secret access key (SK).",
            secret=True,
            env=(
                "VOLCENGINE_SECRET_ACCESS_KEY",
                "VOLCENGINE_SECRET_KEY",
                "VOLCENGINE_ACCESS_KEY_SECRET",
                "VOLC_SECRETKEY",
                "DOUBAO_SECRET_ACCESS_KEY",
            ),
        ),
        Setting(
            "region",
            "Volcengine region the access key signs for.",
            default="cn-beijing",
            env=("VOLCENGINE_REGION", "VOLC_REGION", "DOUBAO_REGION"),
        ),
        Setting("url", "Base URL of the Volcengine OpenAPI.", default=DEFAULT_URL),
        Setting("cli", "Path of arkcli; found on PATH when unset.", env=("ARKCLI_PATH",)),
        Setting("cli_timeout", "Seconds arkcli gets to print its usage.", default="15"),
        Setting(
            "api_key",
            "Ark API key, used only for the opt-in rate-limit call (probe = on).",
            secret=True,
            env=("ARK_API_KEY", "VOLCENGINE_API_KEY", "DOUBAO_API_KEY"),
        ),
        probe_setting(
            "'on': one chat completion with max_tokens 1 per refresh (costs a token or two) to read the Ark "
            "API key's request limit headers."
        ),
        Setting("probe_model", "Model of the rate-limit call; three known models are tried when unset."),
        Setting("ark_url", "Base URL of the Ark API for the rate-limit call.", default=DEFAULT_ARK_URL),
    )
    auth = (
        AuthSource(
            id="access_key",
            source="api_key",
            label="Volcengine access key",
            requires=("access_key_id", "secret_access_key"),
            hint=AKSK_HINT,
            discovered_source="api_key",
        ),
        AuthSource(
            id="cli",
            source="cli",
            label="arkcli login",
            requires=("cli",),
            hint="Install arkcli and run `arkcli auth login`, or set AGENTGAUGE_DOUBAO_CLI (or ARKCLI_PATH).",
            discover=_discover_cli,
            discovered_source="cli",
        ),
        AuthSource(
            id="api_key",
            source="api_key",
            label="Ark API key (rate-limit headers)",
            requires=("api_key", "probe"),
            hint="Set AGENTGAUGE_DOUBAO_PROBE=on with ARK_API_KEY to read the key's request limit "
            "(one minimal call per refresh).",
            discovered_source="api_key",
        ),
    )
    windows = (
        WindowSpec("session", "Session (5h)", 18000, None),
        WindowSpec("weekly", "Weekly", 604800, None),
        WindowSpec("monthly", "Monthly", None, None),
        WindowSpec("agent_*", "Agent Plan", None, "afp"),
        WindowSpec("coding_team_*", "Coding Plan (team)", None, None),
        WindowSpec("requests", "Requests (Ark API key)", None, "requests"),
    )
    urls = {"url": DEFAULT_URL, "ark_url": DEFAULT_ARK_URL}
    min_interval = 120.0
    samples = (
        Sample("coding-plan-*.json", "coding", {"agent": None}),
        Sample("afp-*.json", "agent", {"coding": None}),
        Sample("arkcli-*.json", "arkcli"),
    )
    sim_credentials = {
        "access_key_id": "AKLTsimdoubao",
        "secret_access_key": "sim-doubao-secret",
        "api_key": "sim-ark-api-key",
    }

    async def fetch(self, ctx: FetchContext) -> Raw:
        source = ctx.credentials.auth.id
        if source == "cli":
            return {"arkcli": await self._arkcli(ctx)}
        if source == "api_key":
            return {"probe": await self._probe(ctx)}
        coding = await self._signed(ctx, "GetCodingPlanUsage")
        try:  # best effort: an account without an Agent Plan is refused here (403/404)
            agent = await self._signed(ctx, "GetAFPUsage")
        except AuthError as exc:
            if exc.status_code == 401:
                raise
            ctx.log.info("doubao: no Agent Plan usage: %s", exc.message)
            agent = None
        except ProviderError as exc:
            ctx.log.info("doubao: the Agent Plan call failed: %s", exc.message)
            agent = None
        return {"coding": coding, "agent": agent}

    @staticmethod
    async def _signed(ctx: FetchContext, action: str) -> Any:
        url = f"{ctx.url('url')}/?Action={action}&Version={VERSION}"
        headers = signed_headers(
            method="POST",
            url=url,
            body=b"",
            access_key=ctx.secret("access_key_id").strip(),
            secret_key=ctx.secret("secret_access_key").strip(),
            region=(ctx.setting("region") or "cn-beijing").strip(),
            when=ctx.now(),
        )
        headers["accept"] = "application/json"
        # Volcengine answers errors with their JSON body and a 4xx: read it for the error code.
        response = await _http.send(
            ctx, "POST", url, what=action, headers=headers, ok_statuses=(200, 400, 401, 403, 404)
        )
        body = _http.decode_json(ctx, response, what=action)
        if response.status_code != 200:
            raise parse_error(body, action, response.status_code)
        return body

    @staticmethod
    async def _arkcli(ctx: FetchContext) -> Any:
        timeout = opt_num(ctx.setting("cli_timeout") or CLI_TIMEOUT, "cli_timeout")
        if timeout is None or timeout <= 0:
            raise ProviderConfigError("Doubao: cli_timeout must be a positive number of seconds")
        output = await _process.run(
            ctx.secret("cli"),
            CLI_ARGS,
            name="arkcli",
            timeout=timeout,
            env={"NO_COLOR": "1"},
            login_markers=LOGIN_MARKERS,
            login_hint=LOGIN_HINT,
        )
        try:
            return orjson.loads(output.stdout)
        except orjson.JSONDecodeError:
            raise ParseError("Doubao: arkcli did not print JSON", field="$") from None

    @staticmethod
    async def _probe(ctx: FetchContext) -> dict[str, Any]:
        if not probe_on(ctx.settings):
            raise ProviderConfigError("Doubao: the Ark API key is used only with probe = on")
        url = ctx.url("ark_url") + "/chat/completions"
        headers = {
            "Authorization": f"Bearer {ctx.secret('api_key').strip()}",
            "Accept": "application/json",
        }
        models = [ctx.setting("probe_model")] if ctx.setting("probe_model") else list(PROBE_MODELS)
        last: ProviderError | None = None
        for model in models:
            body = {"model": model, "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}]}
            try:
                response = await _http.send(ctx, "POST", url, what="rate-limit call", headers=headers, json=body)
            except AuthError as exc:
                if exc.status_code == 403 and len(models) > 1:  # this key may not use this model
                    last = exc
                    continue
                raise
            except UpstreamError as exc:
                if exc.status_code == 404:  # model not found: try the next one
                    last = exc
                    continue
                raise
            return {"model": model, "headers": dict(response.headers)}
        assert last is not None
        raise last

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parse_all(raw, now)


def parse_error(body: Any, action: str, status: int) -> ProviderError:
    """A Volcengine error answer (4xx with its ``ResponseMetadata.Error``) as a typed error."""
    error = openapi_error(body, action) if isinstance(body, dict) else None
    if isinstance(error, ProviderError):
        error.status_code = status
        return error
    if status in (401, 403):
        return AuthError(f"Doubao: {action} was refused (HTTP {status})", hint=AKSK_HINT, status_code=status)
    return UpstreamError(f"Doubao: {action} answered HTTP {status}", status_code=status)


PROVIDER = Doubao()
