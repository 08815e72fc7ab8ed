"""Participation receipts per period kind: distinct people per team and period, counted from
receipts written with the answers, never from the answers themselves."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select

from models.calendar import periods_of_week
from models.db import read_session, write_session
from models.org import Unit
from models.participation import has_answered, participation_receipt, people_counts
from models.pulse import ParticipationReceipt
from surveys.composition import get_composition
from surveys.submit import (
    AlreadyAnswered,
    SubmissionError,
    prepare_submission,
    submit_pulse,
    write_prepared_batch,
)

KEY = b"participation-test-key"
# 2026-W09 (Thursday 26 February) is in February; W10 and W13 (Thursday 26 March) in March; W14
# (Thursday 2 April) in April and Q2.
FEB, MARCH, MARCH_LAST, APRIL = "2026-W09", "2026-W10", "2026-W13", "2026-W14"


def _teams(engine: Engine, count: int = 2) -> list[int]:
    with write_session(engine) as session:
        org = Unit(code="ORG", name="Org", kind="organisation")
        session.add(org)
        session.flush()
        teams = [
            Unit(code=f"T{n}", name=f"Team {n}", kind="team", parent_id=org.id) for n in range(count)
        ]
        session.add_all(teams)
        session.flush()
        return [team.id for team in teams]  # type: ignore[misc]


def _submit(engine: Engine, person: int, team: int, week: str) -> None:
    submit_pulse(
        engine,
        person_id=person,
        team_id=team,
        week=week,
        answers=dict.fromkeys(get_composition("weekly-core").item_ids, 3),
        participation_key=KEY,
        composition="weekly-core",
        known_names=(),
    )


def _receipts(engine: Engine) -> set[tuple[str, str, int | None]]:
    with read_session(engine) as session:
        return {(r.period, r.receipt, r.team_id) for r in session.exec(select(ParticipationReceipt))}


def test_a_submission_writes_one_receipt_per_period_kind_with_its_team(engine: Engine) -> None:
    team, _ = _teams(engine)
    _submit(engine, 1, team, APRIL)
    assert periods_of_week(APRIL) == {
        "week": APRIL,
        "month": "2026-04",
        "quarter": "2026-Q2",
        "year": "2026",
    }
    assert _receipts(engine) == {
        (period, participation_receipt(KEY, 1, period), team)
        for period in periods_of_week(APRIL).values()
    }
    with read_session(engine) as session:
        assert has_answered(session, person_id=1, week=APRIL, participation_key=KEY)
        assert not has_answered(session, person_id=1, week=MARCH, participation_key=KEY)


def test_people_are_counted_once_per_period_not_once_per_answer(engine: Engine) -> None:
    team, other = _teams(engine)
    for week in (MARCH, MARCH_LAST):  # two answers in March from each of two people
        _submit(engine, 1, team, week)
        _submit(engine, 2, team, week)
    _submit(engine, 3, other, MARCH)
    with pytest.raises(AlreadyAnswered):  # the week receipt still refuses a second answer
        _submit(engine, 1, team, MARCH)
    with read_session(engine) as session:
        counts = people_counts(session, periods=["2026-03", "2026-Q1", "2026", MARCH, MARCH_LAST, FEB])
        assert counts == {
            (team, "2026-03"): 2,
            (team, "2026-Q1"): 2,
            (team, "2026"): 2,
            (team, MARCH): 2,
            (team, MARCH_LAST): 2,
            (other, "2026-03"): 1,
            (other, "2026-Q1"): 1,
            (other, "2026"): 1,
            (other, MARCH): 1,
        }
        assert people_counts(session, periods=["2026-03"], team_ids=[other]) == {(other, "2026-03"): 1}
        assert people_counts(session, periods=["2026-03"], team_ids=[]) == {}
        assert people_counts(session, periods=[]) == {}


def test_someone_who_moves_counts_in_their_first_team_until_the_period_ends(engine: Engine) -> None:
    """Team membership as at the start of each period: a person who answers for team A in late
    February and for team B from March counts in A for February, and in B for March; in A for
    the quarter and the year, where they answered first."""
    a, b = _teams(engine)
    _submit(engine, 7, a, FEB)
    _submit(engine, 7, b, MARCH)
    _submit(engine, 7, b, APRIL)
    with read_session(engine) as session:
        counts = people_counts(
            session, periods=["2026-02", "2026-03", "2026-04", "2026-Q1", "2026-Q2", "2026"]
        )
    assert counts == {
        (a, "2026-02"): 1,
        (b, "2026-03"): 1,
        (b, "2026-04"): 1,
        (a, "2026-Q1"): 1,
        (b, "2026-Q2"): 1,
        (a, "2026"): 1,
    }


def test_a_batch_holding_two_weeks_of_a_person_gives_the_month_to_the_earlier_week(
    engine: Engine,
) -> None:
    a, b = _teams(engine)
    composition = get_composition("weekly-core")
    prepared = [
        prepare_submission(
            None,
            person_id=5,
            team_id=team,
            week=week,
            answers=dict.fromkeys(composition.item_ids, 2),
            participation_key=KEY,
            composition=composition,
        )
        for team, week in ((b, MARCH_LAST), (a, MARCH))
    ]
    with write_session(engine) as session:
        outcomes = write_prepared_batch(session.connection(), prepared)
    assert not any(isinstance(outcome, Exception) for outcome in outcomes)
    with read_session(engine) as session:
        assert people_counts(session, periods=["2026-03", MARCH, MARCH_LAST]) == {
            (a, "2026-03"): 1,
            (a, MARCH): 1,
            (b, MARCH_LAST): 1,
        }


def test_a_refused_submission_writes_no_receipt_of_any_period(engine: Engine) -> None:
    team, _ = _teams(engine)
    composition = get_composition("weekly-core")
    ok = prepare_submission(
        None,
        person_id=1,
        team_id=team,
        week=MARCH,
        answers=dict.fromkeys(composition.item_ids, 2),
        participation_key=KEY,
        composition=composition,
    )
    lost = dataclasses.replace(ok, team_id=team + 1000)
    with write_session(engine) as session:
        outcomes = write_prepared_batch(session.connection(), [lost])
    assert isinstance(outcomes[0], SubmissionError)
    assert _receipts(engine) == set()
    # A week receipt from before receipts per period (no month receipt, no team): a second answer
    # that week is refused, and it does not create the month's receipt either.
    with write_session(engine) as session:
        session.execute(
            text("INSERT INTO participation_receipt (period, receipt) VALUES (:week, :receipt)"),
            {"week": MARCH, "receipt": ok.receipt},
        )
    with write_session(engine) as session:
        outcomes = write_prepared_batch(session.connection(), [ok])
    assert isinstance(outcomes[0], AlreadyAnswered)
    assert _receipts(engine) == {(MARCH, ok.receipt, None)}
    with read_session(engine) as session:  # a receipt without a team counts nowhere
        assert people_counts(session, periods=[MARCH]) == {}
