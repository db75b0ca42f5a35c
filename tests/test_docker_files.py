"""The Dockerfile and compose files, read as text and YAML (no engine needed): what they promise in
docs/deploy.md. tests/docker/run.sh builds and runs them for real."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
LAYOUTS = ("sqlite", "firefox", "postgres")


def compose(layout: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "compose" / f"{layout}.yml").read_text(encoding="utf-8"))
    return data


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    found = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def test_dockerfile_is_multi_stage_non_root_with_a_healthcheck() -> None:
    steps = instructions()
    assert steps[0] == ("ARG", "BASE_IMAGE=python:3.12-slim")  # the official slim image by default
    froms = [args for word, args in steps if word == "FROM"]
    assert froms == ["${BASE_IMAGE} AS build", "${BASE_IMAGE}"]
    final = steps[max(i for i, (word, _) in enumerate(steps) if word == "FROM") :]
    assert ("USER", "agentgauge") in final
    assert any(word == "HEALTHCHECK" and "AGENTGAUGE_HEALTHCHECK_URL" in args for word, args in final)
    assert any(
        word == "ENV" and "AGENTGAUGE_HEALTHCHECK_URL=http://127.0.0.1:8777/api/ping" in args for word, args in final
    )
    assert ("ENTRYPOINT", '["agentgauge"]') in final
    assert ("STOPSIGNAL", "SIGTERM") in final
    copies = [args for word, args in final if word == "COPY"]
    assert copies == ["--from=build /opt/agentgauge /opt/agentgauge"]  # nothing else reaches the final image


def test_the_build_secret_is_only_mounted_and_no_token_is_baked_in() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "--mount=type=secret,id=pip_ca" in text
    assert not re.search(r"^\s*(ENV|ARG)\b.*(TOKEN|PASSWORD|SECRET|PIP_CERT)", text, re.M | re.I)
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert ignored[ignored.index("*")] == "*"  # an allowlist: .env files, venvs and databases stay out
    assert {"!pyproject.toml", "!README.md", "!src/"} <= set(ignored)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_compose_layout_keeps_secrets_in_env_files_and_data_in_a_volume(layout: str) -> None:
    spec = compose(layout)
    gauge = spec["services"]["agentgauge"]
    assert gauge["build"] == ".." and gauge["restart"] == "unless-stopped"
    assert gauge["env_file"] == "agentgauge.env"
    assert gauge["ports"] == ["${AGENTGAUGE_PUBLISH:-127.0.0.1:8777}:8777"]  # loopback unless asked
    assert "agentgauge-data:/data" in gauge["volumes"] and "agentgauge-data" in spec["volumes"]
    for service in spec["services"].values():
        for key in service.get("environment", {}):
            assert not re.search(r"TOKEN|PASSWORD|SECRET|KEY", key), f"{layout}: {key} belongs in an env file"


def test_firefox_layout_shares_the_profile_read_only() -> None:
    spec = compose("firefox")
    firefox, gauge = spec["services"]["firefox"], spec["services"]["agentgauge"]
    assert firefox["image"].startswith("jlesage/firefox") and "firefox-data:/config" in firefox["volumes"]
    assert firefox["ports"] == ["${FIREFOX_PUBLISH:-127.0.0.1:5800}:5800"]
    assert "firefox-data:/firefox:ro" in gauge["volumes"]
    assert gauge["environment"]["AGENTGAUGE_FIREFOX_ROOT"] == "/firefox"
    assert firefox["environment"]["USER_ID"] == "1000"  # the image's default UID reads what it writes
    assert gauge["depends_on"] == {"firefox": {"condition": "service_healthy"}}


def test_postgres_layout_has_no_password_in_the_url() -> None:
    spec = compose("postgres")
    gauge, db = spec["services"]["agentgauge"], spec["services"]["db"]
    url = gauge["environment"]["AGENTGAUGE_DATABASE_URL"]
    assert url == "postgresql://agentgauge@db:5432/agentgauge"
    assert db["env_file"] == "postgres.env" and "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert gauge["depends_on"] == {"db": {"condition": "service_healthy"}}
