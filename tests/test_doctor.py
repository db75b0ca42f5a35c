"""Every line ``doctor`` prints, for every provider, with nothing configured and with everything
configured: no nested parentheses, a reason and one fix per source that cannot be used (each variable
named once per account), origins in words, the database checked, whole lines when piped."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from agentgauge.providers import registry

VARIABLE = re.compile(r"AGENTGAUGE_[A-Z0-9_]+")


def doctor(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AGENTGAUGE_")},
        "AGENTGAUGE_DATABASE_URL": str(tmp_path / "doctor.db"),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "agentgauge", "doctor"], capture_output=True, text=True, env=environment, timeout=120
    )


def blocks(output: str) -> dict[str, list[str]]:
    """The report per provider: its title line's name -> its indented lines."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        if line[:2] in ("✓ ", "✗ ", "○ "):
            current = found.setdefault(line[2:].split(":")[0], [])
        elif line.startswith("    ") and current is not None:
            current.append(line.strip())
        else:
            current = None
    return found


def common_checks(output: str) -> None:
    for line in output.splitlines():
        assert "((" not in line and "))" not in line and not re.search(r"\([^()]*\(", line), line
        assert "not set (" not in line, line  # the old form: variables in parentheses after "not set"
    header = output.split("\n\n", 1)[0]
    assert "config file:" in header and "(not present: defaults and environment only)" in header
    assert re.search(r"^  database: .+doctor\.db \(opens and answers\)$", header, re.M), header
    assert "secret store:" in header


def test_every_line_with_nothing_configured(tmp_path: Path) -> None:
    result = doctor(tmp_path)
    assert result.returncode == 3, result.stdout + result.stderr
    common_checks(result.stdout)
    report = blocks(result.stdout)
    assert set(report) == {p.name for p in registry.all_providers()}
    for provider in registry.all_providers():
        lines = report[provider.name]
        sources = [line for line in lines if line.startswith("· ")]
        assert len(sources) == len(provider.auth), lines
        for line, source in zip(sources, provider.auth, strict=True):
            label, reason = line[2:].split(": ", 1)
            assert label == source.label
            if source.discover is not None:
                assert "not found on this machine" in reason, line
            if source.browser is not None:
                assert f"no {source.browser.label} login in a browser" in reason, line
            if source.discover is None and source.browser is None:
                assert reason.startswith("not set: AGENTGAUGE_"), line
        spelled = [v for line in sources for v in VARIABLE.findall(line)]
        assert len(spelled) == len(set(spelled)), f"{provider.name}: a variable named twice: {sources}"
        for variable in spelled:  # every variable it asks for is one the provider reads
            assert variable in provider.environment() or variable.startswith(f"AGENTGAUGE_{provider.id.upper()}_")
        assert lines[-2].startswith("hint: ") and lines[-2][6:] == provider.auth[0].hint
        assert lines[-1] == f"polled at most every {provider.min_interval:g} s"
    assert "No provider has credentials yet" in result.stdout


def test_every_line_with_everything_configured(tmp_path: Path) -> None:
    env: dict[str, str] = {}
    for provider in registry.all_providers():
        for name, value in provider.sim_credentials.items():
            spec = provider.setting_spec(name)
            assert spec is not None
            env[spec.env_var(provider.id)] = value
    result = doctor(tmp_path, **env)
    assert result.returncode == 0, result.stdout + result.stderr
    common_checks(result.stdout)
    report = blocks(result.stdout)
    for provider in registry.all_providers():
        lines = report[provider.name]
        for line in lines:
            if line.startswith("✓ "):
                origin = line.split(": from ", 1)[1]
                assert origin.startswith("environment variable"), line
                assert ", environment variable" not in origin, line  # "variables A and B", said once
            elif line.startswith("· "):
                reason = line.split(": ", 1)[1]
                assert reason.startswith(("the same setting as ", "not found on this machine", "no ", "not set")), line
        for variable in {VARIABLE.findall(line)[0] for line in lines if line.startswith("✓ ")}:
            assert variable in env, (provider.name, variable)
        usable = [line for line in lines if line.startswith("✓ ")]
        assert usable or provider.sim_credentials == {}, (provider.name, lines)
        assert not usable or not any(line.startswith("hint: ") for line in lines)  # no fix needed
    zai = report["z.ai"]
    assert "· z.ai browser login: the same setting as API key above" in zai


def test_piped_output_keeps_whole_lines(tmp_path: Path) -> None:
    result = doctor(tmp_path, COLUMNS="40")
    long_hints = [line for line in result.stdout.splitlines() if line.startswith("    hint: ")]
    for provider in registry.all_providers():
        assert f"    hint: {provider.auth[0].hint}" in long_hints  # not broken at 80 (or 40) columns
