"""The Admin page through Streamlit's AppTest: a bad CSV upload lists every bad row and changes
nothing; a good one is imported; a threshold change is scheduled for next week."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy.engine import Engine
from sqlmodel import func, select
from streamlit.testing.v1 import AppTest

from app.settings import get_settings
from models.base import iso_week
from models.db import read_session, write_session
from models.org import Person, Unit
from models.org_csv import import_org
from models.org_settings import next_week
from models.outcomes import OrgSetting

ROOT = Path(__file__).resolve().parents[1]
MAIN = str(ROOT / "app" / "main.py")
ADMIN_PAGE = str(ROOT / "app" / "pages" / "admin.py")
SAMPLE = (ROOT / "data" / "sample_org.csv").read_text()


@pytest.fixture
def app_database(sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    with write_session(sqlite_engine) as session:
        import_org(session, SAMPLE, actor="setup")
    monkeypatch.setenv("WELLBEING_DATABASE_URL", str(sqlite_engine.url))
    monkeypatch.setenv("WELLBEING_ENVIRONMENT", "demo")
    monkeypatch.setenv("WELLBEING_AUTH_MODE", "demo")
    get_settings.cache_clear()
    st.cache_data.clear()
    yield sqlite_engine
    get_settings.cache_clear()
    st.cache_data.clear()


def _admin_page() -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=60)
    at.session_state["demo_email"] = "it.admin@westmere.gov.uk"
    at.run()
    at.switch_page(ADMIN_PAGE).run()
    assert not at.exception, at.exception
    return at


def _people(engine: Engine) -> int:
    with read_session(engine) as session:
        return session.exec(select(func.count()).select_from(Person)).one()


@pytest.mark.usefixtures("app_database")
def test_admin_page_shows_the_organisation() -> None:
    at = _admin_page()
    assert [title.value for title in at.title] == ["Admin"]
    tree = at.dataframe[0].value
    assert list(tree["code"])[:2] == ["WVC", "ADULTS"]
    assert len(at.dataframe[1].value) == 9


def test_bad_upload_lists_every_bad_row_and_changes_nothing(app_database: Engine) -> None:
    at = _admin_page()
    bad = (
        "type,code,name,parent,roles\n"
        "person,new@westmere.gov.uk,New,RES-PEOPLE-HR,staff;boss\n"
        "unit,X,X,NOWHERE,\n"
    )
    at.get("file_uploader")[0].upload("org.csv", bad.encode(), "text/csv")
    at.run()
    next(b for b in at.button if b.label == "Import").click().run()
    assert not at.exception, at.exception
    assert any("2 problem(s) found. Nothing was changed." in e.value for e in at.error)
    problems = next(d.value for d in at.dataframe if "line" in d.value.columns)
    assert list(problems["line"]) == [2, 3]
    assert _people(app_database) == 9


def test_good_upload_is_imported(app_database: Engine) -> None:
    at = _admin_page()
    good = "type,code,name,parent,roles\nperson,new@westmere.gov.uk,New Person,RES-PEOPLE-HR,staff\n"
    at.get("file_uploader")[0].upload("org.csv", good.encode(), "text/csv")
    at.run()
    next(b for b in at.button if b.label == "Import").click().run()
    assert any("1 created" in s.value for s in at.success)
    assert _people(app_database) == 10


def test_threshold_change_is_scheduled_for_next_week(app_database: Engine) -> None:
    at = _admin_page()
    next(n for n in at.number_input if n.label == "Fewest people behind any figure").set_value(8)
    next(b for b in at.button if b.label == "Schedule from next week").click().run()
    assert not at.exception, at.exception
    with read_session(app_database) as session:
        org = session.exec(select(Unit.id).where(Unit.code == "WVC")).one()
        rows = session.exec(select(OrgSetting).where(OrgSetting.organisation_id == org)).all()
    assert [(r.key, r.value, r.effective_from) for r in rows] == [
        ("min_group_size", "8", next_week(iso_week(date.today())))
    ]
