"""A demo manager sets an objective with two key results, checks in, and sees the dashboard change;
a small team's wellbeing shows the privacy gate's pooled or rolled-up note, not a weekly figure."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from sqlalchemy import func
from sqlmodel import select

from analytics.outcomes import expected_progress, status
from models.db import make_engine, write_session
from models.org import Person, RoleGrant, Unit
from tests.e2e.helpers import show_team, sign_in, wait_for_app

LISTED_MANAGERS = 8  # the demo sign-in page lists this many managers, by email
MIN_GROUP_SIZE = 5  # the default k the e2e server runs with


def _open(page: Page, title: str) -> None:
    page.get_by_test_id("stSidebarNavLink").filter(has_text=title).click()
    wait_for_app(page)
    expect(page.get_by_test_id("stHeading").filter(has_text=title).first).to_be_visible(timeout=30_000)


def _fill(scope: Locator, label: str, value: str) -> None:
    field = scope.get_by_label(label, exact=True)
    field.fill(value)
    field.press("Tab")  # Streamlit commits a typed value on blur


def _expect_alert(page: Page, text: str) -> None:
    expect(page.get_by_test_id("stAlert").filter(has_text=text).first).to_be_visible(timeout=30_000)
    wait_for_app(page)


def _submit(page: Page, button: Locator) -> None:
    """Press a form's submit button once no script run is in progress. In a full CI run on a
    slow machine a press once went unanswered (the form stayed filled, no confirmation came in
    30 s); a press landing while a rerun replaces the form is one way that can happen, as a rerun
    closing the list is why ``_choose`` retries."""
    wait_for_app(page)
    button.click()


def _expander(page: Page, title: str) -> Locator:
    """The objective's panel on the Objectives tab, opened."""
    page.get_by_role("tab", name="Objectives", exact=True).click()
    expander = page.get_by_test_id("stExpander").filter(has_text=title).first
    if expander.locator("details").get_attribute("open") is None:
        expander.locator("summary").click()
    return expander


def _choose(page: Page, selectbox: Locator, option_name: str) -> None:
    """Pick an option of a select box; retries opening it, since a rerun can close the list."""
    option = page.get_by_role("option", name=option_name)
    for _ in range(4):
        wait_for_app(page)
        selectbox.locator("input").click()
        try:
            option.wait_for(state="visible", timeout=5_000)
            break
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
    option.click()


def _add_key_result(
    page: Page, title: str, metric: str, baseline: str, target: str, direction: str
) -> None:
    expander = _expander(page, title)
    form = expander.get_by_test_id("stForm").filter(
        has=page.get_by_role("button", name="Add key result")
    )
    _fill(form, "Metric", metric)
    _fill(form, "Baseline", baseline)
    _fill(form, "Target", target)
    if direction == "decrease":
        _choose(
            page,
            form.get_by_test_id("stSelectbox").filter(has_text="Direction"),
            "Decrease (lower is better)",
        )
    _submit(page, form.get_by_role("button", name="Add key result"))
    _expect_alert(page, "Key result added")


def _check_in(page: Page, metric: str, value: str, confidence: str) -> None:
    page.get_by_role("tab", name="Weekly check-in").click()
    card = page.locator("[class*='st-key-due_']").filter(has_text=metric).first
    _fill(card, "Value", value)
    _fill(card, "Confidence (0-10)", confidence)
    _submit(page, card.get_by_role("button", name="Save check-in"))
    _expect_alert(page, f"Check-in saved for {metric}")


def _dashboard_card(page: Page, title: str) -> Locator:
    _open(page, "Team dashboard")
    return page.locator("[class*='st-key-objective_']").filter(has_text=title).first


# The longest browser test, and the first against a newly started server. In two full CI runs
# on a slow 2-core machine one of its clicks went unanswered (a form submitted with no
# confirmation in 30 s; a select box that would not open in 50 s), though it passed in every
# run on its own, with a fresh environment too: it gets one more attempt (a fresh objective).
@pytest.mark.flaky(reruns=1)
def test_manager_creates_objective_checks_in_and_sees_the_dashboard_change(
    page: Page, app_url: str
) -> None:
    title = f"Residents get repairs faster {uuid.uuid4().hex[:6]}"
    sign_in(page, app_url, "Manager of")
    _open(page, "Objectives")

    page.get_by_role("tab", name="New objective").click()
    form = page.get_by_test_id("stForm").filter(has=page.get_by_role("button", name="Create objective"))
    form.get_by_role("button", name="Create objective").click()  # no title: refused, nothing saved
    _expect_alert(page, "Title is required")
    _fill(form, "Title", title)
    form.get_by_role("button", name="Create objective").click()
    _expect_alert(page, "Objective created")

    _add_key_result(page, title, "Repairs done within 7 days (%)", "60", "80", "increase")
    _add_key_result(page, title, "Open repairs backlog", "120", "80", "decrease")

    # The default period is the current quarter; with nothing checked in, progress is 0.
    today = date.today()
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    quarter_end = (quarter_start + timedelta(days=95)).replace(day=1) - timedelta(days=1)
    before = status(0.0, expected_progress(quarter_start, quarter_end, today), None)
    card = _dashboard_card(page, title)
    expect(card).to_contain_text("progress 0%")
    expect(card).to_contain_text(before.label)

    _open(page, "Objectives")
    _check_in(page, "Repairs done within 7 days (%)", "80", "9")
    _check_in(page, "Open repairs backlog", "80", "9")

    card = _dashboard_card(page, title)
    expect(card).to_contain_text("progress 100%")
    expect(card).to_contain_text("On track")
    expect(card).to_contain_text("confidence 9.0/10")


def _listed_manager_of_a_small_team(database_url: str) -> tuple[str, str]:
    """(display name, team name) of a manager on the demo sign-in list who manages a team with
    fewer than k people. If the seeded list has none, the last listed manager is also made manager
    of the smallest team (a role grant, as an admin would add), leaving the first managers as they
    were for other tests."""
    engine = make_engine(database_url)
    try:
        with write_session(engine) as session:
            sizes = dict(
                session.exec(
                    select(Person.team_id, func.count())
                    .where(Person.team_id.is_not(None))
                    .group_by(Person.team_id)
                ).all()
            )
            teams = dict(session.exec(select(Unit.id, Unit.name).where(Unit.kind == "team")).all())
            small = sorted(
                (size, team_id)
                for team_id, size in sizes.items()
                if team_id in teams and size < MIN_GROUP_SIZE
            )
            assert small, "the demo organisation has no team under the threshold"
            rows = session.exec(
                select(Person, RoleGrant)
                .join(RoleGrant, RoleGrant.person_id == Person.id)
                .where(RoleGrant.role == "manager")
                .order_by(Person.email)
            ).all()
            listed: list[Person] = []
            for person, _ in rows:
                if person not in listed and len(listed) < LISTED_MANAGERS:
                    listed.append(person)
            for person, grant in rows:
                if person in listed and grant.unit_id in {team_id for _, team_id in small}:
                    return person.display_name, teams[grant.unit_id]
            chosen, (_, team_id) = listed[-1], small[0]
            session.add(RoleGrant(person_id=chosen.id, role="manager", unit_id=team_id))
            return chosen.display_name, teams[team_id]
    finally:
        engine.dispose()


def test_small_team_shows_the_pooled_note_instead_of_a_weekly_figure(
    page: Page, app_url: str, demo_database: str
) -> None:
    manager, team = _listed_manager_of_a_small_team(demo_database)
    sign_in(page, app_url, f"{manager} · Manager")
    _open(page, "Team dashboard")
    show_team(page, team)
    note = page.locator(".st-key-wellbeing_note")
    expect(note).to_be_visible(timeout=30_000)
    expect(note).to_contain_text(
        re.compile("no weekly figure for the team alone|No wellbeing figure is released for this team")
    )
    wait_for_app(page)  # the latest figure, if any, is drawn after the note
    latest = page.locator(".st-key-wellbeing_latest")
    if latest.count():  # something was released: it must say it is pooled or rolled up
        expect(latest).not_to_contain_text("Basis: team")
        text = latest.inner_text()
        assert "pooled over" in text or "rolled up into" in text, text
