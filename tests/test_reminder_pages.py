"""Reminders in the app: a person's own opt-out on the pulse page, the admin's switch and schedule
(audited), and the HR view of closed weeks only, banded, with the before/after split suppressed
where either side is below k."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from analytics.privacy import SYSTEM_VIEWER, PrivacyRules
from analytics.reminders import SUPPRESSED_SPLIT, count_band, reminder_effect
from app.cli.remind import webhook_for
from app.settings import get_settings
from models.access import AccessDenied, Viewer
from models.audit import recent
from models.base import iso_week
from models.db import read_session, write_session
from models.org import Person, Unit
from models.org_csv import import_org
from models.org_settings import next_week
from models.outcomes import OrgSetting
from models.releases import PeriodRelease, ReleasedFigure
from models.reminders import ReminderCount, ReminderOptOut, ReminderRun
from surveys.reminders.preferences import stored_webhook

ROOT = Path(__file__).resolve().parents[1]
MAIN = str(ROOT / "app" / "main.py")
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


def _organisation(engine: Engine) -> int:
    with read_session(engine) as session:
        return int(session.exec(select(Unit.id).where(Unit.code == "WVC")).one())  # type: ignore[arg-type]


def test_a_person_turns_their_own_reminders_off_and_on(app_database: Engine) -> None:
    at = AppTest.from_file(MAIN, default_timeout=60)
    at.session_state["demo_email"] = "tom.evans@westmere.gov.uk"
    at.run()
    assert not at.exception, at.exception
    toggle = next(t for t in at.toggle if t.label.startswith("E-mail me when the pulse opens"))
    assert toggle.value is True
    toggle.set_value(False).run()
    assert not at.exception, at.exception
    with read_session(app_database) as session:
        tom = session.exec(select(Person.id).where(Person.email == "tom.evans@westmere.gov.uk")).one()
        assert session.get(ReminderOptOut, tom) is not None
    next(t for t in at.toggle if t.label.startswith("E-mail me")).set_value(True).run()
    with read_session(app_database) as session:
        assert session.get(ReminderOptOut, tom) is None


def _settings_tab() -> None:
    """The Admin page's Reminders tab on its own (AppTest runs this function's body as a script)."""
    from sqlmodel import select

    from app.components import reminder_settings
    from app.ui import engine
    from models.access import load_viewer
    from models.db import read_session
    from models.org import Unit

    with read_session(engine()) as session:
        viewer = load_viewer(session, "it.admin@westmere.gov.uk")
        organisation_id = session.exec(select(Unit.id).where(Unit.code == "WVC")).one()
    reminder_settings.render(viewer, organisation_id)


def test_admin_switch_applies_now_and_schedule_from_next_week_both_audited(app_database: Engine) -> None:
    at = AppTest.from_function(_settings_tab, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert any("invitation Monday 09:00; reminders: Thursday 10:00" in m.value for m in at.markdown)
    next(n for n in at.number_input if n.label == "Number of reminders").set_value(2)
    at.selectbox(key="reminder_1_day").set_value("fri")
    next(s for s in at.selectbox if s.label == "Skip the bank holidays of").set_value("scotland")
    next(b for b in at.button if b.label == "Schedule from next week").click().run()
    assert not at.exception, at.exception
    next(b for b in at.button if b.label == "Turn reminders off").click().run()
    assert not at.exception, at.exception
    organisation_id = _organisation(app_database)
    with read_session(app_database) as session:
        rows = session.exec(
            select(OrgSetting).where(OrgSetting.organisation_id == organisation_id)
        ).all()
        audited = [
            entry.detail for entry in recent(session, limit=5) if entry.action == "setting_changed"
        ]
    by_key = {row.key: row for row in rows}
    assert by_key["reminder_schedule"].effective_from == next_week(iso_week(date.today()))
    assert '"bank_holidays": "scotland"' in by_key["reminder_schedule"].value
    assert '{"day": "fri", "at": "10:00"}' in by_key["reminder_schedule"].value
    assert (by_key["reminders_enabled"].value, by_key["reminders_enabled"].effective_from) == (
        "false",
        iso_week(date.today()),
    )
    assert len(audited) == 2


def test_admin_sets_the_webhook_as_a_secret(app_database: Engine) -> None:
    secret = "https://prod.example.logic.azure.com/workflows/abc/triggers/manual/run?sig=TOPSECRET"
    at = AppTest.from_function(_settings_tab, default_timeout=60)
    at.run()
    next(t for t in at.text_input if t.label.startswith("Teams Workflows")).input("not a url")
    next(b for b in at.button if b.label == "Save webhook").click().run()
    assert any("must be a full https:// address" in e.value for e in at.error)
    next(t for t in at.text_input if t.label.startswith("Teams Workflows")).input(secret)
    next(b for b in at.button if b.label == "Save webhook").click().run()
    assert not at.exception, at.exception
    organisation_id = _organisation(app_database)
    with read_session(app_database) as session:
        assert stored_webhook(session, organisation_id) == secret
        entries = recent(session, limit=3)
    assert entries[0].action == "webhook_set" and "TOPSECRET" not in entries[0].detail
    at.run()
    shown = [*at.markdown, *at.caption, *at.success, *at.info]
    page = " ".join(str(element.value) for element in shown)
    assert "TOPSECRET" not in page and "webhook set on this page by it" in page
    assert webhook_for(get_settings(), "WVC", secret) == secret
    assert webhook_for(get_settings(), "WVC") is None
    next(b for b in at.button if b.label == "Remove webhook").click().run()
    with read_session(app_database) as session:
        assert stored_webhook(session, organisation_id) is None


def _release_week(session: Session, organisation_id: int, week: str, n: str, rate: str) -> None:
    session.add(
        PeriodRelease(organisation_id=organisation_id, period=week, kind="week", first_week=week,
                      last_week=week, released_on=date(2026, 12, 1))
    )  # fmt: skip
    session.add(
        ReleasedFigure(organisation_id=organisation_id, period=week, unit_id=organisation_id,
                       construct_id="responses", kind="week", n=n, rate=rate, suppressed=False)
    )  # fmt: skip


def _run(
    session: Session, organisation_id: int, week: str, slot: int, teams: list[tuple[int, ...]]
) -> None:
    run = ReminderRun(organisation_id=organisation_id, week=week, slot=slot)
    session.add(run)
    session.flush()
    for team_id, (eligible, answered, sent) in enumerate(teams, start=1):
        session.add(
            ReminderCount(
                run_id=run.id, team_id=team_id, eligible=eligible, answered=answered, sent=sent
            )
        )  # type: ignore[arg-type]


def test_reminder_effect_shows_closed_weeks_banded_and_suppresses_a_thin_split(
    sqlite_engine: Engine,
) -> None:
    with write_session(sqlite_engine) as session:
        import_org(session, SAMPLE, actor="setup")
    organisation_id = _organisation(sqlite_engine)
    with write_session(sqlite_engine) as session:
        _release_week(session, organisation_id, "2026-W47", "30", "47%")
        _release_week(session, organisation_id, "2026-W48", "12", "19%")
        _release_week(session, organisation_id, "2026-W49", "40", "62%")
        for week, before, invited, reminded in (("2026-W48", 10, 60, 54), ("2026-W49", 25, 62, 39)):
            _run(session, organisation_id, week, 0, [(32, 1, 31), (32, 1, invited - 31)])
            _run(session, organisation_id, week, 1, [(32, before - 5, 20), (32, 5, reminded - 20)])
        _run(session, organisation_id, "2026-W50", 0, [(32, 0, 3)])  # the open week: never shown
    with read_session(sqlite_engine) as session:
        table = reminder_effect(
            session, SYSTEM_VIEWER, organisation_id=organisation_id, rules=PrivacyRules()
        )
        staff = Viewer("tom@x", "Tom", 1, 1, frozenset({"staff"}))
        with pytest.raises(AccessDenied):
            reminder_effect(session, staff, organisation_id=organisation_id, rules=PrivacyRules())
    rows = {row["week"]: row for row in table.to_dict("records")}
    assert list(rows) == ["2026-W49", "2026-W48", "2026-W47"]
    assert rows["2026-W49"]["invitations sent"] == "62" and rows["2026-W49"]["reminders sent"] == "39"
    assert rows["2026-W49"]["response before the reminder"] == "39%"  # 25 of 64
    assert rows["2026-W49"]["answered after the reminder"] == "15"
    assert rows["2026-W49"]["response at close"] == "62%"
    assert pd.isna(rows["2026-W48"]["response before the reminder"])  # 12 - 10 = 2 after: below k
    assert rows["2026-W48"]["note"] == SUPPRESSED_SPLIT.format(k=5)
    assert rows["2026-W47"]["note"] == "no reminder was sent"
    assert rows["2026-W47"]["invitations sent"] == "0"
    assert [count_band(n) for n in (0, 1, 4, 5, 9, 10, 734)] == [
        "0",
        "1-4",
        "1-4",
        "5-9",
        "5-9",
        "10",
        "734",
    ]


@pytest.mark.usefixtures("app_database")
def test_hr_page_is_registered_and_shows_only_released_weeks() -> None:
    at = AppTest.from_file(MAIN, default_timeout=60)
    at.session_state["demo_email"] = "priya.patel@westmere.gov.uk"
    at.run()
    at.switch_page("pages/reminders.py").run()
    assert not at.exception, at.exception
    assert [title.value for title in at.title] == ["Pulse reminders"]
    assert any("No week has been released yet" in info.value for info in at.info)
