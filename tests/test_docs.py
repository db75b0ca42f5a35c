"""Documentation cannot drift from the code: every setting and every route is described."""

from __future__ import annotations

from pathlib import Path

from agentgauge.config import GLOBAL_KEYS
from agentgauge.web.openapi import document

ROOT = Path(__file__).resolve().parents[1]


def test_every_global_setting_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for key in GLOBAL_KEYS:
        assert f"`{key}`" in readme, key
        assert f"AGENTGAUGE_{key.upper()}" in readme, key


def test_every_api_route_is_documented():
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    for path in document()["paths"]:
        assert f"`GET {path}`" in text or f"`POST {path}`" in text or path in text, path


def test_readme_starts_with_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_blocks = readme.split("```sh")[1:3]
    assert "agentgauge serve --demo" in first_blocks[0] and "[dev]" not in first_blocks[0]  # the product alone
    assert "scripts/test" in first_blocks[1]
