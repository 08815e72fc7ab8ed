"""Teams under strain in the browser: HR sees every flagged team with its reasons and the alerts
beside them; the manager of a flagged team sees the flag and the reasons on the team dashboard."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update
from sqlalchemy.engine import make_url
from sqlmodel import select

from analytics.privacy import PrivacyRules
from analytics.strain_features import compute_strain_report
from models.db import make_engine, read_session, write_session
from models.org import Person, RoleGrant, Unit
from surveys.demo import plan_demo
from tests.e2e.helpers import serve_app, show_team, sign_in, wait_for_app

ROOT = Path(__file__).resolve().parents[2]
REASON = re.compile("SD worse than most teams|published cut-off")
FIRST_IN_LIST = "aaa-strain-check."  # sorts before every demo email, so the sign-in list shows it


def _flagged(database_url: str) -> dict[int, str]:
    """Flagged team id -> team code, computed from the database the server reads."""
    engine = make_engine(database_url)
    try:
        with read_session(engine) as session:
            report = compute_strain_report(session=session, rules=PrivacyRules())
            assert report is not None, "the demo database has pulse answers"
            return {record.team: report.team_code(record.team) for record in report.result.flagged}
    finally:
        engine.dispose()


def _open(page: Page, title: str) -> None:
    page.get_by_test_id("stSidebarNavLink").filter(has_text=title).click()
    wait_for_app(page)
    expect(page.get_by_test_id("stHeading").filter(has_text=title).first).to_be_visible(timeout=60_000)


def test_hr_sees_flagged_teams_with_reasons_and_alerts(
    page: Page, app_url: str, demo_database: str
) -> None:
    flagged = _flagged(demo_database)
    assert flagged, "the demo organisation plants strained teams; at least one must be flagged"
    sign_in(page, app_url, " · HR")
    _open(page, "Teams under strain")
    expect(page.get_by_text("Flagged as under strain").first).to_be_visible(timeout=60_000)
    expect(page.get_by_test_id("stHeading").filter(has_text="Sustained-drop alerts")).to_be_visible()
    for team_id, code in flagged.items():
        card = page.locator(f".st-key-strain_flag_{team_id}")
        expect(card).to_contain_text(code, timeout=30_000)
        expect(card).to_contain_text(REASON)
    expect(page.get_by_test_id("stVegaLiteChart").first).to_be_visible()


@pytest.fixture(scope="module")
def flagged_manager_app(
    demo_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str, str]]:
    """A server on a copy of the demo database in which the manager of a flagged team (found in the
    demo plan) is listed on the demo sign-in page. The page lists only the first managers by email,
    so the copy gives that person an email that sorts first; nothing else changes, and the shared
    demo database other browser tests use is left alone. Yields (url, manager name, team name)."""
    source = Path(make_url(demo_database).database or "")
    copy = tmp_path_factory.mktemp("strain_e2e") / "demo.db"
    shutil.copy(source, copy)
    url = f"sqlite:///{copy}"
    flagged = set(_flagged(url).values())
    plan = plan_demo(1)
    planted_and_flagged = [code for code in plan.strained_team_codes if code in flagged] or sorted(
        flagged
    )
    code = planted_and_flagged[0]
    email = plan.managers[code]
    engine = make_engine(url)
    try:
        with write_session(engine) as session:
            team_name = session.exec(select(Unit.name).where(Unit.code == code)).one()
            person = session.exec(select(Person).where(Person.email == email)).one()
            grants = session.exec(select(RoleGrant).where(RoleGrant.person_id == person.id)).all()
            assert any(grant.role == "manager" for grant in grants)
            session.execute(
                update(Person).where(Person.id == person.id).values(email=FIRST_IN_LIST + email)
            )
            name = person.display_name
    finally:
        engine.dispose()

    log_path = tmp_path_factory.mktemp("strain_server") / "streamlit.log"
    env = {
        "WELLBEING_DATABASE_URL": url,
        "WELLBEING_ENVIRONMENT": "demo",
        "WELLBEING_AUTH_MODE": "demo",
    }
    with serve_app(env, log_path) as app:
        yield app, name, team_name


def test_manager_of_a_flagged_team_sees_the_flag_and_why(
    page: Page, flagged_manager_app: tuple[str, str, str]
) -> None:
    app, manager, team = flagged_manager_app
    sign_in(page, app, f"{manager} · Manager")
    _open(page, "Team dashboard")
    show_team(page, team)
    expect(
        page.get_by_test_id("stAlert").filter(has_text="Flagged as under strain").first
    ).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Why:").first).to_be_visible()
    expect(page.get_by_text(REASON).first).to_be_visible()
