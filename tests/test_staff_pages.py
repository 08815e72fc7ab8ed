"""The staff page "What others can see" through AppTest: it shows the team's own actions ("you said,
we did") and never another team's, and treats action text as text."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from app.settings import get_settings
from models.db import write_session
from models.org import Person, Unit
from models.outcomes import Action

MAIN = str(Path(__file__).resolve().parents[1] / "app" / "main.py")


@pytest.fixture
def app_database(sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """Two teams, one staff member in each, and an action recorded for each team."""
    with write_session(sqlite_engine) as session:
        root = Unit(code="ORG", name="Council", kind="organisation")
        session.add(root)
        session.flush()
        mine = Unit(code="MINE", name="Repairs", kind="team", parent_id=root.id)
        theirs = Unit(code="THEIRS", name="Lettings", kind="team", parent_id=root.id)
        session.add_all([mine, theirs])
        session.flush()
        session.add(Person(email="me@x.gov.uk", display_name="Me", team_id=mine.id))
        session.add(Person(email="other@x.gov.uk", display_name="Other", team_id=theirs.id))
        session.add(
            Action(
                team_id=mine.id,
                title="<b>Protected focus time</b> on Fridays",
                trigger="strain flag",
                taken_on=date(2026, 11, 2),
            )
        )
        session.add(Action(team_id=theirs.id, title="Extra caseworker", taken_on=date(2026, 11, 3)))
    monkeypatch.setenv("WELLBEING_DATABASE_URL", str(sqlite_engine.url))
    monkeypatch.setenv("WELLBEING_ENVIRONMENT", "demo")
    monkeypatch.setenv("WELLBEING_AUTH_MODE", "demo")
    get_settings.cache_clear()
    st.cache_data.clear()
    yield sqlite_engine
    get_settings.cache_clear()
    st.cache_data.clear()


@pytest.mark.usefixtures("app_database")
def test_staff_see_their_own_teams_actions_only() -> None:
    at = AppTest.from_file(MAIN, default_timeout=60)
    at.session_state["demo_email"] = "me@x.gov.uk"
    at.run()
    at.switch_page("pages/what_others_see.py").run()
    assert not at.exception, at.exception
    assert any(header.value == "You said, we did" for header in at.subheader)
    actions = next(frame.value for frame in at.dataframe if "What was done" in frame.value.columns)
    assert list(actions["What was done"]) == ["<b>Protected focus time</b> on Fridays"]
    assert list(actions["In response to"]) == ["strain flag"]


@pytest.fixture
def released_team(sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A team of twelve with answers in 2026-W01..W06 and in the open week 2026-W07; released as
    of Wednesday of week 7 (W01-W06 and January are out, W07 is not)."""
    from datetime import UTC, datetime

    from test_gate_support import add_people, add_scores, add_unit

    from analytics.privacy import PrivacyRules, ReleaseSchedule, release_due

    with write_session(sqlite_engine) as session:
        org = add_unit(session, "ORG", "organisation", None, "Council")
        teams = [
            add_unit(session, code, "team", org, name)
            for code, name in (("MINE", "Repairs"), ("B", "B"))
        ]
        add_people(session, teams[0], 12, "me")
        add_people(session, teams[1], 12, "b")
        for week in [f"2026-W0{w}" for w in range(1, 8)]:
            for team in teams:
                add_scores(session, team, week, [60.0] * 8 + [40.0] * 2, comments=0)
    release_due(
        sqlite_engine,
        now=datetime(2026, 2, 11, 12, tzinfo=UTC),
        rules=PrivacyRules(),
        schedule=ReleaseSchedule(),
    )
    monkeypatch.setenv("WELLBEING_DATABASE_URL", str(sqlite_engine.url))
    monkeypatch.setenv("WELLBEING_ENVIRONMENT", "demo")
    monkeypatch.setenv("WELLBEING_AUTH_MODE", "demo")
    get_settings.cache_clear()
    st.cache_data.clear()
    yield sqlite_engine
    get_settings.cache_clear()
    st.cache_data.clear()


@pytest.mark.usefixtures("released_team")
def test_staff_see_released_weeks_only_never_the_open_one() -> None:
    at = AppTest.from_file(MAIN, default_timeout=60)
    at.session_state["demo_email"] = "me0@example.org"
    at.run()
    at.switch_page("pages/what_others_see.py").run()
    assert not at.exception, at.exception
    figures = next(frame.value for frame in at.dataframe if "Measure" in frame.value.columns)
    assert sorted(set(figures["Week"])) == [f"2026-W0{w}" for w in range(1, 7)]
    shown = figures[figures["Average"].notna()]
    assert set(shown["Average"]) == {56.0}  # (8 x 60 + 2 x 40) / 10, a whole number
    assert set(shown["People behind it"]) == {"10"}
