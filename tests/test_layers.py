"""The import rules import-linter's contracts (.importlinter) cannot express, checked on the real
import graph (grimp, import-linter's engine), plus the layer contracts themselves.

- A provider package imports only the provider toolkit (``agentgauge.providers._*``),
  ``agentgauge.errors`` and ``agentgauge.models`` (and its own modules); never starlette or the
  simulator toolkit, which only its ``sim`` module may use.
- A ``_private`` module is imported only from inside the package that holds it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from agentgauge.providers import registry

ROOT = Path(__file__).resolve().parents[1]
GRAPH = grimp.build_graph("agentgauge", include_external_packages=True, exclude_type_checking_imports=True)
TOOLKIT_PREFIX = "agentgauge.providers._"
ALLOWED_CORE = {"agentgauge", "agentgauge.errors", "agentgauge.models"}  # the root holds only __version__
SIM_ONLY = {"starlette", "uvicorn", "agentgauge.providers.simkit", "agentgauge.sim"}


def _imports(module: str) -> set[str]:
    return set(GRAPH.find_modules_directly_imported_by(module))


def _provider_modules(package: str) -> list[str]:
    return sorted({package, *GRAPH.find_descendants(package)})


@pytest.mark.parametrize("provider_id", registry.ids())
def test_provider_package_imports_only_the_toolkit_errors_and_models(provider_id: str):
    package = f"agentgauge.providers.{provider_id}"
    for module in _provider_modules(package):
        is_sim = module == f"{package}.sim" or module.startswith(f"{package}.sim.")
        for imported in _imports(module):
            if not imported.startswith("agentgauge"):
                if not is_sim:
                    assert imported.split(".")[0] not in SIM_ONLY, f"{module} imports {imported}"
                continue
            if imported == package or imported.startswith(package + "."):
                continue
            if is_sim and imported == "agentgauge.providers.simkit":
                continue
            assert imported.startswith(TOOLKIT_PREFIX) or imported in ALLOWED_CORE, f"{module} imports {imported}"


def test_private_modules_stay_inside_their_package():
    offenders = []
    for module in GRAPH.modules:
        if not module.startswith("agentgauge"):
            continue
        for imported in _imports(module):
            if not imported.startswith("agentgauge."):
                continue
            parts = imported.split(".")
            private = next(
                (i for i, part in enumerate(parts) if part.startswith("_") and not part.startswith("__")), None
            )
            if private is None:
                continue
            home = ".".join(parts[:private])  # the package the private module belongs to
            if not (module == home or module.startswith(home + ".")):
                offenders.append(f"{module} -> {imported}")
    assert not offenders, offenders


def test_the_layer_contracts_hold():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint, "import-linter is part of the test tooling"
    result = subprocess.run(
        [lint, "--config", str(ROOT / ".importlinter"), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:]


def test_the_checks_can_fail(tmp_path: Path):
    """The private-module rule finds a real violation (a throwaway package importing another's private)."""
    pkg = tmp_path / "layercheck"
    (pkg / "a").mkdir(parents=True)
    (pkg / "b").mkdir()
    for path in (pkg, pkg / "a", pkg / "b"):
        (path / "__init__.py").write_text("")
    (pkg / "a" / "_secret.py").write_text("X = 1\n")
    (pkg / "b" / "user.py").write_text("from ..a._secret import X\n")
    sys.path.insert(0, str(tmp_path))
    try:
        graph = grimp.build_graph("layercheck")
    finally:
        sys.path.remove(str(tmp_path))
    assert "layercheck.a._secret" in graph.find_modules_directly_imported_by("layercheck.b.user")
