"""Where the web surface's static files live, and reading one of its pages; below both the app and the
routes that serve a page of their own (sign-in's settings page), so neither has to import the other."""

from __future__ import annotations

from importlib import resources

STATIC = resources.files("agentgauge.web").joinpath("static")


def static_page(name: str) -> bytes:
    """The bytes of one file under ``static/`` (an HTML page the routes then fill in)."""
    return STATIC.joinpath(name).read_bytes()
