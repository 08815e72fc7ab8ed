"""A submitter whose connection drops or who meets "database is locked" is retried safely: the
answer is stored once (the receipt in the same transaction stops a second copy), and if the fault
lasts they get a polite "try again in a moment" with nothing stored (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from streamlit.testing.v1 import AppTest
from test_submit import KEY, WEEK, answers_all, counts, make_org

import surveys.submit as submit_module
from app.settings import get_settings
from models.db import write_session
from models.faults import TRY_AGAIN
from models.org import Person, Unit
from surveys.submit import AlreadyAnswered, SubmissionUnavailable, submit_pulse

MAIN = str(Path(__file__).resolve().parents[1] / "app" / "main.py")


def _dropped(message: str) -> OperationalError:
    return OperationalError("INSERT INTO pulse_response ...", {"comment": "secret"}, Exception(message))


@pytest.fixture(autouse=True)
def _no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(submit_module, "SUBMIT_RETRY_PAUSES", (0.0, 0.0))


def _submit(engine: Engine, ids: dict[str, int], comment: str | None = None) -> Any:
    return submit_pulse(
        engine,
        person_id=ids["person0"],
        team_id=ids["team"],
        week=WEEK,
        answers=answers_all(),
        comment=comment,
        participation_key=KEY,
        composition="weekly-core",
    )


def _fail_first(
    monkeypatch: pytest.MonkeyPatch, engine: Engine, *, after_commit: bool, message: str
) -> None:
    writer = submit_module.submission_writer(engine)
    real = writer.write
    calls = {"n": 0}

    def flaky(prepared: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            if after_commit:
                real(prepared)  # stored, but the acknowledgement never arrives
            raise _dropped(message)
        return real(prepared)

    monkeypatch.setattr(writer, "write", flaky)


@pytest.mark.parametrize("message", ["database is locked", "server closed the connection unexpectedly"])
def test_a_brief_fault_is_retried_and_stored_once(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, message: str
) -> None:
    ids = make_org(engine)
    _fail_first(monkeypatch, engine, after_commit=False, message=message)
    result = _submit(engine, ids, comment="fine")
    assert result.week == WEEK
    assert counts(engine)["pulse_response"] == 1
    assert counts(engine)["participation_receipt"] == 4  # one per period kind: week to year


def test_a_retry_after_a_lost_acknowledgement_stores_no_second_copy(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = make_org(engine)
    _fail_first(monkeypatch, engine, after_commit=True, message="connection reset by peer")
    with pytest.raises(AlreadyAnswered):
        _submit(engine, ids)
    assert counts(engine)["pulse_response"] == 1
    assert counts(engine)["participation_receipt"] == 4  # one per period kind: week to year


def test_a_lasting_fault_gets_a_polite_message_and_stores_nothing(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = make_org(engine)

    def always_down(*_: Any, **__: Any) -> Any:
        raise _dropped("could not connect to server: Connection refused")

    monkeypatch.setattr(submit_module, "prepare_with_engine", always_down)
    with pytest.raises(SubmissionUnavailable) as raised:
        _submit(engine, ids, comment="Ask Person1 Surname1")
    assert str(raised.value) == TRY_AGAIN
    assert "INSERT" not in str(raised.value) and "secret" not in str(raised.value)
    assert counts(engine)["pulse_response"] == 0


def test_other_errors_are_not_retried(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = make_org(engine)
    calls = {"n": 0}

    def broken(*_: Any, **__: Any) -> Any:
        calls["n"] += 1
        raise _dropped("no such table: pulse_response")

    monkeypatch.setattr(submit_module, "prepare_with_engine", broken)
    with pytest.raises(OperationalError):
        _submit(engine, ids)
    assert calls["n"] == 1


@pytest.fixture
def pulse_page(sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    with write_session(sqlite_engine) as session:
        root = Unit(code="ORG", name="Council", kind="organisation")
        session.add(root)
        session.flush()
        team = Unit(code="T1", name="Repairs", kind="team", parent_id=root.id)
        session.add(team)
        session.flush()
        session.add(Person(email="me@x.gov.uk", display_name="Me", team_id=team.id))
    monkeypatch.setenv("WELLBEING_DATABASE_URL", str(sqlite_engine.url))
    monkeypatch.setenv("WELLBEING_ENVIRONMENT", "demo")
    monkeypatch.setenv("WELLBEING_AUTH_MODE", "demo")
    monkeypatch.setenv("WELLBEING_WARM_DASHBOARDS", "false")
    get_settings.cache_clear()
    st.cache_data.clear()
    yield sqlite_engine
    get_settings.cache_clear()
    st.cache_data.clear()


def test_the_pulse_page_says_try_again_in_a_moment(
    pulse_page: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(*_: Any, **__: Any) -> Any:
        raise SubmissionUnavailable(TRY_AGAIN)

    monkeypatch.setattr(submit_module, "submit_pulse", unavailable)
    at = AppTest.from_file(MAIN, default_timeout=60)
    at.session_state["demo_email"] = "me@x.gov.uk"
    at.run()
    for question in at.radio:
        question.set_value(question.options[0] if isinstance(question.options[0], int) else 1)
    at.button(key="FormSubmitter:pulse_form-Send my answers").click().run()
    assert not at.exception, at.exception
    assert [warning.value for warning in at.warning if "try again" in warning.value] == [TRY_AGAIN]
    assert counts(pulse_page)["pulse_response"] == 0


@pytest.mark.usefixtures("pulse_page")
def test_the_pulse_page_is_polite_when_the_database_drops_while_it_loads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def dropped(*_: Any, **__: Any) -> Any:
        raise _dropped("server closed the connection unexpectedly")

    monkeypatch.setattr(submit_module, "has_answered", dropped)
    at = AppTest.from_file(MAIN, default_timeout=60)
    at.session_state["demo_email"] = "me@x.gov.uk"
    at.run()
    assert not at.exception, at.exception
    assert [warning.value for warning in at.warning if "try again" in warning.value] == [TRY_AGAIN]
