"""The README's provider table and each provider page's settings table match the registry."""

from __future__ import annotations

import pytest

from tests import docs_tables


@pytest.mark.parametrize("path", list(docs_tables.expected()), ids=lambda p: p.name)
def test_generated_docs_are_current(path):  # type: ignore[no-untyped-def]
    assert path.read_text(encoding="utf-8") == docs_tables.expected()[path], (
        "stale generated table: run `python -m tests.docs_tables --write`"
    )


def test_every_provider_is_in_the_readme_table():
    table = docs_tables.provider_table()
    for provider in docs_tables.registry.all_providers():
        assert f"| `{provider.id}` |" in table
