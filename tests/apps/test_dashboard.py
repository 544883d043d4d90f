"""The finance dashboard (``apps/dashboard/``) served for real (``python -m apps.dashboard`` on an
ephemeral port, as ``make dashboard`` starts it) over marts published by a real nightly run, and
rendered in headless Chromium (Debian's ``chromium``, driven by Playwright): every page renders
without a console error, every chart has marks, and the figures shown equal an independent read
of the published marts rounded to cents.

Screenshots of every page go to ``test-output/dashboard/`` (git-ignored); the README's images in
``docs/img/`` are copies of them."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import BrowserContext, Page

from apps.settings import REPO_ROOT
from tests.apps.conftest import PLANTED_SECRET, PublishedMarts
from tests.support.browser import TEST_OUTPUT, chromium

pytestmark = pytest.mark.slow

SCREENSHOTS = TEST_OUTPUT / "dashboard"
WIDTH = 1400
#: The small copies: the top of the page (pixels of the full screenshot), scaled to this width.
SMALL_HEIGHT, SMALL_WIDTH = 1250, 900


@dataclass(frozen=True)
class DashboardPage:
    link: str
    heading: str
    charts: int
    slug: str


PAGES = (
    DashboardPage("Overview", "Finance overview", 1, "overview"),
    DashboardPage("ARR and MRR", "ARR and MRR", 3, "arr"),
    DashboardPage("Retention", "Retention", 2, "retention"),
    DashboardPage("Revenue and deferred", "Revenue and deferred revenue", 3, "revenue"),
    DashboardPage("Billings and cash", "Billings and cash", 1, "billings-and-cash"),
    DashboardPage("AR aging", "AR aging", 1, "ar-aging"),
    DashboardPage("Top customers", "Top customers", 1, "customers"),
)


def cents(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve_dashboard(env: dict[str, str], workdir: Path) -> Iterator[str]:
    """``python -m apps.dashboard`` (what ``make dashboard`` runs) on an ephemeral port; yields
    its URL and afterwards checks that its output never showed the planted secret."""
    port = free_port()
    log_path = workdir / "streamlit.log"
    env = {
        **env,
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "PYTHONPATH": str(REPO_ROOT),
    }
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "apps.dashboard", "--port", str(port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                assert process.poll() is None, log_path.read_text(encoding="utf-8")
                try:
                    if httpx.get(f"{url}/_stcore/health", timeout=1).text == "ok":
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the dashboard did not start in 90 s"
                time.sleep(0.3)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)
    assert PLANTED_SECRET not in log_path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def dashboard(
    published_marts: PublishedMarts, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with serve_dashboard(published_marts.env, tmp_path_factory.mktemp("dashboard")) as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    with chromium(tmp_path_factory.mktemp("chromium-profile"), width=WIDTH) as context:
        yield context


@dataclass
class Problems:
    """What the browser reported: console errors, uncaught exceptions, failed requests."""

    messages: list[str]


@pytest.fixture
def page(browser: BrowserContext) -> Iterator[tuple[Page, Problems]]:
    tab = browser.new_page()
    problems = Problems([])
    tab.on(
        "console",
        lambda message: message.type == "error" and problems.messages.append(message.text),
    )
    tab.on("pageerror", lambda error: problems.messages.append(f"uncaught: {error}"))
    tab.on(
        "response",
        lambda response: (
            response.status >= 400
            and problems.messages.append(f"HTTP {response.status} {response.url}")
        ),
    )
    yield tab, problems
    tab.close()


def open_page(tab: Page, url: str, target: DashboardPage) -> None:
    """Opens the dashboard and navigates to ``target`` through the sidebar, as a person does,
    then waits until the script finished and every chart drew its SVG."""
    tab.goto(url)
    tab.get_by_test_id("stSidebarNav").get_by_text(target.link, exact=True).click()
    tab.locator("h1").filter(has_text=target.heading).wait_for(timeout=60_000)
    tab.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
        timeout=60_000
    )
    if target.charts:
        tab.wait_for_function(
            "n => document.querySelectorAll('.vega-embed svg').length >= n",
            arg=target.charts,
            timeout=60_000,
        )
    tab.wait_for_timeout(500)  # the charts' last layout pass


def marks_per_chart(tab: Page) -> list[int]:
    """Data marks (bars, points, lines, labels) of each chart; axes and legends excluded."""
    return tab.evaluate(
        "() => [...document.querySelectorAll('.vega-embed')].map("
        "e => e.querySelectorAll('svg g.role-mark > *').length)"
    )


def tables(tab: Page) -> list[list[list[str]]]:
    """Every table of the page as rows of cell texts (header row first)."""
    return tab.evaluate(
        "() => [...document.querySelectorAll(\"[data-testid='stTable'] table\")].map("
        "t => [...t.querySelectorAll('tr')].map("
        "r => [...r.querySelectorAll('th, td')].map(c => c.innerText.trim())))"
    )


def metrics(tab: Page) -> dict[str, str]:
    labels = tab.get_by_test_id("stMetricLabel").all_inner_texts()
    values = tab.get_by_test_id("stMetricValue").all_inner_texts()
    return dict(zip((label.strip() for label in labels), values, strict=True))


def screenshot(tab: Page, name: str) -> None:
    """The whole page, and a small copy of its top (what docs/img/ holds)."""
    height = tab.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    tab.set_viewport_size({"width": WIDTH, "height": int(height) + 40})
    tab.wait_for_timeout(800)
    (SCREENSHOTS / "small").mkdir(parents=True, exist_ok=True)
    full = SCREENSHOTS / f"{name}.png"
    tab.screenshot(path=str(full))
    tab.set_viewport_size({"width": WIDTH, "height": 900})
    with Image.open(full) as image:
        top = image.crop((0, 0, image.width, min(image.height, SMALL_HEIGHT)))
        small = top.resize((SMALL_WIDTH, round(top.height * SMALL_WIDTH / top.width)))
        small.quantize(colors=256).save(SCREENSHOTS / "small" / f"{name}.png", optimize=True)


def row_of(table: list[list[str]], first_cell: str) -> dict[str, str]:
    header = table[0]
    row = next(r for r in table[1:] if r[0] == first_cell)
    return dict(zip(header, row, strict=True))


# ------------------------------------------------------------------------------- tests


def test_every_page_renders_its_charts_with_marks_and_no_console_error(
    dashboard: str, page: tuple[Page, Problems]
):
    tab, problems = page
    open_page(tab, dashboard, PAGES[0])  # the home page
    links = tab.get_by_test_id("stSidebarNav").locator("a").all_inner_texts()
    assert [link.strip() for link in links] == [p.link for p in PAGES]
    for number, target in enumerate(PAGES, 1):
        open_page(tab, dashboard, target)
        caption = tab.locator("[data-testid='stCaptionContainer']").first.inner_text()
        assert "As of 2026-04-30" in caption and "reporting currency USD" in caption, caption
        assert tab.get_by_test_id("stException").count() == 0, target.heading
        assert tab.get_by_test_id("stAlert").all_inner_texts() == [], target.heading
        marks = marks_per_chart(tab)
        assert len(marks) == target.charts, (target.heading, marks)
        assert all(count > 0 for count in marks), (target.heading, marks)
        screenshot(tab, f"{number}-{target.slug}")
    assert problems.messages == []


def test_the_overview_shows_the_marts_arr_mrr_retention_and_open_ar_at_cents(
    dashboard: str, page: tuple[Page, Problems], published_marts: PublishedMarts
):
    tab, problems = page
    open_page(tab, dashboard, PAGES[0])
    shown = metrics(tab)
    (latest,) = published_marts.rows(
        "SELECT * FROM marts.fct_arr_movements ORDER BY month DESC LIMIT 1"
    )
    month = f"{latest['month']:%b %Y}"
    assert shown[f"ARR, {month}"] == f"USD {cents(latest['closing_arr'])}"
    mrr = sum(
        (
            r["mrr"]
            for r in published_marts.rows("SELECT mrr, month FROM marts.fct_mrr")
            if r["month"] == latest["month"]
        ),
        Decimal(0),
    )
    assert shown[f"MRR, {month}"] == f"USD {cents(mrr)}"
    assert shown["Active customers"] == str(latest["active_customers"])
    (retention,) = published_marts.rows(
        "SELECT * FROM marts.fct_retention ORDER BY month DESC LIMIT 1"
    )
    nrr = (retention["nrr"] * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert shown["Net revenue retention (12 months)"] == f"{nrr}%"
    open_ar: dict[str, Decimal] = defaultdict(Decimal)
    for row in published_marts.rows("SELECT currency, balance FROM marts.fct_ar_aging"):
        open_ar[row["currency"]] += row["balance"]
    assert len(open_ar) > 1
    for currency, balance in open_ar.items():
        assert shown[f"Open AR ({currency})"] == f"{currency} {cents(balance)}"
    assert problems.messages == []


def test_the_ar_aging_page_shows_each_bucket_of_the_marts(
    dashboard: str, page: tuple[Page, Problems], published_marts: PublishedMarts
):
    tab, problems = page
    open_page(tab, dashboard, PAGES[5])
    by_currency = tables(tab)[0]
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in published_marts.rows("SELECT * FROM marts.fct_ar_aging"):
        sums[row["currency"]][row["aging_bucket"]] += row["balance"]
        sums[row["currency"]]["Total"] += row["balance"]
    assert [row[0] for row in by_currency[1:]] == sorted(sums)
    for currency, buckets in sums.items():
        shown = row_of(by_currency, currency)
        for bucket in ("current", "1-30", "31-60", "61-90", "90+", "Total"):
            assert shown[bucket] == cents(buckets.get(bucket, Decimal(0))), (currency, bucket)
    assert problems.messages == []


def test_the_arr_bridge_top_customers_revenue_and_cash_pages_show_the_marts_figures(
    dashboard: str, page: tuple[Page, Problems], published_marts: PublishedMarts
):
    tab, problems = page
    movements = published_marts.rows("SELECT * FROM marts.fct_arr_movements ORDER BY month")[-12:]

    open_page(tab, dashboard, PAGES[1])
    bridge_labels = tab.locator(".vega-embed").first.locator("svg g.role-mark > text")
    labels = set(bridge_labels.all_text_contents())
    expected = {
        f"USD {cents(movements[0]['opening_arr'])}",
        f"USD {cents(sum((m['new_arr'] for m in movements), Decimal(0)))}",
        f"USD {cents(sum((m['churn_arr'] for m in movements), Decimal(0)))}",
        f"USD {cents(movements[-1]['closing_arr'])}",
    }
    assert expected <= labels, (expected, labels)
    shown = row_of(tables(tab)[0], f"{movements[-1]['month']:%b %Y}")
    assert shown["Closing (USD)"] == cents(movements[-1]["closing_arr"])

    open_page(tab, dashboard, PAGES[6])
    (top,) = published_marts.rows(
        "SELECT * FROM marts.dim_customers ORDER BY current_arr DESC, customer_id LIMIT 1"
    )
    first = dict(zip(tables(tab)[0][0], tables(tab)[0][1], strict=True))
    assert (first["Customer"], first["Id"]) == (top["customer_name"], top["customer_id"])
    assert first["ARR (USD)"] == cents(top["current_arr"])

    open_page(tab, dashboard, PAGES[3])  # USD preselected: the reporting currency
    deferred = [
        r
        for r in published_marts.rows("SELECT * FROM marts.fct_deferred_revenue")
        if r["currency"] == "USD" and r["month"] == movements[-1]["month"]
    ]
    shown = row_of(tables(tab)[0], f"{movements[-1]['month']:%b %Y}")
    assert shown["Closing deferred"] == cents(
        sum((r["closing_deferred"] for r in deferred), Decimal(0))
    )
    assert shown["Billings"] == cents(sum((r["billings"] for r in deferred), Decimal(0)))

    open_page(tab, dashboard, PAGES[4])
    cash = Decimal(0)
    for row in published_marts.rows("SELECT * FROM marts.fct_payments"):
        received = row["payment_status"] in ("Processed", "Partially refunded", "Refunded")
        if received and row["currency"] == "USD" and row["payment_month"] == movements[-1]["month"]:
            cash += row["payment_amount"]
    shown = row_of(tables(tab)[0], f"{movements[-1]['month']:%b %Y}")
    assert shown["Cash collected (USD)"] == cents(cash)
    assert problems.messages == []


def test_before_the_first_publication_every_page_says_what_to_run(
    page: tuple[Page, Problems], tmp_path: Path
):
    missing = tmp_path / "not_yet_marts.duckdb"
    env = {"DUCKDB_PATH": str(tmp_path / "not_yet.duckdb"), "ORDWAY_API_KEY": PLANTED_SECRET}
    tab, _ = page
    with serve_dashboard(env, tmp_path) as url:
        tab.goto(url)
        for target in (PAGES[0], PAGES[5]):
            tab.get_by_test_id("stSidebarNav").get_by_text(target.link, exact=True).click()
            tab.locator("h1").filter(has_text=target.heading).wait_for(timeout=60_000)
            alert = tab.get_by_test_id("stAlert")
            alert.wait_for(timeout=60_000)
            text = alert.inner_text()
            assert f"no published marts at {missing}" in text
            assert "make demo" in text and "make run" in text
            assert tab.locator(".vega-embed").count() == 0
