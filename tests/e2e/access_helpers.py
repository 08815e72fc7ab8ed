"""Helpers for the accessibility, keyboard and phone browser tests."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.helpers import wait_for_app, wait_for_landing

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"


def sign_in_any_width(page: Page, app_url: str, account_text: str, nth: int = 0) -> None:
    """helpers.sign_in for any width, choosing the ``nth`` matching demo account: on a phone the
    menu starts closed, so the navigation only has to be there, not visible."""
    page.goto(app_url)
    wait_for_app(page)
    page.get_by_test_id("stSelectbox").filter(has_text="Demo account").click()
    page.get_by_role("option").filter(has_text=account_text).nth(nth).click()
    page.get_by_role("button", name="Sign in").click()
    wait_for_landing(page)
    expect(page.get_by_test_id("stSidebarNav")).to_be_attached(timeout=30_000)


def widths(page: Page) -> str:
    """The page's scroll and client widths, for a failure message."""
    return page.evaluate(
        "() => `scrollWidth ${document.documentElement.scrollWidth}, "
        "clientWidth ${document.documentElement.clientWidth}`"
    )
