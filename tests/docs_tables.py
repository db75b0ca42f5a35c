"""Docs tables generated from the provider registry, so documentation cannot drift from the code.

    python -m tests.docs_tables          # check (what tests/test_docs_tables.py runs)
    python -m tests.docs_tables --write  # rewrite every generated table in place

Generated regions sit between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->`` markers: the
README's provider table (one line per provider, so adding a provider adds one line there) and the
settings table and environment list of each ``docs/providers/<id>.md`` page.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from agentgauge.providers import Provider, registry

ROOT = Path(__file__).resolve().parents[1]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def provider_table() -> str:
    rows = ["| Provider | id | Sources (in fallback order) | Windows | Docs |", "| --- | --- | --- | --- | --- |"]
    for p in registry.all_providers():
        sources = "; ".join(a.label for a in p.auth)
        windows = ", ".join(w.label for w in p.windows if "*" not in w.id) or ", ".join(w.label for w in p.windows)
        rows.append(
            f"| {_cell(p.name)} | `{p.id}` | {_cell(sources)} | {_cell(windows)} | "
            f"[docs/providers/{p.id}.md](docs/providers/{p.id}.md) |"
        )
    return "\n".join(rows)


def settings_table(provider: Provider) -> str:
    rows = ["| Setting | Environment variables | Default | Meaning |", "| --- | --- | --- | --- |"]
    for s in provider.settings:
        names = ", ".join(f"`{n}`" for n in (s.env_var(provider.id), *s.env))
        default = f"`{s.default}`" if s.default else ""
        if s.choices:
            default += f" (one of {', '.join(f'`{c}`' for c in s.choices)})"
        secret = " (secret)" if s.secret else ""
        rows.append(f"| `{s.name}`{secret} | {names} | {default.strip()} | {_cell(s.help)} |")
    enabled = f"AGENTGAUGE_{provider.id.upper()}_ENABLED"
    rows.append(f"| `enabled` | `{enabled}` | `true` | Set false to turn this account off without deleting it. |")
    if provider.env_vars:
        rows.append("")
        rows.append("Discovery also reads: " + ", ".join(f"`{n}`" for n in provider.env_vars) + ".")
    return "\n".join(rows)


def _replace(text: str, name: str, body: str, where: Path) -> str:
    pattern = re.compile(rf"<!-- {name}:begin -->\n.*?<!-- {name}:end -->", re.S)
    if not pattern.search(text):
        raise SystemExit(f"{where}: no <!-- {name}:begin --> ... <!-- {name}:end --> region")
    return pattern.sub(lambda m: f"<!-- {name}:begin -->\n{body}\n<!-- {name}:end -->", text, count=1)


def expected() -> dict[Path, str]:
    """Every file with generated regions, as it should read."""
    out: dict[Path, str] = {}
    readme = ROOT / "README.md"
    out[readme] = _replace(readme.read_text(encoding="utf-8"), "providers", provider_table(), readme)
    for p in registry.all_providers():
        page = ROOT / "docs" / "providers" / f"{p.id}.md"
        if page.exists():
            out[page] = _replace(page.read_text(encoding="utf-8"), "settings", settings_table(p), page)
    return out


def main(argv: list[str]) -> int:
    stale = []
    for path, text in expected().items():
        if path.read_text(encoding="utf-8") != text:
            stale.append(path)
            if "--write" in argv:
                path.write_text(text, encoding="utf-8")
    if stale and "--write" not in argv:
        print("stale generated docs (run `python -m tests.docs_tables --write`):", *map(str, stale), sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
