"""The staff journey in a real browser: answer the weekly pulse, see the thank-you, come back and
see "already answered"; the privacy page shows the gate's view of the team."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.helpers import sign_in, wait_for_app

STAFF = "Staff in"


def _answer_every_question(page: Page) -> int:
    """Answer every question with the keyboard (focus an option, press Space): the form must work
    without a mouse. Picks the middle option; returns how many questions there were."""
    radios = page.get_by_test_id("stRadio")
    count = radios.count()
    for index in range(count):
        options = radios.nth(index).get_by_role("radio")
        middle = options.nth(options.count() // 2)
        middle.focus()
        page.keyboard.press("Space")
        expect(middle).to_be_checked()
    return count


def test_staff_member_answers_the_pulse_once(page: Page, app_url: str) -> None:
    sign_in(page, app_url, STAFF)
    expect(page.get_by_role("heading", name="Weekly pulse")).to_be_visible()
    expect(page.get_by_text("What happens to my answer?")).to_be_visible()
    form = page.get_by_test_id("stForm")
    expect(form).to_be_visible()
    expect(form.get_by_text("removed from comments")).to_be_visible()  # the writer is told

    # Sending an incomplete form explains itself and stores nothing.
    page.get_by_role("button", name="Send my answers").click()
    wait_for_app(page)
    # ...in an alert a screen reader reads out at once, naming each unanswered question.
    alert = page.get_by_role("alert").filter(has_text="Nothing has been saved yet")
    expect(alert).to_be_visible()
    first = form.get_by_test_id("stRadio").first.get_by_test_id("stWidgetLabel").inner_text()
    expect(alert).to_contain_text(first.strip())

    assert _answer_every_question(page) >= 10
    page.get_by_label("Days at home").fill("2")
    page.get_by_label("Days at an office").fill("3")
    page.get_by_role("textbox", name="Anything you'd like to add?").fill("A calm week, thanks.")
    page.get_by_role("button", name="Send my answers").click()
    wait_for_app(page)
    expect(page.get_by_text("Thank you! Your answers for this week are saved")).to_be_visible(
        timeout=30_000
    )

    page.reload()
    sign_in(page, app_url, STAFF)  # a reload starts a new session: same person signs in again
    expect(page.get_by_text("You have already answered this week's pulse")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("stForm")).to_have_count(0)


def test_staff_member_sees_what_others_can_see(page: Page, app_url: str) -> None:
    sign_in(page, app_url, STAFF)
    page.get_by_test_id("stSidebarNavLink").filter(has_text="What others can see").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="What others can see")).to_be_visible()
    expect(page.get_by_text("Figures shown to your manager and HR")).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
