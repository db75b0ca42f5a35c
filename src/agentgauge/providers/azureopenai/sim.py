"""The simulator's azureopenai endpoints: Entra's token endpoint, ARM and a resource's data plane,
checking what the real ones check (loaded only by the simulator).

Entra: form-encoded ``client_credentials`` with the simulator's client id and secret for its tenant and
``scope=https://management.azure.com/.default`` (``invalid_client``/``invalid_scope`` otherwise). ARM:
``Authorization: Bearer`` with a token it issued (or the simulator's ``access_token``) and ``api-version``
on every call (``MissingApiVersionParameter``); lists come two items per page with an absolute
``nextLink``; metrics check ``metricnames``, ``interval``, ``aggregation``, ``timespan`` and the
``ModelDeploymentName`` filter. Data plane: ``api-key`` (a Bearer is not a key: 401) and ``api-version``,
the deployment in the path; answers carry numeric ``x-ratelimit-*`` headers. Errors use ARM's and Azure
OpenAI's ``{"error": {code, message}}``. Demo account ``nometrics`` lacks Monitoring Reader (403 on metrics).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext, iso
from . import PROVIDER
from .arm import ARM_SCOPE

SUBSCRIPTION = "00000000-0000-4000-8000-00000000005b"
GROUP = "sim-rg"
PROVIDER_PATH = "providers/Microsoft.CognitiveServices"
# (name, kind, location, deployments: (name, model, requests per 10 s, tokens per 60 s))
ACCOUNTS = (
    ("sim-openai-east", "OpenAI", "eastus", (("gpt-4o", "gpt-4o", 50, 50_000), ("mini", "gpt-4o-mini", 200, 200_000))),
    ("sim-speech", "SpeechServices", "eastus", ()),
    ("sim-ai-sweden", "AIServices", "swedencentral", (("gpt-4.1", "gpt-4.1", 30, 30_000),)),
)
METRICS = {"ProcessedPromptTokens", "GeneratedTokens", "AzureOpenAIRequests"}
ACCOUNTS_PAGE = 2  # resources per page of the subscription's list, so clients follow nextLink


def account_id(name: str) -> str:
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/{PROVIDER_PATH}/accounts/{name}"


def arm_error(status: int, code: str, message: str) -> Response:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    issued: dict[str, str] = {}  # token -> demo account

    async def token(
        request: Request,
    ) -> Response:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
            return JSONResponse(
                {"error": "invalid_request", "error_description": "AADSTS900144: body"}, status_code=400
            )
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        tenant_ok = request.path_params["tenant"] == sim.credential(PROVIDER.id, "tenant_id")
        account = sim.account_of(PROVIDER.id, "client_secret", form.get("client_secret"))
        if not tenant_ok or form.get("client_id") != sim.credential(PROVIDER.id, "client_id") or account is None:
            body = {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}
            return JSONResponse(body, status_code=401)
        if form.get("scope") != ARM_SCOPE:
            return JSONResponse({"error": "invalid_scope", "error_description": "AADSTS70011"}, status_code=400)
        value = f"eyJ0eXAiOiJKV1QifQ.sim-{secrets.token_urlsafe(16)}.sig"
        issued[value] = account
        return JSONResponse({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": value})

    def caller(request: Request) -> str | Response:
        header = request.headers.get("authorization", "")
        presented = header[7:].strip() if header.lower().startswith("bearer ") else ""
        account = issued.get(presented) or sim.account_of(PROVIDER.id, "access_token", presented)
        if account is None:
            return arm_error(401, "InvalidAuthenticationToken", "The access token is invalid.")
        if not request.query_params.get("api-version"):
            return arm_error(400, "MissingApiVersionParameter", "The api-version query parameter is required.")
        if request.path_params.get("subscription") not in (None, SUBSCRIPTION):
            return arm_error(404, "SubscriptionNotFound", "The subscription could not be found.")
        return account

    def account_body(request: Request, name: str, kind: str, location: str) -> dict[str, Any]:
        endpoint = f"{str(request.base_url).rstrip('/')}/{PROVIDER.id}/endpoint/"
        return {
            "id": account_id(name),
            "name": name,
            "type": "Microsoft.CognitiveServices/accounts",
            "kind": kind,
            "location": location,
            "sku": {"name": "S0"},
            "properties": {"endpoint": endpoint, "provisioningState": "Succeeded", "customSubDomainName": name},
        }

    def find(name: str) -> tuple[str, str, str, tuple[Any, ...]] | None:
        return next((a for a in ACCOUNTS if a[0] == name), None)

    async def accounts(request: Request) -> Response:
        who = caller(request)
        if isinstance(who, Response):
            return who
        index = int(request.query_params.get("$skiptoken") or 0)
        listed = ACCOUNTS[index : index + ACCOUNTS_PAGE]
        body: dict[str, Any] = {"value": [account_body(request, name, kind, where) for name, kind, where, _ in listed]}
        if index + ACCOUNTS_PAGE < len(ACCOUNTS):
            following = index + ACCOUNTS_PAGE
            body["nextLink"] = f"{str(request.url).split('?')[0]}?api-version=2024-10-01&$skiptoken={following}"
        return JSONResponse(body)

    async def one_account(request: Request) -> Response:
        who = caller(request)
        if isinstance(who, Response):
            return who
        found = find(request.path_params["name"])
        if request.path_params["group"] != GROUP or found is None:
            return arm_error(404, "ResourceNotFound", "The Resource was not found.")
        return JSONResponse(account_body(request, found[0], found[1], found[2]))

    async def deployments(request: Request) -> Response:
        who = caller(request)
        if isinstance(who, Response):
            return who
        found = find(request.path_params["name"])
        if request.path_params["group"] != GROUP or found is None:
            return arm_error(404, "ResourceNotFound", "The Resource was not found.")
        value = [
            {
                "id": f"{account_id(found[0])}/deployments/{name}",
                "name": name,
                "type": "Microsoft.CognitiveServices/accounts/deployments",
                "sku": {"name": "GlobalStandard", "capacity": tokens // 1000},
                "properties": {
                    "model": {"format": "OpenAI", "name": model, "version": "2024-08-06"},
                    "rateLimits": [
                        {"key": "request", "renewalPeriod": 10, "count": requests},
                        {"key": "token", "renewalPeriod": 60, "count": tokens},
                    ],
                    "provisioningState": "Succeeded",
                },
            }
            for name, model, requests, tokens in found[3]
        ]
        return JSONResponse({"value": value})

    async def metrics(request: Request) -> Response:
        who = caller(request)
        if isinstance(who, Response):
            return who
        if who == "nometrics":
            return arm_error(403, "AuthorizationFailed", "The client does not have authorization to read metrics.")
        found = find(request.path_params["name"])
        if found is None:
            return arm_error(404, "ResourceNotFound", "The Resource was not found.")
        query = request.query_params
        names = [n for n in (query.get("metricnames") or "").split(",") if n]
        if not names or any(n not in METRICS for n in names):
            return arm_error(400, "BadRequest", "Failed to find metric configuration for provider.")
        if query.get("interval") != "PT1M" or query.get("aggregation") != "Total":
            return arm_error(400, "BadRequest", "Only PT1M totals are simulated.")
        if (query.get("$filter") or "").replace(" ", "").lower() != "modeldeploymentnameeq'*'":
            return arm_error(400, "BadRequest", "The $filter is not supported.")
        try:
            start_text, end_text = (query.get("timespan") or "").split("/")
            start = datetime.fromisoformat(start_text.replace("Z", "+00:00"))
            end = datetime.fromisoformat(end_text.replace("Z", "+00:00"))
        except ValueError:
            return arm_error(400, "BadRequest", "Invalid timespan.")
        minutes = [
            start.replace(second=0) + timedelta(minutes=n) for n in range(int((end - start).total_seconds() // 60))
        ]
        value = []
        for metric in names:
            series = []
            for name, _, requests, tokens in found[3]:
                pct, _ = sim.window(f"azureopenai:{who}:{found[0]}:{name}", 3600, high=85)
                data = []
                for n, minute in enumerate(minutes):
                    load = pct / 100 * (1.0 if n == len(minutes) - 4 else 0.4)  # metrics lag: the peak is older
                    if metric == "AzureOpenAIRequests":
                        total = round(requests * 6 * load)
                    else:
                        total = round(tokens * load * (0.8 if metric == "ProcessedPromptTokens" else 0.2))
                    data.append({"timeStamp": iso(minute), "total": total})
                metadata = [
                    {"name": {"value": "modeldeploymentname", "localizedValue": "ModelDeploymentName"}, "value": name}
                ]
                series.append({"metadatavalues": metadata, "data": data})
            value.append(
                {
                    "id": f"{request.url.path}/{metric}",
                    "type": "Microsoft.Insights/metrics",
                    "name": {"value": metric, "localizedValue": metric},
                    "unit": "Count",
                    "timeseries": series,
                }
            )
        return JSONResponse({"cost": 0, "timespan": query.get("timespan"), "interval": "PT1M", "value": value})

    async def usages(request: Request) -> Response:
        who = caller(request)
        if isinstance(who, Response):
            return who
        location = request.path_params["location"]
        lines: dict[str, int] = {}
        for _, _, where, deployed in ACCOUNTS:
            if where == location:
                for _, model, _, tokens in deployed:
                    key = f"OpenAI.GlobalStandard.{model}"
                    lines[key] = lines.get(key, 0) + tokens // 1000
        value = [
            {"name": {"value": "AccountCount", "localizedValue": "Cognitive Services total account limit"},
             "currentValue": 2, "limit": 200, "unit": "Count"},
        ]  # fmt: skip
        for key, assigned in lines.items():
            model = key.rsplit(".", 1)[1]
            value.append(
                {
                    "name": {
                        "value": key,
                        "localizedValue": f"Tokens Per Minute (thousands) - {model} - GlobalStandard",
                    },
                    "currentValue": assigned,
                    "limit": 450,
                    "unit": "Count",
                }
            )
        unused = {
            "value": "OpenAI.Standard.gpt-35-turbo",
            "localizedValue": "Tokens Per Minute (thousands) - GPT-35-Turbo",
        }
        value.append({"name": unused, "currentValue": 0, "limit": 240, "unit": "Count"})
        return JSONResponse({"value": value})

    async def chat(request: Request) -> Response:
        key = request.headers.get("api-key")
        account = sim.account_of(PROVIDER.id, "api_key", key)
        if account is None:
            return JSONResponse(
                {
                    "error": {
                        "code": "401",
                        "message": "Access denied due to invalid subscription key or wrong API endpoint.",
                    }
                },
                status_code=401,
            )
        if not request.query_params.get("api-version"):
            return JSONResponse({"error": {"code": "404", "message": "Resource not found"}}, status_code=404)
        deployment = request.path_params["deployment"]
        known = {name: (requests, tokens) for *_, deployed in ACCOUNTS for name, _, requests, tokens in deployed}
        if deployment not in known:
            return JSONResponse(
                {
                    "error": {
                        "code": "DeploymentNotFound",
                        "message": "The API deployment for this resource does not exist.",
                    }
                },
                status_code=404,
            )
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return JSONResponse({"error": {"code": "BadRequest", "message": "Invalid JSON"}}, status_code=400)
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return JSONResponse({"error": {"code": "BadRequest", "message": "'messages' is required"}}, status_code=400)
        requests, tokens = known[deployment]
        pct, _ = sim.window(f"azureopenai:{account}:{deployment}:live", 60, high=80)
        headers = {
            "x-ratelimit-limit-requests": str(requests),
            "x-ratelimit-remaining-requests": str(round(requests * (1 - pct / 100))),
            "x-ratelimit-reset-requests": "10",
            "x-ratelimit-limit-tokens": str(tokens),
            "x-ratelimit-remaining-tokens": str(round(tokens * (1 - pct / 100))),
            "x-ratelimit-reset-tokens": str(max(1, round(60 * pct / 100))),
        }
        answer = {
            "id": "chatcmpl-sim",
            "object": "chat.completion",
            "model": deployment,
            "choices": [{"index": 0, "finish_reason": "length", "message": {"role": "assistant", "content": "Hi"}}],
            "usage": {"prompt_tokens": 8, "completion_tokens": 1, "total_tokens": 9},
        }
        return JSONResponse(answer, headers=headers)

    account_path = "/subscriptions/{subscription}/resourceGroups/{group}/" + PROVIDER_PATH + "/accounts/{name}"
    return {
        "login_url": [Route("/{tenant}/oauth2/v2.0/token", token, methods=["POST"])],
        "url": [
            Route(f"/subscriptions/{{subscription}}/{PROVIDER_PATH}/accounts", accounts, methods=["GET"]),
            Route(account_path, one_account, methods=["GET"]),
            Route(account_path + "/deployments", deployments, methods=["GET"]),
            Route(account_path + "/providers/Microsoft.Insights/metrics", metrics, methods=["GET"]),
            Route(
                f"/subscriptions/{{subscription}}/{PROVIDER_PATH}/locations/{{location}}/usages",
                usages,
                methods=["GET"],
            ),
        ],
        "endpoint": [Route("/openai/deployments/{deployment}/chat/completions", chat, methods=["POST"])],
    }


def demo_settings(sim_url: str, workdir: Any) -> dict[str, str]:
    """The demo subscription, and the opt-in rate-limit call to one deployment (free against the simulator)."""
    return {"subscription": SUBSCRIPTION, "probe": "on", "deployment": "gpt-4o"}
