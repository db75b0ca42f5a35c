"""The OpenAPI paths and schemas of the analytics endpoints (``web/analytics.py``), merged into the
document ``web/openapi.py`` serves."""

from __future__ import annotations

from typing import Any

TIME = {"type": "string", "format": "date-time"}
TIME_OR_NULL = {**TIME, "nullable": True}
NUMBER_OR_NULL = {"type": "number", "nullable": True}
ERROR = {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}
NAMED = {
    "provider": {"type": "string"},
    "account": {"type": "string"},
    "name": {"type": "string", "description": "The provider's display name"},
    "window": {"type": "string"},
    "label": {"type": "string", "description": "The window's label"},
}
CYCLE = {
    "type": "object",
    "required": [*NAMED, "started_at", "resets_at", "ended", "peak_pct", "hit_100_at", "blocked_seconds"],
    "properties": {
        **NAMED,
        "started_at": TIME,
        "resets_at": TIME,
        "ended": {"type": "boolean", "description": "The reset has passed (or a new cycle began)"},
        "peak_pct": {"type": "number"},
        "last_pct": {"type": "number", "description": "The last value recorded in the cycle"},
        "hit_100_at": {**TIME_OR_NULL, "description": "When it first reached 100 %"},
        "blocked_seconds": {"type": "integer", "description": "Time spent at 100 % (between samples)"},
        "unused_pct_at_reset": {**NUMBER_OR_NULL, "description": "100 - the last value; null while running"},
        "samples": {"type": "integer"},
    },
}
TALLY = {
    "closed_cycles": {"type": "integer", "description": "Closed cycles with at least one tested forecast"},
    "forecasts": {"type": "integer"},
    "held": {"type": "integer", "description": "Forecasts whose 80 % interval held the outcome"},
    "coverage": {**NUMBER_OR_NULL, "description": "Mean over the cycles of each one's share of forecasts that held"},
    "forecast_coverage": {**NUMBER_OR_NULL, "description": "held / forecasts"},
}
SCHEMAS: dict[str, Any] = {
    "Cycle": CYCLE,
    "Cycles": {
        "type": "object",
        "required": ["generated_at", "since", "until", "cycles"],
        "properties": {
            "generated_at": TIME,
            "since": TIME,
            "until": TIME,
            "cycles": {"type": "array", "items": {"$ref": "#/components/schemas/Cycle"}},
        },
    },
    "ForecastAccuracy": {
        "type": "object",
        "required": ["generated_at", "since", "until", "interval", "windows", "overall"],
        "properties": {
            "generated_at": TIME,
            "since": TIME,
            "until": TIME,
            "interval": {"type": "number", "description": "The interval tested: 0.8 (p10-p90)"},
            "windows": {
                "type": "array",
                "items": {"type": "object", "properties": {**NAMED, **TALLY}},
            },
            "overall": {"type": "object", "properties": TALLY},
        },
    },
    "TightestUsage": {
        "type": "object",
        "required": ["days", "since", "until", "resolution", "series"],
        "properties": {
            "days": {"type": "integer"},
            "since": TIME,
            "until": TIME,
            "resolution": {"type": "string", "enum": ["raw", "hourly", "daily"]},
            "series": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": [*NAMED, "t", "used_pct"],
                    "properties": {
                        **NAMED,
                        "t": {"type": "array", "items": {"type": "integer"}},
                        "used_pct": {"type": "array", "items": {"type": "number"}},
                    },
                },
            },
        },
    },
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _q(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def paths() -> dict[str, Any]:
    time_param = {"type": "string", "description": "ISO-8601 time or epoch seconds"}
    selection = [
        _q("provider", {"type": "string"}, "Only this provider (repeatable)"),
        _q("account", {"type": "string"}, "Only this account"),
        _q("window", {"type": "string"}, "Only this window id"),
        _q("since", time_param, "Start (default: 30 days before until)"),
        _q("until", time_param, "End (default: now)"),
    ]
    errors = {"400": _json(ERROR, "Bad parameter"), "404": _json(ERROR, "No account of that provider")}
    return {
        "/api/cycles": {
            "get": {
                "summary": "The reset-cycle ledger: one row per cycle of each window (peak, hit 100 %, unused share)",
                "description": "Cycles that overlap [since, until], oldest reset first (docs/forecast.md).",
                "operationId": "getCycles",
                "parameters": selection,
                "responses": {"200": _json({"$ref": "#/components/schemas/Cycles"}, "The ledger"), **errors},
            }
        },
        "/api/forecast/accuracy": {
            "get": {
                "summary": "How often the forecasts' 80 % interval held how each window's closed cycles ended",
                "operationId": "getForecastAccuracy",
                "parameters": selection,
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/ForecastAccuracy"}, "Accuracy per window"),
                    **errors,
                },
            }
        },
        "/api/analytics/usage": {
            "get": {
                "summary": "Each account's tightest window over the last `days` (the analytics page's chart)",
                "operationId": "getTightestUsage",
                "parameters": [
                    _q("days", {"type": "integer", "minimum": 1, "maximum": 366}, "Days back from now (default 30)"),
                    _q("points", {"type": "integer", "minimum": 2, "maximum": 2000}, "Most values per account"),
                ],
                "responses": {
                    "200": _json({"$ref": "#/components/schemas/TightestUsage"}, "One series per account"),
                    "400": _json(ERROR, "Bad parameter"),
                },
            }
        },
    }
