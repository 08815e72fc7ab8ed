"""The Objectives and Team dashboard pages through Streamlit's AppTest (no browser): forms refuse bad
input with a clear message and save nothing, and a manager's team list holds only their teams."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy.engine import Engine
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from app.settings import get_settings
from models.db import read_session, write_session
from models.org import Person, RoleGrant, Unit
from models.outcomes import KeyResult, Objective

MAIN = str(Path(__file__).resolve().parents[1] / "app" / "main.py")


@pytest.fixture
def app_database(sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """Two teams with a manager each, and the app pointed at this database with fresh caches."""
    with write_session(sqlite_engine) as session:
        root = Unit(code="ORG", name="Council", kind="organisation")
        session.add(root)
        session.flush()
        mine = Unit(code="MINE", name="Repairs", kind="team", parent_id=root.id)
        theirs = Unit(code="THEIRS", name="Lettings", kind="team", parent_id=root.id)
        session.add_all([mine, theirs])
        session.flush()
        me = Person(email="me@x.gov.uk", display_name="Me", team_id=mine.id)
        other = Person(email="other@x.gov.uk", display_name="Other", team_id=theirs.id)
        session.add_all([me, other])
        session.flush()
        session.add(RoleGrant(person_id=me.id, role="manager", unit_id=mine.id))
        session.add(RoleGrant(person_id=other.id, role="manager", unit_id=theirs.id))
    monkeypatch.setenv("WELLBEING_DATABASE_URL", str(sqlite_engine.url))
    monkeypatch.setenv("WELLBEING_ENVIRONMENT", "demo")
    monkeypatch.setenv("WELLBEING_AUTH_MODE", "demo")
    get_settings.cache_clear()
    st.cache_data.clear()
    yield sqlite_engine
    get_settings.cache_clear()
    st.cache_data.clear()


def _page(path: str, email: str = "me@x.gov.uk") -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=60)
    at.session_state["demo_email"] = email
    at.run()
    at.switch_page(path).run()
    assert not at.exception, at.exception
    return at


def _by_label(widgets, label: str):  # type: ignore[no-untyped-def]
    return [widget for widget in widgets if widget.label == label]


def test_new_objective_form_refuses_a_missing_title_and_saves_nothing(app_database: Engine) -> None:
    at = _page("pages/objectives.py")
    at.button(key="FormSubmitter:new_objective-Create objective").click().run()
    assert any("Title is required" in error.value for error in at.error)
    with read_session(app_database) as session:
        assert session.exec(select(Objective)).all() == []
    _by_label(at.text_input, "Title")[-1].set_value("Repairs done faster")
    at.button(key="FormSubmitter:new_objective-Create objective").click().run()
    assert not at.exception
    with read_session(app_database) as session:
        assert [o.title for o in session.exec(select(Objective)).all()] == ["Repairs done faster"]


def test_key_result_with_baseline_equal_to_target_is_refused(app_database: Engine) -> None:
    at = _page("pages/objectives.py")
    _by_label(at.text_input, "Title")[-1].set_value("Repairs done faster")
    at.button(key="FormSubmitter:new_objective-Create objective").click().run()
    with read_session(app_database) as session:
        objective_id = session.exec(select(Objective.id)).one()
    _by_label(at.text_input, "Metric")[0].set_value("Repairs in 7 days")
    _by_label(at.number_input, "Baseline")[0].set_value(70.0)
    _by_label(at.number_input, "Target")[0].set_value(70.0)
    at.button(key=f"FormSubmitter:kr_new_{objective_id}-Add key result").click().run()
    assert any("Baseline and target are the same" in error.value for error in at.error)
    with read_session(app_database) as session:
        assert session.exec(select(KeyResult)).all() == []


@pytest.mark.usefixtures("app_database")
def test_dashboard_shows_only_the_managers_own_team() -> None:
    at = _page("pages/team_dashboard.py")
    assert [title.value for title in at.title] == ["Team dashboard"]
    assert not at.selectbox or all("Lettings" not in (box.options or []) for box in at.selectbox)
    assert any("Team: Repairs" in text.value for text in at.text)
    assert not any("Lettings" in text.value for text in at.text)
