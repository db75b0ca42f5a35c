"""The OpenAPI document served at ``/api/openapi.json``; schemas come from the snapshot models."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .. import __version__
from ..models import ProviderSnapshot, Snapshot

REF = "#/components/schemas/{model}"


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERROR = {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}
SNAP = {"$ref": "#/components/schemas/Snapshot"}


def _q(name: str, schema: dict[str, Any], description: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


@cache
def document() -> dict[str, Any]:
    _, defs = models_json_schema([(Snapshot, "serialization"), (ProviderSnapshot, "serialization")],
                                 ref_template=REF, by_alias=True)
    schemas = defs["$defs"]
    history = {
        "type": "object",
        "required": ["provider", "account", "since", "until", "resolution", "series"],
        "properties": {
            "provider": {"type": "string"}, "account": {"type": "string"},
            "since": {"type": "string", "format": "date-time"}, "until": {"type": "string", "format": "date-time"},
            "resolution": {"type": "string", "enum": ["raw", "hourly", "daily"]},
            "series": {"type": "array", "items": {"type": "object", "required": ["window", "t", "used_pct"],
                                                  "properties": {
                                                      "window": {"type": "string"}, "label": {"type": "string"},
                                                      "t": {"type": "array", "items": {"type": "integer"}},
                                                      "used_pct": {"type": "array", "items": {"type": "number"}}}}},
        },
    }
    time_param = {"type": "string", "description": "ISO-8601 time or epoch seconds"}
    paths = {
        "/api/usage": {"get": {"summary": "The snapshot of every account", "operationId": "getUsage",
                               "responses": {"200": _json(SNAP, "The snapshot")}}},
        "/api/usage/{provider}": {"get": {
            "summary": "The snapshot of one provider's accounts", "operationId": "getProviderUsage",
            "parameters": [{"name": "provider", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": _json(SNAP, "The provider's accounts"), "404": _json(ERROR, "Unknown provider")}}},
        "/api/refresh": {"post": {
            "summary": "Refresh accounts (gated by each provider's minimum interval and Retry-After)",
            "operationId": "refresh",
            "parameters": [
                _q("provider", {"type": "string"}, "Only this provider"),
                _q("account", {"type": "string"}, "Only this account"),
                _q("wait", {"type": "number", "minimum": 0, "maximum": 75},
                   "Seconds to wait for fresh data (long-poll)"),
            ],
            "responses": {"200": _json(SNAP, "Snapshot after the refresh (or after waiting)"),
                          "202": _json(SNAP, "Refresh started; the current snapshot"),
                          "400": _json(ERROR, "Bad parameter"), "404": _json(ERROR, "No such provider/account")}}},
        "/api/history": {"get": {
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
            "responses": {"200": _json(history, "History"), "400": _json(ERROR, "Bad parameter"),
                          "404": _json(ERROR, "No such account")}}},
        "/api/events": {"get": {"summary": "Server-Sent Events: `snapshot` first, then `account` per change",
                                "operationId": "events",
                                "responses": {"200": {
                                    "description": "text/event-stream",
                                    "content": {"text/event-stream": {"schema": {"type": "string"}}}}}}},
        "/api/ping": {"get": {"summary": "Liveness", "operationId": "ping",
                              "responses": {"200": _json({"type": "object"}, "Alive")}}},
        "/api/health": {"get": {"summary": "Per-account status", "operationId": "health",
                                "responses": {"200": _json({"type": "object"}, "Health")}}},
        "/api/data": {"get": {"summary": "Seed-compatible shape (AgentsUsageDashboard /api/data)",
                              "operationId": "seedData", "responses": {"200": _json({"type": "object"}, "Data")}}},
        "/api/cost": {"get": {"summary": "Estimated cost today / 7 days / 30 days per agent and model (local logs)",
                              "operationId": "getCost",
                              "responses": {"200": _json({"type": "object"}, "Cost summary"),
                                            "503": _json(ERROR, "Index unavailable")}}},
        "/api/config": {"get": {"summary": "Display settings for the dashboard", "operationId": "getConfig",
                                "responses": {"200": _json({"type": "object"}, "Config")}}},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "agentgauge", "version": __version__,
                 "description": "Usage limits of AI coding agents: one snapshot, its history and live updates."},
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


async def endpoint(request: Request) -> Response:
    return JSONResponse(document())
