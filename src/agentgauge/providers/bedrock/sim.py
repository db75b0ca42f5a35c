"""The simulator's bedrock endpoints: Service Quotas, CloudWatch and Bedrock's model list, each
verifying the request's SigV4 signature for real (loaded only by the simulator).

The signature is recomputed with botocore from the headers the request lists in ``SignedHeaders``,
the body as received and the time in ``X-Amz-Date``: a wrong secret, a changed body, a credential
scoped to another service or a date more than 15 minutes off is refused as AWS refuses it
(``InvalidSignatureException``, ``UnrecognizedClientException``, ``SignatureDoesNotMatch``). Each
service also checks its protocol: Service Quotas AWS JSON 1.1 with ``X-Amz-Target
ServiceQuotasV20190624.*`` and ``ServiceCode``; CloudWatch AWS JSON 1.0 with
``GraniteServiceVersion20100801.GetMetricData``, ``x-amzn-query-mode`` and ``SEARCH`` expressions over
``{AWS/Bedrock,ModelId}``; Bedrock a REST GET. Lists come a few entries per page with ``NextToken``.
Demo account ``noperms`` may not list foundation models (``AccessDeniedException``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..simkit import SimContext
from . import CLOUDWATCH_TARGET, PROVIDER, SERVICE_QUOTAS_TARGET

_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request, "
    r"SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})$"
)
_SEARCH = re.compile(
    r"""^SEARCH\('\{AWS/Bedrock,ModelId\} MetricName="(?P<metric>\w+)"', '(?P<stat>\w+)', (?P<period>\d+)\)$"""
)
QUOTA_PAGE = 3
SONNET = ("anthropic.claude-3-5-sonnet-20241022-v2:0", "Anthropic", "Claude 3.5 Sonnet v2")
NOVA = ("amazon.nova-lite-v1:0", "Amazon", "Nova Lite")
LLAMA = ("meta.llama3-1-70b-instruct-v1:0", "Meta", "Llama 3.1 70B Instruct")
# (code, name, value, period unit, in the applied list too)
QUOTAS = (
    (
        "L-79E773B3",
        "On-demand model inference tokens per minute for Anthropic Claude 3.5 Sonnet V2",
        400000.0,
        "MINUTE",
        True,
    ),
    (
        "L-254CACF4",
        "On-demand model inference requests per minute for Anthropic Claude 3.5 Sonnet V2",
        250.0,
        "MINUTE",
        True,
    ),
    (
        "L-479B647C",
        "Cross-region model inference tokens per minute for Anthropic Claude 3.5 Sonnet V2",
        800000.0,
        "MINUTE",
        True,
    ),
    (
        "L-D1A7E8B2",
        "Cross-region model inference requests per minute for Anthropic Claude 3.5 Sonnet V2",
        500.0,
        "MINUTE",
        True,
    ),
    (
        "L-5B4C2D8A",
        "Model invocation max tokens per day for Anthropic Claude 3.5 Sonnet V2 (doubled for cross-region calls)",
        720000000.0,
        "DAY",
        True,
    ),
    ("L-A2B4C6D8", "On-demand model inference tokens per minute for Amazon Nova Lite", 2000000.0, "MINUTE", False),
    ("L-B3C5D7E9", "On-demand model inference requests per minute for Amazon Nova Lite", 2000.0, "MINUTE", False),
    ("L-C4D6E8F0", "Batch inference job size (in GB) for Amazon Nova Lite", 5.0, None, False),
    (
        "L-D5E7F9A1",
        "On-demand model inference tokens per minute for Meta Llama 3.1 70B Instruct",
        300000.0,
        "MINUTE",
        False,
    ),
)
# model id in CloudWatch -> (tokens per minute, requests per minute) at 100 % of its curve
USE = {
    SONNET[0]: (300000, 200),
    f"us.{SONNET[0]}": (500000, 300),
    NOVA[0]: (600000, 900),
}


def aws_error(status: int, code: str, message: str, *, query: bool = False) -> Response:
    headers = {"x-amzn-query-error": f"{code};Sender"} if query else {}
    return JSONResponse({"__type": code, "message": message}, status_code=status, headers=headers,
                        media_type="application/x-amz-json-1.1")  # fmt: skip


def verify(sim: SimContext, request: Request, body: bytes, service: str) -> str | Response:
    """The demo account of a correctly signed request, or AWS's refusal."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    found = _AUTH.match(request.headers.get("authorization", ""))
    if found is None:
        return aws_error(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
    account = sim.account_of(PROVIDER.id, "access_key_id", found["key"])
    if account is None:
        return aws_error(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
    if found["service"] != service:
        return aws_error(
            403, "InvalidSignatureException", f"Credential should be scoped to correct service: '{service}'."
        )
    stamp = request.headers.get("x-amz-date", "")
    try:
        when = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return aws_error(403, "IncompleteSignatureException", "X-Amz-Date is missing or malformed.")
    if stamp[:8] != found["date"] or abs((datetime.now(UTC) - when).total_seconds()) > 900:
        return aws_error(403, "InvalidSignatureException", "Signature expired or not yet valid.")
    signed = found["signed"].split(";")
    if "host" not in signed or "x-amz-date" not in signed or any(h not in request.headers for h in signed):
        return aws_error(403, "IncompleteSignatureException", "Signed headers are missing from the request.")
    rebuilt = AWSRequest(
        method=request.method, url=str(request.url), data=body, headers={h: request.headers[h] for h in signed}
    )
    rebuilt.context["timestamp"] = stamp
    secret = sim.credential(PROVIDER.id, "secret_access_key")
    signer = SigV4Auth(Credentials(found["key"], secret, request.headers.get("x-amz-security-token")), service,
                       found["region"])  # fmt: skip
    expected = signer.signature(signer.string_to_sign(rebuilt, signer.canonical_request(rebuilt)), rebuilt)
    if expected != found["signature"]:
        return aws_error(
            403,
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided.",
        )
    return account


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    async def service_quotas(request: Request) -> Response:
        body = await request.body()
        account = verify(sim, request, body, "servicequotas")
        if isinstance(account, Response):
            return account
        if request.headers.get("content-type") != "application/x-amz-json-1.1":
            return aws_error(400, "SerializationException", "Unexpected content type.")
        target = request.headers.get("x-amz-target", "")
        operation = target.removeprefix(f"{SERVICE_QUOTAS_TARGET}.")
        if operation not in ("ListServiceQuotas", "ListAWSDefaultServiceQuotas"):
            return aws_error(400, "UnknownOperationException", "Unknown operation.")
        payload = orjson.loads(body or b"{}")
        if payload.get("ServiceCode") != "bedrock":
            return aws_error(400, "NoSuchResourceException", "The service code is not known here.")
        applied = operation == "ListServiceQuotas"
        listed = [q for q in QUOTAS if q[4] or not applied]
        offset = int(payload.get("NextToken") or 0)
        size = min(int(payload.get("MaxResults") or 100), QUOTA_PAGE)
        page = listed[offset : offset + size]
        quotas = []
        for code, name, value, unit, _ in page:
            entry: dict[str, Any] = {
                "ServiceCode": "bedrock",
                "ServiceName": "Amazon Bedrock",
                "QuotaArn": f"arn:aws:servicequotas:us-east-1:000000000000:bedrock/{code}",
                "QuotaCode": code,
                "QuotaName": name,
                "Value": value * (1.5 if applied and "tokens per minute" in name else 1.0),
                "Unit": "None",
                "Adjustable": True,
                "GlobalQuota": False,
            }
            if unit:
                entry["Period"] = {"PeriodValue": 1, "PeriodUnit": unit}
            quotas.append(entry)
        answer: dict[str, Any] = {"Quotas": quotas}
        if offset + size < len(listed):
            answer["NextToken"] = str(offset + size)
        return JSONResponse(answer, media_type="application/x-amz-json-1.1")

    async def cloudwatch(request: Request) -> Response:
        body = await request.body()
        account = verify(sim, request, body, "monitoring")
        if isinstance(account, Response):
            return account
        if request.headers.get("content-type") != "application/x-amz-json-1.0":
            return aws_error(400, "SerializationException", "Unexpected content type.", query=True)
        if (
            request.headers.get("x-amz-target") != CLOUDWATCH_TARGET
            or request.headers.get("x-amzn-query-mode") != "true"
        ):
            return aws_error(400, "UnknownOperationException", "Unknown operation.", query=True)
        payload = orjson.loads(body or b"{}")
        start, end = payload.get("StartTime"), payload.get("EndTime")
        if not isinstance(start, int | float) or not isinstance(end, int | float) or end <= start:
            return aws_error(400, "InvalidParameterValue", "StartTime must be before EndTime.", query=True)
        results = []
        for query in payload.get("MetricDataQueries") or []:
            found = _SEARCH.match(str(query.get("Expression") or ""))
            if found is None or query.get("Label") != "${PROP('Dim.ModelId')}":
                return aws_error(400, "InvalidParameterValue", "Unsupported query.", query=True)
            period = int(found["period"])
            if period % 60:
                return aws_error(400, "InvalidParameterValue", "The period must be a multiple of 60.", query=True)
            metric = found["metric"]
            for model, (tokens, requests) in USE.items():
                if metric == "EstimatedTPMQuotaUsage" and model != SONNET[0]:
                    continue  # the newer metric, published for some models only
                pct, _ = sim.window(f"bedrock:{account}:{model}", 3600, high=80)
                steps = max(1, int((end - start) // period))
                stamps, values = [], []
                for n in range(steps):  # TimestampDescending: newest first
                    at = int(end) - (n + 1) * period
                    load = pct / 100 * (1.0 if n == 3 else 0.5)
                    per_minute = {"InputTokenCount": tokens * 0.7, "OutputTokenCount": tokens * 0.3,
                                  "EstimatedTPMQuotaUsage": tokens * 1.1, "Invocations": requests}[metric]  # fmt: skip
                    stamps.append(at)
                    values.append(round(per_minute * load * period / 60 * (0.2 if period > 60 else 1)))
                results.append(
                    {
                        "Id": query["Id"],
                        "Label": model,
                        "Timestamps": stamps,
                        "Values": values,
                        "StatusCode": "Complete",
                    }
                )
        return JSONResponse({"MetricDataResults": results, "Messages": []}, media_type="application/x-amz-json-1.0")

    async def foundation_models(request: Request) -> Response:
        account = verify(sim, request, await request.body(), "bedrock")
        if isinstance(account, Response):
            return account
        if account == "noperms":
            return aws_error(
                403, "AccessDeniedException", "User is not authorized to perform bedrock:ListFoundationModels"
            )
        summaries = [
            {
                "modelArn": f"arn:aws:bedrock:us-east-1::foundation-model/{model_id}",
                "modelId": model_id,
                "modelName": name,
                "providerName": provider,
                "inputModalities": ["TEXT"],
                "outputModalities": ["TEXT"],
                "inferenceTypesSupported": ["ON_DEMAND", "INFERENCE_PROFILE"],
                "modelLifecycle": {"status": "ACTIVE"},
            }
            for model_id, provider, name in (SONNET, NOVA, LLAMA)
        ]
        return JSONResponse({"modelSummaries": summaries})

    return {
        "service_quotas_url": [Route("/", service_quotas, methods=["POST"])],
        "cloudwatch_url": [Route("/", cloudwatch, methods=["POST"])],
        "bedrock_url": [Route("/foundation-models", foundation_models, methods=["GET"])],
    }


def demo_settings(sim_url: str, workdir: Any) -> dict[str, str]:
    return {"region": "us-east-1"}
