"""`agentgauge doctor --bundle PROVIDER`: a redacted fixture for bug reports that never holds a secret,
even when the upstream echoes the credential (or parts of it) back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agentgauge.cli.commands import cli
from tests.harness import add_fault

KEY_ID, KEY_SECRET = "SENTINELID8d1f", "SENTINELSECRETc41a9"
KEY = f"{KEY_ID}.{KEY_SECRET}"


def run_bundle(sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, dict[str, Any], str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AGENTGAUGE_ZAI_API_KEY", KEY)
    monkeypatch.setenv("AGENTGAUGE_ZAI_URL", f"{sim.url}/zai/url")
    monkeypatch.setenv("AGENTGAUGE_DATABASE_URL", str(tmp_path / "b.db"))
    monkeypatch.setenv("AGENTGAUGE_BROWSER", "off")
    result = CliRunner().invoke(cli, ["doctor", "--bundle", "zai"])
    files = list(tmp_path.glob("agentgauge-bundle-zai-default-*.json"))
    text = files[0].read_text() if files else ""
    return result, json.loads(text) if text else {}, text


def assert_no_secret(text: str) -> None:
    for fragment in (KEY, KEY_ID, KEY_SECRET):
        assert fragment not in text


def echoing_payload() -> str:
    return json.dumps(
        {
            "code": 200,
            "success": True,
            "data": {
                "planName": "Pro",
                "debug": f"key {KEY} id {KEY_ID}",
                "token": "tok-abc",
                "limits": [
                    {
                        "type": "TOKENS_LIMIT",
                        "unit": 3,
                        "number": 5,
                        "percentage": 12,
                        "nextResetTime": 1785816000000,
                        "note": f"caller {KEY_ID}",
                    }
                ],
            },
        }
    )


def test_bundle_of_a_good_answer_keeps_the_shape_and_masks_every_echo(sim, tmp_path, monkeypatch):
    add_fault(sim, "/zai/", "body", body=echoing_payload())
    result, data, text = run_bundle(sim, tmp_path, monkeypatch)
    assert result.exit_code == 0, result.output
    assert data["schema"] == "agentgauge.bundle.v1" and data["provider"] == "zai" and data["fetched"] is True
    assert data["raw"]["quota"]["data"]["limits"][0]["percentage"] == 12  # the shape survives for a fixture
    assert data["raw"]["quota"]["data"]["token"] == "***"  # secret-looking keys masked
    assert data["parsed"]["windows"][0]["id"] == "session" and data["error"] is None
    assert_no_secret(text)
    assert_no_secret(result.output)


def test_bundle_of_a_drifted_answer_carries_the_parse_error(sim, tmp_path, monkeypatch):
    body = json.dumps({"code": 200, "success": True, "data": {"limits": "not-a-list", "echo": KEY}})
    add_fault(sim, "/zai/", "body", body=body)
    result, data, text = run_bundle(sim, tmp_path, monkeypatch)
    assert result.exit_code == 0, result.output
    assert data["parsed"] is None and data["error"]["kind"] == "parse"
    assert data["raw"]["quota"]["data"]["limits"] == "not-a-list"
    assert_no_secret(text)


def test_bundle_of_an_unknown_provider_names_the_known_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["doctor", "--bundle", "cluade"])
    assert result.exit_code != 0
    assert "claude" in str(result.exception) + result.output
