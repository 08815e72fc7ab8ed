"""Access through the app (Streamlit's AppTest, no browser), signed in with OpenID Connect claims
as ``st.user`` holds them: each role lands on its own page, every page path opens (its page or a
plain "not for you"), a person without a role is told so and not signed out, sessions end at
sign-out and at the maximum age, and a manager taken off a team loses it on the next view even
when its figures are cached. The browser and a real provider: tests/e2e/test_oidc_access.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from pydantic import ValidationError
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import select
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from app.components import outcomes_data
from app.main import NOT_FOR_YOU_TITLE, ROLE_PAGES
from app.settings import Settings, get_settings
from models.access import AccessDenied, load_viewer
from models.db import read_session, write_session
from models.identity import SignInSession
from models.org import Person, RoleGrant, Unit

MAIN = str(Path(__file__).resolve().parents[1] / "app" / "main.py")
ISSUER = "https://login.council.test"
LANDING = {
    "staff@x.gov.uk": "Weekly pulse",
    "manager@x.gov.uk": "Team dashboard",
    "hr@x.gov.uk": "Organisation trends",
    "admin@x.gov.uk": "Admin",
    "hr.staff@x.gov.uk": "Organisation trends",  # the widest role's page
}
ALLOWED = {
    "staff@x.gov.uk": {"pulse", "what_others_see"},
    "manager@x.gov.uk": {"team_dashboard", "objectives"},
    "hr@x.gov.uk": {"org_trends", "strain", "reminders"},
    "admin@x.gov.uk": {"admin"},
    "hr.staff@x.gov.uk": {"pulse", "what_others_see", "org_trends", "strain", "reminders"},
}


@pytest.fixture
def oidc_app(sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """Three teams; staff, a manager of two (no team of their own), HR, an admin, a person with two
    roles (HR and staff) and one with neither team nor role; the app in OIDC mode."""
    with write_session(sqlite_engine) as session:
        root = Unit(code="ORG", name="Council", kind="organisation")
        session.add(root)
        session.flush()
        repairs = Unit(code="REP", name="Repairs", kind="team", parent_id=root.id)
        lettings = Unit(code="LET", name="Lettings", kind="team", parent_id=root.id)
        parks = Unit(code="PAR", name="Parks", kind="team", parent_id=root.id)  # nobody's here
        session.add_all([repairs, lettings, parks])
        session.flush()
        people = {
            "staff@x.gov.uk": repairs.id,
            "manager@x.gov.uk": None,
            "hr@x.gov.uk": None,
            "admin@x.gov.uk": None,
            "hr.staff@x.gov.uk": lettings.id,
            "nobody@x.gov.uk": None,
        }
        ids = {}
        for email, team_id in people.items():
            person = Person(email=email, display_name=email.split("@")[0], team_id=team_id)
            session.add(person)
            session.flush()
            ids[email] = person.id
        session.add_all(
            [
                RoleGrant(person_id=ids["manager@x.gov.uk"], role="manager", unit_id=repairs.id),
                RoleGrant(person_id=ids["manager@x.gov.uk"], role="manager", unit_id=lettings.id),
                RoleGrant(person_id=ids["hr@x.gov.uk"], role="hr"),
                RoleGrant(person_id=ids["admin@x.gov.uk"], role="admin"),
                RoleGrant(person_id=ids["hr.staff@x.gov.uk"], role="hr"),
            ]
        )
    monkeypatch.setenv("WELLBEING_DATABASE_URL", str(sqlite_engine.url))
    monkeypatch.setenv("WELLBEING_ENVIRONMENT", "demo")
    monkeypatch.setenv("WELLBEING_AUTH_MODE", "oidc")
    get_settings.cache_clear()
    st.cache_data.clear()
    yield sqlite_engine
    get_settings.cache_clear()
    st.cache_data.clear()


def token(
    email: str, subject: str | None = None, *, verified: Any = True, age: timedelta = timedelta()
) -> dict:
    """``st.user`` after a sign-in at the provider (the identity token's claims)."""
    issued = int(time.time() - age.total_seconds())
    return {
        "is_logged_in": True,
        "iss": ISSUER,
        "sub": subject or f"subject-{email}",
        "iat": issued,
        "nonce": f"nonce-{subject or email}-{issued}",
        "email": email,
        "email_verified": verified,
    }


def app_as(user: dict) -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=60)
    at.user = user
    at.run()
    assert not at.exception, at.exception
    return at


def open_path(at: AppTest, url_path: str) -> None:
    """Open the page at ``/<url_path>`` as a browser would (Streamlit keys pages by a hash of their
    URL path; AppTest.switch_page only takes files, and some of these pages are functions)."""
    at._page_hash = calc_hash(url_path)
    at.run()


def texts(at: AppTest) -> str:
    return " ".join(
        str(element.value)
        for kind in ("title", "info", "warning", "error", "markdown")
        for element in getattr(at, kind)
    )


def registered_paths(at: AppTest) -> set[str]:
    return {info.get("url_pathname", "") for info in at._registered_pages.values()}


@pytest.mark.usefixtures("oidc_app")
@pytest.mark.parametrize("email", list(LANDING))
def test_each_role_lands_on_its_own_page_and_every_page_path_opens(email: str) -> None:
    at = app_as(token(email))
    assert at.title[0].value == LANDING[email]
    assert {spec.url_path for spec in ROLE_PAGES} <= registered_paths(at)
    for spec in ROLE_PAGES:
        open_path(at, spec.url_path)
        assert not at.exception, (spec.url_path, at.exception)
        if spec.url_path in ALLOWED[email]:
            assert at.title[0].value == spec.title, spec.url_path
        else:
            assert at.title[0].value == NOT_FOR_YOU_TITLE, spec.url_path
            assert f"The {spec.title} page is not for your role" in texts(at)


@pytest.mark.usefixtures("oidc_app")
def test_a_person_without_team_or_role_is_told_so_and_stays_signed_in() -> None:
    at = app_as(token("nobody@x.gov.uk"))
    assert "no role in this tool yet" in texts(at)
    assert at.user["is_logged_in"] is True  # st.logout (which ends an Entra session too) not called
    open_path(at, "org_trends")
    assert "not for your role" in texts(at)


@pytest.mark.usefixtures("oidc_app")
def test_an_unknown_account_is_told_it_has_no_access_and_stays_signed_in() -> None:
    at = app_as(token("stranger@elsewhere.test"))
    assert "has no access to this tool" in texts(at)
    assert at.user["is_logged_in"] is True
    open_path(at, "org_trends")
    assert "Organisation trends" not in [t.value for t in at.title]


@pytest.mark.usefixtures("oidc_app")
def test_an_unverified_email_under_another_subject_gets_no_pages() -> None:
    at = app_as(token("hr@x.gov.uk", "attacker", verified=False))
    assert "did not confirm your e-mail" in texts(at)
    for path in ("org_trends", "strain"):
        open_path(at, path)
        assert at.title[0].value == "Wellbeing & Outcomes Tracker"  # the sign-in page


@pytest.mark.usefixtures("oidc_app")
def test_a_changed_email_under_the_same_subject_keeps_the_person() -> None:
    app_as(token("hr@x.gov.uk", "subject-hana"))
    at = app_as({**token("hana@new-domain.test", "subject-hana"), "nonce": "later"})
    assert at.title[0].value == "Organisation trends"


@pytest.mark.usefixtures("oidc_app")
def test_a_copy_of_the_cookie_is_refused_after_sign_out() -> None:
    user = token("staff@x.gov.uk")
    at = app_as(user)
    open_path(at, "sign_out")
    assert at.user["is_logged_in"] is False
    replayed = app_as(user)  # the same cookie, in another browser
    assert "You signed out of this session" in texts(replayed)
    assert "Weekly pulse" not in [t.value for t in replayed.title]


def test_a_session_past_the_maximum_age_is_refused_and_recorded(
    oidc_app: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = token("staff@x.gov.uk")
    assert app_as(user).title[0].value == "Weekly pulse"
    with write_session(oidc_app) as session:  # the session began nine hours ago
        record = session.exec(select(SignInSession)).one()
        record.started_at = record.started_at - timedelta(hours=9)
        session.add(record)
    at = app_as(user)
    assert "reached its time limit" in texts(at)
    with read_session(oidc_app) as session:
        assert session.exec(select(SignInSession)).one().end_reason == "expired"
    # A shorter maximum applies to sessions already running.
    monkeypatch.setenv("WELLBEING_SESSION_MAX_HOURS", "0.5")
    get_settings.cache_clear()
    assert "reached its time limit" in texts(app_as(token("hr@x.gov.uk", age=timedelta(hours=1))))


def test_a_manager_taken_off_a_team_loses_it_on_the_next_view_though_it_is_cached(
    oidc_app: Engine,
) -> None:
    user = token("manager@x.gov.uk")
    at = app_as(user)
    assert at.selectbox(key="dashboard_team").value is not None  # Lettings (first by name): cached
    with read_session(oidc_app) as session:
        lettings = session.exec(select(Unit).where(Unit.code == "LET")).one().id
        manager = session.exec(select(Person).where(Person.email == "manager@x.gov.uk")).one().id
    today = date.today().isoformat()
    with write_session(oidc_app) as session:
        session.execute(
            delete(RoleGrant).where(RoleGrant.person_id == manager, RoleGrant.unit_id == lettings)
        )
    at.run()
    assert not at.exception
    assert [t.value for t in at.text] == ["Team: Repairs"]
    assert "dashboard_team" not in [box.key for box in at.selectbox]
    with read_session(oidc_app) as session:
        viewer = load_viewer(session, "manager@x.gov.uk")
    assert viewer is not None
    for load in (
        lambda: outcomes_data.load_team_delivery(viewer, lettings, today),
        lambda: outcomes_data.load_team_objectives(viewer, lettings, today),
        lambda: outcomes_data.load_actions(viewer, lettings),
        lambda: outcomes_data.load_wellbeing(viewer, lettings),
        lambda: outcomes_data.load_teams_overview(viewer, [lettings], today),
    ):
        with pytest.raises(AccessDenied):
            load()
    assert lettings not in outcomes_data.managed_teams(viewer)


@pytest.mark.parametrize("page", ["objectives", "team_dashboard"])
def test_a_forged_team_in_the_picker_shows_nothing_of_that_team(oidc_app: Engine, page: str) -> None:
    """The browser sends the picker's value; one that is not the manager's is reset by Streamlit
    to one of theirs, or refused plainly by the page: never read, never a crash."""
    at = app_as(token("manager@x.gov.uk"))
    key = "objectives_team" if page == "objectives" else "dashboard_team"
    with read_session(oidc_app) as session:
        ids = dict(session.exec(select(Unit.code, Unit.id)).all())
    parks, mine = ids["PAR"], {ids["REP"], ids["LET"]}
    for forged in (parks, "Parks", 99_999, None):
        open_path(at, "org_trends")  # away from the picker, as a browser sends a value unasked
        at.session_state[key] = forged
        open_path(at, page)
        assert not at.exception, (forged, at.exception)
        shown = texts(at) + " ".join(str(t.value) for t in at.text)
        assert "Parks" not in shown, forged
        refused = "not one of your teams" in texts(at)
        assert refused or at.session_state[key] in mine, forged


def test_the_session_maximum_defaults_to_eight_hours_and_must_be_positive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WELLBEING_SESSION_MAX_HOURS", raising=False)
    assert Settings(_env_file=None).session_max_hours == 8  # type: ignore[call-arg]
    for bad in ("0", "-1", "never"):
        monkeypatch.setenv("WELLBEING_SESSION_MAX_HOURS", bad)
        with pytest.raises(ValidationError):
            Settings(_env_file=None)  # type: ignore[call-arg]
