"""200 people submitting at the same moment (threads): every answer stored exactly once, the
maintained aggregates count all of them, and nobody sees "database is locked" (both backends)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select

from models.db import read_session, write_session
from models.org import Unit
from models.pulse import ParticipationReceipt, PulseResponse, TeamWeekResponses, TeamWeekScore
from surveys.composition import get_composition
from surveys.submit import AlreadyAnswered, submit_pulse

KEY = b"concurrency-key"
WEEK = "2026-W20"
SUBMITTERS = 200


def _team(engine: Engine) -> int:
    with write_session(engine) as session:
        org = Unit(code="ORG", name="Org", kind="organisation")
        session.add(org)
        session.flush()
        team = Unit(code="BIG", name="Big team", kind="team", parent_id=org.id)
        session.add(team)
        session.flush()
        return team.id  # type: ignore[return-value]


def _run_at_once(count: int, work) -> list[BaseException | None]:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(count)

    def one(index: int) -> BaseException | None:
        barrier.wait()
        try:
            work(index)
        except BaseException as error:  # noqa: BLE001  (collected and asserted on below)
            return error
        return None

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def test_200_simultaneous_submissions_are_all_stored_once(engine: Engine) -> None:
    team_id = _team(engine)
    composition = get_composition("weekly-core")

    def submit(index: int) -> None:
        answers = {item_id: 1 + (index + n) % 5 for n, item_id in enumerate(composition.item_ids)}
        submit_pulse(
            engine,
            person_id=10_000 + index,
            team_id=team_id,
            week=WEEK,
            answers=answers,
            days_home=index % 4,
            days_office=2,
            comment="busy week" if index % 3 == 0 else None,
            participation_key=KEY,
            composition=composition,
            known_names=(),
        )

    errors = [error for error in _run_at_once(SUBMITTERS, submit) if error is not None]
    assert errors == []
    with read_session(engine) as session:
        assert session.exec(select(func.count()).select_from(PulseResponse)).one() == SUBMITTERS
        # One receipt per person and period kind (week, month, quarter, year), none twice.
        receipts = session.exec(select(ParticipationReceipt.period, func.count()).group_by("period"))
        assert sorted(n for _, n in receipts) == [SUBMITTERS] * 4
        wellbeing_n = session.exec(
            select(func.sum(TeamWeekScore.n)).where(TeamWeekScore.construct_id == "wellbeing")
        ).one()
        assert wellbeing_n == SUBMITTERS
        weekly = session.get(TeamWeekResponses, (team_id, WEEK))
        assert weekly is not None
        assert (weekly.n, weekly.comments) == (SUBMITTERS, len(range(0, SUBMITTERS, 3)))


def test_one_person_submitting_ten_times_at_once_is_stored_once(engine: Engine) -> None:
    team_id = _team(engine)
    answers = dict.fromkeys(get_composition("weekly-core").item_ids, 3)

    def submit(_index: int) -> None:
        submit_pulse(
            engine,
            person_id=42,
            team_id=team_id,
            week=WEEK,
            answers=answers,
            participation_key=KEY,
            composition="weekly-core",
            known_names=(),
        )

    outcomes = _run_at_once(10, submit)
    assert sum(outcome is None for outcome in outcomes) == 1
    assert all(isinstance(outcome, AlreadyAnswered) for outcome in outcomes if outcome is not None)
    with read_session(engine) as session:
        assert session.exec(select(func.count()).select_from(PulseResponse)).one() == 1
        weekly = session.get(TeamWeekResponses, (team_id, WEEK))
        assert weekly is not None and weekly.n == 1
