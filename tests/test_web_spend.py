"""The dashboard's spend view in real Chromium against the real server, from generated agent logs in
the user's home: the totals it shows are the API's (and, over the whole history, the generator's
ground truth), the range and grouping buttons switch what is drawn, and budgets show their warning."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, sync_playwright

from tests.harness_web import ServerInfo, running_server
from tests.loggen import Options, generate

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ServerInfo, dict[str, Any]]]:
    home = Path(os.environ["HOME"])  # the autouse fixture points HOME at a temp dir
    today = datetime.now(UTC).date()
    truth = generate(Options(out=home, size_mb=3, seed=8, days=45, end=today))
    box: dict[str, Any] = {}
    ready, done = threading.Event(), threading.Event()

    def serve() -> None:  # the server runs in its own thread; Playwright's sync API owns this one
        with running_server(history_days=0) as info:
            box["info"] = info
            ready.set()
            done.wait(300)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(60)
    info: ServerInfo = box["info"]
    state = info.app.state.server
    # A Claude budget the generated spend is far over, and a Codex one it never reaches.
    state.config = replace(state.config, budgets={"claude": 1.0, "codex": 1_000_000.0})
    try:
        yield info, truth
    finally:
        done.set()
        thread.join(30)


def spend(info: ServerInfo, days: int, group: str = "agent") -> dict[str, Any]:
    resp = httpx.get(f"{info.url}/api/cost", params={"days": days, "group": group}, timeout=120)
    resp.raise_for_status()
    body: dict[str, Any] = resp.json()
    assert "periods" in body  # the summary is still there
    return body["spend"]


def shown_usd(page: Page, selector: str) -> float:
    text = page.text_content(selector) or ""
    return float(text.strip().lstrip("$").replace(",", ""))


def drawn(page: Page) -> tuple[set[str], float]:
    """The dates of the drawn bars and the sum of their values."""
    rects = page.eval_on_selector_all(
        "#spend-chart rect", "els => els.map(e => [e.dataset.date, Number(e.dataset.value)])"
    )
    return {d for d, _ in rects}, sum(v for _, v in rects)


def test_spend_view_totals_ranges_groups_and_budget_warning(served: tuple[ServerInfo, dict[str, Any]]) -> None:
    info, truth = served
    every_token = sum(
        t["input_tokens"] + t["output_tokens"] + t["cache_creation_input_tokens"] + t["cache_read_input_tokens"]
        for t in [truth["claude"]["totals"]]
    ) + sum(
        t["non_cached_input_tokens"] + t["cached_input_tokens"] + t["output_tokens"] for t in [truth["codex"]["totals"]]
    )
    views = {days: spend(info, days) for days in (7, 30, 90)}
    assert views[90]["total"]["tokens"] == every_token  # 45 days of logs: all inside 90 days, in any zone
    assert views[7]["total"]["cost"] < views[30]["total"]["cost"] < views[90]["total"]["cost"]
    assert views[30]["budgets"]["claude"]["exceeded"] is True
    assert views[30]["budgets"]["codex"]["will_exceed"] is False

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(info.url + "/")
        page.wait_for_selector("#spend:not([hidden]) #spend-chart rect", timeout=60_000)
        assert page.get_attribute("#spend-ranges [data-days='30']", "aria-pressed") == "true"
        assert shown_usd(page, "#spend-total-cost") == pytest.approx(views[30]["total"]["cost"], abs=0.005)
        dates, value = drawn(page)
        assert value == pytest.approx(views[30]["total"]["cost"], rel=1e-6)
        assert min(dates) >= views[30]["since"] and max(dates) <= views[30]["until"]

        for days in (7, 90):
            page.click(f"#spend-ranges [data-days='{days}']")
            want = f"{views[days]['total']['cost']:,.2f}"
            page.wait_for_function(
                "want => document.getElementById('spend-total-cost').textContent.endsWith(want)"
                " && !document.getElementById('spend').hasAttribute('aria-busy')",
                arg=want,
                timeout=30_000,
            )
            assert page.get_attribute(f"#spend-ranges [data-days='{days}']", "aria-pressed") == "true"
            dates, value = drawn(page)
            assert value == pytest.approx(views[days]["total"]["cost"], rel=1e-6)
            first = date.fromisoformat(views[days]["until"]) - timedelta(days=days - 1)
            assert min(dates) >= first.isoformat()
            assert len(dates) <= days
        text = page.text_content("#spend-total") or ""
        assert "90 days" in text

        # The budgets: Claude's warning shown as an alert, Codex's not.
        warning = page.locator(".budget[data-agent='claude'] .budget-warning")
        assert warning.is_visible()
        assert "budget" in (warning.text_content() or "")
        assert page.get_attribute(".budget[data-agent='claude']", "data-state") == "over"
        assert page.locator(".budget[data-agent='codex'] .budget-warning").count() == 0
        assert page.get_attribute(".budget[data-agent='codex']", "data-state") == "ok"

        # Stacked by model: the legend names the models, the top list too.
        by_model = spend(info, 90, "model")
        page.click("#spend-groups [data-group='model']")
        page.wait_for_selector("#spend-legend li[data-series*='/']", timeout=30_000)
        legend = page.eval_on_selector_all("#spend-legend li", "els => els.map(e => e.dataset.series)")
        assert legend[: len(by_model["series"][:9])] == by_model["series"][:9]
        top = page.eval_on_selector_all("#spend-models li", "els => els.map(e => e.dataset.model)")
        assert top == [m["modelName"] for m in by_model["topModels"]]
        _, value = drawn(page)
        assert value == pytest.approx(by_model["total"]["cost"], rel=1e-6)

        # The choice survives a reload.
        page.reload()
        page.wait_for_selector("#spend:not([hidden]) #spend-chart rect", timeout=60_000)
        assert page.get_attribute("#spend-ranges [data-days='90']", "aria-pressed") == "true"
        assert page.get_attribute("#spend-groups [data-group='model']", "aria-pressed") == "true"
        browser.close()


def test_spend_parameters_are_checked(served: tuple[ServerInfo, dict[str, Any]]) -> None:
    info, _ = served
    for params in ({"days": "0"}, {"days": "367"}, {"days": "x"}, {"days": "7", "group": "project"}):
        resp = httpx.get(f"{info.url}/api/cost", params=params, timeout=60)
        assert resp.status_code == 400, params
        assert "error" in resp.json()
    plain = httpx.get(f"{info.url}/api/cost", timeout=60).json()
    assert "spend" not in plain and "periods" in plain
