"""HR's Organisation trends page renders its charts from gated figures and is audited; managers
and staff cannot reach it, by navigation or by URL (real server, demo organisation)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from models.db import make_engine
from models.outcomes import AuditEntry
from tests.e2e.helpers import nav_links, sign_in, wait_for_app

TITLE = "Organisation trends"


def _go_within_session(page: Page, path: str) -> None:
    """Change the URL inside the signed-in browser session (single-page-app routing)."""
    page.evaluate(
        "path => { window.history.pushState({}, '', path);"
        " window.dispatchEvent(new PopStateEvent('popstate')); }",
        path,
    )
    wait_for_app(page)


def _headings(page: Page) -> str:
    return " ".join(page.get_by_test_id("stHeading").all_inner_texts())


def test_hr_page_renders_trend_heatmap_and_norms_and_is_audited(
    page: Page, app_url: str, demo_database: str
) -> None:
    sign_in(page, app_url, "· HR")
    page.get_by_test_id("stSidebarNavLink").filter(has_text=TITLE).click()
    wait_for_app(page)
    expect(page.get_by_test_id("stHeading").filter(has_text=TITLE).first).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("stVegaLiteChart").first).to_be_visible(timeout=60_000)
    # The trend is an Altair line chart drawn by Vega (an SVG or canvas inside the chart element).
    expect(page.get_by_test_id("stVegaLiteChart").first.locator("canvas, svg").first).to_be_visible()
    for tab in ("Heatmap", "Work patterns", "Norms"):
        page.get_by_role("tab", name=tab, exact=True).click()
        expect(
            page.get_by_role("tabpanel", name=tab).get_by_test_id("stVegaLiteChart").first
        ).to_be_visible(timeout=30_000)
    page.get_by_role("tab", name="Download", exact=True).click()
    expect(page.get_by_test_id("stDownloadButton").first).to_be_visible()
    engine = make_engine(demo_database)
    try:
        with Session(engine) as session:
            views = session.exec(select(AuditEntry).where(AuditEntry.action == "view.org_trends")).all()
    finally:
        engine.dispose()
    assert views and all(entry.actor for entry in views)


def test_manager_and_staff_cannot_reach_the_hr_page(page: Page, app_url: str) -> None:
    for account in ("Manager of", "Staff in"):
        sign_in(page, app_url, account)
        assert TITLE not in nav_links(page)
        _go_within_session(page, "/org_trends")
        assert TITLE not in _headings(page), f"a {account} account reached {TITLE}"
        assert not page.get_by_test_id("stVegaLiteChart").filter(has_text="by unit").count()
        page.goto(f"{app_url}/org_trends")  # a fresh visit is a new session: the sign-in page
        wait_for_app(page)
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        assert TITLE not in _headings(page)


def test_participation_chart_draws_without_a_browser_error_and_reads_as_text(
    page: Page, app_url: str
) -> None:
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, app_url, "· HR")  # HR lands on Organisation trends
    expect(page.get_by_test_id("stHeading").filter(has_text=TITLE).first).to_be_visible(timeout=60_000)
    page.get_by_role("tab", name="Participation", exact=True).click()
    panel = page.get_by_role("tabpanel", name="Participation")
    chart = panel.get_by_test_id("stVegaLiteChart").first
    expect(chart.locator("canvas, svg").first).to_be_visible(timeout=30_000)
    # The summary is the drawing's accessible name (Vega's aria-label) and its caption.
    expect(chart).to_have_attribute("aria-label", re.compile(r"^Response rate of \d+ units"))
    expect(panel.get_by_text("Response rate of", exact=False)).to_be_visible()
    panel.get_by_text("The figures in this chart as a table").click()
    table = panel.get_by_test_id("stDataFrame").first
    expect(table).to_be_visible(timeout=30_000)
    text = table.inner_text()
    for raw in ("unit_name", "rate_label", "None", ".0"):
        assert raw not in text, raw
    assert not [e for e in errors if "aggregate" in e or "Vega" in e or "vega" in e], errors
