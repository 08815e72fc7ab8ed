"""Insight on the pages through AppTest: a manager sees the action's effect against comparison
teams and can start an action from a driver in one step; staff see the same effect; HR's tab shows
drivers and every action."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy.engine import Engine
from sqlmodel import select
from streamlit.testing.v1 import AppTest
from test_action_effects import _council as effects_council
from test_drivers_release import _council as drivers_council

from app.settings import get_settings
from models.db import read_session, write_session
from models.org import Person, RoleGrant
from models.outcomes import Action

MAIN = str(Path(__file__).resolve().parents[1] / "app" / "main.py")


def _grant(engine: Engine, email: str, role: str, unit_id: int | None) -> None:
    with write_session(engine) as session:
        person = session.exec(select(Person).where(Person.email == email)).one()
        session.add(RoleGrant(person_id=person.id, role=role, unit_id=unit_id))


@pytest.fixture
def app_settings() -> Iterator[None]:
    get_settings.cache_clear()
    st.cache_data.clear()
    yield
    get_settings.cache_clear()
    st.cache_data.clear()


def _point_app_at(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WELLBEING_DATABASE_URL", str(engine.url))
    monkeypatch.setenv("WELLBEING_ENVIRONMENT", "demo")
    monkeypatch.setenv("WELLBEING_AUTH_MODE", "demo")
    get_settings.cache_clear()
    st.cache_data.clear()


def _page(path: str, email: str) -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=120)
    at.session_state["demo_email"] = email
    at.run()
    at.switch_page(path).run()
    assert not at.exception, at.exception
    return at


@pytest.mark.usefixtures("app_settings")
def test_the_effect_reads_as_a_comparison_for_the_manager_staff_and_hr(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = effects_council(sqlite_engine, effect=15.0)
    _grant(sqlite_engine, "team-000@example.org", "manager", ids["team-00"])
    _grant(sqlite_engine, "team-051@example.org", "hr", None)
    _point_app_at(sqlite_engine, monkeypatch)

    manager = _page("pages/team_dashboard.py", "team-000@example.org")
    captions = " ".join(caption.value for caption in manager.caption)
    assert "Compared with 22 similar teams that took no action, wellbeing improved" in captions

    staff = _page("pages/what_others_see.py", "team-001@example.org")
    actions = next(frame.value for frame in staff.dataframe if "What was done" in frame.value.columns)
    column = actions["Effect on wellbeing, compared with similar teams"]
    assert column.iloc[0].startswith("improved (") and "against 22 teams" in column.iloc[0]

    hr = _page("pages/org_trends.py", "team-051@example.org")
    assert not any("comparison_teams" in frame.value.columns for frame in hr.dataframe)
    hr.toggle(key="insight_show").set_value(True).run()
    assert not hr.exception, hr.exception
    overview = next(frame.value for frame in hr.dataframe if "What was done" in frame.value.columns)
    assert list(overview["What was done"]) == ["Fixed the rota", "Team day"]
    # the effects chart's own table, built from the same overview, names each action by its team
    chart_table = next(frame.value for frame in hr.dataframe if "Action" in frame.value.columns)
    assert list(chart_table["Action"]) == ["Team 00: Fixed the rota", "Team 01: Team day"]
    # readable headings only: no field name of the overview reaches the page
    raw = {"comparison_teams", "in_response_to", "taken_on", "estimate", "action_id"}
    assert not raw & set(overview.columns), list(overview.columns)
    assert any(button.label == "Download actions (CSV)" for button in hr.get("download_button"))


@pytest.mark.usefixtures("app_settings")
def test_a_manager_starts_an_action_from_a_driver_in_one_step(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = drivers_council(sqlite_engine)
    _grant(sqlite_engine, "a10@example.org", "manager", ids["a1"])
    _point_app_at(sqlite_engine, monkeypatch)
    at = _page("pages/team_dashboard.py", "a10@example.org")
    starts = [button for button in at.button if button.label.startswith("Start: Work on")]
    assert starts, [button.label for button in at.button]
    starts[0].click().run()
    assert not at.exception, at.exception
    with read_session(sqlite_engine) as session:
        (action,) = session.exec(select(Action)).all()
    assert action.team_id == ids["a1"] and action.trigger.startswith("driver: ")
    assert action.status == "planned"
