"""The OpenAPI document served at ``/api/openapi.json``; schemas come from the snapshot models."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .. import __version__
from ..models import ProviderSnapshot, Snapshot
from . import openapi_analytics
from .api import MAX_PICK_HOURS

REF = "#/components/schemas/{model}"


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERROR = {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}
SNAP = {"$ref": "#/components/schemas/Snapshot"}
SEED = {"$ref": "#/components/schemas/SeedData"}
AIMO = {"$ref": "#/components/schemas/AimoUsage"}
ANY_FORMAT = {"oneOf": [SNAP, AIMO, SEED]}


def _nullable(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "nullable": True, **extra}


# The seed views (query/views.py; docs/api.md says which window each field comes from).
NUMBER = _nullable("number")
TIME = _nullable("string", format="date-time")
SEED_WINDOW = {
    "type": "object",
    "required": ["usage_pct", "remaining_seconds", "reset_at"],
    "properties": {
        "usage_pct": {"type": "number"},
        "remaining_seconds": _nullable("integer", minimum=0),
        "reset_at": TIME,
        "used": {"type": "number"},
        "limit": {"type": "number"},
    },
}
SEED_ACCOUNT = {
    "type": "object",
    "required": ["status", "plan", "error", "last_success"],
    "properties": {
        "status": {"type": "string", "enum": ["ok", "stale", "error", "offline"]},
        "plan": _nullable("string"),
        "error": _nullable("string"),
        "last_success": TIME,
        "session": {"$ref": "#/components/schemas/SeedWindow"},
        "weekly": {"$ref": "#/components/schemas/SeedWindow"},
        "models": {"type": "object", "properties": {"sonnet": NUMBER, "opus": NUMBER}},
        "credits": {
            "type": "object",
            "required": ["balance", "has_credits", "unlimited"],
            "properties": {"balance": NUMBER, "has_credits": {"type": "boolean"}, "unlimited": {"type": "boolean"}},
        },
        "daily_breakdown": {
            "type": "array",
            "maxItems": 14,
            "items": {
                "type": "object",
                "required": ["date", "value"],
                "properties": {"date": {"type": "string"}, "value": {"type": "number"}},
            },
        },
        "limits_detail": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "used", "total"],
                "properties": {"name": {"type": "string"}, "used": {"type": "number"}, "total": NUMBER},
            },
        },
    },
}
SEED_DATA = {
    "type": "object",
    "description": "One key per account (`provider`, or `provider:account`), plus `last_fetch` and `next_refresh_at`",
    "required": ["last_fetch", "next_refresh_at"],
    "properties": {"last_fetch": TIME, "next_refresh_at": TIME},
    "additionalProperties": {"$ref": "#/components/schemas/SeedAccount"},
}
AIMO_WINDOW = {
    "type": "object",
    "required": ["id", "label", "used_pct", "resets_at"],
    "properties": {
        "id": {"type": "string"},
        "label": {"type": "string"},
        "used_pct": {"type": "number"},
        "resets_at": TIME,
        "usage": {"type": "number"},
        "remaining": {"type": "number", "minimum": 0},
    },
}
AIMO_ACCOUNT = {
    "type": "object",
    "required": ["provider", "account", "ok", "plan", "error", "windows", "_source", "_received_at"],
    "properties": {
        "provider": {"type": "string"},
        "account": {"type": "string"},
        "ok": {"type": "boolean"},
        "plan": _nullable("string"),
        "error": _nullable("string"),
        "windows": {"type": "array", "items": {"$ref": "#/components/schemas/AimoWindow"}},
        "_source": {"type": "string", "enum": ["server", "cache"]},
        "_received_at": TIME,
    },
}
HEADROOM = {
    "type": "object",
    "required": ["provider", "account", "status", "window", "used_pct", "headroom_pct", "resets_at", "lasts"],
    "properties": {
        "provider": {"type": "string"},
        "account": {"type": "string"},
        "name": {"type": "string"},
        "status": {"type": "string", "enum": ["ok", "stale"]},
        "window": {"type": "string", "description": "The tightest window (most used; unlimited ones never count)"},
        "window_label": {"type": "string"},
        "used_pct": {"type": "number"},
        "headroom_pct": {"type": "number", "minimum": 0, "maximum": 100},
        "resets_at": TIME,
        "fetched_at": TIME,
        "verdict": _nullable("string", description="The tightest window's forecast verdict"),
        "runs_out_at": TIME,
        "lasts": _nullable("boolean", description="With `hours`: every window lasts that long (or resets first)"),
    },
}
PICK = {
    "type": "object",
    "required": ["generated_at", "hours", "choice", "ranked", "excluded"],
    "properties": {
        "generated_at": {"type": "string", "format": "date-time"},
        "hours": NUMBER,
        "choice": {"allOf": [{"$ref": "#/components/schemas/Headroom"}], "nullable": True},
        "ranked": {"type": "array", "items": {"$ref": "#/components/schemas/Headroom"}},
        "excluded": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["provider", "account", "reason"],
                "properties": {
                    "provider": {"type": "string"},
                    "account": {"type": "string"},
                    "reason": {"type": "string"},
                },
            },
        },
    },
}
VIEW_SCHEMAS = {
    "Headroom": HEADROOM,
    "Pick": PICK,
    "SeedWindow": SEED_WINDOW,
    "SeedAccount": SEED_ACCOUNT,
    "SeedData": SEED_DATA,
    "AimoWindow": AIMO_WINDOW,
    "AimoAccount": AIMO_ACCOUNT,
    "AimoUsage": {"type": "array", "items": {"$ref": "#/components/schemas/AimoAccount"}},
}


def _q(name: str, schema: dict[str, Any], description: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


@cache
def document() -> dict[str, Any]:
    _, defs = models_json_schema(
        [(Snapshot, "serialization"), (ProviderSnapshot, "serialization")], ref_template=REF, by_alias=True
    )
    schemas = {**defs["$defs"], **VIEW_SCHEMAS, **openapi_analytics.SCHEMAS}
    history = {
        "type": "object",
        "required": ["provider", "account", "since", "until", "resolution", "series"],
        "properties": {
            "provider": {"type": "string"},
            "account": {"type": "string"},
            "since": {"type": "string", "format": "date-time"},
            "until": {"type": "string", "format": "date-time"},
            "resolution": {"type": "string", "enum": ["raw", "hourly", "daily"]},
            "series": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["window", "t", "used_pct"],
                    "properties": {
                        "window": {"type": "string"},
                        "label": {"type": "string"},
                        "t": {"type": "array", "items": {"type": "integer"}},
                        "used_pct": {"type": "array", "items": {"type": "number"}},
                    },
                },
            },
        },
    }
    time_param = {"type": "string", "description": "ISO-8601 time or epoch seconds"}
    formats = {"type": "string", "enum": ["snapshot", "aimo", "data"]}
    format_param = _q(
        "format", formats, "`snapshot` (agentgauge's own), `aimo` (seed 003's array) or `data` (seed 000's object)"
    )
    refresh_params = [
        _q("provider", {"type": "string"}, "Only this provider"),
        _q("account", {"type": "string"}, "Only this account"),
        _q("wait", {"type": "number"}, "Seconds to wait for fresh data (long-poll), clamped to 0-75"),
    ]
    refresh_responses = {
        "200": _json(ANY_FORMAT, "Accounts after the refresh (or after waiting)"),
        "202": _json(ANY_FORMAT, "Refresh started; the current accounts"),
        "400": _json(ERROR, "Bad parameter"),
        "404": _json(ERROR, "No such provider/account"),
    }
    paths = {
        "/api/usage": {
            "get": {
                "summary": "The snapshot of every account (or one of the seed views)",
                "operationId": "getUsage",
                "parameters": [format_param],
                "responses": {"200": _json(ANY_FORMAT, "The snapshot"), "400": _json(ERROR, "Unknown format")},
            }
        },
        "/api/usage/{provider}": {
            "get": {
                "summary": "The snapshot of one provider's accounts",
                "operationId": "getProviderUsage",
                "parameters": [
                    {"name": "provider", "in": "path", "required": True, "schema": {"type": "string"}},
                    format_param,
                ],
                "responses": {
                    "200": _json(ANY_FORMAT, "The provider's accounts"),
                    "400": _json(ERROR, "Unknown format"),
                    "404": _json(ERROR, "Unknown provider"),
                },
            }
        },
        "/api/refresh": {
            "post": {
                "summary": "Refresh accounts (gated by each provider's minimum interval and Retry-After)",
                "description": "Answers the snapshot unless `format` asks for another shape; waits only when asked.",
                "operationId": "refresh",
                "parameters": [*refresh_params, format_param],
                "responses": refresh_responses,
            },
            "get": {
                "summary": "Refresh accounts and answer seed 000's /api/data shape (its page's refresh button)",
                "description": "Waits for the refresh by default (`wait` 75); `format` picks another shape.",
                "operationId": "refreshSeed",
                "parameters": [*refresh_params, format_param],
                "responses": refresh_responses,
            },
        },
        "/api/history": {
            "get": {
                "summary": "Window history, downsampled to at most `points` values per window",
                "operationId": "getHistory",
                "parameters": [
                    _q("provider", {"type": "string"}, "Provider id", required=True),
                    _q("account", {"type": "string"}, "Account (default: default)"),
                    _q("window", {"type": "string"}, "One window id (default: all of the account's windows)"),
                    _q("since", time_param, "Start (default: 24 h before until)"),
                    _q("until", time_param, "End (default: now)"),
                    _q("points", {"type": "integer", "minimum": 2, "maximum": 5000}, "Most values per window"),
                ],
                "responses": {
                    "200": _json(history, "History"),
                    "400": _json(ERROR, "Bad parameter"),
                    "404": _json(ERROR, "No such account"),
                },
            }
        },
        "/api/events": {
            "get": {
                "summary": "Server-Sent Events: `snapshot` first, then `account` per change",
                "operationId": "events",
                "responses": {
                    "200": {
                        "description": "text/event-stream",
                        "content": {"text/event-stream": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/api/ping": {
            "get": {
                "summary": "Liveness",
                "operationId": "ping",
                "responses": {"200": _json({"type": "object"}, "Alive")},
            }
        },
        "/api/health": {
            "get": {
                "summary": "Per-account status",
                "operationId": "health",
                "responses": {"200": _json({"type": "object"}, "Health")},
            }
        },
        "/api/data": {
            "get": {
                "summary": "Seed-compatible shape (AgentsUsageDashboard /api/data)",
                "operationId": "seedData",
                "responses": {"200": _json(SEED, "Data")},
            }
        },
        "/api/cost": {
            "get": {
                "summary": "Estimated cost today / 7 days / 30 days per agent and model (local logs)",
                "description": "With `days`, also `spend`: the daily cost per agent (or agent/model with "
                "`group=model`) over the last `days` local days, the top models and each agent's monthly "
                "budget with its forecast (docs/cost.md).",
                "operationId": "getCost",
                "parameters": [
                    _q("days", {"type": "integer", "minimum": 1, "maximum": 366}, "Add the spend view over these days"),
                    _q("group", {"type": "string", "enum": ["agent", "model"]}, "Series per agent or per model"),
                ],
                "responses": {
                    "200": _json({"type": "object"}, "Cost summary"),
                    "400": _json(ERROR, "Bad parameter"),
                    "503": _json(ERROR, "Index unavailable"),
                },
            }
        },
        "/api/pick": {
            "get": {
                "summary": "Accounts ranked by headroom on their tightest window (the one to route work to first)",
                "description": "Stale and failing accounts are listed under `excluded` unless `include_stale`; with "
                "`hours`, accounts whose forecast runs out within that time rank last. Same answer as "
                "`agentgauge pick --json`.",
                "operationId": "pick",
                "parameters": [
                    _q("provider", {"type": "string"}, "Only this provider (repeatable)"),
                    _q(
                        "hours",
                        {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": MAX_PICK_HOURS},
                        "Must last this many hours",
                    ),
                    _q("include_stale", {"type": "boolean"}, "Rank stale accounts too, after the fresh ones"),
                ],
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/Pick"}, "The ranking"),
                    "400": _json(ERROR, "Bad parameter"),
                    "404": _json(ERROR, "No account of that provider"),
                },
            }
        },
        "/api/config": {
            "get": {
                "summary": "Display settings for the dashboard",
                "operationId": "getConfig",
                "responses": {"200": _json({"type": "object"}, "Config")},
            }
        },
        **openapi_analytics.paths(),
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "agentgauge",
            "version": __version__,
            "description": "Usage limits of AI coding agents: one snapshot, its history and live updates.",
        },
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


async def endpoint(request: Request) -> Response:
    return JSONResponse(document())
