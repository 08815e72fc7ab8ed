"""The weekly pulse on a phone (real server): at 390x844 and at 320 CSS px wide a staff member
answers it by tapping, and the page never scrolls sideways (WCAG 1.4.10 Reflow)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.access_helpers import NO_SIDEWAYS_SCROLL, sign_in_any_width, widths
from tests.e2e.helpers import wait_for_app

# Each width signs in as a different staff member, none of those other browser tests answer as
# (test_pulse: the first; test_keyboard: the third): a person answers once a week.
PHONES = {"390x844": ({"width": 390, "height": 844}, 3), "320x640": ({"width": 320, "height": 640}, 4)}


MIN_TARGET = 24  # CSS px, WCAG 2.2 SC 2.5.8 Target Size (Minimum)
# Every control of the pulse form as drawn (a radio option is its whole label), under 24x24 px.
SMALL_TARGETS = f"""
() => Array.from(document.querySelectorAll(
  '[data-testid="stForm"] label:has(input[type=radio]), [data-testid="stForm"] input:not([type=radio]), '
  + '[data-testid="stForm"] textarea, [data-testid="stForm"] button'))
  .map(el => [el.innerText || el.getAttribute('aria-label') || el.tagName,
              el.getBoundingClientRect()])
  .filter(([, box]) => box.width > 0 && (box.width < {MIN_TARGET} || box.height < {MIN_TARGET}))
  .map(([name, box]) => `${{name.slice(0, 20)}} ${{Math.round(box.width)}}x${{Math.round(box.height)}}`)
"""


def _assert_no_sideways_scroll(page: Page, when: str) -> None:
    assert page.evaluate(NO_SIDEWAYS_SCROLL), f"scrolls sideways {when}: {widths(page)}"


@pytest.mark.parametrize("phone", PHONES)
def test_pulse_on_a_phone_without_sideways_scrolling(browser: Browser, app_url: str, phone: str) -> None:
    viewport, account = PHONES[phone]
    context = browser.new_context(viewport=viewport, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        sign_in_any_width(page, app_url, "Staff in", nth=account)
        form = page.get_by_test_id("stForm")
        questions = form.get_by_test_id("stRadio")
        expect(questions.first).to_be_visible(timeout=30_000)
        expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=30_000)
        assert questions.count() >= 10
        _assert_no_sideways_scroll(page, "with the pulse open")
        small = page.evaluate(SMALL_TARGETS)
        assert not small, f"targets under {MIN_TARGET}x{MIN_TARGET} px: {small[:5]}"
        for index in range(questions.count()):
            options = questions.nth(index).get_by_role("radio")
            choice = options.nth(options.count() // 2)
            choice.locator("xpath=ancestor::label[1]").tap()  # the option as drawn: circle and text
            expect(choice).to_be_checked()
        for label, days in (("Days at home", "2"), ("Days at an office", "3")):
            field = page.get_by_label(label)
            field.tap()
            field.fill(days)
        _assert_no_sideways_scroll(page, "with every question answered")
        page.get_by_role("button", name="Send my answers").tap()
        wait_for_app(page)
        expect(page.get_by_text("Thank you! Your answers for this week are saved")).to_be_visible(
            timeout=30_000
        )
        _assert_no_sideways_scroll(page, "on the thank-you")
    finally:
        context.close()


def test_the_menu_closes_after_a_page_is_chosen_on_a_phone(browser: Browser, app_url: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        sign_in_any_width(page, app_url, "Manager of")  # a manager in a team: pulse pages too
        sidebar = page.get_by_test_id("stSidebar")
        page.get_by_test_id("stExpandSidebarButton").tap()
        expect(sidebar).to_have_attribute("data-collapsed", "false")
        page.get_by_test_id("stSidebarNavLink").filter(has_text="Weekly pulse").tap()
        wait_for_app(page)
        expect(page.get_by_role("heading", name="Weekly pulse")).to_be_visible(timeout=30_000)
        expect(sidebar).to_have_attribute("data-collapsed", "true", timeout=10_000)
        _assert_no_sideways_scroll(page, "after choosing a page")
    finally:
        context.close()
