"""Azure OpenAI: per-deployment rate limits and their measured use, the regional quota assigned to
deployments, and, opt-in, the live rate-limit headers of a deployment.

Management plane (ARM, ``{url}``), with an Entra access token for ``https://management.azure.com``:

1. the accounts: ``GET /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.CognitiveServices/
   accounts/{resource}`` when both are set, else the subscription's accounts of kind ``OpenAI`` /
   ``AIServices`` (optionally only ``resource``), at most ten;
2. per account ``GET {id}/deployments`` (``rateLimits`` per deployment) and
   ``GET {id}/providers/Microsoft.Insights/metrics`` (tokens and requests per minute per deployment
   over the last ten minutes; needs Monitoring Reader, so a 403 is a warning);
3. per region ``GET /subscriptions/{s}/providers/Microsoft.CognitiveServices/locations/{loc}/usages``.

Tokens come from a service principal (client credentials at ``{login_url}/{tenant}/oauth2/v2.0/token``),
a given access token, or the Azure CLI (``az account get-access-token``). With ``probe = on``, an
``api-key`` and a ``deployment``, one ``POST {endpoint}/openai/deployments/{deployment}/chat/completions``
(``max_tokens: 1``) per refresh reads the ``x-ratelimit-*`` headers. ``parsing`` reads the answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

from ...errors import AuthError, ProviderConfigError, ProviderError
from ...models import Usage
from .. import _http, _process, _time
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
from .._parse import obj, opt_str
from .._settings import probe_on, probe_setting
from . import parsing
from .arm import RELOGIN, accounts_of, arm_get, entra_token, soft

ARM_URL = "https://management.azure.com"
LOGIN_URL = "https://login.microsoftonline.com"
ARM_VERSION = "2024-10-01"
METRICS_VERSION = "2023-10-01"
DATA_VERSION = "2024-10-21"
METRICS = "ProcessedPromptTokens,GeneratedTokens,AzureOpenAIRequests"
METRICS_SPAN = timedelta(minutes=10)
MAX_ACCOUNTS = 10
KEY_HINT = "Set AGENTGAUGE_AZUREOPENAI_API_KEY (or AZURE_OPENAI_API_KEY) to a key of the resource, then refresh."
WELL_KNOWN_AZ = ("/usr/bin/az", "/usr/local/bin/az", "/opt/homebrew/bin/az")
KEPT_HEADERS = ("x-ratelimit-", "retry-after")
# The deployment the recorded metrics sample (tests/fixtures/azureopenai/metrics-*.json) measures.
SAMPLE_DEPLOYMENTS = {
    "value": [
        {
            "name": "gpt-4o",
            "properties": {
                "rateLimits": [
                    {"key": "request", "renewalPeriod": 10, "count": 50},
                    {"key": "token", "renewalPeriod": 60, "count": 50000},
                ]
            },
        }
    ]
}


def _discover_cli(ctx: DiscoverContext) -> Discovered | None:
    """The Azure CLI, when it has a login (``azureProfile.json`` in its config dir)."""
    folder = ctx.expand(ctx.env["AZURE_CONFIG_DIR"]) if ctx.env.get("AZURE_CONFIG_DIR") else ctx.home / ".azure"
    if not (folder / "azureProfile.json").is_file():
        return None
    found = _process.find_executable("az", ctx.env, ctx.home, WELL_KNOWN_AZ)
    return Discovered({"az": Secret(found)}, f"Azure CLI ({found})") if found else None


def _names_a_resource(settings: Mapping[str, str]) -> bool:
    """An Azure CLI login is used only for someone who named their Azure OpenAI resource: many people
    are logged in to Azure without one."""
    return any(settings.get(name) for name in ("resource", "endpoint", "deployment"))


class AzureOpenAI(Provider):
    id = "azureopenai"
    name = "Azure OpenAI"
    docs_url = "https://ai.azure.com/resource/quota"
    settings = (
        Setting(
            "subscription",
            "Azure subscription id (the Azure CLI's default when unset).",
            env=("AZURE_SUBSCRIPTION_ID",),
        ),
        Setting("resource_group", "Resource group of the Azure OpenAI resource (with resource)."),
        Setting(
            "resource", "Name of the Azure OpenAI (or AI Services) resource; every one in the subscription when unset."
        ),
        Setting("tenant_id", "Entra tenant of the service principal.", env=("AZURE_TENANT_ID",)),
        Setting("client_id", "Application (client) id of the service principal.", env=("AZURE_CLIENT_ID",)),
        Setting("client_secret", "Client secret of the service principal.", secret=True, env=("AZURE_CLIENT_SECRET",)),
        Setting(
            "access_token",
            "An Entra access token for https://management.azure.com (e.g. `az account get-access-token`); it "
            "expires within the hour.",
            secret=True,
        ),
        Setting("az", "Path of the Azure CLI; found on PATH when unset."),
        Setting(
            "api_key",
            "A key of the resource, only for the opt-in rate-limit call (probe = on).",
            secret=True,
            env=("AZURE_OPENAI_API_KEY",),
        ),
        Setting(
            "endpoint",
            "The resource's endpoint (https://<resource>.openai.azure.com); from ARM when unset.",
            env=("AZURE_OPENAI_ENDPOINT",),
        ),
        Setting("deployment", "The deployment the rate-limit call goes to.", env=("AZURE_OPENAI_DEPLOYMENT",)),
        Setting(
            "api_version",
            "Data-plane api-version of the rate-limit call.",
            default=DATA_VERSION,
            env=("OPENAI_API_VERSION",),
        ),
        probe_setting(
            "'on': send one minimal chat completion (max_tokens 1) to the deployment per refresh (costs a few "
            "tokens) to read its x-ratelimit-* headers."
        ),
        Setting("url", "Base URL of Azure Resource Manager.", default=ARM_URL),
        Setting("login_url", "Entra's login host.", default=LOGIN_URL),
    )
    auth = (
        AuthSource(
            id="service_principal",
            source="oauth",
            label="Entra service principal",
            requires=("client_secret", "client_id", "tenant_id"),
            optional=("api_key",),
            hint="Set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET of a service principal with the "
            "Reader role (and AZURE_SUBSCRIPTION_ID).",
        ),
        AuthSource(
            id="access_token",
            source="oauth",
            label="Entra access token",
            requires=("access_token",),
            optional=("api_key",),
            hint="Set AGENTGAUGE_AZUREOPENAI_ACCESS_TOKEN to `az account get-access-token --query accessToken -o tsv` "
            "(it expires within the hour).",
        ),
        AuthSource(
            id="azure_cli",
            source="cli",
            label="Azure CLI login",
            requires=("az",),
            optional=("api_key",),
            hint=RELOGIN,
            discover=_discover_cli,
            discovered_source="cli",
            when=_names_a_resource,
        ),
        AuthSource(
            id="api_key",
            source="api_key",
            label="Azure OpenAI API key (rate-limit headers)",
            requires=("api_key", "probe"),
            hint="Set AGENTGAUGE_AZUREOPENAI_PROBE=on with AZURE_OPENAI_API_KEY, AZURE_OPENAI_ENDPOINT and a "
            "deployment to read its rate limits (one minimal call per refresh).",
        ),
    )
    windows = (
        WindowSpec("tpm_*", "Deployment tokens per minute", 60, "tokens"),
        WindowSpec("rpm_*", "Deployment requests per minute", 60, "requests"),
        WindowSpec("rate_requests", "Requests (rate limit)", None, "requests"),
        WindowSpec("rate_tokens", "Tokens (rate limit)", None, "tokens"),
    )
    urls: ClassVar[Mapping[str, str]] = {"url": ARM_URL, "login_url": LOGIN_URL, "endpoint": ""}
    min_interval = 300.0  # metrics are minutes late; the opt-in call costs tokens
    timeout = 40.0
    env_vars = ("AZURE_CONFIG_DIR",)
    redact_keys = frozenset({"subscription", "tenant", "tenantId", "principalId", "customSubDomainName"})
    samples = (
        Sample("usages-*.json", "usages_sample"),
        Sample("deployments-*.json", "deployments_sample"),
        Sample("metrics-*.json", "metrics_sample", {"deployments_sample": SAMPLE_DEPLOYMENTS}),
        Sample("probe-*.json", "probe"),
    )
    sim_credentials: ClassVar[Mapping[str, str]] = {
        "client_secret": "sim-azure-client-secret",
        "client_id": "00000000-0000-4000-8000-00000000c11e",
        "tenant_id": "00000000-0000-4000-8000-0000000071e7",
        "access_token": "sim-azure-arm-token",
        "api_key": "sim-azure-openai-api-key",
    }

    async def fetch(self, ctx: FetchContext) -> Raw:
        management = ctx.credentials.auth.id != "api_key"
        if not management and not probe_on(ctx.settings):
            raise ProviderConfigError(
                "Azure OpenAI: an API key alone shows only a deployment's rate limits, and probe is off",
                hint="Set AGENTGAUGE_AZUREOPENAI_PROBE=on (one minimal call per refresh), or use an Entra login.",
            )
        key = ctx.credentials.get("api_key")
        probing = bool(key) and probe_on(ctx.settings)
        if management and probing and ctx.setting("endpoint"):
            # The endpoint is known: the rate-limit call need not wait for ARM.
            raw, probe = await _http.together(
                self._management(ctx), self._soft_probe(ctx, str(key), [], soft_fail=True)
            )
            return {**raw, "probe": probe}
        raw = await self._management(ctx) if management else {}
        if probing:
            raw["probe"] = await self._soft_probe(ctx, str(key), raw.get("accounts") or [], soft_fail=management)
        return raw

    async def _soft_probe(
        self, ctx: FetchContext, key: str, accounts: list[dict[str, Any]], *, soft_fail: bool
    ) -> dict[str, Any]:
        """The rate-limit call; beside an Entra login its failure is a warning, alone it is the error."""
        try:
            return await self._probe(ctx, key, accounts)
        except ProviderError as exc:
            if not soft_fail:
                raise
            return {"headers": {}, **soft(exc, "rate-limit call", KEY_HINT)}

    async def _management(self, ctx: FetchContext) -> dict[str, Any]:
        token, cli_subscription = await entra_token(ctx)
        subscription = ctx.setting("subscription") or cli_subscription
        if not subscription:
            raise ProviderConfigError(
                "Azure OpenAI: no subscription is set",
                hint="Set AZURE_SUBSCRIPTION_ID (or AGENTGAUGE_AZUREOPENAI_SUBSCRIPTION), then refresh.",
            )
        base = ctx.url("url")
        sub = f"{base}/subscriptions/{quote(subscription, safe='')}"
        group, resource = ctx.setting("resource_group"), ctx.setting("resource")
        if group and resource:
            one = f"{sub}/resourceGroups/{quote(group, safe='')}/providers/Microsoft.CognitiveServices/accounts/"
            accounts = [
                await arm_get(ctx, f"{one}{quote(resource, safe='')}?api-version={ARM_VERSION}", token, "resource")
            ]
        else:
            listing = await arm_get(
                ctx,
                f"{sub}/providers/Microsoft.CognitiveServices/accounts?api-version={ARM_VERSION}",
                token,
                "resource list",
            )
            accounts = accounts_of(listing, resource)[:MAX_ACCOUNTS]
        if not accounts:
            raise ProviderConfigError(
                "Azure OpenAI: the subscription has no Azure OpenAI resource"
                + (f" named {resource}" if resource else ""),
                hint="Set subscription (and resource, resource_group) to where your Azure OpenAI resource is.",
            )
        now = ctx.now()
        locations = sorted({(opt_str(a.get("location")) or "").replace(" ", "").lower() for a in accounts} - {""})
        calls = []
        for account in accounts:
            calls.append(self._account(ctx, base, token, account, now))
        for location in locations:
            calls.append(
                arm_get(
                    ctx,
                    f"{sub}/providers/Microsoft.CognitiveServices/locations/{location}/usages?api-version={ARM_VERSION}",
                    token,
                    "quota",
                )
            )
        results = await _http.together(*calls)
        return {
            "accounts": results[: len(accounts)],
            "usages": dict(zip(locations, results[len(accounts) :], strict=True)),
        }

    async def _account(
        self, ctx: FetchContext, base: str, token: str, account: dict[str, Any], now: datetime
    ) -> dict[str, Any]:
        account_id = opt_str(account.get("id")) or ""
        if not account_id.startswith("/subscriptions/"):
            raise ProviderConfigError("Azure OpenAI: ARM listed a resource without an id")
        start = (now - METRICS_SPAN).astimezone(UTC).replace(microsecond=0)
        end = now.astimezone(UTC).replace(microsecond=0)
        query = urlencode(
            {
                "api-version": METRICS_VERSION,
                "metricnames": METRICS,
                "timespan": f"{_time.rfc3339(start)}/{_time.rfc3339(end)}",
                "interval": "PT1M",
                "aggregation": "Total",
                "$filter": "ModelDeploymentName eq '*'",
            }
        )

        async def metrics() -> dict[str, Any]:
            try:
                return await arm_get(
                    ctx, f"{base}{account_id}/providers/Microsoft.Insights/metrics?{query}", token, "metrics"
                )
            except (AuthError, ProviderConfigError) as exc:  # Monitoring Reader missing: the limits stay
                return soft(exc, "metrics", "Give the identity the Monitoring Reader role to see per-minute use.")

        deployments, measured = await _http.together(
            arm_get(ctx, f"{base}{account_id}/deployments?api-version={ARM_VERSION}", token, "deployment list"),
            metrics(),
        )
        return {
            "name": opt_str(account.get("name")),
            "location": opt_str(account.get("location")),
            "endpoint": opt_str(obj(account.get("properties")).get("endpoint")),
            "deployments": deployments,
            "metrics": measured,
        }

    async def _probe(self, ctx: FetchContext, key: str, accounts: list[dict[str, Any]]) -> dict[str, Any]:
        deployment = ctx.setting("deployment")
        endpoint = ctx.setting("endpoint") or next((a.get("endpoint") for a in accounts if a.get("endpoint")), None)
        if not deployment or not endpoint:
            raise ProviderConfigError(
                "Azure OpenAI: the rate-limit call needs a deployment and the resource's endpoint",
                hint="Set AZURE_OPENAI_DEPLOYMENT and AZURE_OPENAI_ENDPOINT (or resource, for ARM to find it).",
            )
        version = ctx.setting("api_version") or DATA_VERSION
        url = (
            f"{str(endpoint).rstrip('/')}/openai/deployments/{quote(deployment, safe='')}/chat/completions"
            f"?api-version={quote(version, safe='')}"
        )
        body = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1}
        headers = {"api-key": key.strip(), "Accept": "application/json"}
        try:
            response = await _http.send(
                ctx, "POST", url, what="rate-limit call", headers=headers, json=body, ok_statuses=(200, 429)
            )
        except AuthError as exc:
            raise AuthError(exc.message, hint=KEY_HINT, status_code=exc.status_code) from None
        kept = _http.kept_headers(response, KEPT_HEADERS)
        record: dict[str, Any] = {"status": response.status_code, "headers": kept, "deployment": deployment}
        if response.status_code == 429:
            record["error"] = {
                "kind": "rate_limited",
                "message": "Azure OpenAI: the rate-limit call was refused (HTTP 429)",
                "hint": "The deployment is at its rate limit right now.",
            }
        return record

    def parse(self, raw: Raw, now: datetime) -> Usage:
        if "usages_sample" in raw or "deployments_sample" in raw or "metrics_sample" in raw:
            raw = _from_samples(raw)
        return parsing.parse(raw, now)


def _from_samples(raw: Raw) -> Raw:
    """A recorded single ARM answer (a usages, deployments or metrics page) in the shape ``fetch`` returns."""
    if "usages_sample" in raw:
        return {"accounts": [], "usages": {"sample": raw["usages_sample"]}}
    account = {"name": "sample", "deployments": raw.get("deployments_sample"), "metrics": raw.get("metrics_sample")}
    return {"accounts": [account]}


PROVIDER = AzureOpenAI()
