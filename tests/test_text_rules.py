"""Control characters never reach the database from a form or a comment (both backends): an
objective's title with NUL is refused with a clear message, a comment's are dropped."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from test_submit import KEY, WEEK, answers_all, make_org

from analytics.objectives import create_objective
from analytics.outcomes import OutcomeError
from models.access import load_viewer
from models.db import read_session, write_session
from models.org import Person, RoleGrant
from models.outcomes import Objective
from models.pulse import PulseResponse
from models.text_rules import unsafe_character, without_unsafe_characters
from surveys.submit import submit_pulse


@pytest.mark.parametrize(
    ("value", "multiline", "expected"),
    [
        ("plain text", False, None),
        ("tab\tok", False, None),
        ("two\nlines", True, None),
        ("two\nlines", False, "line break at character 4"),
        ("nul\x00", False, "U+0000 (control character) at character 4"),
        ("esc\x1b[2J", True, "U+001B"),
        ("abc\u202etxt.exe", False, "U+202E (right-to-left override)"),
        ("Ad\u200bmin", False, "U+200B (zero width space) at character 3"),
        ("Para\u2028graph", False, "line break at character 5"),
        ("Para\u2028graph", True, None),
        ("\u0645\u06cc\u200c\u0631\u0648", False, None),  # Persian spelling uses the non-joiner
        ("lone \ud800", False, "U+D800"),
    ],
)
def test_unsafe_characters_are_named_with_their_place(
    value: str, multiline: bool, expected: str | None
) -> None:
    why = unsafe_character(value, multiline=multiline)
    assert (why is None) if expected is None else (expected in (why or ""))


def test_free_text_loses_only_invisible_characters() -> None:
    assert without_unsafe_characters("a\x00b\u200bc\u202ed\ne\tf é\ud800") == "abcd\ne\tf é"


def test_an_objective_title_with_nul_is_refused(engine: Engine) -> None:
    ids = make_org(engine)
    with write_session(engine) as session:
        person = session.get(Person, ids["person0"])
        session.add(RoleGrant(person_id=ids["person0"], role="manager", unit_id=ids["team"]))
        email = person.email  # type: ignore[union-attr]
    with pytest.raises(OutcomeError, match="Title has an invisible control character U\\+0000"):
        with write_session(engine) as session:
            create_objective(
                session=session,
                viewer=load_viewer(session, email),
                title="Repairs\x00",
                starts_on=date.today(),
                ends_on=date.today() + timedelta(days=30),
                team_ids=[ids["team"]],
            )
    with read_session(engine) as session:
        assert session.exec(select(Objective)).all() == []


def test_a_comment_with_control_characters_is_stored_without_them(engine: Engine) -> None:
    ids = make_org(engine)
    submit_pulse(
        engine,
        person_id=ids["person1"],
        team_id=ids["team"],
        week=WEEK,
        answers=answers_all(),
        comment="Rota\x00 is \x1b[31mfine\u202e",
        participation_key=KEY,
        composition="weekly-core",
    )
    with read_session(engine) as session:
        assert session.exec(select(PulseResponse.comment)).all() == ["Rota is [31mfine"]
