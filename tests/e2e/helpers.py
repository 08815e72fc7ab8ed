"""Page helpers for browser tests, keyed on Streamlit's data-testid attributes."""

from __future__ import annotations

from playwright.sync_api import Page, expect


def wait_for_app(page: Page) -> None:
    """Wait until the app is connected and its script has finished running."""
    page.locator("[data-testid='stApp'][data-test-connection-state='CONNECTED']").wait_for(
        state="attached", timeout=30_000
    )
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
        state="attached", timeout=30_000
    )


def sign_in(page: Page, app_url: str, account_text: str) -> None:
    """Sign in on the demo page by choosing the first account whose label contains ``account_text``
    (labels look like "Name · HR", "Name · Manager of Team X", "Name · Staff in Team Y")."""
    page.goto(app_url)
    wait_for_app(page)
    page.get_by_test_id("stSelectbox").filter(has_text="Demo account").click()
    page.get_by_role("option").filter(has_text=account_text).first.click()
    page.get_by_role("button", name="Sign in").click()
    wait_for_app(page)
    expect(page.get_by_test_id("stSidebarNav")).to_be_visible(timeout=30_000)


def nav_links(page: Page) -> list[str]:
    """The titles of the pages in the sidebar navigation (without the icon's ligature text,
    which Material icons render as a word such as "favorite" on a line of its own)."""
    texts = page.get_by_test_id("stSidebarNavLink").all_inner_texts()
    return [next((line.strip() for line in reversed(t.splitlines()) if line.strip()), "") for t in texts]
