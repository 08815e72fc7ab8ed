"""The whole staff journey with the Welsh interface, in a real browser: sign in, choose Cymraeg,
answer and send the pulse, see the receipt in Welsh, then what others can see; the choice is kept
for the next sign-in.
No instrument ships a licensed Welsh translation, so the questions stay in English, marked
``lang="en"`` for screen readers, under a note in Welsh. axe-core audits the Welsh pages."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from app.a11y import load_allowlist
from tests.e2e.access_helpers import sign_in_any_width
from tests.e2e.helpers import wait_for_app
from tests.e2e.test_accessibility import _audit, _failures, _settle

# test_pulse answers as the first staff account, test_keyboard the 3rd, test_phone the 4th and 5th.
WELSH_STAFF = 6


def _audit_clean(page: Page, where: str) -> None:
    _settle(page)
    failures = _failures(where, _audit(page, load_allowlist()))
    assert not failures, "\n".join(failures)


def test_staff_journey_in_welsh(page: Page, app_url: str) -> None:
    sign_in_any_width(page, app_url, "Staff in", nth=WELSH_STAFF)
    expect(page.get_by_role("heading", name="Weekly pulse")).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "en"

    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="Language").click()
    page.get_by_role("option", name="Cymraeg", exact=True).click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Arolwg wythnosol")).to_be_visible(timeout=30_000)
    expect(page.locator("html[lang='cy']")).to_be_attached()
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_text("Beth y gall eraill ei weld")).to_be_visible()
    expect(page.get_by_text("Beth sy'n digwydd i'm hateb?")).to_be_visible()

    # The questions as published, in English, marked so a screen reader reads them in English.
    expect(page.get_by_text("Dangosir y cwestiynau hyn yn Saesneg").first).to_be_visible()
    radios = page.get_by_test_id("stRadio")
    count = radios.count()
    assert count >= 10
    english = page.locator("[class*='st-key-pulse_'][lang='en']").filter(has=radios)
    expect(english).to_have_count(count)
    _audit_clean(page, "pulse-cy")

    page.get_by_role("button", name="Cyflwyno fy atebion").click()
    wait_for_app(page)
    # The alert is in Welsh and names each unanswered question as the form shows it (in English).
    alert = page.get_by_role("alert").filter(has_text="Nid oes dim wedi'i gadw eto. Atebwch")
    expect(alert).to_be_visible()
    first = radios.first.get_by_test_id("stWidgetLabel").inner_text()
    expect(alert).to_contain_text(first.strip())
    for index in range(count):
        options = radios.nth(index).get_by_role("radio")
        middle = options.nth(options.count() // 2)
        middle.focus()
        page.keyboard.press("Space")
        expect(middle).to_be_checked()
    page.get_by_label("Diwrnodau gartref").fill("2")
    page.get_by_label("Diwrnodau mewn swyddfa").fill("3")
    page.get_by_role("button", name="Cyflwyno fy atebion").click()
    wait_for_app(page)
    expect(page.get_by_text("Diolch! Mae eich atebion ar gyfer yr wythnos hon")).to_be_visible(
        timeout=30_000
    )
    expect(page.get_by_test_id("stException")).to_have_count(0)
    _audit_clean(page, "receipt-cy")

    # What others can see, in Welsh: the gate's view of the team, numbers in the locale's format.
    nav.get_by_text("Beth y gall eraill ei weld").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Beth y gall eraill ei weld")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Ffigurau a ddangosir i'ch rheolwr ac Adnoddau Dynol")).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    _audit_clean(page, "what_others_see-cy")

    # A new session: the person's choice was saved, so the interface is Welsh from the start.
    page.reload()
    sign_in_any_width(page, app_url, "Staff in", nth=WELSH_STAFF)
    expect(page.get_by_text("Rydych eisoes wedi ateb arolwg yr wythnos hon")).to_be_visible(
        timeout=30_000
    )
    expect(page.locator("html[lang='cy']")).to_be_attached()
